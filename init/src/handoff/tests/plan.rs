use super::{fixture, TempRoot};
use crate::handoff::bzimage::BzImage;
use crate::handoff::source::Source;
use crate::handoff::validate::{cmdline, Outcome};
use crate::handoff::{load, validate, Action, Fallback, HandoffError, DEFAULT_ROOT};
use std::path::PathBuf;

const UUID: &str = "0b1c9e4e-3d2a-4f7e-9d3c-1f2e3d4c5b6a";

/// A recovered Debian system in `<tmp>/root`, files next to it.
struct Setup {
    t: TempRoot,
    root: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let t = TempRoot::new();
        t.file("/root/boot/grub/grub.cfg", fixture!("grub/debian.cfg"));
        for v in ["6.1.0-13-amd64", "6.1.0-9-amd64"] {
            t.kernel(&format!("/root/boot/vmlinuz-{v}"))
                .file(&format!("/root/boot/initrd.img-{v}"), "cpio");
        }
        let root = t.host("/root");
        Setup { t, root }
    }

    fn handoff(&self, text: &str) -> PathBuf {
        let text = text.replace("@ROOT@", &self.root.display().to_string());
        self.t.file("/handoff", text);
        self.t.host("/handoff")
    }

    fn load(&self, text: &str) -> Result<crate::handoff::Plan, HandoffError> {
        load(&self.handoff(text), &self.t.host("/host-cmdline"))
    }
}

#[test]
fn everything_from_the_file() {
    let s = Setup::new();
    let text = "ROOT=@ROOT@\nKERNEL=/boot/vmlinuz-6.1.0-9-amd64\nINITRD=/boot/initrd.img-6.1.0-9-amd64\nCMDLINE='root=/dev/vda1 ro'\nFALLBACK=shell\n";
    let p = s.load(text).unwrap();
    assert_eq!(p.file, s.t.host("/handoff"));
    assert_eq!(p.action, (Action::Kexec, Source::Default));
    assert_eq!(
        p.fallback,
        (Fallback::Shell, Source::HandoffFile { line: 5 })
    );
    let k = p.kexec.clone().unwrap();
    assert_eq!(k.root, (s.root.clone(), Source::HandoffFile { line: 1 }));
    assert_eq!(
        k.kernel,
        (
            s.root.join("boot/vmlinuz-6.1.0-9-amd64"),
            Source::HandoffFile { line: 2 }
        )
    );
    assert_eq!(
        k.initrd,
        Some((
            s.root.join("boot/initrd.img-6.1.0-9-amd64"),
            Source::HandoffFile { line: 3 }
        ))
    );
    assert_eq!(
        k.cmdline,
        ("root=/dev/vda1 ro".into(), Source::HandoffFile { line: 4 })
    );
    let shown = p.to_string();
    for want in [
        "  action:   kexec  [default]\n",
        "  fallback: shell  [handoff file line 5]\n",
        "  cmdline:  root=/dev/vda1 ro  [handoff file line 4]\n",
        "  note: KERNEL is not what the boot configuration boots by default",
    ] {
        assert!(shown.contains(want), "{want:?} not in\n{shown}");
    }
    assert!(validate(&k).is_ok(), "{}", validate(&k));
}

#[test]
fn detected_values_and_their_sources() {
    let s = Setup::new();
    let p = s.load("ROOT=@ROOT@\n").unwrap();
    let k = p.kexec.unwrap();
    let grub = Source::Grub {
        path: s.root.join("boot/grub/grub.cfg"),
        entry: "Debian GNU/Linux".into(),
    };
    assert_eq!(
        k.kernel,
        (s.root.join("boot/vmlinuz-6.1.0-13-amd64"), grub.clone())
    );
    assert_eq!(k.initrd.unwrap().1, grub);
    assert_eq!(k.cmdline, (format!("root=UUID={UUID} ro quiet"), grub));
    let with_cmdline = s
        .load("ROOT=@ROOT@\nCMDLINE=\"console=ttyS0 root=/dev/sda2\"\n")
        .unwrap();
    assert_eq!(
        with_cmdline.kexec.unwrap().cmdline,
        (
            "console=ttyS0 root=/dev/sda2".into(),
            Source::HandoffFile { line: 2 }
        )
    );
}

#[test]
fn kernel_set_to_the_default_entry_takes_its_initrd_and_args() {
    let s = Setup::new();
    s.t.link("/root/vmlinuz", "boot/vmlinuz-6.1.0-13-amd64");
    let p = s.load("ROOT=@ROOT@\nKERNEL=/vmlinuz\n").unwrap();
    let k = p.kexec.unwrap();
    assert_eq!(
        k.kernel,
        (
            s.root.join("boot/vmlinuz-6.1.0-13-amd64"),
            Source::HandoffFile { line: 2 }
        )
    );
    assert!(matches!(k.initrd.unwrap().1, Source::Grub { .. }));
    assert_eq!(k.cmdline.0, format!("root=UUID={UUID} ro quiet"));
    assert!(
        p.notes[0].starts_with("KERNEL is the default boot entry's (GRUB entry"),
        "{:?}",
        p.notes
    );
}

#[test]
fn recorded_host_cmdline_when_nothing_else_has_one() {
    let s = Setup::new();
    let text = "ROOT=@ROOT@\nKERNEL=/boot/vmlinuz-6.1.0-9-amd64\n";
    let e = s.load(text).unwrap_err();
    assert!(matches!(e, HandoffError::NoCmdline { .. }));
    assert!(
        e.to_string()
            .starts_with("no command line: CMDLINE is not set, the boot entry gives none and "),
        "{e}"
    );
    assert!(
        e.to_string().ends_with("/host-cmdline: does not exist"),
        "{e}"
    );
    s.t.file("/host-cmdline", "  \n");
    assert!(s.load(text).unwrap_err().to_string().ends_with("is empty"));
    s.t.file(
        "/host-cmdline",
        "BOOT_IMAGE=/boot/vmlinuz-5.10.0-8-amd64 root=/dev/sda1 ro quiet\n",
    );
    let p = s.load(text).unwrap();
    let k = p.kexec.unwrap();
    assert_eq!(
        k.cmdline,
        (
            "root=/dev/sda1 ro quiet".into(),
            Source::RecordedHostCmdline {
                path: s.t.host("/host-cmdline")
            }
        )
    );
    assert_eq!(k.initrd, None);
    assert!(p
        .notes
        .contains(&"dropped BOOT_IMAGE= from the recorded host command line".to_string()));
    assert!(p.notes.contains(&"no initrd".to_string()));
}

#[test]
fn other_actions_need_no_kernel() {
    let s = Setup::new();
    let p = s
        .load("ACTION=shell\nROOT=/nonexistent\nKERNEL=/x\n")
        .unwrap();
    assert_eq!(p.action, (Action::Shell, Source::HandoffFile { line: 1 }));
    assert_eq!(p.kexec, None);
    assert_eq!(p.notes, ["ACTION=shell: ROOT, KERNEL ignored"]);
    assert!(!p.to_string().contains("kernel:"));
}

#[test]
fn errors_name_file_line_and_cause() {
    let s = Setup::new();
    let h = s.t.host("/handoff").display().to_string();
    let e = s
        .load("ROOT=@ROOT@\n\nKERNEL=/boot/../../../etc/passwd\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "{h}:3: KERNEL: \"/boot/../../../etc/passwd\" inside "
        )),
        "{e}"
    );
    assert!(e.ends_with("\"..\" would leave ROOT"), "{e}");
    let e = s
        .load("ROOT=@ROOT@\nINITRD=/boot/none\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{h}:2: INITRD: ")) && e.ends_with("/boot/none does not exist"),
        "{e}"
    );
    let e = s.load("ROOT=@ROOT@/nope\n").unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{h}:1: ROOT {}/nope: ", s.root.display())),
        "{e}"
    );
    let e = s.load("KERNEL=/k\nACTION=later\n").unwrap_err().to_string();
    assert_eq!(
        e,
        format!("{h}:2: bad ACTION \"later\" (use kexec, reboot, poweroff or shell)")
    );
    if !std::path::Path::new(DEFAULT_ROOT).exists() {
        let e = s.load("KERNEL=/k\n").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{h} (ROOT not set, default): ROOT /mnt/local: ")),
            "{e}"
        );
    }
    let missing = load(&s.t.host("/nope"), &s.t.host("/c")).unwrap_err();
    assert!(missing.is_missing(), "{missing}");
}

#[test]
fn no_kernel_anywhere() {
    let s = Setup::new();
    s.t.dir("/empty");
    let e = s
        .load(&format!("ROOT={}\n", s.t.host("/empty").display()))
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, HandoffError::NoKernel { .. }));
    assert!(
        msg.contains("KERNEL is not set and nothing usable was found; looked at:\n  BLS entries"),
        "{msg}"
    );
    assert!(
        msg.ends_with("/empty is empty: is the recovered system mounted there?"),
        "{msg}"
    );
}

#[test]
fn validation_failures() {
    let s = Setup::new();
    s.t.file(
        "/root/boot/garbage",
        "this is not a kernel, just some text".repeat(100),
    )
    .file("/root/boot/empty.img", "");
    let p = s
        .load("ROOT=@ROOT@\nKERNEL=/boot/garbage\nINITRD=/boot/empty.img\nCMDLINE=ro\n")
        .unwrap();
    let v = validate(&p.kexec.unwrap());
    assert!(!v.is_ok());
    let problems = v.problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("kernel: ")
            && problems[0].contains("/boot/garbage: not an x86 kernel (bzImage)"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("initrd: ") && problems[1].ends_with("/boot/empty.img: empty"),
        "{problems:?}"
    );
    let shown = v.to_string();
    assert!(
        shown.contains("  FAIL kernel: ") && shown.contains("  ok   cmdline: 2 bytes\n"),
        "{shown}"
    );
    let p = s.load("ROOT=@ROOT@\nKERNEL=/boot\nCMDLINE=ro\n").unwrap();
    let v = validate(&p.kexec.unwrap());
    assert!(
        v.problems()[0].ends_with("/boot: not a regular file (a directory)"),
        "{v}"
    );
    assert!(v.to_string().contains("WARN initrd: none"), "{v}");
}

#[test]
fn command_line_limits() {
    let k = crate::handoff::bzimage::parse_header(
        &crate::handoff::bzimage::fake_kernel(0x1000),
        0x1000,
    )
    .unwrap();
    let outcome = |n: usize| cmdline(&"x".repeat(n), Some(&k), true);
    assert!(matches!(outcome(2016), Outcome::Ok(_)));
    assert!(
        matches!(outcome(2017), Outcome::Warn(m) if m.contains("kexec_file_load takes at most 2016"))
    );
    assert!(matches!(outcome(2047), Outcome::Warn(_)));
    assert!(
        matches!(outcome(2048), Outcome::Fail(m) if m == "2048 bytes; x86 allows 2047 (COMMAND_LINE_SIZE 2048 with the NUL)")
    );
    assert!(matches!(
        cmdline(&"x".repeat(2047), None, true),
        Outcome::Ok(_)
    ));
    // Without kexec-tools, 2040 bytes cannot be loaded at all: said so.
    assert!(
        matches!(cmdline(&"x".repeat(2040), Some(&k), false), Outcome::Fail(m) if m == "2040 bytes: kexec_file_load takes at most 2016 for this kernel (it reserves 30 for elfcorehdr=), and there is no kexec-tools here for the classic load: shorten it")
    );
    assert!(matches!(cmdline("a\nb", None, true), Outcome::Fail(m) if m.contains("line break")));
    assert!(matches!(cmdline("a\0b", None, true), Outcome::Fail(m) if m.contains("NUL")));
    let small = BzImage {
        cmdline_size: 255,
        ..k
    };
    assert!(
        matches!(cmdline(&"x".repeat(256), Some(&small), true), Outcome::Fail(m) if m.contains("this kernel takes 255"))
    );
}

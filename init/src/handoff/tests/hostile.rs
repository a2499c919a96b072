//! Hostile or odd files in place of the handoff's inputs: `handoff
//! check` (what PID 1 does at the reboot) never blocks on them, never
//! reads them without end, and says what is wrong.

use super::TempRoot;
use crate::applets::handoff::run_for_test;
use crate::handoff::{bzimage, validate};
use std::path::Path;

fn setup(handoff: &str) -> TempRoot {
    let t = TempRoot::new();
    t.kernel("/root/boot/vmlinuz-6.1")
        .file("/root/boot/initrd.img-6.1", "cpio")
        .file("/host-cmdline", "root=/dev/sda1 ro\n");
    let text = handoff.replace("@ROOT@", &t.host("/root").display().to_string());
    t.file("/handoff", text);
    t
}

fn fifo(t: &TempRoot, p: &str) {
    let host = t.host(p);
    let _ = std::fs::remove_file(&host);
    std::fs::create_dir_all(host.parent().unwrap()).unwrap();
    let mode = rustix::fs::Mode::from_raw_mode(0o600);
    rustix::fs::mknodat(rustix::fs::CWD, &host, rustix::fs::FileType::Fifo, mode, 0).unwrap();
}

fn check(t: &TempRoot) -> (i32, String) {
    let h = t.host("/handoff").display().to_string();
    let c = t.host("/host-cmdline").display().to_string();
    let (code, out, err) = run_for_test(&[h.as_str(), "--host-cmdline", c.as_str()], None);
    (code, out + &err)
}

#[test]
fn a_fifo_handoff_file_or_command_line_is_refused() {
    let t = setup("ROOT=@ROOT@\n");
    fifo(&t, "/handoff");
    let (code, out) = check(&t);
    assert_eq!(code, 1);
    assert!(out.contains("not a regular file (a FIFO)"), "{out}");
    let t = setup("ROOT=@ROOT@\n");
    fifo(&t, "/host-cmdline");
    let (code, out) = check(&t);
    assert_eq!(code, 1);
    assert!(out.contains("not a regular file (a FIFO)"), "{out}");
}

#[test]
fn a_fifo_kernel_or_initrd_fails_the_check() {
    let t = setup("ROOT=@ROOT@\nKERNEL=/boot/k\nINITRD=/boot/initrd.img-6.1\n");
    fifo(&t, "/root/boot/k");
    let (code, out) = check(&t);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL kernel: ") && out.contains("(a FIFO)"),
        "{out}"
    );
    let t = setup("ROOT=@ROOT@\nKERNEL=/boot/vmlinuz-6.1\nINITRD=/boot/i\n");
    fifo(&t, "/root/boot/i");
    let (code, out) = check(&t);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL initrd: ") && out.contains("(a FIFO)"),
        "{out}"
    );
}

#[test]
fn a_fifo_or_doubling_grub_cfg_is_noted_and_passed_over() {
    let t = setup("ROOT=@ROOT@\n");
    fifo(&t, "/root/boot/grub/grub.cfg");
    let (code, out) = check(&t);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("grub.cfg: not a regular file (a FIFO)"),
        "{out}"
    );
    let t = setup("ROOT=@ROOT@\n");
    let cfg = String::from("set a=x\n") + &"set a=$a$a\n".repeat(40);
    t.file(
        "/root/boot/grub/grub.cfg",
        cfg + "menuentry A {\nlinux /k $a\n}\n",
    );
    let (code, out) = check(&t);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("grub.cfg:17: a variable expands to more than"),
        "{out}"
    );
}

#[test]
fn a_character_device_is_never_read() {
    let zero = Path::new("/dev/zero");
    let e = bzimage::inspect(zero).unwrap_err().to_string();
    assert!(e.contains("not a regular file (a character device)"), "{e}");
    let out = format!("{:?}", validate::initrd_outcome(zero));
    assert!(
        out.contains("not a regular file (a character device)"),
        "{out}"
    );
}

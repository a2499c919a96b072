use super::*;
use std::path::PathBuf;

/// A fake `/` with the files the preflight reads.
struct Root(PathBuf);

impl Root {
    fn new(files: &[(&str, &str)]) -> Root {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("rescue-init-preflight-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (p, text) in files {
            let host = dir.join(p);
            std::fs::create_dir_all(host.parent().unwrap()).unwrap();
            std::fs::write(host, text).unwrap();
        }
        Root(dir)
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const MEMINFO: &str =
    "MemTotal:        4000000 kB\nMemFree:         1000000 kB\nMemAvailable:    2048000 kB\n";

#[test]
fn reads_the_sysctls_lockdown_and_memory() {
    let r = Root::new(&[
        ("proc/sys/kernel/kexec_load_disabled", "0\n"),
        ("proc/sys/kernel/kexec_load_limit_reboot", "-1\n"),
        (
            "sys/kernel/security/lockdown",
            "none [integrity] confidentiality\n",
        ),
        ("proc/meminfo", MEMINFO),
    ]);
    let l = Limits::read(&r.0);
    assert_eq!(
        l,
        Limits {
            disabled: false,
            lockdown: Some("integrity".into()),
            loads_left: Some(-1),
            available: Some(2_048_000 * 1024),
        }
    );
    assert_eq!(l.refusal(100 << 20), None);
    assert_eq!(
        l.summary(100 << 20),
        "100 MiB to load, 2000 MiB available, lockdown=integrity: signed kernels only"
    );
    // Files missing (an old kernel, no securityfs): nothing known.
    assert_eq!(Limits::read(Path::new("/nonexistent")), Limits::default());
    let r = Root::new(&[(
        "sys/kernel/security/lockdown",
        "[none] integrity confidentiality\n",
    )]);
    assert_eq!(Limits::read(&r.0).lockdown, None);
}

#[test]
fn refusals_before_the_load() {
    let r = Root::new(&[("proc/sys/kernel/kexec_load_disabled", "1\n")]);
    let msg = Limits::read(&r.0).refusal(1).unwrap();
    assert!(msg.contains("kexec_load_disabled=1 until reboot"), "{msg}");
    let r = Root::new(&[("proc/sys/kernel/kexec_load_limit_reboot", "0\n")]);
    let msg = Limits::read(&r.0).refusal(1).unwrap();
    assert!(msg.contains("no kexec loads left"), "{msg}");
    let r = Root::new(&[("proc/meminfo", MEMINFO)]);
    let msg = Limits::read(&r.0).refusal(3000 << 20).unwrap();
    assert!(
        msg.starts_with("kernel and initrd (3000 MiB) exceed MemAvailable (2000 MiB)"),
        "{msg}"
    );
}

#[test]
fn every_errno_says_what_to_do() {
    let none = Limits::default();
    let load = Load {
        cmdline_len: 2040,
        file_load_max: Some(2016),
        bytes: 50 << 20,
    };
    let say = |errno, l: &Limits| explain(errno, l, &load);
    assert!(say(libc::EINVAL, &none)
        .starts_with("command line of 2040 bytes; kexec_file_load takes 2016 for this kernel"));
    let short = Load {
        cmdline_len: 20,
        ..load.clone()
    };
    assert!(explain(libc::EINVAL, &none, &short).starts_with("image or arguments rejected"));
    let disabled = Limits {
        disabled: true,
        ..Limits::default()
    };
    assert!(say(libc::EPERM, &disabled).contains("kexec_load_disabled=1 until reboot"));
    let locked = Limits {
        lockdown: Some("integrity".into()),
        ..Limits::default()
    };
    assert!(say(libc::EPERM, &locked)
        .starts_with("lockdown (integrity): only a kernel signed with a trusted key"));
    assert!(say(libc::EPERM, &none).contains("CAP_SYS_BOOT"));
    assert!(say(libc::EKEYREJECTED, &locked).contains("no signature by a key this kernel trusts"));
    assert!(say(libc::ENOKEY, &none).contains("enroll its key"));
    assert!(say(libc::EBADMSG, &none).contains("use a signed kernel"));
    assert!(
        say(libc::ENOMEM, &none).starts_with("not enough memory for kernel and initrd (50 MiB)")
    );
    let tight = Limits {
        available: Some(10 << 20),
        ..Limits::default()
    };
    assert!(say(libc::ENOMEM, &tight).contains("exceed MemAvailable (10 MiB)"));
    assert!(say(libc::ENOEXEC, &none).contains("64-bit bzImage"));
    assert!(say(libc::ENOSYS, &none).contains("add kexec-tools"));
    assert!(say(libc::EBUSY, &none).contains("try again"));
    assert!(say(libc::EFBIG, &none).contains("smaller initrd"));
    assert_eq!(say(libc::EIO, &none), "Input/output error (os error 5)");
}

/// The handoff's log line for a 2040-byte command line that only
/// kexec-tools could load, when there is none: the real cause, not
/// "unsupported (Invalid argument)".
#[test]
fn a_load_failure_names_the_real_cause() {
    use crate::kexec::{after_failure, KexecError};
    let load = Load {
        cmdline_len: 2040,
        file_load_max: Some(2016),
        bytes: 1 << 20,
    };
    let e = std::io::Error::from_raw_os_error(libc::EINVAL);
    let path = Path::new("/mnt/local/boot/vmlinuz");
    let no_tools = |source, why| {
        Err(KexecError::NoFallback {
            path: path.into(),
            source,
            why,
            fallback: "no kexec binary in the image".into(),
        })
    };
    let err = after_failure(e, path, &load, no_tools).unwrap_err();
    assert!(matches!(err, KexecError::NoFallback { .. }));
    assert_eq!(err.to_string(), "kexec_file_load of /mnt/local/boot/vmlinuz failed: command line of 2040 bytes; kexec_file_load takes 2016 for this kernel (30 kept for elfcorehdr=): shorten it or add kexec-tools (Invalid argument (os error 22)); the classic load: no kexec binary in the image");
    let e = std::io::Error::from_raw_os_error(libc::EKEYREJECTED);
    let err = after_failure(e, Path::new("/k"), &load, |_, _| panic!("worked around")).unwrap_err();
    assert!(err.to_string().contains("no signature by a key"), "{err}");
    let e = std::io::Error::from_raw_os_error(libc::ENOMEM);
    let err = after_failure(e, Path::new("/k"), &load, |_, _| panic!("worked around")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("kexec_file_load of /k failed: not enough memory"),
        "{err}"
    );
}

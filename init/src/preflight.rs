//! What the running kernel allows a kexec load, read before one is tried
//! (`handoff check` and the load at the handoff), and what each errno of
//! a load means, in one line that says what to do. The table is in
//! docs/handoff.md.

use crate::fsread::read_text;
use std::path::Path;

/// The kernel's kexec settings, as read under a root (`/` normally; a
/// directory with `proc/` and `sys/` in the tests). None: not known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// `kernel.kexec_load_disabled`: once 1, until the next reboot.
    pub disabled: bool,
    /// The lockdown mode in effect (`integrity`, `confidentiality`).
    pub lockdown: Option<String>,
    /// `kernel.kexec_load_limit_reboot` (Linux 6.7+): loads left, -1 for
    /// no limit.
    pub loads_left: Option<i64>,
    /// MemAvailable, bytes.
    pub available: Option<u64>,
}

/// What a load is about, for [`explain`].
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub cmdline_len: usize,
    /// The longest command line kexec_file_load takes for the kernel.
    pub file_load_max: Option<usize>,
    /// Kernel plus initrd.
    pub bytes: u64,
}

fn read(root: &Path, p: &str) -> Option<String> {
    read_text(&root.join(p), 64 << 10).ok()
}

impl Limits {
    /// The running kernel's: unit tests get none, so that they do not
    /// depend on the host's sysctls.
    pub fn current() -> Limits {
        if cfg!(test) {
            return Limits::default();
        }
        Limits::read(Path::new("/"))
    }

    pub fn read(root: &Path) -> Limits {
        let num = |p| read(root, p).and_then(|s| s.trim().parse::<i64>().ok());
        Limits {
            disabled: num("proc/sys/kernel/kexec_load_disabled") == Some(1),
            lockdown: read(root, "sys/kernel/security/lockdown").and_then(|s| lockdown(&s)),
            loads_left: num("proc/sys/kernel/kexec_load_limit_reboot"),
            available: read(root, "proc/meminfo").and_then(|s| mem_available(&s)),
        }
    }

    /// Why no load can succeed now, if none can.
    pub fn refusal(&self, bytes: u64) -> Option<String> {
        if self.disabled {
            return Some("kexec disabled by kernel.kexec_load_disabled=1 until reboot: reboot through the firmware".into());
        }
        if self.loads_left == Some(0) {
            return Some("no kexec loads left (kernel.kexec_load_limit_reboot=0) until reboot: reboot through the firmware".into());
        }
        match self.available {
            Some(avail) if bytes > avail => Some(format!(
                "kernel and initrd ({} MiB) exceed MemAvailable ({} MiB): free memory or use a smaller initrd",
                mib(bytes),
                mib(avail)
            )),
            _ => None,
        }
    }

    /// What allows a load of `bytes`, for the check line.
    pub fn summary(&self, bytes: u64) -> String {
        use std::fmt::Write;
        let mut s = format!("{} MiB to load", mib(bytes));
        if let Some(a) = self.available {
            let _ = write!(s, ", {} MiB available", mib(a));
        }
        if let Some(n) = self.loads_left.filter(|n| *n > 0) {
            let _ = write!(s, ", {n} loads left until reboot");
        }
        if let Some(mode) = &self.lockdown {
            let _ = write!(s, ", lockdown={mode}: signed kernels only");
        }
        s
    }
}

fn mib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

/// `none [integrity] confidentiality`: the bracketed mode, unless none.
fn lockdown(text: &str) -> Option<String> {
    let mode = text.split_whitespace().find(|w| w.starts_with('['))?;
    let mode = mode.trim_matches(['[', ']']);
    (mode != "none").then(|| mode.to_string())
}

fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// What a kexec load's `errno` means, and what to do, in one line.
pub fn explain(errno: i32, l: &Limits, load: &Load) -> String {
    // With 0 bytes only the sysctls can refuse; with the real size, memory.
    let sysctl = l.refusal(0);
    let memory = l.refusal(load.bytes);
    match errno {
        libc::EPERM if sysctl.is_some() => sysctl.unwrap_or_default(),
        libc::ENOMEM if memory.is_some() => memory.unwrap_or_default(),
        libc::EPERM => match &l.lockdown {
            Some(mode) => format!("lockdown ({mode}): only a kernel signed with a trusted key loads: use one, or reboot through the firmware"),
            None => "not permitted: needs CAP_SYS_BOOT (root, no container)".into(),
        },
        // Rejected, unknown key, unsigned: the same remedy.
        libc::EKEYREJECTED | libc::ENOKEY | libc::EBADMSG | libc::ENODATA => {
            "no signature by a key this kernel trusts: use a signed kernel (or enroll its key, MOK)".into()
        }
        libc::ENOMEM => format!("not enough memory for kernel and initrd ({} MiB): free memory or use a smaller initrd", mib(load.bytes)),
        libc::EINVAL => match load.file_load_max {
            Some(max) if load.cmdline_len > max => format!("command line of {} bytes; kexec_file_load takes {max} for this kernel (30 kept for elfcorehdr=): shorten it or add kexec-tools", load.cmdline_len),
            _ => "image or arguments rejected: is it this architecture's bzImage?".into(),
        },
        libc::ENOEXEC => "not a 64-bit bzImage: use the distribution's vmlinuz".into(),
        libc::ENOSYS | libc::EOPNOTSUPP => "no kexec_file_load for this image: add kexec-tools".into(),
        libc::EBUSY => "another kexec load is in progress: try again".into(),
        libc::EFBIG => "kernel or initrd over 2 GiB: use a smaller initrd".into(),
        e => std::io::Error::from_raw_os_error(e).to_string(),
    }
}

#[cfg(test)]
#[path = "preflight_tests.rs"]
mod tests;

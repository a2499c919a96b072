//! Loading and executing the next kernel with kexec_file_load(2).
//!
//! Error policy as kexec-tools has it: a signature or lockdown refusal is
//! reported as such and never worked around; when the kernel lacks
//! kexec_file_load for this image (ENOSYS, EINVAL, ENOEXEC, EOPNOTSUPP)
//! the classic kexec_load is tried: on arm64 natively ([`arm64`]: Debian's
//! arm64 kernels have no kexec_file_load), else (and as the last resort)
//! through a `kexec` binary, if the image carries one.

// Built and unit-tested on every architecture; only arm64 loads with it.
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) mod arm64;
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) mod fdt;
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) mod unpack;

use crate::sys;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;

const KEXEC_LOADED: &str = "/sys/kernel/kexec_loaded";
const KEXEC_TOOLS: &[&str] = &[
    "/sbin/kexec",
    "/usr/sbin/kexec",
    "/bin/kexec",
    "/usr/bin/kexec",
];

#[derive(Debug, thiserror::Error)]
pub enum KexecError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("the command line contains a NUL byte")]
    Cmdline,
    #[error("the kernel refused {path}: {source} ({why}); not working around it")]
    Refused {
        path: PathBuf,
        source: io::Error,
        why: &'static str,
    },
    #[error("kexec_file_load of {path} failed: {source}")]
    Failed { path: PathBuf, source: io::Error },
    #[error("kexec_file_load of {path} is unsupported ({source}) and {fallback}")]
    NoFallback {
        path: PathBuf,
        source: io::Error,
        fallback: String,
    },
    #[error("the load returned success but {KEXEC_LOADED} does not say 1")]
    NotLoaded,
}

/// How the kernel was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    FileLoad,
    /// kexec_load(2) by rescue-init itself (arm64).
    KexecLoad,
    KexecTools,
}

fn open(path: &Path) -> Result<File, KexecError> {
    File::open(path).map_err(|source| KexecError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads `kernel` (+ `initrd`) with `cmdline` for a later [`exec`].
pub fn load(kernel: &Path, initrd: Option<&Path>, cmdline: &str) -> Result<Method, KexecError> {
    // Whatever was loaded before is replaced: not the handoff's any more.
    crate::handoff::preload::forget();
    let kfile = open(kernel)?;
    let ifile = initrd.map(open).transpose()?;
    let c = CString::new(cmdline).map_err(|_| KexecError::Cmdline)?;
    let flags = if ifile.is_some() {
        0
    } else {
        sys::KEXEC_FILE_NO_INITRAMFS
    };
    let result = sys::kexec_file_load(kfile.as_fd(), ifile.as_ref().map(|f| f.as_fd()), &c, flags);
    let method = match result {
        Ok(()) => Method::FileLoad,
        Err(e) => match classify(&e) {
            Class::Refused(why) => {
                return Err(KexecError::Refused {
                    path: kernel.into(),
                    source: e,
                    why,
                })
            }
            Class::Unsupported => classic(kernel, initrd, cmdline, e)?,
            Class::Other => {
                return Err(KexecError::Failed {
                    path: kernel.into(),
                    source: e,
                })
            }
        },
    };
    if !loaded() {
        return Err(KexecError::NotLoaded);
    }
    Ok(method)
}

/// kexec_load, after kexec_file_load said it cannot: natively on arm64,
/// then through kexec-tools. A refusal (lockdown) is not worked around.
pub(crate) fn classic(
    kernel: &Path,
    initrd: Option<&Path>,
    cmdline: &str,
    file_load: io::Error,
) -> Result<Method, KexecError> {
    let native = native_load(kernel, initrd, cmdline);
    let native_err = match native {
        Ok(()) => return Ok(Method::KexecLoad),
        Err(arm64::Arm64Error::Load(e)) if matches!(classify(&e), Class::Refused(_)) => {
            let Class::Refused(why) = classify(&e) else {
                unreachable!("matched as refused")
            };
            return Err(KexecError::Refused {
                path: kernel.into(),
                source: e,
                why,
            });
        }
        Err(e) => e.to_string(),
    };
    crate::warn!(
        "kexec_file_load of {}: {file_load}; {native_err}; trying kexec-tools",
        kernel.display()
    );
    kexec_tools(kernel, initrd, cmdline)
        .map(|()| Method::KexecTools)
        .map_err(|fallback| KexecError::NoFallback {
            path: kernel.into(),
            source: file_load,
            fallback: format!("{native_err}; {fallback}"),
        })
}

#[cfg(target_arch = "aarch64")]
fn native_load(
    kernel: &Path,
    initrd: Option<&Path>,
    cmdline: &str,
) -> Result<(), arm64::Arm64Error> {
    arm64::load(kernel, initrd, cmdline)
}

#[cfg(not(target_arch = "aarch64"))]
fn native_load(_: &Path, _: Option<&Path>, _: &str) -> Result<(), arm64::Arm64Error> {
    Err(arm64::Arm64Error::Image(
        "no native kexec_load on this architecture".into(),
    ))
}

pub(crate) enum Class {
    Refused(&'static str),
    Unsupported,
    Other,
}

pub(crate) fn classify(e: &io::Error) -> Class {
    match e.raw_os_error() {
        Some(libc::EKEYREJECTED) => Class::Refused("signature rejected"),
        Some(libc::ENOKEY) => Class::Refused("no key to verify the signature"),
        Some(libc::EBADMSG) => Class::Refused("bad or missing signature"),
        Some(libc::EPERM) => Class::Refused("lockdown (Secure Boot) or no CAP_SYS_BOOT"),
        Some(libc::ENOSYS | libc::EINVAL | libc::ENOEXEC | libc::EOPNOTSUPP) => Class::Unsupported,
        _ => Class::Other,
    }
}

/// The classic kexec_load through kexec-tools, when the image has it.
pub(crate) fn kexec_tools(
    kernel: &Path,
    initrd: Option<&Path>,
    cmdline: &str,
) -> Result<(), String> {
    let tool = KEXEC_TOOLS
        .iter()
        .find(|p| Path::new(p).is_file())
        .ok_or("no kexec binary in the image")?;
    let mut cmd = Command::new(tool);
    cmd.arg("-l")
        .arg(kernel)
        .arg(format!("--command-line={cmdline}"));
    if let Some(i) = initrd {
        cmd.arg(format!("--initrd={}", i.display()));
    }
    let status = cmd
        .status()
        .map_err(|e| format!("{tool} failed to start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{tool} -l failed ({status})"))
    }
}

/// Whether a kernel is loaded for kexec, as the kernel says.
pub fn loaded() -> bool {
    std::fs::read_to_string(KEXEC_LOADED).is_ok_and(|s| s.trim() == "1")
}

/// Unloads a loaded kernel.
pub fn unload() -> io::Result<()> {
    crate::handoff::preload::forget();
    let empty = c"";
    // Any readable fd will do: the kernel ignores it when unloading.
    let null = File::open("/dev/null")?;
    match sys::kexec_file_load(null.as_fd(), None, empty, sys::KEXEC_FILE_UNLOAD) {
        // No kexec_file_load (arm64 Debian): kexec_load with no segments.
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => sys::kexec_load(0, &[]),
        other => other,
    }
}

/// Jumps into the loaded kernel. Returns only on failure.
pub fn exec() -> io::Error {
    match rustix::system::reboot(rustix::system::RebootCommand::Kexec) {
        Ok(()) => io::Error::other("reboot(KEXEC) returned without error"),
        Err(e) => e.into(),
    }
}

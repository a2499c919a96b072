//! Loading and executing the next kernel with kexec_file_load(2).
//!
//! Error policy as kexec-tools has it: a signature or lockdown refusal is
//! reported as such and never worked around; when the kernel lacks
//! kexec_file_load for this image (ENOSYS, EINVAL, ENOEXEC, EOPNOTSUPP)
//! the classic kexec_load is tried: on arm64 natively ([`arm64`]: Debian's
//! arm64 kernels have no kexec_file_load), else (and as the last resort)
//! through a `kexec` binary, if the image carries one. What the kernel's
//! settings forbid is said before the load, and every errno is said with
//! what to do ([`crate::preflight`]).

// Built and unit-tested on every architecture; only arm64 loads with it.
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) mod arm64;
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) mod fdt;
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) mod unpack;

use crate::preflight::{explain, Limits, Load};
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
    #[error("not loading {path}: {why}")]
    Preflight { path: PathBuf, why: String },
    #[error("the kernel refused {path}: {why} ({source}); not working around it")]
    Refused {
        path: PathBuf,
        source: io::Error,
        why: String,
    },
    #[error("kexec_file_load of {path} failed: {why} ({source})")]
    Failed {
        path: PathBuf,
        source: io::Error,
        why: String,
    },
    #[error("kexec_file_load of {path} failed: {why} ({source}); the classic load: {fallback}")]
    NoFallback {
        path: PathBuf,
        source: io::Error,
        why: String,
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

fn open(path: &Path) -> Result<(File, u64), KexecError> {
    // Not blocking on a FIFO, not a device: the kernel would read it.
    match crate::fsread::open_regular(path, crate::fsread::Links::Follow) {
        Ok(found) => Ok(found),
        Err(e) => Err(KexecError::Open {
            path: path.to_path_buf(),
            source: e.into(),
        }),
    }
}

/// Loads `kernel` (+ `initrd`) with `cmdline` for a later [`exec`].
pub fn load(kernel: &Path, initrd: Option<&Path>, cmdline: &str) -> Result<Method, KexecError> {
    // Whatever was loaded before is replaced: not the handoff's any more.
    crate::handoff::preload::forget();
    let (kfile, klen) = open(kernel)?;
    let ifile = initrd.map(open).transpose()?;
    let c = CString::new(cmdline).map_err(|_| KexecError::Cmdline)?;
    let load = describe(&kfile, klen + ifile.as_ref().map_or(0, |f| f.1), cmdline);
    preflight(kernel, &load)?;
    let ifile = ifile.map(|f| f.0);
    let flags = if ifile.is_some() {
        0
    } else {
        sys::KEXEC_FILE_NO_INITRAMFS
    };
    let ifd = ifile.as_ref().map(|f| f.as_fd());
    let result = sys::kexec_file_load(kfile.as_fd(), ifd, &c, flags);
    #[cfg(target_arch = "aarch64")]
    let result = match result {
        // The syscall exists but takes only a plain Image.
        Err(e)
            if e.raw_os_error() != Some(libc::ENOSYS)
                && matches!(classify(&e), Class::Unsupported) =>
        {
            unpacked_file_load(kernel, &kfile, ifd, &c, flags).unwrap_or(Err(e))
        }
        other => other,
    };
    let method = match result {
        Ok(()) => Method::FileLoad,
        Err(e) => after_failure(e, kernel, &load, |file_load, why| {
            classic(kernel, initrd, cmdline, &load, file_load, why)
        })?,
    };
    if !loaded() {
        return Err(KexecError::NotLoaded);
    }
    Ok(method)
}

/// arm64's kexec_file_load takes only a plain Image: a gzip or EFI zboot
/// kernel is unpacked into a sealed memfd and offered again, so that the
/// kernel can still check the Image's own signature (Ubuntu's gzip
/// `vmlinuz` holds a signed Image). None: nothing to unpack, or it cannot
/// be (said here; the native load says it again).
#[cfg(target_arch = "aarch64")]
fn unpacked_file_load(
    path: &Path,
    kernel: &File,
    initrd: Option<std::os::fd::BorrowedFd<'_>>,
    cmdline: &std::ffi::CStr,
    flags: u64,
) -> Option<io::Result<()>> {
    match unpacked(kernel) {
        Ok(Some(mem)) => {
            crate::info!(
                "{}: compressed; offering kexec_file_load the {} byte Image inside",
                path.display(),
                mem.len
            );
            Some(sys::kexec_file_load(
                mem.file.as_fd(),
                initrd,
                cmdline,
                flags,
            ))
        }
        Ok(None) => None,
        Err(e) => {
            crate::warn!("{}: {e}", path.display());
            None
        }
    }
}

/// The Image inside a compressed arm64 kernel, in a sealed memfd; None
/// for a plain Image.
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) fn unpacked(kernel: &File) -> Result<Option<crate::memfile::MemFile>, String> {
    use std::io::{Read, Seek, Write};
    let mut bytes = Vec::new();
    let mut f = kernel;
    f.seek(io::SeekFrom::Start(0))
        .and_then(|_| f.take(unpack::MAX_IMAGE as u64).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read: {e}"))?;
    let (image, packing) = unpack::unpack(bytes)?;
    if packing == unpack::Packing::Plain {
        return Ok(None);
    }
    let mem = crate::memfile::MemFile::new(c"rescue-init-Image")
        .and_then(|mut m| m.write_all(&image).map(|()| m))
        .map_err(|e| format!("memfd for the unpacked Image: {e}"))?;
    mem.seal()
        .map_err(|e| format!("sealing the unpacked Image: {e}"))?;
    Ok(Some(mem))
}

/// What a load is about (`kernel`: the open kernel file, `bytes`: it
/// and the initrd), for the messages.
pub(crate) fn describe(kernel: &File, bytes: u64, cmdline: &str) -> Load {
    let size = crate::handoff::cmdline_size_of(kernel);
    Load {
        cmdline_len: cmdline.len(),
        file_load_max: size.map(crate::handoff::file_load_max),
        bytes,
    }
}

/// Refuses a load that the kernel's settings forbid, saying which.
pub(crate) fn preflight(path: &Path, load: &Load) -> Result<(), KexecError> {
    match Limits::current().refusal(load.bytes) {
        Some(why) => Err(KexecError::Preflight {
            path: path.into(),
            why,
        }),
        None => Ok(()),
    }
}

/// After kexec_file_load of `path` failed with `e`: the refusal, the
/// failure, or the classic load `fallback` (given `e` and what it means)
/// when the kernel cannot take this image with kexec_file_load.
pub(crate) fn after_failure(
    e: io::Error,
    path: &Path,
    load: &Load,
    fallback: impl FnOnce(io::Error, String) -> Result<Method, KexecError>,
) -> Result<Method, KexecError> {
    let why = explain(e.raw_os_error().unwrap_or(0), &Limits::current(), load);
    let path = path.to_path_buf();
    match classify(&e) {
        Class::Refused => Err(KexecError::Refused {
            path,
            source: e,
            why,
        }),
        Class::Other => Err(KexecError::Failed {
            path,
            source: e,
            why,
        }),
        Class::Unsupported => fallback(e, why),
    }
}

/// kexec_load, after kexec_file_load said it cannot (`file_load`, `why`):
/// natively on arm64, then through kexec-tools. A refusal (lockdown) is
/// not worked around.
pub(crate) fn classic(
    kernel: &Path,
    initrd: Option<&Path>,
    cmdline: &str,
    load: &Load,
    file_load: io::Error,
    why: String,
) -> Result<Method, KexecError> {
    let mut tried = String::new();
    match native_load(kernel, initrd, cmdline) {
        None => {}
        Some(Ok(())) => return Ok(Method::KexecLoad),
        Some(Err(arm64::Arm64Error::Load(e))) if matches!(classify(&e), Class::Refused) => {
            let why = explain(e.raw_os_error().unwrap_or(0), &Limits::current(), load);
            return Err(KexecError::Refused {
                path: kernel.into(),
                source: e,
                why,
            });
        }
        Some(Err(e)) => tried = format!("{e}; "),
    }
    crate::warn!(
        "kexec_file_load of {}: {why} ({file_load}); {tried}trying kexec-tools",
        kernel.display()
    );
    kexec_tools(kernel, initrd, cmdline)
        .map(|()| Method::KexecTools)
        .map_err(|fallback| KexecError::NoFallback {
            path: kernel.into(),
            source: file_load,
            why,
            fallback: format!("{tried}{fallback}"),
        })
}

/// The native kexec_load, where rescue-init has one (arm64).
#[cfg(target_arch = "aarch64")]
fn native_load(
    kernel: &Path,
    initrd: Option<&Path>,
    cmdline: &str,
) -> Option<Result<(), arm64::Arm64Error>> {
    Some(arm64::load(kernel, initrd, cmdline))
}

#[cfg(not(target_arch = "aarch64"))]
fn native_load(_: &Path, _: Option<&Path>, _: &str) -> Option<Result<(), arm64::Arm64Error>> {
    None
}

pub(crate) enum Class {
    Refused,
    Unsupported,
    Other,
}

pub(crate) fn classify(e: &io::Error) -> Class {
    match e.raw_os_error() {
        Some(libc::EKEYREJECTED | libc::ENOKEY | libc::EBADMSG | libc::EPERM) => Class::Refused,
        Some(libc::ENOSYS | libc::EINVAL | libc::ENOEXEC | libc::EOPNOTSUPP) => Class::Unsupported,
        _ => Class::Other,
    }
}

/// The kexec-tools binary, if this system has one.
pub(crate) fn tool() -> Option<&'static str> {
    KEXEC_TOOLS.iter().copied().find(|p| Path::new(p).is_file())
}

/// The classic kexec_load through kexec-tools, when the image has it.
pub(crate) fn kexec_tools(
    kernel: &Path,
    initrd: Option<&Path>,
    cmdline: &str,
) -> Result<(), String> {
    let tool = tool().ok_or("no kexec binary in the image")?;
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

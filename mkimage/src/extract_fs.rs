//! Small file system calls `extract` needs that std does not offer:
//! none of them follows a symlink in the last component.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Sets the mtime (and atime) of `path` itself, symlink or not.
pub fn set_mtime(path: &Path, mtime: u32) -> io::Result<()> {
    let c = c_path(path)?;
    let t = libc::timespec {
        tv_sec: libc::time_t::from(mtime),
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: `c` is a NUL-terminated path and `times` has two entries.
    check(unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// Sets the permission bits of `path`, which is not a symlink.
pub fn chmod(path: &Path, mode: u32) -> io::Result<()> {
    let c = c_path(path)?;
    // SAFETY: `c` is a NUL-terminated path.
    check(unsafe {
        libc::fchmodat(
            libc::AT_FDCWD,
            c.as_ptr(),
            (mode & 0o7777) as libc::mode_t,
            0,
        )
    })
}

/// Makes a device node, fifo or socket; `mode` has the type bits.
pub fn mknod(path: &Path, mode: u32, major: u32, minor: u32) -> io::Result<()> {
    let c = c_path(path)?;
    let dev = libc::makedev(major, minor);
    // The mode is set exactly afterwards; make it private meanwhile.
    let mode = (mode & crate::cpio::S_IFMT) | 0o600;
    // SAFETY: `c` is a NUL-terminated path.
    check(unsafe { libc::mknod(c.as_ptr(), mode as libc::mode_t, dev) })
}

//! Small file system calls `extract` needs that std does not offer:
//! none of them follows a symlink in the last component.

use std::io;
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, Timespec, Timestamps, CWD};

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Sets the mtime (and atime) of `path` itself, symlink or not.
pub fn set_mtime(path: &Path, mtime: u32) -> io::Result<()> {
    let t = Timespec {
        tv_sec: mtime.into(),
        tv_nsec: 0,
    };
    let times = Timestamps {
        last_access: t,
        last_modification: t,
    };
    Ok(rfs::utimensat(
        CWD,
        path,
        &times,
        AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

/// Sets the permission bits of `path`, which is not a symlink.
pub fn chmod(path: &Path, mode: u32) -> io::Result<()> {
    let mode = Mode::from_raw_mode(mode & 0o7777);
    Ok(rfs::chmodat(CWD, path, mode, AtFlags::empty())?)
}

/// Makes a device node, fifo or socket; `mode` has the type bits.
pub fn mknod(path: &Path, mode: u32, major: u32, minor: u32) -> io::Result<()> {
    let dev = rfs::makedev(major, minor);
    let file_type = FileType::from_raw_mode(mode & crate::cpio::S_IFMT);
    // The mode is set exactly afterwards; make it private meanwhile.
    Ok(rfs::mknodat(
        CWD,
        path,
        file_type,
        Mode::from_raw_mode(0o600),
        dev,
    )?)
}

//! Early mounts, as data: one table, one loop. A failed mount is logged and
//! the boot goes on; EBUSY means something (the kernel, a container
//! manager) mounted it already.

use rustix::fs::Mode;
use rustix::io::Errno;
use rustix::mount::{mount, MountFlags};
use std::path::Path;

pub struct MountEntry {
    pub source: &'static str,
    pub target: &'static str,
    pub fstype: &'static str,
    pub flags: MountFlags,
    pub data: &'static str,
    /// Mount only when this path exists (e.g. EFI variables on EFI boots).
    pub only_if: Option<&'static str>,
    /// A scratch tmpfs that must not hide files the image put there (ReaR
    /// packs its mkrescue log into /tmp); the initramfs is writable anyway.
    pub unless_populated: bool,
}

const NOSUID_NODEV_NOEXEC: MountFlags = MountFlags::NOSUID
    .union(MountFlags::NODEV)
    .union(MountFlags::NOEXEC);
const NOSUID_NODEV: MountFlags = MountFlags::NOSUID.union(MountFlags::NODEV);

const fn entry(
    source: &'static str,
    target: &'static str,
    fstype: &'static str,
    flags: MountFlags,
    data: &'static str,
) -> MountEntry {
    MountEntry {
        source,
        target,
        fstype,
        flags,
        data,
        only_if: None,
        unless_populated: false,
    }
}

/// devtmpfs comes first so that /dev/kmsg and /dev/console exist for logging.
pub const EARLY_MOUNTS: &[MountEntry] = &[
    entry(
        "devtmpfs",
        "/dev",
        "devtmpfs",
        MountFlags::NOSUID,
        "mode=0755",
    ),
    entry("proc", "/proc", "proc", NOSUID_NODEV_NOEXEC, ""),
    entry("sysfs", "/sys", "sysfs", NOSUID_NODEV_NOEXEC, ""),
    entry(
        "devpts",
        "/dev/pts",
        "devpts",
        MountFlags::NOSUID.union(MountFlags::NOEXEC),
        "gid=5,mode=620,ptmxmode=666",
    ),
    entry("tmpfs", "/dev/shm", "tmpfs", NOSUID_NODEV, "mode=1777"),
    entry("tmpfs", "/run", "tmpfs", NOSUID_NODEV, "mode=755"),
    MountEntry {
        unless_populated: true,
        ..entry("tmpfs", "/tmp", "tmpfs", NOSUID_NODEV, "mode=1777")
    },
    MountEntry {
        source: "efivarfs",
        target: "/sys/firmware/efi/efivars",
        fstype: "efivarfs",
        flags: NOSUID_NODEV_NOEXEC,
        data: "",
        only_if: Some("/sys/firmware/efi/efivars"),
        unless_populated: false,
    },
];

/// Links every program expects under /dev (`/dev/fd/N`, `/dev/stdin`…).
pub const DEV_LINKS: &[(&str, &str)] = &[
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("/proc/kcore", "/dev/core"),
];

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Mounted,
    AlreadyMounted,
    Skipped,
    /// Not mounted: the image has files there.
    Populated,
}

/// Mounts one entry, creating its mount point if needed.
pub fn mount_entry(e: &MountEntry) -> Result<Outcome, String> {
    if e.only_if.is_some_and(|p| !Path::new(p).exists()) {
        return Ok(Outcome::Skipped);
    }
    match rustix::fs::mkdir(e.target, Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(err) => return Err(format!("mkdir {}: {err}", e.target)),
    }
    if e.unless_populated && std::fs::read_dir(e.target).is_ok_and(|mut d| d.next().is_some()) {
        return Ok(Outcome::Populated);
    }
    let data = std::ffi::CString::new(e.data).map_err(|_| "NUL in mount options".to_string())?;
    match mount(e.source, e.target, e.fstype, e.flags, data.as_c_str()) {
        Ok(()) => Ok(Outcome::Mounted),
        Err(Errno::BUSY) => Ok(Outcome::AlreadyMounted),
        Err(err) => Err(format!(
            "mount {} ({}) on {}: {err}",
            e.source, e.fstype, e.target
        )),
    }
}

/// Runs the whole table; returns how many entries failed.
pub fn mount_all(table: &[MountEntry]) -> usize {
    let mut failed = 0;
    for e in table {
        match mount_entry(e) {
            Ok(Outcome::Mounted) => crate::debug!("mounted {} on {}", e.fstype, e.target),
            Ok(Outcome::AlreadyMounted) => crate::debug!("{} already mounted", e.target),
            Ok(Outcome::Skipped) => {}
            Ok(Outcome::Populated) => crate::info!(
                "{} holds files from the image: no tmpfs mounted over them",
                e.target
            ),
            Err(msg) => {
                failed += 1;
                crate::error!("{msg}");
            }
        }
    }
    for &(target, link) in DEV_LINKS {
        match rustix::fs::symlink(target, link) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(err) => crate::warn!("symlink {link} -> {target}: {err}"),
        }
    }
    failed
}

//! Releasing filesystems at shutdown: unmount newest first, remount
//! read-only what is busy, and repeat while a pass still changes something
//! (unmounting a child can free its parent). Kernel API filesystems and the
//! initramfs root hold no data and are left alone.

use crate::mountinfo::{self, MountInfo};
use rustix::io::Errno;
use rustix::mount::{mount_remount, unmount, MountFlags, UnmountFlags};

const MOUNTINFO: &str = "/proc/self/mountinfo";
const MAX_PASSES: usize = 8;

/// Filesystem types that hold no data worth protecting.
const API_FS: &[&str] = &[
    "rootfs", "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "ramfs", "securityfs", "efivarfs", "debugfs",
    "tracefs", "cgroup", "cgroup2", "pstore", "bpf", "configfs", "mqueue", "hugetlbfs", "binfmt_misc",
    "fusectl", "autofs",
];

fn wants_release(m: &MountInfo) -> bool {
    m.mount_point != "/" && !API_FS.contains(&m.fstype.as_str())
}

/// Returns one message per mount that could not be unmounted. Busy mounts
/// are remounted read-only when `remount_ro` is set.
pub fn release_all(remount_ro: bool) -> Vec<String> {
    for _ in 0..MAX_PASSES {
        match current() {
            Ok(mounts) if mounts.is_empty() => return Vec::new(),
            Ok(mounts) => {
                if !pass(&mounts, remount_ro) {
                    break;
                }
            }
            Err(e) => return vec![e],
        }
    }
    match current() {
        Ok(left) => left.iter().map(describe_left).collect(),
        Err(e) => vec![e],
    }
}

fn current() -> Result<Vec<MountInfo>, String> {
    let text = std::fs::read_to_string(MOUNTINFO).map_err(|e| format!("{MOUNTINFO}: {e}"))?;
    let all = mountinfo::parse(MOUNTINFO, &text).map_err(|e| e.to_string())?;
    Ok(all.into_iter().filter(wants_release).collect())
}

/// One pass, newest first. Returns whether anything was unmounted.
fn pass(mounts: &[MountInfo], ro: bool) -> bool {
    let mut changed = false;
    for m in mounts.iter().rev() {
        match unmount(m.mount_point.as_str(), UnmountFlags::empty()) {
            Ok(()) => {
                crate::info!("unmounted {} ({} {})", m.mount_point, m.fstype, m.source);
                changed = true;
            }
            Err(Errno::BUSY) if ro => remount_ro(m),
            Err(Errno::BUSY) => crate::debug!("{} busy", m.mount_point),
            Err(Errno::INVAL | Errno::NOENT) => {}
            Err(e) => crate::warn!("unmount {}: {e}", m.mount_point),
        }
    }
    changed
}

fn remount_ro(m: &MountInfo) {
    if m.options.split(',').any(|o| o == "ro") {
        return;
    }
    match mount_remount(m.mount_point.as_str(), MountFlags::RDONLY, "") {
        Ok(()) => crate::info!("{} busy; remounted read-only", m.mount_point),
        Err(e) => crate::warn!("{} busy and cannot be remounted read-only: {e}", m.mount_point),
    }
}

fn describe_left(m: &MountInfo) -> String {
    format!("{} ({} {}) is still mounted ({})", m.mount_point, m.fstype, m.source, m.options)
}

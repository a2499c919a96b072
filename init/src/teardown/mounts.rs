//! Which mounts the teardown releases and how: pure decisions over
//! `/proc/self/mountinfo`, kept apart from the system calls so they can be
//! tested.

use crate::mountinfo::{self, MountInfo};
use std::collections::HashMap;

/// Filesystem types that hold no data worth protecting.
const API_FS: &[&str] = &[
    "rootfs",
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "tmpfs",
    "ramfs",
    "securityfs",
    "efivarfs",
    "debugfs",
    "tracefs",
    "cgroup",
    "cgroup2",
    "pstore",
    "bpf",
    "configfs",
    "mqueue",
    "hugetlbfs",
    "binfmt_misc",
    "fusectl",
    "autofs",
];

/// Network filesystems: unmounted with MNT_FORCE, which aborts requests a
/// dead server would never answer (everything was synced before).
const NETWORK_FS: &[&str] = &["nfs", "nfs4", "cifs", "smb3", "ceph", "9p"];

pub fn read(path: &str) -> Result<Vec<MountInfo>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    mountinfo::parse(path, &text).map_err(|e| e.to_string())
}

fn api(m: &MountInfo) -> bool {
    API_FS.contains(&m.fstype.as_str())
}

pub fn network(m: &MountInfo) -> bool {
    NETWORK_FS.contains(&m.fstype.as_str())
}

/// The superblock is read-only (the per-mount flag of a bind mount is not
/// enough): its data is safe on disk.
pub fn super_ro(m: &MountInfo) -> bool {
    m.super_options.split(',').any(|o| o == "ro")
}

/// The mount point of the filesystem that holds `file`: the mount whose
/// point is the longest whole-component prefix of its path (the newest one
/// when several are mounted there).
pub fn holding(all: &[MountInfo], file: &std::path::Path) -> Option<String> {
    all.iter()
        .filter(|m| file.starts_with(&m.mount_point))
        .max_by_key(|m| std::path::Path::new(&m.mount_point).components().count())
        .map(|m| m.mount_point.clone())
}

/// The mounts to release, in mount order: everything but `/` and the API
/// filesystems of the rescue system itself. API filesystems mounted below
/// a filesystem being released (`/mnt/local/proc`, a bind of `/dev` for a
/// chroot) are released too, or they would keep it busy for ever; so is
/// any mount that hides a data mount made before it (a tmpfs on `/mnt`
/// over the recovered root at `/mnt/local`): until it goes, every call
/// through the hidden mount's path reaches the mount on top instead.
pub fn releasable(all: &[MountInfo]) -> Vec<MountInfo> {
    let by_id: HashMap<u32, &MountInfo> = all.iter().map(|m| (m.id, m)).collect();
    let root = |m: &MountInfo| m.mount_point != "/" && (!api(m) || hides_data(m, all, &by_id));
    all.iter()
        .filter(|m| m.mount_point != "/")
        .filter(|m| {
            if root(m) {
                return true;
            }
            // Up the parent chain (bounded: ids could in theory loop).
            let mut cur = by_id.get(&m.parent);
            for _ in 0..64 {
                match cur {
                    Some(p) if root(p) => return true,
                    Some(p) if p.parent != p.id => cur = by_id.get(&p.parent),
                    _ => return false,
                }
            }
            false
        })
        .cloned()
        .collect()
}

/// `m` sits on a path above a data mount that is not below `m` in the
/// mount tree: it was mounted later, over the data mount's parent.
fn hides_data(m: &MountInfo, all: &[MountInfo], by_id: &HashMap<u32, &MountInfo>) -> bool {
    let above = |d: &MountInfo| {
        d.mount_point
            .strip_prefix(m.mount_point.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
    };
    all.iter()
        .filter(|d| d.id != m.id && d.mount_point != "/" && !api(d) && above(d))
        .any(|d| !descends_from(d, m.id, by_id))
}

/// Whether `m`'s parent chain reaches the mount `ancestor`.
fn descends_from(m: &MountInfo, ancestor: u32, by_id: &HashMap<u32, &MountInfo>) -> bool {
    let mut cur = Some(m);
    for _ in 0..64 {
        match cur {
            Some(c) if c.parent == ancestor => return true,
            Some(c) if c.parent != c.id => cur = by_id.get(&c.parent).copied(),
            _ => return false,
        }
    }
    false
}

/// Busy mounts that may be detached lazily (MNT_DETACH) as a last resort:
/// read-only (remounted so, its data is on disk and stays consistent while
/// the superblock lives on), a leaf (no mounts on it), with a parent that
/// is released too (detaching it lets the parent go; otherwise it gains
/// nothing and only hides the mount). Newest first.
pub fn detachable<'a>(rel: &'a [MountInfo], all: &[MountInfo]) -> Vec<&'a MountInfo> {
    rel.iter()
        .rev()
        .filter(|m| super_ro(m))
        .filter(|m| !all.iter().any(|c| c.parent == m.id && c.id != m.id))
        .filter(|m| rel.iter().any(|p| p.id == m.parent))
        .collect()
}

pub fn describe(m: &MountInfo) -> String {
    format!("{} ({} {})", m.mount_point, m.fstype, m.source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<MountInfo> {
        mountinfo::parse("test", text).unwrap()
    }

    const CHROOT: &str = "\
1 1 0:2 / / rw - rootfs rootfs rw
20 1 0:20 / /proc rw,nosuid - proc proc rw
21 1 0:5 / /dev rw - devtmpfs dev rw,size=100k
30 1 254:0 / /mnt/local rw,relatime - ext4 /dev/vda rw
31 30 254:16 / /mnt/local/boot rw,relatime - ext4 /dev/vdb ro
32 30 0:5 / /mnt/local/dev rw - devtmpfs dev rw,size=100k
33 30 0:21 / /mnt/local/proc rw - proc proc rw
34 1 254:0 /var /srv/var ro,relatime - ext4 /dev/vda rw
35 32 0:22 / /mnt/local/dev/pts rw - devpts devpts rw
36 1 0:40 / /mnt/nfs rw - nfs4 server:/export rw,vers=4.2
";

    #[test]
    fn releases_data_mounts_and_api_mounts_below_them() {
        let all = parse(CHROOT);
        let rel = releasable(&all);
        let mps: Vec<&str> = rel.iter().map(|m| m.mount_point.as_str()).collect();
        assert_eq!(
            mps,
            [
                "/mnt/local",
                "/mnt/local/boot",
                "/mnt/local/dev",
                "/mnt/local/proc",
                "/srv/var",
                "/mnt/local/dev/pts",
                "/mnt/nfs"
            ]
        );
        assert!(network(&all[9]));
        assert!(!network(&all[3]));
    }

    /// A tmpfs mounted on /mnt after the recovered root was mounted on
    /// /mnt/local hides it: the tmpfs goes first (newest first), whatever
    /// its type; the rescue system's own tmpfs on /run hides nothing.
    #[test]
    fn a_mount_hiding_a_data_mount_is_released_first() {
        let text = "1 0 254:0 / / rw - ext4 /dev/vda1 rw\n\
                    20 1 0:20 / /run rw - tmpfs tmpfs rw\n\
                    30 1 254:16 / /mnt/local rw - ext4 /dev/vdb rw\n\
                    31 30 254:17 / /mnt/local/boot rw - ext4 /dev/vdc rw\n\
                    40 1 0:40 / /mnt rw - tmpfs tmpfs rw\n\
                    41 40 0:41 / /mnt/x rw - tmpfs tmpfs rw\n";
        let all = parse(text);
        let rel = releasable(&all);
        let mps: Vec<&str> = rel.iter().map(|m| m.mount_point.as_str()).collect();
        assert_eq!(
            mps,
            ["/mnt/local", "/mnt/local/boot", "/mnt", "/mnt/x"],
            "newest last: released first"
        );
        // A tmpfs mounted below the data mount hides nothing of it.
        let inner = "1 0 254:0 / / rw - ext4 /dev/vda1 rw\n30 1 254:16 / /mnt/local rw - ext4 /dev/vdb rw\n\
                     40 30 0:40 / /mnt/local/tmp rw - tmpfs tmpfs rw\n";
        let rel = releasable(&parse(inner));
        assert_eq!(
            rel.len(),
            2,
            "the tmpfs below the data mount goes with it, as before"
        );
    }

    #[test]
    fn the_mount_holding_a_file_is_the_deepest_prefix() {
        let all = parse(CHROOT);
        let at = |f: &str| holding(&all, std::path::Path::new(f));
        assert_eq!(
            at("/mnt/local/var/log/rescue-init-kexec.log").as_deref(),
            Some("/mnt/local")
        );
        assert_eq!(
            at("/mnt/local/boot/grub/grub.cfg").as_deref(),
            Some("/mnt/local/boot")
        );
        // Whole components only: /mnt/localx is not under /mnt/local.
        assert_eq!(at("/mnt/localx/f").as_deref(), Some("/"));
    }

    #[test]
    fn superblock_decides_read_only() {
        let all = parse(CHROOT);
        let by_mp = |mp: &str| all.iter().find(|m| m.mount_point == mp).unwrap();
        assert!(super_ro(by_mp("/mnt/local/boot")));
        assert!(
            !super_ro(by_mp("/srv/var")),
            "a read-only bind of a read-write filesystem"
        );
    }

    #[test]
    fn only_read_only_leaves_under_a_released_parent_are_detached() {
        let all = parse(CHROOT);
        let rel = releasable(&all);
        let d: Vec<&str> = detachable(&rel, &all)
            .iter()
            .map(|m| m.mount_point.as_str())
            .collect();
        assert_eq!(d, ["/mnt/local/boot"]);
        // Read-only but with a mount on it: not a leaf.
        let text = CHROOT.replace(
            "/mnt/local/boot rw,relatime - ext4 /dev/vdb ro",
            "/mnt/local/boot ro - ext4 /dev/vdb ro",
        ) + "37 31 0:23 / /mnt/local/boot/efi rw - vfat /dev/vdc1 rw\n";
        let all = parse(&text);
        let rel = releasable(&all);
        assert!(detachable(&rel, &all).is_empty());
        // Read-only under the rescue system's root: nothing to gain.
        let all = parse(
            "1 1 0:2 / / rw - rootfs rootfs rw\n40 1 7:0 / /mnt/img ro - ext4 /dev/loop0 ro\n",
        );
        let rel = releasable(&all);
        assert!(detachable(&rel, &all).is_empty());
    }
}

//! Stacked block devices as sysfs shows them (`/sys/block/<name>/...`):
//! bound loop devices, md arrays, device-mapper devices, and which of them
//! lie under the rescue system's own root. `sys` is the sysfs root, a
//! parameter so tests can use a fixture tree.

use crate::mountinfo::MountInfo;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loop {
    /// `loop0`.
    pub name: String,
    pub backing: String,
    pub autoclear: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Md {
    /// `md127`.
    pub name: String,
    /// `array_state`: clear, inactive, active, clean, readonly, ...
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dm {
    /// `dm-0`.
    pub name: String,
    /// The device-mapper name (`vg-root`, `luks-...`).
    pub dm_name: String,
    /// Devices stacked on this one (`holders/`): they must go first.
    pub holders: Vec<String>,
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim_end_matches('\n').to_string())
}

/// Names in `sys/block` starting with `prefix`, in numeric order.
fn block_names(sys: &Path, prefix: &str) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(sys.join("block")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect();
    crate::sort::sort_by_key(&mut names, |n| natural_key(n));
    names
}

/// `loop10` after `loop9`: (text before the number, the number, the rest).
fn natural_key(name: &str) -> (String, u64, String) {
    let start = name
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(name.len());
    let end = name[start..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(name.len(), |i| start + i);
    (
        name[..start].to_string(),
        name[start..end].parse().unwrap_or(0),
        name[end..].to_string(),
    )
}

fn list(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    crate::sort::sort_by_key(&mut v, |n| natural_key(n));
    v
}

/// Loop devices bound to a backing file (`loop/` exists only then).
pub fn loops(sys: &Path) -> Vec<Loop> {
    block_names(sys, "loop")
        .into_iter()
        .filter_map(|name| {
            let dir = sys.join("block").join(&name).join("loop");
            let backing = read_trimmed(&dir.join("backing_file"))?;
            let autoclear = read_trimmed(&dir.join("autoclear")).is_some_and(|s| s == "1");
            Some(Loop {
                name,
                backing,
                autoclear,
            })
        })
        .collect()
}

/// md arrays (with an `md/array_state`), including stopped ones (`clear`).
pub fn mds(sys: &Path) -> Vec<Md> {
    block_names(sys, "md")
        .into_iter()
        .filter_map(|name| {
            let state = read_trimmed(&sys.join("block").join(&name).join("md/array_state"))?;
            Some(Md { name, state })
        })
        .collect()
}

/// Device-mapper devices, those with nothing stacked on them first.
pub fn dms(sys: &Path) -> Vec<Dm> {
    let mut v: Vec<Dm> = block_names(sys, "dm-")
        .into_iter()
        .filter_map(|name| {
            let dir = sys.join("block").join(&name);
            let dm_name = read_trimmed(&dir.join("dm/name"))?;
            let holders = list(&dir.join("holders"));
            Some(Dm {
                name,
                dm_name,
                holders,
            })
        })
        .collect();
    crate::sort::sort_by_key(&mut v, |d| !d.holders.is_empty());
    v
}

/// The kernel name (`dm-0`, `vda2`) of block device `major:minor`, from
/// the `sys/dev/block/M:m` link.
pub fn dev_name(sys: &Path, major: u32, minor: u32) -> Option<String> {
    let link = std::fs::read_link(sys.join(format!("dev/block/{major}:{minor}"))).ok()?;
    link.file_name()?.to_str().map(str::to_string)
}

/// `name` and every device under it (`slaves/`, recursively).
pub fn with_slaves(sys: &Path, name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        if seen.insert(n.clone()) {
            todo.extend(list(&sys.join("block").join(&n).join("slaves")));
        }
    }
    seen
}

/// The devices the rescue system's own root (`/`) lives on: never
/// detached, stopped or removed. Empty for an initramfs root (no device).
pub fn protected(sys: &Path, mounts: &[MountInfo]) -> BTreeSet<String> {
    // Inserted one by one: collecting into a BTreeSet sorts with std's
    // stable sort, kilobytes of code in the init for this one call.
    let mut set = BTreeSet::new();
    mounts
        .iter()
        .filter(|m| m.mount_point == "/" && m.major != 0)
        .filter_map(|m| dev_name(sys, m.major, m.minor))
        .flat_map(|n| with_slaves(sys, &n))
        .for_each(|n| {
            set.insert(n);
        });
    set
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A fresh directory, unique per call: tests run in parallel.
    pub(crate) fn temp_dir(name: &str) -> PathBuf {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!("rescue-init-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    pub(crate) fn put(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn link(root: &Path, rel: &str, target: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    }

    /// vda2 <- md0 <- dm-0 (vg-root, the rescue root) <- dm-1 (crypt),
    /// plus dm-2 on its own, three loops (two bound), and md1 stopped.
    fn fixture() -> PathBuf {
        let s = temp_dir("sysfs");
        put(&s, "block/loop0/loop/backing_file", "/mnt/local/img.ext4\n");
        put(&s, "block/loop0/loop/autoclear", "0\n");
        put(
            &s,
            "block/loop10/loop/backing_file",
            "/mnt/local/big image (deleted)\n",
        );
        put(&s, "block/loop10/loop/autoclear", "1\n");
        std::fs::create_dir_all(s.join("block/loop2")).unwrap();
        put(&s, "block/md0/md/array_state", "clean\n");
        put(&s, "block/md1/md/array_state", "clear\n");
        std::fs::create_dir_all(s.join("block/md0/slaves/vda2")).unwrap();
        put(&s, "block/dm-0/dm/name", "vg-root\n");
        std::fs::create_dir_all(s.join("block/dm-0/holders/dm-1")).unwrap();
        std::fs::create_dir_all(s.join("block/dm-0/slaves/md0")).unwrap();
        put(&s, "block/dm-1/dm/name", "crypt\n");
        std::fs::create_dir_all(s.join("block/dm-1/slaves/dm-0")).unwrap();
        put(&s, "block/dm-2/dm/name", "other\n");
        std::fs::create_dir_all(s.join("block/vda")).unwrap();
        link(&s, "dev/block/253:0", "../../devices/virtual/block/dm-0");
        s
    }

    #[test]
    fn reads_loops_mds_and_dms() {
        let s = fixture();
        let loops = loops(&s);
        assert_eq!(
            loops,
            vec![
                Loop {
                    name: "loop0".into(),
                    backing: "/mnt/local/img.ext4".into(),
                    autoclear: false
                },
                Loop {
                    name: "loop10".into(),
                    backing: "/mnt/local/big image (deleted)".into(),
                    autoclear: true
                },
            ]
        );
        let mds = mds(&s);
        assert_eq!(mds.len(), 2);
        assert_eq!(
            (mds[0].name.as_str(), mds[0].state.as_str()),
            ("md0", "clean")
        );
        assert_eq!(mds[1].state, "clear");
        let dms = dms(&s);
        let names: Vec<&str> = dms.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["dm-1", "dm-2", "dm-0"], "holders last");
        assert_eq!(dms[2].dm_name, "vg-root");
        assert_eq!(dms[2].holders, ["dm-1"]);
        std::fs::remove_dir_all(&s).unwrap();
    }

    #[test]
    fn protects_the_roots_device_stack() {
        let s = fixture();
        let mi = |major, mount_point: &str| MountInfo {
            id: 1,
            parent: 0,
            major,
            minor: 0,
            root: "/".into(),
            mount_point: mount_point.into(),
            options: "rw".into(),
            fstype: "ext4".into(),
            source: "/dev/mapper/vg-root".into(),
            super_options: "rw".into(),
        };
        assert_eq!(dev_name(&s, 253, 0).as_deref(), Some("dm-0"));
        assert_eq!(dev_name(&s, 253, 9), None);
        let p = protected(&s, &[mi(253, "/"), mi(253, "/mnt")]);
        let want: BTreeSet<String> = ["dm-0", "md0", "vda2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(p, want);
        assert!(
            protected(&s, &[mi(0, "/")]).is_empty(),
            "an initramfs root has no device"
        );
        std::fs::remove_dir_all(&s).unwrap();
    }

    #[test]
    fn natural_order() {
        assert!(natural_key("loop9") < natural_key("loop10"));
        assert!(natural_key("dm-2") < natural_key("dm-11"));
        assert_eq!(natural_key("md"), ("md".into(), 0, "".into()));
    }
}

//! Who holds a mount that would not go: every process with an open file
//! (fd), a cwd or root, or a file mapping on it, read from /proc without
//! touching the filesystems themselves (readlink and fdinfo only; maps are
//! matched by device number). `proc` is the /proc root, a parameter so the
//! tests can use a fake tree.

use std::collections::BTreeMap;
use std::path::Path;

/// A mount whose holders are wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub mnt_id: u32,
    pub major: u32,
    pub minor: u32,
    pub mount_point: String,
}

impl From<&crate::mountinfo::MountInfo> for Target {
    fn from(m: &crate::mountinfo::MountInfo) -> Self {
        Target {
            mnt_id: m.id,
            major: m.major,
            minor: m.minor,
            mount_point: m.mount_point.clone(),
        }
    }
}

/// Most items named per process and mount.
const MAX_ITEMS: usize = 6;

/// One line per process and mount it holds, e.g.
/// `pid 312 (sleep) holds /mnt/local: cwd /mnt/local/var, fd 3 /mnt/local/x.log`.
pub fn report(proc: &Path, targets: &[Target]) -> Vec<String> {
    if targets.is_empty() {
        return Vec::new();
    }
    let Ok(rd) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    crate::sort::sort(&mut pids);
    let mut lines = Vec::new();
    for pid in pids {
        let dir = proc.join(pid.to_string());
        let mut held: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        scan_process(&dir, targets, &mut |t, item| {
            let items = held.entry(t).or_default();
            if !items.contains(&item) {
                items.push(item);
            }
        });
        if held.is_empty() {
            continue;
        }
        let comm = std::fs::read_to_string(dir.join("comm"))
            .map(|c| c.trim_end().to_string())
            .unwrap_or_else(|_| "?".into());
        for (t, items) in held {
            let more = items.len().saturating_sub(MAX_ITEMS);
            let mut text = items
                .into_iter()
                .take(MAX_ITEMS)
                .collect::<Vec<_>>()
                .join(", ");
            if more > 0 {
                text.push_str(&format!(" and {more} more"));
            }
            lines.push(format!(
                "pid {pid} ({comm}) holds {}: {text}",
                targets[t].mount_point
            ));
        }
    }
    lines
}

fn scan_process(dir: &Path, targets: &[Target], add: &mut impl FnMut(usize, String)) {
    for what in ["cwd", "root"] {
        if let Some(path) = link(&dir.join(what)) {
            if let Some(t) = by_path(targets, &path) {
                add(t, format!("{what} {path}"));
            }
        }
    }
    let mut fds: Vec<u32> = std::fs::read_dir(dir.join("fd"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    crate::sort::sort(&mut fds);
    for fd in fds {
        let Some(path) = link(&dir.join("fd").join(fd.to_string())) else {
            continue;
        };
        let info = std::fs::read_to_string(dir.join("fdinfo").join(fd.to_string())).ok();
        let t = match info.as_deref().and_then(fdinfo_mnt_id) {
            Some(id) => targets.iter().position(|t| t.mnt_id == id),
            None => by_path(targets, &path),
        };
        if let Some(t) = t {
            add(t, format!("fd {fd} {path}"));
        }
    }
    if let Ok(maps) = std::fs::read_to_string(dir.join("maps")) {
        for (major, minor, path) in maps.lines().filter_map(parse_maps_line) {
            if let Some(t) = by_dev(targets, major, minor, path) {
                add(t, format!("map {path}"));
            }
        }
    }
}

fn link(p: &Path) -> Option<String> {
    std::fs::read_link(p)
        .ok()
        .map(|l| l.to_string_lossy().into_owned())
}

/// Whether `path` is `mp` or below it.
fn under(path: &str, mp: &str) -> bool {
    match path.strip_prefix(mp) {
        Some(rest) => {
            rest.is_empty() || rest.starts_with('/') || rest.starts_with(" (deleted)") || mp == "/"
        }
        None => false,
    }
}

/// The deepest target whose mount point contains `path`.
fn by_path(targets: &[Target], path: &str) -> Option<usize> {
    targets
        .iter()
        .enumerate()
        .filter(|(_, t)| path.starts_with('/') && under(path, &t.mount_point))
        .max_by_key(|(_, t)| t.mount_point.len())
        .map(|(i, _)| i)
}

/// A target on device `major:minor`; among several (bind mounts) the one
/// whose mount point contains `path`.
fn by_dev(targets: &[Target], major: u32, minor: u32, path: &str) -> Option<usize> {
    let same: Vec<usize> = (0..targets.len())
        .filter(|&i| targets[i].major == major && targets[i].minor == minor)
        .collect();
    match same.as_slice() {
        [] => None,
        [one] => Some(*one),
        several => by_path(targets, path)
            .filter(|i| several.contains(i))
            .or(Some(several[0])),
    }
}

/// The `mnt_id:` line of /proc/PID/fdinfo/FD (Linux 3.15+).
fn fdinfo_mnt_id(text: &str) -> Option<u32> {
    text.lines()
        .find_map(|l| l.strip_prefix("mnt_id:")?.trim().parse().ok())
}

/// `addr perms offset MM:mm inode path`: the device (hex) and path of a
/// file mapping; None for anonymous ones (inode 0).
fn parse_maps_line(line: &str) -> Option<(u32, u32, &str)> {
    let mut f = line.splitn(6, ' ');
    let (_addr, _perms, _off) = (f.next()?, f.next()?, f.next()?);
    let (major, minor) = f.next()?.split_once(':')?;
    let inode = f.next()?;
    if inode == "0" {
        return None;
    }
    let path = f.next().map(str::trim_start).unwrap_or("");
    let major = u32::from_str_radix(major, 16).ok()?;
    let minor = u32::from_str_radix(minor, 16).ok()?;
    Some((major, minor, path))
}

#[cfg(test)]
mod tests {
    use super::super::blockdev::tests::{put, temp_dir};
    use super::*;
    use std::os::unix::fs::symlink;

    fn ln(root: &Path, rel: &str, target: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, p).unwrap();
    }

    fn targets() -> Vec<Target> {
        let t = |mnt_id, minor, mp: &str| Target {
            mnt_id,
            major: 254,
            minor,
            mount_point: mp.into(),
        };
        vec![
            t(30, 0, "/mnt/local"),
            t(31, 16, "/mnt/local/boot"),
            t(32, 0, "/srv/var"),
        ]
    }

    #[test]
    fn names_fd_cwd_root_and_map_holders() {
        let p = temp_dir("proc");
        // 100: cwd in /mnt/local/boot, fd 3 on /mnt/local (fdinfo), fd 4
        // a pipe, fd 5 deleted file under /mnt/local without fdinfo.
        put(&p, "100/comm", "sleep\n");
        ln(&p, "100/cwd", "/mnt/local/boot/grub");
        ln(&p, "100/root", "/");
        ln(&p, "100/fd/3", "/mnt/local/var/log/x.log");
        put(
            &p,
            "100/fdinfo/3",
            "pos:\t0\nflags:\t02100002\nmnt_id:\t30\nino:\t12\n",
        );
        ln(&p, "100/fd/4", "pipe:[1234]");
        ln(&p, "100/fd/5", "/mnt/local/tmp/gone (deleted)");
        // 200: the bind mount at /srv/var is the same device as
        // /mnt/local: fd told apart by mnt_id, the map by its path.
        put(&p, "200/comm", "my daemon\n");
        ln(&p, "200/cwd", "/");
        ln(&p, "200/root", "/srv/var/chroot");
        ln(&p, "200/fd/7", "/srv/var/lib/db");
        put(&p, "200/fdinfo/7", "pos:\t0\nmnt_id:\t32\n");
        put(
            &p,
            "200/maps",
            "55d0c0a00000-55d0c0a21000 r--p 00000000 00:1a 77 /bin/busybox\n\
             7f0000000000-7f0000001000 r-xp 00000000 fe:00 1234 /srv/var/lib/libx.so\n\
             7f0000001000-7f0000002000 rw-p 00000000 fe:00 1234 /srv/var/lib/libx.so\n\
             7f0000002000-7f0000003000 rw-p 00000000 00:00 0 \n\
             7f0000003000-7f0000004000 r--p 00000000 fe:10 99 /mnt/local/boot/map with space\n",
        );
        // 300: holds nothing; "self" and other names are not pids.
        put(&p, "300/comm", "idle\n");
        ln(&p, "300/cwd", "/root");
        std::fs::create_dir_all(p.join("self")).unwrap();
        let lines = report(&p, &targets());
        assert_eq!(
            lines,
            [
                "pid 100 (sleep) holds /mnt/local: fd 3 /mnt/local/var/log/x.log, fd 5 /mnt/local/tmp/gone (deleted)",
                "pid 100 (sleep) holds /mnt/local/boot: cwd /mnt/local/boot/grub",
                "pid 200 (my daemon) holds /mnt/local/boot: map /mnt/local/boot/map with space",
                "pid 200 (my daemon) holds /srv/var: root /srv/var/chroot, fd 7 /srv/var/lib/db, map /srv/var/lib/libx.so",
            ]
        );
        assert!(report(&p, &[]).is_empty());
        std::fs::remove_dir_all(&p).unwrap();
    }

    #[test]
    fn path_and_map_parsing() {
        assert!(under("/mnt/local", "/mnt/local"));
        assert!(under("/mnt/local/x", "/mnt/local"));
        assert!(under("/mnt/local (deleted)", "/mnt/local"));
        assert!(!under("/mnt/localx", "/mnt/local"));
        assert_eq!(
            parse_maps_line("a-b r--p 0 fd:01 5 /x y"),
            Some((0xfd, 1, "/x y"))
        );
        assert_eq!(parse_maps_line("a-b rw-p 0 00:00 0 [heap]"), None);
        assert_eq!(parse_maps_line("a-b rw-p 0 00:05 7"), Some((0, 5, "")));
        assert_eq!(fdinfo_mnt_id("pos:\t0\nmnt_id:\t27\n"), Some(27));
        assert_eq!(fdinfo_mnt_id("pos:\t0\n"), None);
    }
}

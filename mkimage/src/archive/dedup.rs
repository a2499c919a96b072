//! `--dedup`: regular files with equal contents, mode, owner and mtime
//! are stored once, as hard links of one inode (the kernel then makes
//! hard links too).
//!
//! Files are grouped by size and attributes, then by a hash of their
//! contents, and finally compared byte by byte. A group's identity is its
//! first member in entry (byte) order, so the choice is deterministic.

use std::collections::BTreeMap;
use std::fs::File;
use std::hash::Hasher;
use std::io::{self, Read};
use std::path::Path;

use crate::archive::error::ArchiveError;
use crate::tree::{Entry, Kind};

/// Link identity of a deduplicated group that had none: no real device
/// number is all ones.
const SYNTHETIC_DEV: u64 = u64::MAX;

/// What must be equal for two files to share an inode.
type Key = (u64, u32, u32, u32, u32);

fn key(e: &Entry, mtime: u32) -> Option<Key> {
    match &e.kind {
        Kind::File { size, .. } if *size > 0 => Some((*size, e.perm, e.uid, e.gid, mtime)),
        _ => None,
    }
}

fn src(e: &Entry) -> &Path {
    match &e.kind {
        Kind::File { src, .. } => src,
        _ => unreachable!("only regular files are candidates"),
    }
}

fn read_err(path: &Path) -> impl Fn(io::Error) -> ArchiveError + '_ {
    move |cause| ArchiveError::Read {
        path: path.to_path_buf(),
        cause,
    }
}

/// Makes identical files hard links of each other; `mtime` gives each
/// entry's stored mtime. Returns how many entries lost their own data.
pub fn dedup(
    entries: &mut [(Vec<u8>, Entry)],
    mtime: impl Fn(&Entry) -> u32,
) -> Result<usize, ArchiveError> {
    let mut buckets: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for (i, (_, e)) in entries.iter().enumerate() {
        if let Some(k) = key(e, mtime(e)) {
            buckets.entry(k).or_default().push(i);
        }
    }
    let mut merged = 0;
    for members in buckets.into_values().filter(|m| m.len() > 1) {
        for class in classes(entries, &members)? {
            merged += link(entries, &class);
        }
    }
    Ok(merged)
}

/// Splits same-key files into classes of equal contents (each in entry
/// order, first member first).
fn classes(
    entries: &[(Vec<u8>, Entry)],
    members: &[usize],
) -> Result<Vec<Vec<usize>>, ArchiveError> {
    let mut by_hash: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for &i in members {
        let path = src(&entries[i].1);
        by_hash
            .entry(hash(path).map_err(read_err(path))?)
            .or_default()
            .push(i);
    }
    let mut classes: Vec<Vec<usize>> = Vec::new();
    for same_hash in by_hash.into_values().filter(|m| m.len() > 1) {
        let mut local: Vec<Vec<usize>> = Vec::new();
        for i in same_hash {
            let e = &entries[i].1;
            let mut found = None;
            for (c, class) in local.iter().enumerate() {
                let rep = &entries[class[0]].1;
                if same_file(rep, e) || equal(src(rep), src(e))? {
                    found = Some(c);
                    break;
                }
            }
            match found {
                Some(c) => local[c].push(i),
                None => local.push(vec![i]),
            }
        }
        classes.extend(local.into_iter().filter(|c| c.len() > 1));
    }
    Ok(classes)
}

/// Already hard links of each other in the input.
fn same_file(a: &Entry, b: &Entry) -> bool {
    a.link_id.is_some() && a.link_id == b.link_id
}

/// Gives every member the first member's link identity; returns the
/// number of members that were not linked to it before.
fn link(entries: &mut [(Vec<u8>, Entry)], class: &[usize]) -> usize {
    let first = class[0];
    let id = entries[first]
        .1
        .link_id
        .unwrap_or((SYNTHETIC_DEV, first as u64));
    let mut merged = 0;
    for &i in class {
        let e = &mut entries[i].1;
        if i != first && e.link_id != Some(id) {
            merged += 1;
        }
        e.link_id = Some(id);
    }
    merged
}

fn hash(path: &Path) -> io::Result<u64> {
    // Fixed keys: the same hash for the same bytes within a run.
    let mut h = std::hash::DefaultHasher::new();
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match f.read(&mut buf)? {
            0 => return Ok(h.finish()),
            n => h.write(&buf[..n]),
        }
    }
}

/// Whether two files have the same bytes.
fn equal(a: &Path, b: &Path) -> Result<bool, ArchiveError> {
    let mut fa = File::open(a).map_err(read_err(a))?;
    let mut fb = File::open(b).map_err(read_err(b))?;
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = fill(&mut fa, &mut ba).map_err(read_err(a))?;
        let m = fill(&mut fb, &mut bb).map_err(read_err(b))?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the file ends.
fn fill(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, data: &[u8]) -> (Vec<u8>, Entry) {
        let src = dir.join(name);
        std::fs::write(&src, data).unwrap();
        let mut e = Entry::dir(0o644);
        e.kind = Kind::File {
            src,
            size: data.len() as u64,
        };
        (name.as_bytes().to_vec(), e)
    }

    #[test]
    fn equal_files_share_the_first_ones_identity() {
        let dir = std::env::temp_dir().join(format!("mkimage-dedup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut entries = vec![
            file(&dir, "a", b"same"),
            file(&dir, "b", b"diff"),
            file(&dir, "c", b"same"),
            file(&dir, "d", b""),
            file(&dir, "e", b""),
        ];
        assert_eq!(dedup(&mut entries, |_| 0).unwrap(), 1);
        let ids: Vec<_> = entries.iter().map(|(_, e)| e.link_id).collect();
        let id = Some((SYNTHETIC_DEV, 0));
        assert_eq!(ids, [id, None, id, None, None]);
        // Different mtimes keep files apart.
        let mut entries = vec![file(&dir, "a", b"same"), file(&dir, "c", b"same")];
        let by_name = |e: &Entry| (src(e) == dir.join("a")) as u32;
        assert_eq!(dedup(&mut entries, by_name).unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The image's file tree: entries keyed by their path in the image.
//!
//! Paths are stored as bytes without a leading `/` (`dev/console`), so a
//! `BTreeMap` keeps them in byte order, which also puts every directory
//! before its children (a prefix sorts before its extensions).

pub(crate) mod bins;
mod entry;
pub(crate) mod exclude;

pub use entry::{Entry, Kind};

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Longest image path the kernel unpacks: PATH_MAX (4096) with the NUL.
pub const MAX_NAME: usize = 4095;
/// Longest symlink target the kernel unpacks (PATH_MAX with the NUL).
pub const MAX_TARGET: usize = 4095;
/// Symlinks followed for one path at most, as the kernel's MAXSYMLINKS.
const MAX_HOPS: usize = 40;

/// Shows an image path as `/a/b`, lossy for non-UTF-8 bytes, escaped
/// as [`escaped`].
pub fn show(name: &[u8]) -> String {
    format!("/{}", escaped(name))
}

/// `bytes` for a message: control characters and `\` as `\xNN`, as
/// `list` shows names, so that a name cannot rewrite the terminal.
pub fn escaped(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for c in String::from_utf8_lossy(bytes).chars() {
        if c < ' ' || c == '\x7f' || c == '\\' {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("cannot read {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("{} is not a directory", path.display())]
    NotADir { path: PathBuf },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("image path {} escapes the image root ('..' is not allowed)", .path.to_string_lossy())]
    Escapes { path: OsString },
    #[error("image path {:?} names the image root itself", .path.to_string_lossy())]
    Root { path: OsString },
    #[error("image path {} is {len} bytes long; the kernel's initramfs limit is {MAX_NAME}", show(.name))]
    NameTooLong { name: Vec<u8>, len: usize },
    #[error("symlink {} has a target of {len} bytes; the kernel's limit is {MAX_TARGET}", .path.display())]
    TargetTooLong { path: PathBuf, len: usize },
    #[error("{} is not a directory in the image, but {} is inside it", show(.parent), show(.child))]
    ParentNotDir { parent: Vec<u8>, child: Vec<u8> },
}

fn read_err(path: &Path) -> impl FnOnce(io::Error) -> TreeError + '_ {
    move |cause| TreeError::Read {
        path: path.to_path_buf(),
        cause,
    }
}

/// Turns a user-given image path (`/etc/x`, `etc//./x`) into the stored
/// form (`etc/x`). `..` is refused rather than resolved.
pub fn normalize(path: &OsStr) -> Result<Vec<u8>, TreeError> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.as_bytes().split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                return Err(TreeError::Escapes {
                    path: path.to_os_string(),
                })
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(TreeError::Root {
            path: path.to_os_string(),
        });
    }
    Ok(parts.join(&b'/'))
}

/// The parent directories of `name`, nearest first.
fn ancestors(name: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = name;
    std::iter::from_fn(move || {
        let cut = rest.iter().rposition(|&b| b == b'/')?;
        rest = &rest[..cut];
        Some(rest)
    })
}

/// Entries of the image, in the making.
#[derive(Debug, Default)]
pub struct Tree {
    entries: BTreeMap<Vec<u8>, Entry>,
}

impl Tree {
    /// The entry at `name`, found through the tree's symlinks.
    pub fn get(&self, name: &[u8]) -> Option<&Entry> {
        self.entries.get(&self.resolve(name, false))
    }

    /// Whether `name` is a directory of the tree: a directory entry, or
    /// the parent of some entry (made a directory by [`Tree::into_entries`]).
    pub fn has_dir(&self, name: &[u8]) -> bool {
        let name = &self.resolve(name, false)[..];
        if let Some(e) = self.entries.get(name) {
            return e.is_dir();
        }
        let start = [name, b"/"].concat();
        let end = [name, b"0"].concat(); // '0' follows '/' in ASCII
        self.entries.range(start..end).next().is_some()
    }

    /// Adds or replaces `name`. A directory replacing a directory keeps
    /// its children; anything else replacing a directory drops them.
    ///
    /// Symlinks among the parents of `name` are followed, as the kernel
    /// follows them when it unpacks: on a merged-/usr tree (`sbin ->
    /// usr/sbin`) `sbin/halt` lands in `usr/sbin`, never beside the link.
    /// For the same reason a directory does not replace a symlink that
    /// leads to one (or to nothing yet): its contents go where it leads.
    pub fn insert(&mut self, name: Vec<u8>, entry: Entry) -> Result<(), TreeError> {
        let name = self.resolve(&name, false);
        if name.len() > MAX_NAME {
            let len = name.len();
            return Err(TreeError::NameTooLong { name, len });
        }
        let old = self.entries.get(&name);
        if entry.is_dir() && old.is_some_and(|e| matches!(e.kind, Kind::Symlink { .. })) {
            let target = self.resolve(&name, true);
            if self.has_dir(&target) || !self.entries.contains_key(&target) {
                return Ok(());
            }
        }
        if !entry.is_dir() && self.entries.get(&name).is_some_and(Entry::is_dir) {
            self.remove_children(&name);
        }
        self.entries.insert(name, entry);
        Ok(())
    }

    /// `name` with the symlinks of the tree among its parents followed
    /// (and the last component's too, with `last`). A loop or a chain
    /// longer than the kernel's MAXSYMLINKS leaves `name` as it is.
    pub fn resolve(&self, name: &[u8], last: bool) -> Vec<u8> {
        let mut pending: VecDeque<&[u8]> = name.split(|&b| b == b'/').collect();
        let tail = if last { None } else { pending.pop_back() };
        let mut path: Vec<&[u8]> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop_front() {
            match part {
                b"" | b"." => continue,
                b".." => {
                    path.pop();
                    continue;
                }
                _ => path.push(part),
            }
            let Some(Entry {
                kind: Kind::Symlink { target },
                ..
            }) = self.entries.get(&path.join(&b'/'))
            else {
                continue;
            };
            hops += 1;
            if hops > MAX_HOPS {
                return name.to_vec();
            }
            path.pop();
            if target.starts_with(b"/") {
                path.clear();
            }
            for p in target.split(|&b| b == b'/').rev() {
                pending.push_front(p);
            }
        }
        path.extend(tail);
        path.join(&b'/')
    }

    /// Leaves out every entry that `exclude` matches, with what is below
    /// it; returns how many entries matched.
    pub fn exclude(&mut self, exclude: &exclude::Exclude) -> usize {
        let doomed: Vec<Vec<u8>> = self
            .entries
            .keys()
            .filter(|name| exclude.matches(name))
            .cloned()
            .collect();
        for name in &doomed {
            self.remove(name);
        }
        doomed.len()
    }

    /// Adds `name` unless something is there already.
    pub fn insert_default(&mut self, name: &[u8], entry: Entry) -> Result<(), TreeError> {
        if self.get(name).is_none() {
            self.insert(name.to_vec(), entry)?;
        }
        Ok(())
    }

    /// Removes `name` and everything below it.
    pub fn remove(&mut self, name: &[u8]) {
        self.remove_children(name);
        self.entries.remove(name);
    }

    fn remove_children(&mut self, name: &[u8]) {
        let start = [name, b"/"].concat();
        let end = [name, b"0"].concat(); // '0' follows '/' in ASCII
        let doomed: Vec<Vec<u8>> = self
            .entries
            .range(start..end)
            .map(|(k, _)| k.clone())
            .collect();
        for key in doomed {
            self.entries.remove(&key);
        }
    }

    /// Adds the contents of directory `root` (not `root` itself); later
    /// calls overlay earlier ones.
    pub fn add_dir(&mut self, root: &Path, keep_owners: bool) -> Result<(), TreeError> {
        self.add_dir_at(root, Vec::new(), keep_owners)
    }

    /// Adds the contents of directory `root` below image path `prefix`
    /// (the root of the image if empty).
    pub fn add_dir_at(
        &mut self,
        root: &Path,
        prefix: Vec<u8>,
        keep_owners: bool,
    ) -> Result<(), TreeError> {
        let meta = fs::metadata(root).map_err(read_err(root))?;
        if !meta.is_dir() {
            return Err(TreeError::NotADir {
                path: root.to_path_buf(),
            });
        }
        let mut stack = vec![(root.to_path_buf(), prefix)];
        while let Some((dir, prefix)) = stack.pop() {
            for item in fs::read_dir(&dir).map_err(read_err(&dir))? {
                let item = item.map_err(read_err(&dir))?;
                let path = item.path();
                let meta = item.metadata().map_err(read_err(&path))?;
                let entry = entry_from(&path, &meta, keep_owners)?;
                let mut name = prefix.clone();
                if !name.is_empty() {
                    name.push(b'/');
                }
                name.extend_from_slice(item.file_name().as_bytes());
                if entry.is_dir() {
                    stack.push((path, name.clone()));
                }
                self.insert(name, entry)?;
            }
        }
        Ok(())
    }

    /// The finished entry list in byte order, with missing parent
    /// directories added as 0755 root-owned directories.
    pub fn into_entries(mut self) -> Result<Vec<(Vec<u8>, Entry)>, TreeError> {
        let mut missing = BTreeSet::new();
        for name in self.entries.keys() {
            for parent in ancestors(name) {
                match self.entries.get(parent) {
                    Some(e) if e.is_dir() => break,
                    Some(_) => {
                        return Err(TreeError::ParentNotDir {
                            parent: parent.to_vec(),
                            child: name.clone(),
                        })
                    }
                    None => {
                        if !missing.insert(parent.to_vec()) {
                            break;
                        }
                    }
                }
            }
        }
        for name in missing {
            self.entries.insert(name, Entry::dir(0o755));
        }
        Ok(self.entries.into_iter().collect())
    }
}

mod source;
use source::entry_from;
pub use source::file_entry;

#[cfg(test)]
mod tests;

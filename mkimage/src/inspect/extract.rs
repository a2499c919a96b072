//! `mkimage extract`: unpacks every segment of an image into a directory,
//! as the kernel would unpack it into its rootfs (like `unmkinitramfs`).
//!
//! Later entries replace earlier ones at the same path, also across
//! segments. Nothing is ever written outside the target directory: names
//! with `..` are refused, a leading `/` or `./` is dropped, and no path is
//! written through a symlink (every parent component is checked with
//! `lstat`, and final components are never followed).

mod xfs;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::cpio::{self, CopyError, Header};
use crate::inspect::segments::{self, EntryReader, Failure, ListError, Visitor};
use crate::tree::{escaped, show, MAX_TARGET};

/// A path under the target directory for a message: it holds a name
/// from the image, escaped as [`show`] does.
fn shown(path: &Path) -> String {
    escaped(path.as_os_str().as_bytes())
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("entry {}: '..' is not allowed in a name (it would escape the target directory)", show(.name))]
    Escapes { name: Vec<u8> },
    #[error("entry {}: {} is a symlink; refusing to write through it", show(.name), shown(.path))]
    ThroughSymlink { name: Vec<u8>, path: PathBuf },
    #[error("entry {}: {} exists and is not a directory", show(.name), shown(.path))]
    NotADir { name: Vec<u8>, path: PathBuf },
    #[error("entry {}: cannot create {}: {cause}", show(.name), shown(.path))]
    Create {
        name: Vec<u8>,
        path: PathBuf,
        cause: io::Error,
    },
    #[error("cannot set the mode or mtime of {}: {cause}", shown(.path))]
    Finish { path: PathBuf, cause: io::Error },
    #[error("cannot create the target directory {}: {cause}", shown(.path))]
    Root { path: PathBuf, cause: io::Error },
    #[error(transparent)]
    Image(#[from] ListError),
}

/// What was extracted.
#[derive(Debug, Default)]
pub struct Summary {
    pub entries: usize,
    pub segments: Vec<&'static str>,
    pub warnings: Vec<String>,
}

/// Extracts the image at `image` into `dir` (created if missing).
pub fn extract(image: &Path, dir: &Path) -> Result<Summary, ExtractError> {
    fs::DirBuilder::new()
        .recursive(true)
        .create(dir)
        .map_err(|cause| ExtractError::Root {
            path: dir.to_path_buf(),
            cause,
        })?;
    let mut x = Extractor {
        root: dir.to_path_buf(),
        links: HashMap::new(),
        dirs: BTreeMap::new(),
        root_user: xfs::is_root(),
        summary: Summary::default(),
    };
    let result = segments::walk_file(image, &mut x);
    // Directory modes and mtimes are set even after a failure, so that
    // what was extracted is not left writable by everybody's accident.
    let finished = x.finish_dirs();
    x.summary.segments = result?;
    finished?;
    Ok(x.summary)
}

/// Identity of a hard link group inside one archive, as the kernel keys
/// it: device, inode and mode.
type LinkKey = (u32, u32, u32, u32);

struct Extractor {
    root: PathBuf,
    /// The first path of each hard link group of the current archive.
    links: HashMap<LinkKey, Vec<Vec<u8>>>,
    /// Directories with their final mode and mtime, set at the end.
    dirs: BTreeMap<PathBuf, (u32, u32)>,
    root_user: bool,
    summary: Summary,
}

fn visit(e: ExtractError) -> Failure {
    Failure::Visit(Box::new(e))
}

/// The components of an entry name: a leading `/` and `.` components
/// are dropped, `..` is refused. Empty for the root itself.
pub fn components(name: &[u8]) -> Result<Vec<Vec<u8>>, ExtractError> {
    let mut parts = Vec::new();
    for part in name.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                return Err(ExtractError::Escapes {
                    name: name.to_vec(),
                })
            }
            _ => parts.push(part.to_vec()),
        }
    }
    Ok(parts)
}

impl Visitor for Extractor {
    fn entry(&mut self, h: Header, r: &mut EntryReader<'_>) -> Result<(), Failure> {
        let parts = components(&h.name).map_err(visit)?;
        if parts.is_empty() {
            return Ok(()); // the root: DIR itself
        }
        self.summary.entries += 1;
        let path = self.prepare(&h, &parts).map_err(visit)?;
        match h.file_type() {
            cpio::S_IFDIR => self.dir(&h, path).map_err(visit),
            cpio::S_IFREG => self.file(&h, &parts, path, r),
            cpio::S_IFLNK => {
                let target = r.read_data(MAX_TARGET as u32 + 1)?;
                self.symlink(&h, &path, &target).map_err(visit)
            }
            _ => self.node(&h, &path).map_err(visit),
        }
    }

    fn archive_end(&mut self) {
        self.links.clear();
    }
}

impl Extractor {
    fn create_err(&self, h: &Header, path: &Path) -> impl FnOnce(io::Error) -> ExtractError {
        let (name, path) = (h.name.clone(), path.to_path_buf());
        move |cause| ExtractError::Create { name, path, cause }
    }

    /// Checks (and makes) the parents of `parts`, none of them a symlink,
    /// and clears the way for the entry: anything at its path is removed
    /// unless both are directories. Returns the entry's path.
    fn prepare(&mut self, h: &Header, parts: &[Vec<u8>]) -> Result<PathBuf, ExtractError> {
        let path = self.parents(&h.name, parts, true)?;
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() && h.file_type() == cpio::S_IFDIR => {}
            Ok(m) if m.is_dir() => {
                fs::remove_dir_all(&path).map_err(self.create_err(h, &path))?;
                self.dirs.retain(|d, _| !d.starts_with(&path));
            }
            Ok(_) => fs::remove_file(&path).map_err(self.create_err(h, &path))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.create_err(h, &path)(e)),
        }
        Ok(path)
    }

    /// The path of `parts` below the root, after checking that every
    /// parent is a real directory (made if missing and `create`).
    fn parents(
        &self,
        name: &[u8],
        parts: &[Vec<u8>],
        create: bool,
    ) -> Result<PathBuf, ExtractError> {
        let mut path = self.root.clone();
        for part in &parts[..parts.len() - 1] {
            path.push(OsStr::from_bytes(part));
            let err = |cause| ExtractError::Create {
                name: name.to_vec(),
                path: path.clone(),
                cause,
            };
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(ExtractError::ThroughSymlink {
                        name: name.to_vec(),
                        path,
                    })
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(ExtractError::NotADir {
                        name: name.to_vec(),
                        path,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => fs::DirBuilder::new()
                    .mode(0o755)
                    .create(&path)
                    .map_err(err)?,
                Err(e) => return Err(err(e)),
            }
        }
        path.push(OsStr::from_bytes(&parts[parts.len() - 1]));
        Ok(path)
    }

    /// Directories are made owner-writable now; their real mode and
    /// mtime are set at the end, children first.
    fn dir(&mut self, h: &Header, path: PathBuf) -> Result<(), ExtractError> {
        if !path.is_dir() {
            let made = fs::DirBuilder::new().mode(0o700).create(&path);
            made.map_err(self.create_err(h, &path))?;
        }
        self.owner(h, &path)?;
        self.dirs.insert(path, (h.mode & 0o7777, h.mtime));
        Ok(())
    }

    fn file(
        &mut self,
        h: &Header,
        parts: &[Vec<u8>],
        path: PathBuf,
        r: &mut EntryReader<'_>,
    ) -> Result<(), Failure> {
        let linked = self.link(h, parts, &path).map_err(visit)?;
        let mut opts = OpenOptions::new();
        opts.write(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .mode(0o600);
        if !linked {
            opts.create_new(true);
        }
        let mut file = opts
            .open(&path)
            .map_err(|e| visit(self.create_err(h, &path)(e)))?;
        if linked && h.filesize > 0 {
            file.set_len(0)
                .map_err(|e| visit(self.create_err(h, &path)(e)))?;
        }
        r.copy_data(&mut file).map_err(|e| match e {
            CopyError::Read(e) => Failure::Read(e),
            CopyError::Write(e) => visit(self.create_err(h, &path)(e)),
        })?;
        drop(file);
        self.attributes(h, &path).map_err(visit)
    }

    /// Makes `path` a hard link of the group's first member if `h` is a
    /// later member of a group; true if it did.
    fn link(&mut self, h: &Header, parts: &[Vec<u8>], path: &Path) -> Result<bool, ExtractError> {
        if h.nlink < 2 {
            return Ok(false);
        }
        let key = (h.dev_major, h.dev_minor, h.ino, h.mode);
        let Some(first) = self.links.get(&key).cloned() else {
            self.links.insert(key, parts.to_vec());
            return Ok(false);
        };
        // Check the first member again: a later entry may have replaced
        // one of its parents with a symlink, or the member itself.
        let old = self.parents(&h.name, &first, false)?;
        match fs::symlink_metadata(&old) {
            Ok(m) if m.is_file() => {}
            _ => {
                self.links.insert(key, parts.to_vec());
                return Ok(false);
            }
        }
        fs::hard_link(&old, path).map_err(self.create_err(h, path))?;
        Ok(true)
    }

    fn symlink(&mut self, h: &Header, path: &Path, target: &[u8]) -> Result<(), ExtractError> {
        std::os::unix::fs::symlink(OsStr::from_bytes(target), path)
            .map_err(self.create_err(h, path))?;
        self.owner(h, path)?;
        xfs::set_mtime(path, h.mtime).map_err(self.create_err(h, path))
    }

    /// Device nodes, fifos and sockets; devices need root, so without it
    /// they are skipped with a warning.
    fn node(&mut self, h: &Header, path: &Path) -> Result<(), ExtractError> {
        match xfs::mknod(path, h.mode, h.rdev_major, h.rdev_minor) {
            Ok(()) => self.attributes(h, path),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                self.summary.warnings.push(format!(
                    "skipped {} (device node; needs root): {e}",
                    show(&h.name)
                ));
                Ok(())
            }
            Err(e) => Err(self.create_err(h, path)(e)),
        }
    }

    /// Owner, mode and mtime of a non-directory that is not a symlink.
    fn attributes(&self, h: &Header, path: &Path) -> Result<(), ExtractError> {
        self.owner(h, path)?;
        xfs::chmod(path, h.mode).map_err(self.create_err(h, path))?;
        xfs::set_mtime(path, h.mtime).map_err(self.create_err(h, path))
    }

    /// The owner, as root only (others cannot give files away).
    fn owner(&self, h: &Header, path: &Path) -> Result<(), ExtractError> {
        if !self.root_user {
            return Ok(());
        }
        std::os::unix::fs::lchown(path, Some(h.uid), Some(h.gid)).map_err(self.create_err(h, path))
    }

    fn finish_dirs(&mut self) -> Result<(), ExtractError> {
        for (path, (mode, mtime)) in std::mem::take(&mut self.dirs).into_iter().rev() {
            let err = |cause| ExtractError::Finish {
                path: path.clone(),
                cause,
            };
            xfs::chmod(&path, mode).map_err(err)?;
            xfs::set_mtime(&path, mtime).map_err(err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_and_dotdot_refused() {
        let parts = |n: &[u8]| components(n).unwrap();
        assert_eq!(parts(b"/etc//./x"), [b"etc".to_vec(), b"x".to_vec()]);
        assert_eq!(parts(b"./a"), [b"a".to_vec()]);
        assert!(parts(b".").is_empty());
        let err = components(b"a/../../x").unwrap_err();
        assert!(err.to_string().contains("/a/../../x"), "{err}");
    }
}

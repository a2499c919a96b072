//! Entries made from host files.

use std::fs::{self, File, Metadata};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::{read_err, Entry, Kind, TreeError, MAX_TARGET};

/// An entry made from a source file's metadata (symlinks not followed).
pub(super) fn entry_from(
    path: &Path,
    meta: &Metadata,
    keep_owners: bool,
) -> Result<Entry, TreeError> {
    let ft = meta.file_type();
    let rdev = meta.rdev();
    let (major, minor) = (rustix::fs::major(rdev), rustix::fs::minor(rdev));
    let kind = if ft.is_dir() {
        Kind::Dir
    } else if ft.is_file() {
        let size = meta.len();
        Kind::File {
            src: path.to_path_buf(),
            size,
        }
    } else if ft.is_symlink() {
        Kind::Symlink {
            target: read_target(path)?,
        }
    } else if ft.is_char_device() {
        Kind::CharDev { major, minor }
    } else if ft.is_block_device() {
        Kind::BlockDev { major, minor }
    } else if ft.is_fifo() {
        Kind::Fifo
    } else {
        Kind::Socket
    };
    let mut entry = Entry::new(kind, meta.mode());
    if keep_owners {
        (entry.uid, entry.gid) = (meta.uid(), meta.gid());
    }
    if ft.is_file() && meta.nlink() > 1 {
        entry.link_id = Some((meta.dev(), meta.ino()));
    }
    entry.mtime = Some(meta.mtime());
    Ok(entry)
}

fn read_target(path: &Path) -> Result<Vec<u8>, TreeError> {
    let target = fs::read_link(path)
        .map_err(read_err(path))?
        .into_os_string()
        .into_vec();
    if target.len() > MAX_TARGET {
        return Err(TreeError::TargetTooLong {
            path: path.to_path_buf(),
            len: target.len(),
        });
    }
    Ok(target)
}

/// A regular file given on the command line (symlinks followed). It is
/// opened once so an unreadable file fails before any output is made.
/// `perm` overrides the source's permissions.
pub fn file_entry(src: &Path, perm: Option<u32>) -> Result<Entry, TreeError> {
    let meta = fs::metadata(src).map_err(read_err(src))?;
    if !meta.is_file() {
        return Err(TreeError::NotAFile {
            path: src.to_path_buf(),
        });
    }
    File::open(src).map_err(read_err(src))?;
    let kind = Kind::File {
        src: src.to_path_buf(),
        size: meta.len(),
    };
    let mut entry = Entry::new(kind, perm.unwrap_or(meta.mode()));
    entry.mtime = Some(meta.mtime());
    Ok(entry)
}

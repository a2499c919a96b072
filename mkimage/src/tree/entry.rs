//! One file of the image ([`Entry`]): what it is ([`Kind`]), with its
//! permissions, owner, hard link identity and mtime.

use std::path::PathBuf;

/// What an entry is, with what is needed to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File {
        src: PathBuf,
        size: u64,
    },
    /// A compressed host file (gzip, xz, zstd) stored decompressed:
    /// `size` is the decompressed size.
    Unpacked {
        src: PathBuf,
        size: u64,
    },
    /// A file made in memory.
    Data {
        bytes: Vec<u8>,
    },
    Symlink {
        target: Vec<u8>,
    },
    CharDev {
        major: u32,
        minor: u32,
    },
    BlockDev {
        major: u32,
        minor: u32,
    },
    Fifo,
    Socket,
}

/// One file of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// Permission bits (`0o7777`).
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    /// `(dev, ino)` of a source file with more than one link.
    pub link_id: Option<(u64, u64)>,
    /// The source's mtime; `None` for entries made by mkimage.
    pub mtime: Option<i64>,
}

impl Entry {
    pub(super) fn new(kind: Kind, perm: u32) -> Entry {
        Entry {
            kind,
            perm: perm & 0o7777,
            uid: 0,
            gid: 0,
            link_id: None,
            mtime: None,
        }
    }

    pub fn dir(perm: u32) -> Entry {
        Entry::new(Kind::Dir, perm)
    }

    pub fn symlink(target: &[u8]) -> Entry {
        Entry::new(
            Kind::Symlink {
                target: target.to_vec(),
            },
            0o777,
        )
    }

    pub fn char_dev(major: u32, minor: u32, perm: u32) -> Entry {
        Entry::new(Kind::CharDev { major, minor }, perm)
    }

    pub fn block_dev(major: u32, minor: u32, perm: u32) -> Entry {
        Entry::new(Kind::BlockDev { major, minor }, perm)
    }

    /// A regular file with in-memory contents.
    pub fn data(bytes: Vec<u8>, perm: u32) -> Entry {
        Entry::new(Kind::Data { bytes }, perm)
    }

    /// A compressed host file, stored decompressed (`size` bytes).
    pub fn unpacked(src: PathBuf, size: u64, perm: u32) -> Entry {
        Entry::new(Kind::Unpacked { src, size }, perm)
    }

    /// The mtime stored in the image: without `SOURCE_DATE_EPOCH` 0;
    /// with it the source's mtime clamped to the epoch (and to 0), or
    /// the epoch itself for entries without a source.
    pub fn stored_mtime(&self, epoch: Option<u32>) -> u32 {
        match (epoch, self.mtime) {
            (None, _) => 0,
            (Some(e), None) => e,
            (Some(e), Some(m)) => m.clamp(0, i64::from(e)) as u32,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    /// The full `st_mode`: type bits and permissions.
    pub fn mode(&self) -> u32 {
        use crate::cpio::*;
        let file_type = match self.kind {
            Kind::Dir => S_IFDIR,
            Kind::File { .. } | Kind::Unpacked { .. } | Kind::Data { .. } => S_IFREG,
            Kind::Symlink { .. } => S_IFLNK,
            Kind::CharDev { .. } => S_IFCHR,
            Kind::BlockDev { .. } => S_IFBLK,
            Kind::Fifo => S_IFIFO,
            Kind::Socket => S_IFSOCK,
        };
        file_type | self.perm
    }
}

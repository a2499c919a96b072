//! Reading files that someone else made (the recovered system's boot
//! configuration, the handoff file, a timeline) without letting them hurt
//! the reader: the type is checked on the open file before any read (a
//! FIFO would block forever, `/dev/zero` would never end), the open never
//! blocks, and the size is bounded.

use std::io::{self, Read};
use std::os::fd::AsFd;
use std::path::Path;

/// The most a small text file someone else wrote may hold (the handoff
/// file, a recorded command line, a boot loader config).
pub const MAX_TEXT: u64 = 1 << 20;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a regular file ({0})")]
    NotRegular(&'static str),
    #[error("larger than {0} bytes")]
    TooLarge(u64),
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> io::Error {
        match e {
            ReadError::Io(e) => e,
            e => io::Error::other(e.to_string()),
        }
    }
}

/// Whether the last component of a path may be a symlink: paths already
/// resolved inside ROOT must not be (a link swapped in since would lead
/// out of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Follow,
    Refuse,
}

/// Opens the regular file `path` for reading without blocking, and
/// gives its size. Every file someone else made goes through here.
pub fn open_regular(path: &Path, links: Links) -> Result<(std::fs::File, u64), ReadError> {
    use rustix::fs::{open, FileType, Mode, OFlags};
    // NONBLOCK: opening a FIFO for reading would otherwise wait for a
    // writer; the type check below then refuses it.
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if links == Links::Refuse {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = open(path, flags, Mode::empty()).map_err(io::Error::from)?;
    let st = rustix::fs::fstat(fd.as_fd()).map_err(io::Error::from)?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile => {}
        FileType::Fifo => return Err(ReadError::NotRegular("a FIFO")),
        FileType::CharacterDevice => return Err(ReadError::NotRegular("a character device")),
        FileType::BlockDevice => return Err(ReadError::NotRegular("a block device")),
        FileType::Socket => return Err(ReadError::NotRegular("a socket")),
        FileType::Directory => return Err(ReadError::NotRegular("a directory")),
        FileType::Symlink => return Err(ReadError::NotRegular("a symbolic link")),
        _ => return Err(ReadError::NotRegular("not a file")),
    }
    Ok((std::fs::File::from(fd), st.st_size as u64))
}

/// The bytes of the regular file `path` (symlinks followed), at most
/// `limit` of them.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    read_limited(path, limit, Links::Follow)
}

/// As [`read_bytes`], with the choice of [`Links`].
pub fn read_limited(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, ReadError> {
    let (file, size) = open_regular(path, links)?;
    if size > limit {
        return Err(ReadError::TooLarge(limit));
    }
    let mut out = Vec::with_capacity(size as usize);
    // The size may grow while we read: never take more than the limit.
    file.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(out)
}

/// As [`read_bytes`], as text (invalid UTF-8 replaced).
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    read_bytes(path, limit).map(|b| String::from_utf8_lossy(&b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_would_block_or_never_end() {
        let dir = std::env::temp_dir().join(format!("rescue-init-fsread-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(matches!(
            read_bytes(&fifo, 100),
            Err(ReadError::NotRegular("a FIFO"))
        ));
        assert!(matches!(
            read_bytes(Path::new("/dev/zero"), 100),
            Err(ReadError::NotRegular("a character device"))
        ));
        assert!(matches!(
            read_bytes(&dir, 100),
            Err(ReadError::NotRegular("a directory"))
        ));
        let big = dir.join("big");
        std::fs::write(&big, vec![b'x'; 101]).unwrap();
        assert!(matches!(
            read_bytes(&big, 100),
            Err(ReadError::TooLarge(100))
        ));
        assert_eq!(read_text(&big, 101).unwrap().len(), 101);
        let link = dir.join("link");
        std::os::unix::fs::symlink(&big, &link).unwrap();
        assert_eq!(read_limited(&link, 200, Links::Follow).unwrap().len(), 101);
        assert!(read_limited(&link, 200, Links::Refuse).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The newc cpio format ("070701"), and nothing else.
//!
//! An archive is a sequence of entries. Each entry is a 110-byte ASCII
//! header (magic plus 13 fields of 8 hex digits), the name with its NUL,
//! zero padding to a multiple of 4, the data, and again zero padding to a
//! multiple of 4. The entry named `TRAILER!!!` ends the archive.
//!
//! This module knows nothing about trees, owners or the kernel's policy:
//! callers decide what goes into a [`Header`].

use std::io::{self, BufRead, Read, Write};

/// Magic of newc archives without checksums.
pub const MAGIC: &[u8; 6] = b"070701";
/// Magic of newc archives with checksums ("crc" format); read, never written.
pub const MAGIC_CRC: &[u8; 6] = b"070702";
/// Length of a header, magic included.
pub const HEADER_LEN: usize = 110;
/// Name of the entry that ends an archive.
pub const TRAILER: &[u8] = b"TRAILER!!!";

/// File type bits of `mode`, as in `<sys/stat.h>`.
pub const S_IFMT: u32 = 0o170_000;
pub const S_IFSOCK: u32 = 0o140_000;
pub const S_IFLNK: u32 = 0o120_000;
pub const S_IFREG: u32 = 0o100_000;
pub const S_IFBLK: u32 = 0o060_000;
pub const S_IFDIR: u32 = 0o040_000;
pub const S_IFCHR: u32 = 0o020_000;
pub const S_IFIFO: u32 = 0o010_000;

/// One newc header. `name` is stored without its terminating NUL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub filesize: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub check: u32,
    pub name: Vec<u8>,
}

impl Header {
    /// The 13 numeric fields in on-disk order, `namesize` included.
    fn fields(&self, namesize: u32) -> [u32; 13] {
        [
            self.ino,
            self.mode,
            self.uid,
            self.gid,
            self.nlink,
            self.mtime,
            self.filesize,
            self.dev_major,
            self.dev_minor,
            self.rdev_major,
            self.rdev_minor,
            namesize,
            self.check,
        ]
    }

    /// The `S_IF*` type bits of `mode`.
    pub fn file_type(&self) -> u32 {
        self.mode & S_IFMT
    }
}

/// Zero bytes needed after `len` bytes to reach a multiple of 4.
pub fn pad4(len: u64) -> usize {
    ((4 - (len % 4)) % 4) as usize
}

/// Writes newc entries to `W`, tracking the offset for padding.
pub struct Writer<W: Write> {
    inner: W,
    offset: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(inner: W) -> Self {
        Writer { inner, offset: 0 }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = pad4(self.offset);
        self.put(&[0u8; 3][..n])
    }

    /// Writes a header and its name. The caller then writes exactly
    /// `filesize` bytes of data with [`Writer::data`] or [`Writer::bytes`].
    pub fn header(&mut self, h: &Header) -> io::Result<()> {
        if h.name.is_empty() || h.name.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cpio name is empty or contains a NUL byte",
            ));
        }
        let namesize = u32::try_from(h.name.len() + 1)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "cpio name too long"))?;
        let mut buf = Vec::with_capacity(HEADER_LEN + h.name.len() + 4);
        buf.extend_from_slice(MAGIC);
        for field in h.fields(namesize) {
            write!(buf, "{field:08X}")?;
        }
        buf.extend_from_slice(&h.name);
        buf.push(0);
        self.put(&buf)?;
        self.pad()
    }

    /// Copies exactly `size` bytes from `r` as entry data, then pads.
    /// Fails with `UnexpectedEof` if `r` ends early.
    pub fn data<R: Read>(&mut self, r: R, size: u64) -> io::Result<()> {
        let copied = io::copy(&mut r.take(size), &mut self.inner)?;
        self.offset += copied;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("ended after {copied} of {size} bytes"),
            ));
        }
        self.pad()
    }

    /// Writes in-memory entry data (e.g. a symlink target), then pads.
    pub fn bytes(&mut self, data: &[u8]) -> io::Result<()> {
        self.put(data)?;
        self.pad()
    }

    /// Writes the `TRAILER!!!` entry; returns the inner writer and the
    /// archive's total size.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        let trailer = Header {
            nlink: 1,
            name: TRAILER.to_vec(),
            ..Header::default()
        };
        self.header(&trailer)?;
        self.inner.flush()?;
        Ok((self.inner, self.offset))
    }
}

/// What went wrong while reading an archive.
#[derive(Debug, thiserror::Error)]
pub enum ReadErrorKind {
    #[error("no cpio newc magic (found {0:?})")]
    BadMagic(String),
    #[error("field {field} is not 8 hex digits: {text:?}")]
    BadField { field: &'static str, text: String },
    #[error("name size {0} is invalid (0, or more than PATH_MAX, 4096)")]
    BadNameSize(u32),
    #[error("name is not NUL-terminated")]
    NameNotTerminated,
    #[error("entry data of {size} bytes is larger than the limit of {limit}")]
    TooLarge { size: u64, limit: u32 },
    #[error("archive is truncated (missing data or TRAILER!!!)")]
    Truncated,
    #[error("{0}")]
    Io(io::Error),
}

/// A read error at a byte offset of the (uncompressed) archive stream.
#[derive(Debug, thiserror::Error)]
#[error("at offset {offset}: {kind}")]
pub struct ReadError {
    pub offset: u64,
    pub kind: ReadErrorKind,
}

const FIELD_NAMES: [&str; 13] = [
    "ino",
    "mode",
    "uid",
    "gid",
    "nlink",
    "mtime",
    "filesize",
    "devmajor",
    "devminor",
    "rdevmajor",
    "rdevminor",
    "namesize",
    "check",
];

/// The longest name a header may give, with its NUL: the kernel's
/// `PATH_MAX`, beyond which it refuses the entry too.
pub const MAX_NAME: u32 = 4096;

/// Reads newc entries from `R`; stops at `TRAILER!!!`.
pub struct Reader<R: Read> {
    inner: R,
    offset: u64,
    /// Data bytes of the current entry not yet consumed.
    data_left: u64,
    /// Padding bytes after that data.
    pad_left: u64,
}

impl<R: Read> Reader<R> {
    /// `offset` is where `inner` starts in the stream, for error messages.
    pub fn new(inner: R, offset: u64) -> Self {
        Reader {
            inner,
            offset,
            data_left: 0,
            pad_left: 0,
        }
    }

    /// Current offset in the stream.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn err(&self, kind: ReadErrorKind) -> ReadError {
        ReadError {
            offset: self.offset,
            kind,
        }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.offset += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Err(self.err(ReadErrorKind::Truncated))
            }
            Err(e) => Err(self.err(ReadErrorKind::Io(e))),
        }
    }

    fn skip(&mut self, n: u64) -> Result<(), ReadError> {
        let skipped = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())
            .map_err(|e| self.err(ReadErrorKind::Io(e)))?;
        self.offset += skipped;
        if skipped != n {
            return Err(self.err(ReadErrorKind::Truncated));
        }
        Ok(())
    }

    /// The next header, or `None` after `TRAILER!!!` (which is consumed).
    /// Unread data of the previous entry is skipped.
    pub fn next_header(&mut self) -> Result<Option<Header>, ReadError> {
        self.skip_rest()?;
        let start = self.offset;
        let mut raw = [0u8; HEADER_LEN];
        self.fill(&mut raw)?;
        let (h, namesize) = parse_header(&raw).map_err(|kind| ReadError {
            offset: start,
            kind,
        })?;
        let name = self.read_name(namesize)?;
        let h = Header { name, ..h };
        if h.name == TRAILER {
            return Ok(None);
        }
        self.data_left = u64::from(h.filesize);
        self.pad_left = pad4(self.data_left) as u64;
        Ok(Some(h))
    }

    fn skip_rest(&mut self) -> Result<(), ReadError> {
        let n = std::mem::take(&mut self.data_left) + std::mem::take(&mut self.pad_left);
        self.skip(n)
    }

    fn read_name(&mut self, namesize: u32) -> Result<Vec<u8>, ReadError> {
        // Checked before the allocation: a header may say 4 GiB.
        if namesize == 0 || namesize > MAX_NAME {
            return Err(self.err(ReadErrorKind::BadNameSize(namesize)));
        }
        let len = namesize as usize;
        let mut name = vec![0u8; len + pad4((HEADER_LEN + len) as u64)];
        self.fill(&mut name)?;
        name.truncate(len);
        if name.pop() != Some(0) {
            return Err(self.err(ReadErrorKind::NameNotTerminated));
        }
        Ok(name)
    }

    /// Reads the whole data of the current entry and its padding; for
    /// small entries such as symlink targets, at most `limit` bytes.
    pub fn read_data(&mut self, limit: u32) -> Result<Vec<u8>, ReadError> {
        let size = std::mem::take(&mut self.data_left);
        if size > u64::from(limit) {
            return Err(self.err(ReadErrorKind::TooLarge { size, limit }));
        }
        let mut data = vec![0u8; size as usize];
        self.fill(&mut data)?;
        self.skip_rest()?;
        Ok(data)
    }
}

impl<R: BufRead> Reader<R> {
    /// Peeks at the next byte without consuming it; `None` at end.
    pub fn peek(&mut self) -> Result<Option<u8>, ReadError> {
        self.skip_rest()?;
        match self.inner.fill_buf() {
            Ok(buf) => Ok(buf.first().copied()),
            Err(e) => Err(self.err(ReadErrorKind::Io(e))),
        }
    }

    /// Consumes one byte previously seen with [`Reader::peek`].
    pub fn consume_one(&mut self) {
        self.inner.consume(1);
        self.offset += 1;
    }
}

fn parse_header(raw: &[u8; HEADER_LEN]) -> Result<(Header, u32), ReadErrorKind> {
    let magic = &raw[..6];
    if magic != MAGIC && magic != MAGIC_CRC {
        return Err(ReadErrorKind::BadMagic(
            String::from_utf8_lossy(magic).into_owned(),
        ));
    }
    let mut f = [0u32; 13];
    for (i, chunk) in raw[6..].chunks_exact(8).enumerate() {
        f[i] = parse_hex(chunk).ok_or_else(|| ReadErrorKind::BadField {
            field: FIELD_NAMES[i],
            text: String::from_utf8_lossy(chunk).into_owned(),
        })?;
    }
    let h = Header {
        ino: f[0],
        mode: f[1],
        uid: f[2],
        gid: f[3],
        nlink: f[4],
        mtime: f[5],
        filesize: f[6],
        dev_major: f[7],
        dev_minor: f[8],
        rdev_major: f[9],
        rdev_minor: f[10],
        check: f[12],
        name: Vec::new(),
    };
    Ok((h, f[11]))
}

fn parse_hex(text: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(text).ok()?;
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

mod copy;
pub use copy::CopyError;

#[cfg(test)]
mod tests;

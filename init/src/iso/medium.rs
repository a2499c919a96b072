//! Where the ISO bytes come from: a file or block device (read with
//! `pread`, so nothing is kept in memory), or a byte buffer in the tests.
//! [`Medium`] checks every read against the image's end first, so a
//! corrupt length never makes it allocate or read past the image.

use super::IsoError;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Random access to the image bytes.
pub trait Source {
    /// The image size in bytes.
    fn size(&self) -> std::io::Result<u64>;
    /// Fills `buf` from `offset`; the caller checked the bounds.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;
}

impl Source for File {
    fn size(&self) -> std::io::Result<u64> {
        // Block devices have no length in their metadata: seek to the end.
        let mut f = self;
        f.seek(SeekFrom::End(0))
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.read_exact_at(buf, offset)
    }
}

impl Source for Vec<u8> {
    fn size(&self) -> std::io::Result<u64> {
        Ok(self.len() as u64)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).map_err(std::io::Error::other)?;
        let src = self
            .get(start..start + buf.len())
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// An image and its name for messages.
pub struct Medium {
    pub name: String,
    source: Box<dyn Source>,
    size: u64,
}

impl Medium {
    pub fn open(path: &Path) -> Result<Medium, IsoError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| IsoError::Open {
            file: name.clone(),
            source,
        })?;
        Medium::new(name, Box::new(file))
    }

    pub fn new(name: String, source: Box<dyn Source>) -> Result<Medium, IsoError> {
        match source.size() {
            Ok(size) => Ok(Medium { name, source, size }),
            Err(source) => Err(IsoError::Open { file: name, source }),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Checks that `len` bytes at `offset` lie inside the image.
    pub fn check(&self, offset: u64, len: u64, what: &dyn Fn() -> String) -> Result<(), IsoError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(IsoError::Truncated {
                file: self.name.clone(),
                what: what(),
                offset,
                need: len,
                size: self.size,
            }),
        }
    }

    /// Reads `len` bytes at `offset`; `what` names them in errors.
    pub fn read(
        &self,
        offset: u64,
        len: usize,
        what: &dyn Fn() -> String,
    ) -> Result<Vec<u8>, IsoError> {
        self.check(offset, len as u64, what)?;
        let mut buf = vec![0; len];
        self.read_into(offset, &mut buf)?;
        Ok(buf)
    }

    /// Fills `buf` from `offset` (bounds checked by the caller).
    pub fn read_into(&self, offset: u64, buf: &mut [u8]) -> Result<(), IsoError> {
        self.source
            .read_at(offset, buf)
            .map_err(|source| IsoError::Read {
                file: self.name.clone(),
                offset,
                source,
            })
    }

    pub fn corrupt(&self, what: &'static str, offset: u64, why: impl Into<String>) -> IsoError {
        IsoError::Corrupt {
            file: self.name.clone(),
            what,
            offset,
            why: why.into(),
        }
    }
}

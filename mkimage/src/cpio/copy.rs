//! Streaming an entry's data out of a [`Reader`].

use std::io::{self, Read, Write};

use super::{ReadError, ReadErrorKind, Reader};

impl<R: Read> Reader<R> {
    /// Copies the whole data of the current entry to `w`, then skips its
    /// padding.
    pub fn copy_data<W: Write>(&mut self, w: &mut W) -> Result<(), CopyError> {
        let size = std::mem::take(&mut self.data_left);
        let mut src = (&mut self.inner).take(size);
        let mut buf = vec![0u8; 64 * 1024];
        let mut done = 0;
        while done < size {
            let n = match src.read(&mut buf) {
                Ok(0) => return Err(CopyError::Read(self.at(done, ReadErrorKind::Truncated))),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CopyError::Read(self.at(done, ReadErrorKind::Io(e)))),
            };
            w.write_all(&buf[..n]).map_err(CopyError::Write)?;
            done += n as u64;
        }
        self.offset += size;
        self.skip_rest().map_err(CopyError::Read)
    }

    fn at(&self, done: u64, kind: ReadErrorKind) -> ReadError {
        ReadError {
            offset: self.offset + done,
            kind,
        }
    }
}

/// A failure of [`Reader::copy_data`].
#[derive(Debug)]
pub enum CopyError {
    Read(ReadError),
    Write(io::Error),
}

//! Walks the segments of an initramfs file, entry by entry.
//!
//! An initramfs file may be several segments one after another, as the
//! kernel accepts them: uncompressed cpio archives and compressed streams
//! of cpio archives, with zero padding between them. A [`Visitor`] sees
//! every entry; `list` prints them, `extract` writes them out.

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::compress::decompress::{self, Format};
use crate::cpio::{Header, ReadError, Reader};

const BUFFER: usize = 256 * 1024;
/// Bytes needed to recognize any format.
const SNIFF: usize = 8;

/// The archive reader a visitor gets.
pub type EntryReader<'a> = Reader<&'a mut dyn BufRead>;

/// An error of a visitor, passed through unchanged.
pub type VisitError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("cannot read {}: {cause}", path.display())]
    Open { path: PathBuf, cause: io::Error },
    #[error("cannot read {} at offset {offset}: {cause}", path.display())]
    Read {
        path: PathBuf,
        offset: u64,
        cause: io::Error,
    },
    #[error("{}: {format} segment at offset {start}: at {inner}offset {}: {}", path.display(), cause.offset, cause.kind)]
    Segment {
        path: PathBuf,
        start: u64,
        format: &'static str,
        /// "uncompressed " when the offset counts uncompressed bytes.
        inner: &'static str,
        cause: ReadError,
    },
    #[error("{}: unrecognized data at offset {offset} (byte {byte:#04x}): not a cpio archive or a known compression", path.display())]
    Junk {
        path: PathBuf,
        offset: u64,
        byte: u8,
    },
    #[error("{}: junk at offset {offset} of the uncompressed data of the {format} segment at offset {start}", path.display())]
    JunkInside {
        path: PathBuf,
        start: u64,
        format: &'static str,
        offset: u64,
    },
    #[error("{}: {format} segment at offset {offset}: {format} is not supported yet", path.display())]
    Unsupported {
        path: PathBuf,
        offset: u64,
        format: &'static str,
    },
    #[error("{}: no cpio archive found (empty or only zero bytes)", path.display())]
    Empty { path: PathBuf },
    #[error("cannot write the listing: {0}")]
    Output(io::Error),
    #[error("{}: {segment} segment at offset {start}: {cause}", path.display())]
    Visit {
        path: PathBuf,
        start: u64,
        segment: &'static str,
        cause: VisitError,
    },
}

/// What a visitor does with each entry.
pub trait Visitor {
    /// Called for every entry but the trailers; may read its data.
    fn entry(&mut self, h: Header, r: &mut EntryReader<'_>) -> Result<(), Failure>;
    /// Called after each `TRAILER!!!`: the end of one archive.
    fn archive_end(&mut self) {}
}

/// A reading or a visiting failure inside a segment.
#[derive(Debug)]
pub enum Failure {
    Read(ReadError),
    Output(io::Error),
    Visit(VisitError),
}

impl From<ReadError> for Failure {
    fn from(e: ReadError) -> Self {
        Failure::Read(e)
    }
}

/// The formats of the segments, in order.
pub type Segments = Vec<&'static str>;

/// Walks every segment of `input` (read from `path`, for messages).
pub fn walk<R: Read>(path: &Path, input: R, v: &mut dyn Visitor) -> Result<Segments, ListError> {
    let mut walker = Walker { path, v };
    let mut input = Input::new(input);
    let mut segments = Vec::new();
    while let Some(format) = walker.next_segment(&mut input)? {
        segments.push(format.name());
    }
    if segments.is_empty() {
        return Err(ListError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(segments)
}

/// Walks the image file at `path`.
pub fn walk_file(path: &Path, v: &mut dyn Visitor) -> Result<Segments, ListError> {
    let file = std::fs::File::open(path).map_err(|cause| ListError::Open {
        path: path.to_path_buf(),
        cause,
    })?;
    walk(path, file, v)
}

/// A buffered reader that can peek a few bytes and counts its offset.
pub(crate) struct Input<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    pub(crate) offset: u64,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(inner: R) -> Self {
        Input {
            inner,
            buf: vec![0; BUFFER],
            pos: 0,
            end: 0,
            offset: 0,
        }
    }

    /// Up to `n` bytes ahead (fewer only at the end of the input).
    pub(crate) fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.pos < n {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
            while self.end < n {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(0) => break,
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.pos..self.end.min(self.pos + n)])
    }
}

impl<R: Read> BufRead for Input<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = self.inner.read(&mut self.buf)?;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.offset += n as u64;
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

struct Walker<'a> {
    path: &'a Path,
    v: &'a mut dyn Visitor,
}

impl Walker<'_> {
    /// Walks the segment at the current offset, after skipping zeros.
    fn next_segment<R: Read>(&mut self, input: &mut Input<R>) -> Result<Option<Format>, ListError> {
        let head = loop {
            let offset = input.offset;
            let head = input.peek(SNIFF).map_err(|cause| ListError::Read {
                path: self.path.to_path_buf(),
                offset,
                cause,
            })?;
            if head.is_empty() {
                return Ok(None);
            }
            if head[0] != 0 {
                break head.to_vec();
            }
            input.consume(1);
        };
        let start = input.offset;
        match Format::sniff(&head) {
            Some(Format::Cpio) => self.raw_cpio(input, start)?,
            Some(other) => self.compressed(input, start, other)?,
            None => {
                return Err(ListError::Junk {
                    path: self.path.to_path_buf(),
                    offset: start,
                    byte: head[0],
                })
            }
        }
        Ok(Format::sniff(&head))
    }

    /// One uncompressed archive; what follows is left to the caller.
    fn raw_cpio<R: Read>(&mut self, input: &mut Input<R>, start: u64) -> Result<(), ListError> {
        let input: &mut dyn BufRead = input;
        let mut reader = Reader::new(input, start);
        self.archive(&mut reader)
            .map_err(|e| self.segment_err(e, start, Format::Cpio, ""))
    }

    /// A compressed stream (one gzip member, zstd frame, xz stream or lz4
    /// legacy stream) holding one or more archives.
    fn compressed<R: Read>(
        &mut self,
        input: &mut Input<R>,
        start: u64,
        f: Format,
    ) -> Result<(), ListError> {
        let decoder = decompress::decoder(f, input).map_err(|cause| ListError::Read {
            path: self.path.to_path_buf(),
            offset: start,
            cause,
        })?;
        let Some(decoder) = decoder else {
            return Err(ListError::Unsupported {
                path: self.path.to_path_buf(),
                offset: start,
                format: f.name(),
            });
        };
        let mut buffered = BufReader::with_capacity(BUFFER, decoder);
        let buffered: &mut dyn BufRead = &mut buffered;
        let mut reader = Reader::new(buffered, 0);
        let inner = "uncompressed ";
        loop {
            self.archive(&mut reader)
                .map_err(|e| self.segment_err(e, start, f, inner))?;
            match skip_zeros(&mut reader).map_err(|e| self.segment_err(e, start, f, inner))? {
                None => return Ok(()),
                Some(b'0') => {}
                Some(_) => {
                    return Err(ListError::JunkInside {
                        path: self.path.to_path_buf(),
                        start,
                        format: f.name(),
                        offset: reader.offset(),
                    })
                }
            }
        }
    }

    fn segment_err(&self, e: Failure, start: u64, f: Format, inner: &'static str) -> ListError {
        let path = self.path.to_path_buf();
        match e {
            Failure::Read(cause) => ListError::Segment {
                path,
                start,
                format: f.name(),
                inner,
                cause,
            },
            Failure::Output(e) => ListError::Output(e),
            Failure::Visit(cause) => ListError::Visit {
                path,
                start,
                segment: f.name(),
                cause,
            },
        }
    }

    /// Visits the entries of one archive, up to and including its trailer.
    fn archive(&mut self, reader: &mut EntryReader<'_>) -> Result<(), Failure> {
        while let Some(h) = reader.next_header()? {
            self.v.entry(h, reader)?;
        }
        self.v.archive_end();
        Ok(())
    }
}

/// Skips zero bytes; returns the next byte, `None` at the end.
fn skip_zeros<R: BufRead>(reader: &mut Reader<R>) -> Result<Option<u8>, Failure> {
    loop {
        match reader.peek()? {
            Some(0) => reader.consume_one(),
            other => return Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_across_buffer_refills() {
        let data: Vec<u8> = (0..=255u8).cycle().take(BUFFER + 100).collect();
        let mut input = Input::new(&data[..]);
        input.consume(0);
        let mut skipped = 0;
        while skipped < BUFFER - 3 {
            let n = input.fill_buf().unwrap().len().min(BUFFER - 3 - skipped);
            input.consume(n);
            skipped += n;
        }
        let head = input.peek(8).unwrap().to_vec();
        assert_eq!(head, data[BUFFER - 3..BUFFER + 5]);
        assert_eq!(input.offset, (BUFFER - 3) as u64);
    }
}

//! `mkimage list`: the entries of an image, segment by segment.
//!
//! An initramfs file may be several segments one after another, as the
//! kernel accepts them: uncompressed cpio archives and compressed streams
//! of cpio archives, with zero padding between them.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::cpio::{self, Header, ReadError, Reader};
use crate::decompress::{self, Format};

const BUFFER: usize = 256 * 1024;
/// Bytes needed to recognize any format.
const SNIFF: usize = 8;

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
}

/// What was listed.
#[derive(Debug, Default)]
pub struct Summary {
    pub entries: usize,
    pub segments: Vec<&'static str>,
}

/// A buffered reader that can peek a few bytes and counts its offset.
struct Input<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    offset: u64,
}

impl<R: Read> Input<R> {
    fn new(inner: R) -> Self {
        Input {
            inner,
            buf: vec![0; BUFFER],
            pos: 0,
            end: 0,
            offset: 0,
        }
    }

    /// Up to `n` bytes ahead (fewer only at the end of the input).
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
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

/// Lists the image at `path` to `out`, one entry per line.
pub fn list(path: &Path, out: &mut dyn Write) -> Result<Summary, ListError> {
    let file = File::open(path).map_err(|cause| ListError::Open {
        path: path.to_path_buf(),
        cause,
    })?;
    let mut lister = Lister {
        path,
        out,
        summary: Summary::default(),
    };
    let mut input = Input::new(file);
    while let Some(format) = lister.next_segment(&mut input)? {
        lister.summary.segments.push(format.name());
    }
    if lister.summary.segments.is_empty() {
        return Err(ListError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(lister.summary)
}

struct Lister<'a> {
    path: &'a Path,
    out: &'a mut dyn Write,
    summary: Summary,
}

impl Lister<'_> {
    /// Lists the segment at the current offset, after skipping zeros.
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
        let mut reader = Reader::new(BufReader::with_capacity(BUFFER, decoder), 0);
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
        match e {
            Failure::Read(cause) => ListError::Segment {
                path: self.path.to_path_buf(),
                start,
                format: f.name(),
                inner,
                cause,
            },
            Failure::Output(e) => ListError::Output(e),
        }
    }

    /// Prints the entries of one archive, up to and including its trailer.
    fn archive<R: Read>(&mut self, reader: &mut Reader<R>) -> Result<(), Failure> {
        while let Some(h) = reader.next_header()? {
            let target = if h.file_type() == cpio::S_IFLNK {
                Some(reader.read_data(crate::tree::MAX_TARGET as u32 + 1)?)
            } else {
                None
            };
            let line = format_entry(&h, target.as_deref());
            self.out.write_all(&line).map_err(Failure::Output)?;
            self.summary.entries += 1;
        }
        Ok(())
    }
}

/// A reading or a writing failure inside a segment.
enum Failure {
    Read(ReadError),
    Output(io::Error),
}

impl From<ReadError> for Failure {
    fn from(e: ReadError) -> Self {
        Failure::Read(e)
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

fn type_char(mode: u32) -> char {
    match mode & cpio::S_IFMT {
        cpio::S_IFREG => '-',
        cpio::S_IFDIR => 'd',
        cpio::S_IFLNK => 'l',
        cpio::S_IFCHR => 'c',
        cpio::S_IFBLK => 'b',
        cpio::S_IFIFO => 'p',
        cpio::S_IFSOCK => 's',
        _ => '?',
    }
}

/// Appends `bytes`, with control bytes and `\` escaped as `\xNN`.
fn push_escaped(line: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if b < 0x20 || b == 0x7f || b == b'\\' {
            line.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            line.push(b);
        }
    }
}

/// `type mode uid:gid size name[ -> target][ (hardlink)]`; devices show
/// `major,minor` in place of the size.
pub fn format_entry(h: &Header, target: Option<&[u8]>) -> Vec<u8> {
    let t = type_char(h.mode);
    let size = match t {
        'c' | 'b' => format!("{},{}", h.rdev_major, h.rdev_minor),
        _ => h.filesize.to_string(),
    };
    let perm = h.mode & 0o7777;
    let mut line = format!("{t} {perm:04o} {}:{} {size:>10} ", h.uid, h.gid).into_bytes();
    push_escaped(&mut line, &h.name);
    if let Some(target) = target {
        line.extend_from_slice(b" -> ");
        push_escaped(&mut line, target);
    }
    if h.nlink > 1 && t != 'd' {
        line.extend_from_slice(b" (hardlink)");
    }
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_lines() {
        let mut h = Header {
            mode: cpio::S_IFCHR | 0o600,
            rdev_major: 5,
            rdev_minor: 1,
            nlink: 1,
            name: b"dev/console".to_vec(),
            ..Header::default()
        };
        assert_eq!(
            String::from_utf8(format_entry(&h, None)).unwrap(),
            "c 0600 0:0        5,1 dev/console\n"
        );
        h.mode = cpio::S_IFREG | 0o4755;
        h.nlink = 2;
        h.filesize = 12;
        h.name = b"a\nb\\".to_vec();
        assert_eq!(
            String::from_utf8(format_entry(&h, None)).unwrap(),
            "- 4755 0:0         12 a\\x0ab\\x5c (hardlink)\n"
        );
        h.mode = cpio::S_IFLNK | 0o777;
        h.nlink = 1;
        assert!(format_entry(&h, Some(b"/init")).ends_with(b" -> /init\n"));
    }

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

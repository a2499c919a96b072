//! Compression of the output stream, and recognition of compressed input.
//!
//! A [`Method`] names an algorithm; [`encoder`] wraps an output in it. New
//! algorithms (zstd, xz, lz4) are added as a variant, a `FromStr` arm, a
//! level range and an encoder arm. [`Threaded`] runs the encoder on its own
//! thread so that reading files and compressing overlap.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// A compression algorithm for the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    None,
    Gzip,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::None => "none",
            Method::Gzip => "gzip",
        }
    }

    /// Allowed levels; `None` when the method has no levels.
    pub fn levels(self) -> Option<std::ops::RangeInclusive<u32>> {
        match self {
            Method::None => None,
            Method::Gzip => Some(0..=9),
        }
    }

    pub fn default_level(self) -> u32 {
        match self {
            Method::None => 0,
            Method::Gzip => 6,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Method::None),
            "gzip" => Ok(Method::Gzip),
            _ => Err(format!("unknown compression {s:?} (known: gzip, none)")),
        }
    }
}

/// A method with its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    pub method: Method,
    pub level: u32,
}

impl Compression {
    /// Checks `level` against the method; `None` picks the default.
    pub fn new(method: Method, level: Option<u32>) -> Result<Self, String> {
        let Some(level) = level else {
            let level = method.default_level();
            return Ok(Compression { method, level });
        };
        match method.levels() {
            Some(range) if range.contains(&level) => Ok(Compression { method, level }),
            Some(range) => Err(format!(
                "level {level} is out of range for {method} ({}..={})",
                range.start(),
                range.end()
            )),
            None => Err(format!("--level does not apply to --compress {method}")),
        }
    }
}

impl Default for Compression {
    fn default() -> Self {
        Compression {
            method: Method::Gzip,
            level: Method::Gzip.default_level(),
        }
    }
}

/// A compressing writer that can be finished into its output.
pub trait Encoder<W>: Write + Send {
    /// Writes any trailer and returns the output.
    fn finish(self: Box<Self>) -> io::Result<W>;
}

struct Plain<W>(W);

impl<W: Write> Write for Plain<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> Encoder<W> for Plain<W> {
    fn finish(mut self: Box<Self>) -> io::Result<W> {
        self.0.flush()?;
        Ok(self.0)
    }
}

impl<W: Write + Send> Encoder<W> for flate2::write::GzEncoder<W> {
    fn finish(self: Box<Self>) -> io::Result<W> {
        flate2::write::GzEncoder::finish(*self)
    }
}

/// Wraps `out` in the encoder for `c`. The gzip header carries no file
/// name and mtime 0, so equal input gives equal output.
pub fn encoder<W: Write + Send + 'static>(c: Compression, out: W) -> Box<dyn Encoder<W>> {
    match c.method {
        Method::None => Box::new(Plain(out)),
        Method::Gzip => Box::new(
            flate2::GzBuilder::new()
                .mtime(0)
                .write(out, flate2::Compression::new(c.level)),
        ),
    }
}

/// Size of the chunks handed to the compression thread.
const CHUNK: usize = 1 << 20;
/// Chunks in flight between the two threads.
const DEPTH: usize = 4;

/// A writer that hands its data to an [`Encoder`] on another thread.
pub struct Threaded<W> {
    tx: Option<SyncSender<Vec<u8>>>,
    recycled: Receiver<Vec<u8>>,
    handle: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Send + 'static> Threaded<W> {
    pub fn spawn(mut enc: Box<dyn Encoder<W>>) -> io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(DEPTH);
        let (back_tx, recycled) = mpsc::sync_channel::<Vec<u8>>(DEPTH + 1);
        let handle = std::thread::Builder::new()
            .name("compress".into())
            .spawn(move || {
                for mut chunk in rx {
                    enc.write_all(&chunk)?;
                    chunk.clear();
                    let _ = back_tx.try_send(chunk);
                }
                enc.finish()
            })?;
        Ok(Threaded {
            tx: Some(tx),
            recycled,
            handle: Some(handle),
        })
    }

    /// Closes the channel and waits for the thread's result.
    fn join(&mut self) -> io::Result<W> {
        self.tx = None;
        let Some(handle) = self.handle.take() else {
            return Err(io::Error::other("compression thread already finished"));
        };
        match handle.join() {
            Ok(result) => result,
            Err(_) => Err(io::Error::other("compression thread panicked")),
        }
    }

    /// Ends the stream and returns the encoder's output.
    pub fn finish(mut self) -> io::Result<W> {
        self.join()
    }
}

impl<W> Drop for Threaded<W> {
    /// On an error path: stop the thread and wait for it.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl<W: Send + 'static> Write for Threaded<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut chunk = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK.max(buf.len())));
        chunk.extend_from_slice(buf);
        let sent = match &self.tx {
            Some(tx) => tx.send(chunk).is_ok(),
            None => false,
        };
        if sent {
            return Ok(buf.len());
        }
        // The thread stopped early: report its error.
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(io::Error::other("compression thread stopped early")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Formats an initramfs segment can start with, by magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Cpio,
    Gzip,
    Bzip2,
    Lzma,
    Xz,
    Lzo,
    Lz4,
    Zstd,
}

impl Format {
    /// Recognizes the format from the first bytes (as the kernel's
    /// `decompress_method` does); `None` for unknown data.
    pub fn sniff(head: &[u8]) -> Option<Format> {
        const MAGICS: [(&[u8], Format); 9] = [
            (b"0707", Format::Cpio),
            (&[0x1f, 0x8b], Format::Gzip),
            (&[0x1f, 0x9e], Format::Gzip),
            (b"BZh", Format::Bzip2),
            (&[0x5d, 0x00, 0x00], Format::Lzma),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], Format::Xz),
            (&[0x89, b'L', b'Z', b'O'], Format::Lzo),
            (&[0x02, 0x21, 0x4c, 0x18], Format::Lz4),
            (&[0x28, 0xb5, 0x2f, 0xfd], Format::Zstd),
        ];
        MAGICS
            .iter()
            .find(|(magic, _)| head.starts_with(magic))
            .map(|(_, f)| *f)
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Cpio => "uncompressed cpio",
            Format::Gzip => "gzip",
            Format::Bzip2 => "bzip2",
            Format::Lzma => "lzma",
            Format::Xz => "xz",
            Format::Lzo => "lzo",
            Format::Lz4 => "lz4",
            Format::Zstd => "zstd",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn compress(c: Compression, data: &[u8]) -> Vec<u8> {
        let mut t = Threaded::spawn(encoder(c, Vec::new())).unwrap();
        for piece in data.chunks(1000) {
            t.write_all(piece).unwrap();
        }
        t.finish().unwrap()
    }

    #[test]
    fn gzip_round_trip_and_reproducible_header() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let gz = compress(Compression::default(), &data);
        assert_eq!(&gz[..4], &[0x1f, 0x8b, 8, 0]); // no FNAME flag
        assert_eq!(&gz[4..8], &[0, 0, 0, 0]); // mtime 0
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        assert_eq!(gz, compress(Compression::default(), &data));
    }

    #[test]
    fn none_is_identity() {
        let c = Compression::new(Method::None, None).unwrap();
        assert_eq!(compress(c, b"abc"), b"abc");
    }

    #[test]
    fn levels_are_checked() {
        assert!(Compression::new(Method::Gzip, Some(10)).is_err());
        assert!(Compression::new(Method::None, Some(1)).is_err());
        assert_eq!(Compression::new(Method::Gzip, Some(9)).unwrap().level, 9);
        assert!("zip".parse::<Method>().is_err());
    }

    #[test]
    fn sniffing() {
        assert_eq!(Format::sniff(b"070701..."), Some(Format::Cpio));
        assert_eq!(Format::sniff(&[0x1f, 0x8b, 8]), Some(Format::Gzip));
        assert_eq!(Format::sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Some(Format::Zstd));
        assert_eq!(Format::sniff(b"garbage"), None);
    }
}

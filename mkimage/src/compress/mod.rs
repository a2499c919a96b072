//! Compression of the output stream, in the forms the kernel unpacks.
//!
//! A [`Method`] names an algorithm; [`encoder`] wraps an output in it.
//! Every encoder gives equal output for equal input:
//! - gzip: no file name, mtime 0; on every core ([`pgzip`]), its
//!   output independent of the number of threads;
//! - zstd: multi-threaded, whose output does not depend on the number of
//!   threads; with a checksum, window at most 8 MiB (levels up to 19);
//! - xz: preset levels with the CRC32 check, the only check (besides none)
//!   the kernel's XZ decoder knows; on every core, in blocks;
//! - lz4: the legacy frame format, the only one the kernel reads.
//!
//! [`threaded::Threaded`] runs an encoder on its own thread.

pub(crate) mod decompress;
pub(crate) mod kconfig;
pub(crate) mod lz4legacy;
pub(crate) mod pgzip;
pub(crate) mod threaded;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use liblzma::stream::Stream;

use crate::compress::lz4legacy::Lz4Writer;
use crate::compress::pgzip::ParallelGz;

/// A compression algorithm for the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    None,
    Gzip,
    Zstd,
    Xz,
    Lz4,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Zstd,
        Method::Gzip,
        Method::Xz,
        Method::Lz4,
        Method::None,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::None => "none",
            Method::Gzip => "gzip",
            Method::Zstd => "zstd",
            Method::Xz => "xz",
            Method::Lz4 => "lz4",
        }
    }

    /// Allowed levels; `None` when the method has no levels.
    pub fn levels(self) -> Option<std::ops::RangeInclusive<u32>> {
        match self {
            Method::None | Method::Lz4 => None,
            Method::Gzip | Method::Xz => Some(0..=9),
            Method::Zstd => Some(1..=19),
        }
    }

    pub fn default_level(self) -> u32 {
        match self {
            Method::None | Method::Lz4 => 0,
            Method::Gzip | Method::Xz => 6,
            Method::Zstd => 3,
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
        match Method::ALL.iter().find(|m| m.name() == s) {
            Some(m) => Ok(*m),
            None => Err(format!(
                "unknown compression {s:?} (known: zstd, gzip, xz, lz4, none)"
            )),
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

impl<W: Write + Send> Encoder<W> for ParallelGz<W> {
    fn finish(self: Box<Self>) -> io::Result<W> {
        ParallelGz::finish(*self)
    }
}

impl<W: Write + Send> Encoder<W> for zstd::stream::write::Encoder<'static, W> {
    fn finish(self: Box<Self>) -> io::Result<W> {
        zstd::stream::write::Encoder::finish(*self)
    }
}

impl<W: Write + Send> Encoder<W> for liblzma::write::XzEncoder<W> {
    fn finish(self: Box<Self>) -> io::Result<W> {
        liblzma::write::XzEncoder::finish(*self)
    }
}

impl<W: Write + Send> Encoder<W> for Lz4Writer<W> {
    fn finish(self: Box<Self>) -> io::Result<W> {
        Lz4Writer::finish(*self)
    }
}

/// Available cores: the worker threads for zstd, gzip and xz.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Worker threads for zstd: one per available core.
pub fn zstd_workers() -> u32 {
    cores() as u32
}

/// A zstd encoder with `workers` threads (at least 1, so that the output
/// is that of the multi-threaded compressor whatever the count).
pub fn zstd_encoder<W: Write>(
    out: W,
    level: u32,
    workers: u32,
) -> io::Result<zstd::stream::write::Encoder<'static, W>> {
    let mut enc = zstd::stream::write::Encoder::new(out, level as i32)?;
    enc.multithread(workers.max(1))?;
    enc.include_checksum(true)?;
    Ok(enc)
}

/// An xz stream with the CRC32 check, on `threads` threads. liblzma's
/// multi-threaded encoder cuts the input into independent blocks (3 times
/// the dictionary, 24 MiB at level 6, unless `block_size`), so its output
/// depends on the block size, never on the thread count; the kernel's
/// decoder reads several blocks, and the sizes their headers then carry.
pub fn xz_stream(level: u32, threads: u32, block_size: Option<u64>) -> io::Result<Stream> {
    let mut b = liblzma::stream::MtStreamBuilder::new();
    b.threads(threads.max(1))
        .preset(level)
        .check(liblzma::stream::Check::Crc32);
    if let Some(size) = block_size {
        b.block_size(size);
    }
    Ok(b.encoder()?)
}

/// Wraps `out` in the encoder for `c`.
pub fn encoder<W: Write + Send + 'static>(
    c: Compression,
    out: W,
) -> io::Result<Box<dyn Encoder<W>>> {
    Ok(match c.method {
        Method::None => Box::new(Plain(out)),
        Method::Gzip => Box::new(ParallelGz::new(out, c.level, cores())?),
        Method::Zstd => Box::new(zstd_encoder(out, c.level, zstd_workers())?),
        Method::Xz => Box::new(liblzma::write::XzEncoder::new_stream(
            out,
            xz_stream(c.level, cores() as u32, None)?,
        )),
        Method::Lz4 => Box::new(Lz4Writer::new(out)),
    })
}

#[cfg(test)]
mod tests;

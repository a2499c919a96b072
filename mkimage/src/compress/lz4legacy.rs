//! The LZ4 "legacy" frame format, the only LZ4 format the kernel's
//! `lib/decompress_unlz4.c` reads (as written by `lz4 -l`).
//!
//! A stream is the magic 0x184C2102 (little endian) followed by blocks.
//! Each block is a u32 LE compressed size and an LZ4 block of at most
//! 8 MiB of uncompressed data. There is no end mark, no checksum and no
//! content size. The kernel reads blocks until its input ends; a repeated
//! magic starts a new stream, and (since Linux 5.12) a zero size or fewer
//! than 4 bytes left are taken as the end, which lets zero padding and a
//! further segment follow.

use std::io::{self, BufRead, Read, Write};

/// Magic of a legacy stream.
pub const MAGIC: u32 = 0x184C_2102;
/// Uncompressed size of every block but the last.
pub const BLOCK: usize = 8 << 20;
/// Largest compressed block: LZ4_compressBound(BLOCK), as the kernel checks.
pub const MAX_COMPRESSED: usize = BLOCK + BLOCK / 255 + 16;

/// Writes a legacy stream; [`Lz4Writer::finish`] writes the last block.
pub struct Lz4Writer<W> {
    out: W,
    block: Vec<u8>,
    packed: Vec<u8>,
    started: bool,
}

impl<W: Write> Lz4Writer<W> {
    pub fn new(out: W) -> Self {
        Lz4Writer {
            out,
            block: Vec::with_capacity(BLOCK),
            packed: Vec::new(),
            started: false,
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.out.write_all(&MAGIC.to_le_bytes())?;
            self.started = true;
        }
        Ok(())
    }

    /// Compresses and writes the buffered block, if any.
    fn write_block(&mut self) -> io::Result<()> {
        self.start()?;
        if self.block.is_empty() {
            return Ok(());
        }
        let bound = lz4_flex::block::get_maximum_output_size(self.block.len());
        self.packed.resize(bound, 0);
        let n = lz4_flex::block::compress_into(&self.block, &mut self.packed)
            .map_err(io::Error::other)?;
        self.out.write_all(&(n as u32).to_le_bytes())?;
        self.out.write_all(&self.packed[..n])?;
        self.block.clear();
        Ok(())
    }

    /// Writes the last block and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_block()?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for Lz4Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == BLOCK {
            self.write_block()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads one legacy stream from `R`, stopping where the kernel stops.
pub struct Lz4Reader<R> {
    inner: R,
    packed: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    started: bool,
    done: bool,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl<R: BufRead> Lz4Reader<R> {
    pub fn new(inner: R) -> Self {
        Lz4Reader {
            inner,
            packed: Vec::new(),
            out: Vec::new(),
            pos: 0,
            started: false,
            done: false,
        }
    }

    /// The next u32; `None` at the end of the input, or where fewer than
    /// 4 bytes are left and they are zero padding.
    fn word(&mut self) -> io::Result<Option<u32>> {
        let mut raw = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match self.inner.read(&mut raw[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        match got {
            4 => Ok(Some(u32::from_le_bytes(raw))),
            _ if raw.iter().all(|&b| b == 0) => Ok(None),
            _ => Err(invalid(format!(
                "lz4 stream ends in a partial block size ({got} bytes)"
            ))),
        }
    }

    /// Decodes the next block into `out`; false at the end of the stream.
    fn next_block(&mut self) -> io::Result<bool> {
        if !self.started {
            self.started = true;
            if self.word()? != Some(MAGIC) {
                return Err(invalid("no lz4 legacy magic".into()));
            }
        }
        let size = loop {
            match self.word()? {
                Some(MAGIC) => continue,
                Some(0) | None => return Ok(false),
                Some(size) => break size as usize,
            }
        };
        if size > MAX_COMPRESSED {
            return Err(invalid(format!(
                "lz4 block of {size} bytes is larger than the limit of {MAX_COMPRESSED}"
            )));
        }
        self.packed.resize(size, 0);
        self.inner
            .read_exact(&mut self.packed)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => {
                    invalid(format!("lz4 block of {size} bytes is cut short"))
                }
                _ => e,
            })?;
        self.out.resize(BLOCK, 0);
        let n = lz4_flex::block::decompress_into(&self.packed, &mut self.out)
            .map_err(|e| invalid(format!("bad lz4 block: {e}")))?;
        self.out.truncate(n);
        self.pos = 0;
        Ok(true)
    }
}

impl<R: BufRead> Read for Lz4Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            if !self.next_block()? {
                self.done = true;
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(data: &[u8]) -> Vec<u8> {
        let mut w = Lz4Writer::new(Vec::new());
        for piece in data.chunks(100_000) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    fn unpack(data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Lz4Reader::new(data).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn blocks_are_8_mib_with_sizes() {
        let data: Vec<u8> = (0..BLOCK + 1000).map(|i| (i % 253) as u8).collect();
        let packed = pack(&data);
        assert_eq!(&packed[..4], &[0x02, 0x21, 0x4c, 0x18]);
        let first = u32::from_le_bytes(packed[4..8].try_into().unwrap()) as usize;
        let second = &packed[8 + first..];
        let size = u32::from_le_bytes(second[..4].try_into().unwrap()) as usize;
        assert_eq!(second.len(), 4 + size);
        let tail = lz4_flex::block::decompress(&second[4..], 1000).unwrap();
        assert_eq!(tail, data[BLOCK..]);
        assert_eq!(unpack(&packed).unwrap(), data);
    }

    #[test]
    fn empty_input_is_just_the_magic() {
        assert_eq!(pack(b""), MAGIC.to_le_bytes());
        assert_eq!(unpack(&pack(b"")).unwrap(), b"");
    }

    #[test]
    fn the_reader_stops_where_the_kernel_stops() {
        let mut two = pack(b"one ");
        two.extend_from_slice(&pack(b"two"));
        assert_eq!(unpack(&two).unwrap(), b"one two");
        let mut padded = pack(b"data");
        padded.extend_from_slice(&[0; 8]);
        padded.extend_from_slice(b"07070100");
        let mut input = &padded[..];
        let mut out = Vec::new();
        Lz4Reader::new(&mut input).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"data");
        assert!(input.ends_with(b"07070100"));
    }

    #[test]
    fn damage_is_an_error() {
        let packed = pack(b"some data that compresses, some data that compresses");
        assert!(unpack(&packed[..packed.len() - 3]).is_err());
        assert!(unpack(&packed[..6]).is_err());
        assert!(unpack(b"\x02\x21\x4c\x18\xff\xff\xff\x7f").is_err());
        assert!(unpack(b"junk").is_err());
    }
}

//! Recognition and decompression of image segments.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::compress::lz4legacy::Lz4Reader;

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

/// A reader of the decompressed data of one segment of format `f` that
/// starts at the beginning of `input`. It reads one gzip member, zstd
/// frame, xz stream or lz4 legacy stream and leaves the rest of `input`
/// unread. `None` for a format that cannot be read.
pub fn decoder<'a, R: BufRead + 'a>(f: Format, input: R) -> io::Result<Option<Box<dyn Read + 'a>>> {
    Ok(Some(match f {
        Format::Gzip => Box::new(flate2::bufread::GzDecoder::new(input)),
        Format::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(input)?.single_frame()),
        Format::Xz => xz(input, 0)?,
        Format::Lz4 => Box::new(Lz4Reader::new(input)),
        Format::Cpio | Format::Bzip2 | Format::Lzma | Format::Lzo => return Ok(None),
    }))
}

/// The memory an xz stream may need to be decoded. Its header states
/// the dictionary size, up to 4 GiB: a stream made to ask for that is
/// refused instead of served. xz -9 needs 65 MiB, the kernel's own
/// decoder allows far less.
pub const XZ_MEMLIMIT: u64 = 256 << 20;

fn xz<'a, R: BufRead + 'a>(input: R, flags: u32) -> io::Result<Box<dyn Read + 'a>> {
    let stream = liblzma::stream::Stream::new_stream_decoder(XZ_MEMLIMIT, flags)?;
    Ok(Box::new(MemLimited(
        liblzma::bufread::XzDecoder::new_stream(input, stream),
    )))
}

/// Says what liblzma's "memory limit reached" means here.
struct MemLimited<R>(R);

impl<R: Read> Read for MemLimited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            let inner = e.get_ref().and_then(|i| i.downcast_ref());
            if matches!(inner, Some(liblzma::stream::Error::MemLimit)) {
                io::Error::other(format!(
                    "xz: the stream needs more than {} MiB of memory to decode (its dictionary size); not decoded",
                    XZ_MEMLIMIT >> 20
                ))
            } else {
                e
            }
        })
    }
}

/// The decompressed contents of the gzip, xz or zstd file at `path`
/// (every member, stream or frame of it), recognized by its magic.
pub fn open_stream(path: &Path) -> io::Result<Box<dyn Read>> {
    let mut input = BufReader::new(File::open(path)?);
    let head = input.fill_buf()?;
    Ok(match Format::sniff(head) {
        Some(Format::Gzip) => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
        Some(Format::Zstd) => Box::new(zstd::stream::read::Decoder::with_buffer(input)?),
        Some(Format::Xz) => xz(input, liblzma::stream::CONCATENATED)?,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not gzip, xz or zstd data",
            ))
        }
    })
}

/// All of the decompressed contents of the file at `path`.
pub fn read_all(path: &Path) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    open_stream(path)?.read_to_end(&mut data)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(Format::sniff(b"070701..."), Some(Format::Cpio));
        assert_eq!(Format::sniff(&[0x1f, 0x8b, 8]), Some(Format::Gzip));
        assert_eq!(Format::sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Some(Format::Zstd));
        assert_eq!(Format::sniff(b"garbage"), None);
    }

    #[test]
    fn unreadable_formats_have_no_decoder() {
        assert!(decoder(Format::Bzip2, &b"BZh9"[..]).unwrap().is_none());
        assert!(decoder(Format::Cpio, &b"070701"[..]).unwrap().is_none());
    }
}

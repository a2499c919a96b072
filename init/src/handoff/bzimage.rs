//! Is this file an x86-64 kernel kexec_file_load(2) will take? The checks
//! of the kernel's own probe (`arch/x86/kernel/kexec-bzimage64.c`), on
//! the setup header (Documentation/arch/x86/boot.rst).

use crate::fsread::{Links, ReadError};
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

const SETUP_SECTS: usize = 0x1F1;
const BOOT_FLAG: usize = 0x1FE;
const HEADER: usize = 0x202;
const VERSION: usize = 0x206;
const LOADFLAGS: usize = 0x211;
const XLOADFLAGS: usize = 0x236;
const CMDLINE_SIZE: usize = 0x238;
/// Bytes of the file the checks look at.
pub const HEADER_LEN: usize = CMDLINE_SIZE + 4;

const LOADED_HIGH: u8 = 1;
const XLF_KERNEL_64: u16 = 1;
const XLF_CAN_BE_LOADED_ABOVE_4G: u16 = 2;
/// kexec_file_load refuses older boot protocols (2.12 added xloadflags).
const MIN_PROTOCOL: u16 = 0x020C;

/// What the setup header says about a kernel that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BzImage {
    /// Boot protocol version, e.g. `0x020F` for 2.15.
    pub protocol: u16,
    /// 512-byte sectors of real-mode setup code (0 in the file means 4).
    pub setup_sects: u16,
    pub xloadflags: u16,
    /// Longest command line the kernel takes, without the NUL.
    pub cmdline_size: u32,
    pub file_len: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct BzImageError {
    pub path: PathBuf,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("cannot read: {0}")]
    Io(io::Error),
    #[error("not a regular file ({0})")]
    NotAFile(&'static str),
    #[error("{0} bytes: too short to be a kernel (truncated?)")]
    TooShort(u64),
    #[error("not an x86 kernel (bzImage): no \"HdrS\" setup header magic at 0x202")]
    NoMagic,
    #[error("not an x86 kernel (bzImage): no 0xAA55 boot flag at 0x1FE")]
    NoBootFlag,
    #[error("boot protocol {} is too old: kexec_file_load needs 2.12 or later", Protocol(*.0))]
    OldProtocol(u16),
    #[error("a zImage, not a bzImage (LOADED_HIGH is not set)")]
    NotLoadedHigh,
    #[error("not a 64-bit kernel (XLF_KERNEL_64 is not set)")]
    Not64Bit,
    #[error("cannot be loaded above 4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G is not set)")]
    Not4G,
    #[error("truncated: {len} bytes, but the setup code alone takes {need}")]
    Truncated { len: u64, need: u64 },
}

struct Protocol(u16);

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 >> 8, self.0 & 0xFF)
    }
}

impl fmt::Display for BzImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "x86-64 bzImage, boot protocol {}, {} bytes",
            Protocol(self.protocol),
            self.file_len
        )
    }
}

/// Reads the header of the kernel at `path` and checks it.
pub fn inspect(path: &Path) -> Result<BzImage, BzImageError> {
    let fail = |problem| BzImageError {
        path: path.to_path_buf(),
        problem,
    };
    let (file, len) = match crate::fsread::open_regular(path, Links::Follow) {
        Ok(found) => found,
        Err(ReadError::NotRegular(what)) => return Err(fail(Problem::NotAFile(what))),
        Err(e) => return Err(fail(Problem::Io(e.into()))),
    };
    let mut head = Vec::with_capacity(HEADER_LEN);
    file.take(HEADER_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| fail(Problem::Io(e)))?;
    parse_header(&head, len).map_err(fail)
}

/// The longest command line the kernel in the open `file` takes
/// (`cmdline_size`), if its header passes; for the messages of a load.
pub fn cmdline_size_of(file: &std::fs::File) -> Option<u32> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata().ok()?.len();
    let mut head = vec![0; HEADER_LEN];
    let n = file.read_at(&mut head, 0).ok()?;
    head.truncate(n);
    parse_header(&head, len).ok().map(|b| b.cmdline_size)
}

/// Checks a kernel's first bytes (`head`, at least [`HEADER_LEN`] of
/// them unless the file is shorter); `file_len` is the whole file's size.
pub fn parse_header(head: &[u8], file_len: u64) -> Result<BzImage, Problem> {
    // The kernel's probe wants two sectors at least.
    if file_len < 1024 || head.len() < HEADER_LEN {
        return Err(Problem::TooShort(file_len));
    }
    if head.get(HEADER..HEADER + 4) != Some(b"HdrS".as_slice()) {
        return Err(Problem::NoMagic);
    }
    if u16_at(head, BOOT_FLAG) != 0xAA55 {
        return Err(Problem::NoBootFlag);
    }
    let protocol = u16_at(head, VERSION);
    if protocol < MIN_PROTOCOL {
        return Err(Problem::OldProtocol(protocol));
    }
    if head[LOADFLAGS] & LOADED_HIGH == 0 {
        return Err(Problem::NotLoadedHigh);
    }
    let xloadflags = u16_at(head, XLOADFLAGS);
    if xloadflags & XLF_KERNEL_64 == 0 {
        return Err(Problem::Not64Bit);
    }
    if xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G == 0 {
        return Err(Problem::Not4G);
    }
    let setup_sects = match head[SETUP_SECTS] {
        0 => 4,
        n => u16::from(n),
    };
    let need = (u64::from(setup_sects) + 1) * 512;
    if file_len <= need {
        return Err(Problem::Truncated {
            len: file_len,
            need,
        });
    }
    let cmdline_size = u32::from_le_bytes([
        head[CMDLINE_SIZE],
        head[CMDLINE_SIZE + 1],
        head[CMDLINE_SIZE + 2],
        head[CMDLINE_SIZE + 3],
    ]);
    Ok(BzImage {
        protocol,
        setup_sects,
        xloadflags,
        cmdline_size,
        file_len,
    })
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// A minimal header that passes every check, for tests: `len` bytes.
#[cfg(test)]
pub fn fake_kernel(len: usize) -> Vec<u8> {
    let mut k = vec![0u8; len.max(HEADER_LEN)];
    k[SETUP_SECTS] = 1;
    k[BOOT_FLAG..BOOT_FLAG + 2].copy_from_slice(&0xAA55u16.to_le_bytes());
    k[HEADER..HEADER + 4].copy_from_slice(b"HdrS");
    k[VERSION..VERSION + 2].copy_from_slice(&0x020Fu16.to_le_bytes());
    k[LOADFLAGS] = LOADED_HIGH;
    k[XLOADFLAGS..XLOADFLAGS + 2].copy_from_slice(&0x7Fu16.to_le_bytes());
    k[CMDLINE_SIZE..CMDLINE_SIZE + 4].copy_from_slice(&2047u32.to_le_bytes());
    k.truncate(len);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(k: &[u8]) -> Result<BzImage, Problem> {
        parse_header(&k[..k.len().min(HEADER_LEN)], k.len() as u64)
    }

    #[test]
    fn accepts_a_good_header() {
        let b = check(&fake_kernel(0x1000)).unwrap();
        assert_eq!(
            (b.protocol, b.setup_sects, b.cmdline_size, b.file_len),
            (0x020F, 1, 2047, 0x1000)
        );
        assert_eq!(Protocol(b.protocol).to_string(), "2.15");
        assert_eq!(
            b.to_string(),
            "x86-64 bzImage, boot protocol 2.15, 4096 bytes"
        );
    }

    #[test]
    fn zero_setup_sects_means_four() {
        let mut k = fake_kernel(0x1000);
        k[SETUP_SECTS] = 0;
        assert_eq!(check(&k).unwrap().setup_sects, 4);
        k.truncate(5 * 512);
        assert!(matches!(
            check(&k),
            Err(Problem::Truncated {
                len: 2560,
                need: 2560
            })
        ));
    }

    #[test]
    fn rejects_each_broken_field() {
        type Edit = fn(&mut Vec<u8>);
        let cases: [(Edit, &str); 7] = [
            (|k| k[HEADER] = b'X', "no \"HdrS\""),
            (|k| k[BOOT_FLAG] = 0, "0xAA55"),
            (
                |k| k[VERSION..VERSION + 2].copy_from_slice(&0x0206u16.to_le_bytes()),
                "boot protocol 2.06 is too old",
            ),
            (|k| k[LOADFLAGS] = 0, "zImage"),
            (|k| k[XLOADFLAGS] = 2, "XLF_KERNEL_64"),
            (|k| k[XLOADFLAGS] = 1, "XLF_CAN_BE_LOADED_ABOVE_4G"),
            (|k| k.truncate(1000), "too short"),
        ];
        for (edit, msg) in cases {
            let mut k = fake_kernel(0x1000);
            edit(&mut k);
            let e = check(&k).unwrap_err().to_string();
            assert!(e.contains(msg), "{e:?} should mention {msg:?}");
        }
    }

    #[test]
    fn garbage_and_prefixes_are_rejected_without_panic() {
        let garbage: Vec<u8> = (0..0x1000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(matches!(check(&garbage), Err(Problem::NoMagic)));
        let good = fake_kernel(0x1000);
        for n in 0..HEADER_LEN + 2 {
            assert!(parse_header(&good[..n.min(HEADER_LEN)], n as u64).is_err());
        }
    }
}

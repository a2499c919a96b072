//! Size warnings: an image larger than some boot paths can load, or a
//! single file so large it is probably there by mistake.
//!
//! The image limits are facts of boot loaders and formats, checked against
//! the whole output file (all segments); the file limit is a judgement.

use std::fmt;
use std::str::FromStr;

use crate::tree::{show, Entry, Kind};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Image sizes known to fail somewhere, largest first, with the reason.
pub const IMAGE_LIMITS: [(u64, &str); 3] = [
    (
        4 * GIB - 1,
        "ISO 9660 stores a file of 4 GiB or more only in several extents, \
         which older isolinux and GRUB do not read",
    ),
    (
        2 * GIB - 1,
        "the x86 boot protocol's initrd_addr_max (2 GiB - 1): BIOS loaders \
         such as GRUB's i386-pc and SYSLINUX must load the whole image below it",
    ),
    (
        32 * MIB - 512,
        "PXE: a TFTP client without block-number rollover or a larger \
         blksize stops at 65535 blocks of 512 bytes",
    ),
];

/// A single file above this gets a warning: in an initramfs it costs its
/// size in RAM twice while booting (archive and tmpfs), and one this big
/// is usually a disk image, core dump or log caught by accident.
pub const FILE_LIMIT: u64 = 64 * MIB;

/// A size threshold as given on the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Limit {
    /// The documented defaults.
    #[default]
    Default,
    /// `none`: no warning.
    Off,
    /// A size in bytes.
    At(u64),
}

impl FromStr for Limit {
    type Err = String;

    /// `none`, or a number of bytes with an optional K, M or G (powers of
    /// 1024).
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "none" {
            return Ok(Limit::Off);
        }
        let bad = || format!("{s:?} is not a size (N, NK, NM, NG or none)");
        let (digits, unit) = match s.char_indices().last() {
            Some((i, 'K')) => (&s[..i], 1 << 10),
            Some((i, 'M')) => (&s[..i], MIB),
            Some((i, 'G')) => (&s[..i], GIB),
            _ => (s, 1),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        n.checked_mul(unit).map(Limit::At).ok_or_else(bad)
    }
}

/// Bytes in a short human form: `512 B`, `3.4 KiB`, `141.2 MiB`.
pub fn human(bytes: u64) -> String {
    let units = [("GiB", GIB), ("MiB", MIB), ("KiB", 1 << 10)];
    for (name, size) in units {
        if bytes >= size {
            return format!("{:.1} {name}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes} B")
}

/// The warning for an image of `size` bytes, if any.
pub fn image_warning(path: &str, size: u64, limit: Limit) -> Option<String> {
    let (max, why) = match limit {
        Limit::Off => return None,
        Limit::At(max) => (max, "the limit set by --warn-image-size"),
        Limit::Default => *IMAGE_LIMITS.iter().find(|(max, _)| size > *max)?,
    };
    (size > max).then(|| {
        format!(
            "{path} is {} ({size} bytes), above {} ({max} bytes): {why}",
            human(size),
            human(max)
        )
    })
}

/// A warning for each file (each hard-linked group once) above the limit.
pub fn file_warnings(entries: &[(Vec<u8>, Entry)], limit: Limit) -> Vec<String> {
    let max = match limit {
        Limit::Off => return Vec::new(),
        Limit::At(max) => max,
        Limit::Default => FILE_LIMIT,
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (name, entry) in entries {
        let size = data_size(entry);
        let first = entry.link_id.is_none_or(|id| seen.insert(id));
        if size > max && first {
            out.push(format!(
                "{} is {}, above the file size warning limit of {} (--warn-file-size)",
                show(name),
                human(size),
                human(max)
            ));
        }
    }
    out
}

/// The bytes an entry's data takes in the archive.
pub fn data_size(entry: &Entry) -> u64 {
    match &entry.kind {
        Kind::File { size, .. } | Kind::Unpacked { size, .. } => *size,
        Kind::Data { bytes } => bytes.len() as u64,
        Kind::Symlink { target } => target.len() as u64,
        _ => 0,
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Default => f.write_str("default"),
            Limit::Off => f.write_str("none"),
            Limit::At(n) => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(size: u64, link: Option<(u64, u64)>) -> Entry {
        let mut e = Entry::dir(0o644);
        e.kind = Kind::File {
            src: PathBuf::from("/src"),
            size,
        };
        e.link_id = link;
        e
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!("100".parse(), Ok(Limit::At(100)));
        assert_eq!("4K".parse(), Ok(Limit::At(4096)));
        assert_eq!("32M".parse(), Ok(Limit::At(32 << 20)));
        assert_eq!("2G".parse(), Ok(Limit::At(2 << 30)));
        assert_eq!("none".parse(), Ok(Limit::Off));
        for bad in ["", "M", "-1", "1.5M", "12Q", "99999999999999999999G", "1 M"] {
            assert!(bad.parse::<Limit>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn image_warnings_name_the_largest_limit_passed() {
        assert_eq!(image_warning("i", 32 * MIB - 512, Limit::Default), None);
        let w = image_warning("i", 40 * MIB, Limit::Default).unwrap();
        assert!(w.contains("TFTP") && w.contains("40.0 MiB"), "{w}");
        let w = image_warning("i", 3 * GIB, Limit::Default).unwrap();
        assert!(w.contains("initrd_addr_max"), "{w}");
        assert_eq!(image_warning("i", 5 * GIB, Limit::Off), None);
        let w = image_warning("img", 2000, Limit::At(1000)).unwrap();
        assert!(
            w.starts_with("img is 2.0 KiB") && w.contains("--warn-image-size"),
            "{w}"
        );
        assert_eq!(image_warning("i", 1000, Limit::At(1000)), None);
    }

    #[test]
    fn file_warnings_count_hard_links_once() {
        let entries = vec![
            (b"big".to_vec(), file(100, Some((1, 1)))),
            (b"big2".to_vec(), file(100, Some((1, 1)))),
            (b"small".to_vec(), file(10, None)),
            (b"other".to_vec(), file(200, None)),
        ];
        let w = file_warnings(&entries, Limit::At(50));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("/big is 100 B"), "{w:?}");
        assert!(w[1].starts_with("/other "), "{w:?}");
        assert!(file_warnings(&entries, Limit::Default).is_empty());
        assert!(file_warnings(&entries, Limit::Off).is_empty());
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(141 * MIB), "141.0 MiB");
    }
}

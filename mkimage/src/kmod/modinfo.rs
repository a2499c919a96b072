//! A kernel module's own metadata: the `.modinfo` section of its `.ko`
//! file (an ELF relocatable object), NUL-separated `key=value` strings,
//! as `modinfo` shows them. Of those, `depends=` (module names, comma
//! separated), `softdep=` (`pre: a b post: c`), `alias=`, `firmware=` and
//! `name=` are used. A module file may be compressed: `NAME.ko.xz`,
//! `NAME.ko.zst` or `NAME.ko.gz`.

use std::io;
use std::path::{Path, PathBuf};

use kmodfmt::{normalize, split_file_name};

use crate::compress::decompress;
use crate::elf::{self, ElfErrorKind, FileSource, Source};

const SHT_NOBITS: u32 = 8;
const SHN_XINDEX: u32 = 0xffff;

/// What the `.modinfo` section of a module says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModInfo {
    /// `name=`: the module's own name (newer kernels only).
    pub name: Option<String>,
    /// `depends=`: the modules it needs, normalized.
    pub depends: Vec<String>,
    /// `softdep=` values, as written.
    pub softdeps: Vec<String>,
    /// `alias=` patterns, as written.
    pub aliases: Vec<String>,
    /// `firmware=` files, relative to the firmware directory.
    pub firmware: Vec<String>,
    /// `vermagic=`: the kernel release it was built for, and more.
    pub vermagic: Option<String>,
}

impl ModInfo {
    /// Reads the NUL-separated `key=value` strings of a `.modinfo`
    /// section; empty strings (padding) and other keys are skipped.
    pub fn from_strings(raw: &[u8]) -> ModInfo {
        let mut info = ModInfo::default();
        for item in raw.split(|&b| b == 0) {
            let item = String::from_utf8_lossy(item);
            let Some((key, value)) = item.split_once('=') else {
                continue;
            };
            let value = value.to_string();
            match key {
                "name" => info.name = Some(value),
                "depends" => info
                    .depends
                    .extend(value.split(',').filter(|d| !d.is_empty()).map(normalize)),
                "softdep" => info.softdeps.push(value),
                "alias" => info.aliases.push(value),
                "firmware" if !value.is_empty() => info.firmware.push(value),
                "vermagic" => info.vermagic = Some(value),
                _ => {}
            }
        }
        info
    }
}

/// A module file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModFile {
    pub info: ModInfo,
    /// The size of the module, decompressed.
    pub size: u64,
    pub compressed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ModinfoErrorKind {
    #[error(transparent)]
    Elf(#[from] ElfErrorKind),
    #[error("cannot decompress: {0}")]
    Decompress(io::Error),
    #[error("not a kernel module: ELF type {0}, not relocatable")]
    NotRelocatable(u16),
    #[error("not a kernel module: no .modinfo section")]
    NoModinfo,
}

/// A module file that cannot be read, with its path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct ModinfoError {
    pub path: PathBuf,
    pub kind: ModinfoErrorKind,
}

/// Reads the module at `path`; a name ending in `.xz`, `.zst` or `.gz`
/// is decompressed first (whole, in memory: modules are small).
pub fn read_module(path: &Path) -> Result<ModFile, ModinfoError> {
    let err = |kind| ModinfoError {
        path: path.to_path_buf(),
        kind,
    };
    let file = path.file_name().unwrap_or_default().to_string_lossy();
    let compressed = split_file_name(&file).is_some_and(|(_, c)| c);
    let (raw, size) = if compressed {
        let data = decompress::read_all(path).map_err(|e| err(ModinfoErrorKind::Decompress(e)))?;
        (modinfo_section(&data[..]).map_err(err)?, data.len() as u64)
    } else {
        let src = FileSource::open(path).map_err(|e| err(ElfErrorKind::Io(e).into()))?;
        (modinfo_section(&src).map_err(err)?, src.size())
    };
    Ok(ModFile {
        info: ModInfo::from_strings(&raw),
        size,
        compressed,
    })
}

/// One section header, reduced to what is used.
#[derive(Debug, Clone, Copy)]
struct Section {
    name: u32,
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
}

/// The contents of the `.modinfo` section of a relocatable ELF file.
pub fn modinfo_section<S: Source + ?Sized>(src: &S) -> Result<Vec<u8>, ModinfoErrorKind> {
    let (f, header) = elf::header(src)?;
    let etype = f.u16(&header, 16);
    if etype != 1 {
        return Err(ModinfoErrorKind::NotRelocatable(etype));
    }
    let sections = sections(src, f, &header)?;
    let names = sections
        .get(names_index(f, &header, &sections))
        .ok_or_else(|| bad("the section name table index is out of range"))?;
    let names = elf::read(src, names.offset, names.size, "section name table")?;
    let is_modinfo = |s: &&Section| {
        let start = s.name as usize;
        names
            .get(start..)
            .is_some_and(|n| n.starts_with(b".modinfo\0"))
    };
    match sections.iter().find(is_modinfo) {
        Some(s) if s.kind == SHT_NOBITS => Ok(Vec::new()),
        Some(s) => Ok(elf::read(src, s.offset, s.size, ".modinfo section")?),
        None => Err(ModinfoErrorKind::NoModinfo),
    }
}

fn bad(what: &str) -> ModinfoErrorKind {
    ElfErrorKind::Bad(what.to_string()).into()
}

/// The section header table. A count of 0 means the real count is in
/// the first header's size (ELF extended numbering).
fn sections<S: Source + ?Sized>(
    src: &S,
    f: elf::Fields,
    header: &[u8],
) -> Result<Vec<Section>, ModinfoErrorKind> {
    let c64 = f.0.class64;
    let (shoff, entsize, count) = if c64 {
        (f.u64(header, 40), f.u16(header, 58), f.u16(header, 60))
    } else {
        (
            u64::from(f.u32(header, 32)),
            f.u16(header, 46),
            f.u16(header, 48),
        )
    };
    let want: u16 = if c64 { 64 } else { 40 };
    if shoff == 0 || entsize != want {
        return Err(bad(&format!(
            "no section header table, or entries of {entsize} bytes, not {want}"
        )));
    }
    let section = |h: &[u8]| {
        let at = |w64, w32| if c64 { w64 } else { w32 };
        Section {
            name: f.u32(h, 0),
            kind: f.u32(h, 4),
            offset: f.word(h, at(24, 16)),
            size: f.word(h, at(32, 20)),
            link: f.u32(h, at(40, 24)),
        }
    };
    let mut count = u64::from(count);
    if count == 0 {
        let first = elf::read(src, shoff, u64::from(want), "section header table")?;
        count = section(&first).size;
    }
    let len = count
        .checked_mul(u64::from(want))
        .ok_or_else(|| bad("too many sections"))?;
    let table = elf::read(src, shoff, len, "section header table")?;
    Ok(table.chunks_exact(want.into()).map(section).collect())
}

/// The index of the section name table; `SHN_XINDEX` means it is in the
/// first header's link field.
fn names_index(f: elf::Fields, header: &[u8], sections: &[Section]) -> usize {
    let at = if f.0.class64 { 62 } else { 50 };
    match u32::from(f.u16(header, at)) {
        SHN_XINDEX => sections.first().map_or(usize::MAX, |s| s.link as usize),
        i => i as usize,
    }
}

#[cfg(test)]
mod tests;

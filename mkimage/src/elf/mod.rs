//! The little of ELF that finding a program's libraries needs, read the
//! way the dynamic loader reads it: from the program headers only.
//!
//! The ELF header gives the class, byte order and machine; `PT_INTERP`
//! names the program interpreter; `PT_DYNAMIC` holds `DT_NEEDED`,
//! `DT_RUNPATH` and `DT_RPATH`, offsets into the string table at the
//! address `DT_STRTAB`, which a `PT_LOAD` segment maps to a file offset.
//! Nothing is ever executed.

pub(crate) mod ldconf;
pub(crate) mod ldso;

/// Where `path`, a path of the system whose root is `root` (`--sysroot`),
/// is on this host: under `root`, absolute or not.
pub fn in_root(root: &Path, path: &Path) -> PathBuf {
    if root.as_os_str().is_empty() || root == Path::new("/") {
        return path.to_path_buf();
    }
    root.join(path.strip_prefix("/").unwrap_or(path))
}

#[cfg(test)]
pub(crate) mod testelf;

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;
/// Largest table read from a file; real ones are far smaller.
const MAX_READ: u64 = 64 << 20;

/// What a library must share with the program that loads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub class64: bool,
    pub little: bool,
    pub machine: u16,
}

/// The loader's view of an ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elf {
    pub kind: Kind,
    pub interp: Option<Vec<u8>>,
    pub needed: Vec<Vec<u8>>,
    pub runpath: Option<Vec<u8>>,
    pub rpath: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ElfErrorKind {
    #[error("not an ELF file (no \\x7fELF magic)")]
    NotElf,
    #[error("truncated ELF file: the {0} lies past its end")]
    Truncated(&'static str),
    #[error("bad ELF file: {0}")]
    Bad(String),
    #[error("{0}")]
    Io(io::Error),
}

/// An ELF file that cannot be used, with its path.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct ElfError {
    pub path: PathBuf,
    pub kind: ElfErrorKind,
}

/// Bytes at an offset: a file, or a slice in tests.
pub trait Source {
    fn size(&self) -> u64;
    fn read_into(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl Source for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_into(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = offset as usize;
        buf.copy_from_slice(&self[start..start + buf.len()]);
        Ok(())
    }
}

/// A file with its size taken once.
pub struct FileSource(File, u64);

impl FileSource {
    pub fn open(path: &Path) -> io::Result<FileSource> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        Ok(FileSource(file, size))
    }
}

impl Source for FileSource {
    fn size(&self) -> u64 {
        self.1
    }
    fn read_into(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.0.read_exact_at(buf, offset)
    }
}

/// `len` bytes at `offset`, or an error naming `what` does not fit.
pub(crate) fn read<S: Source + ?Sized>(
    src: &S,
    offset: u64,
    len: u64,
    what: &'static str,
) -> Result<Vec<u8>, ElfErrorKind> {
    if len > MAX_READ {
        return Err(ElfErrorKind::Bad(format!("the {what} is {len} bytes")));
    }
    match offset.checked_add(len) {
        Some(end) if end <= src.size() => {}
        _ => return Err(ElfErrorKind::Truncated(what)),
    }
    let mut buf = vec![0; len as usize];
    src.read_into(offset, &mut buf)
        .map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => ElfErrorKind::Truncated(what),
            _ => ElfErrorKind::Io(e),
        })?;
    Ok(buf)
}

/// Reads numbers in the file's class and byte order.
#[derive(Clone, Copy)]
pub(crate) struct Fields(pub(crate) Kind);

impl Fields {
    pub(crate) fn u16(self, b: &[u8], at: usize) -> u16 {
        let raw = [b[at], b[at + 1]];
        if self.0.little {
            u16::from_le_bytes(raw)
        } else {
            u16::from_be_bytes(raw)
        }
    }
    pub(crate) fn u32(self, b: &[u8], at: usize) -> u32 {
        let raw = b[at..at + 4].try_into().expect("4 bytes");
        if self.0.little {
            u32::from_le_bytes(raw)
        } else {
            u32::from_be_bytes(raw)
        }
    }
    pub(crate) fn u64(self, b: &[u8], at: usize) -> u64 {
        let raw = b[at..at + 8].try_into().expect("8 bytes");
        if self.0.little {
            u64::from_le_bytes(raw)
        } else {
            u64::from_be_bytes(raw)
        }
    }
    /// An address or offset: 4 or 8 bytes by class.
    pub(crate) fn word(self, b: &[u8], at: usize) -> u64 {
        if self.0.class64 {
            self.u64(b, at)
        } else {
            u64::from(self.u32(b, at))
        }
    }
}

/// One program header, reduced to what is used.
#[derive(Debug, Clone, Copy)]
struct Segment {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

/// Parses the ELF file at `path`.
pub fn read_file(path: &Path) -> Result<Elf, ElfError> {
    let err = |kind| ElfError {
        path: path.to_path_buf(),
        kind,
    };
    let file = FileSource::open(path).map_err(|e| err(ElfErrorKind::Io(e)))?;
    parse(&file).map_err(err)
}

/// Reads the ELF header: the file's kind, and the header's bytes (52 or
/// 64 by class) for [`Fields`] to read more from.
pub(crate) fn header<S: Source + ?Sized>(src: &S) -> Result<(Fields, Vec<u8>), ElfErrorKind> {
    if src.size() < 4 || read(src, 0, 4, "magic")? != b"\x7fELF" {
        return Err(ElfErrorKind::NotElf);
    }
    let ident = read(src, 0, 16, "identification")?;
    let class64 = match ident[4] {
        1 => false,
        2 => true,
        c => return Err(ElfErrorKind::Bad(format!("unknown class {c}"))),
    };
    let little = match ident[5] {
        1 => true,
        2 => false,
        d => return Err(ElfErrorKind::Bad(format!("unknown byte order {d}"))),
    };
    let header_len = if class64 { 64 } else { 52 };
    let header = read(src, 0, header_len, "ELF header")?;
    let f = Fields(Kind {
        class64,
        little,
        machine: 0,
    });
    let kind = Kind {
        machine: f.u16(&header, 18),
        ..f.0
    };
    Ok((Fields(kind), header))
}

/// Parses an ELF executable or shared library.
pub fn parse<S: Source + ?Sized>(src: &S) -> Result<Elf, ElfErrorKind> {
    let (f, header) = header(src)?;
    let kind = f.0;
    match f.u16(&header, 16) {
        2 | 3 => {}
        t => {
            return Err(ElfErrorKind::Bad(format!(
                "type {t} is not an executable or shared library"
            )))
        }
    }
    let segments = segments(src, f, &header)?;
    let interp = match segments.iter().find(|s| s.kind == PT_INTERP) {
        Some(s) => Some(interp(src, s)?),
        None => None,
    };
    let mut elf = Elf {
        kind,
        interp,
        needed: Vec::new(),
        runpath: None,
        rpath: None,
    };
    if let Some(dynamic) = segments.iter().find(|s| s.kind == PT_DYNAMIC) {
        read_dynamic(src, f, dynamic, &segments, &mut elf)?;
    }
    Ok(elf)
}

fn segments<S: Source + ?Sized>(
    src: &S,
    f: Fields,
    header: &[u8],
) -> Result<Vec<Segment>, ElfErrorKind> {
    let (phoff, entsize, count) = if f.0.class64 {
        (f.u64(header, 32), f.u16(header, 54), f.u16(header, 56))
    } else {
        (
            u64::from(f.u32(header, 28)),
            f.u16(header, 42),
            f.u16(header, 44),
        )
    };
    let want = if f.0.class64 { 56 } else { 32 };
    if count > 0 && entsize != want {
        return Err(ElfErrorKind::Bad(format!(
            "program header size {entsize}, not {want}"
        )));
    }
    let table = read(
        src,
        phoff,
        u64::from(count) * u64::from(want),
        "program header table",
    )?;
    let segment = |p: &[u8]| {
        let at = |w64, w32| if f.0.class64 { w64 } else { w32 };
        Segment {
            kind: f.u32(p, 0),
            offset: f.word(p, at(8, 4)),
            vaddr: f.word(p, at(16, 8)),
            filesz: f.word(p, at(32, 16)),
        }
    };
    Ok(table.chunks_exact(want as usize).map(segment).collect())
}

fn interp<S: Source + ?Sized>(src: &S, s: &Segment) -> Result<Vec<u8>, ElfErrorKind> {
    let mut raw = read(src, s.offset, s.filesz, "interpreter name")?;
    match raw.iter().position(|&b| b == 0) {
        Some(0) | None => Err(ElfErrorKind::Bad(
            "empty or unterminated interpreter name".into(),
        )),
        Some(end) => {
            raw.truncate(end);
            Ok(raw)
        }
    }
}

/// Tags and values of the dynamic section, up to `DT_NULL`.
fn dynamic_entries<S: Source + ?Sized>(
    src: &S,
    f: Fields,
    s: &Segment,
) -> Result<Vec<(u64, u64)>, ElfErrorKind> {
    let raw = read(src, s.offset, s.filesz, "dynamic section")?;
    let size = if f.0.class64 { 16 } else { 8 };
    let half = size / 2;
    Ok(raw
        .chunks_exact(size)
        .map(|e| (f.word(e, 0), f.word(e, half)))
        .take_while(|(tag, _)| *tag != DT_NULL)
        .collect())
}

fn read_dynamic<S: Source + ?Sized>(
    src: &S,
    f: Fields,
    dynamic: &Segment,
    segments: &[Segment],
    elf: &mut Elf,
) -> Result<(), ElfErrorKind> {
    let entries = dynamic_entries(src, f, dynamic)?;
    let value = |tag| entries.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
    let uses_strings = entries
        .iter()
        .any(|(t, _)| [DT_NEEDED, DT_RPATH, DT_RUNPATH].contains(t));
    if !uses_strings {
        return Ok(());
    }
    let (Some(addr), Some(size)) = (value(DT_STRTAB), value(DT_STRSZ)) else {
        return Err(ElfErrorKind::Bad(
            "dynamic section without DT_STRTAB or DT_STRSZ".into(),
        ));
    };
    let offset = file_offset(segments, addr)?;
    let strtab = read(src, offset, size, "dynamic string table")?;
    let string = |off: u64| -> Result<Vec<u8>, ElfErrorKind> {
        let bad = || ElfErrorKind::Bad(format!("string offset {off} is outside the string table"));
        let rest = strtab
            .get(usize::try_from(off).map_err(|_| bad())?..)
            .ok_or_else(bad)?;
        let end = rest.iter().position(|&b| b == 0).ok_or_else(bad)?;
        Ok(rest[..end].to_vec())
    };
    for (tag, v) in &entries {
        match *tag {
            DT_NEEDED => elf.needed.push(string(*v)?),
            DT_RUNPATH => elf.runpath = Some(string(*v)?),
            DT_RPATH => elf.rpath = Some(string(*v)?),
            _ => {}
        }
    }
    Ok(())
}

/// The file offset of virtual address `addr`, through the `PT_LOAD`s.
fn file_offset(segments: &[Segment], addr: u64) -> Result<u64, ElfErrorKind> {
    segments
        .iter()
        .filter(|s| s.kind == PT_LOAD)
        .find(|s| addr >= s.vaddr && addr - s.vaddr < s.filesz)
        .and_then(|s| s.offset.checked_add(addr - s.vaddr))
        .ok_or_else(|| ElfErrorKind::Bad(format!("address {addr:#x} is in no loaded segment")))
}

#[cfg(test)]
mod tests;

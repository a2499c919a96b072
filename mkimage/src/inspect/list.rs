//! `mkimage list`: the entries of an image, segment by segment.
//!
//! An initramfs file may be several segments one after another, as the
//! kernel accepts them: uncompressed cpio archives and compressed streams
//! of cpio archives, with zero padding between them.

use std::io::Write;
use std::path::Path;

use crate::cpio::{self, Header};
pub use crate::inspect::segments::ListError;
use crate::inspect::segments::{self, EntryReader, Failure, Visitor};

/// What was listed.
#[derive(Debug, Default)]
pub struct Summary {
    pub entries: usize,
    pub segments: Vec<&'static str>,
}

/// Lists the image at `path` to `out`, one entry per line.
pub(crate) fn list(path: &Path, out: &mut dyn Write) -> Result<Summary, ListError> {
    let mut lister = Lister { out, entries: 0 };
    let segments = segments::walk_file(path, &mut lister)?;
    Ok(Summary {
        entries: lister.entries,
        segments,
    })
}

/// Lists the image read from `input`; `path` names it in errors.
pub fn list_from(
    path: &Path,
    input: impl std::io::Read,
    out: &mut dyn Write,
) -> Result<Summary, ListError> {
    let mut lister = Lister { out, entries: 0 };
    let segments = segments::walk(path, input, &mut lister)?;
    Ok(Summary {
        entries: lister.entries,
        segments,
    })
}

struct Lister<'a> {
    out: &'a mut dyn Write,
    entries: usize,
}

impl Visitor for Lister<'_> {
    fn entry(&mut self, h: Header, reader: &mut EntryReader<'_>) -> Result<(), Failure> {
        let target = if h.file_type() == cpio::S_IFLNK {
            Some(reader.read_data(crate::tree::MAX_TARGET as u32 + 1)?)
        } else {
            None
        };
        let line = format_entry(&h, target.as_deref());
        self.out.write_all(&line).map_err(Failure::Output)?;
        self.entries += 1;
        Ok(())
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
pub(crate) fn format_entry(h: &Header, target: Option<&[u8]>) -> Vec<u8> {
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
}

//! Segments written before the new archive: an existing image
//! (`--append-to`) and the early microcode archive (`--microcode`).

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

use crate::archive::error::ArchiveError;
use crate::archive::output::AtomicFile;

/// One segment before the new one.
#[derive(Debug)]
pub enum Prefix {
    /// The bytes of an existing image file, zero-padded to a multiple of 4.
    Image(PathBuf),
    /// A ready segment (a multiple of 4 bytes long).
    Bytes(Vec<u8>),
}

/// Writes the prefix segments to `file`; returns how many bytes.
pub fn write(file: &mut File, parts: &[Prefix], guard: &AtomicFile) -> Result<u64, ArchiveError> {
    let mut len = 0u64;
    for part in parts {
        len += match part {
            Prefix::Image(path) => copy_image(file, path, guard)?,
            Prefix::Bytes(bytes) => {
                file.write_all(bytes).map_err(|e| guard.write_err(e))?;
                bytes.len() as u64
            }
        };
        // The kernel wants each segment to start at a multiple of 4.
        let pad = crate::cpio::pad4(len);
        file.write_all(&[0u8; 3][..pad])
            .map_err(|e| guard.write_err(e))?;
        len += pad as u64;
    }
    Ok(len)
}

fn copy_image(file: &mut File, path: &PathBuf, guard: &AtomicFile) -> Result<u64, ArchiveError> {
    let read_err = |cause| ArchiveError::Read {
        path: path.clone(),
        cause,
    };
    let mut src = File::open(path).map_err(read_err)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = match io::Read::read(&mut src, &mut buf) {
            Ok(0) => return Ok(len),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        };
        file.write_all(&buf[..n]).map_err(|e| guard.write_err(e))?;
        len += n as u64;
    }
}

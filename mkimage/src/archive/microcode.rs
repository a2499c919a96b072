//! `--microcode DIR`: the early microcode archive, an uncompressed first
//! segment the kernel's early loader reads before anything is unpacked.
//!
//! DIR has Debian's /lib/firmware layout: `intel-ucode/*` (every file,
//! in name order) makes `kernel/x86/microcode/GenuineIntel.bin`, and
//! `amd-ucode/*.bin` makes `kernel/x86/microcode/AuthenticAMD.bin`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::cpio::{self, Header};

/// Where the early loader looks, without the leading `/`.
pub const DIR: &str = "kernel/x86/microcode";

#[derive(Debug, thiserror::Error)]
pub enum MicrocodeError {
    #[error("cannot read {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("{} has no microcode (no intel-ucode/* nor amd-ucode/*.bin files)", path.display())]
    Empty { path: PathBuf },
}

fn read_err(path: &Path) -> impl FnOnce(io::Error) -> MicrocodeError + '_ {
    move |cause| MicrocodeError::Read {
        path: path.to_path_buf(),
        cause,
    }
}

/// The regular files of `dir` accepted by `keep`, in name order; none
/// if `dir` does not exist.
fn files(dir: &Path, keep: fn(&str) -> bool) -> Result<Vec<PathBuf>, MicrocodeError> {
    let items = match fs::read_dir(dir) {
        Ok(items) => items,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_err(dir)(e)),
    };
    let mut found = Vec::new();
    for item in items {
        let path = item.map_err(read_err(dir))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if keep(&name) && fs::metadata(&path).map_err(read_err(&path))?.is_file() {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// The files concatenated.
fn concat(paths: &[PathBuf]) -> Result<Vec<u8>, MicrocodeError> {
    let mut data = Vec::new();
    for p in paths {
        data.extend(fs::read(p).map_err(read_err(p))?);
    }
    Ok(data)
}

/// The uncompressed archive for `dir`, every mtime `mtime`.
pub fn segment(dir: &Path, mtime: u32) -> Result<Vec<u8>, MicrocodeError> {
    let intel = concat(&files(&dir.join("intel-ucode"), |_| true)?)?;
    let amd = concat(&files(&dir.join("amd-ucode"), |n| n.ends_with(".bin"))?)?;
    if intel.is_empty() && amd.is_empty() {
        return Err(MicrocodeError::Empty {
            path: dir.to_path_buf(),
        });
    }
    let files = [("AuthenticAMD.bin", amd), ("GenuineIntel.bin", intel)];
    Ok(archive(mtime, &files).expect("writing to memory does not fail"))
}

/// The archive with the microcode directories and the non-empty files.
fn archive(mtime: u32, files: &[(&str, Vec<u8>)]) -> io::Result<Vec<u8>> {
    let mut w = cpio::Writer::new(Vec::new());
    let mut ino = 0;
    let mut put = |name: &str, mode: u32, nlink: u32, data: &[u8]| {
        ino += 1;
        let h = Header {
            ino,
            mode,
            nlink,
            mtime,
            filesize: data.len() as u32,
            name: name.as_bytes().to_vec(),
            ..Header::default()
        };
        w.header(&h)?;
        w.bytes(data)
    };
    for d in ["kernel", "kernel/x86", DIR] {
        put(d, cpio::S_IFDIR | 0o755, 2, b"")?;
    }
    for (name, data) in files.iter().filter(|(_, d)| !d.is_empty()) {
        put(&format!("{DIR}/{name}"), cpio::S_IFREG | 0o644, 1, data)?;
    }
    Ok(w.finish()?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_directory_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("mkimage-ucode-{}", std::process::id()));
        fs::create_dir_all(dir.join("amd-ucode")).unwrap();
        fs::write(dir.join("amd-ucode/README"), b"not microcode").unwrap();
        let err = segment(&dir, 0).unwrap_err();
        assert!(err.to_string().contains("mkimage-ucode"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}

//! Atomic output: a temporary file in the destination's directory, made
//! durable with fsync and renamed over the destination. If anything
//! fails (or the guard is dropped), the temporary file is removed.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Mode of the finished image: it may hold secrets (keys, passwords).
pub const MODE: u32 = 0o600;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot create a temporary file for {}: {cause}", path.display())]
    Create { path: PathBuf, cause: io::Error },
    #[error("cannot write {}: {cause}", path.display())]
    Write { path: PathBuf, cause: io::Error },
    #[error("cannot rename {} to {}: {cause}", from.display(), to.display())]
    Rename {
        from: PathBuf,
        to: PathBuf,
        cause: io::Error,
    },
}

/// Guard for a temporary file that becomes `dest` on [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl AtomicFile {
    /// Creates the temporary file (mode 0600) next to `dest`.
    pub fn create(dest: &Path) -> Result<(AtomicFile, File), OutputError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let create_err = |cause| OutputError::Create {
            path: dest.to_path_buf(),
            cause,
        };
        let base = dest.file_name().ok_or_else(|| {
            create_err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a file name",
            ))
        })?;
        let pid = std::process::id();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut name = std::ffi::OsString::from(".");
            name.push(base);
            name.push(format!(".{pid}.{n}.tmp"));
            let tmp = parent_dir(dest).join(name);
            let opened = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(MODE)
                .open(&tmp);
            match opened {
                Ok(file) => return Self::guard(tmp, dest, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => continue,
                Err(e) => return Err(create_err(e)),
            }
        }
    }

    fn guard(tmp: PathBuf, dest: &Path, file: File) -> Result<(AtomicFile, File), OutputError> {
        let guard = AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            committed: false,
        };
        // The umask only removes bits; make the mode exact anyway.
        file.set_permissions(fs::Permissions::from_mode(MODE))
            .map_err(|e| guard.write_err(e))?;
        Ok((guard, file))
    }

    /// Error for a failed write to the output.
    pub fn write_err(&self, cause: io::Error) -> OutputError {
        OutputError::Write {
            path: self.dest.clone(),
            cause,
        }
    }

    /// Flushes `file` to disk and renames it to the destination.
    pub fn commit(mut self, file: File) -> Result<(), OutputError> {
        file.sync_all().map_err(|e| self.write_err(e))?;
        drop(file);
        fs::rename(&self.tmp, &self.dest).map_err(|cause| OutputError::Rename {
            from: self.tmp.clone(),
            to: self.dest.clone(),
            cause,
        })?;
        self.committed = true;
        // Make the rename itself durable; the image is complete either way.
        if let Ok(dir) = File::open(parent_dir(&self.dest)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mkimage-out-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn commit_renames_with_mode_0600() {
        let dir = scratch("commit");
        let dest = dir.join("img");
        let (guard, mut file) = AtomicFile::create(&dest).unwrap();
        file.write_all(b"data").unwrap();
        guard.commit(file).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"data");
        let mode = fs::metadata(&dest).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o600);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn drop_removes_the_temporary_file() {
        let dir = scratch("drop");
        let dest = dir.join("img");
        let (guard, file) = AtomicFile::create(&dest).unwrap();
        drop(file);
        drop(guard);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directory_names_the_destination() {
        let err = AtomicFile::create(Path::new("/nonexistent-dir/img")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/img"), "{err}");
    }
}

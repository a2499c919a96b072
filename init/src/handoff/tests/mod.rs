//! Tests that need files: a temporary directory per test stands in for
//! ROOT. Fixtures are in `init/tests/fixtures/handoff/`.

mod bls;
mod check;
mod detect;
mod fuzz;
mod grub;
mod hostile;
mod plan;
mod resolve;

use super::bzimage::fake_kernel;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/handoff/", $name))
    };
}
pub(super) use fixture;

/// A temporary directory, removed on drop.
pub(super) struct TempRoot {
    pub path: PathBuf,
}

impl TempRoot {
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("rescue-init-handoff-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempRoot { path }
    }

    /// The host path of `p` (a path inside the root).
    pub fn host(&self, p: &str) -> PathBuf {
        self.path.join(p.trim_start_matches('/'))
    }

    pub fn dir(&self, p: &str) -> &Self {
        std::fs::create_dir_all(self.host(p)).unwrap();
        self
    }

    pub fn file(&self, p: &str, contents: impl AsRef<[u8]>) -> &Self {
        let host = self.host(p);
        if let Some(parent) = host.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(host, contents).unwrap();
        self
    }

    /// A file that passes the bzImage checks.
    pub fn kernel(&self, p: &str) -> &Self {
        self.file(p, fake_kernel(0x1000))
    }

    pub fn link(&self, p: &str, target: &str) -> &Self {
        let host = self.host(p);
        if let Some(parent) = host.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::os::unix::fs::symlink(target, host).unwrap();
        self
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

impl AsRef<Path> for TempRoot {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

//! The kernel side of loading: a trait so the resolver and coldplug can
//! be tested without root, and the real thing (`finit_module`).

use std::io;
use std::path::{Path, PathBuf};

/// What actually touches the kernel; tests use a fake one.
pub trait Backend {
    /// Loads the module file at `path` with `params` (`k=v k2=v2`).
    fn load(&mut self, path: &Path, params: &str) -> io::Result<()>;
    /// True when the module `name` is in the kernel already.
    fn is_loaded(&self, name: &str) -> bool;
}

/// The real kernel: `finit_module`, `/sys/module`, `/proc/modules`.
#[derive(Debug, Clone)]
pub struct KernelBackend {
    sys_root: PathBuf,
    proc_root: PathBuf,
}

impl KernelBackend {
    pub fn new() -> Self {
        Self::with_roots(Path::new("/sys"), Path::new("/proc"))
    }

    pub fn with_roots(sys_root: &Path, proc_root: &Path) -> Self {
        KernelBackend {
            sys_root: sys_root.to_path_buf(),
            proc_root: proc_root.to_path_buf(),
        }
    }
}

impl Default for KernelBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for KernelBackend {
    fn load(&mut self, path: &Path, params: &str) -> io::Result<()> {
        use std::os::fd::AsFd;
        let params = std::ffi::CString::new(params).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in module parameters")
        })?;
        // Said apart from finit_module's errors, whose ENOENT means an
        // unknown symbol.
        let file = std::fs::File::open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open: {e}")))?;
        crate::sys::finit_module(file.as_fd(), &params, 0)
    }

    fn is_loaded(&self, name: &str) -> bool {
        let sys_module = self.sys_root.join("module");
        if sys_module.is_dir() {
            return sys_module.join(name).exists();
        }
        let Ok(text) = std::fs::read_to_string(self.proc_root.join("modules")) else {
            return false;
        };
        text.lines()
            .any(|l| l.split_whitespace().next() == Some(name))
    }
}

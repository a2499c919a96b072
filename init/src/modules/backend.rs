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
    /// Unloads the module `name` (never forced).
    fn remove(&mut self, name: &str) -> io::Result<()> {
        let _ = name;
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
    /// What keeps the loaded module `name` in the kernel.
    fn users(&self, name: &str) -> Users {
        let _ = name;
        Users::default()
    }
}

/// The modules that use a module (`/sys/module/NAME/holders`) and its
/// reference count (`refcnt`: one per holder, plus open devices, mounted
/// filesystems, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Users {
    pub holders: Vec<String>,
    pub refcnt: u32,
}

/// The real kernel: `finit_module`, `delete_module`, `/sys/module`,
/// `/proc/modules`.
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
        let t0 = crate::timeline::now_us();
        let loaded = crate::sys::finit_module(file.as_fd(), &params, 0);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        crate::timeline::since(t0, "module", name.split('.').next().unwrap_or(""));
        loaded
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        let name = std::ffi::CString::new(name)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in module name"))?;
        crate::sys::delete_module(&name)
    }

    fn users(&self, name: &str) -> Users {
        let dir = self.sys_root.join("module").join(name);
        let mut holders: Vec<String> = std::fs::read_dir(dir.join("holders"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        crate::sort::sort(&mut holders);
        let refcnt = std::fs::read_to_string(dir.join("refcnt"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        Users { holders, refcnt }
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

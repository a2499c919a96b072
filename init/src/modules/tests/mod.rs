//! Tests with files: temporary module dirs and sysfs trees, a fake
//! kernel. Fixtures are in `init/tests/fixtures/modules/`; `good/` is a
//! slice of the Debian 6.1 kernel's index (modules.dep and modules.alias
//! built from the modules' own `.modinfo`).

mod coldplug;
mod fuzz;
mod index;
mod loader;
mod modprobe;

use super::backend::Users;
use super::{Backend, Config, Index, Loader};
use kmodfmt::name_of_path;
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/modules/", $name))
    };
}
pub(super) use fixture;

pub(super) const GOOD_DEP: &str = fixture!("good/modules.dep");
pub(super) const GOOD_ALIAS: &str = fixture!("good/modules.alias");
pub(super) const GOOD_SOFTDEP: &str = fixture!("good/modules.softdep");
pub(super) const GOOD_BUILTIN: &str = fixture!("good/modules.builtin");
pub(super) const GOOD_MODINFO: &[u8] =
    include_bytes!("../../../tests/fixtures/modules/good/modules.builtin.modinfo");

/// The modules dir the in-memory index pretends to be.
pub(super) const DIR: &str = "/lib/modules/6.1.0-56-amd64";

/// A temporary directory, removed on drop.
pub(super) struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("rescue-init-modules-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    /// Writes `rel` (creating its directory).
    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        p
    }

    /// A modules dir with the good fixture at `lib/modules/6.1.0-56-amd64`.
    pub fn with_good_index() -> Self {
        let t = TempDir::new();
        let files: [(&str, &[u8]); 5] = [
            ("modules.dep", GOOD_DEP.as_bytes()),
            ("modules.alias", GOOD_ALIAS.as_bytes()),
            ("modules.softdep", GOOD_SOFTDEP.as_bytes()),
            ("modules.builtin", GOOD_BUILTIN.as_bytes()),
            ("modules.builtin.modinfo", GOOD_MODINFO),
        ];
        for (name, data) in files {
            t.write(&format!("{}/{name}", DIR.trim_start_matches('/')), data);
        }
        t
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The good fixture as an in-memory index.
pub(super) fn good_index() -> Index {
    let mut i = Index::empty(Path::new(DIR));
    i.add_dep("modules.dep", GOOD_DEP);
    i.add_alias("modules.alias", GOOD_ALIAS);
    i.add_softdep("modules.softdep", GOOD_SOFTDEP);
    i.add_builtin("modules.builtin", GOOD_BUILTIN);
    i.add_builtin_modinfo("modules.builtin.modinfo", GOOD_MODINFO);
    assert!(i.problems.is_empty(), "{:?}", i.problems);
    i
}

/// A kernel that records loads; loading a module may create files (new
/// devices in a fake sysfs).
#[derive(Default)]
pub(super) struct Fake {
    /// (module name, params) in load order.
    pub loads: Vec<(String, String)>,
    pub preloaded: HashSet<String>,
    /// Modules whose load fails with this errno.
    pub fail: HashMap<String, i32>,
    /// Files (path, content) that appear when a module loads.
    pub creates: HashMap<String, Vec<(PathBuf, String)>>,
    /// Holders and references of loaded modules (none when absent).
    pub users: HashMap<String, Users>,
    /// Modules unloaded, in order.
    pub removed: Vec<String>,
}

impl Fake {
    pub fn names(&self) -> Vec<&str> {
        self.loads.iter().map(|(n, _)| n.as_str()).collect()
    }
}

impl Backend for Fake {
    fn load(&mut self, path: &Path, params: &str) -> io::Result<()> {
        let name = name_of_path(&path.to_string_lossy()).expect("a .ko path");
        if let Some(&errno) = self.fail.get(&name) {
            return Err(io::Error::from_raw_os_error(errno));
        }
        for (p, content) in self.creates.get(&name).into_iter().flatten() {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        self.loads.push((name, params.to_string()));
        Ok(())
    }

    fn is_loaded(&self, name: &str) -> bool {
        let present = self.preloaded.contains(name) || self.loads.iter().any(|(n, _)| n == name);
        present && !self.removed.iter().any(|n| n == name)
    }

    /// As the kernel: refused while used; a module gone no longer holds
    /// (and references) what it used.
    fn remove(&mut self, name: &str) -> io::Result<()> {
        if !self.is_loaded(name) {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        if self.users(name) != Users::default() {
            return Err(io::Error::from_raw_os_error(libc::EWOULDBLOCK));
        }
        for u in self.users.values_mut() {
            if let Some(i) = u.holders.iter().position(|h| h == name) {
                u.holders.remove(i);
                u.refcnt = u.refcnt.saturating_sub(1);
            }
        }
        self.removed.push(name.to_string());
        Ok(())
    }

    fn users(&self, name: &str) -> Users {
        self.users.get(name).cloned().unwrap_or_default()
    }
}

pub(super) fn loader_with(config: Config) -> Loader<Fake> {
    Loader::new(good_index(), config, Fake::default())
}

pub(super) fn loader() -> Loader<Fake> {
    loader_with(Config::default())
}

//! Where the dynamic loader (glibc's `ld.so`) finds a program's libraries,
//! found without running anything.
//!
//! For each `DT_NEEDED` name of an object, in breadth-first load order,
//! the directories searched are:
//! 1. if the object has `DT_RUNPATH`: those directories (its own only);
//!    else the `DT_RPATH` of the object, then of the object that loaded
//!    it, and so on up to the program (`DT_RPATH` is ignored in an object
//!    that has `DT_RUNPATH`);
//! 2. the directories of `/etc/ld.so.conf` (what `ld.so.cache` holds);
//! 3. the default directories: the multiarch ones, `lib64`, `lib`.
//!
//! `$ORIGIN`, `$LIB` and `$PLATFORM` (also `${...}`) are expanded. A
//! candidate of another class, byte order or machine (a 32-bit library of
//! the same name) is skipped. A name already loaded is not looked up again;
//! a name with a `/` is a path.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::elf::ldconf::{self, ConfError};
use crate::elf::{self, Elf, ElfError, Kind};

const EM_386: u16 = 3;
const EM_PPC64: u16 = 21;
const EM_S390: u16 = 22;
const EM_ARM: u16 = 40;
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const EM_RISCV: u16 = 243;

/// The closure of a program: what the loader would map.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Closure {
    /// `PT_INTERP` of the program, as written.
    pub interp: Option<PathBuf>,
    /// Libraries at the paths where they were found, in load order.
    pub libs: Vec<PathBuf>,
    /// Names not found, each with the object that needs it.
    pub missing: Vec<(PathBuf, String)>,
}

/// The loader's search configuration.
#[derive(Debug, Clone, Default)]
pub struct Loader {
    /// Directories of `ld.so.conf`.
    pub conf_dirs: Vec<PathBuf>,
    /// The root of the system whose loader this is (`--sysroot`; empty or
    /// `/`: this host). Its paths are looked up under it.
    pub root: PathBuf,
}

/// An object whose needs are still to be looked up.
struct Object {
    path: PathBuf,
    /// `$ORIGIN`: the directory of the program's real path, or of the path
    /// where a library was found.
    origin: PathBuf,
    elf: Elf,
    /// `DT_RPATH` directories of this object and its loaders.
    rpaths: Rc<Vec<PathBuf>>,
}

/// The multiarch triplet of Debian-style systems for `k`.
pub fn triplet(k: Kind) -> Option<&'static str> {
    Some(match (k.machine, k.class64) {
        (EM_X86_64, true) => "x86_64-linux-gnu",
        (EM_X86_64, false) => "x86_64-linux-gnux32",
        (EM_386, false) => "i386-linux-gnu",
        (EM_AARCH64, true) => "aarch64-linux-gnu",
        (EM_ARM, false) => "arm-linux-gnueabihf",
        (EM_RISCV, true) => "riscv64-linux-gnu",
        (EM_PPC64, true) if k.little => "powerpc64le-linux-gnu",
        (EM_S390, true) => "s390x-linux-gnu",
        _ => return None,
    })
}

/// The default directories for `k`, in search order.
pub fn default_dirs(k: Kind) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(t) = triplet(k) {
        dirs.push(format!("/lib/{t}"));
        dirs.push(format!("/usr/lib/{t}"));
    }
    let (a, b) = if k.class64 {
        ("/lib64", "/usr/lib64")
    } else {
        ("/lib32", "/usr/lib32")
    };
    dirs.extend([a.into(), b.into(), "/lib".into(), "/usr/lib".into()]);
    dirs.into_iter().map(PathBuf::from).collect()
}

/// `$PLATFORM` for `k` (the kernel's AT_PLATFORM).
fn platform(k: Kind) -> &'static str {
    match k.machine {
        EM_X86_64 => "x86_64",
        EM_386 => "i686",
        EM_AARCH64 => "aarch64",
        _ => "",
    }
}

/// `$LIB` for `k`: the multiarch directory where there is one.
fn lib_dir(k: Kind) -> String {
    match triplet(k) {
        Some(t) if Path::new("/lib").join(t).is_dir() => format!("lib/{t}"),
        _ if k.class64 => "lib64".into(),
        _ => "lib".into(),
    }
}

/// Expands a `DT_RUNPATH`/`DT_RPATH` list of an object in `origin`.
/// Entries that are empty or not absolute after expansion are dropped.
pub fn expand(list: &[u8], origin: &Path, k: Kind) -> Vec<PathBuf> {
    let origin = origin.as_os_str().as_bytes();
    let lib = lib_dir(k);
    let tokens: [(&str, &[u8]); 3] = [
        ("ORIGIN", origin),
        ("LIB", lib.as_bytes()),
        ("PLATFORM", platform(k).as_bytes()),
    ];
    let mut dirs = Vec::new();
    for entry in list.split(|&b| b == b':') {
        let mut out = entry.to_vec();
        for (name, value) in tokens {
            for form in [format!("${{{name}}}"), format!("${name}")] {
                out = replace(&out, form.as_bytes(), value);
            }
        }
        if out.starts_with(b"/") {
            dirs.push(PathBuf::from(OsStr::from_bytes(&out)));
        }
    }
    dirs
}

fn replace(s: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

fn dir_of(path: &Path) -> PathBuf {
    path.parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

impl Loader {
    /// The loader of the system at `root`, configured by its `conf` (a
    /// path inside `root`).
    pub fn in_root(root: &Path, conf: &Path) -> Result<Loader, ConfError> {
        Ok(Loader {
            conf_dirs: ldconf::read_in(root, conf)?,
            root: root.to_path_buf(),
        })
    }

    /// The interpreter and libraries of the program at `path`.
    pub fn closure(&self, path: &Path) -> Result<Closure, ElfError> {
        let elf = elf::read_file(path)?;
        let real = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let kind = elf.kind;
        let mut closure = Closure {
            interp: elf
                .interp
                .as_deref()
                .map(|i| PathBuf::from(OsStr::from_bytes(i))),
            ..Closure::default()
        };
        let origin = dir_of(&real);
        let rpaths = Rc::new(self.own_rpath(&elf, &origin));
        let mut queue = VecDeque::from([Object {
            path: path.to_path_buf(),
            origin,
            elf,
            rpaths,
        }]);
        let mut loaded: HashSet<Vec<u8>> = HashSet::new();
        while let Some(obj) = queue.pop_front() {
            for name in &obj.elf.needed {
                if !loaded.insert(name.clone()) {
                    continue;
                }
                let Some((found, lib)) = self.find(name, &obj, kind) else {
                    let shown = String::from_utf8_lossy(name).into_owned();
                    closure.missing.push((obj.path.clone(), shown));
                    continue;
                };
                let origin = dir_of(&found);
                let mut rpaths = self.own_rpath(&lib, &origin);
                rpaths.extend(obj.rpaths.iter().cloned());
                closure.libs.push(found.clone());
                queue.push_back(Object {
                    path: found,
                    origin,
                    elf: lib,
                    rpaths: Rc::new(rpaths),
                });
            }
        }
        Ok(closure)
    }

    /// The `DT_RPATH` directories of an object: none if it has `DT_RUNPATH`.
    fn own_rpath(&self, elf: &Elf, origin: &Path) -> Vec<PathBuf> {
        match (&elf.runpath, &elf.rpath) {
            (None, Some(rpath)) => expand(rpath, origin, elf.kind),
            _ => Vec::new(),
        }
    }

    /// The directories searched for the needs of `obj`.
    fn search_dirs(&self, obj: &Object, k: Kind) -> Vec<PathBuf> {
        let mut dirs = match &obj.elf.runpath {
            Some(runpath) => expand(runpath, &obj.origin, k),
            None => obj.rpaths.to_vec(),
        };
        dirs.extend(self.conf_dirs.iter().cloned());
        dirs.extend(default_dirs(k));
        // $ORIGIN made some of them host paths under the root already.
        dirs.into_iter()
            .map(|d| match d.starts_with(&self.root) {
                true => d,
                false => elf::in_root(&self.root, &d),
            })
            .collect()
    }

    /// The first candidate for `name` that is an ELF file of kind `k`.
    fn find(&self, name: &[u8], obj: &Object, k: Kind) -> Option<(PathBuf, Elf)> {
        let name = Path::new(OsStr::from_bytes(name));
        let candidates = if name.as_os_str().as_bytes().contains(&b'/') {
            vec![elf::in_root(&self.root, name)]
        } else {
            self.search_dirs(obj, k)
                .into_iter()
                .map(|d| d.join(name))
                .collect()
        };
        candidates.into_iter().find_map(|path| {
            if !path.is_file() {
                return None;
            }
            let elf = elf::read_file(&path).ok().filter(|e| e.kind == k)?;
            Some((path, elf))
        })
    }
}

#[cfg(test)]
mod tests;

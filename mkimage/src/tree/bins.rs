//! `build --bin`: programs with their interpreter and libraries, each at
//! its host path, with the symlinks on the way kept as symlinks.
//!
//! `/lib/x86_64-linux-gnu/libc.so.6` on a merged-/usr host becomes the
//! symlink `/lib -> usr/lib` and the file `/usr/lib/x86_64-linux-gnu/
//! libc.so.6`; `libfoo.so.1 -> libfoo.so.1.2.3` becomes that link and
//! that file. Where the image already has a directory at a path that is
//! a symlink on the host (`/sbin` holding the applet links, say), the
//! directory is kept and the file goes into it.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use crate::elf::ldconf::ConfError;
use crate::elf::ldso::{Closure, Loader};
use crate::elf::ElfError;
use crate::tree::{self, Entry, Tree, TreeError};

/// Symlinks followed for one path at most, as the kernel's MAXSYMLINKS.
const MAX_HOPS: usize = 40;

/// What `--bin` takes from the host's environment.
#[derive(Debug, Clone)]
pub struct Host {
    /// `$PATH`, where names are looked up.
    pub path_var: Option<OsString>,
    /// The loader's config, normally `/etc/ld.so.conf` (inside `root`).
    pub ld_so_conf: PathBuf,
    /// Where the programs' system is: `/`, or another architecture's tree
    /// (`--sysroot`), whose paths land in the image as that system names
    /// them.
    pub root: PathBuf,
}

/// Where programs are looked up inside a `--sysroot`.
const SYSROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Host {
    pub fn from_env() -> Host {
        Host {
            path_var: std::env::var_os("PATH"),
            ld_so_conf: PathBuf::from("/etc/ld.so.conf"),
            root: PathBuf::from("/"),
        }
    }

    /// The programs and libraries of the system at `root` instead.
    pub fn in_root(root: &Path) -> Host {
        Host {
            path_var: Some(SYSROOT_PATH.into()),
            ld_so_conf: PathBuf::from("/etc/ld.so.conf"),
            root: root.to_path_buf(),
        }
    }

    fn sysroot(&self) -> bool {
        self.root != Path::new("/")
    }

    /// The path inside `root` of the host path `p`.
    fn inside(&self, p: &Path) -> PathBuf {
        match p.strip_prefix(&self.root) {
            Ok(rel) if self.sysroot() => Path::new("/").join(rel),
            _ => p.to_path_buf(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BinError {
    #[error("--bin {name}: no executable of that name in $PATH")]
    NotFound { name: String },
    #[error("{}: library {library} (needed by {}) was not found in its RUNPATH/RPATH, ld.so.conf or the default library directories (--allow-missing makes this a warning)", binary.display(), by.display())]
    Missing {
        binary: PathBuf,
        library: String,
        by: PathBuf,
    },
    #[error("{}: its interpreter {} does not exist (--allow-missing makes this a warning)", binary.display(), interp.display())]
    NoInterp { binary: PathBuf, interp: PathBuf },
    #[error("cannot read {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("{}: too many levels of symbolic links", path.display())]
    Loop { path: PathBuf },
    #[error(transparent)]
    Elf(#[from] ElfError),
    #[error(transparent)]
    Conf(#[from] ConfError),
    #[error(transparent)]
    Tree(#[from] TreeError),
}

fn read_err(path: &Path) -> impl FnOnce(io::Error) -> BinError + '_ {
    move |cause| BinError::Read {
        path: path.to_path_buf(),
        cause,
    }
}

/// Adds each program of `bins` with what it loads. Returns warnings
/// (missing pieces, with `allow_missing`).
pub fn add_bins(
    tree: &mut Tree,
    bins: &[OsString],
    allow_missing: bool,
    host: &Host,
) -> Result<Vec<String>, BinError> {
    if bins.is_empty() {
        return Ok(Vec::new());
    }
    let loader = Loader::in_root(&host.root, &host.ld_so_conf)?;
    let mut warnings = Vec::new();
    for name in bins {
        let path = locate(name, host)?;
        let closure = loader.closure(&path)?;
        for problem in problems(&path, &closure, &host.root) {
            if !allow_missing {
                return Err(problem);
            }
            warnings.push(format!("warning: {problem}"));
        }
        add_path_in(tree, &host.root, &host.inside(&path))?;
        let interp = closure.interp.iter().filter(|i| exists_in(&host.root, i));
        for file in interp.chain(&closure.libs) {
            add_path_in(tree, &host.root, &host.inside(file))?;
        }
    }
    Ok(warnings)
}

/// Missing libraries and interpreter of the program at `binary`.
fn problems(binary: &Path, c: &Closure, root: &Path) -> Vec<BinError> {
    let mut found: Vec<BinError> = c
        .missing
        .iter()
        .map(|(by, library)| BinError::Missing {
            binary: binary.to_path_buf(),
            library: library.clone(),
            by: by.clone(),
        })
        .collect();
    if let Some(interp) = c.interp.as_ref().filter(|i| !exists_in(root, i)) {
        found.push(BinError::NoInterp {
            binary: binary.to_path_buf(),
            interp: interp.clone(),
        });
    }
    found
}

/// The program's path: `name` itself if it has a `/` (made absolute),
/// else the first executable file of that name in `$PATH`.
pub fn locate(name: &OsStr, host: &Host) -> Result<PathBuf, BinError> {
    if host.sysroot() {
        let found = if name.as_bytes().contains(&b'/') {
            Some(crate::elf::in_root(&host.root, Path::new(name)))
        } else {
            std::env::split_paths(SYSROOT_PATH)
                .map(|d| crate::elf::in_root(&host.root, &d.join(name)))
                .find(|p| fs::symlink_metadata(p).is_ok())
        };
        return found
            .filter(|p| fs::symlink_metadata(p).is_ok())
            .ok_or_else(|| BinError::NotFound {
                name: name.to_string_lossy().into_owned(),
            });
    }
    if name.as_bytes().contains(&b'/') {
        let path = std::path::absolute(name).map_err(read_err(Path::new(name)))?;
        fs::metadata(&path).map_err(read_err(&path))?;
        return Ok(path);
    }
    let dirs = host.path_var.as_deref().map(std::env::split_paths);
    dirs.into_iter()
        .flatten()
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .ok_or_else(|| BinError::NotFound {
            name: name.to_string_lossy().into_owned(),
        })
}

/// The components of a symlink target, as names, `.` and `..`.
fn parts(target: &Path) -> impl Iterator<Item = OsString> + '_ {
    target.components().filter_map(|c| match c {
        Component::Normal(n) => Some(n.to_os_string()),
        Component::ParentDir => Some("..".into()),
        _ => None,
    })
}

/// Adds the host file at absolute `path` at the same path in the image,
/// with every symlink met on the way (of directories and of the file).
#[cfg(test)]
pub fn add_host_path(tree: &mut Tree, path: &Path) -> Result<(), BinError> {
    add_path_in(tree, Path::new("/"), path)
}

/// The same for the file at `path` of the system at `root`: symlinks are
/// followed inside it (an absolute target starts again at `root`).
fn add_path_in(tree: &mut Tree, root: &Path, path: &Path) -> Result<(), BinError> {
    let mut pending: VecDeque<OsString> = parts(path).collect();
    // `host` is always a real directory (no symlinks in it).
    let mut host = root.to_path_buf();
    let mut image: Vec<OsString> = Vec::new();
    let mut hops = 0;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            if host != root {
                host.pop();
            }
            image.pop();
            continue;
        }
        let here = host.join(&part);
        image.push(part);
        let name = image.join(OsStr::new("/")).into_vec();
        let meta = fs::symlink_metadata(&here).map_err(read_err(&here))?;
        if meta.is_symlink() {
            hops += 1;
            if hops > MAX_HOPS {
                return Err(BinError::Loop {
                    path: path.to_path_buf(),
                });
            }
            if !pending.is_empty() && tree.has_dir(&name) {
                host = canonical_in(root, &here)?;
                continue;
            }
            let target = fs::read_link(&here).map_err(read_err(&here))?;
            tree.insert(name, Entry::symlink(target.as_os_str().as_bytes()))?;
            image.pop();
            if target.is_absolute() {
                host = root.to_path_buf();
                image.clear();
            }
            for p in parts(&target).collect::<Vec<_>>().into_iter().rev() {
                pending.push_front(p);
            }
        } else if pending.is_empty() {
            tree.insert(name, tree::file_entry(&here, None)?)?;
        } else if meta.is_dir() {
            host = here;
        } else {
            return Err(TreeError::NotADir { path: here }.into());
        }
    }
    Ok(())
}

/// Whether `path` of the system at `root` leads to a file, its symlinks
/// followed inside `root`.
fn exists_in(root: &Path, path: &Path) -> bool {
    add_path_in(&mut Tree::default(), root, path).is_ok()
}

/// The real directory a symlinked directory of the system at `root`
/// leads to, its absolute targets taken inside `root`.
fn canonical_in(root: &Path, link: &Path) -> Result<PathBuf, BinError> {
    if root == Path::new("/") {
        return fs::canonicalize(link).map_err(read_err(link));
    }
    let target = fs::read_link(link).map_err(read_err(link))?;
    let next = match target.is_absolute() {
        true => crate::elf::in_root(root, &target),
        false => link.parent().unwrap_or(root).join(target),
    };
    fs::canonicalize(&next).map_err(read_err(&next))
}

#[cfg(test)]
mod tests;

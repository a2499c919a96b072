//! Paths inside the recovered system, resolved as if chrooted into ROOT
//! but stricter: nothing may leave ROOT. Absolute symlinks start again at
//! ROOT; `..` above ROOT (in the path or in a link) is refused instead of
//! being clamped, so a link pointing out of ROOT is an error, never a
//! quiet redirection into the rescue system.

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Symlinks followed per lookup before giving up, as Linux (MAXSYMLINKS).
pub const MAX_SYMLINK_HOPS: usize = 40;

#[derive(Debug, thiserror::Error)]
#[error("{path:?} inside {}: {kind}", root.display())]
pub struct ResolveError {
    pub root: PathBuf,
    /// The path asked for.
    pub path: String,
    pub kind: ResolveErrorKind,
}

/// Why resolving failed. `at` is a path inside ROOT (`/boot/vmlinuz`);
/// `via` the last symlink followed on the way, if any.
#[derive(Debug, thiserror::Error)]
pub enum ResolveErrorKind {
    #[error("ROOT is not a directory")]
    RootNotDir,
    #[error("cannot access ROOT: {0}")]
    Root(io::Error),
    #[error("empty path")]
    Empty,
    #[error("\"..\" would leave ROOT{}", Via(via))]
    Escape { via: Option<Box<Link>> },
    #[error(
        "too many levels of symbolic links (more than {MAX_SYMLINK_HOPS}; ELOOP){}",
        Via(via)
    )]
    Loop { via: Option<Box<Link>> },
    #[error("{at} does not exist{}", Via(via))]
    NotFound { at: String, via: Option<Box<Link>> },
    #[error("{at} is not a directory{}", Via(via))]
    NotADirectory { at: String, via: Option<Box<Link>> },
    #[error("{at}: {source}")]
    Io { at: String, source: io::Error },
}

/// A symlink: where it is (inside ROOT) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub at: String,
    pub target: PathBuf,
}

struct Via<'a>(&'a Option<Box<Link>>);

impl fmt::Display for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(l) => write!(f, " (via symlink {} -> {})", l.at, l.target.display()),
            None => Ok(()),
        }
    }
}

enum Step {
    Root,
    Parent,
    Name(OsString),
}

/// Resolves `path` inside `root` component by component, following
/// symlinks as a process chrooted into `root` would, and returns the real
/// host path (which contains no symlinks below `root`). The target must
/// exist; it may be of any type.
pub fn resolve_in_root(root: &Path, path: &str) -> Result<PathBuf, ResolveError> {
    let fail = |kind| ResolveError {
        root: root.to_path_buf(),
        path: path.to_string(),
        kind,
    };
    check_root(root).map_err(fail)?;
    if path.is_empty() {
        return Err(fail(ResolveErrorKind::Empty));
    }
    let mut walk = Walk {
        root,
        real: Vec::new(),
        pending: Vec::new(),
        hops: 0,
        via: None,
    };
    walk.push(Path::new(path));
    walk.run().map_err(fail)?;
    Ok(walk.host(None))
}

fn check_root(root: &Path) -> Result<(), ResolveErrorKind> {
    match fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(ResolveErrorKind::RootNotDir),
        Err(e) => Err(ResolveErrorKind::Root(e)),
    }
}

struct Walk<'a> {
    root: &'a Path,
    /// Components resolved so far: real directories below `root`.
    real: Vec<OsString>,
    /// Components still to walk, the next one last.
    pending: Vec<Step>,
    hops: usize,
    via: Option<Box<Link>>,
}

impl Walk<'_> {
    /// Queues `p`'s components in front of what is still pending.
    fn push(&mut self, p: &Path) {
        let steps = p.components().filter_map(|c| match c {
            Component::RootDir => Some(Step::Root),
            Component::ParentDir => Some(Step::Parent),
            Component::Normal(n) => Some(Step::Name(n.to_os_string())),
            Component::CurDir | Component::Prefix(_) => None,
        });
        let steps: Vec<Step> = steps.collect();
        self.pending.extend(steps.into_iter().rev());
    }

    fn run(&mut self) -> Result<(), ResolveErrorKind> {
        while let Some(step) = self.pending.pop() {
            match step {
                Step::Root => self.real.clear(),
                Step::Parent => {
                    if self.real.pop().is_none() {
                        return Err(ResolveErrorKind::Escape {
                            via: self.via.clone(),
                        });
                    }
                }
                Step::Name(name) => self.name(name)?,
            }
        }
        Ok(())
    }

    fn name(&mut self, name: OsString) -> Result<(), ResolveErrorKind> {
        let host = self.host(Some(&name));
        let at = self.inside(Some(&name));
        let meta = fs::symlink_metadata(&host).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => ResolveErrorKind::NotFound {
                at: at.clone(),
                via: self.via.clone(),
            },
            _ => ResolveErrorKind::Io {
                at: at.clone(),
                source,
            },
        })?;
        if meta.file_type().is_symlink() {
            return self.follow(&host, at);
        }
        if !self.pending.is_empty() && !meta.is_dir() {
            return Err(ResolveErrorKind::NotADirectory {
                at,
                via: self.via.clone(),
            });
        }
        self.real.push(name);
        Ok(())
    }

    fn follow(&mut self, host: &Path, at: String) -> Result<(), ResolveErrorKind> {
        self.hops += 1;
        if self.hops > MAX_SYMLINK_HOPS {
            return Err(ResolveErrorKind::Loop {
                via: self.via.clone(),
            });
        }
        let target = fs::read_link(host).map_err(|source| ResolveErrorKind::Io {
            at: at.clone(),
            source,
        })?;
        if target.as_os_str().is_empty() {
            // Linux: an empty symlink resolves to nothing (ENOENT).
            return Err(ResolveErrorKind::NotFound {
                at,
                via: self.via.clone(),
            });
        }
        self.push(&target);
        self.via = Some(Box::new(Link { at, target }));
        Ok(())
    }

    fn host(&self, last: Option<&OsString>) -> PathBuf {
        let mut p = self.root.to_path_buf();
        p.extend(self.real.iter().chain(last));
        p
    }

    fn inside(&self, last: Option<&OsString>) -> String {
        let mut s = String::new();
        for c in self.real.iter().chain(last) {
            s.push('/');
            s.push_str(&c.to_string_lossy());
        }
        if s.is_empty() {
            s.push('/');
        }
        s
    }
}

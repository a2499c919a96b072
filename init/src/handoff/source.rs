//! Where each value of a plan came from: `handoff check` prints it next
//! to the value, so that a wrong kernel leads to the file that named it.

use std::fmt;
use std::path::PathBuf;

/// Where a value of the plan came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    HandoffFile {
        line: usize,
    },
    Default,
    Bls {
        path: PathBuf,
    },
    /// `entry` is the menu path of titles, `Submenu>Entry`.
    Grub {
        path: PathBuf,
        entry: String,
    },
    DebianLink {
        path: PathBuf,
    },
    /// The newest `vmlinuz-*` in `dir` (and the initrd matching it).
    NewestKernel {
        dir: PathBuf,
    },
    RecordedHostCmdline {
        path: PathBuf,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::HandoffFile { line } => write!(f, "handoff file line {line}"),
            Source::Default => f.write_str("default"),
            Source::Bls { path } => write!(f, "BLS entry {}", path.display()),
            Source::Grub { path, entry } => write!(f, "GRUB entry {entry:?} in {}", path.display()),
            Source::DebianLink { path } => write!(f, "link {}", path.display()),
            Source::NewestKernel { dir } => write!(f, "newest vmlinuz-* in {}", dir.display()),
            Source::RecordedHostCmdline { path } => {
                write!(f, "host command line recorded in {}", path.display())
            }
        }
    }
}

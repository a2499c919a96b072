//! What can stop a handoff plan: every error names the handoff file
//! (and line), the path or the value it is about, and the cause.

use super::resolve::ResolveError;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error("{}: no handoff file", path.display())]
    Missing { path: PathBuf },
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Parse(#[from] crate::line_error::LineError),
    /// `origin` is `file:line` or says that ROOT is the default.
    #[error("{origin}: ROOT {}: {reason}", root.display())]
    Root {
        origin: String,
        root: PathBuf,
        reason: String,
    },
    #[error("{file}:{line}: {key}: {source}")]
    Path {
        file: String,
        line: usize,
        key: &'static str,
        source: Box<ResolveError>,
    },
    #[error("no kernel found in {}: KERNEL is not set and nothing usable was found; looked at:\n  {}", root.display(), tried.join("\n  "))]
    NoKernel { root: PathBuf, tried: Vec<String> },
    #[error("no command line: CMDLINE is not set, the boot entry gives none and {}: {reason}", recorded.display())]
    NoCmdline { recorded: PathBuf, reason: String },
    #[error("{}: cannot read the recorded host command line: {source}", path.display())]
    RecordedCmdline { path: PathBuf, source: io::Error },
}

impl HandoffError {
    /// True when there simply is no handoff file (nothing to hand over to).
    pub fn is_missing(&self) -> bool {
        matches!(self, HandoffError::Missing { .. })
    }
}

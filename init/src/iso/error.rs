//! What can go wrong reading an ISO image. Every error names the image
//! (the file or block device given with `--iso`) and, for damaged
//! structures, the byte offset in it.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum IsoError {
    #[error("{file}: cannot open: {source}")]
    Open { file: String, source: io::Error },
    #[error("{file}: read error at offset {offset}: {source}")]
    Read {
        file: String,
        offset: u64,
        source: io::Error,
    },
    #[error("{file}: truncated: {what} at offset {offset} needs {need} bytes, but the image ends at {size}")]
    Truncated {
        file: String,
        what: String,
        offset: u64,
        need: u64,
        size: u64,
    },
    #[error("{file}: not an ISO 9660 image: {why} (offset {offset})")]
    NotIso {
        file: String,
        offset: u64,
        why: String,
    },
    #[error("{file}: corrupt {what} at offset {offset}: {why}")]
    Corrupt {
        file: String,
        what: &'static str,
        offset: u64,
        why: String,
    },
    #[error("{file}: {path}: not found in the ISO")]
    NotFound { file: String, path: String },
    #[error("{file}: {path}: {why}")]
    Path {
        file: String,
        path: String,
        why: String,
    },
}

impl IsoError {
    /// Whether the error says that a path does not exist in the image.
    pub fn is_not_found(&self) -> bool {
        matches!(self, IsoError::NotFound { .. })
    }
}

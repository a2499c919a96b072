//! The error of writing an image, shared by the archive writer and the
//! parts it drives (prefix segments, dedup), which so need not import the
//! writer.

use std::io;
use std::path::PathBuf;

use crate::archive::output::OutputError;
use crate::tree::show;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot read {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("{} changed size while being read (expected {expected} bytes)", path.display())]
    Changed { path: PathBuf, expected: u64 },
    #[error("{} is {size} bytes; newc limits a file to 4 GiB - 1", path.display())]
    TooBig { path: PathBuf, size: u64 },
    #[error("image has more than 2^32 entries at {}", show(.name))]
    TooManyEntries { name: Vec<u8> },
    #[error(transparent)]
    Output(#[from] OutputError),
}

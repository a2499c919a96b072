//! The error of every line-oriented text file rescue-init reads (the
//! config and handoff files, mountinfo, inittab, the kmod index and
//! modprobe.d files): it names the file and the line, as editors and
//! compilers do, so the message leads straight to the place to fix.

/// `FILE:LINE: message`. Line 0 is a problem with the file as a whole
/// (it cannot be read, say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {msg}")]
pub struct LineError {
    pub file: String,
    pub line: usize,
    pub msg: String,
}

impl LineError {
    pub fn new(file: &str, line: usize, msg: impl Into<String>) -> Self {
        LineError {
            file: file.to_string(),
            line,
            msg: msg.into(),
        }
    }
}

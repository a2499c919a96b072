//! kmod's text files in `/lib/modules/RELEASE`, read and written in one
//! place: mkimage reads a host's and writes an image's for exactly the
//! modules it holds; rescue-init's `modprobe` reads the image's.
//!
//! - [`dep`]: `modules.dep`, each module's path and its dependencies'.
//! - [`alias`]: `modules.alias`, `alias PATTERN MODULE`.
//! - [`softdep`]: `modules.softdep`, `softdep MODULE pre: ... post: ...`.
//! - [`paths`]: `modules.order` and `modules.builtin`, a path a line.
//! - [`builtin`]: `modules.builtin` as names, and the aliases of built-in
//!   code in `modules.builtin.modinfo`.
//! - [`load_list`]: `modules-load.d/*.conf`, a module a line.
//! - [`glob`]: how kmod matches an alias pattern.
//! - The names kmod compares: [`normalize`], [`normalize_alias`],
//!   [`name_of_path`].
//!
//! The readers never fail as a whole: they return what they understood
//! and one [`BadLine`] per line they rejected, so that a damaged line on
//! a recovered disk costs that line only. Blank lines and `#` comments
//! are skipped. Values are kept as written (an alias pattern is not
//! normalised): what a reader returns, the writer writes back the same.
//!
//! No dependencies: the static init links this and must stay small.
#![forbid(unsafe_code)]

pub mod alias;
pub mod builtin;
pub mod dep;
pub mod glob;
pub mod load_list;
mod name;
pub mod paths;
pub mod softdep;

pub use name::{
    check_name, name_of_path, normalize, normalize_alias, plain_path, split_file_name, SUFFIXES,
};
pub use softdep::SoftDeps;

/// A line a reader rejected: its number (from 1) and why, quoting it.
/// The caller knows the file and adds its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub msg: String,
}

/// Numbered, trimmed lines that are neither blank nor `#` comments.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// `f`'s results for every content line; an `Err(msg)` becomes a
/// [`BadLine`] that quotes the line.
fn each_line<T>(
    text: &str,
    mut f: impl FnMut(usize, &str) -> Result<T, String>,
) -> (Vec<T>, Vec<BadLine>) {
    let mut items = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in content_lines(text) {
        match f(n, line) {
            Ok(item) => items.push(item),
            Err(msg) => bad.push(BadLine {
                line: n,
                msg: format!("{msg} in {:?}", shorten(line)),
            }),
        }
    }
    (items, bad)
}

/// Keeps messages readable when a line is binary garbage.
fn shorten(line: &str) -> String {
    match line.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests;

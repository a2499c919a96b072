//! What is built into the kernel: `modules.builtin` (a module path a
//! line) and `modules.builtin.modinfo` (the `.modinfo` strings of the
//! built-in code, `MODULE.KEY=VALUE`, NUL ended), whose `alias` keys let
//! an alias resolve to built-in code.

use crate::{each_line, name_of_path, BadLine};

/// The module names of `modules.builtin`.
pub fn names(text: &str) -> (Vec<String>, Vec<BadLine>) {
    each_line(text, |_, line| {
        if line.contains(char::is_whitespace) {
            return Err("expected one path per line".into());
        }
        name_of_path(line).ok_or_else(|| format!("{line:?} is not a .ko path"))
    })
}

/// `(alias pattern as written, module name)` pairs of
/// `modules.builtin.modinfo`. Its "lines" are the NUL-ended records.
pub fn aliases(data: &[u8]) -> (Vec<(String, String)>, Vec<BadLine>) {
    let mut aliases = Vec::new();
    let mut bad = Vec::new();
    for (i, rec) in data
        .split(|&b| b == 0)
        .enumerate()
        .filter(|(_, r)| !r.is_empty())
    {
        let rec = String::from_utf8_lossy(rec);
        let parsed = rec
            .split_once('=')
            .and_then(|(key, value)| Some((key.split_once('.')?, value)));
        match parsed {
            Some(((module, "alias"), value)) => match crate::check_name(module) {
                Ok(m) => aliases.push((value.to_string(), m)),
                Err(msg) => bad.push(BadLine { line: i + 1, msg }),
            },
            Some(_) => {}
            None => bad.push(BadLine {
                line: i + 1,
                msg: format!("expected MODULE.KEY=VALUE in {:?}", crate::shorten(&rec)),
            }),
        }
    }
    (aliases, bad)
}

//! `modules.alias`: `alias PATTERN MODULE`, PATTERN a [`glob`](crate::glob)
//! kmod matches after normalising both sides ([`crate::normalize_alias`]).
//! modprobe.d's `alias` lines have the same form.

use crate::{check_name, each_line, BadLine};

/// `(pattern as written, module name normalised)` pairs.
pub fn parse(text: &str) -> (Vec<(String, String)>, Vec<BadLine>) {
    each_line(text, |_, line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["alias", rest @ ..] => parse_words(rest),
            _ => Err("expected 'alias PATTERN MODULE'".into()),
        }
    })
}

/// `PATTERN MODULE`, the words after the `alias` keyword.
pub fn parse_words(words: &[&str]) -> Result<(String, String), String> {
    match words {
        [pattern, module] => Ok((pattern.to_string(), check_name(module)?)),
        _ => Err(format!(
            "alias needs PATTERN and MODULE, found {} words",
            words.len()
        )),
    }
}

/// The text for `(pattern, module name)` pairs, as depmod writes it.
pub fn write(aliases: &[(String, String)]) -> String {
    let mut out = String::from("# Aliases extracted from modules themselves.\n");
    for (alias, module) in aliases {
        out.push_str(&format!("alias {alias} {module}\n"));
    }
    out
}

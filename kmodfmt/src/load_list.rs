//! `modules-load.d/*.conf`: the modules to load at boot, one name or
//! alias a line; `#` and `;` start comments (modules-load.d(5)).

use crate::{each_line, BadLine};

/// The names, as written.
pub fn parse(text: &str) -> (Vec<String>, Vec<BadLine>) {
    // Blanked rather than dropped, so that line numbers stay right.
    let text: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with(';') {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    each_line(&text, |_, line| {
        if line.contains(char::is_whitespace) {
            return Err("expected one module name per line".into());
        }
        Ok(line.to_string())
    })
}

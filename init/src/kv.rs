//! `KEY=VALUE` files that a shell can also source with `.`: the config file
//! and (later) the handoff file share this syntax.
//!
//! One assignment per line; blank lines and `#` comments are skipped;
//! values are bare words, `'single quoted'` (literal) or `"double quoted"`
//! (`\"`, `\\`, `\$` and `` \` `` escapes). Anything a shell would read
//! differently from us (an unescaped `$`, a space in a bare word) is an
//! error, so that both readers always agree.

use crate::line_error::LineError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// Parses `text` (named `file` in errors). `allowed` lists the keys the
/// caller understands; anything else is an error.
pub fn parse(file: &str, text: &str, allowed: &[&str]) -> Result<Vec<Entry>, LineError> {
    let mut entries: Vec<Entry> = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let err = |msg: String| LineError::new(file, line, msg);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (key, rest) = trimmed
            .split_once('=')
            .ok_or_else(|| err(format!("expected KEY=VALUE, found {trimmed:?}")))?;
        check_key(key).map_err(&err)?;
        if !allowed.contains(&key) {
            return Err(err(format!(
                "unknown key {key:?} (known: {})",
                allowed.join(", ")
            )));
        }
        if let Some(first) = entries.iter().find(|e| e.key == key) {
            return Err(err(format!(
                "duplicate key {key:?} (first set on line {})",
                first.line
            )));
        }
        let value = parse_value(rest).map_err(&err)?;
        entries.push(Entry {
            key: key.to_string(),
            value,
            line,
        });
    }
    Ok(entries)
}

fn check_key(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let ok_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_');
    if ok_first && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
        Ok(())
    } else {
        Err(format!("invalid key {key:?} (use A-Z, 0-9 and _)"))
    }
}

fn parse_value(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(ch) => out.push(ch),
                    None => return Err("unterminated single quote".into()),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(ch @ ('"' | '\\' | '$' | '`')) => out.push(ch),
                        Some(ch) => {
                            out.push('\\');
                            out.push(ch);
                        }
                        None => return Err("unterminated double quote".into()),
                    },
                    Some('$' | '`') => {
                        return Err(
                            "unescaped $ or ` in double quotes (a shell would expand it)".into(),
                        )
                    }
                    Some(ch) => out.push(ch),
                    None => return Err("unterminated double quote".into()),
                }
            },
            c if c.is_whitespace() => {
                let tail: String = chars.collect();
                let tail = tail.trim_start();
                if tail.is_empty() || tail.starts_with('#') {
                    return Ok(out);
                }
                return Err(format!("unquoted space in value (quote it): {s:?}"));
            }
            '\\' | '$' | '`' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => {
                return Err(format!(
                    "shell character {c:?} in unquoted value (quote it)"
                ))
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["A", "B", "C_2"];

    fn one(text: &str) -> Result<String, LineError> {
        parse("f", text, KEYS).map(|v| v[0].value.clone())
    }

    #[test]
    fn values_bare_and_quoted() {
        let text = "# comment\n\nA=plain\n  B='it is $HOME'  # note\nC_2=\"say \\\"hi\\\" \\$x\"\n";
        let v = parse("f", text, KEYS).unwrap();
        assert_eq!(
            v[0],
            Entry {
                key: "A".into(),
                value: "plain".into(),
                line: 3
            }
        );
        assert_eq!(v[1].value, "it is $HOME");
        assert_eq!(v[2].value, "say \"hi\" $x");
        assert_eq!(one("A=").unwrap(), "");
        assert_eq!(one("A=a'b c'd").unwrap(), "ab cd");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse("/etc/x", "A=1\n\nnonsense\n", KEYS).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("/etc/x", 3));
        assert!(e.to_string().starts_with("/etc/x:3: expected KEY=VALUE"));
    }

    #[test]
    fn rejects_unknown_duplicate_and_bad_keys() {
        assert!(one("Z=1").unwrap_err().msg.contains("unknown key"));
        let e = parse("f", "A=1\nA=2\n", KEYS).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.msg.contains("first set on line 1"));
        assert!(one("a=1").unwrap_err().msg.contains("invalid key"));
        assert!(one("=1").unwrap_err().msg.contains("invalid key"));
    }

    #[test]
    fn rejects_what_a_shell_would_read_differently() {
        for bad in [
            "A=a b",
            "A='open",
            "A=\"open",
            "A=\"$HOME\"",
            "A=$x",
            "A=a;b",
            "A=`x`",
            "A=\"a\\",
        ] {
            assert!(one(bad).is_err(), "{bad} should fail");
        }
    }
}

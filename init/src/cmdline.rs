//! The kernel command line, split with the kernel's own quoting rules
//! (`lib/cmdline.c: next_arg`): words are separated by whitespace, a `"`
//! toggles quoting, and the quotes around a value (`key="a b"`) or a whole
//! word (`"key=a b"`) are removed while inner quotes stay.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    /// `None` for a bare flag (`rescue.debug`), `Some("")` for `key=`.
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdlineError {
    /// The offending word as it appeared on the command line.
    pub word: String,
    pub reason: &'static str,
}

impl fmt::Display for CmdlineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kernel command line: {}: {:?}", self.reason, self.word)
    }
}

/// Splits a command line into parameters. Malformed words (an unmatched
/// quote) are returned as errors and left out; the rest is kept.
pub fn parse(line: &str) -> (Vec<Param>, Vec<CmdlineError>) {
    let mut params = Vec::new();
    let mut errors = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (word, tail) = next_word(rest);
        rest = tail.trim_start();
        match split_param(word) {
            Ok(p) => params.push(p),
            Err(reason) => errors.push(CmdlineError {
                word: word.to_string(),
                reason,
            }),
        }
    }
    (params, errors)
}

/// Returns the next whitespace-delimited word (quotes protect spaces) and
/// the remaining text.
fn next_word(s: &str) -> (&str, &str) {
    let mut in_quote = false;
    for (i, c) in s.char_indices() {
        if c == '"' {
            in_quote = !in_quote;
        } else if c.is_whitespace() && !in_quote {
            return (&s[..i], &s[i..]);
        }
    }
    (s, "")
}

fn split_param(word: &str) -> Result<Param, &'static str> {
    if !word.matches('"').count().is_multiple_of(2) {
        return Err("unterminated quote");
    }
    let word = strip_outer(word);
    Ok(match word.split_once('=') {
        None => Param {
            key: word.to_string(),
            value: None,
        },
        Some((key, value)) => Param {
            key: key.to_string(),
            value: Some(strip_outer(value).to_string()),
        },
    })
}

fn strip_outer(s: &str) -> &str {
    match s.strip_prefix('"') {
        Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
        None => s,
    }
}

/// Splits a command string such as `rescue.run`'s value into argv words:
/// whitespace separates, single and double quotes group, backslash escapes
/// the next character outside single quotes (as a POSIX shell does).
pub fn split_words(s: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => w.push(ch),
                        None => return Err("unterminated single quote"),
                    }
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => w.push(ch),
                            Some(ch) => {
                                w.push('\\');
                                w.push(ch);
                            }
                            None => return Err("unterminated double quote"),
                        },
                        Some(ch) => w.push(ch),
                        None => return Err("unterminated double quote"),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(ch) => cur.get_or_insert_with(String::new).push(ch),
                None => return Err("trailing backslash"),
            },
            c if c.is_whitespace() => words.extend(cur.take()),
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(k: &str, v: Option<&str>) -> Param {
        Param {
            key: k.into(),
            value: v.map(Into::into),
        }
    }

    #[test]
    fn plain_words_flags_and_values() {
        let (p, e) = parse("  console=ttyS0,115200n8 quiet  rescue.debug root= \n");
        assert!(e.is_empty());
        assert_eq!(
            p,
            vec![
                kv("console", Some("ttyS0,115200n8")),
                kv("quiet", None),
                kv("rescue.debug", None),
                kv("root", Some(""))
            ]
        );
    }

    #[test]
    fn quoted_values_keep_inner_quotes() {
        let (p, e) = parse(r#"rescue.run="/bin/sh -c 'echo RUN-$((2+3))'" x=1"#);
        assert!(e.is_empty());
        assert_eq!(
            p[0],
            kv("rescue.run", Some("/bin/sh -c 'echo RUN-$((2+3))'"))
        );
        assert_eq!(p[1], kv("x", Some("1")));
    }

    #[test]
    fn whole_word_quoted() {
        let (p, _) = parse(r#""rescue.run=echo a b" next"#);
        assert_eq!(
            p,
            vec![kv("rescue.run", Some("echo a b")), kv("next", None)]
        );
    }

    #[test]
    fn inner_quotes_protect_spaces() {
        let (p, _) = parse(r#"a=x"y z"w b"#);
        assert_eq!(p, vec![kv("a", Some(r#"x"y z"w"#)), kv("b", None)]);
    }

    #[test]
    fn unterminated_quote_is_reported_and_skipped() {
        let (p, e) = parse(r#"good=1 rescue.run="echo oops"#);
        assert_eq!(p, vec![kv("good", Some("1"))]);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].word, r#"rescue.run="echo oops"#);
        assert!(e[0].to_string().contains("unterminated quote"));
    }

    #[test]
    fn empty_and_whitespace_lines() {
        assert_eq!(parse(""), (vec![], vec![]));
        assert_eq!(parse(" \t\n "), (vec![], vec![]));
    }

    #[test]
    fn split_words_shell_rules() {
        assert_eq!(
            split_words("/bin/sh -c 'echo RUN-$((2+3))'").unwrap(),
            ["/bin/sh", "-c", "echo RUN-$((2+3))"]
        );
        assert_eq!(
            split_words(r#"a "b c" d\ e ''"#).unwrap(),
            ["a", "b c", "d e", ""]
        );
        assert_eq!(split_words(r#""x\"y""#).unwrap(), [r#"x"y"#]);
        assert!(split_words("'open").is_err());
        assert!(split_words("\"open").is_err());
        assert!(split_words("trail\\").is_err());
        assert!(split_words("   ").unwrap().is_empty());
    }
}

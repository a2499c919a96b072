//! The manifest of `mkimage build --config FILE`: a strict subset of TOML.
//!
//! Only what a flat list of options needs: `key = value` lines at the top
//! level, values a string (`"basic"` with escapes, or `'literal'`), an
//! integer, `true`/`false`, or an array of strings (which may span lines,
//! with a trailing comma). `#` starts a comment. Tables, dotted keys,
//! floats, dates and multi-line strings are refused, as is anything else,
//! with the line it is on. Which keys exist is decided by the caller
//! ([`crate::cli`]); this module only reads the syntax.

use std::fmt;

/// A value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Bool(_) => "a boolean",
            Value::List(_) => "an array",
        }
    }
}

/// One `key = value`, with the line it starts on (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: Value,
    pub line: usize,
}

/// A syntax error and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// The settings in `text`, in order. A key given twice is an error.
pub fn parse(text: &str) -> Result<Vec<Setting>, SyntaxError> {
    let mut r = Reader {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
    };
    let mut out: Vec<Setting> = Vec::new();
    while r.skip_blank_lines() {
        let line = r.line;
        let key = r.key()?;
        if let Some(first) = out.iter().find(|s| s.key == key) {
            return Err(r.err(format!("{key} is already set on line {}", first.line)));
        }
        r.skip_spaces();
        if !r.eat('=') {
            return Err(r.err(format!("expected '=' after {key}")));
        }
        r.skip_spaces();
        let value = r.value()?;
        r.end_of_line()?;
        out.push(Setting { key, value, line });
    }
    Ok(out)
}

struct Reader {
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

impl Reader {
    fn err(&self, message: impl fmt::Display) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn eat(&mut self, want: char) -> bool {
        let hit = self.peek() == Some(want);
        if hit {
            self.bump();
        }
        hit
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    fn skip_comment(&mut self) {
        if self.peek() == Some('#') {
            while !matches!(self.peek(), None | Some('\n')) {
                self.bump();
            }
        }
    }

    /// Skips empty and comment-only lines; false at the end of the text.
    fn skip_blank_lines(&mut self) -> bool {
        loop {
            self.skip_spaces();
            self.skip_comment();
            match self.peek() {
                None => return false,
                Some('\n') => _ = self.bump(),
                Some('\r') if self.chars.get(self.pos + 1) == Some(&'\n') => {
                    self.pos += 1;
                }
                Some(_) => return true,
            }
        }
    }

    /// Spaces, a comment and the end of the line (or text).
    fn end_of_line(&mut self) -> Result<(), SyntaxError> {
        self.skip_spaces();
        self.skip_comment();
        self.eat('\r');
        match self.peek() {
            None => Ok(()),
            Some('\n') => {
                self.bump();
                Ok(())
            }
            Some(c) => Err(self.err(format!("unexpected {c:?} after the value"))),
        }
    }

    fn key(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            self.bump();
        }
        if self.pos > start {
            return Ok(self.chars[start..self.pos].iter().collect());
        }
        Err(match self.peek() {
            Some('[') => self.err("tables are not used: write every key at the top level"),
            Some('"' | '\'') => self.err("quoted keys are not used: write the bare key"),
            Some(c) => self.err(format!("expected a key, found {c:?}")),
            None => self.err("expected a key"),
        })
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        match self.peek() {
            Some('"' | '\'') => Ok(Value::Str(self.string()?)),
            Some('[') => self.array(),
            Some(c) if c.is_ascii_alphanumeric() || c == '-' || c == '+' => self.bare(),
            Some(c) => Err(self.err(format!("expected a value, found {c:?}"))),
            None => Err(self.err("expected a value")),
        }
    }

    /// `true`, `false` or a decimal integer (TOML's `_` separators too).
    fn bare(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || "+-_.:".contains(c)) {
            self.bump();
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        match word.as_str() {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            _ => {}
        }
        let digits = word.strip_prefix(['+', '-']).unwrap_or(&word);
        // Underscores only between digits; no leading zero.
        let misplaced = digits.starts_with('_') || digits.ends_with('_') || digits.contains("__");
        let leading_zero = digits.len() > 1 && digits.starts_with('0');
        let well_formed = digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            && !digits.is_empty()
            && !misplaced
            && !leading_zero;
        let n = word.replace('_', "").parse::<i64>().ok();
        match n.filter(|_| well_formed) {
            Some(n) => Ok(Value::Int(n)),
            None => Err(self.err(format!(
                "{word:?} is not a value (strings need quotes; integers are decimal)"
            ))),
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let quote = self.bump().unwrap_or('"');
        if self.peek() == Some(quote) && self.chars.get(self.pos + 1) == Some(&quote) {
            return Err(self.err("multi-line strings are not used"));
        }
        let mut s = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => return Err(self.err("string not closed on its line")),
                Some(c) if c == quote => return Ok(s),
                Some('\\') if quote == '"' => s.push(self.escape()?),
                Some(c) if c.is_control() && c != '\t' => {
                    return Err(self.err(format!("control character {c:?} in a string")))
                }
                Some(c) => s.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, SyntaxError> {
        let c = match self.bump() {
            Some('b') => '\u{8}',
            Some('t') => '\t',
            Some('n') => '\n',
            Some('f') => '\u{c}',
            Some('r') => '\r',
            Some('"') => '"',
            Some('\\') => '\\',
            Some('u') => self.unicode(4)?,
            Some('U') => self.unicode(8)?,
            other => return Err(self.err(format!("unknown escape \\{}", other.unwrap_or(' ')))),
        };
        Ok(c)
    }

    fn unicode(&mut self, len: usize) -> Result<char, SyntaxError> {
        let hex: String = (0..len).filter_map(|_| self.bump()).collect();
        u32::from_str_radix(&hex, 16)
            .ok()
            .filter(|_| hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(char::from_u32)
            .ok_or_else(|| self.err(format!("bad unicode escape {hex:?}")))
    }

    /// `[ "a", "b", ]`, over several lines if need be, with comments.
    fn array(&mut self) -> Result<Value, SyntaxError> {
        self.bump();
        let mut items = Vec::new();
        loop {
            self.skip_array_space();
            if self.eat(']') {
                return Ok(Value::List(items));
            }
            match self.peek() {
                Some('"' | '\'') => items.push(self.string()?),
                None => return Err(self.err("array not closed")),
                Some(c) => return Err(self.err(format!("arrays hold strings only, found {c:?}"))),
            }
            self.skip_array_space();
            if self.peek().is_none() {
                return Err(self.err("array not closed"));
            }
            if !self.eat(',') && self.peek() != Some(']') {
                return Err(self.err("expected ',' or ']' in the array"));
            }
        }
    }

    fn skip_array_space(&mut self) {
        loop {
            self.skip_comment();
            match self.peek() {
                Some(' ' | '\t' | '\n' | '\r') => _ = self.bump(),
                _ => return,
            }
        }
    }
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;

//! Just enough of GRUB's script language to read a generated `grub.cfg`:
//! words with GRUB's quoting (`'...'`, `"..."`, `\`), `$var`/`${var}`,
//! commands split at newlines and `;`, `#` comments, `{ ... }` blocks.
//! Words keep their variables unexpanded until the caller knows the
//! environment at that point.

use std::collections::HashMap;

pub type Env = HashMap<String, String>;

/// The longest word an expansion may make. Generated configs stay far
/// below it; `set a=$a$a` repeated would otherwise double without end.
pub const MAX_EXPANDED: usize = 64 << 10;

/// A piece of a word: literal text or a variable reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    Var(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word(pub Vec<Piece>);

impl Word {
    /// The word's text if it has no variables.
    pub fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(l) => s.push_str(l),
                Piece::Var(_) => return None,
            }
        }
        Some(s)
    }

    /// The word with variables replaced from `env` (unset ones are empty,
    /// as in GRUB); None when it would be longer than [`MAX_EXPANDED`].
    pub fn expand(&self, env: &Env) -> Option<String> {
        let mut s = String::new();
        for p in &self.0 {
            let piece = match p {
                Piece::Lit(l) => l.as_str(),
                Piece::Var(v) => env.get(v).map_or("", String::as_str),
            };
            // Checked before growing: the cap bounds the allocation.
            if s.len() + piece.len() > MAX_EXPANDED {
                return None;
            }
            s.push_str(piece);
        }
        Some(s)
    }

    fn push_char(&mut self, c: char) {
        match self.0.last_mut() {
            Some(Piece::Lit(l)) => l.push(c),
            _ => self.0.push(Piece::Lit(c.to_string())),
        }
    }
}

/// One command: its words and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub line: usize,
    pub words: Vec<Word>,
}

impl Cmd {
    /// The first word, if literal.
    pub fn name(&self) -> Option<String> {
        self.words.first().and_then(Word::literal)
    }

    /// Whether the last word is a literal `{` (the command opens a block).
    pub fn opens_block(&self) -> bool {
        self.words.last().and_then(Word::literal).as_deref() == Some("{")
    }
}

/// Splits `text` into commands. Never fails: an unterminated quote ends
/// at the end of the text, as much as GRUB would have read.
pub fn lex(text: &str) -> Vec<Cmd> {
    let mut lx = Lexer {
        chars: text.chars().peekable(),
        line: 1,
        cmds: Vec::new(),
        words: Vec::new(),
        word: None,
        cmd_line: 1,
    };
    lx.run();
    lx.cmds
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    cmds: Vec<Cmd>,
    words: Vec<Word>,
    word: Option<Word>,
    cmd_line: usize,
}

impl Lexer<'_> {
    fn run(&mut self) {
        while let Some(c) = self.chars.next() {
            match c {
                '\n' | ';' => {
                    self.end_cmd();
                    if c == '\n' {
                        self.line += 1;
                    }
                }
                c if c.is_whitespace() => self.end_word(),
                '#' if self.word.is_none() => self.skip_comment(),
                '\\' => self.backslash(),
                '\'' => self.single_quoted(),
                '"' => self.double_quoted(),
                '$' => self.variable(),
                c => self.word().push_char(c),
            }
        }
        self.end_cmd();
    }

    fn word(&mut self) -> &mut Word {
        if self.words.is_empty() && self.word.is_none() {
            self.cmd_line = self.line;
        }
        self.word.get_or_insert_with(Word::default)
    }

    fn end_word(&mut self) {
        if let Some(w) = self.word.take() {
            self.words.push(w);
        }
    }

    fn end_cmd(&mut self) {
        self.end_word();
        if !self.words.is_empty() {
            let words = std::mem::take(&mut self.words);
            self.cmds.push(Cmd {
                line: self.cmd_line,
                words,
            });
        }
    }

    fn skip_comment(&mut self) {
        while self.chars.next_if(|c| *c != '\n').is_some() {}
    }

    fn backslash(&mut self) {
        match self.chars.next() {
            Some('\n') => self.line += 1,
            Some(c) => self.word().push_char(c),
            None => {}
        }
    }

    fn single_quoted(&mut self) {
        self.word();
        while let Some(c) = self.chars.next() {
            match c {
                '\'' => return,
                '\n' => self.line += 1,
                _ => {}
            }
            self.word().push_char(c);
        }
    }

    fn double_quoted(&mut self) {
        self.word();
        while let Some(c) = self.chars.next() {
            match c {
                '"' => return,
                '$' => self.variable(),
                '\\' => match self.chars.next_if(|n| matches!(n, '$' | '"' | '\\' | '\n')) {
                    Some('\n') => self.line += 1,
                    Some(n) => self.word().push_char(n),
                    None => self.word().push_char('\\'),
                },
                c => {
                    if c == '\n' {
                        self.line += 1;
                    }
                    self.word().push_char(c);
                }
            }
        }
    }

    /// After a `$`: `${name}`, `$name`, `$1`, `$?`, `$#`; else a literal `$`.
    fn variable(&mut self) {
        let name = if self.chars.next_if_eq(&'{').is_some() {
            let mut n = String::new();
            while let Some(c) = self.chars.next_if(|c| *c != '}' && *c != '\n') {
                n.push(c);
            }
            self.chars.next_if_eq(&'}');
            n
        } else if let Some(c) = self.chars.next_if(|c| matches!(c, '?' | '#')) {
            c.to_string()
        } else {
            let mut n = String::new();
            while let Some(c) = self
                .chars
                .next_if(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                n.push(c);
            }
            n
        };
        if name.is_empty() {
            self.word().push_char('$');
        } else {
            self.word().0.push(Piece::Var(name));
        }
    }
}

/// Parses `grubenv` (`# GRUB Environment Block`, `key=value` lines,
/// `#` padding).
pub fn parse_grubenv(text: &str) -> Env {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("\\n", "\n").replace("\\\\", "\\")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<String>> {
        let env: Env = [("v".to_string(), "V".to_string())].into_iter().collect();
        lex(text)
            .iter()
            .map(|c| c.words.iter().map(|w| w.expand(&env).unwrap()).collect())
            .collect()
    }

    #[test]
    fn quoting_and_variables() {
        let w = words("set a='x $v' b=\"y $v ${v}\\\"\" c=\\$v d=$v$nope e=$ # comment\n");
        assert_eq!(w, [["set", "a=x $v", "b=y V V\"", "c=$v", "d=V", "e=$"]]);
        assert_eq!(
            words("a;b c\n\n  d # x\n#whole line\ne"),
            [vec!["a"], vec!["b", "c"], vec!["d"], vec!["e"]]
        );
        assert_eq!(
            words("linux /vmlinuz \\\n  ro quiet"),
            [["linux", "/vmlinuz", "ro", "quiet"]]
        );
        assert_eq!(words("echo '' \"\" x#y"), [["echo", "", "", "x#y"]]);
    }

    #[test]
    fn lines_and_blocks() {
        let cmds = lex("# c\nmenuentry 'A\nB' {\n  linux /k\n}\n");
        let lines: Vec<usize> = cmds.iter().map(|c| c.line).collect();
        assert_eq!(lines, [2, 4, 5]);
        assert!(cmds[0].opens_block());
        assert_eq!(cmds[0].words[1].literal().as_deref(), Some("A\nB"));
        assert_eq!(cmds[2].name().as_deref(), Some("}"));
        let var = &lex("menuentry $t {")[0];
        assert_eq!(var.words[1], Word(vec![Piece::Var("t".into())]));
        assert_eq!(var.words[1].literal(), None);
    }

    #[test]
    fn unterminated_quotes_do_not_fail() {
        assert_eq!(words("a 'open"), [["a", "open"]]);
        assert_eq!(words("a \"open ${x"), [["a", "open "]]);
        assert_eq!(words("a \\"), [["a"]]);
    }

    #[test]
    fn grubenv() {
        let env = parse_grubenv("# GRUB Environment Block\nsaved_entry=gnulinux-advanced>gnulinux-6.1\nkernelopts=root=/dev/x ro\n#######");
        assert_eq!(env["saved_entry"], "gnulinux-advanced>gnulinux-6.1");
        assert_eq!(env["kernelopts"], "root=/dev/x ro");
        assert_eq!(env.len(), 2);
    }
}

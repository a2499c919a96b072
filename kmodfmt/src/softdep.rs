//! `modules.softdep`: `softdep MODULE pre: a b post: c`, modules (or
//! aliases) to load before and after MODULE that it does not link
//! against. The module's `.modinfo` says the same in `softdep=pre: ...`
//! strings, and modprobe.d's `softdep` lines have the same form.

use crate::{check_name, each_line, BadLine};

/// Names to load before and after a module, as written (they may be
/// aliases, resolved at load time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoftDeps {
    pub pre: Vec<String>,
    pub post: Vec<String>,
}

impl SoftDeps {
    /// Adds the names of one `pre: a b post: c` text (either part may be
    /// missing, or repeated). Names before any `pre:` or `post:` are
    /// ignored, as kmod does: real kernels ship such lines (6.1's cifs:
    /// `softdep cifs gcm`).
    pub fn add(&mut self, text: &str) {
        self.add_words(&text.split_whitespace().collect::<Vec<_>>());
    }

    /// [`SoftDeps::add`] for text already split into words.
    pub fn add_words(&mut self, words: &[&str]) {
        let mut list = None;
        for &word in words {
            match word {
                "pre:" => list = Some(&mut self.pre),
                "post:" => list = Some(&mut self.post),
                _ => {
                    if let Some(l) = list.as_mut() {
                        l.push(word.to_string());
                    }
                }
            }
        }
    }

    pub fn extend(&mut self, other: &SoftDeps) {
        self.pre.extend(other.pre.iter().cloned());
        self.post.extend(other.post.iter().cloned());
    }

    /// Both lists, `pre` first.
    pub fn all(&self) -> impl Iterator<Item = &String> {
        self.pre.iter().chain(&self.post)
    }

    pub fn is_empty(&self) -> bool {
        self.pre.is_empty() && self.post.is_empty()
    }
}

/// `(module name normalised, its soft dependencies)` pairs; a module may
/// have several lines.
pub fn parse(text: &str) -> (Vec<(String, SoftDeps)>, Vec<BadLine>) {
    each_line(text, |_, line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["softdep", rest @ ..] => parse_words(rest),
            _ => Err("expected 'softdep MODULE pre: ... post: ...'".into()),
        }
    })
}

/// `MODULE pre: ... post: ...`, the words after the `softdep` keyword.
pub fn parse_words(words: &[&str]) -> Result<(String, SoftDeps), String> {
    let (module, rest) = words.split_first().ok_or("softdep without a module")?;
    let module = check_name(module)?;
    if rest.is_empty() {
        return Err(format!("softdep {module} lists no modules"));
    }
    let mut deps = SoftDeps::default();
    deps.add_words(rest);
    Ok((module, deps))
}

/// The text for `(module name, soft dependencies)` pairs. A pair with no
/// names is left out: kmod would read nothing from its line.
pub fn write(softdeps: &[(String, SoftDeps)]) -> String {
    let mut out = String::from("# Soft dependencies extracted from modules themselves.\n");
    for (module, deps) in softdeps.iter().filter(|(_, d)| !d.is_empty()) {
        out.push_str("softdep ");
        out.push_str(module);
        for (label, names) in [(" pre:", &deps.pre), (" post:", &deps.post)] {
            if !names.is_empty() {
                out.push_str(label);
                for n in names {
                    out.push(' ');
                    out.push_str(n);
                }
            }
        }
        out.push('\n');
    }
    out
}

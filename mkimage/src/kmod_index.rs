//! kmod's text index files, read from a modules directory and written
//! into an image, and the glob matching of aliases.
//!
//! - `modules.dep`: `kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko ...`,
//!   every dependency, direct or not, each listed before its own
//!   dependencies: kmod loads them from the end of the line.
//! - `modules.alias`: `alias PATTERN MODNAME`, PATTERN a glob.
//! - `modules.softdep`: `softdep MODNAME pre: a b post: c`.
//! - `modules.order`, `modules.builtin`: one module path a line.
//! - `modules.builtin.modinfo`: `MODNAME.key=value` strings, NUL ended.

use crate::modinfo::{name_of_path, normalize};

/// Lines of `modules.dep`: module paths and their dependencies' paths.
/// Fails with the number of a line that has no `:`.
pub fn parse_dep(text: &str) -> Result<Vec<(String, Vec<String>)>, usize> {
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (path, deps) = line.split_once(':').ok_or(i + 1)?;
        let deps = deps.split_whitespace().map(str::to_string).collect();
        lines.push((path.trim().to_string(), deps));
    }
    Ok(lines)
}

/// `(words[1], rest)` of the lines whose first word is `keyword`.
fn keyword_lines<'a>(text: &'a str, keyword: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
    text.lines().filter_map(move |line| {
        let rest = line.trim_start().strip_prefix(keyword)?;
        if !rest.starts_with([' ', '\t']) {
            return None;
        }
        let rest = rest.trim_start();
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        Some((&rest[..end], rest[end..].trim()))
    })
}

/// `modules.alias`: `(pattern, module name)` pairs.
pub fn parse_alias(text: &str) -> Vec<(String, String)> {
    keyword_lines(text, "alias")
        .filter(|(_, module)| !module.is_empty())
        .map(|(alias, module)| (alias.to_string(), normalize(module)))
        .collect()
}

/// `modules.softdep`: `(module name, "pre: ... post: ...")` pairs.
pub fn parse_softdep(text: &str) -> Vec<(String, String)> {
    keyword_lines(text, "softdep")
        .map(|(module, deps)| (normalize(module), deps.to_string()))
        .collect()
}

/// `modules.builtin` or `modules.order`: module paths, one a line.
pub fn parse_paths(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The names of the modules of `modules.builtin`.
pub fn builtin_names(text: &str) -> Vec<String> {
    parse_paths(text)
        .iter()
        .filter_map(|p| name_of_path(p))
        .collect()
}

/// The `(alias, module name)` pairs of `modules.builtin.modinfo`.
pub fn builtin_aliases(raw: &[u8]) -> Vec<(String, String)> {
    raw.split(|&b| b == 0)
        .filter_map(|item| {
            let item = std::str::from_utf8(item).ok()?;
            let (module, alias) = item.split_once(".alias=")?;
            Some((alias.to_string(), normalize(module)))
        })
        .collect()
}

/// `modules.dep` text for `(path, dependency paths)` lines.
pub fn write_dep(lines: &[(String, Vec<String>)]) -> Vec<u8> {
    let mut out = String::new();
    for (path, deps) in lines {
        out.push_str(path);
        out.push(':');
        for d in deps {
            out.push(' ');
            out.push_str(d);
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// `modules.alias` text for `(pattern, module name)` pairs.
pub fn write_alias(aliases: &[(String, String)]) -> Vec<u8> {
    let mut out = String::from("# Aliases extracted from modules themselves.\n");
    for (alias, module) in aliases {
        out.push_str(&format!("alias {alias} {module}\n"));
    }
    out.into_bytes()
}

/// `modules.softdep` text for `(module name, "pre: ...")` pairs.
pub fn write_softdep(softdeps: &[(String, String)]) -> Vec<u8> {
    let mut out = String::from("# Soft dependencies extracted from modules themselves.\n");
    for (module, deps) in softdeps {
        out.push_str(&format!("softdep {module} {deps}\n"));
    }
    out.into_bytes()
}

/// One path a line, for `modules.order`.
pub fn write_paths<'a>(paths: impl IntoIterator<Item = &'a String>) -> Vec<u8> {
    let mut out = String::new();
    for p in paths {
        out.push_str(p);
        out.push('\n');
    }
    out.into_bytes()
}

/// An alias (or a pattern) as kmod compares it: `-` is `_`, except
/// inside `[...]`.
pub fn normalize_alias(alias: &str) -> String {
    let mut out = String::with_capacity(alias.len());
    let mut in_brackets = false;
    for c in alias.chars() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            _ => {}
        }
        out.push(if c == '-' && !in_brackets { '_' } else { c });
    }
    out
}

/// Whether `text` matches the glob `pattern` as `fnmatch(3)` without
/// flags does: `*`, `?`, `[a-z]`, `[!...]` and `\` escapes.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where to retry after the last `*`: pattern and text positions.
    let mut retry: Option<(usize, usize)> = None;
    while t < text.len() {
        if pattern.get(p) == Some(&b'*') {
            p += 1;
            retry = Some((p, t));
            continue;
        }
        if let Some(len) = match_one(&pattern[p.min(pattern.len())..], text[t]) {
            p += len;
            t += 1;
            continue;
        }
        match retry {
            Some((rp, rt)) => {
                p = rp;
                t = rt + 1;
                retry = Some((rp, rt + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// If the first element of `pattern` (not `*`) matches `c`: its length.
fn match_one(pattern: &[u8], c: u8) -> Option<usize> {
    match *pattern.first()? {
        b'?' => Some(1),
        b'\\' if pattern.len() > 1 => (pattern[1] == c).then_some(2),
        b'[' => match bracket(pattern, c) {
            Some((true, len)) => Some(len),
            Some((false, _)) => None,
            None => (c == b'[').then_some(1),
        },
        first => (first == c).then_some(1),
    }
}

/// A `[...]` class at the start of `pattern`: whether `c` is in it, and
/// its length; `None` if it is not closed (then `[` is literal).
fn bracket(pattern: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let lo = *pattern.get(i)?;
        if lo == b']' && !first {
            return Some((found != negate, i + 1));
        }
        first = false;
        match (pattern.get(i + 1), pattern.get(i + 2)) {
            (Some(b'-'), Some(&hi)) if hi != b']' => {
                found |= (lo..=hi).contains(&c);
                i += 3;
            }
            _ => {
                found |= lo == c;
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests;

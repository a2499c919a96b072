//! The kmod text formats. Every parser takes the text and a file name
//! for errors and returns what it understood plus one [`LineError`] per
//! rejected line: a damaged line costs that line, never the whole index.
//! Blank lines and `#` comments are skipped everywhere.

use super::{name_from_path, normalize, normalize_alias, SoftDeps};
use crate::line_error::LineError;

/// One `modules.dep` line: `kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko ...`.
/// Paths are as written (relative to the modules dir, or absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepEntry {
    pub name: String,
    pub path: String,
    /// Dependency paths as listed: depmod puts the one to load first last.
    pub deps: Vec<String>,
    pub line: usize,
}

/// Numbered, trimmed lines that are neither blank nor `#` comments.
pub(super) fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Collects `f`'s results per line, turning `Err(msg)` into a LineError.
fn each_line<T>(
    file: &str,
    text: &str,
    mut f: impl FnMut(usize, &str) -> Result<T, String>,
) -> (Vec<T>, Vec<LineError>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in content_lines(text) {
        match f(n, line) {
            Ok(item) => items.push(item),
            Err(msg) => errors.push(LineError::new(file, n, format!("{msg} in {:?}", shorten(line)))),
        }
    }
    (items, errors)
}

/// Keeps error messages readable when a line is binary garbage.
fn shorten(line: &str) -> String {
    match line.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}

/// A module name: ASCII letters, digits, `_` and `-`.
pub(super) fn check_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(normalize(s))
    } else {
        Err(format!("bad module name {s:?}"))
    }
}

fn module_path(s: &str) -> Result<String, String> {
    name_from_path(s).ok_or_else(|| format!("{s:?} is not a .ko path"))
}

/// Parses `modules.dep`.
pub fn parse_dep(file: &str, text: &str) -> (Vec<DepEntry>, Vec<LineError>) {
    each_line(file, text, |n, line| {
        let (path, deps) = line
            .split_once(':')
            .ok_or("expected 'MODULE.ko: DEPS...'")?;
        let path = path.trim_end();
        let name = module_path(path)?;
        let deps: Vec<String> = deps.split_whitespace().map(str::to_string).collect();
        for d in &deps {
            module_path(d)?;
        }
        Ok(DepEntry {
            name,
            path: path.to_string(),
            deps,
            line: n,
        })
    })
}

/// Parses `modules.alias` (and the alias part of modprobe.d lines):
/// `alias PATTERN MODULE` → (normalised pattern, module name).
pub fn parse_alias(file: &str, text: &str) -> (Vec<(String, String)>, Vec<LineError>) {
    each_line(file, text, |_, line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["alias", rest @ ..] => alias_body(rest),
            _ => Err("expected 'alias PATTERN MODULE'".into()),
        }
    })
}

/// `PATTERN MODULE` after the `alias` keyword.
pub(super) fn alias_body(words: &[&str]) -> Result<(String, String), String> {
    match words {
        [pattern, module] => Ok((normalize_alias(pattern), check_name(module)?)),
        _ => Err(format!(
            "alias needs PATTERN and MODULE, found {} words",
            words.len()
        )),
    }
}

/// Parses `modules.softdep`: `softdep MODULE pre: A B post: C`.
pub fn parse_softdep(file: &str, text: &str) -> (Vec<(String, SoftDeps)>, Vec<LineError>) {
    each_line(file, text, |_, line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["softdep", rest @ ..] => softdep_body(rest),
            _ => Err("expected 'softdep MODULE pre: ... post: ...'".into()),
        }
    })
}

/// `MODULE pre: ... post: ...` after the `softdep` keyword. The names
/// may be aliases (`pre: crypto-crc32c`); they are resolved at load time.
/// Names before any `pre:`/`post:` are ignored, as kmod does: real
/// kernels ship such lines (6.1's cifs: `softdep cifs gcm`).
pub(super) fn softdep_body(words: &[&str]) -> Result<(String, SoftDeps), String> {
    let (module, rest) = words.split_first().ok_or("softdep without a module")?;
    let module = check_name(module)?;
    if rest.is_empty() {
        return Err(format!("softdep {module} lists no modules"));
    }
    let mut deps = SoftDeps::default();
    let mut target: Option<&mut Vec<String>> = None;
    for w in rest {
        match *w {
            "pre:" => target = Some(&mut deps.pre),
            "post:" => target = Some(&mut deps.post),
            name => {
                if let Some(list) = target.as_deref_mut() {
                    list.push(normalize_alias(name));
                }
            }
        }
    }
    Ok((module, deps))
}

/// Parses `modules.builtin`: one `kernel/.../NAME.ko` path per line.
pub fn parse_builtin(file: &str, text: &str) -> (Vec<String>, Vec<LineError>) {
    each_line(file, text, |_, line| {
        if line.contains(char::is_whitespace) {
            return Err("expected one path per line".into());
        }
        module_path(line)
    })
}

/// Parses `modules.builtin.modinfo` (NUL-separated `module.key=value`
/// records) for the aliases of built-in code: (pattern, module).
/// "Lines" in errors are record numbers.
pub fn parse_builtin_aliases(file: &str, data: &[u8]) -> (Vec<(String, String)>, Vec<LineError>) {
    let mut aliases = Vec::new();
    let mut errors = Vec::new();
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
            Some(((module, "alias"), value)) => match check_name(module) {
                Ok(m) => aliases.push((normalize_alias(value), m)),
                Err(msg) => errors.push(LineError::new(file, i + 1, msg)),
            },
            Some(_) => {}
            None => errors.push(LineError::new(
                file,
                i + 1,
                format!("expected MODULE.KEY=VALUE in {:?}", shorten(&rec)),
            )),
        }
    }
    (aliases, errors)
}

/// Parses a `modules-load.d` file: one module name or alias per line,
/// `#` and `;` start comments.
pub fn parse_modules_load(file: &str, text: &str) -> (Vec<String>, Vec<LineError>) {
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
    each_line(file, &text, |_, line| {
        if line.contains(char::is_whitespace) {
            return Err("expected one module name per line".into());
        }
        Ok(normalize_alias(line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_lines() {
        let text = "kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko kernel/fs/mbcache.ko\n\
                    kernel/lib/crc16.ko:\n\nkernel/x/dm-mod.ko.zst:\n";
        let (v, e) = parse_dep("modules.dep", text);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(v[0].name, "ext4");
        assert_eq!(
            v[0].deps,
            ["kernel/fs/jbd2/jbd2.ko", "kernel/fs/mbcache.ko"]
        );
        assert!(v[1].deps.is_empty());
        assert_eq!(v[2].name, "dm_mod");
        let (v, e) = parse_dep("m.dep", "a.ko: b.ko\nnonsense\nc.ko: d.txt\n.ko:\n");
        assert_eq!(v.len(), 1);
        let lines: Vec<usize> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert!(
            e[1].to_string()
                .starts_with("m.dep:3: \"d.txt\" is not a .ko path"),
            "{}",
            e[1]
        );
    }

    #[test]
    fn alias_and_softdep_lines() {
        let (v, e) = parse_alias(
            "a",
            "# c\nalias fs-ext4 ext4\nalias pci:v*d[0-9] ahci\nalias x\nfoo a b\n",
        );
        assert_eq!(
            v,
            [
                ("fs_ext4".into(), "ext4".into()),
                ("pci:v*d[0-9]".into(), "ahci".into())
            ]
        );
        assert_eq!(e.iter().map(|e| e.line).collect::<Vec<_>>(), [4, 5]);
        let text = "softdep ext4 pre: crypto-crc32c post: x\nsoftdep cifs gcm\nsoftdep w\nsoftdep a b pre: c\n";
        let (v, e) = parse_softdep("s", text);
        assert_eq!(v[0].0, "ext4");
        assert_eq!(v[0].1.pre, ["crypto_crc32c"]);
        assert_eq!(v[0].1.post, ["x"]);
        assert_eq!(
            v[1],
            ("cifs".into(), SoftDeps::default()),
            "kmod ignores names before pre:/post:"
        );
        assert_eq!(v[2].1.pre, ["c"]);
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].to_string(),
            "s:3: softdep w lists no modules in \"softdep w\""
        );
    }

    #[test]
    fn builtin_and_modinfo() {
        let (v, e) = parse_builtin("b", "kernel/fs/ext4/ext4.ko\nkernel/a-b.ko\nnot a path\n");
        assert_eq!(v, ["ext4", "a_b"]);
        assert_eq!(e.len(), 1);
        let data = b"ext4.alias=fs-ext4\0ext4.license=GPL\0\0broken\0bad name.alias=x\0";
        let (v, e) = parse_builtin_aliases("bm", data);
        assert_eq!(v, [("fs_ext4".to_string(), "ext4".to_string())]);
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn modules_load_lists() {
        let (v, e) = parse_modules_load("l.conf", "# x\n; y\nvirtio-blk\n  ext4  \ntwo words\n");
        assert_eq!(v, ["virtio_blk", "ext4"]);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 5);
    }
}

//! The kmod files as the modules code wants them: [`kmodfmt`] reads
//! the formats; here each rejected line becomes a [`LineError`] naming
//! the file, and patterns and names are normalised as kmod compares
//! them (`-` is `_`, see [`normalize_alias`]).

use crate::line_error::LineError;
use kmodfmt::dep::DepLine;
use kmodfmt::{normalize_alias, BadLine, SoftDeps};

fn in_file(file: &str, bad: Vec<BadLine>) -> Vec<LineError> {
    bad.into_iter()
        .map(|b| LineError::new(file, b.line, b.msg))
        .collect()
}

fn normalize_patterns(pairs: &mut [(String, String)]) {
    for (pattern, _) in pairs {
        *pattern = normalize_alias(pattern);
    }
}

fn normalize_names(deps: &mut SoftDeps) {
    for name in deps.pre.iter_mut().chain(deps.post.iter_mut()) {
        *name = normalize_alias(name);
    }
}

/// Parses `modules.dep`.
pub fn parse_dep(file: &str, text: &str) -> (Vec<DepLine>, Vec<LineError>) {
    let (lines, bad) = kmodfmt::dep::parse(text);
    (lines, in_file(file, bad))
}

/// Parses `modules.alias` into (normalised pattern, module name).
pub fn parse_alias(file: &str, text: &str) -> (Vec<(String, String)>, Vec<LineError>) {
    let (mut aliases, bad) = kmodfmt::alias::parse(text);
    normalize_patterns(&mut aliases);
    (aliases, in_file(file, bad))
}

/// A modprobe.d `alias` line's words after the keyword.
pub(super) fn alias_words(words: &[&str]) -> Result<(String, String), String> {
    let (pattern, module) = kmodfmt::alias::parse_words(words)?;
    Ok((normalize_alias(&pattern), module))
}

/// Parses `modules.softdep`. The names may be aliases
/// (`pre: crypto-crc32c`); they are resolved at load time.
pub fn parse_softdep(file: &str, text: &str) -> (Vec<(String, SoftDeps)>, Vec<LineError>) {
    let (mut softdeps, bad) = kmodfmt::softdep::parse(text);
    for (_, deps) in &mut softdeps {
        normalize_names(deps);
    }
    (softdeps, in_file(file, bad))
}

/// A modprobe.d `softdep` line's words after the keyword.
pub(super) fn softdep_words(words: &[&str]) -> Result<(String, SoftDeps), String> {
    let (module, mut deps) = kmodfmt::softdep::parse_words(words)?;
    normalize_names(&mut deps);
    Ok((module, deps))
}

/// Parses `modules.builtin` into module names.
pub fn parse_builtin(file: &str, text: &str) -> (Vec<String>, Vec<LineError>) {
    let (names, bad) = kmodfmt::builtin::names(text);
    (names, in_file(file, bad))
}

/// Parses `modules.builtin.modinfo` for the aliases of built-in code:
/// (normalised pattern, module). "Lines" in errors are record numbers.
pub fn parse_builtin_aliases(file: &str, data: &[u8]) -> (Vec<(String, String)>, Vec<LineError>) {
    let (mut aliases, bad) = kmodfmt::builtin::aliases(data);
    normalize_patterns(&mut aliases);
    (aliases, in_file(file, bad))
}

/// Parses a `modules-load.d` file into normalised names.
pub fn parse_modules_load(file: &str, text: &str) -> (Vec<String>, Vec<LineError>) {
    let (mut names, bad) = kmodfmt::load_list::parse(text);
    for name in &mut names {
        *name = normalize_alias(name);
    }
    (names, in_file(file, bad))
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

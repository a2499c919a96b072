//! Module names and paths as kmod and the kernel compare them.

/// The endings of module files: plain first, then compressed.
pub const SUFFIXES: [&str; 4] = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"];

/// `NAME.ko[.xz|.zst|.gz]` split into `NAME` and whether it is compressed.
pub fn split_file_name(file: &str) -> Option<(&str, bool)> {
    SUFFIXES.iter().enumerate().find_map(|(i, suffix)| {
        let stem = file.strip_suffix(suffix)?;
        (!stem.is_empty()).then_some((stem, i > 0))
    })
}

/// A module name as the kernel and kmod compare them: `-` is `_`.
pub fn normalize(name: &str) -> String {
    name.replace('-', "_")
}

/// An alias or lookup key: `-` becomes `_` except inside `[...]`, where
/// it is a range (kmod's `alias_normalize`).
pub fn normalize_alias(alias: &str) -> String {
    let mut out = String::with_capacity(alias.len());
    let mut in_class = false;
    for c in alias.chars() {
        match c {
            '[' => in_class = true,
            ']' => in_class = false,
            _ => {}
        }
        out.push(if c == '-' && !in_class { '_' } else { c });
    }
    out
}

/// The module name of a module file's path (`.../crc32c-intel.ko.xz` is
/// `crc32c_intel`), if it is a module file's path.
pub fn name_of_path(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    split_file_name(file).map(|(stem, _)| normalize(stem))
}

/// A module's path with the compression suffix taken off: the path of
/// the decompressed file.
pub fn plain_path(path: &str) -> String {
    for suffix in &SUFFIXES[1..] {
        if let Some(stem) = path.strip_suffix(suffix) {
            return format!("{stem}.ko");
        }
    }
    path.to_string()
}

/// A module name (ASCII letters, digits, `_` and `-`), normalised.
pub fn check_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(normalize(s))
    } else {
        Err(format!("bad module name {s:?}"))
    }
}

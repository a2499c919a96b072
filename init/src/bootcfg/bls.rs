//! Boot Loader Specification type 1 entries (`loader/entries/*.conf`):
//! `key value` lines, of which `linux`, `initrd` (repeatable), `options`
//! (repeatable, joined) and the sort keys matter here.
//!
//! The default entry: the first, in BLS order, matching `loader.conf`'s
//! `default` glob; else the one GRUB's `saved_entry` names (RHEL/Fedora
//! boot BLS entries through GRUB's `blscfg`); else the first in BLS order
//! (systemd-boot's: entries with a `sort-key` first, by sort-key, then
//! machine-id, then version descending; then by file name, newest first).

use super::grub::Env;
use super::version::version_cmp;
use kmodfmt::glob::matches;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    /// The file name without `.conf`.
    pub id: String,
    pub title: Option<String>,
    pub version: Option<String>,
    pub machine_id: Option<String>,
    pub sort_key: Option<String>,
    pub architecture: Option<String>,
    pub linux: Option<String>,
    /// `initrd` lines as written (each may name several files).
    pub initrds: Vec<String>,
    pub options: Vec<String>,
    /// A device tree blob for the kernel (arm64 boards).
    pub devicetree: Option<String>,
}

/// This machine in BLS `architecture` lines (the UEFI names).
pub const ARCH: &str = if cfg!(target_arch = "aarch64") {
    "aa64"
} else {
    "x64"
};

/// Parses one entry file named `file_name`. Unknown keys are ignored.
pub fn parse_entry(file_name: &str, text: &str) -> Entry {
    let mut e = Entry {
        id: file_name
            .strip_suffix(".conf")
            .unwrap_or(file_name)
            .to_string(),
        ..Entry::default()
    };
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (key, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let value = value.trim().to_string();
        match key {
            "title" => e.title = Some(value),
            "version" => e.version = Some(value),
            "machine-id" => e.machine_id = Some(value),
            "sort-key" => e.sort_key = Some(value),
            "architecture" => e.architecture = Some(value),
            "linux" => e.linux = Some(value),
            "initrd" => e.initrds.push(value),
            "options" => e.options.push(value),
            "devicetree" => e.devicetree = Some(value),
            _ => {}
        }
    }
    e
}

/// `loader.conf`'s `default` pattern, if it has one.
pub fn parse_default(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.split_once(char::is_whitespace))
        .filter(|(k, _)| *k == "default")
        .map(|(_, v)| v.trim().to_string())
        .next_back()
}

/// BLS order (see the module docs); the default candidate comes first.
pub fn compare(a: &Entry, b: &Entry) -> Ordering {
    let by_id = || version_cmp(&b.id, &a.id);
    match (&a.sort_key, &b.sort_key) {
        (Some(x), Some(y)) => x
            .cmp(y)
            .then_with(|| a.machine_id.cmp(&b.machine_id))
            .then_with(|| {
                version_cmp(
                    b.version.as_deref().unwrap_or(""),
                    a.version.as_deref().unwrap_or(""),
                )
            })
            .then_with(by_id),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => by_id(),
    }
}

/// Picks the default out of `entries` (already sorted); says why.
pub fn choose<'a>(
    entries: &'a [Entry],
    pattern: Option<&str>,
    saved: Option<&str>,
) -> Option<(&'a Entry, String)> {
    if let Some(p) = pattern.filter(|p| !p.starts_with('@')) {
        let found = entries.iter().find(|e| {
            let conf = format!("{}.conf", e.id);
            matches(p.as_bytes(), e.id.as_bytes()) || matches(p.as_bytes(), conf.as_bytes())
        });
        if let Some(e) = found {
            return Some((e, format!("loader.conf default {p:?}")));
        }
    }
    if let Some(e) = saved.and_then(|s| entries.iter().find(|e| e.id == s)) {
        return Some((e, "GRUB saved_entry".into()));
    }
    entries.first().map(|e| (e, "first in BLS order".into()))
}

/// Expands `$name` and `${name}` (GRUB variables such as Fedora's
/// `$kernelopts`) from `env`, as GRUB's `blscfg` does; returns the text
/// (unset variables empty) and the names of the unset ones. The text
/// stops at [`MAX_EXPANDED`](super::grub::script::MAX_EXPANDED): a
/// command line that long fails the length check anyway, and a hostile
/// grubenv could otherwise make it terabytes.
pub fn expand(s: &str, env: &Env) -> (String, Vec<String>) {
    use super::grub::script::MAX_EXPANDED;
    let (mut out, mut unset) = (String::new(), Vec::new());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = match after.strip_prefix('{') {
            Some(b) => b.split_once('}').unwrap_or((b, "")),
            None => after.split_at(
                after
                    .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .unwrap_or(after.len()),
            ),
        };
        match env.get(name) {
            _ if name.is_empty() => out.push('$'),
            Some(v) if out.len() + v.len() > MAX_EXPANDED => return (out, unset),
            Some(v) => out.push_str(v),
            None => unset.push(name.to_string()),
        }
        rest = tail;
    }
    out.push_str(rest);
    (out, unset)
}

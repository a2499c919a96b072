//! kmod's binary indexes (`modules.dep.bin`, `modules.alias.bin`,
//! `modules.builtin.bin`, `modules.builtin.alias.bin`): kmod's
//! `modprobe` reads these, never the text files they are made from.
//!
//! The format, as depmod writes it: a big-endian header (magic,
//! version, offset of the root node), then a trie whose nodes are
//! written children first. A node's offset carries flags in its top
//! bits; the node is its prefix (NUL ended), its children (first and
//! last byte, then one offset per byte in between, 0 for none) and its
//! values (a count, then a priority and a NUL-ended string each, lowest
//! priority first). Keys are 7-bit ASCII.

use std::collections::BTreeMap;

use kmodfmt::{name_of_path, normalize_alias};

const MAGIC: u32 = 0xB007_F457;
const VERSION: u32 = 0x0002_0001;
const NODE_PREFIX: u32 = 0x8000_0000;
const NODE_VALUES: u32 = 0x4000_0000;
const NODE_CHILDS: u32 = 0x2000_0000;

/// A value of a key, with its priority.
type Values<'a> = Vec<(u32, &'a str)>;

/// `modules.dep.bin` for `modules.dep` lines: the line by module name.
pub fn dep_index(lines: &[(String, Vec<String>)]) -> Vec<u8> {
    let entries: Vec<(String, String, u32)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, (path, deps))| {
            let mut line = format!("{path}:");
            for d in deps {
                line.push(' ');
                line.push_str(d);
            }
            Some((name_of_path(path)?, line, i as u32))
        })
        .collect();
    write(&entries)
}

/// `modules.alias.bin` for `(alias, module name)` pairs: the module
/// names by normalized alias, each with the priority `rank` gives its
/// module (depmod's: the module's place in its list).
pub fn alias_index(pairs: &[(String, String)], rank: impl Fn(&str) -> u32) -> Vec<u8> {
    let entries: Vec<(String, String, u32)> = pairs
        .iter()
        .map(|(alias, module)| (normalize_alias(alias), module.clone(), rank(module)))
        .collect();
    write(&entries)
}

/// `modules.builtin.alias.bin`: as [`alias_index`], every priority 0.
pub fn builtin_alias_index(pairs: &[(String, String)]) -> Vec<u8> {
    let entries: Vec<(String, String, u32)> = pairs
        .iter()
        .map(|(alias, module)| (normalize_alias(alias), module.clone(), 0))
        .collect();
    write(&entries)
}

/// `modules.builtin.bin`: each built-in module's name, with no value.
pub fn builtin_index(names: &[String]) -> Vec<u8> {
    let entries: Vec<(String, String, u32)> = names
        .iter()
        .map(|n| (n.clone(), String::new(), 0))
        .collect();
    write(&entries)
}

/// An index of `(key, value, priority)` entries. Entries with bytes
/// outside 7-bit ASCII are left out, as depmod cannot write them either.
pub fn write(entries: &[(String, String, u32)]) -> Vec<u8> {
    let mut keys: BTreeMap<&[u8], Values> = BTreeMap::new();
    for (key, value, prio) in entries {
        if !key.is_ascii() || !value.is_ascii() || key.contains('\0') || value.contains('\0') {
            continue;
        }
        let values = keys.entry(key.as_bytes()).or_default();
        // Lowest priority first; among equals, the latest first (depmod).
        let at = values
            .iter()
            .position(|(p, _)| p >= prio)
            .unwrap_or(values.len());
        values.insert(at, (*prio, value.as_str()));
    }
    let keys: Vec<(&[u8], Values)> = keys.into_iter().collect();
    let mut out = Vec::new();
    for word in [MAGIC, VERSION, 0] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    let root = write_node(&keys, 0, true, &mut out);
    out[8..12].copy_from_slice(&root.to_be_bytes());
    out
}

/// Writes the node of `keys` (sorted, all sharing their first `depth`
/// bytes) after its children; returns its offset with its flags. The
/// root's prefix is always empty, as in depmod's trie.
fn write_node(keys: &[(&[u8], Values)], depth: usize, root: bool, out: &mut Vec<u8>) -> u32 {
    let prefix_len = if root { 0 } else { common_prefix(keys, depth) };
    let end = depth + prefix_len;
    let (values, rest) = match keys.first() {
        Some((k, v)) if k.len() == end => (Some(v), &keys[1..]),
        _ => (None, keys),
    };
    let mut children: BTreeMap<u8, u32> = BTreeMap::new();
    let mut start = 0;
    while start < rest.len() {
        let c = rest[start].0[end];
        let len = rest[start..]
            .iter()
            .take_while(|(k, _)| k[end] == c)
            .count();
        let child = write_node(&rest[start..start + len], end + 1, false, out);
        children.insert(c, child);
        start += len;
    }
    let mut offset = out.len() as u32;
    if prefix_len > 0 {
        out.extend_from_slice(&keys[0].0[depth..end]);
        out.push(0);
        offset |= NODE_PREFIX;
    }
    if let (Some((&first, _)), Some((&last, _))) =
        (children.first_key_value(), children.last_key_value())
    {
        out.extend_from_slice(&[first, last]);
        for c in first..=last {
            let child = children.get(&c).copied().unwrap_or(0);
            out.extend_from_slice(&child.to_be_bytes());
        }
        offset |= NODE_CHILDS;
    }
    if let Some(values) = values {
        out.extend_from_slice(&(values.len() as u32).to_be_bytes());
        for (prio, value) in values {
            out.extend_from_slice(&prio.to_be_bytes());
            out.extend_from_slice(value.as_bytes());
            out.push(0);
        }
        offset |= NODE_VALUES;
    }
    offset
}

/// The length of the prefix all `keys` share after their first `depth`
/// bytes.
fn common_prefix(keys: &[(&[u8], Values)], depth: usize) -> usize {
    let first = &keys[0].0[depth..];
    keys[1..].iter().fold(first.len(), |len, (k, _)| {
        first[..len]
            .iter()
            .zip(&k[depth..])
            .take_while(|(a, b)| a == b)
            .count()
    })
}

#[cfg(test)]
mod tests;

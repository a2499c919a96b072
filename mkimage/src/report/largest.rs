//! The largest contributors to an image, by directory.
//!
//! Each file's data counts towards its directory cut to at most
//! [`DEPTH`] components (`usr/lib/x86_64-linux-gnu/perl5/x.so` counts
//! for `/usr/lib/x86_64-linux-gnu`, `lib/modules/6.1.0/kernel/...` for
//! `/lib/modules/6.1.0`), so that the list names places one can act on
//! without repeating parents and children. Hard-linked data counts once.

use std::collections::{HashMap, HashSet};

use crate::report::limits::data_size;
use crate::tree::{show, Entry};

/// Components kept of a file's directory.
pub const DEPTH: usize = 3;
/// Directories listed unless `--top` says otherwise.
pub const DEFAULT_TOP: usize = 5;

/// A directory and the bytes below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    /// `/usr/lib/x86_64-linux-gnu`; `/` for files at the top.
    pub path: String,
    pub bytes: u64,
}

/// The `top` directories with the most data, largest first (ties by
/// name, so the list is stable).
pub fn largest(entries: &[(Vec<u8>, Entry)], top: usize) -> Vec<Dir> {
    let mut sums: HashMap<&[u8], u64> = HashMap::new();
    let mut seen = HashSet::new();
    for (name, entry) in entries {
        let size = data_size(entry);
        if size == 0 || !entry.link_id.is_none_or(|id| seen.insert(id)) {
            continue;
        }
        *sums.entry(bucket(name)).or_default() += size;
    }
    let mut dirs: Vec<(&[u8], u64)> = sums.into_iter().collect();
    dirs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    dirs.truncate(top);
    dirs.into_iter()
        .map(|(path, bytes)| Dir {
            path: show(path),
            bytes,
        })
        .collect()
}

/// The directory of `name`, cut to [`DEPTH`] components.
fn bucket(name: &[u8]) -> &[u8] {
    let Some(dir_end) = name.iter().rposition(|&b| b == b'/') else {
        return b"";
    };
    let dir = &name[..dir_end];
    match dir
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'/')
        .nth(DEPTH - 1)
    {
        Some((cut, _)) => &dir[..cut],
        None => dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Entry {
        Entry::data(vec![0; n], 0o644)
    }

    #[test]
    fn buckets_are_directories_cut_to_three_parts() {
        assert_eq!(bucket(b"init"), b"");
        assert_eq!(bucket(b"bin/sh"), b"bin");
        assert_eq!(bucket(b"usr/lib/x/libc.so"), b"usr/lib/x");
        assert_eq!(
            bucket(b"lib/modules/6.1/kernel/fs/ext4.ko"),
            b"lib/modules/6.1"
        );
    }

    #[test]
    fn largest_first_with_hard_links_once() {
        let mut linked = data(50);
        linked.link_id = Some((1, 2));
        let entries = vec![
            (b"init".to_vec(), data(10)),
            (b"bin/a".to_vec(), data(30)),
            (b"bin/b".to_vec(), data(30)),
            (b"usr/lib/x/y/z".to_vec(), linked.clone()),
            (b"usr/lib/x/w".to_vec(), linked),
            (b"etc".to_vec(), Entry::dir(0o755)),
        ];
        let got = largest(&entries, 5);
        let want = [("/bin", 60), ("/usr/lib/x", 50), ("/", 10)];
        let got: Vec<(&str, u64)> = got.iter().map(|d| (d.path.as_str(), d.bytes)).collect();
        assert_eq!(got, want);
        assert_eq!(largest(&entries, 1).len(), 1);
        assert!(largest(&entries, 0).is_empty());
    }
}

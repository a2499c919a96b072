//! `/proc/swaps`: the active swap areas, so each can be turned off before
//! the filesystem holding a swap file is unmounted.

use crate::mountinfo::unescape_octal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swap {
    /// A file or block device; a deleted swap file ends in " (deleted)".
    pub path: String,
    /// `partition` or `file`.
    pub kind: String,
    pub size_kb: u64,
    pub used_kb: u64,
}

impl Swap {
    /// A swap file deleted while active cannot be named to swapoff(2).
    pub fn deleted(&self) -> bool {
        self.path.ends_with(" (deleted)")
    }
}

/// Parses /proc/swaps' text: a header line, then
/// `Filename Type Size Used Priority` per area (sizes in kB, the filename
/// octal-escaped like mountinfo's). Lines it cannot read are skipped.
pub fn parse(text: &str) -> Vec<Swap> {
    text.lines()
        .filter(|l| !l.starts_with("Filename"))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let path = String::from_utf8_lossy(&unescape_octal(f.next()?).0).into_owned();
            let kind = f.next()?.to_string();
            let size_kb = f.next()?.parse().ok()?;
            let used_kb = f.next()?.parse().ok()?;
            Some(Swap {
                path,
                kind,
                size_kb,
                used_kb,
            })
        })
        .collect()
}

/// The active swap areas, or none when /proc/swaps cannot be read (no
/// CONFIG_SWAP, no /proc).
pub fn read(path: &str) -> Vec<Swap> {
    std::fs::read_to_string(path)
        .map(|t| parse(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_partitions_files_and_escapes() {
        let text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n\
                    /dev/vdb2                               partition\t1048572\t\t0\t\t-2\n\
                    /mnt/local/swapfile                     file\t\t16380\t\t1024\t\t-3\n\
                    /mnt/my\\040disk/swap\\040(deleted)     file\t\t4092\t\t0\t\t-4\n\
                    garbage\n";
        let v = parse(text);
        assert_eq!(v.len(), 3);
        assert_eq!(
            v[0],
            Swap {
                path: "/dev/vdb2".into(),
                kind: "partition".into(),
                size_kb: 1048572,
                used_kb: 0
            }
        );
        assert_eq!(v[1].path, "/mnt/local/swapfile");
        assert_eq!((v[1].kind.as_str(), v[1].used_kb), ("file", 1024));
        assert!(!v[1].deleted());
        assert_eq!(v[2].path, "/mnt/my disk/swap (deleted)");
        assert!(v[2].deleted());
        assert!(parse("Filename Type Size Used Priority\n").is_empty());
    }
}

//! `--exclude`: which entries of an image its globs leave out. The
//! globs are matched as kmod matches aliases ([`kmodfmt::glob`]): `*`
//! (any run of bytes, `/` included), `?`, `[...]` classes, `\` escapes.

use kmodfmt::glob::matches;

/// The `--exclude` patterns of an image: one without `/` is matched
/// against an entry's file name (as find's `-name`), one with `/` against
/// its whole path in the image (a leading `/` optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclude {
    /// Each pattern, and whether it matches the whole path.
    patterns: Vec<(Vec<u8>, bool)>,
}

impl Exclude {
    pub fn new<S: AsRef<[u8]>>(globs: &[S]) -> Exclude {
        let patterns = globs
            .iter()
            .map(|g| {
                let g = g.as_ref();
                let whole = g.contains(&b'/');
                let g = g.strip_prefix(b"/").unwrap_or(g);
                (g.to_vec(), whole)
            })
            .collect();
        Exclude { patterns }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether the entry at image path `name` (no leading `/`) is left out.
    pub fn matches(&self, name: &[u8]) -> bool {
        let file_name = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
        self.patterns.iter().any(|(p, whole)| match whole {
            true => matches(p, name),
            false => matches(p, file_name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_or_whole_paths() {
        let ex = Exclude::new(&["*~", "/usr/share/doc/*", "etc/motd"]);
        assert!(ex.matches(b"etc/profile~"));
        assert!(ex.matches(b"profile~"));
        assert!(ex.matches(b"usr/share/doc/bash/README"));
        assert!(!ex.matches(b"usr/share/doc"));
        assert!(ex.matches(b"etc/motd"));
        assert!(!ex.matches(b"x/etc/motd"));
        assert!(!Exclude::new(&["motd"]).matches(b"etc/motd.d/x"));
        assert!(Exclude::new(&["motd"]).matches(b"etc/motd"));
        assert!(Exclude::default().is_empty());
    }
}

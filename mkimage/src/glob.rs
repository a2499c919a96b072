//! Shell wildcards, `*` (any run of bytes, `/` included) and `?` (one
//! byte), matched in linear time: `ld.so.conf`'s `include` patterns and
//! `--exclude`. No `[...]` classes.

/// Whether `pattern` matches all of `text`.
///
/// The classic two-pointer match: on a mismatch, go back to the last `*`
/// and let it take one more byte. Each `*` restarts from where the one
/// before left off, so many `*` cost no more than one (the recursive
/// match was exponential in them).
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // The last `*` seen and the text position it matched up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    p = sp + 1;
                    t = st + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

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
    fn wildcards() {
        assert!(matches(b"*.conf", b"libc.conf"));
        assert!(matches(b"x?.conf", b"x8.conf"));
        assert!(!matches(b"*.conf", b"libc.conf.bak"));
        assert!(matches(b"*", b""));
        assert!(matches(b"a*b*c", b"a-b-b-c"));
        assert!(!matches(b"a*b*c", b"a-b-b-"));
        assert!(matches(b"*~", b".bashrc~"));
        assert!(!matches(b"?", b""));
        assert!(matches(b"usr/*/doc", b"usr/share/x/doc"));
    }

    #[test]
    fn many_stars_are_fast() {
        // 2^40 ways for a backtracking matcher; linear here.
        let pattern = [b"*a".repeat(40), b"*b".to_vec()].concat();
        let text = b"a".repeat(10_000);
        let start = std::time::Instant::now();
        assert!(!matches(&pattern, &text));
        assert!(start.elapsed().as_secs() < 2);
    }

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

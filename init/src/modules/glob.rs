//! Alias patterns as kmod matches them: `fnmatch(pattern, name, 0)`.
//! `*` matches any run (also `/`), `?` one character, `[...]` a class
//! with ranges, `[:digit:]`-style names and `!`/`^` negation (a `]`
//! right after the opening is a member), `\` escapes. An unterminated
//! `[` is a literal. Bytes are compared: modaliases are ASCII.

/// True when `name` matches the glob `pattern`.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut si) = (0, 0);
    // Where to resume after the last `*`: (pattern index, name index).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            if p[pi] == b'*' {
                pi += 1;
                star = Some((pi, si));
                continue;
            }
            if let Some(next) = s.get(si).and_then(|&c| match_one(p, pi, c)) {
                pi = next;
                si += 1;
                continue;
            }
        } else if si == s.len() {
            return true;
        }
        match star {
            Some((sp, ss)) if ss < s.len() => {
                star = Some((sp, ss + 1));
                pi = sp;
                si = ss + 1;
            }
            _ => return false,
        }
    }
}

/// True when `s` has a character that makes it a pattern.
pub fn is_pattern(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
}

/// Matches the single-character pattern at `p[pi]` against `c`; returns
/// the index after it on a match.
fn match_one(p: &[u8], pi: usize, c: u8) -> Option<usize> {
    match p[pi] {
        b'?' => Some(pi + 1),
        b'[' => match bracket(p, pi, c) {
            Some((true, end)) => Some(end),
            Some((false, _)) => None,
            None => (c == b'[').then_some(pi + 1),
        },
        b'\\' if pi + 1 < p.len() => (p[pi + 1] == c).then_some(pi + 2),
        lit => (lit == c).then_some(pi + 1),
    }
}

/// Evaluates the bracket expression at `p[start] == '['` for `c`:
/// (matched, index after `]`), or `None` if it is not terminated.
fn bracket(p: &[u8], start: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let b = *p.get(i)?;
        if b == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if b == b'[' && p.get(i + 1) == Some(&b':') {
            if let Some((hit, end)) = named_class(p, i, c) {
                matched |= hit;
                i = end;
                continue;
            }
        }
        let (lo, next) = member(p, i)?;
        let is_range = p.get(next) == Some(&b'-') && p.get(next + 1).is_some_and(|&x| x != b']');
        if is_range {
            let (hi, after) = member(p, next + 1)?;
            matched |= lo <= c && c <= hi;
            i = after;
        } else {
            matched |= lo == c;
            i = next;
        }
    }
}

/// One (possibly escaped) member character at `i` and the index after.
fn member(p: &[u8], i: usize) -> Option<(u8, usize)> {
    match *p.get(i)? {
        b'\\' => Some((*p.get(i + 1)?, i + 2)),
        b => Some((b, i + 1)),
    }
}

/// `[:name:]` at `p[i]`: (c is in the class, index after `:]`). Unknown
/// names match nothing, as in glibc.
fn named_class(p: &[u8], i: usize, c: u8) -> Option<(bool, usize)> {
    let rest = p.get(i + 2..)?;
    let len = rest.windows(2).position(|w| w == b":]")?;
    let hit = match &rest[..len] {
        b"alpha" => c.is_ascii_alphabetic(),
        b"digit" => c.is_ascii_digit(),
        b"alnum" => c.is_ascii_alphanumeric(),
        b"upper" => c.is_ascii_uppercase(),
        b"lower" => c.is_ascii_lowercase(),
        b"xdigit" => c.is_ascii_hexdigit(),
        b"space" => c.is_ascii_whitespace() || c == 0x0b,
        b"blank" => c == b' ' || c == b'\t',
        b"punct" => c.is_ascii_punctuation(),
        b"cntrl" => c.is_ascii_control(),
        b"graph" => c.is_ascii_graphic(),
        b"print" => c.is_ascii_graphic() || c == b' ',
        _ => false,
    };
    Some((hit, i + 2 + len + 2))
}

#[cfg(test)]
mod tests {
    use super::glob_match as m;

    #[test]
    fn stars_and_questions() {
        assert!(m("virtio:d00000002v*", "virtio:d00000002v00001AF4"));
        assert!(!m("virtio:d00000002v*", "virtio:d00000001v00001AF4"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYYd"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a/*", "a/b/c"), "no FNM_PATHNAME: * crosses /");
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn real_pci_aliases() {
        let dev = "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00";
        assert!(m("pci:v00001AF4d*sv*sd*bc*sc*i*", dev));
        assert!(!m("pci:v00008086d*sv*sd*bc*sc*i*", dev));
        let sata = "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01";
        assert!(m("pci:v*d*sv*sd*bc01sc06i01*", sata), "ahci class alias");
        assert!(!m("pci:v*d*sv*sd*bc01sc06i01*", dev));
    }

    #[test]
    fn classes_ranges_negation() {
        assert!(m("usb:v1554p5010d400[0-1]dc*", "usb:v1554p5010d4001dcFF"));
        assert!(!m("usb:v1554p5010d400[0-1]dc*", "usb:v1554p5010d4002dcFF"));
        assert!(m("d3[0-9A-E]*", "d3C1"));
        assert!(!m("d3[0-9A-E]*", "d3F1"));
        assert!(m(
            "dmi:*:[bs]vnD[Ee][Ll][Ll]*:*",
            "dmi:bvnDell Inc.:bvr1:svnDELL:"
        ));
        assert!(m("[!a]x", "bx") && !m("[!a]x", "ax"));
        assert!(m("[^a]x", "bx") && !m("[^a]x", "ax"));
        assert!(m("[]]", "]") && m("[!]]", "a") && !m("[!]]", "]"));
        assert!(m("[a-]", "-"), "a trailing - is a member");
        assert!(m("[[:digit:]]x", "7x") && !m("[[:digit:]]x", "ax"));
        assert!(!m("[[:nosuch:]]", "a"));
    }

    #[test]
    fn escapes_and_unterminated() {
        assert!(m(r"a\*b", "a*b") && !m(r"a\*b", "aXb"));
        assert!(m("a[b", "a[b"), "unterminated [ is literal");
        assert!(!m("a[b", "ab"));
        assert!(m("[\\]]", "]"));
        assert!(m("x\\", "x\\"), "trailing backslash is literal");
    }

    #[test]
    fn backtracking_is_not_exponential() {
        let name = "a".repeat(200);
        assert!(!m("*a*a*a*a*a*a*a*a*a*a*b", &name));
    }
}

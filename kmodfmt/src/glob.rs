//! Globs as kmod matches alias patterns: `fnmatch(pattern, name, 0)`.
//! `*` matches any run (also `/`), `?` one byte, `[...]` a class with
//! ranges, `[:digit:]`-style names and `!`/`^` negation (a `]` right
//! after the opening is a member), `\` escapes. An unterminated `[` is
//! a literal. Bytes are compared, as fnmatch does in the C locale kmod
//! runs in: modaliases are ASCII.
//!
//! The one matcher of the project: rescue-init also matches
//! `loader.conf`'s `default` with it, mkimage its `--exclude` patterns
//! and `ld.so.conf`'s `include` globs.
//!
//! On a mismatch the last `*` takes one more byte and matching resumes
//! after it; the `*`s before it never need to move again. So the time is
//! at most the pattern's length times the name's, however many `*`s
//! there are (a recursive matcher is exponential in them).

/// Whether `name` matches the glob `pattern`, all of it.
pub fn matches(pattern: &[u8], name: &[u8]) -> bool {
    let (p, s) = (pattern, name);
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

/// Whether `s` has a character that makes it a pattern (else it can be
/// compared as it is).
pub fn is_pattern(s: &[u8]) -> bool {
    s.iter().any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
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
mod tests;

//! Version ordering for kernel file names and boot entries.

use std::cmp::Ordering;

/// Compares versions the way `sort -V`, rpm and systemd-boot roughly
/// agree on: runs of digits compare as numbers, runs of letters as text,
/// a number is newer than letters, other characters only separate, and
/// `~` sorts before anything (even the end: `6.1~rc1` < `6.1`). When
/// one string is a prefix of the other, the longer one is newer.
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        a = skip_separators(a);
        b = skip_separators(b);
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (Some(b'~'), Some(b'~')) => {
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            _ => {}
        }
        let (ta, ra) = token(a);
        let (tb, rb) = token(b);
        let ord = token_cmp(ta, tb);
        if ord != Ordering::Equal {
            return ord;
        }
        (a, b) = (ra, rb);
    }
}

fn skip_separators(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .take_while(|c| !c.is_ascii_alphanumeric() && **c != b'~')
        .count();
    &s[n..]
}

/// Splits off the leading run of digits or of letters (`s` starts with one).
fn token(s: &[u8]) -> (&[u8], &[u8]) {
    let digits = s.first().is_some_and(u8::is_ascii_digit);
    let n = s
        .iter()
        .take_while(|c| {
            if digits {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        })
        .count();
    s.split_at(n.max(1).min(s.len()))
}

fn token_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let num = |t: &[u8]| t.first().is_some_and(u8::is_ascii_digit);
    match (num(a), num(b)) {
        (true, true) => {
            // Numbers of any length: drop leading zeros, then longer wins.
            let a = &a[a.iter().take_while(|c| **c == b'0').count()..];
            let b = &b[b.iter().take_while(|c| **c == b'0').count()..];
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn versions() {
        let cases = [
            ("6.1.0-13-amd64", "6.1.0-9-amd64", Greater),
            ("6.1.0-13-amd64", "6.1.0-13-amd64", Equal),
            (
                "5.14.0-362.8.1.el9_3.x86_64",
                "5.14.0-70.13.1.el9_0.x86_64",
                Greater,
            ),
            ("6.10.2", "6.9.12", Greater),
            ("6.1", "6.1.1", Less),
            ("6.1~rc1", "6.1", Less),
            ("6.1~rc1", "6.1~rc2", Less),
            ("6.1.0-rc1", "6.1.0", Greater),
            ("007", "7", Equal),
            (
                "99999999999999999999999",
                "99999999999999999999998",
                Greater,
            ),
            ("1a", "1.0", Less),
            ("linux", "linux-lts", Less),
            ("", "", Equal),
            ("", "1", Less),
            ("0-rescue-1234", "6.1.0", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(version_cmp(a, b), want, "{a} vs {b}");
            assert_eq!(version_cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }
}

//! `/proc/self/mountinfo` parsing (proc(5)): what is mounted, in mount
//! order, so teardown can go newest first.

use crate::line_error::LineError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    pub id: u32,
    pub parent: u32,
    pub major: u32,
    pub minor: u32,
    pub root: String,
    pub mount_point: String,
    pub options: String,
    pub fstype: String,
    pub source: String,
    pub super_options: String,
}

/// Parses mountinfo text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Vec<MountInfo>, LineError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_line(l).map_err(|msg| LineError::new(file, i + 1, msg)))
        .collect()
}

fn parse_line(line: &str) -> Result<MountInfo, String> {
    let fields: Vec<&str> = line.split(' ').collect();
    let sep = fields
        .iter()
        .position(|f| *f == "-")
        .ok_or("no ' - ' separator")?;
    if sep < 6 {
        return Err(format!(
            "{sep} fields before the separator, need at least 6"
        ));
    }
    if fields.len() < sep + 3 {
        return Err("missing fstype or source after the separator".into());
    }
    let (major, minor) = fields[2]
        .split_once(':')
        .ok_or_else(|| format!("bad device {:?}", fields[2]))?;
    Ok(MountInfo {
        id: number(fields[0], "mount id")?,
        parent: number(fields[1], "parent id")?,
        major: number(major, "major")?,
        minor: number(minor, "minor")?,
        root: unescape(fields[3])?,
        mount_point: unescape(fields[4])?,
        options: fields[5].to_string(),
        fstype: unescape(fields[sep + 1])?,
        source: unescape(fields[sep + 2])?,
        super_options: fields.get(sep + 3).unwrap_or(&"").to_string(),
    })
}

fn number(s: &str, what: &str) -> Result<u32, String> {
    s.parse().map_err(|_| format!("bad {what} {s:?}"))
}

/// A mountinfo field: not empty, every escape sound, UTF-8 after them.
fn unescape(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("empty field".into());
    }
    let (bytes, sound) = unescape_octal(s);
    if !sound {
        return Err(format!("bad escape in {s:?}"));
    }
    String::from_utf8(bytes).map_err(|_| format!("escape makes invalid UTF-8 in {s:?}"))
}

/// Undoes the kernel's `\ooo` escapes: it writes space, tab, newline and
/// backslash that way in mountinfo and /proc/swaps. Bytes, because an
/// escape may stand for part of a UTF-8 character. A `\` without three
/// octal digits after it is kept as written, and the flag is false.
pub(crate) fn unescape_octal(s: &str) -> (Vec<u8>, bool) {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut sound = true;
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match (b[i], oct) {
            (b'\\', Some(v)) => {
                out.push(v);
                i += 4;
            }
            (c, _) => {
                sound &= c != b'\\';
                out.push(c);
                i += 1;
            }
        }
    }
    (out, sound)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = include_str!("../tests/fixtures/good.mountinfo");
    const GARBLED: &str = include_str!("../tests/fixtures/garbled.mountinfo");

    #[test]
    fn parses_real_mountinfo() {
        let v = parse("good", GOOD).unwrap();
        assert_eq!(v.len(), 9);
        assert_eq!(v[0].mount_point, "/");
        assert_eq!(v[0].fstype, "rootfs");
        let local = v.iter().find(|m| m.mount_point == "/mnt/local").unwrap();
        assert_eq!((local.major, local.minor), (254, 16));
        assert_eq!(local.fstype, "ext4");
        assert_eq!(local.source, "/dev/vdb");
        assert_eq!(local.parent, 1);
        let spaced = v.iter().find(|m| m.fstype == "vfat").unwrap();
        assert_eq!(spaced.mount_point, "/mnt/my disk\\x");
        let tagged = v
            .iter()
            .find(|m| m.mount_point == "/mnt/local/boot")
            .unwrap();
        assert_eq!(tagged.options, "rw,relatime");
        assert_eq!(tagged.source, "/dev/vdc1");
    }

    #[test]
    fn unescapes_octal() {
        let lossy = |s: &str| String::from_utf8_lossy(&unescape_octal(s).0).into_owned();
        assert_eq!(lossy("/a\\040b\\134c"), "/a b\\c");
        assert_eq!(lossy("/x\\9"), "/x\\9");
        assert_eq!(lossy("plain"), "plain");
        assert!(unescape_octal("/a\\040b").1 && !unescape_octal("/x\\9").1);
    }

    #[test]
    fn garbled_lines_name_the_line() {
        for (i, line) in GARBLED.lines().enumerate() {
            let err = parse("garbled", line).unwrap_err();
            assert_eq!(err.line, 1, "line {} of the fixture: {line:?}", i + 1);
            assert!(err.to_string().starts_with("garbled:1: "));
        }
        let err = parse("/proc/self/mountinfo", &format!("{GOOD}{GARBLED}")).unwrap_err();
        assert_eq!(err.line, GOOD.lines().count() + 1);
    }
}

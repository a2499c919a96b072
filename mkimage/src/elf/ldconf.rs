//! `/etc/ld.so.conf`: the library directories it lists, with its
//! `include` lines (glob patterns, relative to the including file).

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// How deep `include` may nest (a loop would otherwise never end).
const MAX_DEPTH: usize = 8;

#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {cause}", path.display())]
pub struct ConfError {
    pub path: PathBuf,
    pub cause: io::Error,
}

/// The directories listed by the config file at `path`, in order, without
/// repeats. A missing top-level file lists nothing. `root` is the root of
/// the system it configures (`/`, or `--sysroot`): `path` and absolute
/// `include` patterns are inside it; the directories come as that system
/// names them.
pub fn read_in(root: &Path, path: &Path) -> Result<Vec<PathBuf>, ConfError> {
    let mut dirs = Vec::new();
    read_into(root, path, 0, &mut dirs)?;
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    Ok(dirs)
}

fn read_into(
    root: &Path,
    path: &Path,
    depth: usize,
    dirs: &mut Vec<PathBuf>,
) -> Result<(), ConfError> {
    let text = match fs::read(super::in_root(root, path)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(cause) => {
            return Err(ConfError {
                path: path.to_path_buf(),
                cause,
            })
        }
    };
    let text = String::from_utf8_lossy(&text);
    let base = path.parent().unwrap_or(Path::new("/"));
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(rest) = line
            .strip_prefix("include")
            .filter(|r| r.starts_with([' ', '\t']))
        {
            if depth >= MAX_DEPTH {
                continue;
            }
            for pattern in rest.split_whitespace() {
                for file in glob(&super::in_root(root, &base.join(pattern))) {
                    let inside = file
                        .strip_prefix(root)
                        .map_or(file.clone(), |f| Path::new("/").join(f));
                    read_into(root, &inside, depth + 1, dirs)?;
                }
            }
        } else if !line.starts_with("hwcap") {
            let words = line.split(|c: char| c == ':' || c == ',' || c.is_whitespace());
            for word in words.filter(|w| w.starts_with('/')) {
                // Old syntax: DIR=TYPE.
                let dir = word.split('=').next().unwrap_or(word);
                dirs.push(PathBuf::from(dir));
            }
        }
    }
    Ok(())
}

/// The paths matching `pattern` (`*`, `?` and `[...]` in any component),
/// sorted.
pub fn glob(pattern: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::new()];
    for part in pattern.components() {
        let name = match part {
            Component::Normal(n) => n.as_bytes(),
            other => {
                found.iter_mut().for_each(|p| p.push(other));
                continue;
            }
        };
        if !kmodfmt::glob::is_pattern(name) {
            found.iter_mut().for_each(|p| p.push(part));
            found.retain(|p| p.symlink_metadata().is_ok());
            continue;
        }
        found = found.iter().flat_map(|dir| matches_in(dir, name)).collect();
    }
    found.sort();
    found
}

fn matches_in(dir: &Path, pattern: &[u8]) -> Vec<PathBuf> {
    let Ok(items) = fs::read_dir(dir) else {
        return Vec::new();
    };
    items
        .filter_map(Result::ok)
        .filter(|e| fnmatch(pattern, e.file_name().as_bytes()))
        .map(|e| dir.join(e.file_name()))
        .collect()
}

/// Shell pattern match ([`kmodfmt::glob`]); a leading `.` must be literal.
pub fn fnmatch(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    kmodfmt::glob::matches(pattern, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(fnmatch(b"*.conf", b"libc.conf"));
        assert!(fnmatch(b"x?.conf", b"x8.conf"));
        assert!(!fnmatch(b"*.conf", b"libc.conf.bak"));
        assert!(!fnmatch(b"*.conf", b".hidden.conf"));
        assert!(fnmatch(b"*", b"a"));
    }

    #[test]
    fn includes_comments_and_repeats() {
        let dir = std::env::temp_dir().join(format!("mkimage-ldconf-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("conf.d")).unwrap();
        let top = dir.join("ld.so.conf");
        fs::write(
            &top,
            "# top\n/opt/a # comment\ninclude conf.d/*.conf\n/opt/a\n",
        )
        .unwrap();
        fs::write(
            dir.join("conf.d/2.conf"),
            "/opt/c:/opt/d\nhwcap 0 nosegneg\n",
        )
        .unwrap();
        fs::write(
            dir.join("conf.d/1.conf"),
            "/usr/lib/x\ninclude ../ld.so.conf\n",
        )
        .unwrap();
        fs::write(dir.join("conf.d/skip.txt"), "/nope\n").unwrap();
        let dirs = read_in(Path::new("/"), &top).unwrap();
        let want = ["/opt/a", "/usr/lib/x", "/opt/c", "/opt/d"];
        assert_eq!(dirs, want.map(PathBuf::from));
        assert!(read_in(Path::new("/"), &dir.join("absent.conf"))
            .unwrap()
            .is_empty());
        assert_eq!(glob(&dir.join("*/1.conf")), [dir.join("conf.d/1.conf")]);
        fs::remove_dir_all(&dir).unwrap();
    }
}

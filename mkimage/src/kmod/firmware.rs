//! `build --firmware`: the firmware files of the chosen modules (the
//! `firmware=` entries of their `.modinfo`), or a whole firmware
//! directory, below `/lib/firmware` in the image.
//!
//! A file is looked for where the kernel's firmware loader looks, in its
//! order: `updates/VER/`, `updates/`, `VER/`, then the directory itself;
//! first as named, then with `.zst`, then with `.xz`. It is stored as
//! found, at the same place (compressed if found compressed: the loader
//! decompresses with `CONFIG_FW_LOADER_COMPRESS_ZSTD`/`_XZ`); a symlink
//! is stored as the file it points to. Missing firmware is a warning:
//! many drivers name firmware for hardware that is not there.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::str::FromStr;

use crate::kmod::moddb::{read_err, ModError, Module};
use crate::kmod::modout::follow_links;
use crate::tree::{self, Tree};

/// Missing files named one by one at most; more are summed up.
const MAX_LISTED: usize = 5;

/// `--firmware`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FirmwareSet {
    None,
    /// The files the chosen modules name.
    #[default]
    Needed,
    /// The whole firmware directory.
    All,
}

impl FromStr for FirmwareSet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(FirmwareSet::None),
            "needed" => Ok(FirmwareSet::Needed),
            "all" => Ok(FirmwareSet::All),
            _ => Err(format!("--firmware {s:?}: expected needed, all or none")),
        }
    }
}

/// What to add.
pub struct Request<'a> {
    pub set: FirmwareSet,
    /// The host's firmware directory.
    pub dir: &'a Path,
    /// The target kernel's version, for `updates/VER` and `VER`.
    pub kver: Option<&'a str>,
    pub modules: &'a [Module],
}

/// Adds the firmware `r` asks for; returns warnings.
pub fn add(tree: &mut Tree, r: &Request) -> Result<Vec<String>, ModError> {
    let base = follow_links(tree, "lib/firmware");
    match r.set {
        FirmwareSet::None => Ok(Vec::new()),
        FirmwareSet::All => {
            tree.add_dir_at(r.dir, base, false)?;
            Ok(Vec::new())
        }
        FirmwareSet::Needed => add_needed(tree, r, &base),
    }
}

fn add_needed(tree: &mut Tree, r: &Request, base: &[u8]) -> Result<Vec<String>, ModError> {
    let mut missing = Vec::new();
    let mut done = BTreeSet::new();
    for m in r.modules {
        for name in &m.file.info.firmware {
            if !done.insert(name.as_str()) {
                continue;
            }
            match locate(r.dir, r.kver, name)? {
                Some(rel) => {
                    let entry = tree::file_entry(&r.dir.join(&rel), Some(0o644))?;
                    tree.insert([base, b"/", rel.as_bytes()].concat(), entry)?;
                }
                None => missing.push(format!("{name} (for {})", m.name)),
            }
        }
    }
    Ok(warnings(&missing, r.dir))
}

/// Where firmware `name` is below `dir`, as the kernel's loader would
/// find it; `None` if nowhere (or if the name leaves the directory).
pub fn locate(dir: &Path, kver: Option<&str>, name: &str) -> Result<Option<String>, ModError> {
    if name.starts_with('/') || name.split('/').any(|p| p == "..") {
        return Ok(None);
    }
    let mut places = vec![];
    if let Some(v) = kver {
        places.push(format!("updates/{v}/"));
        places.push("updates/".to_string());
        places.push(format!("{v}/"));
    } else {
        places.push("updates/".to_string());
    }
    places.push(String::new());
    for suffix in ["", ".zst", ".xz"] {
        for place in &places {
            let rel = format!("{place}{name}{suffix}");
            let path = dir.join(&rel);
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => return Ok(Some(rel)),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOTDIR.raw_os_error()) => {}
                Err(e) => return Err(read_err(&path)(e)),
            }
        }
    }
    Ok(None)
}

fn warnings(missing: &[String], dir: &Path) -> Vec<String> {
    let dir = dir.display();
    if missing.len() <= MAX_LISTED {
        return missing
            .iter()
            .map(|m| format!("warning: firmware {m} is not in {dir}"))
            .collect();
    }
    let shown = missing[..MAX_LISTED].join(", ");
    vec![format!(
        "warning: {} firmware files named by the modules are not in {dir} (usual for hardware \
         that is not there): {shown}, ...",
        missing.len()
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firmware_is_found_where_the_kernel_looks() {
        let dir = std::env::temp_dir().join(format!("mkimage-fw-{}", std::process::id()));
        let put = |rel: &str| {
            let p = dir.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, rel).unwrap();
        };
        put("a.bin");
        put("updates/a.bin");
        put("b.bin.xz");
        put("b.bin.zst");
        put("6.1/c.bin.xz");
        put("c.bin");
        put("vendor/d.bin");
        let find = |name| locate(&dir, Some("6.1"), name).unwrap();
        assert_eq!(find("a.bin").as_deref(), Some("updates/a.bin"));
        assert_eq!(find("b.bin").as_deref(), Some("b.bin.zst"));
        assert_eq!(find("c.bin").as_deref(), Some("c.bin"));
        assert_eq!(find("vendor/d.bin").as_deref(), Some("vendor/d.bin"));
        assert_eq!(find("vendor"), None);
        assert_eq!(find("../x"), None);
        assert_eq!(find("a.bin/x"), None);
        assert_eq!(
            locate(&dir, None, "c.bin").unwrap().as_deref(),
            Some("c.bin")
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn many_missing_files_make_one_warning() {
        let few: Vec<String> = (0..2).map(|i| format!("f{i} (for m)")).collect();
        assert_eq!(warnings(&few, Path::new("/fw")).len(), 2);
        let many: Vec<String> = (0..9).map(|i| format!("f{i} (for m)")).collect();
        let w = warnings(&many, Path::new("/fw"));
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("warning: 9 firmware files"), "{w:?}");
    }
}

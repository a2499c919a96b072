//! What goes into an image: the policy of `build` and `pack`.
//!
//! `build` applies its sources in this order, later ones replacing
//! earlier ones at the same path: `--rootfs` trees (in order), `/init`
//! with its applet links and `/bin/rescue-init` (`/sbin/modprobe` only where the trees have
//! none), kernel modules and firmware, `--file` copies, `--mknod` nodes,
//! `--bin` programs with their libraries; then the default directories
//! and `/dev/console` are added where missing.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::kmod::moddb::ModError;
use crate::kmod::{self, ModuleSpec, System};
use crate::tree::bins::{self, BinError, Host};
use crate::tree::{self, Entry, Tree, TreeError};

/// Names under which `/init` also acts as a command.
pub const APPLETS: [&str; 3] = ["sbin/reboot", "sbin/poweroff", "sbin/halt"];
/// `/init` under its own name, so that its subcommands run as
/// `rescue-init handoff check`.
pub const SELF_LINK: &str = "bin/rescue-init";
/// An applet link added only if the trees do not have the path: the
/// kernel runs it to load modules it needs (`CONFIG_MODPROBE_PATH`).
pub const MODPROBE: &str = "sbin/modprobe";

/// Directories every image has, with their modes.
pub const DEFAULT_DIRS: [(&str, u32); 6] = [
    ("dev", 0o755),
    ("proc", 0o755),
    ("root", 0o700),
    ("run", 0o755),
    ("sys", 0o755),
    ("tmp", 0o1777),
];

/// Device node for `--mknod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub path: OsString,
    pub block: bool,
    pub major: u32,
    pub minor: u32,
    pub perm: u32,
}

/// Everything `build` puts into an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildSpec {
    pub init: PathBuf,
    pub rootfs: Vec<PathBuf>,
    pub files: Vec<(PathBuf, OsString)>,
    pub nodes: Vec<Node>,
    /// `--bin`: names looked up in `$PATH`, or paths.
    pub bins: Vec<OsString>,
    /// `--allow-missing`: a library not found is a warning.
    pub allow_missing: bool,
    /// `--sysroot`: where `bins` and their libraries come from.
    pub sysroot: Option<PathBuf>,
    /// Kernel modules and firmware.
    pub modules: ModuleSpec,
    /// `--record-cmdline`: the host command line file to store as
    /// [`HOST_CMDLINE`] (the handoff's last-resort command line).
    pub record_cmdline: Option<PathBuf>,
}

/// Where `--record-cmdline` puts the host's command line in the image.
pub const HOST_CMDLINE: &str = "etc/rescue-init/host-cmdline";

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error(transparent)]
    Bin(#[from] BinError),
    #[error(transparent)]
    Modules(#[from] ModError),
}

/// The entries of a `build` image, with warnings to show.
pub fn build_tree(
    spec: &BuildSpec,
    host: &Host,
    sys: &System,
) -> Result<(Tree, Vec<String>), BuildError> {
    let mut tree = init_tree(spec)?;
    let mut warnings = kmod::add_modules(&mut tree, &spec.modules, sys)?;
    add_given(&mut tree, spec)?;
    if let Some(src) = &spec.record_cmdline {
        record_cmdline(&mut tree, src)?;
    }
    warnings.extend(bins::add_bins(
        &mut tree,
        &spec.bins,
        spec.allow_missing,
        host,
    )?);
    add_defaults(&mut tree)?;
    Ok((tree, warnings))
}

/// `--rootfs` and `/init` with its applet links.
fn init_tree(spec: &BuildSpec) -> Result<Tree, TreeError> {
    let mut tree = Tree::default();
    for dir in &spec.rootfs {
        tree.add_dir(dir, false)?;
    }
    tree.insert(b"init".to_vec(), tree::file_entry(&spec.init, Some(0o755))?)?;
    // Where the trees make /sbin or /bin a symlink (merged /usr), the
    // links go where it leads (see Tree::insert).
    for applet in APPLETS.iter().chain(&[SELF_LINK]) {
        tree.insert(applet.as_bytes().to_vec(), Entry::symlink(b"/init"))?;
    }
    tree.insert_default(MODPROBE.as_bytes(), Entry::symlink(b"/init"))?;
    Ok(tree)
}

/// `--file` and `--mknod`.
fn add_given(tree: &mut Tree, spec: &BuildSpec) -> Result<(), TreeError> {
    for (src, dst) in &spec.files {
        tree.insert(file_dst(src, dst)?, tree::file_entry(src, None)?)?;
    }
    for node in &spec.nodes {
        let entry = if node.block {
            Entry::block_dev(node.major, node.minor, node.perm)
        } else {
            Entry::char_dev(node.major, node.minor, node.perm)
        };
        tree.insert(tree::normalize(&node.path)?, entry)?;
    }
    Ok(())
}

/// Stores the host's command line (one line, as /proc/cmdline has it).
/// /proc files report size 0, so it is read, not copied by size.
fn record_cmdline(tree: &mut Tree, src: &Path) -> Result<(), TreeError> {
    let text = std::fs::read_to_string(src).map_err(|cause| TreeError::Read {
        path: src.to_path_buf(),
        cause,
    })?;
    let line = format!("{}\n", text.trim());
    tree.insert(
        HOST_CMDLINE.as_bytes().to_vec(),
        Entry::data(line.into_bytes(), 0o644),
    )
}

/// The image path for `--file SRC:DST`; a DST ending in `/` is a
/// directory that receives SRC under its own name.
fn file_dst(src: &Path, dst: &OsStr) -> Result<Vec<u8>, TreeError> {
    let mut dst = dst.to_os_string();
    if dst.as_bytes().ends_with(b"/") {
        if let Some(name) = src.file_name() {
            dst.push(name);
        }
    }
    tree::normalize(&dst)
}

/// Adds the default directories and `/dev/console` where missing. The
/// kernel opens `/dev/console` for `/init` before `/init` runs.
fn add_defaults(tree: &mut Tree) -> Result<(), TreeError> {
    for (name, perm) in DEFAULT_DIRS {
        tree.insert_default(name.as_bytes(), Entry::dir(perm))?;
    }
    if tree.get(b"dev").is_some_and(Entry::is_dir) {
        tree.insert_default(b"dev/console", Entry::char_dev(5, 1, 0o600))?;
    }
    Ok(())
}

/// The entries of a `pack` image: `dir` as it is. The output file is
/// left out if it lies inside `dir` (it would otherwise pack itself).
pub fn pack_tree(dir: &Path, keep_owners: bool, out: &Path) -> Result<Tree, TreeError> {
    let mut tree = Tree::default();
    tree.add_dir(dir, keep_owners)?;
    if let Some(name) = name_inside(dir, out) {
        tree.remove(&name);
    }
    Ok(tree)
}

/// `out`'s path inside `dir`, if it is inside.
fn name_inside(dir: &Path, out: &Path) -> Option<Vec<u8>> {
    let dir = fs::canonicalize(dir).ok()?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let out = fs::canonicalize(parent).ok()?.join(out.file_name()?);
    let rel = out.strip_prefix(&dir).ok()?;
    Some(rel.as_os_str().as_bytes().to_vec())
}

/// Error for a bad `SOURCE_DATE_EPOCH`.
#[derive(Debug, thiserror::Error)]
#[error("SOURCE_DATE_EPOCH={value:?} is not a number of seconds that fits in 32 bits")]
pub struct EpochError {
    pub value: String,
}

/// `SOURCE_DATE_EPOCH`, if set (and not empty). With it, mtimes are
/// clamped to it; without it, every mtime is 0.
pub fn epoch_from(value: Option<OsString>) -> Result<Option<u32>, EpochError> {
    let Some(value) = value else { return Ok(None) };
    let text = value.to_string_lossy();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u32>().map(Some).map_err(|_| EpochError {
        value: text.into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_dst_with_trailing_slash_keeps_the_name() {
        let src = Path::new("/x/busybox");
        assert_eq!(file_dst(src, OsStr::new("/bin/")).unwrap(), b"bin/busybox");
        assert_eq!(file_dst(src, OsStr::new("/bin/sh")).unwrap(), b"bin/sh");
    }

    #[test]
    fn epoch_parsing() {
        assert_eq!(epoch_from(None).unwrap(), None);
        assert_eq!(epoch_from(Some("".into())).unwrap(), None);
        assert_eq!(
            epoch_from(Some("1700000000".into())).unwrap(),
            Some(1_700_000_000)
        );
        assert!(epoch_from(Some("yesterday".into())).is_err());
        assert!(epoch_from(Some("99999999999".into())).is_err());
    }

    #[test]
    fn defaults_respect_existing_entries() {
        let mut t = Tree::default();
        t.insert(b"tmp".to_vec(), Entry::symlink(b"var/tmp"))
            .unwrap();
        t.insert(b"dev".to_vec(), Entry::symlink(b"elsewhere"))
            .unwrap();
        add_defaults(&mut t).unwrap();
        assert!(!t.get(b"tmp").unwrap().is_dir());
        assert!(t.get(b"dev/console").is_none());
        assert_eq!(t.get(b"root").unwrap().perm, 0o700);
    }

    #[test]
    fn output_inside_the_tree_is_found() {
        let dir = std::env::temp_dir();
        let name = name_inside(&dir, &dir.join("img.cpio")).unwrap();
        assert_eq!(name, b"img.cpio");
        assert!(name_inside(&dir.join("nope-not-here"), Path::new("/img")).is_none());
    }
}

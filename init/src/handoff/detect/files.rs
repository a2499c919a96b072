//! Reading the recovered system's files the way its boot loader would:
//! inside ROOT (see [`resolve_in_root`]), relative to the partition a
//! path is written for. Shared by the detectors.

use crate::fsread::Links;
use crate::handoff::resolve::{resolve_in_root, ResolveErrorKind};
use std::path::{Path, PathBuf};

/// Reads a text file inside `root`: `Ok(None)` if it does not exist.
pub(super) fn read_in_root(root: &Path, path: &str) -> Result<Option<(PathBuf, String)>, String> {
    let host = match resolve_in_root(root, path) {
        Ok(h) => h,
        Err(e) if matches!(e.kind, ResolveErrorKind::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    // Resolved already: the last component must not be a link now.
    match crate::fsread::read_limited(&host, crate::fsread::MAX_TEXT, Links::Refuse) {
        Ok(bytes) => Ok(Some((host, String::from_utf8_lossy(&bytes).into_owned()))),
        Err(e) => Err(format!("{}: {e}", host.display())),
    }
}

/// Names in directory `dir` inside `root` (4096 at most), sorted; empty
/// if it is missing.
pub(super) fn list_in_root(root: &Path, dir: &str) -> Vec<String> {
    let Ok(host) = resolve_in_root(root, dir) else {
        return Vec::new();
    };
    let Ok(rd) = std::fs::read_dir(host) else {
        return Vec::new();
    };
    // A directory of millions of names would cost memory and time.
    let mut names: Vec<String> = rd
        .take(4096)
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    crate::sort::sort(&mut names);
    names
}

/// A path as a boot loader gives it, relative to the partition it reads
/// (`base`, e.g. `/boot` when /boot may be a partition of its own): tried
/// as `base` + path, then inside ROOT as is. Must be a regular file.
pub(super) fn boot_path(root: &Path, base: &str, path: &str) -> Result<PathBuf, String> {
    let mut errors = Vec::new();
    let joined = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let tries = if base.trim_matches('/').is_empty() {
        vec![path.to_string()]
    } else {
        vec![joined, path.to_string()]
    };
    for p in &tries {
        match resolve_in_root(root, p) {
            Ok(h) if h.is_file() => return Ok(h),
            Ok(h) => errors.push(format!("{}: not a regular file", h.display())),
            Err(e) => errors.push(e.to_string()),
        }
    }
    Err(errors.join("; "))
}

/// The one initrd kexec can take out of a boot entry's list (see the
/// module docs), resolved with [`boot_path`].
pub(super) fn pick_initrd(
    root: &Path,
    base: &str,
    paths: &[String],
    notes: &mut Vec<String>,
) -> Result<Option<PathBuf>, String> {
    let is_ucode = |p: &&String| {
        let name = p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
        name.contains("ucode") || name.contains("microcode")
    };
    let (ucode, main): (Vec<&String>, Vec<&String>) = paths.iter().partition(|p| is_ucode(p));
    if main.len() > 1 {
        let all: Vec<&str> = main.iter().map(|s| s.as_str()).collect();
        return Err(format!(
            "{} initrds ({}); kexec takes one: set INITRD",
            all.len(),
            all.join(", ")
        ));
    }
    if !ucode.is_empty() {
        let all: Vec<&str> = ucode.iter().map(|s| s.as_str()).collect();
        notes.push(format!(
            "left out the microcode initrd {} (the CPU keeps its microcode across kexec)",
            all.join(", ")
        ));
    }
    main.first().map(|p| boot_path(root, base, p)).transpose()
}

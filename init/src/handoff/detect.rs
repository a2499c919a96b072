//! Finding the recovered system's kernel when the handoff file names
//! none, in this order:
//!
//! 1. Boot Loader Specification entries (`/boot/loader`, `/efi/loader`),
//! 2. GRUB's default menu entry (`/boot/grub/grub.cfg`,
//!    `/boot/grub2/grub.cfg`, `/boot/efi/EFI/*/grub.cfg`),
//! 3. Debian's `/vmlinuz` + `/initrd.img` and `/boot/vmlinuz` +
//!    `/boot/initrd.img` links,
//! 4. the newest `/boot/vmlinuz-VERSION` with its `initrd.img-VERSION`,
//!    `initramfs-VERSION.img` or `initrd-VERSION`.
//!
//! A source whose default entry is broken (its kernel missing, say) is
//! noted and the next one tried. kexec takes one initrd: early microcode
//! images next to the real one (`*ucode*`, `*microcode*`) are left out —
//! the CPU keeps the microcode it runs with across a kexec — and an entry
//! with several other initrds is refused.

use super::plan::Source;
use super::resolve::{resolve_in_root, ResolveErrorKind};
use super::version::version_cmp;
use super::{bls, grub};
use std::path::{Path, PathBuf};

/// What a boot configuration says: the kernel, its initrd and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub kernel: (PathBuf, Source),
    pub initrd: Option<(PathBuf, Source)>,
    pub args: Option<(String, Source)>,
}

/// Detects the default kernel under `root`. Adds a line to `notes` for
/// every source that was present but not used, and for values left out.
pub fn detect(root: &Path, notes: &mut Vec<String>) -> Option<Detected> {
    bls::detect(root, notes)
        .or_else(|| grub::detect(root, notes))
        .or_else(|| debian_links(root, notes))
        .or_else(|| newest_kernel(root, notes))
}

/// Reads a text file inside `root`: `Ok(None)` if it does not exist.
pub(super) fn read_in_root(root: &Path, path: &str) -> Result<Option<(PathBuf, String)>, String> {
    let host = match resolve_in_root(root, path) {
        Ok(h) => h,
        Err(e) if matches!(e.kind, ResolveErrorKind::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    match std::fs::read(&host) {
        Ok(bytes) => Ok(Some((host, String::from_utf8_lossy(&bytes).into_owned()))),
        Err(e) => Err(format!("{}: {e}", host.display())),
    }
}

/// Names in directory `dir` inside `root`, sorted; empty if it is missing.
pub(super) fn list_in_root(root: &Path, dir: &str) -> Vec<String> {
    let Ok(host) = resolve_in_root(root, dir) else {
        return Vec::new();
    };
    let Ok(rd) = std::fs::read_dir(host) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
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

fn debian_links(root: &Path, notes: &mut Vec<String>) -> Option<Detected> {
    for (kernel, initrd) in [
        ("/vmlinuz", "/initrd.img"),
        ("/boot/vmlinuz", "/boot/initrd.img"),
    ] {
        let k = match resolve_in_root(root, kernel) {
            Ok(k) if k.is_file() => k,
            Ok(k) => {
                notes.push(format!("{kernel}: {} is not a regular file", k.display()));
                continue;
            }
            Err(e)
                if matches!(e.kind, ResolveErrorKind::NotFound { .. }) && !exists(root, kernel) =>
            {
                continue
            }
            Err(e) => {
                notes.push(e.to_string());
                continue;
            }
        };
        let source = |p: &str| Source::DebianLink {
            path: root.join(p.trim_start_matches('/')),
        };
        let i = match resolve_in_root(root, initrd) {
            Ok(i) if i.is_file() => Some((i, source(initrd))),
            Ok(_) | Err(_) => {
                notes.push(format!("{kernel} found but no usable {initrd}: no initrd"));
                None
            }
        };
        return Some(Detected {
            kernel: (k, source(kernel)),
            initrd: i,
            args: None,
        });
    }
    None
}

/// Whether `path` itself (not what it points to) exists inside `root`.
fn exists(root: &Path, path: &str) -> bool {
    root.join(path.trim_start_matches('/'))
        .symlink_metadata()
        .is_ok()
}

fn newest_kernel(root: &Path, notes: &mut Vec<String>) -> Option<Detected> {
    let names = list_in_root(root, "/boot");
    let mut versions: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_prefix("vmlinuz-"))
        .collect();
    crate::sort::sort_by(&mut versions, |a, b| version_cmp(b, a));
    let dir = resolve_in_root(root, "/boot").ok()?;
    for v in versions {
        let kernel = match boot_path(root, "/", &format!("/boot/vmlinuz-{v}")) {
            Ok(k) => k,
            Err(e) => {
                notes.push(e);
                continue;
            }
        };
        let source = Source::NewestKernel { dir: dir.clone() };
        let initrd = matching_initrd(root, v).map(|i| (i, source.clone()));
        if initrd.is_none() {
            notes.push(format!(
                "no initrd.img-{v}, initramfs-{v}.img or initrd-{v} in /boot: no initrd"
            ));
        }
        return Some(Detected {
            kernel: (kernel, source),
            initrd,
            args: None,
        });
    }
    None
}

fn matching_initrd(root: &Path, version: &str) -> Option<PathBuf> {
    let names = [
        format!("initrd.img-{version}"),
        format!("initramfs-{version}.img"),
        format!("initrd-{version}"),
    ];
    names
        .iter()
        .find_map(|n| boot_path(root, "/", &format!("/boot/{n}")).ok())
}

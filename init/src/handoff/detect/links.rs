//! Debian's `/vmlinuz` + `/initrd.img` and `/boot/vmlinuz` +
//! `/boot/initrd.img` links to the current kernel.

use super::Detected;
use crate::handoff::resolve::{resolve_in_root, ResolveErrorKind};
use crate::handoff::source::Source;
use std::path::Path;

pub(super) fn detect(root: &Path, notes: &mut Vec<String>) -> Option<Detected> {
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

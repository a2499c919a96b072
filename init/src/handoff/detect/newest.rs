//! The newest `/boot/vmlinuz-VERSION` (by [`version_cmp`]) with its
//! `initrd.img-VERSION`, `initramfs-VERSION.img` or `initrd-VERSION`.

use super::files::{boot_path, list_in_root};
use super::Detected;
use crate::bootcfg::version::version_cmp;
use crate::handoff::resolve::resolve_in_root;
use crate::handoff::source::Source;
use std::path::{Path, PathBuf};

pub(super) fn detect(root: &Path, notes: &mut Vec<String>) -> Option<Detected> {
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

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

pub(super) mod bls;
mod files;
pub(super) mod grub;
mod links;
mod newest;

use super::source::Source;
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
/// Each source is a module with the same `detect`; the first that
/// finds a usable entry wins.
pub fn detect(root: &Path, notes: &mut Vec<String>) -> Option<Detected> {
    bls::detect(root, notes)
        .or_else(|| grub::detect(root, notes))
        .or_else(|| links::detect(root, notes))
        .or_else(|| newest::detect(root, notes))
}

/// A boot entry's device tree is not what the kexec passes on: the
/// running one is (as kexec_file_load and kexec-tools without `--dtb` do),
/// with the firmware's memory map, reserved ranges and fix-ups in it.
fn devicetree_note(source: &Source, path: &str) -> String {
    format!("{source}: devicetree {path} is not loaded: the kexec passes on the running device tree, which has the firmware's memory map and reserved ranges")
}

//! Tests of the ISO reader and the config parsers. ISOs are built with
//! `xorriso` (skipped, with a message, when it is not installed);
//! configs are fixtures in `init/tests/fixtures/iso/`.

mod config;
mod errors;
mod fuzz;
mod reader;

use super::fs::Iso;
use super::medium::Medium;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/iso/", $name))
    };
}
pub(super) use fixture;

/// A temporary directory, removed on drop.
pub(super) struct Temp {
    pub path: PathBuf,
}

impl Temp {
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("rescue-init-iso-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("tree")).unwrap();
        Temp { path }
    }

    /// Where files for the ISO go.
    pub fn tree(&self) -> PathBuf {
        self.path.join("tree")
    }

    pub fn file(&self, p: &str, contents: impl AsRef<[u8]>) -> &Self {
        let host = self.tree().join(p.trim_start_matches('/'));
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        std::fs::write(host, contents).unwrap();
        self
    }

    pub fn link(&self, p: &str, target: &str) -> &Self {
        let host = self.tree().join(p.trim_start_matches('/'));
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, host).unwrap();
        self
    }

    /// A sparse file of `len` bytes ending in `tail`.
    pub fn sparse(&self, p: &str, len: u64, tail: &[u8]) -> &Self {
        use std::os::unix::fs::FileExt;
        let host = self.tree().join(p.trim_start_matches('/'));
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        let f = std::fs::File::create(host).unwrap();
        f.set_len(len).unwrap();
        f.write_all_at(tail, len - tail.len() as u64).unwrap();
        self
    }

    /// `xorriso -as mkisofs FLAGS -o NAME.iso tree`; None without xorriso.
    pub fn iso(&self, name: &str, flags: &[&str]) -> Option<PathBuf> {
        if !have_xorriso()
            && rescue_tests::skip("xorriso is not installed (apt-get install xorriso)")
        {
            return None;
        }
        let out = self.path.join(format!("{name}.iso"));
        let run = Command::new("xorriso")
            .args(["-as", "mkisofs", "-quiet", "-V", "RESCUE_TEST"])
            .args(flags)
            .arg("-o")
            .arg(&out)
            .arg(self.tree())
            .output()
            .expect("running xorriso");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "xorriso failed for {name}: {stderr}");
        Some(out)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn have_xorriso() -> bool {
    Command::new("xorriso")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Opens an image file.
pub(super) fn open(path: &Path) -> Iso {
    super::open(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Opens image bytes held in memory.
pub(super) fn open_bytes(name: &str, bytes: Vec<u8>) -> Result<Iso, super::IsoError> {
    Iso::new(Medium::new(name.into(), Box::new(bytes))?)
}

/// A fake kernel: recognisable bytes of a given length.
pub(super) fn blob(tag: &str, len: usize) -> Vec<u8> {
    tag.bytes().cycle().take(len).collect()
}

/// ReaR's ISO layout: kernel and initrd.cgz in /isolinux with its
/// isolinux.cfg (default: boot the local disk) and an EFI grub.cfg.
pub(super) fn rear_tree(t: &Temp) {
    t.file("isolinux/kernel", blob("KERNEL", 70_000))
        .file("isolinux/initrd.cgz", blob("INITRD", 50_001))
        .file("isolinux/isolinux.cfg", fixture!("rear-isolinux.cfg"))
        .file("isolinux/chain.c32", b"c32")
        .file("EFI/BOOT/grub.cfg", fixture!("rear-efi-grub.cfg"));
}

//! `build --module` against a real kernel's modules: the modules chosen
//! are those kmod's `modprobe --show-depends` loads, both from the bare
//! directory (Debian's: no modules.dep, so `.modinfo`) and after
//! `depmod`; and kmod's `modprobe` works on the image's own indexes.
//!
//! The modules directory: `$RESCUE_TEST_MODULES_DIR`, else the kernel the
//! VM tests cache in `target/test-kernel/*/lib/modules/*`, else
//! `/lib/modules/$(uname -r)`; without one the test is skipped.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const NAMES: [&str; 5] = ["ext4", "virtio_blk", "nvme", "xfs", "ahci"];

/// Files of a modules directory that are copied, not made by depmod.
const KEPT: [&str; 3] = [
    "modules.order",
    "modules.builtin",
    "modules.builtin.modinfo",
];

fn has_modules(dir: &Path) -> bool {
    dir.join("kernel").is_dir()
}

fn modules_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("RESCUE_TEST_MODULES_DIR") {
        return Some(dir.into());
    }
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-kernel");
    let mut found: Vec<PathBuf> = fs::read_dir(&cache)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|k| {
            fs::read_dir(k.path().join("lib/modules"))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .filter(|p| has_modules(p))
        .collect();
    found.sort();
    if let Some(dir) = found.pop() {
        return Some(dir);
    }
    let uname = Command::new("uname").arg("-r").output().ok()?;
    let release = String::from_utf8_lossy(&uname.stdout).trim().to_string();
    Some(Path::new("/lib/modules").join(release)).filter(|d| has_modules(d))
}

/// `root/lib/modules/VER` made of links to the directories of `real`
/// and copies of its [`KEPT`] files.
fn mirror(real: &Path, root: &Path, ver: &str) -> PathBuf {
    let dir = root.join("lib/modules").join(ver);
    fs::create_dir_all(&dir).unwrap();
    for e in fs::read_dir(real).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if KEPT.contains(&name.as_str()) {
            fs::copy(e.path(), dir.join(&name)).unwrap();
        } else if e.path().is_dir() && name != "build" && name != "source" {
            std::os::unix::fs::symlink(e.path(), dir.join(&name)).unwrap();
        }
    }
    dir
}

/// The module files of an image (below its modules directory).
fn image_modules(s: &Scratch, image: &Path, ver: &str) -> BTreeSet<String> {
    let prefix = format!("lib/modules/{ver}/");
    mkimage_ok(["list", image.to_str().unwrap()])
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|n| n.ends_with(".ko"))
        .map(|n| {
            n.strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("{n} in {}", s.0.display()))
                .to_string()
        })
        .collect()
}

/// Builds an image of [`NAMES`] from `dir`; returns its module files.
fn build(s: &Scratch, dir: &Path, ver: &str, out: &str) -> BTreeSet<String> {
    let init = s.file("init", b"init", 0o755);
    let image = s.path(out);
    let mut args = vec![
        "build",
        "--init",
        init.to_str().unwrap(),
        "-o",
        image.to_str().unwrap(),
    ];
    // The version is the directory's name.
    args.extend(["--compress", "none", "--firmware", "none"]);
    args.extend(["--modules-dir", dir.to_str().unwrap()]);
    for n in NAMES {
        args.extend(["--module", n]);
    }
    let result = mkimage(&args);
    assert!(result.status.success(), "{}", stderr(&result));
    image_modules(s, &image, ver)
}

/// What `modprobe --show-depends` loads for `name`, as paths below the
/// modules directory, decompressed names.
fn show_depends(modprobe: &Path, root: &Path, ver: &str, name: &str) -> Vec<String> {
    let out = Command::new(modprobe)
        .args([
            "-S",
            ver,
            "-d",
            root.to_str().unwrap(),
            "--show-depends",
            name,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "modprobe {name}: {}", stderr(&out));
    let prefix = format!("{}/lib/modules/{ver}/", root.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("insmod "))
        .map(|p| {
            let p = p.trim().strip_prefix(&prefix).unwrap_or(p).to_string();
            p.strip_suffix(".xz")
                .or(p.strip_suffix(".zst"))
                .or(p.strip_suffix(".gz"))
                .unwrap_or(&p)
                .to_string()
        })
        .collect()
}

#[test]
fn modules_match_kmod() {
    let Some(real) = modules_dir() else {
        rescue_tests::skip("no kernel modules directory (RESCUE_TEST_MODULES_DIR, target/test-kernel: make kernel, /lib/modules)");
        return;
    };
    let real = fs::canonicalize(&real).unwrap();
    let ver = real.file_name().unwrap().to_string_lossy().into_owned();
    eprintln!("modules of {}", real.display());
    let s = Scratch::new("kernel-modules");
    let plain = mirror(&real, &s.path("plain"), &ver);
    let from_modinfo = build(&s, &plain, &ver, "modinfo.cpio");
    let has = |end: &str| from_modinfo.iter().any(|p| p.ends_with(end));
    if has("/ext4.ko") {
        // ext4's softdep "pre: crypto-crc32c" is an alias of these.
        assert!(has("/jbd2.ko"), "{from_modinfo:?}");
        let generic = real.join("kernel/crypto/crc32c_generic.ko");
        assert!(
            !generic.exists() || has("/crc32c_generic.ko"),
            "{from_modinfo:?}"
        );
    }
    let (Some(depmod), Some(modprobe)) = (kmod_tool("depmod"), kmod_tool("modprobe")) else {
        rescue_tests::skip("kmod (depmod, modprobe) is not installed: the comparison with it (apt-get install kmod)");
        return;
    };
    let root = s.path("indexed");
    let indexed = mirror(&real, &root, &ver);
    let ok = Command::new(depmod)
        .args(["-b", root.to_str().unwrap(), &ver])
        .status()
        .unwrap();
    assert!(ok.success(), "depmod failed");
    let from_dep = build(&s, &indexed, &ver, "dep.cpio");
    let mut expected = BTreeSet::new();
    let unpacked = s.dir("unpacked", 0o755);
    let image = fs::read(s.path("modinfo.cpio")).unwrap();
    tool(&unpacked, "cpio", &["-id", "--quiet", "lib/*"], &image);
    for name in NAMES {
        let want: BTreeSet<String> = show_depends(&modprobe, &root, &ver, name)
            .into_iter()
            .collect();
        // The image's own indexes, read by kmod, load the same modules
        // (maybe in another order: depmod orders by symbol references).
        let got = show_depends(&modprobe, &unpacked, &ver, name)
            .into_iter()
            .collect();
        assert_eq!(want, got, "{name}");
        expected.extend(want);
    }
    assert_eq!(from_modinfo, expected, "from .modinfo");
    assert_eq!(from_dep, expected, "from modules.dep");
    eprintln!("{} modules for {NAMES:?} match kmod", expected.len());
}

//! `build --bin`: the libraries found match what `ldd` lists, and the
//! programs run in a chroot of the unpacked image.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Host programs to compare against ldd; those missing are skipped.
const PROGRAMS: [&str; 9] = [
    "/usr/bin/bash",
    "/usr/bin/ls",
    "/usr/sbin/e2fsck",
    "/usr/sbin/mke2fs",
    "/usr/bin/qemu-img",
    "/usr/bin/qemu-storage-daemon",
    "/usr/bin/qemu-system-x86_64",
    "/usr/bin/python3",
    "/usr/bin/ssh",
];

fn is_elf(path: &Path) -> bool {
    fs::read(path).is_ok_and(|d| d.starts_with(b"\x7fELF"))
}

/// Builds an uncompressed image with `--bin` for each of `bins`.
fn build(s: &Scratch, bins: &[&str], extra: &[&str]) -> (PathBuf, std::process::Output) {
    let init = s.file("init", b"init", 0o755);
    let out = s.path("image.cpio");
    let mut args = vec![
        "build",
        "--init",
        init.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(["--compress", "none"]);
    for b in bins {
        args.extend(["--bin", b]);
    }
    args.extend(extra);
    (out.clone(), mkimage(&args))
}

/// Host paths of the files of an image, canonicalized.
fn image_files(image: &Path) -> BTreeSet<PathBuf> {
    let listing = mkimage_ok(["list", image.to_str().unwrap()]);
    listing
        .lines()
        .filter(|l| l.starts_with("- "))
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter_map(|name| fs::canonicalize(Path::new("/").join(name)).ok())
        .collect()
}

/// What ldd lists for `prog`: the paths, canonicalized.
fn ldd(prog: &str) -> BTreeSet<PathBuf> {
    let out = Command::new("ldd").arg(prog).output().expect("run ldd");
    assert!(out.status.success(), "ldd {prog}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/')
                .then(|| fs::canonicalize(path).unwrap())
        })
        .collect()
}

#[test]
fn libraries_match_ldd() {
    let mut compared = 0;
    for prog in PROGRAMS.iter().filter(|p| is_elf(Path::new(p))) {
        let s = Scratch::new("bins-ldd");
        let (image, result) = build(&s, &[prog], &[]);
        assert!(result.status.success(), "{prog}: {}", stderr(&result));
        let files = image_files(&image);
        let wanted = ldd(prog);
        let missing: Vec<_> = wanted.difference(&files).collect();
        assert!(
            missing.is_empty(),
            "{prog}: ldd lists {missing:?}, not in the image"
        );
        assert!(files.contains(&fs::canonicalize(prog).unwrap()), "{prog}");
        compared += 1;
    }
    assert!(compared >= 2, "too few host programs to compare");
}

#[test]
fn symlinks_are_kept_and_the_binary_is_at_its_path() {
    let s = Scratch::new("bins-links");
    let (image, result) = build(&s, &["/usr/bin/bash"], &[]);
    assert!(result.status.success(), "{}", stderr(&result));
    let listing = mkimage_ok(["list", image.to_str().unwrap()]);
    assert!(listing.contains(" usr/bin/bash\n"), "{listing}");
    // Every symlink in the image is one on the host, with the same target.
    for line in listing.lines().filter(|l| l.starts_with("l ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (name, target) = (words[4], words[6]);
        if name.starts_with("sbin/") || name == "bin/rescue-init" {
            continue; // the applet links to /init
        }
        let host = fs::read_link(Path::new("/").join(name)).unwrap();
        assert_eq!(host, Path::new(target), "{line}");
    }
}

#[test]
fn names_are_looked_up_in_path_and_errors_name_things() {
    let s = Scratch::new("bins-errors");
    let (_, result) = build(&s, &["mkimage-no-such-program"], &[]);
    assert_eq!(result.status.code(), Some(1));
    assert!(stderr(&result).contains("--bin mkimage-no-such-program: no executable"));
    let script = s.file("script", b"#!/bin/sh\n", 0o755);
    let (_, result) = build(&s, &[script.to_str().unwrap()], &[]);
    let err = stderr(&result);
    assert!(
        err.contains(&format!("{}: not an ELF file", script.display())),
        "{err}"
    );
    let (image, result) = build(&s, &["bash"], &[]);
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(!image_files(&image).is_empty());
}

#[test]
fn programs_run_in_a_chroot_of_the_image() {
    if !is_root() && rescue_tests::skip("chroot needs root") {
        return;
    }
    let s = Scratch::new("bins-chroot");
    let (image, result) = build(&s, &["/usr/bin/bash", "ls"], &[]);
    assert!(result.status.success(), "{}", stderr(&result));
    let root = s.dir("root", 0o755);
    tool(
        &root,
        "cpio",
        &["-idm", "--quiet"],
        &fs::read(&image).unwrap(),
    );
    let out = Command::new("chroot")
        .arg(&root)
        .args(["/usr/bin/bash", "-c", "echo ok; ls -d /init"])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    assert!(out.status.success(), "chroot: {}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n/init\n");
}

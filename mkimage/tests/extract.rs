//! `mkimage extract`: round trips, overlays and hostile archives.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const EPOCH: &str = "1700000000";

fn make_tree(s: &Scratch) {
    s.file("t/etc/a", b"alpha", 0o640);
    s.file("t/bin/tool", b"#!/bin/sh\n", 0o4755);
    s.file("t/empty", b"", 0o600);
    s.dir("t/locked", 0o555);
    s.dir("t/var/tmp", 0o1777);
    s.file("t/z", &vec![7u8; 100_000], 0o644);
    fs::hard_link(s.path("t/z"), s.path("t/z2")).unwrap();
    s.symlink("etc/a", "t/link");
    s.symlink("/nowhere/at/all", "t/dangling");
    mkfifo(&s.path("t/fifo"));
}

/// `(type, mode, size, content or target)` of everything below `root`.
fn describe(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for item in fs::read_dir(&dir).unwrap() {
            let path = item.unwrap().path();
            let m = fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let ft = m.file_type();
            let what = if ft.is_symlink() {
                format!("-> {}", fs::read_link(&path).unwrap().display())
            } else if ft.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else if ft.is_file() {
                format!("{:?}", fs::read(&path).unwrap().len())
            } else {
                "special".to_string()
            };
            let mode = if ft.is_symlink() {
                0
            } else {
                m.mode() & 0o7777
            };
            out.push(format!("{rel} {mode:o} {what}"));
        }
    }
    out.sort();
    out
}

fn extract(image: &Path, dir: &Path) -> std::process::Output {
    mkimage(["extract", image.to_str().unwrap(), dir.to_str().unwrap()])
}

#[test]
fn round_trip_in_every_compression() {
    let s = Scratch::new("extract-rt");
    make_tree(&s);
    for method in ["zstd", "gzip", "xz", "lz4", "none"] {
        let img = s.path(&format!("{method}.img"));
        let env = [("SOURCE_DATE_EPOCH", Some(EPOCH))];
        let t = s.path("t");
        let args = ["pack", t.to_str().unwrap(), "-o", img.to_str().unwrap()];
        let out = mkimage_env(args.iter().copied().chain(["--compress", method]), &env);
        assert!(out.status.success(), "{}", stderr(&out));
        let dir = s.path(&format!("x-{method}"));
        let out = extract(&img, &dir);
        assert!(out.status.success(), "{method}: {}", stderr(&out));
        assert_eq!(describe(&s.path("t")), describe(&dir), "{method}");
        assert_eq!(fs::read(dir.join("z")).unwrap(), vec![7u8; 100_000]);
        let (z, z2) = (dir.join("z"), dir.join("z2"));
        assert_eq!(
            fs::metadata(&z).unwrap().ino(),
            fs::metadata(z2).unwrap().ino()
        );
        assert_eq!(fs::metadata(&z).unwrap().nlink(), 2);
        let mtime = fs::symlink_metadata(dir.join("link")).unwrap().mtime();
        assert_eq!(mtime.to_string(), EPOCH);
        assert_eq!(
            fs::metadata(dir.join("locked"))
                .unwrap()
                .mtime()
                .to_string(),
            EPOCH
        );
        // Let the scratch directory be removed.
        fs::set_permissions(dir.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(s.path("t/locked"), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn later_segments_replace_earlier_entries() {
    let s = Scratch::new("extract-overlay");
    let first = newc(&[
        Raw::dir("d"),
        Raw::file("d/x", b"old"),
        Raw::file("f", b"old"),
    ]);
    let second = newc(&[Raw::file("d", b"now a file"), Raw::symlink("f", "d")]);
    let mut image = first;
    image.extend_from_slice(&[0; 8]);
    image.extend_from_slice(&second);
    let img = s.path("img");
    fs::write(&img, image).unwrap();
    let out = extract(&img, &s.path("x"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::read(s.path("x/d")).unwrap(), b"now a file");
    assert_eq!(fs::read_link(s.path("x/f")).unwrap(), Path::new("d"));
    assert!(
        stderr(&out).contains("5 entries from 2 segment(s)"),
        "{}",
        stderr(&out)
    );
}

fn hostile(s: &Scratch, entries: &[Raw]) -> std::process::Output {
    let img = s.path("evil.img");
    fs::write(&img, newc(entries)).unwrap();
    extract(&img, &s.path("x"))
}

#[test]
fn dotdot_is_refused_naming_the_entry() {
    let s = Scratch::new("extract-dotdot");
    let out = hostile(&s, &[Raw::dir("a"), Raw::file("a/../../escaped", b"x")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/a/../../escaped"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("'..'"), "{}", stderr(&out));
    assert!(!s.path("escaped").exists());
}

#[test]
fn control_characters_in_names_are_escaped_in_errors() {
    let s = Scratch::new("extract-escape");
    let out = hostile(&s, &[Raw::file("a\x1b[2J\r/../../x", b"x")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("/a\\x1b[2J\\x0d/../../x"), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\r'), "{err:?}");
}

#[test]
fn absolute_names_land_inside_the_directory() {
    let s = Scratch::new("extract-abs");
    let outside = s.path("outside");
    let abs = format!("{}", outside.display());
    let out = hostile(&s, &[Raw::file(&abs, b"x"), Raw::file("./dot", b"y")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!outside.exists());
    let inside = s.path("x").join(abs.trim_start_matches('/'));
    assert_eq!(fs::read(inside).unwrap(), b"x");
    assert_eq!(fs::read(s.path("x/dot")).unwrap(), b"y");
}

#[test]
fn writing_through_a_symlink_is_refused() {
    let s = Scratch::new("extract-through");
    let target = s.dir("victim", 0o755);
    let t = target.to_str().unwrap();
    let out = hostile(&s, &[Raw::symlink("a", t), Raw::file("a/passwd", b"pwned")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is a symlink"), "{}", stderr(&out));
    assert!(stderr(&out).contains("/a/passwd"), "{}", stderr(&out));
    assert!(s.names_in("victim").is_empty());
    // Deeper, and through a directory the archive first made.
    let out = hostile(
        &s,
        &[Raw::dir("d"), Raw::symlink("d/e", t), Raw::dir("d/e/f")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(s.names_in("victim").is_empty());
}

#[test]
fn hard_links_do_not_follow_a_replaced_parent() {
    let s = Scratch::new("extract-link");
    let victim = s.file("victim/secret", b"keep", 0o644);
    let t = s.path("victim");
    let member = |name, data| Raw {
        name,
        mode: 0o100644,
        ino: 77,
        nlink: 2,
        data,
    };
    // "d/secret" is the first member; "d" then becomes a symlink to the
    // victim, so linking "g" to "d/secret" would reach outside.
    let out = hostile(
        &s,
        &[
            Raw::dir("d"),
            member("d/secret", b""),
            Raw::symlink("d", t.to_str().unwrap()),
            member("g", b"pwned"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(fs::read(victim).unwrap(), b"keep");
}

#[test]
fn damaged_images_name_the_file_and_offset() {
    let s = Scratch::new("extract-damaged");
    s.file("t/a", &vec![1u8; 5000], 0o644);
    let img = s.path("ok.img");
    mkimage_ok([
        "pack",
        s.path("t").to_str().unwrap(),
        "-o",
        img.to_str().unwrap(),
        "--compress",
        "none",
    ]);
    let data = fs::read(&img).unwrap();
    let cut = s.path("cut.img");
    fs::write(&cut, &data[..3000]).unwrap();
    let out = extract(&cut, &s.path("x1"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cut.img") && err.contains("offset") && err.contains("truncated"),
        "{err}"
    );
    let junk = s.path("junk.img");
    fs::write(&junk, b"\x00\x00\x00\x00garbage here").unwrap();
    let out = extract(&junk, &s.path("x2"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("junk.img") && err.contains("offset 4"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn device_nodes_need_root_else_a_warning() {
    let s = Scratch::new("extract-dev");
    let dev = Raw {
        name: "dev/null",
        mode: 0o020666,
        ino: 0,
        nlink: 1,
        data: b"",
    };
    let out = hostile(&s, &[Raw::dir("dev"), dev]);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = s.path("x/dev/null");
    if is_root() {
        use std::os::unix::fs::FileTypeExt;
        let m = fs::symlink_metadata(&path).unwrap();
        assert!(m.file_type().is_char_device());
        assert_eq!(m.mode() & 0o7777, 0o666);
    } else {
        assert!(
            stderr(&out).contains("skipped /dev/null"),
            "{}",
            stderr(&out)
        );
        assert!(!path.exists());
    }
}

//! Reproducibility: equal input gives byte-identical images.

mod common;

use common::*;
use std::fs;
use std::process::Command;

fn make_tree(s: &Scratch, root: &str, reverse: bool) {
    let mut files = vec![
        ("etc/a", "alpha"),
        ("etc/b", "beta"),
        ("usr/lib/x.so", "x"),
        ("z", "zz"),
    ];
    if reverse {
        files.reverse();
    }
    for (name, data) in files {
        s.file(&format!("{root}/{name}"), data.as_bytes(), 0o644);
    }
    fs::hard_link(s.path(&format!("{root}/z")), s.path(&format!("{root}/z2"))).unwrap();
    s.symlink("etc/a", &format!("{root}/link"));
}

fn touch(path: &std::path::Path, date: &str) {
    let ok = Command::new("touch")
        .args(["-h", "-d", date])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn pack(s: &Scratch, root: &str, out: &str, env: &[(&str, Option<&str>)]) -> Vec<u8> {
    let out = s.path(out);
    let result = mkimage_env(
        [
            "pack",
            s.path(root).to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        env,
    );
    assert!(result.status.success(), "{}", stderr(&result));
    fs::read(out).unwrap()
}

#[test]
fn two_builds_are_identical_even_after_touching_the_input() {
    let s = Scratch::new("repro-touch");
    make_tree(&s, "t", false);
    let first = pack(&s, "t", "1.img", &[]);
    for name in ["t/etc/a", "t/etc", "t/z", "t/link", "t"] {
        touch(&s.path(name), "2001-02-03 04:05:06");
    }
    let second = pack(&s, "t", "2.img", &[]);
    assert_eq!(first, second);
}

#[test]
fn trees_made_in_another_order_give_the_same_image() {
    let s = Scratch::new("repro-order");
    make_tree(&s, "a", false);
    make_tree(&s, "b", true);
    assert_eq!(pack(&s, "a", "a.img", &[]), pack(&s, "b", "b.img", &[]));
}

#[test]
fn builds_are_identical_too() {
    let s = Scratch::new("repro-build");
    make_tree(&s, "t", false);
    let init = s.file("init", b"init", 0o755);
    let build = |out: &str| {
        let out = s.path(out);
        mkimage_ok([
            "build",
            "--init",
            init.to_str().unwrap(),
            "--rootfs",
            s.path("t").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        fs::read(out).unwrap()
    };
    let first = build("1.img");
    touch(&init, "2010-01-01");
    assert_eq!(first, build("2.img"));
}

#[test]
fn source_date_epoch_clamps_every_new_mtime() {
    let s = Scratch::new("repro-epoch");
    make_tree(&s, "t", false);
    let zero = pack(&s, "t", "0.img", &[]);
    let epoch = [("SOURCE_DATE_EPOCH", Some("1700000000"))];
    let dated = pack(&s, "t", "e.img", &epoch);
    assert_ne!(zero, dated);
    assert_eq!(dated, pack(&s, "t", "e2.img", &epoch));
    // 1700000000 = 0x6553F100, in the mtime field of every header.
    let entries = mkimage_ok(["list", s.path("e.img").to_str().unwrap()])
        .lines()
        .count();
    let data = uncompressed(&s.path("e.img"));
    let headers: Vec<&[u8]> = data.windows(6).filter(|w| *w == b"070701").collect();
    assert_eq!(headers.len(), entries + 1); // and the trailer
    let dated = data.windows(8).filter(|w| *w == b"6553F100").count();
    assert_eq!(dated, entries);
    let bad = [("SOURCE_DATE_EPOCH", Some("soon"))];
    let result = mkimage_env(
        ["pack", s.path("t").to_str().unwrap(), "-o", "/dev/null/x"],
        &bad,
    );
    assert!(
        stderr(&result).contains("SOURCE_DATE_EPOCH=\"soon\""),
        "{}",
        stderr(&result)
    );
}

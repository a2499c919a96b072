//! `mkimage list`: segments, damaged input, help and version.

mod common;

use common::*;
use std::fs;

fn images(s: &Scratch) -> (Vec<u8>, Vec<u8>) {
    s.file("t1/a", b"first", 0o644);
    s.file("t2/b/c", b"second", 0o600);
    let plain = s.path("plain.img");
    let gz = s.path("gz.img");
    let t1 = s.path("t1");
    let t2 = s.path("t2");
    mkimage_ok([
        "pack",
        t1.to_str().unwrap(),
        "-o",
        plain.to_str().unwrap(),
        "--compress",
        "none",
    ]);
    mkimage_ok(["pack", t2.to_str().unwrap(), "-o", gz.to_str().unwrap()]);
    (fs::read(plain).unwrap(), fs::read(gz).unwrap())
}

fn list(s: &Scratch, name: &str, data: &[u8]) -> std::process::Output {
    let path = s.path(name);
    fs::write(&path, data).unwrap();
    mkimage(["list", path.to_str().unwrap()])
}

#[test]
fn concatenated_segments() {
    let s = Scratch::new("list-concat");
    let (plain, gz) = images(&s);
    let mut all = plain.clone();
    all.extend_from_slice(&gz);
    all.extend_from_slice(&[0; 512]);
    all.extend_from_slice(&plain);
    all.extend_from_slice(&gz);
    let result = list(&s, "all.img", &all);
    assert!(result.status.success(), "{}", stderr(&result));
    let text = String::from_utf8(result.stdout.clone()).unwrap();
    let one = "- 0644 0:0          5 a\nd 0755 0:0          0 b\n- 0600 0:0          6 b/c\n";
    assert_eq!(text, one.repeat(2));
    assert!(
        stderr(&result).contains("6 entries in 4 segment(s)"),
        "{}",
        stderr(&result)
    );
    // GNU cpio reads the first segment the same way.
    assert_eq!(tool(&s.0, "cpio", &["-it", "--quiet"], &plain), "a\n");
}

#[test]
fn garbage_names_file_and_offset() {
    let s = Scratch::new("list-garbage");
    let result = list(&s, "garbage", b"this is not an initramfs image at all");
    assert_eq!(result.status.code(), Some(1));
    let err = stderr(&result);
    assert!(err.contains(s.path("garbage").to_str().unwrap()), "{err}");
    assert!(err.contains("offset 0"), "{err}");
    let (plain, _) = images(&s);
    let mut tail = plain.clone();
    tail.extend_from_slice(b"junk");
    let err = stderr(&list(&s, "tail", &tail));
    assert!(
        err.contains(&format!("unrecognized data at offset {}", plain.len())),
        "{err}"
    );
    let err = stderr(&list(&s, "bzip2", b"BZh91AY&SY"));
    assert!(err.contains("bzip2 is not supported yet"), "{err}");
    let err = stderr(&list(&s, "zstd", &[0x28, 0xb5, 0x2f, 0xfd, 0, 0]));
    assert!(err.contains("zstd segment at offset 0"), "{err}");
    let err = stderr(&list(&s, "empty", b""));
    assert!(err.contains("no cpio archive found"), "{err}");
}

#[test]
fn truncated_images_name_file_and_offset() {
    let s = Scratch::new("list-trunc");
    let (plain, gz) = images(&s);
    let result = list(&s, "plain-cut", &plain[..plain.len() - 20]);
    assert_eq!(result.status.code(), Some(1));
    let err = stderr(&result);
    assert!(
        err.contains("plain-cut") && err.contains("truncated"),
        "{err}"
    );
    assert!(err.contains("at offset"), "{err}");
    let err = stderr(&list(&s, "gz-cut", &gz[..gz.len() / 2]));
    assert!(
        err.contains("gz-cut: gzip segment at offset 0: at uncompressed offset"),
        "{err}"
    );
}

#[test]
fn no_cut_or_flipped_byte_makes_it_panic() {
    let s = Scratch::new("list-fuzz");
    let (plain, gz) = images(&s);
    for data in [&plain, &gz] {
        for cut in (0..data.len()).step_by(3) {
            let result = list(&s, "cut", &data[..cut]);
            assert!(!stderr(&result).contains("panicked"), "cut {cut}");
            assert!(result.status.code().is_some());
        }
        for i in (0..data.len()).step_by(7) {
            let mut bad = data.clone();
            bad[i] ^= 0x5a;
            let result = list(&s, "flip", &bad);
            assert!(!stderr(&result).contains("panicked"), "flip {i}");
            assert!(result.status.code().is_some());
        }
    }
}

#[test]
fn help_and_version() {
    let top = mkimage_ok(["--help"]);
    assert!(top.contains("build") && top.contains("pack") && top.contains("list"));
    for cmd in ["build", "pack", "list"] {
        let text = mkimage_ok([cmd, "--help"]);
        assert!(text.contains(&format!("Usage: mkimage {cmd} ")), "{text}");
        assert_eq!(mkimage_ok(["help", cmd]), text);
    }
    assert!(mkimage_ok(["build", "-h"]).contains("--mknod <PATH:c|b:MAJ:MIN:MODE>"));
    assert_eq!(
        mkimage_ok(["--version"]),
        format!("mkimage {}\n", env!("CARGO_PKG_VERSION"))
    );
}

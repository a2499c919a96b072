//! `--dedup`, and mtimes clamped to `SOURCE_DATE_EPOCH`.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::MetadataExt;

/// Incompressible-ish bytes, so that sizes show what is stored.
fn noise(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// `(ino, nlink, filesize)` of each entry of an uncompressed newc stream.
fn headers(data: &[u8]) -> Vec<(String, u32, u32, u32)> {
    let mut out = Vec::new();
    let mut at = 0;
    let field = |at: usize, i: usize| {
        let s = std::str::from_utf8(&data[at + 6 + 8 * i..at + 14 + 8 * i]).unwrap();
        u32::from_str_radix(s, 16).unwrap()
    };
    loop {
        let (ino, nlink, size, namesize) =
            (field(at, 0), field(at, 4), field(at, 6), field(at, 11));
        let name = String::from_utf8_lossy(&data[at + 110..at + 110 + namesize as usize - 1]);
        if name == "TRAILER!!!" {
            return out;
        }
        out.push((name.into_owned(), ino, nlink, size));
        at += (110 + namesize as usize).div_ceil(4) * 4;
        at += (size as usize).div_ceil(4) * 4;
    }
}

fn pack(s: &Scratch, out: &str, extra: &[&str]) -> Vec<u8> {
    let img = s.path(out);
    let t = s.path("t");
    let mut args = vec!["pack", t.to_str().unwrap(), "-o", img.to_str().unwrap()];
    args.extend_from_slice(extra);
    mkimage_ok(args);
    fs::read(img).unwrap()
}

#[test]
fn identical_files_are_stored_once_as_hard_links() {
    let s = Scratch::new("dedup");
    let data = noise(100_000, 1);
    s.file("t/a/lib.so", &data, 0o644);
    s.file("t/b/lib.so", &data, 0o644);
    s.file("t/c", &data, 0o755); // another mode: kept apart
    s.file("t/d", &noise(100_000, 2), 0o644);
    let plain = pack(&s, "plain.img", &["--compress", "none"]);
    let deduped = pack(&s, "dedup.img", &["--compress", "none", "--dedup"]);
    assert!(
        deduped.len() + 99_000 < plain.len(),
        "{} vs {}",
        deduped.len(),
        plain.len()
    );
    let h = headers(&deduped);
    let get = |n: &str| h.iter().find(|e| e.0 == n).unwrap().clone();
    let (a, b) = (get("a/lib.so"), get("b/lib.so"));
    assert_eq!(a.1, b.1, "same inode");
    assert_eq!((a.2, b.2), (2, 2));
    assert_eq!((a.3, b.3), (0, 100_000), "data once, with the last member");
    assert_ne!(get("c").1, a.1);
    // The same again: deterministic.
    assert_eq!(
        deduped,
        pack(&s, "again.img", &["--compress", "none", "--dedup"])
    );
    // GNU cpio and mkimage extract make hard links with the contents.
    tool(&s.0, "mkdir", &["cpio"], b"");
    tool(&s.path("cpio"), "cpio", &["-idm", "--quiet"], &deduped);
    let x = s.path("x");
    mkimage_ok([
        "extract",
        s.path("dedup.img").to_str().unwrap(),
        x.to_str().unwrap(),
    ]);
    for root in [s.path("cpio"), x] {
        let (a, b) = (root.join("a/lib.so"), root.join("b/lib.so"));
        assert_eq!(fs::read(&a).unwrap(), data);
        assert_eq!(fs::read(&b).unwrap(), data);
        assert_eq!(
            fs::metadata(a).unwrap().ino(),
            fs::metadata(b).unwrap().ino()
        );
    }
}

#[test]
fn source_date_epoch_clamps_mtimes() {
    let s = Scratch::new("epoch-clamp");
    s.file("t/old", b"old", 0o644);
    s.file("t/new", b"new", 0o644);
    let ok = std::process::Command::new("touch")
        .args(["-d", "@1000000000"])
        .arg(s.path("t/old"))
        .status()
        .unwrap();
    assert!(ok.success());
    let img = s.path("e.img");
    let t = s.path("t");
    let env = [("SOURCE_DATE_EPOCH", Some("1700000000"))];
    let out = mkimage_env(
        ["pack", t.to_str().unwrap(), "-o", img.to_str().unwrap()],
        &env,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let x = s.path("x");
    mkimage_ok(["extract", img.to_str().unwrap(), x.to_str().unwrap()]);
    assert_eq!(fs::metadata(x.join("old")).unwrap().mtime(), 1_000_000_000);
    assert_eq!(fs::metadata(x.join("new")).unwrap().mtime(), 1_700_000_000);
    // Without the epoch, every mtime is 0.
    mkimage_ok(["pack", t.to_str().unwrap(), "-o", img.to_str().unwrap()]);
    mkimage_ok([
        "extract",
        img.to_str().unwrap(),
        s.path("y").to_str().unwrap(),
    ]);
    assert_eq!(fs::metadata(s.path("y/old")).unwrap().mtime(), 0);
}

//! Every compression: `list` reads it, the system's tools unpack it, and
//! the default follows the target kernel's config.

mod common;

use common::*;
use std::fs;
use std::path::Path;
use std::process::Command;

const METHODS: [(&str, &str); 4] = [
    ("zstd", "zstd"),
    ("gzip", "gzip"),
    ("xz", "xz"),
    ("lz4", "lz4"),
];

fn tree(s: &Scratch) {
    s.file("t/etc/motd", b"hello\n", 0o644);
    s.file("t/bin/tool", &b"some tool contents ".repeat(500), 0o755);
    s.symlink("tool", "t/bin/alias");
}

fn pack(s: &Scratch, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "pack".to_string(),
        s.path("t").to_str().unwrap().into(),
        "-o".into(),
        s.path(out).to_str().unwrap().into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let result = mkimage(&args);
    assert!(result.status.success(), "{}", stderr(&result));
    result
}

/// Decompresses `image` with the system tool `prog`.
fn system_decompress(prog: &str, image: &Path) -> Vec<u8> {
    let out = Command::new(prog)
        .args(["-d", "-c"])
        .arg(image)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {prog} ({e}): see mkimage/TEST-DEPS.txt"));
    assert!(out.status.success(), "{prog} -d: {}", stderr(&out));
    out.stdout
}

#[test]
fn every_method_lists_and_unpacks_with_the_system_tool() {
    let s = Scratch::new("compress-all");
    tree(&s);
    pack(&s, "plain.img", &["--compress", "none"]);
    let plain = fs::read(s.path("plain.img")).unwrap();
    let listing = mkimage_ok(["list", s.path("plain.img").to_str().unwrap()]);
    for (method, prog) in METHODS {
        let name = format!("{method}.img");
        pack(&s, &name, &["--compress", method]);
        let image = s.path(&name);
        let listed = mkimage(["list", image.to_str().unwrap()]);
        assert!(listed.status.success(), "{method}: {}", stderr(&listed));
        assert_eq!(String::from_utf8_lossy(&listed.stdout), listing, "{method}");
        assert!(stderr(&listed).contains(&format!("1 segment(s): {method}")));
        assert_eq!(system_decompress(prog, &image), plain, "{method}");
        pack(&s, "again.img", &["--compress", method]);
        let again = fs::read(s.path("again.img")).unwrap();
        assert_eq!(
            fs::read(&image).unwrap(),
            again,
            "{method} is not reproducible"
        );
    }
}

#[test]
fn lz4_spans_several_8_mib_blocks() {
    let s = Scratch::new("compress-lz4-big");
    let big: Vec<u8> = (0..9_500_000u32)
        .map(|i| ((i % 251) ^ (i / 4096)) as u8)
        .collect();
    s.file("t/big", &big, 0o644);
    pack(&s, "big.lz4", &["--compress", "lz4"]);
    pack(&s, "big.cpio", &["--compress", "none"]);
    let image = s.path("big.lz4");
    let data = fs::read(&image).unwrap();
    assert_eq!(&data[..4], &[0x02, 0x21, 0x4c, 0x18]);
    let plain = fs::read(s.path("big.cpio")).unwrap();
    assert_eq!(system_decompress("lz4", &image), plain);
    let listed = mkimage_ok(["list", image.to_str().unwrap()]);
    assert!(listed.contains(" 9500000 big\n"), "{listed}");
}

#[test]
fn segments_of_every_kind_concatenate() {
    let s = Scratch::new("compress-concat");
    tree(&s);
    let mut all = Vec::new();
    for (method, _) in METHODS.iter().chain(&[("none", "")]) {
        let name = format!("{method}.img");
        pack(&s, &name, &["--compress", method]);
        all.extend(fs::read(s.path(&name)).unwrap());
        all.extend([0u8; 4]);
    }
    fs::write(s.path("all.img"), &all).unwrap();
    let result = mkimage(["list", s.path("all.img").to_str().unwrap()]);
    assert!(result.status.success(), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(
        err.contains("25 entries in 5 segment(s): zstd, gzip, xz, lz4, uncompressed cpio"),
        "{err}"
    );
}

#[test]
fn the_default_follows_the_kernel_config() {
    let s = Scratch::new("compress-kconfig");
    tree(&s);
    let with = s.file(
        "with",
        b"CONFIG_BLK_DEV_INITRD=y\nCONFIG_RD_GZIP=y\nCONFIG_RD_ZSTD=y\n",
        0o644,
    );
    let without = s.file(
        "without",
        b"CONFIG_BLK_DEV_INITRD=y\nCONFIG_RD_GZIP=y\n# CONFIG_RD_ZSTD is not set\n",
        0o644,
    );
    let result = pack(&s, "z.img", &["--kernel-config", with.to_str().unwrap()]);
    let err = stderr(&result);
    assert!(
        err.contains("compression: zstd (CONFIG_RD_ZSTD=y in"),
        "{err}"
    );
    assert_eq!(
        &fs::read(s.path("z.img")).unwrap()[..4],
        &[0x28, 0xb5, 0x2f, 0xfd]
    );
    let result = pack(&s, "g.img", &["--kernel-config", without.to_str().unwrap()]);
    assert!(stderr(&result).contains("compression: gzip (CONFIG_RD_GZIP=y"));
    assert_eq!(&fs::read(s.path("g.img")).unwrap()[..2], &[0x1f, 0x8b]);
    let result = pack(&s, "n.img", &[]);
    assert!(stderr(&result).contains("compression: gzip (target kernel unknown"));
    let result = pack(
        &s,
        "l.img",
        &[
            "--compress",
            "lz4",
            "--kernel-config",
            without.to_str().unwrap(),
        ],
    );
    assert!(stderr(&result).contains("warning: CONFIG_RD_LZ4 is not set in"));
}

#[test]
fn kernel_config_errors_name_the_file() {
    let s = Scratch::new("compress-kconfig-err");
    tree(&s);
    let t = s.path("t");
    let out = s.path("x.img");
    let args = |extra: &[&str]| {
        let mut a = vec!["pack", t.to_str().unwrap(), "-o", out.to_str().unwrap()];
        a.extend(extra);
        a.iter().map(|x| x.to_string()).collect::<Vec<_>>()
    };
    let result = mkimage(args(&["--kver", "0.0-mkimage-test"]));
    assert_eq!(result.status.code(), Some(1));
    assert!(
        stderr(&result).contains("/boot/config-0.0-mkimage-test"),
        "{}",
        stderr(&result)
    );
    let bad = s.file("bad", b"not a config\n", 0o644);
    let result = mkimage(args(&["--kernel-config", bad.to_str().unwrap()]));
    assert!(
        stderr(&result).contains("does not look like a kernel config"),
        "{}",
        stderr(&result)
    );
    let result = mkimage(args(&[
        "--kernel-config",
        bad.to_str().unwrap(),
        "--level",
        "0",
    ]));
    assert_eq!(result.status.code(), Some(1));
    assert!(!out.exists());
}

#[test]
fn damaged_images_are_errors_not_panics() {
    let s = Scratch::new("compress-fuzz");
    tree(&s);
    for method in ["zstd", "xz", "lz4"] {
        let name = format!("{method}.img");
        pack(&s, &name, &["--compress", method]);
        let data = fs::read(s.path(&name)).unwrap();
        let bad = s.path("bad.img");
        let check = |bytes: &[u8], what: String| {
            fs::write(&bad, bytes).unwrap();
            let result = mkimage(["list", bad.to_str().unwrap()]);
            assert!(!stderr(&result).contains("panicked"), "{method} {what}");
            assert!(result.status.code().is_some(), "{method} {what}");
        };
        for cut in (0..data.len()).step_by(5) {
            check(&data[..cut], format!("cut {cut}"));
        }
        for i in (0..data.len()).step_by(11) {
            let mut flipped = data.clone();
            flipped[i] ^= 0x5a;
            check(&flipped, format!("flip {i}"));
        }
    }
}

/// gzip and zstd compress on every core; the image must not depend on how
/// many there are, nor on which worker got which block. `taskset -c 0`
/// leaves mkimage one core (and so one worker thread); the tree is several
/// of gzip's 1 MiB blocks, machine code among them (mkimage's own), the
/// kind of data on which a reused compressor once gave other bytes.
#[test]
fn images_do_not_depend_on_the_number_of_cores() {
    let s = Scratch::new("cores");
    tree(&s);
    let big: Vec<u8> = (0..2_500_000u32)
        .map(|i| ((i % 251) ^ (i / 4099)) as u8)
        .collect();
    s.file("t/big", &big, 0o644);
    let exe = fs::read(env!("CARGO_BIN_EXE_mkimage")).unwrap();
    s.file("t/bin/code", &exe[..exe.len().min(4 << 20)], 0o755);
    for method in ["gzip", "zstd"] {
        let all = s.path(&format!("all.{method}"));
        let one = s.path(&format!("one.{method}"));
        let args = ["--compress", method];
        assert!(pack(&s, &format!("all.{method}"), &args).status.success());
        let first = fs::read(&all).unwrap();
        assert!(pack(&s, &format!("all.{method}"), &args).status.success());
        assert!(
            fs::read(&all).unwrap() == first,
            "{method}: two runs differ"
        );
        let status = Command::new("taskset")
            .args(["-c", "0", env!("CARGO_BIN_EXE_mkimage"), "pack"])
            .arg(s.path("t"))
            .arg("-o")
            .arg(&one)
            .args(["--compress", method, "--quiet"])
            .env_remove("SOURCE_DATE_EPOCH")
            .status()
            .expect("taskset runs");
        assert!(status.success());
        assert!(
            fs::read(&one).unwrap() == first,
            "{method}: one core differs"
        );
        assert_eq!(system_decompress(method, &one).len() % 4, 0);
    }
}

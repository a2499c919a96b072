//! `mkimage pack`, read back with GNU cpio, bsdtar and `mkimage list`.

mod common;

use common::*;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

/// A tree with every kind of entry. Device nodes only as root.
fn sample_tree(s: &Scratch) -> bool {
    s.dir("tree", 0o755);
    s.file("tree/bin/tool", b"#!/bin/sh\necho tool\n", 0o4755);
    s.file("tree/etc/passwd", b"root:x:0:0::/root:/bin/sh\n", 0o644);
    s.file("tree/lib/a", b"shared data", 0o640);
    fs::hard_link(s.path("tree/lib/a"), s.path("tree/lib/b")).unwrap();
    fs::hard_link(s.path("tree/lib/a"), s.path("tree/c")).unwrap();
    s.symlink("../bin/tool", "tree/lib/link");
    s.symlink("/bin", "tree/sbin");
    s.dir("tree/tmp", 0o1777);
    s.dir("tree/empty", 0o700);
    s.dir("tree/run", 0o755);
    mkfifo(&s.path("tree/run/fifo"));
    let odd = std::ffi::OsStr::from_bytes(b"odd-\xff-name");
    fs::write(s.path("tree").join(odd), b"x").unwrap();
    if !is_root() && rescue_tests::skip("not root: device nodes in the source tree") {
        return false;
    }
    s.dir("tree/dev", 0o755);
    assert!(mknod(&s.path("tree/dev/null"), "c", 1, 3));
    assert!(mknod(&s.path("tree/dev/sda"), "b", 8, 0));
    true
}

fn pack(s: &Scratch, extra: &[&str]) -> std::path::PathBuf {
    let out = s.path("out.img");
    let tree = s.path("tree");
    let mut args = vec!["pack", tree.to_str().unwrap(), "-o"];
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    let result = mkimage(&args);
    assert!(result.status.success(), "{}", stderr(&result));
    out
}

#[test]
fn gnu_cpio_lists_names_types_modes_and_links() {
    let s = Scratch::new("pack-gnu-t");
    let devices = sample_tree(&s);
    let out = pack(&s, &[]);
    let text = tool(&s.0, "cpio", &["-itv", "--quiet"], &uncompressed(&out));
    let expect = [
        "-rwsr-xr-x   1 root     root           20 Jan  1  1970 bin/tool",
        "-rw-r-----   3 root     root            0 Jan  1  1970 c",
        "drwx------   2 root     root            0 Jan  1  1970 empty",
        "-rw-r-----   3 root     root            0 Jan  1  1970 lib/a",
        "-rw-r-----   3 root     root           11 Jan  1  1970 lib/b",
        "lrwxrwxrwx   1 root     root           11 Jan  1  1970 lib/link -> ../bin/tool",
        "prw-r--r--   1 root     root            0 Jan  1  1970 run/fifo",
        "lrwxrwxrwx   1 root     root            4 Jan  1  1970 sbin -> /bin",
        "drwxrwxrwt   2 root     root            0 Jan  1  1970 tmp",
    ];
    for line in expect {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    if devices {
        assert!(text.contains("crw-r--r--   1 root     root       1,   3 Jan  1  1970 dev/null"));
        assert!(text.contains("brw-r--r--   1 root     root       8,   0 Jan  1  1970 dev/sda"));
    }
    // Sorted by name, parents first.
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split(' ').next_back().unwrap())
        .collect();
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("lib") < pos("lib/a") && pos("bin") < pos("bin/tool"));
}

#[test]
fn gnu_cpio_extracts_contents_hardlinks_and_nodes() {
    let s = Scratch::new("pack-gnu-x");
    let devices = sample_tree(&s);
    let out = pack(&s, &[]);
    let x = s.dir("x", 0o755);
    tool(&x, "cpio", &["-idm", "--quiet"], &uncompressed(&out));
    check_extracted(&x, devices);
}

#[test]
fn bsdtar_lists_and_extracts() {
    let s = Scratch::new("pack-bsdtar");
    let devices = sample_tree(&s);
    let out = pack(&s, &[]);
    let out_str = out.to_str().unwrap();
    let text = tool(&s.0, "bsdtar", &["-tvf", out_str], b"");
    assert!(
        text.contains("lib/a link to c") || text.contains("lib/b link to"),
        "{text}"
    );
    assert!(text.contains("lib/link -> ../bin/tool"), "{text}");
    assert!(text.contains("sbin -> /bin"), "{text}");
    if devices {
        assert!(text.contains("1,3 Jan  1  1970 dev/null"), "{text}");
    }
    let x = s.dir("x", 0o755);
    tool(&x, "bsdtar", &["-xpf", out_str], b"");
    check_extracted(&x, devices);
}

fn check_extracted(x: &Path, devices: bool) {
    let read = |p: &str| fs::read(x.join(p)).unwrap();
    assert_eq!(read("bin/tool"), b"#!/bin/sh\necho tool\n");
    assert_eq!(read("etc/passwd"), b"root:x:0:0::/root:/bin/sh\n");
    let meta = |p: &str| fs::symlink_metadata(x.join(p)).unwrap();
    assert_eq!(meta("bin/tool").permissions().mode() & 0o7777, 0o4755);
    assert_eq!(meta("tmp").permissions().mode() & 0o7777, 0o1777);
    // The three hard links are one inode holding the data.
    for name in ["c", "lib/a", "lib/b"] {
        assert_eq!(read(name), b"shared data", "{name}");
        assert_eq!(meta(name).ino(), meta("c").ino(), "{name}");
        assert_eq!(meta(name).nlink(), 3, "{name}");
    }
    let target = fs::read_link(x.join("lib/link")).unwrap();
    assert_eq!(target, Path::new("../bin/tool"));
    assert!(meta("run/fifo").file_type().is_fifo());
    let odd = std::ffi::OsStr::from_bytes(b"odd-\xff-name");
    assert_eq!(fs::read(x.join(odd)).unwrap(), b"x");
    if devices {
        let null = meta("dev/null");
        assert!(null.file_type().is_char_device());
        assert_eq!(
            (
                rustix::fs::major(null.rdev()),
                rustix::fs::minor(null.rdev())
            ),
            (1, 3)
        );
        let sda = meta("dev/sda");
        assert!(sda.file_type().is_block_device());
        assert_eq!(
            (rustix::fs::major(sda.rdev()), rustix::fs::minor(sda.rdev())),
            (8, 0)
        );
    }
}

#[test]
fn list_shows_every_entry() {
    let s = Scratch::new("pack-list");
    sample_tree(&s);
    let out = pack(&s, &["--compress", "none"]);
    let text = mkimage_ok(["list", out.to_str().unwrap()]);
    for line in [
        "- 4755 0:0         20 bin/tool",
        "- 0640 0:0          0 c (hardlink)",
        "- 0640 0:0         11 lib/b (hardlink)",
        "l 0777 0:0         11 lib/link -> ../bin/tool",
        "p 0644 0:0          0 run/fifo",
        "d 1777 0:0          0 tmp",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[test]
fn owners_are_root_unless_kept() {
    if !is_root() && rescue_tests::skip("not root: the chown test") {
        return;
    }
    let s = Scratch::new("pack-owners");
    let f = s.file("tree/f", b"x", 0o644);
    std::os::unix::fs::chown(&f, Some(1234), Some(5678)).unwrap();
    let out = pack(&s, &[]);
    let text = mkimage_ok(["list", out.to_str().unwrap()]);
    assert!(text.contains("- 0644 0:0 "), "{text}");
    let out = pack(&s, &["--keep-owners"]);
    let text = mkimage_ok(["list", out.to_str().unwrap()]);
    assert!(text.contains("- 0644 1234:5678 "), "{text}");
}

#[test]
fn output_is_0600_atomic_and_summarized() {
    let s = Scratch::new("pack-output");
    s.file("tree/f", b"hello", 0o644);
    let out = s.path("out.img");
    fs::write(&out, b"old image").unwrap();
    let result = mkimage([
        "pack",
        s.path("tree").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(result.status.success());
    let err = stderr(&result);
    let summary = regex_like_summary(&err);
    assert!(summary, "no summary line in {err:?}");
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    assert_eq!(s.names_in(""), ["out.img", "tree"]);
    assert_ne!(fs::read(&out).unwrap(), b"old image");
}

fn regex_like_summary(err: &str) -> bool {
    err.lines().any(|l| {
        l.contains(": 1 entry, ")
            && l.contains("bytes in")
            && l.contains("bytes out (")
            && l.contains("%)")
            && l.ends_with(" MB/s")
    })
}

#[test]
fn output_inside_the_tree_is_not_packed() {
    let s = Scratch::new("pack-inside");
    s.file("tree/f", b"hello", 0o644);
    let out = s.path("tree/img");
    let out_str = out.to_str().unwrap();
    let tree = s.path("tree");
    mkimage_ok(["pack", tree.to_str().unwrap(), "-o", out_str]);
    mkimage_ok(["pack", tree.to_str().unwrap(), "-o", out_str]);
    let text = mkimage_ok(["list", out_str]);
    assert_eq!(text, "- 0644 0:0          5 f\n");
}

#[test]
fn exclude_leaves_out_names_and_paths() {
    let s = Scratch::new("pack-exclude");
    s.file("tree/etc/profile", b"x", 0o644);
    s.file("tree/etc/profile~", b"x", 0o644);
    s.file("tree/.bashrc~", b"x", 0o644);
    s.file("tree/usr/share/doc/bash/README", b"x", 0o644);
    s.file("tree/usr/share/docs-kept", b"x", 0o644);
    let (tree, img) = (s.path("tree"), s.path("img"));
    let (tree, img) = (tree.to_str().unwrap(), img.to_str().unwrap());
    let excluded = ["--exclude", "*~", "--exclude", "/usr/share/doc"];
    let out = mkimage(["pack", tree, "-o", img].iter().chain(&excluded));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--exclude: 3 entries left out"),
        "{}",
        stderr(&out)
    );
    let list = mkimage_ok(["list", img]);
    assert!(
        list.contains(" etc/profile\n") && list.contains(" usr/share/docs-kept\n"),
        "{list}"
    );
    assert!(
        !list.contains('~') && !list.contains("share/doc/"),
        "{list}"
    );
    assert!(!list.contains(" usr/share/doc\n"), "{list}");
    // The same from build's manifest.
    s.file("init", b"init", 0o755);
    let manifest =
        "init = 'init'\noutput = 'img2'\nrootfs = ['tree']\nexclude = ['*~', 'usr/share/doc/*']\n";
    s.file("m.toml", manifest.as_bytes(), 0o644);
    let out = mkimage(["build", "--config", s.path("m.toml").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = mkimage_ok(["list", s.path("img2").to_str().unwrap()]);
    assert!(
        list.contains(" etc/profile\n") && list.contains(" usr/share/doc\n"),
        "{list}"
    );
    assert!(
        !list.contains('~') && !list.contains("bash/README"),
        "{list}"
    );
}

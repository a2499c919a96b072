//! `mkimage build --config FILE` end to end, and the summary's size
//! warnings, largest directories and (absent) progress bar.

mod common;

use common::*;

/// A scratch tree for a manifest: an init, a rootfs and a big file.
fn setup(tag: &str) -> Scratch {
    let s = Scratch::new(tag);
    s.file("init-bin", b"\x7fELF fake init", 0o755);
    s.file("tree/etc/motd", b"hello", 0o644);
    s.file("tree/usr/share/big/blob", &vec![7u8; 300_000], 0o644);
    s.file("extra.conf", b"x=1\n", 0o644);
    s
}

#[test]
fn an_image_from_a_manifest_with_relative_paths() {
    let s = setup("manifest-build");
    s.file(
        "m/rescue.toml",
        b"# paths relative to this file\n\
          init = \"../init-bin\"\n\
          output = \"../out.img\"\n\
          rootfs = [\"../tree\"]\n\
          file = [\"../extra.conf:/etc/extra.conf\"]\n\
          mknod = [\"/dev/null:c:1:3:0666\"]\n\
          compress = \"none\"\n\
          quiet = true\n",
        0o644,
    );
    // Run from elsewhere: the paths still resolve against the manifest.
    let manifest = s.path("m/rescue.toml");
    let out = mkimage(["build", "--config", manifest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "quiet = true");
    let list = mkimage_ok(["list", s.path("out.img").to_str().unwrap()]);
    for want in [
        " init\n",
        " etc/motd\n",
        " etc/extra.conf\n",
        " usr/share/big/blob\n",
        "1,3 dev/null\n",
    ] {
        assert!(list.contains(want), "{want:?} not in\n{list}");
    }
    // The command line adds to the manifest and replaces its values.
    let other = s.path("other.img");
    let out = mkimage([
        "build",
        "--config",
        manifest.to_str().unwrap(),
        "-o",
        other.to_str().unwrap(),
        "--mknod",
        "/dev/zero:c:1:5:0666",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = mkimage_ok(["list", other.to_str().unwrap()]);
    assert!(
        list.contains(" dev/null\n") && list.contains(" dev/zero\n"),
        "{list}"
    );
}

#[test]
fn a_bad_manifest_writes_nothing_and_names_the_line() {
    let s = setup("manifest-bad");
    s.file(
        "m.toml",
        b"init = \"init-bin\"\noutput = \"o.img\"\ncompres = \"zstd\"\n",
        0o644,
    );
    let out = mkimage(["build", "--config", s.path("m.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("m.toml:3:1: unknown key \"compres\" (did you mean \"compress\"?)"),
        "{err}"
    );
    assert!(!s.path("o.img").exists());
}

#[test]
fn warnings_and_largest_directories_in_text_and_json() {
    let s = setup("summary-limits");
    let (tree, img) = (s.path("tree"), s.path("img"));
    let base = ["pack", tree.to_str().unwrap(), "-o", img.to_str().unwrap()];
    let args = ["--warn-file-size", "100K", "--warn-image-size", "100"];
    let out = mkimage(base.iter().chain(&args));
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("warning: /usr/share/big/blob is 293.0 KiB, above the file size warning limit of 100.0 KiB"),
        "{err}"
    );
    assert!(
        err.contains("above 100 B (100 bytes): the limit set by --warn-image-size"),
        "{err}"
    );
    assert!(err.contains("largest: /usr/share/big 293.0 KiB ("), "{err}");
    assert!(
        !err.contains('\r') && !err.contains('\x1b'),
        "progress bar in a pipe: {err:?}"
    );
    // Defaults: a small image gets no warning.
    let out = mkimage(base.iter().chain(&["--top", "1"]));
    let err = stderr(&out);
    assert!(!err.contains("warning"), "{err}");
    let largest = err
        .lines()
        .find(|l| l.contains("largest:"))
        .unwrap_or_default();
    assert_eq!(largest.matches('%').count(), 1, "{err}");
    let out = mkimage(
        base.iter()
            .chain(&["--json", "--warn-file-size", "1K", "--top", "2"]),
    );
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(json.contains("\"largest\":[{\"dir\":\"/usr/share/big\",\"bytes\":300000},{\"dir\":\"/etc\",\"bytes\":5}]"), "{json}");
    assert!(
        json.contains("\"warnings\":[\"/usr/share/big/blob is 293.0 KiB"),
        "{json}"
    );
    let out = mkimage(
        base.iter()
            .chain(&["--top", "0", "--warn-file-size", "none"]),
    );
    assert!(!stderr(&out).contains("largest") && !stderr(&out).contains("warning"));
    let out = mkimage(base.iter().chain(&["--warn-file-size", "10X"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("for '--warn-file-size <SIZE|none>': \"10X\" is not a size"),
        "{err}"
    );
}

//! `mkimage build`: /init, applet links, overlays, --file, --mknod and
//! the default directories.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

struct Setup {
    s: Scratch,
    init: PathBuf,
    out: PathBuf,
}

fn setup(tag: &str) -> Setup {
    let s = Scratch::new(tag);
    let init = s.file("init-bin", b"\x7fELF fake init", 0o644);
    s.file("r1/etc/a", b"one", 0o644);
    s.file("r1/etc/only1", b"1", 0o600);
    s.file("r1/usr/bin/sh", b"shell", 0o755);
    s.file("r2/etc/a", b"two", 0o644);
    s.dir("r2/tmp", 0o755);
    s.file("extra", b"extra file", 0o640);
    let out = s.path("out/image.cpio.gz");
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    Setup { s, init, out }
}

impl Setup {
    fn build(&self, extra: &[&str]) -> String {
        let mut args: Vec<String> = vec![
            "build".into(),
            "--init".into(),
            self.init.to_str().unwrap().into(),
            "-o".into(),
            self.out.to_str().unwrap().into(),
        ];
        args.extend(
            extra
                .iter()
                .map(|a| a.replace("$S", self.s.0.to_str().unwrap())),
        );
        let out = mkimage(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        mkimage_ok(["list", self.out.to_str().unwrap()])
    }
}

#[test]
fn minimal_image_has_init_applets_and_defaults() {
    let t = setup("build-min");
    let text = t.build(&[]);
    let expected = "\
d 0755 0:0          0 bin
l 0777 0:0          5 bin/rescue-init -> /init
d 0755 0:0          0 dev
c 0600 0:0        5,1 dev/console
- 0755 0:0         14 init
d 0755 0:0          0 proc
d 0700 0:0          0 root
d 0755 0:0          0 run
d 0755 0:0          0 sbin
l 0777 0:0          5 sbin/halt -> /init
l 0777 0:0          5 sbin/modprobe -> /init
l 0777 0:0          5 sbin/poweroff -> /init
l 0777 0:0          5 sbin/reboot -> /init
d 0755 0:0          0 sys
d 1777 0:0          0 tmp
";
    assert_eq!(text, expected);
}

#[test]
fn overlays_files_and_nodes() {
    let t = setup("build-full");
    let text = t.build(&[
        "--rootfs",
        "$S/r1",
        "--rootfs",
        "$S/r2",
        "--file",
        "$S/extra:/usr/share/doc/extra",
        "--mknod",
        "/dev/ttyS0:c:4:64:0620",
        "--mknod",
        "dev/vda:b:253:0:660",
        "--compress",
        "gzip",
        "--level",
        "9",
    ]);
    for line in [
        "- 0644 0:0          3 etc/a",
        "- 0600 0:0          1 etc/only1",
        "d 0755 0:0          0 tmp", // r2's /tmp wins over the default
        "c 0620 0:0       4,64 dev/ttyS0",
        "b 0660 0:0      253,0 dev/vda",
        "d 0755 0:0          0 usr/share/doc",
        "- 0640 0:0         10 usr/share/doc/extra",
        "c 0600 0:0        5,1 dev/console",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let x = t.s.dir("x", 0o755);
    tool(&x, "cpio", &["-idm", "--quiet"], &uncompressed(&t.out));
    check_extracted(&x);
}

fn check_extracted(x: &Path) {
    assert_eq!(fs::read(x.join("etc/a")).unwrap(), b"two");
    assert_eq!(fs::read(x.join("init")).unwrap(), b"\x7fELF fake init");
    let mode = |p: &str| {
        fs::symlink_metadata(x.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("init"), 0o755);
    assert_eq!(mode("root"), 0o700);
    for applet in ["sbin/reboot", "sbin/poweroff", "sbin/halt"] {
        assert_eq!(fs::read_link(x.join(applet)).unwrap(), Path::new("/init"));
    }
    assert_eq!(
        fs::read(x.join("usr/share/doc/extra")).unwrap(),
        b"extra file"
    );
    if is_root() {
        let console = fs::symlink_metadata(x.join("dev/console")).unwrap();
        assert!(console.file_type().is_char_device());
        assert_eq!(
            (
                rustix::fs::major(console.rdev()),
                rustix::fs::minor(console.rdev())
            ),
            (5, 1)
        );
    }
}

#[test]
fn rootfs_entries_replace_earlier_ones_of_another_type() {
    let t = setup("build-replace");
    t.s.file("r3/etc", b"etc is a file now", 0o644);
    let text = t.build(&["--rootfs", "$S/r1", "--rootfs", "$S/r3"]);
    assert!(text.contains("- 0644 0:0         17 etc\n"), "{text}");
    assert!(!text.contains("etc/"), "{text}");
}

#[test]
fn file_can_replace_a_tree_file() {
    let t = setup("build-file-wins");
    let text = t.build(&["--rootfs", "$S/r1", "--file", "$S/extra:etc/a"]);
    assert!(text.contains("- 0640 0:0         10 etc/a\n"), "{text}");
}

#[test]
fn gnu_cpio_sees_what_list_sees() {
    let t = setup("build-gnu");
    t.build(&["--rootfs", "$S/r1", "--compress", "none"]);
    let gnu = tool(
        &t.s.0,
        "cpio",
        &["-it", "--quiet"],
        &fs::read(&t.out).unwrap(),
    );
    let listed = mkimage_ok(["list", t.out.to_str().unwrap()]);
    let names: Vec<&str> = listed
        .lines()
        .map(|l| l.split(' ').filter(|w| !w.is_empty()).nth(4).unwrap())
        .collect();
    assert_eq!(gnu.lines().collect::<Vec<_>>(), names);
    let bsd = tool(&t.s.0, "bsdtar", &["-tf", t.out.to_str().unwrap()], b"");
    assert_eq!(bsd.lines().collect::<Vec<_>>(), names);
}

/// `--record-cmdline` stores this host's /proc/cmdline where the kexec
/// handoff looks for a last-resort command line.
#[test]
fn record_cmdline_stores_the_host_command_line() {
    let s = Scratch::new("record-cmdline");
    let init = s.file("init-bin", b"#!/bin/sh\n", 0o755);
    let out = s.path("img");
    let (init_s, out_s) = (init.to_str().unwrap(), out.to_str().unwrap());
    mkimage_ok([
        "build",
        "--compress",
        "none",
        "--record-cmdline",
        "--init",
        init_s,
        "-o",
        out_s,
    ]);
    let x = s.dir("x", 0o755);
    let img = fs::File::open(&out).unwrap();
    let ok = std::process::Command::new("cpio")
        .args(["-idm", "--quiet"])
        .current_dir(&x)
        .stdin(img)
        .status()
        .unwrap();
    assert!(ok.success());
    let stored = fs::read_to_string(x.join("etc/rescue-init/host-cmdline")).unwrap();
    let host = fs::read_to_string("/proc/cmdline").unwrap();
    assert_eq!(stored.trim(), host.trim());
    assert!(stored.ends_with('\n'));
}

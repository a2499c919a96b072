//! `build --module`: modules with what they need, decompressed, with
//! kmod's indexes and firmware, from a fake modules directory.

mod common;

use common::*;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// A kernel module: an ELF64 relocatable file with a `.modinfo` section.
fn module(modinfo: &[&str]) -> Vec<u8> {
    let info: Vec<u8> = modinfo
        .iter()
        .flat_map(|s| [s.as_bytes(), b"\0"].concat())
        .collect();
    let names = b"\0.modinfo\0.shstrtab\0";
    let shoff = (64 + info.len() + names.len()).next_multiple_of(8);
    let mut f = b"\x7fELF\x02\x01\x01".to_vec();
    f.resize(16, 0);
    let n = |f: &mut Vec<u8>, v: u64, size: usize| f.extend_from_slice(&v.to_le_bytes()[..size]);
    for (v, size) in [
        (1, 2),
        (62, 2),
        (1, 4),
        (0, 8),
        (0, 8),
        (shoff as u64, 8),
        (0, 4),
    ] {
        n(&mut f, v, size);
    }
    for (v, size) in [(64, 2), (0, 2), (0, 2), (64, 2), (3, 2), (2, 2)] {
        n(&mut f, v, size);
    }
    f.extend_from_slice(&info);
    f.extend_from_slice(names);
    f.resize(shoff, 0);
    let sections = [
        (0, 0, 0, 0),
        (1, 1, 64, info.len()),
        (10, 3, 64 + info.len(), names.len()),
    ];
    for (name, kind, off, size) in sections {
        for (v, size) in [
            (name, 4),
            (kind, 4),
            (0, 8),
            (0, 8),
            (off, 8),
            (size, 8),
            (0, 8),
            (1, 8),
            (0, 8),
        ] {
            n(&mut f, v as u64, size);
        }
    }
    f
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const EXT4: [&str; 4] = [
    "alias=fs-ext4",
    "softdep=pre: crypto-crc32c",
    "depends=jbd2,crc16",
    "name=ext4",
];
const JBD2: [&str; 2] = ["depends=", "firmware=fake/jbd2.fw"];

/// A modules directory for kernel 6.1-fake, and a firmware directory.
fn fake(s: &Scratch) -> (PathBuf, PathBuf) {
    let m = "lib/modules/6.1-fake";
    s.file(
        &format!("{m}/kernel/fs/ext4/ext4.ko"),
        &module(&EXT4),
        0o644,
    );
    s.file(
        &format!("{m}/kernel/fs/jbd2/jbd2.ko.xz"),
        &xz(&module(&JBD2)),
        0o644,
    );
    let crc16 = zstd::encode_all(&module(&["depends="])[..], 3).unwrap();
    s.file(&format!("{m}/kernel/lib/crc16.ko.zst"), &crc16, 0o644);
    let crc32c = module(&["alias=crypto-crc32c", "depends="]);
    s.file(
        &format!("{m}/kernel/crypto/crc32c_generic.ko"),
        &crc32c,
        0o644,
    );
    s.file(
        &format!("{m}/kernel/fs/xfs/xfs.ko"),
        &module(&["depends=libcrc32c"]),
        0o644,
    );
    s.file(
        &format!("{m}/modules.builtin"),
        b"kernel/net/unix/unix.ko\n",
        0o644,
    );
    s.file("fw/fake/jbd2.fw.xz", b"firmware", 0o644);
    (s.path(m), s.path("fw"))
}

fn build(s: &Scratch, extra: &[&str]) -> std::process::Output {
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
    args.extend(extra);
    mkimage(&args)
}

/// Extracts `lib/` of the image into `dir`.
fn unpack_lib(s: &Scratch, dir: &str) -> PathBuf {
    let to = s.dir(dir, 0o755);
    tool(
        &to,
        "cpio",
        &["-id", "--quiet", "lib/*"],
        &fs::read(s.path("image.cpio")).unwrap(),
    );
    to
}

#[test]
fn modules_are_decompressed_and_indexed() {
    let s = Scratch::new("mod-fake");
    let (dir, fw) = fake(&s);
    let out = build(
        &s,
        &[
            "--modules-dir",
            dir.to_str().unwrap(),
            "--module",
            "fs-ext4",
            "--firmware-dir",
            fw.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let u = unpack_lib(&s, "u");
    let m = u.join("lib/modules/6.1-fake");
    assert_eq!(
        fs::read(m.join("kernel/fs/jbd2/jbd2.ko")).unwrap(),
        module(&JBD2)
    );
    assert_eq!(
        fs::read(m.join("kernel/lib/crc16.ko")).unwrap(),
        module(&["depends="])
    );
    assert!(!m.join("kernel/fs/xfs/xfs.ko").exists());
    assert_eq!(
        fs::read(u.join("lib/firmware/fake/jbd2.fw.xz")).unwrap(),
        b"firmware"
    );
    let dep = fs::read_to_string(m.join("modules.dep")).unwrap();
    assert!(
        dep.contains("kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/jbd2/jbd2.ko\n"),
        "{dep}"
    );
    let softdep = fs::read_to_string(m.join("modules.softdep")).unwrap();
    assert!(
        softdep.ends_with("\nsoftdep ext4 pre: crypto-crc32c\n"),
        "{softdep}"
    );
    let Some(modprobe) = kmod_tool("modprobe") else {
        rescue_tests::skip(
            "kmod's modprobe is not installed: checking the image with it (apt-get install kmod)",
        );
        return;
    };
    let shown = Command::new(modprobe)
        .args([
            "-S",
            "6.1-fake",
            "-d",
            u.to_str().unwrap(),
            "--show-depends",
            "fs-ext4",
        ])
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", stderr(&shown));
    let text = String::from_utf8_lossy(&shown.stdout);
    let loaded: Vec<&str> = text
        .lines()
        .map(|l| l.rsplit('/').next().unwrap().trim())
        .collect();
    // Dependencies (the end of the modules.dep line first), then the
    // module's soft dependencies, then the module.
    assert_eq!(
        loaded,
        ["jbd2.ko", "crc16.ko", "crc32c_generic.ko", "ext4.ko"],
        "{text}"
    );
}

#[test]
fn errors_and_warnings() {
    let s = Scratch::new("mod-errors");
    let (dir, _) = fake(&s);
    let dir = dir.to_str().unwrap();
    let no_fw = s.path("no-firmware");
    let out = build(&s, &["--modules-dir", dir, "--module", "nope"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--module nope: no module or alias of that name in"),
        "{}",
        stderr(&out)
    );
    let out = build(&s, &["--modules-dir", dir, "--module", "xfs"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("xfs.ko) depends on libcrc32c, which is neither in"),
        "{err}"
    );
    let out = build(
        &s,
        &[
            "--modules-dir",
            dir,
            "--module",
            "jbd2",
            "--module",
            "unix",
            "--firmware-dir",
            no_fw.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: firmware fake/jbd2.fw (for jbd2) is not in"),
        "{err}"
    );
    assert!(
        err.contains("modules: unix is built into the kernel"),
        "{err}"
    );
}

#[test]
fn a_tree_can_bring_its_own_modprobe() {
    let s = Scratch::new("mod-modprobe");
    s.file("root/sbin/modprobe", b"#!/bin/sh\n", 0o755);
    let out = build(&s, &["--rootfs", s.path("root").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing = mkimage_ok(["list", s.path("image.cpio").to_str().unwrap()]);
    assert!(
        listing.contains("- 0755 0:0         10 sbin/modprobe\n"),
        "{listing}"
    );
    assert!(!listing.contains("lib/modules"), "{listing}");
}

#[test]
fn whole_firmware_directory() {
    let s = Scratch::new("mod-fw-all");
    let (_, fw) = fake(&s);
    s.symlink("jbd2.fw.xz", "fw/fake/link.fw.xz");
    let out = build(
        &s,
        &["--firmware", "all", "--firmware-dir", fw.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let listing = mkimage_ok(["list", s.path("image.cpio").to_str().unwrap()]);
    assert!(
        listing.contains(" lib/firmware/fake/jbd2.fw.xz\n"),
        "{listing}"
    );
    assert!(
        listing.contains(" lib/firmware/fake/link.fw.xz -> jbd2.fw.xz\n"),
        "{listing}"
    );
}

#[test]
fn all_modules_leave_out_those_with_a_missing_dependency() {
    let s = Scratch::new("mod-all");
    let (dir, _) = fake(&s);
    let out = build(
        &s,
        &["--modules-dir", dir.to_str().unwrap(), "--modules", "all"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("left out")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("--modules all: left out 1 module(s)")
            && warnings[0].contains("xfs (needs libcrc32c)"),
        "{err}"
    );
    let list = mkimage_ok(["list", s.path("image.cpio").to_str().unwrap()]);
    assert!(list.contains("/kernel/fs/ext4/ext4.ko\n"), "{list}");
    assert!(!list.contains("xfs.ko"), "{list}");
}

/// A rescue tree with merged /usr, as Debian, Fedora, Arch and ReaR's
/// have it: /bin, /sbin, /lib and /lib64 are symlinks into /usr.
#[test]
fn a_merged_usr_tree_gets_everything_under_usr() {
    let s = Scratch::new("mod-merged-usr");
    let (dir, _) = fake(&s);
    for (link, target) in [
        ("bin", "usr/bin"),
        ("sbin", "usr/sbin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        s.symlink(target, &format!("tree/{link}"));
        s.dir(&format!("tree/{target}"), 0o755);
    }
    s.file("tree/usr/bin/sh", b"#!/bin/busybox\n", 0o755);
    let bash = ["/usr/bin/bash", "/bin/bash"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let tree = s.path("tree");
    let mut args = vec![
        "--rootfs",
        tree.to_str().unwrap(),
        "--modules-dir",
        dir.to_str().unwrap(),
    ];
    args.extend(["--module", "ext4", "--file", "/etc/hostname:/sbin/"]);
    if let Some(bash) = bash {
        args.extend(["--bin", bash]);
    }
    let out = build(&s, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = mkimage_ok(["list", s.path("image.cpio").to_str().unwrap()]);
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .collect();
    for link in [
        "bin -> usr/bin",
        "sbin -> usr/sbin",
        "lib -> usr/lib",
        "lib64 -> usr/lib64",
    ] {
        assert!(
            list.contains(&format!(" {link}\n")),
            "{link} not kept:\n{list}"
        );
    }
    for want in [
        "usr/sbin/halt",
        "usr/sbin/reboot",
        "usr/sbin/poweroff",
        "usr/sbin/modprobe",
        "usr/sbin/hostname",
        "usr/bin/rescue-init",
        "usr/bin/sh",
        "usr/lib/modules/6.1-fake/kernel/fs/ext4/ext4.ko",
        "usr/lib/modules/6.1-fake/modules.dep",
    ] {
        assert!(names.contains(&want), "{want} not in\n{list}");
    }
    // Nothing beside the links: every other entry is below usr/ (or one
    // of the image's own top-level directories and files).
    let top = ["dev", "proc", "root", "run", "sys", "tmp", "init", "usr"];
    for name in &names {
        let first = name.split('/').next().unwrap_or_default();
        let is_link = ["bin", "sbin", "lib", "lib64"].contains(name);
        assert!(
            is_link || top.contains(&first) || name.starts_with("dev/"),
            "{name} beside the links:\n{list}"
        );
    }
    if bash.is_some() {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("usr/lib") && n.contains("libc.so")),
            "{list}"
        );
    }
}

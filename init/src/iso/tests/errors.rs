use super::{blob, open, open_bytes, rear_tree, Temp};
use crate::applets::kexec::iso::{main, parse};
use crate::iso::menu::{choose, discover};
use crate::iso::{load, Error};

fn open_err(name: &str, bytes: Vec<u8>) -> String {
    open_bytes(name, bytes)
        .err()
        .expect("opened a broken image")
        .to_string()
}

fn rear_iso(t: &Temp) -> Option<Vec<u8>> {
    rear_tree(t);
    t.iso("rear", &["-R", "-J"])
        .map(|p| std::fs::read(p).unwrap())
}

#[test]
fn garbage_and_tiny_files_are_not_isos() {
    let garbage: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let err = open_err("garbage.iso", garbage);
    assert_eq!(err, "garbage.iso: not an ISO 9660 image: no \"CD001\" volume descriptor at sector 16 (offset 32769)");
    let err = open_err("tiny.iso", vec![0; 100]);
    assert_eq!(err, "tiny.iso: not an ISO 9660 image: 100 bytes is too small to hold a volume descriptor (offset 32768)");
    let t = Temp::new();
    t.file("x", "not an iso");
    let err = crate::iso::open(&t.tree().join("nope"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.ends_with("/tree/nope: cannot open: No such file or directory (os error 2)"),
        "{err}"
    );
}

#[test]
fn truncated_images_name_the_offset() {
    let t = Temp::new();
    let Some(iso) = rear_iso(&t) else { return };
    // The descriptors survive, the directories do not.
    let err = open_err("cut.iso", iso[..18 * 2048].to_vec());
    assert!(err.starts_with("cut.iso: truncated: "), "{err}");
    assert!(
        err.contains("at offset") && err.contains("but the image ends at 36864"),
        "{err}"
    );
    // Everything up to the middle of the kernel's data.
    let kernel = open_bytes("rear.iso", iso.clone())
        .unwrap()
        .lookup("/isolinux/kernel")
        .unwrap();
    let cut = open_bytes("short.iso", iso[..kernel.offset as usize + 1000].to_vec()).unwrap();
    assert_eq!(discover(&cut).unwrap().entries.len(), 15);
    let err = cut
        .copy("/isolinux/kernel", &mut std::io::sink())
        .unwrap_err()
        .to_string();
    let want = format!("short.iso: truncated: file /isolinux/kernel at offset {} needs 70000 bytes, but the image ends at {}", kernel.offset, kernel.offset + 1000);
    assert_eq!(err, want);
}

#[test]
fn corrupt_records_name_the_offset() {
    let t = Temp::new();
    let Some(mut iso) = rear_iso(&t) else { return };
    iso[16 * 2048 + 156] = 5;
    let err = open_err("bad-root.iso", iso.clone());
    assert_eq!(err, "bad-root.iso: corrupt root directory record at offset 32924: record length 5 (minimum 33, 34 bytes left)");
    iso[16 * 2048 + 156] = 34;
    iso[16 * 2048 + 129] = 0x10;
    let err = open_err("bad-block.iso", iso);
    assert!(
        err.starts_with(
            "bad-block.iso: corrupt primary volume descriptor at offset 32896: logical block size"
        ),
        "{err}"
    );
}

#[test]
fn configs_pointing_at_missing_files() {
    let t = Temp::new();
    t.file("isolinux/isolinux.cfg", "default rear\nlabel rear\n  kernel nokernel\n  append initrd=initrd.cgz,missing.img quiet\n")
        .file("isolinux/initrd.cgz", blob("I", 10));
    let Some(path) = t.iso("missing", &["-R"]) else {
        return;
    };
    let iso = open(&path);
    let m = discover(&iso).unwrap();
    let e = &m.entries[choose(&m, iso.name(), None).unwrap().index];
    let err = load::load(&iso, e, &e.cmdline("")).unwrap_err();
    assert!(matches!(err, Error::Missing { what: "kernel", .. }));
    let want = format!("entry rear (/isolinux/isolinux.cfg:2): kernel: {}: /isolinux/nokernel: not found in the ISO", iso.name());
    assert_eq!(err.to_string(), want);
    let err = load::copy_all(
        &iso,
        e,
        "initrd",
        &["/isolinux/initrd.cgz", "/isolinux/missing.img"],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.ends_with("/isolinux/missing.img: not found in the ISO"),
        "{err}"
    );
}

#[test]
fn isos_without_entries() {
    let t = Temp::new();
    t.file("README", "no boot loader here");
    let Some(path) = t.iso("none", &["-R"]) else {
        return;
    };
    let err = discover(&open(&path)).unwrap_err().to_string();
    assert!(err.contains("none.iso: no boot entries: no boot loader config (looked for /boot/isolinux/isolinux.cfg,"), "{err}");
    t.file("syslinux/syslinux.cfg", "# nothing\nprompt 1\n")
        .file("isolinux", "a file, not a directory");
    let Some(path) = t.iso("empty", &["-R"]) else {
        return;
    };
    let err = discover(&open(&path)).unwrap_err().to_string();
    assert!(
        err.contains("empty.iso: no boot entries: no entries in /syslinux/syslinux.cfg"),
        "{err}"
    );
}

#[test]
fn the_command_fails_cleanly_on_bad_input() {
    let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let never = || -> Result<(), String> { panic!("executed") };
    let t = Temp::new();
    t.file("garbage", blob("garbage", 100_000));
    let garbage = t.tree().join("garbage").display().to_string();
    assert_eq!(main(&args(&["--iso", &garbage, "-e"]), &never), 1);
    assert_eq!(main(&args(&["--iso", &garbage, "--list"]), &never), 1);
    assert!(parse(&args(&["--list"]))
        .unwrap_err()
        .contains("--iso needs a value"));
    assert!(parse(&args(&["--iso", "x", "-e", "--load-only"]))
        .unwrap_err()
        .contains("exclude each other"));
    assert!(parse(&args(&["--iso", "x", "-l", "k"]))
        .unwrap_err()
        .contains("unknown option \"-l\""));
    let o = parse(&args(&[
        "--iso=/dev/sr0",
        "--entry",
        "rear",
        "--append-extra=a b",
        "-e",
    ]))
    .unwrap();
    assert_eq!(
        (o.iso.to_str(), o.entry.as_deref(), o.extra.as_str(), o.exec),
        (Some("/dev/sr0"), Some("rear"), "a b", true)
    );
    assert!(
        crate::applets::kexec::iso::wants(&args(&["-e", "--iso=x"]))
            && !crate::applets::kexec::iso::wants(&args(&["-l", "x"]))
    );
}

/// `--list` says "would boot" only for an entry whose files a load
/// would find: not through a link loop, not beyond the image's end.
#[test]
fn list_checks_the_files_it_would_boot() {
    use crate::applets::kexec::iso::files_readable;
    let t = Temp::new();
    t.file(
        "isolinux/isolinux.cfg",
        "default a\nlabel a\n  kernel /loop/a\nlabel b\n  kernel /isolinux/kernel\n",
    )
    .file("isolinux/kernel", blob("K", 70_000))
    .link("loop/a", "b")
    .link("loop/b", "a");
    let Some(path) = t.iso("odd", &["-R"]) else {
        return;
    };
    let iso = open(&path);
    let m = discover(&iso).unwrap();
    let err = files_readable(&iso, &m.entries[0]).unwrap_err().to_string();
    assert!(
        err.contains("kernel: ") && err.contains("symbolic links (a loop?)"),
        "{err}"
    );
    assert!(files_readable(&iso, &m.entries[1]).is_ok());
    let bytes = std::fs::read(&path).unwrap();
    let kernel = iso.lookup("/isolinux/kernel").unwrap();
    let cut = open_bytes("cut.iso", bytes[..kernel.offset as usize + 1000].to_vec()).unwrap();
    let m = discover(&cut).unwrap();
    let err = files_readable(&cut, &m.entries[1]).unwrap_err().to_string();
    assert!(err.contains("truncated: file /isolinux/kernel"), "{err}");
}

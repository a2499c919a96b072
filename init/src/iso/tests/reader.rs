use super::{blob, open, open_bytes, rear_tree, Temp};
use crate::bootcfg::entry::{BootEntry, Boots};
use crate::iso::fs::{Kind, Names};
use crate::iso::load;
use std::os::unix::fs::FileExt;

const DEEP: &str = "a1/b2/c3/d4/e5/f6/g7/h8/i9/j10/k11/l12";

fn long_name(len: usize) -> String {
    let stem: String = "long-name-".chars().cycle().take(len - 4).collect();
    format!("{stem}.cfg")
}

/// Every feature of the reader in one Rock Ridge + Joliet image.
fn full_tree(t: &Temp) {
    rear_tree(t);
    t.file(&format!("{DEEP}/deep.txt"), "deep file\n")
        .file(&format!("names/{}", long_name(100)), "hundred\n")
        .file(&format!("names/{}", long_name(250)), "two hundred fifty\n")
        .sparse("big/sparse.bin", 9 << 20, b"THE-END")
        .link("boot", "isolinux")
        .link("names/abs-link", "/isolinux/kernel")
        .link("names/rel-link", "../a1/b2/c3")
        .link("loop/a", "b")
        .link("loop/b", "a");
}

#[test]
fn rock_ridge_names_links_deep_dirs_and_large_files() {
    let t = Temp::new();
    full_tree(&t);
    let Some(path) = t.iso("rr", &["-R", "-J"]) else {
        return;
    };
    let iso = open(&path);
    assert!(matches!(iso.names, Names::RockRidge(_)), "{:?}", iso.names);
    assert_eq!(
        iso.read("/isolinux/kernel", u64::MAX).unwrap(),
        blob("KERNEL", 70_000)
    );
    assert_eq!(
        iso.read(&format!("{DEEP}/deep.txt"), 100).unwrap(),
        b"deep file\n"
    );
    // Over 64 characters: beyond Joliet, Rock Ridge only.
    assert_eq!(
        iso.read(&format!("/names/{}", long_name(100)), 100)
            .unwrap(),
        b"hundred\n"
    );
    // An NM entry this long cannot fit the record: it is in a CE area.
    assert_eq!(
        iso.read(&format!("/names/{}", long_name(250)), 100)
            .unwrap(),
        b"two hundred fifty\n"
    );
    let mut big = Vec::new();
    assert_eq!(iso.copy("/big/sparse.bin", &mut big).unwrap(), 9 << 20);
    assert!(big.ends_with(b"THE-END") && big[..1000].iter().all(|b| *b == 0));
}

#[test]
fn symlinks_dot_dot_and_case_are_resolved() {
    let t = Temp::new();
    full_tree(&t);
    let Some(path) = t.iso("links", &["-R", "-J"]) else {
        return;
    };
    let iso = open(&path);
    let kernel = blob("KERNEL", 70_000);
    assert_eq!(iso.read("/boot/kernel", u64::MAX).unwrap(), kernel);
    assert_eq!(iso.read("/names/abs-link", u64::MAX).unwrap(), kernel);
    assert_eq!(
        iso.read("names/rel-link/d4/e5/f6/g7/h8/i9/j10/k11/l12/deep.txt", 100)
            .unwrap(),
        b"deep file\n"
    );
    assert_eq!(
        iso.read("/isolinux/../EFI/./BOOT/grub.cfg", 1 << 20)
            .unwrap(),
        super::fixture!("rear-efi-grub.cfg").as_bytes()
    );
    assert_eq!(
        iso.read("/ISOLINUX/ISOLINUX.CFG", 1 << 20).unwrap(),
        super::fixture!("rear-isolinux.cfg").as_bytes()
    );
    let links = iso.list(&iso.lookup("/names").unwrap()).unwrap();
    let abs = links.iter().find(|n| n.name == "abs-link").unwrap();
    assert_eq!(abs.kind, Kind::Symlink("/isolinux/kernel".into()));
    let err = iso.read("/loop/a", 10).unwrap_err().to_string();
    assert!(
        err.contains("/loop/a") && err.contains("symbolic links"),
        "{err}"
    );
    let err = iso.read("/isolinux/kernel/x", 10).unwrap_err().to_string();
    assert!(err.contains("not a directory"), "{err}");
    let err = iso.read("/isolinux", 10).unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn joliet_names_without_rock_ridge() {
    let t = Temp::new();
    rear_tree(&t);
    t.file(&format!("names/{}", long_name(60)), "sixty\n");
    let Some(path) = t.iso("joliet", &["--norock", "-J"]) else {
        return;
    };
    let iso = open(&path);
    assert_eq!(iso.names, Names::Joliet);
    let names: Vec<String> = iso
        .list(&iso.lookup("/isolinux").unwrap())
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert!(names.contains(&"initrd.cgz".to_string()), "{names:?}");
    assert_eq!(
        iso.read(&format!("/names/{}", long_name(60)), 100).unwrap(),
        b"sixty\n"
    );
    assert_eq!(
        iso.read("/isolinux/initrd.cgz", u64::MAX).unwrap(),
        blob("INITRD", 50_001)
    );
}

#[test]
fn plain_iso_names_are_found_ignoring_case() {
    let t = Temp::new();
    rear_tree(&t);
    let Some(path) = t.iso("plain", &["--norock"]) else {
        return;
    };
    let iso = open(&path);
    assert_eq!(iso.names, Names::Plain);
    let names: Vec<String> = iso
        .list(&iso.lookup("/").unwrap())
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert!(names.contains(&"ISOLINUX".to_string()), "{names:?}");
    assert_eq!(
        iso.read("isolinux/isolinux.cfg", 1 << 20).unwrap(),
        super::fixture!("rear-isolinux.cfg").as_bytes()
    );
    assert_eq!(
        iso.read("/isolinux/kernel", u64::MAX).unwrap(),
        blob("KERNEL", 70_000)
    );
    assert_eq!(
        iso.read("/efi/boot/grub.cfg", 1 << 20).unwrap(),
        super::fixture!("rear-efi-grub.cfg").as_bytes()
    );
}

#[test]
fn multi_extent_files_are_refused() {
    let t = Temp::new();
    rear_tree(&t);
    let Some(path) = t.iso("multi", &["--norock"]) else {
        return;
    };
    let mut bytes = std::fs::read(path).unwrap();
    let name = bytes
        .windows(9)
        .position(|w| w == b"KERNEL.;1")
        .expect("the kernel's record");
    // The name starts 33 bytes into the record; the flags are at 25.
    bytes[name - 8] |= 0x80;
    let iso = open_bytes("multi.iso", bytes).unwrap();
    let err = iso
        .read("/isolinux/kernel", u64::MAX)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("multi.iso: /isolinux/kernel: a multi-extent file"),
        "{err}"
    );
}

#[test]
fn initrds_are_concatenated_padded_and_sealed_in_a_memfd() {
    let t = Temp::new();
    t.file("a.img", "AAAAA")
        .file("b.img", "BBB")
        .file("c.img", "CCCC");
    let Some(path) = t.iso("initrds", &["-R"]) else {
        return;
    };
    let iso = open(&path);
    let e = BootEntry {
        label: "x".into(),
        title: None,
        origin: "test".into(),
        boots: Boots::Linux("/k".into()),
        initrds: vec![],
        args: vec![],
        aliases: vec![],
    };
    let mem = load::copy_all(&iso, &e, "initrd", &["/a.img", "/b.img", "/c.img"]).unwrap();
    let mut buf = vec![0; mem.len as usize];
    mem.file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(buf, b"AAAAA\0\0\0BBB\0CCCC");
    assert!(
        mem.file.write_at(b"x", 0).is_err(),
        "the memfd is not sealed"
    );
    let err = load::copy_all(&iso, &e, "initrd", &["/a.img", "/missing.img"])
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("entry x (test): initrd:")
            && err.contains("/missing.img: not found in the ISO"),
        "{err}"
    );
}

#[test]
fn relocated_deep_directories_are_followed() {
    let t = Temp::new();
    t.file(&format!("{DEEP}/deep.txt"), "deep file\n");
    let Some(path) = t.iso("reloc", &["-R", "-rr_reloc_dir", "rr_moved"]) else {
        return;
    };
    let iso = open(&path);
    assert_eq!(
        iso.read(&format!("{DEEP}/deep.txt"), 100).unwrap(),
        b"deep file\n"
    );
    let h8 = iso
        .list(&iso.lookup("a1/b2/c3/d4/e5/f6/g7/h8").unwrap())
        .unwrap();
    assert_eq!(
        h8.iter()
            .map(|n| (n.name.as_str(), &n.kind))
            .collect::<Vec<_>>(),
        [("i9", &Kind::Dir)]
    );
    // Neither the relocated directory's own record (RE) nor the
    // relocation directory itself is listed.
    let root: Vec<String> = iso
        .list(&iso.lookup("/").unwrap())
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(root, ["a1"]);
}

use super::*;
use crate::kmod::testmods::{add_depmod_files, fake_dir, Scratch};

fn modules(names: &[&str]) -> Found {
    Found::Modules(names.iter().map(|n| n.to_string()).collect())
}

fn check_lookups(db: &mut ModDb) {
    assert_eq!(db.find("ext4").unwrap(), modules(&["ext4"]));
    assert_eq!(db.find("crc32c-intel").unwrap(), modules(&["crc32c_intel"]));
    assert_eq!(db.find("fs-ext4").unwrap(), modules(&["ext4"]));
    let mut both = match db.find("crypto-crc32c").unwrap() {
        Found::Modules(m) => m,
        other => panic!("{other:?}"),
    };
    both.sort();
    assert_eq!(both, ["crc32c_generic", "crc32c_intel"]);
    assert_eq!(
        db.find("pci:v00008086d00002723sv00008086sd00000084bc02sc80i00")
            .unwrap(),
        modules(&["fakewifi"])
    );
    assert_eq!(db.find("unix").unwrap(), Found::Builtin);
    assert_eq!(db.find("net-pf-1").unwrap(), Found::Builtin);
    assert_eq!(db.find("scsi:t-0x00").unwrap(), Found::Builtin);
    assert_eq!(db.find("net-pf-2").unwrap(), Found::Missing);
}

#[test]
fn scans_a_directory_without_indexes() {
    let s = Scratch::new("moddb-scan");
    let dir = fake_dir(&s);
    s.module("mods/build/kernel/junk.ko", &["depends="]);
    s.module("mods/updates/mbcache.ko", &["depends="]);
    let mut db = ModDb::open(&dir).unwrap();
    let names: Vec<&String> = db.names().collect();
    assert_eq!(names.len(), 9, "{names:?}");
    assert!(!db.has("junk"));
    assert!(
        db.notes[0].contains("mbcache is both updates/mbcache.ko"),
        "{:?}",
        db.notes
    );
    let ext4 = db.module("ext4").unwrap();
    assert_eq!(db.deps(&ext4), ["jbd2", "mbcache", "crc16"]);
    assert_eq!(db.softdep(&ext4).pre, ["crypto-crc32c"]);
    let intel = db.module("crc32c_intel").unwrap();
    assert!(intel.file.compressed);
    assert_eq!(intel.image_rel(), "kernel/arch/x86/crypto/crc32c-intel.ko");
    check_lookups(&mut db);
}

#[test]
fn uses_depmod_indexes_when_present() {
    let s = Scratch::new("moddb-indexes");
    let dir = fake_dir(&s);
    add_depmod_files(&dir);
    // The indexes win over the files: a module only on disk is unknown.
    s.module("mods/kernel/extra/stray.ko", &["depends="]);
    let mut db = ModDb::open(&dir).unwrap();
    assert!(!db.has("stray"));
    let wifi = db.module("fakewifi").unwrap();
    assert_eq!(
        db.dep_line(&wifi).unwrap(),
        ["kernel/net/wireless/cfg80211.ko.gz"]
    );
    assert_eq!(db.deps(&wifi), ["cfg80211"]);
    assert_eq!(db.softdep(&wifi).post, ["fakeled", "no-such-module"]);
    check_lookups(&mut db);
}

#[test]
fn bad_indexes_and_directories_are_errors() {
    let s = Scratch::new("moddb-bad");
    let dir = fake_dir(&s);
    let err = ModDb::open(&dir.join("nope")).unwrap_err().to_string();
    assert!(err.contains("cannot read") && err.contains("nope"), "{err}");
    std::fs::write(dir.join("modules.dep"), "kernel/a.ko: b.ko\ngarbage\n").unwrap();
    let err = ModDb::open(&dir).unwrap_err().to_string();
    assert!(
        err.ends_with("modules.dep: line 2 is not 'MODULE: DEPENDENCIES'"),
        "{err}"
    );
}

#[test]
fn module_files_given_by_path() {
    let s = Scratch::new("moddb-path");
    let dir = fake_dir(&s);
    let db = ModDb::open(&dir).unwrap();
    let inside = db.module_at(&dir.join("kernel/fs/mbcache.ko")).unwrap();
    assert_eq!(
        (inside.name.as_str(), inside.rel.as_str()),
        ("mbcache", "kernel/fs/mbcache.ko")
    );
    let outside = s.module("my-drv.ko.gz", &["depends=crc16"]);
    let m = db.module_at(&outside).unwrap();
    assert_eq!(
        (m.name.as_str(), m.image_rel()),
        ("my_drv", "extra/my-drv.ko".into())
    );
    let text = s.write("notes.txt", b"hello");
    let err = db.module_at(&text).unwrap_err().to_string();
    assert!(err.contains("notes.txt: not a module file"), "{err}");
}

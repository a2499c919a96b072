use super::*;

use crate::elf::testelf;
use crate::kmod::testmods::{add_depmod_files, fake_dir, Scratch};
use crate::kmod::{add_modules, ModuleSpec, System};
use std::path::{Path, PathBuf};

const BASE: &str = "lib/modules/6.1-test";

fn build(dir: &Path, fw: &Path, names: &[&str], tree: &mut Tree) -> Vec<String> {
    let spec = ModuleSpec {
        kver: Some("6.1-test".into()),
        dir: Some(dir.to_path_buf()),
        names: names.iter().map(Into::into).collect(),
        firmware_dir: Some(fw.to_path_buf()),
        ..ModuleSpec::default()
    };
    let sys = System {
        proc_modules: PathBuf::from("/nonexistent"),
        release: None,
    };
    add_modules(tree, &spec, &sys).unwrap()
}

fn text(tree: &Tree, name: &str) -> String {
    match &tree.get(format!("{BASE}/{name}").as_bytes()).unwrap().kind {
        Kind::Data { bytes } => String::from_utf8(bytes.clone()).unwrap(),
        other => panic!("{name}: {other:?}"),
    }
}

const EXT4_DEP: &str = "\
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
";

#[test]
fn the_image_gets_the_modules_and_indexes_for_them() {
    let s = Scratch::new("modout-ext4");
    let dir = fake_dir(&s);
    let mut tree = Tree::default();
    let notes = build(&dir, &s.path("fw"), &["ext4"], &mut tree);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(text(&tree, "modules.dep"), EXT4_DEP);
    let order: Vec<&str> = EXT4_DEP
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(text(&tree, "modules.order"), order.join("\n") + "\n");
    assert_eq!(
        text(&tree, "modules.softdep"),
        "# Soft dependencies extracted from modules themselves.\n\
         softdep jbd2 pre: crypto-crc32c\nsoftdep ext4 pre: crypto-crc32c\n"
    );
    let alias = text(&tree, "modules.alias");
    assert!(alias.contains("\nalias crypto-crc32c crc32c_intel\nalias cpu:type:x86,ven*fam*mod*:feature:*0094* crc32c_intel\n"), "{alias}");
    assert!(alias.contains("\nalias fs-ext4 ext4\n"), "{alias}");
    assert_eq!(
        text(&tree, "modules.builtin"),
        "kernel/net/unix/unix.ko\nkernel/drivers/scsi/sd_mod.ko\n"
    );
    for bin in [
        "modules.dep.bin",
        "modules.alias.bin",
        "modules.builtin.bin",
        "modules.builtin.alias.bin",
    ] {
        assert!(
            tree.get(format!("{BASE}/{bin}").as_bytes()).is_some(),
            "{bin}"
        );
    }
    let intel = tree.get(format!("{BASE}/kernel/arch/x86/crypto/crc32c-intel.ko").as_bytes());
    let want = testelf::module(true, true, crate::kmod::testmods::MODULES[5].1).len() as u64;
    match &intel.unwrap().kind {
        Kind::Unpacked { src, size } => {
            assert!(src.ends_with("crc32c-intel.ko.xz"));
            assert_eq!(*size, want);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn lines_of_modules_dep_are_kept_and_firmware_found() {
    let s = Scratch::new("modout-wifi");
    let dir = fake_dir(&s);
    add_depmod_files(&dir);
    s.write("fw/fake/fw-1.bin.xz", b"xz firmware");
    s.write("fw/regulatory.db", b"db");
    let mut tree = Tree::default();
    tree.insert(b"lib".to_vec(), Entry::symlink(b"usr/lib"))
        .unwrap();
    let notes = build(
        &dir,
        &s.path("fw"),
        &["pci:v00008086d00002723sv1sd2bc3sc4i5"],
        &mut tree,
    );
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].contains("soft dependency no-such-module"),
        "{notes:?}"
    );
    assert!(
        notes[1].contains("firmware fake/missing.bin (for fakewifi) is not in"),
        "{notes:?}"
    );
    let dep = match &tree
        .get(b"usr/lib/modules/6.1-test/modules.dep")
        .unwrap()
        .kind
    {
        Kind::Data { bytes } => String::from_utf8(bytes.clone()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(
        dep.contains("kernel/drivers/net/wifi/fakewifi.ko: kernel/net/wireless/cfg80211.ko\n"),
        "{dep}"
    );
    assert!(tree.get(b"usr/lib/firmware/fake/fw-1.bin.xz").is_some());
    assert!(tree.get(b"usr/lib/firmware/regulatory.db").is_some());
}

#[test]
fn depmod_order_puts_users_first() {
    // 0: ext4 -> jbd2, mbcache, crc16; 4: fakeled -> crc16.
    let edges = vec![vec![1, 2, 3], vec![], vec![], vec![], vec![3]];
    let rank = depmod_rank(&edges);
    let mut line = needs(&edges, 0);
    line.sort_by_key(|&d| rank[d]);
    assert_eq!(line, [3, 2, 1]);
    assert!(rank[4] < rank[3] && rank[0] < rank[1]);
    // A cycle is placed last rather than lost.
    let rank = depmod_rank(&[vec![1], vec![0], vec![]]);
    assert_eq!(rank, [usize::MAX, usize::MAX, 0]);
}

#[test]
fn links_of_the_tree_are_followed() {
    let mut t = Tree::default();
    assert_eq!(follow_links(&t, "lib/modules/6.1"), b"lib/modules/6.1");
    t.insert(b"lib".to_vec(), Entry::symlink(b"usr/lib"))
        .unwrap();
    t.insert(b"usr/lib/modules".to_vec(), Entry::symlink(b"/opt/mods"))
        .unwrap();
    t.insert(b"opt/up".to_vec(), Entry::symlink(b"../x"))
        .unwrap();
    assert_eq!(follow_links(&t, "lib/modules/6.1"), b"opt/mods/6.1");
    assert_eq!(follow_links(&t, "opt/up/y"), b"x/y");
    t.insert(b"loop".to_vec(), Entry::symlink(b"loop")).unwrap();
    assert_eq!(follow_links(&t, "loop/a"), b"loop/a");
}

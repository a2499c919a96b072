use super::*;
use crate::elf::testelf;
use kmodfmt::SoftDeps;

fn softdep(info: &ModInfo) -> SoftDeps {
    let mut s = SoftDeps::default();
    for text in &info.softdeps {
        s.add(text);
    }
    s
}

const EXT4: [&str; 6] = [
    "alias=fs-ext4",
    "softdep=pre: crypto-crc32c",
    "depends=jbd2,mbcache,crc16",
    "name=ext4",
    "firmware=",
    "license=GPL",
];

#[test]
fn reads_the_modinfo_of_every_class_and_byte_order() {
    for (class64, little) in [(true, true), (false, true), (true, false), (false, false)] {
        let data = testelf::module(class64, little, &EXT4);
        let raw = modinfo_section(&data[..]).unwrap();
        let info = ModInfo::from_strings(&raw);
        assert_eq!(info.name.as_deref(), Some("ext4"));
        assert_eq!(info.depends, ["jbd2", "mbcache", "crc16"]);
        assert_eq!(info.aliases, ["fs-ext4"]);
        assert_eq!(softdep(&info).pre, ["crypto-crc32c"]);
        assert!(info.firmware.is_empty());
    }
}

#[test]
fn executables_and_garbage_are_not_modules() {
    let exe = testelf::build(&testelf::Spec::default());
    assert!(matches!(
        modinfo_section(&exe[..]),
        Err(ModinfoErrorKind::NotRelocatable(3))
    ));
    assert!(matches!(
        modinfo_section(&b"hello, world"[..]),
        Err(ModinfoErrorKind::Elf(ElfErrorKind::NotElf))
    ));
    let mut cut = testelf::module(true, true, &EXT4);
    cut.truncate(cut.len() - 10);
    assert!(matches!(
        modinfo_section(&cut[..]),
        Err(ModinfoErrorKind::Elf(ElfErrorKind::Truncated(_)))
    ));
}

#[test]
fn modinfo_strings_with_padding_and_lists() {
    let raw = b"depends=\0\0\0alias=a-b\0firmware=x/y.bin\0softdep=pre: a b post: c\0softdep=post: d\0junk\0";
    let info = ModInfo::from_strings(raw);
    assert!(info.depends.is_empty());
    assert_eq!(info.firmware, ["x/y.bin"]);
    let s = softdep(&info);
    assert_eq!(
        (s.pre, s.post),
        (vec!["a".into(), "b".into()], vec!["c".into(), "d".into()])
    );
    assert_eq!(
        ModInfo::from_strings(b"depends=crc32c-generic,libcrc32c").depends,
        ["crc32c_generic", "libcrc32c"]
    );
}

#[test]
fn compressed_modules_are_read_decompressed() {
    let dir = std::env::temp_dir().join(format!("mkimage-modinfo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = testelf::module(true, true, &EXT4);
    let plain = dir.join("ext4.ko");
    std::fs::write(&plain, &data).unwrap();
    let packed = dir.join("ext4.ko.zst");
    std::fs::write(&packed, zstd::encode_all(&data[..], 1).unwrap()).unwrap();
    let a = read_module(&plain).unwrap();
    let b = read_module(&packed).unwrap();
    assert_eq!((a.size, a.compressed), (data.len() as u64, false));
    assert_eq!((b.size, b.compressed), (data.len() as u64, true));
    assert_eq!(a.info, b.info);
    std::fs::write(&packed, b"not zstd").unwrap();
    let err = read_module(&packed).unwrap_err().to_string();
    assert!(err.contains("ext4.ko.zst: cannot decompress"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

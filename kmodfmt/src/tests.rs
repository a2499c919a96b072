//! What mkimage writes, rescue-init reads back: every format written
//! and read again, and the readers on text as depmod and people write it.

use super::*;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn every_format_reads_back_what_was_written() {
    let dep = vec![
        (
            "kernel/fs/ext4/ext4.ko".to_string(),
            s(&["kernel/lib/crc16.ko", "kernel/fs/mbcache.ko"]),
        ),
        ("kernel/lib/crc16.ko".to_string(), Vec::new()),
    ];
    let (read, bad) = dep::parse(&dep::write(&dep));
    assert!(bad.is_empty(), "{bad:?}");
    let read: Vec<(String, Vec<String>)> = read.into_iter().map(|l| (l.path, l.deps)).collect();
    assert_eq!(read, dep);

    let aliases = vec![
        ("fs-ext4".to_string(), "ext4".to_string()),
        ("pci:v*d[0-9]".to_string(), "ahci".to_string()),
    ];
    assert_eq!(alias::parse(&alias::write(&aliases)), (aliases, Vec::new()));

    let pre = SoftDeps {
        pre: s(&["crypto-crc32c"]),
        post: Vec::new(),
    };
    let both = SoftDeps {
        pre: s(&["a", "b"]),
        post: s(&["c"]),
    };
    let softdeps = vec![
        ("ext4".to_string(), pre),
        ("x".to_string(), both),
        ("none".to_string(), SoftDeps::default()),
    ];
    let (read, bad) = softdep::parse(&softdep::write(&softdeps));
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(
        read,
        softdeps[..2],
        "a module without soft dependencies gets no line"
    );

    let order = s(&["kernel/fs/ext4/ext4.ko", "kernel/lib/crc16.ko"]);
    assert_eq!(paths::parse(&paths::write(&order)), order);
    let (names, bad) = builtin::names(&paths::write(&order));
    assert_eq!((names, bad), (s(&["ext4", "crc16"]), Vec::new()));
}

#[test]
fn dep_lines() {
    let text = "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko\n\
                kernel/lib/crc16.ko:\n\n# comment\n";
    let (lines, bad) = dep::parse(text);
    assert!(bad.is_empty());
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0].deps,
        ["kernel/lib/crc16.ko", "kernel/fs/mbcache.ko"]
    );
    assert!(lines[1].deps.is_empty());
    let pairs: Vec<(String, Vec<String>)> = lines.into_iter().map(|l| (l.path, l.deps)).collect();
    assert_eq!(
        dep::write(&pairs),
        "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko\n\
         kernel/lib/crc16.ko:\n"
    );
    let bad: Vec<usize> = dep::parse("a.ko: b.ko\nbroken line\n")
        .1
        .iter()
        .map(|b| b.line)
        .collect();
    assert_eq!(bad, [2]);
}

#[test]
fn alias_and_softdep_lines() {
    let text = "# Aliases\nalias crypto-crc32c crc32c_intel\nalias  fs-ext4\text4\n\
                aliasx y z\nalias lonely\n";
    assert_eq!(
        alias::parse(text).0,
        [
            ("crypto-crc32c".to_string(), "crc32c_intel".to_string()),
            ("fs-ext4".to_string(), "ext4".to_string())
        ]
    );
    let (sd, _) = softdep::parse("softdep ext4 pre: crypto-crc32c\nsoftdep a-b post: c\n");
    assert_eq!(
        sd[0],
        (
            "ext4".into(),
            SoftDeps {
                pre: s(&["crypto-crc32c"]),
                post: Vec::new()
            }
        )
    );
    assert_eq!(
        sd[1],
        (
            "a_b".into(),
            SoftDeps {
                pre: Vec::new(),
                post: s(&["c"])
            }
        )
    );
    assert_eq!(softdep::parse(&softdep::write(&sd)).0, sd);
    let written = alias::write(&[("fs-ext4".into(), "ext4".into())]);
    assert!(written.ends_with("\nalias fs-ext4 ext4\n"));
}

#[test]
fn builtin_files() {
    let (names, _) = builtin::names("kernel/fs/ext4/ext4.ko\nkernel/crypto/crc32c-generic.ko\n");
    assert_eq!(names, ["ext4", "crc32c_generic"]);
    let raw = b"ext4.alias=fs-ext4\0ext4.license=GPL\0crc32c-generic.alias=crypto-crc32c\0";
    assert_eq!(
        builtin::aliases(raw).0,
        [
            ("fs-ext4".to_string(), "ext4".to_string()),
            ("crypto-crc32c".to_string(), "crc32c_generic".to_string())
        ]
    );
}

#[test]
fn aliases_normalize_outside_brackets() {
    assert_eq!(normalize_alias("crypto-crc32c"), "crypto_crc32c");
    assert_eq!(normalize_alias("a-[x-z]-b"), "a_[x-z]_b");
}

#[test]
fn file_names() {
    assert_eq!(split_file_name("ext4.ko"), Some(("ext4", false)));
    assert_eq!(split_file_name("ext4.ko.zst"), Some(("ext4", true)));
    assert_eq!(split_file_name("ext4.ko.bz2"), None);
    assert_eq!(split_file_name(".ko"), None);
    assert_eq!(
        name_of_path("kernel/arch/x86/crypto/crc32c-intel.ko.xz").as_deref(),
        Some("crc32c_intel")
    );
    assert_eq!(
        plain_path("kernel/fs/ext4/ext4.ko.gz"),
        "kernel/fs/ext4/ext4.ko"
    );
    assert_eq!(
        plain_path("kernel/fs/ext4/ext4.ko"),
        "kernel/fs/ext4/ext4.ko"
    );
}

#[test]
fn softdep_texts_add_up() {
    let mut d = SoftDeps::default();
    d.add("pre: a b post: c");
    d.add("post: d");
    d.add("ignored pre: e");
    assert_eq!((d.pre, d.post), (s(&["a", "b", "e"]), s(&["c", "d"])));
}

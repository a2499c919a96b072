use super::*;

#[test]
fn dep_lines_round_trip() {
    let text = "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko\n\
                kernel/lib/crc16.ko:\n\n# comment\n";
    let lines = parse_dep(text).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].1, ["kernel/lib/crc16.ko", "kernel/fs/mbcache.ko"]);
    assert!(lines[1].1.is_empty());
    assert_eq!(
        String::from_utf8(write_dep(&lines)).unwrap(),
        "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko\n\
         kernel/lib/crc16.ko:\n"
    );
    assert_eq!(parse_dep("a.ko: b.ko\nbroken line\n"), Err(2));
}

#[test]
fn alias_and_softdep_lines() {
    let text = "# Aliases\nalias crypto-crc32c crc32c_intel\nalias  fs-ext4\text4\n\
                aliasx y z\nalias lonely\n";
    assert_eq!(
        parse_alias(text),
        [
            ("crypto-crc32c".to_string(), "crc32c_intel".to_string()),
            ("fs-ext4".to_string(), "ext4".to_string())
        ]
    );
    let sd = parse_softdep("softdep ext4 pre: crypto-crc32c\nsoftdep a-b post: c\n");
    assert_eq!(sd[0], ("ext4".into(), "pre: crypto-crc32c".into()));
    assert_eq!(sd[1], ("a_b".into(), "post: c".into()));
    let written = write_softdep(&sd);
    assert_eq!(parse_softdep(std::str::from_utf8(&written).unwrap()), sd);
    let written = write_alias(&[("fs-ext4".into(), "ext4".into())]);
    assert!(written.ends_with(b"\nalias fs-ext4 ext4\n"));
}

#[test]
fn builtin_files() {
    let names = builtin_names("kernel/fs/ext4/ext4.ko\nkernel/crypto/crc32c-generic.ko\n");
    assert_eq!(names, ["ext4", "crc32c_generic"]);
    let raw = b"ext4.alias=fs-ext4\0ext4.license=GPL\0crc32c-generic.alias=crypto-crc32c\0";
    assert_eq!(
        builtin_aliases(raw),
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
fn globs_match_as_fnmatch() {
    let m = |p: &str, t: &str| glob_match(p.as_bytes(), t.as_bytes());
    assert!(m("crypto_crc32c", "crypto_crc32c"));
    assert!(!m("crypto_crc32c", "crypto_crc32"));
    assert!(m(
        "pci:v00008086d*sv*sd*bc01sc06i01*",
        "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01"
    ));
    assert!(!m(
        "pci:v00008086d*sv*sd*bc01sc06i01*",
        "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i00"
    ));
    assert!(m("a?c", "abc") && !m("a?c", "ac"));
    assert!(m("[abc]x", "bx") && !m("[!abc]x", "bx") && m("[^abc]x", "dx"));
    assert!(m("v[0-9]*", "v7zz") && !m("v[0-9]*", "vz"));
    assert!(m("[]]", "]") && m("a[", "a[") && m("\\*", "*") && !m("\\*", "x"));
    assert!(m("*", "") && m("**a**", "xxa") && !m("*a", "ab"));
    assert!(m(
        "cpu:type:x86,ven*fam*mod*:feature:*0094*",
        "cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0094,00E0"
    ));
}

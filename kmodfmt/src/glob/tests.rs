//! The four matchers this one replaced brought their tests along: kmod's
//! aliases (the init's modprobe), loader.conf defaults (the handoff),
//! mkimage's alias lookup and its `--exclude`/`ld.so.conf` wildcards.

use super::matches;

fn m(pattern: &str, name: &str) -> bool {
    matches(pattern.as_bytes(), name.as_bytes())
}

#[test]
fn stars_and_questions() {
    assert!(m("virtio:d00000002v*", "virtio:d00000002v00001AF4"));
    assert!(!m("virtio:d00000002v*", "virtio:d00000001v00001AF4"));
    assert!(m("*", ""));
    assert!(m("a*b*c", "aXXbYYc"));
    assert!(!m("a*b*c", "aXXbYYd"));
    assert!(m("a?c", "abc"));
    assert!(!m("a?c", "ac"));
    assert!(m("a/*", "a/b/c"), "no FNM_PATHNAME: * crosses /");
    assert!(m("", ""));
    assert!(!m("", "x"));
}

#[test]
fn real_pci_aliases() {
    let dev = "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00";
    assert!(m("pci:v00001AF4d*sv*sd*bc*sc*i*", dev));
    assert!(!m("pci:v00008086d*sv*sd*bc*sc*i*", dev));
    let sata = "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01";
    assert!(m("pci:v*d*sv*sd*bc01sc06i01*", sata), "ahci class alias");
    assert!(!m("pci:v*d*sv*sd*bc01sc06i01*", dev));
}

#[test]
fn classes_ranges_negation() {
    assert!(m("usb:v1554p5010d400[0-1]dc*", "usb:v1554p5010d4001dcFF"));
    assert!(!m("usb:v1554p5010d400[0-1]dc*", "usb:v1554p5010d4002dcFF"));
    assert!(m("d3[0-9A-E]*", "d3C1"));
    assert!(!m("d3[0-9A-E]*", "d3F1"));
    assert!(m(
        "dmi:*:[bs]vnD[Ee][Ll][Ll]*:*",
        "dmi:bvnDell Inc.:bvr1:svnDELL:"
    ));
    assert!(m("[!a]x", "bx") && !m("[!a]x", "ax"));
    assert!(m("[^a]x", "bx") && !m("[^a]x", "ax"));
    assert!(m("[]]", "]") && m("[!]]", "a") && !m("[!]]", "]"));
    assert!(m("[a-]", "-"), "a trailing - is a member");
    assert!(m("[[:digit:]]x", "7x") && !m("[[:digit:]]x", "ax"));
    assert!(!m("[[:nosuch:]]", "a"));
}

#[test]
fn escapes_and_unterminated() {
    assert!(m(r"a\*b", "a*b") && !m(r"a\*b", "aXb"));
    assert!(m("a[b", "a[b"), "unterminated [ is literal");
    assert!(!m("a[b", "ab"));
    assert!(m("[\\]]", "]"));
    assert!(m("x\\", "x\\"), "trailing backslash is literal");
}

#[test]
fn backtracking_is_not_exponential() {
    let name = "a".repeat(200);
    assert!(!m("*a*a*a*a*a*a*a*a*a*a*b", &name));
}

#[test]
fn loader_conf_defaults() {
    let yes = [
        ("*", ""),
        ("*", "anything"),
        ("arch*", "arch-lts.conf"),
        ("*-lts.conf", "arch-lts.conf"),
        ("a?c", "abc"),
        ("fedora-*-6.*", "fedora-abc-6.5.conf"),
        ("[abc]x", "bx"),
        ("[a-c]x", "cx"),
        ("[!a-c]x", "dx"),
        ("[^a]x", "bx"),
        ("[]]", "]"),
        ("[x", "[x"),
        ("a*b*c", "aXbYbZc"),
    ];
    for (p, n) in yes {
        assert!(m(p, n), "{p} should match {n}");
    }
    let no = [
        ("arch*", "debian.conf"),
        ("a?c", "ac"),
        ("[a-c]x", "dx"),
        ("[!a]x", "ax"),
        ("a*b", "ac"),
        ("", "a"),
    ];
    for (p, n) in no {
        assert!(!m(p, n), "{p} should not match {n}");
    }
}

#[test]
fn globs_match_as_fnmatch() {
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

#[test]
fn wildcards() {
    assert!(matches(b"*.conf", b"libc.conf"));
    assert!(matches(b"x?.conf", b"x8.conf"));
    assert!(!matches(b"*.conf", b"libc.conf.bak"));
    assert!(matches(b"*", b""));
    assert!(matches(b"a*b*c", b"a-b-b-c"));
    assert!(!matches(b"a*b*c", b"a-b-b-"));
    assert!(matches(b"*~", b".bashrc~"));
    assert!(!matches(b"?", b""));
    assert!(matches(b"usr/*/doc", b"usr/share/x/doc"));
}

#[test]
fn many_stars_are_fast() {
    // 2^40 ways for a backtracking matcher; linear here.
    let pattern = [b"*a".repeat(40), b"*b".to_vec()].concat();
    let text = b"a".repeat(10_000);
    let start = std::time::Instant::now();
    assert!(!matches(&pattern, &text));
    assert!(start.elapsed().as_secs() < 2);
}

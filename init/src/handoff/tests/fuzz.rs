//! The parsers read files from a recovered (maybe damaged) disk: they
//! must never panic. Random input, and every prefix of every fixture.

use super::fixture;
use crate::bootcfg::grub::script::lex;
use crate::bootcfg::grub::{parse_grubenv, Env};
use crate::bootcfg::version::version_cmp;
use crate::bootcfg::{bls, grub};
use crate::handoff::{bzimage, parse};

use crate::test_rng::Rng;

trait Text {
    fn text(&mut self, len: usize) -> String;
}

impl Text for Rng {
    /// Text biased towards the characters the parsers care about.
    fn text(&mut self, len: usize) -> String {
        const SPECIAL: &[&str] = &[
            "'",
            "\"",
            "\\",
            "$",
            "{",
            "}",
            "${",
            "=",
            "#",
            "\n",
            ";",
            " ",
            "\t",
            ">",
            "[",
            "]",
            "*",
            "?",
            "!",
            "-",
            "~",
            "(",
            ")",
            "menuentry ",
            "submenu ",
            "linux ",
            "initrd ",
            "set default=",
            "KERNEL=",
            "ACTION=",
            "é",
            "\0",
        ];
        let mut s = String::new();
        for _ in 0..len {
            match self.below(4) {
                0 => s.push_str(SPECIAL[self.below(SPECIAL.len())]),
                1 => s.push(char::from(b'0' + self.below(10) as u8)),
                2 => s.push(char::from(b'a' + self.below(26) as u8)),
                _ => s.push(char::from_u32(self.next() as u32 % 0x3000).unwrap_or('?')),
            }
        }
        s
    }
}

fn all_parsers(s: &str) {
    let _ = parse("fuzz", s);
    let e = bls::parse_entry("fuzz.conf", s);
    let _ = bls::parse_default(s);
    let _ = bls::compare(&e, &bls::parse_entry("x.conf", s));
    let env: Env = parse_grubenv(s);
    let _ = bls::expand(s, &env);
    let _ = lex(s);
    let conf = grub::parse("fuzz", s, env, None);
    for d in [
        conf.default.as_deref().unwrap_or("0"),
        s,
        "0>0>0",
        "1>",
        ">",
    ] {
        let _ = grub::select(&conf.items, d);
    }
    let half = s.len() / 2;
    let (a, b) = s.split_at(
        (0..=half)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0),
    );
    let _ = version_cmp(a, b);
    let _ = kmodfmt::glob::matches(a.as_bytes(), b.as_bytes());
    let _ = bzimage::parse_header(s.as_bytes(), s.len() as u64);
}

#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..3000 {
        let len = rng.below(if i % 10 == 0 { 2000 } else { 80 });
        all_parsers(&rng.text(len));
    }
    for _ in 0..200 {
        let bytes: Vec<u8> = (0..rng.below(0x400)).map(|_| rng.next() as u8).collect();
        all_parsers(&String::from_utf8_lossy(&bytes));
        let _ = bzimage::parse_header(&bytes, rng.next());
    }
}

#[test]
fn fixture_prefixes_never_panic() {
    let fixtures = [
        fixture!("good-full.handoff"),
        fixture!("bad-quote.handoff"),
        fixture!("bls/debian-6.1.0-13-amd64.conf"),
        fixture!("bls/rhel-5.14.0-70.13.1.el9_0.x86_64.conf"),
        fixture!("bls/loader.conf"),
        fixture!("bls/rhel.grubenv"),
        fixture!("grub/debian.cfg"),
        fixture!("grub/rhel7.cfg"),
        fixture!("grub/ubuntu-by-title.cfg"),
    ];
    for f in fixtures {
        // Every cut near the start, then ~200 spread over the rest.
        let stride = (f.len() / 200).max(1);
        let cuts = (0..=f.len()).filter(|i| *i < 128 || i % stride == 0 || *i == f.len());
        for end in cuts.filter(|i| f.is_char_boundary(*i)) {
            all_parsers(&f[..end]);
            all_parsers(&f[end..]);
        }
    }
    let kernel = bzimage::fake_kernel(0x400);
    for end in 0..=kernel.len() {
        let _ = bzimage::parse_header(&kernel[..end], end as u64);
    }
}

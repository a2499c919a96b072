//! The parsers read files from the image and sysfs, the applet reads
//! whatever the kernel or a user passes: none of it may panic. Random
//! input, and every prefix of every fixture.

use super::{fixture, Fake, GOOD_ALIAS, GOOD_DEP, GOOD_MODINFO, GOOD_SOFTDEP};
use crate::modules::parse::{
    parse_alias, parse_builtin, parse_builtin_aliases, parse_dep, parse_modules_load, parse_softdep,
};
use crate::modules::{Config, Index, Loader};
use kmodfmt::glob::matches;
use kmodfmt::normalize_alias;
use std::path::Path;

use crate::test_rng::Rng;

trait Text {
    fn text(&mut self, len: usize) -> String;
}

impl Text for Rng {
    /// Text biased towards what the parsers and the matcher care about.
    fn text(&mut self, len: usize) -> String {
        const SPECIAL: &[&str] = &[
            ":",
            " ",
            "\t",
            "\n",
            "\\\n",
            "#",
            ";",
            "*",
            "?",
            "[",
            "]",
            "!",
            "^",
            "-",
            "[:",
            ":]",
            "\\",
            ".ko",
            ".ko.xz",
            "kernel/",
            "a",
            "b",
            "alias ",
            "softdep ",
            "pre: ",
            "post: ",
            "options ",
            "blacklist ",
            "install ",
            "=",
            ",",
            "\"",
            ".",
            "é",
            "\0",
            "pci:v",
            "virtio",
        ];
        let mut s = String::new();
        for _ in 0..len {
            s.push_str(SPECIAL[self.below(SPECIAL.len())]);
        }
        s
    }
}

fn every_parser(text: &str) {
    let _ = parse_dep("f", text);
    let _ = parse_alias("f", text);
    let _ = parse_softdep("f", text);
    let _ = parse_builtin("f", text);
    let _ = parse_modules_load("f", text);
    let _ = parse_builtin_aliases("f", text.as_bytes());
    let mut c = Config::default();
    c.apply_file("f", text);
    c.apply_cmdline(text);
    let _ = normalize_alias(text);
}

#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let len = rng.below(40);
        let text = rng.text(len);
        every_parser(&text);
        let n = rng.below(12);
        let name = rng.text(n);
        let _ = matches(text.as_bytes(), name.as_bytes());
        let _ = matches(name.as_bytes(), text.as_bytes());
    }
}

#[test]
fn random_index_and_lookups_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..200 {
        let mut index = Index::empty(Path::new("/m"));
        index.add_dep("d", &rng.text(30));
        index.add_alias("a", &rng.text(30));
        index.add_softdep("s", &rng.text(30));
        index.add_builtin("b", &rng.text(10));
        let mut config = Config::default();
        config.apply_file("c", &rng.text(30));
        let mut l = Loader::new(index, config, Fake::default());
        for _ in 0..5 {
            let _ = l.load(&rng.text(3));
        }
    }
}

#[test]
fn cyclic_dependencies_terminate() {
    let mut index = Index::empty(Path::new("/m"));
    index.add_dep("d", "a.ko: b.ko\nb.ko: a.ko\n");
    index.add_softdep("s", "softdep a pre: b post: a\nsoftdep b pre: a\n");
    let mut l = Loader::new(index, Config::default(), Fake::default());
    let mut got = l.load("a").unwrap();
    got.sort();
    assert_eq!(got, ["a", "b"]);
}

#[test]
fn fixture_prefixes_never_panic() {
    let fixtures = [
        GOOD_DEP,
        GOOD_ALIAS,
        GOOD_SOFTDEP,
        fixture!("garbled.dep"),
        fixture!("garbled.alias"),
        fixture!("garbled.softdep"),
        fixture!("garbled.builtin"),
        fixture!("garbled.conf"),
        fixture!("good.conf"),
    ];
    for text in fixtures {
        // Every prefix of the small files, 50 of the long ones.
        let step = if text.len() < 2000 {
            1
        } else {
            text.len() / 50
        };
        for (i, _) in text.char_indices().step_by(step) {
            every_parser(&text[..i]);
        }
    }
    for i in 0..GOOD_MODINFO.len() {
        let _ = parse_builtin_aliases("m", &GOOD_MODINFO[..i]);
    }
}

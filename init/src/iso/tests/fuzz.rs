//! The reader takes images from anywhere (a downloaded file, a damaged
//! disc): damaged bytes must give errors, never a panic, a hang or a huge
//! allocation. Mutations of a real image, biased to its metadata, and
//! random text for the config parsers.

use super::{fixture, open_bytes, rear_tree, Temp};
use crate::bootcfg::{grub, syslinux};
use crate::iso::fs::{Iso, Kind};
use crate::iso::menu::{choose, discover};
use crate::iso::volume::parse_dir;

use crate::test_rng::Rng;

/// Everything a run does with an image; the number of errors met.
fn exercise(iso: &Iso) -> usize {
    let mut sink = std::io::sink();
    let mut errors = 0;
    let mut count = |failed: bool| errors += usize::from(failed);
    for p in [
        "/",
        "/isolinux",
        "/names",
        "/a1/b2/c3/d4/e5/f6/g7/h8/i9",
        "/link",
        "/ISOLINUX/KERNEL",
    ] {
        match iso.lookup(p) {
            Ok(n) => count(iso.list(&n).is_err() && iso.copy(p, &mut sink).is_err()),
            Err(_) => count(true),
        }
    }
    let Ok(menu) = discover(iso) else {
        return errors + 1;
    };
    for wanted in [None, Some("rear"), Some("x")] {
        let _ = choose(&menu, "fuzz", wanted);
    }
    for e in &menu.entries {
        let _ = e.cmdline("extra");
        for p in e
            .kernel()
            .into_iter()
            .chain(e.initrds.iter().map(String::as_str))
        {
            count(iso.copy(p, &mut sink).is_err());
        }
    }
    errors
}

fn image() -> Option<Vec<u8>> {
    let t = Temp::new();
    rear_tree(&t);
    t.file("a1/b2/c3/d4/e5/f6/g7/h8/i9/x", "deep")
        .file(&format!("names/{}", "n".repeat(240)), "long")
        .link("link", "isolinux/kernel");
    let path = t.iso("fuzz", &["-R", "-J", "-rr_reloc_dir", "rr_moved"])?;
    Some(std::fs::read(path).unwrap())
}

/// Byte ranges worth damaging: the volume descriptors' root records
/// and every directory record of the tree with its System Use area.
fn metadata(bytes: &[u8]) -> Vec<(usize, usize)> {
    let iso = open_bytes("fuzz", bytes.to_vec()).unwrap();
    let mut out = vec![
        (16 * 2048 + 156, 16 * 2048 + 190),
        (17 * 2048 + 156, 17 * 2048 + 190),
    ];
    let mut todo = vec![iso.lookup("/").unwrap()];
    while let Some(dir) = todo.pop() {
        let data = &bytes[dir.offset as usize..(dir.offset + dir.size) as usize];
        for r in parse_dir(&iso.medium, data, dir.offset).unwrap() {
            out.push((
                r.offset as usize,
                r.system_use_offset as usize + r.system_use.len(),
            ));
        }
        todo.extend(
            iso.list(&dir)
                .unwrap()
                .into_iter()
                .filter(|n| n.kind == Kind::Dir),
        );
    }
    out
}

#[test]
fn mutated_images_never_panic() {
    let Some(base) = image() else { return };
    assert_eq!(exercise(&open_bytes("fuzz", base.clone()).unwrap()), 0);
    let ranges = metadata(&base);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut damaged = 0;
    for round in 0..1500 {
        let mut bytes = base.clone();
        for _ in 0..1 + rng.below(4) {
            let (start, end) = ranges[rng.below(ranges.len())];
            let at = start + rng.below(end - start);
            bytes[at] = match rng.below(4) {
                0 => 0,
                1 => 0xFF,
                2 => bytes[at].wrapping_add(1 + rng.below(3) as u8),
                _ => rng.next() as u8,
            };
        }
        if round % 10 == 0 {
            bytes.truncate(rng.below(base.len()));
        }
        damaged += usize::from(open_bytes("fuzz", bytes).map_or(true, |iso| exercise(&iso) > 0));
    }
    // Many bytes of a record do not matter (dates, big-endian copies,
    // ISO names under Rock Ridge), but enough do: the reading code ran.
    assert!(
        damaged > 200,
        "only {damaged} of 1500 mutated images gave errors"
    );
}

#[test]
fn every_prefix_of_the_metadata_is_handled() {
    let Some(base) = image() else { return };
    let first_data = open_bytes("fuzz", base.clone())
        .unwrap()
        .lookup("/isolinux/kernel")
        .unwrap()
        .offset as usize;
    for end in (0..first_data + 4096).step_by(509) {
        if let Ok(iso) = open_bytes("fuzz", base[..end].to_vec()) {
            exercise(&iso);
        }
    }
}

#[test]
fn random_configs_never_panic() {
    const WORDS: &[&str] = &[
        "label ",
        "kernel ",
        "linux ",
        "append ",
        "initrd=",
        ",",
        "menu ",
        "default ",
        "include ",
        "text help",
        "endtext",
        "menuentry ",
        "submenu ",
        "{",
        "}",
        "'",
        "\"",
        "$",
        "${",
        ">",
        "set default=",
        "source ",
        "\n",
        " ",
        ";",
        "#",
        "\t",
        "\\",
        "é",
        "\0",
    ];
    let mut rng = Rng(42);
    let mut reader = |p: &str| {
        if p.len().is_multiple_of(2) {
            Ok(fixture!("include-menu.cfg").to_string())
        } else {
            Err("no".to_string())
        }
    };
    for _ in 0..3000 {
        let len = rng.below(120);
        let text: String = (0..len)
            .map(|_| {
                if rng.below(3) == 0 {
                    char::from(b'a' + rng.below(26) as u8).to_string()
                } else {
                    WORDS[rng.below(WORDS.len())].to_string()
                }
            })
            .collect();
        for m in [
            syslinux::parse("/isolinux/isolinux.cfg", &text, &mut reader),
            grub::menu("/boot/grub/grub.cfg", &text, &mut reader),
        ] {
            let _ = choose(&m, "fuzz", None);
            let _ = choose(&m, "fuzz", Some(&text));
            m.entries.iter().for_each(|e| drop(e.cmdline(&text)));
        }
    }
}

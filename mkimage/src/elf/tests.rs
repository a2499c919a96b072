use super::*;

use crate::elf::testelf::{build, Spec};

/// A small ELF executable: interpreter, two needed libraries, a runpath.
pub fn sample(class64: bool, little: bool) -> Vec<u8> {
    build(&Spec {
        class64,
        little,
        interp: Some("/lib/ld-test.so.1"),
        needed: &["libc.so.6", "libm.so.6"],
        runpath: Some("$ORIGIN/../lib"),
        ..Spec::default()
    })
}

#[test]
fn reads_every_class_and_byte_order() {
    for (class64, little) in [(true, true), (false, true), (true, false), (false, false)] {
        let elf = parse(&sample(class64, little)[..]).unwrap();
        assert_eq!(
            elf.kind,
            Kind {
                class64,
                little,
                machine: 62
            }
        );
        assert_eq!(elf.interp.as_deref(), Some(&b"/lib/ld-test.so.1"[..]));
        assert_eq!(elf.needed, [b"libc.so.6".to_vec(), b"libm.so.6".to_vec()]);
        assert_eq!(elf.runpath.as_deref(), Some(&b"$ORIGIN/../lib"[..]));
        assert_eq!(elf.rpath, None);
    }
}

#[test]
fn garbage_is_not_elf() {
    for data in [&b""[..], b"\x7fEL", b"#!/bin/sh\necho hi\n", &[0u8; 100]] {
        assert!(matches!(parse(data), Err(ElfErrorKind::NotElf)), "{data:?}");
    }
}

#[test]
fn every_truncation_is_an_error() {
    let full = sample(true, true);
    for cut in 4..full.len() {
        match parse(&full[..cut]) {
            Err(ElfErrorKind::Truncated(_)) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn damage_never_panics() {
    let full = sample(true, true);
    for i in 0..full.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut bad = full.clone();
            bad[i] ^= flip;
            let _ = parse(&bad[..]);
        }
    }
}

#[test]
fn bad_headers_say_what_is_wrong() {
    let mut obj = sample(true, true);
    obj[16] = 1; // ET_REL
    let err = parse(&obj[..]).unwrap_err().to_string();
    assert!(err.contains("not an executable or shared library"), "{err}");
    let mut class = sample(true, true);
    class[4] = 7;
    assert!(parse(&class[..])
        .unwrap_err()
        .to_string()
        .contains("class 7"));
    let mut far = sample(true, true);
    let at = far.len() - 4 * 16 + 8; // value of the DT_RUNPATH entry
    far[at..at + 8].copy_from_slice(&1000u64.to_le_bytes());
    let err = parse(&far[..]).unwrap_err().to_string();
    assert!(err.contains("outside the string table"), "{err}");
}

#[test]
fn file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("mkimage-elf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.so");
    std::fs::write(&cut, &sample(true, true)[..100]).unwrap();
    let err = read_file(&cut).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: truncated", cut.display())),
        "{err}"
    );
    let err = read_file(&dir.join("missing")).unwrap_err().to_string();
    assert!(err.contains("missing"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_a_real_program() {
    let Ok(elf) = read_file(Path::new("/bin/sh")) else {
        return;
    };
    assert!(elf.interp.is_some() || elf.needed.is_empty());
}

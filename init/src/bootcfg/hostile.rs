//! Hostile configs: whatever they say, reading them stays bounded in
//! memory and time (issue 14).

use super::{budget, grub, syslinux, MAX_FILES};
use std::collections::HashMap;

/// `set a=$a$a` forty times would be a terabyte-long word.
fn doubling() -> String {
    let mut t = String::from("set a=x\n");
    t.push_str(&"set a=$a$a\n".repeat(40));
    t.push_str("menuentry 'A' {\n  linux /vmlinuz $a\n}\n");
    t
}

#[test]
fn doubling_variable_is_an_error_naming_the_line() {
    let conf = grub::parse("grub.cfg", &doubling(), HashMap::new(), None);
    // The word `a=` + 2^15 * 2 bytes (line 17) is just over.
    assert_eq!(
        conf.error.as_deref(),
        Some("grub.cfg:17: a variable expands to more than 65536 bytes")
    );
    let menu = grub::menu(
        "/boot/grub/grub.cfg",
        &doubling(),
        &mut |_| Err("no".into()),
    );
    assert!(menu.entries.is_empty());
    assert!(
        menu.notes[0].ends_with("config not used"),
        "{:?}",
        menu.notes
    );
}

#[test]
fn deep_submenus_are_an_error() {
    let text = "submenu 'x' {\n".repeat(10_000);
    let conf = grub::parse("grub.cfg", &text, HashMap::new(), None);
    assert_eq!(
        conf.error.as_deref(),
        Some("grub.cfg:33: blocks nested more than 32 deep")
    );
    assert!(conf.items.is_empty());
    let ok = "submenu 'x' {\n".repeat(31) + "menuentry 'e' {\nlinux /k\n}\n";
    let conf = grub::parse("grub.cfg", &ok, HashMap::new(), None);
    assert_eq!(conf.error, None);
}

/// Ten includes of the next file per file, seven files deep: without a
/// budget, ten million reads.
fn fan_out(keyword: &str) -> impl FnMut(&str) -> Result<String, String> + '_ {
    move |p: &str| {
        let n: usize = p.trim_start_matches("/f").parse().unwrap_or(0);
        Ok(if n < 7 {
            format!("{keyword} /f{}\n", n + 1).repeat(10)
        } else {
            String::new()
        })
    }
}

/// `parse` reads through the budget a fan-out of `keyword` lines: it
/// stops at MAX_FILES reads and says so.
fn assert_budgeted(keyword: &str, parse: impl FnOnce(super::Reader<'_>) -> Vec<String>) {
    let mut reads = 0;
    let mut inner = fan_out(keyword);
    let mut counted = |p: &str| {
        reads += 1;
        inner(p)
    };
    let mut read = budget(&mut counted);
    let notes = parse(&mut read);
    drop(read);
    assert_eq!(reads, MAX_FILES, "{keyword}");
    assert!(
        notes.iter().any(|n| n.contains("included files in all")),
        "{keyword}: {notes:?}"
    );
}

#[test]
fn includes_are_read_within_a_budget() {
    for keyword in ["source", "configfile"] {
        assert_budgeted(keyword, |read| {
            grub::menu("/grub.cfg", "source /f0\n", read).notes
        });
    }
    assert_budgeted("include", |read| {
        syslinux::parse("/isolinux.cfg", "include /f0\n", read).notes
    });
}

#[test]
fn included_bytes_are_bounded() {
    let big = "# padding\n".repeat(1 << 20);
    let mut reads = 0;
    let mut counted = |_: &str| {
        reads += 1;
        Ok(big.clone())
    };
    let mut read = budget(&mut counted);
    let text = (0..20)
        .map(|i| format!("source /f{i}\n"))
        .collect::<String>();
    let menu = grub::menu("/grub.cfg", &text, &mut read);
    drop(read);
    assert_eq!(reads, 1);
    assert!(menu
        .notes
        .iter()
        .any(|n| n.contains("bytes of included files")));
}

#[test]
fn bls_expansion_is_bounded() {
    let env: grub::Env = [("a".to_string(), "x".repeat(1000))].into_iter().collect();
    let (out, unset) = super::bls::expand(&"$a ".repeat(100_000), &env);
    assert!(out.len() <= grub::script::MAX_EXPANDED, "{}", out.len());
    assert!(unset.is_empty());
}

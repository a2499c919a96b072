//! The man pages cannot drift from the init: every `rescue.*` option its
//! command line parser accepts and every config key (the table in
//! init/src/config.rs), and every handoff file key (init/src/handoff/
//! file.rs), is documented in the page that owns it. Checked in the scdoc
//! sources under docs/man/, and in the pages as groff renders them (so a
//! key scdoc would mangle, or a groff warning, fails too).

use regex::Regex;
use rescue_tests::{have, paths, skip};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const RESCUE_INIT_8: &str = "rescue-init.8";
const CONF_5: &str = "rescue-init.conf.5";
const HANDOFF_5: &str = "rescue-init-handoff.5";

fn source(rel: &str) -> String {
    let path = paths::workspace_root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// (config key, command line option) from config.rs's KEYS table; the
/// config key is empty for options without one (rescue.test-panic).
fn config_table() -> Vec<(String, String)> {
    let text = source("init/src/config.rs");
    let start = text
        .find("const KEYS: &[(&str, &str, Key)] = &[")
        .expect("init/src/config.rs: no KEYS table (renamed? update this test)");
    let table = &text[start
        ..start
            + text[start..]
                .find("];")
                .expect("init/src/config.rs: KEYS table not closed")];
    let row = Regex::new(r#"\("([A-Z_]*)",\s*"([a-z.-]+)",\s*Key::\w+\)"#).unwrap();
    let rows: Vec<(String, String)> = row
        .captures_iter(table)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    // The table's row count, counted independently: a row the regex misses
    // would otherwise go unchecked.
    assert_eq!(
        rows.len(),
        table.matches("Key::").count(),
        "init/src/config.rs: a KEYS row this test cannot read:\n{table}"
    );
    assert!(
        rows.len() >= 12 && rows.iter().any(|r| r.1 == "rescue.shell"),
        "implausible KEYS table: {rows:?}"
    );
    rows
}

/// The keys of the handoff file (handoff/file.rs's KEYS).
fn handoff_keys() -> Vec<String> {
    let text = source("init/src/handoff/file.rs");
    let line = text
        .lines()
        .find(|l| l.starts_with("pub const KEYS: &[&str] = &["))
        .expect("init/src/handoff/file.rs: no KEYS");
    let keys: Vec<String> = Regex::new(r#""([A-Z_]+)""#)
        .unwrap()
        .captures_iter(line)
        .map(|c| c[1].to_string())
        .collect();
    assert!(
        keys.len() >= 6 && keys.contains(&"ROOT".to_string()),
        "implausible handoff KEYS: {keys:?}"
    );
    keys
}

/// The words of `wanted` that `text` does not contain as a whole word (a
/// longer option or key that merely starts with it does not count).
fn missing<'a>(text: &str, wanted: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let word = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    wanted
        .into_iter()
        .filter(|w| {
            !text.match_indices(w).any(|(i, _)| {
                !text[..i].chars().next_back().is_some_and(word)
                    && !text[i + w.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| word(c) && c != '.')
            })
        })
        .collect()
}

/// What each page must document.
fn required() -> Vec<(&'static str, Vec<String>)> {
    let table = config_table();
    let options: Vec<String> = table
        .iter()
        .map(|r| r.1.clone())
        .chain(["console".to_string()])
        .collect();
    // rescue.test-panic has no config key, so no place in the config page.
    let with_key: Vec<&(String, String)> = table.iter().filter(|r| !r.0.is_empty()).collect();
    let conf: Vec<String> = with_key
        .iter()
        .flat_map(|r| [r.0.clone(), r.1.clone()])
        .collect();
    vec![
        (RESCUE_INIT_8, options),
        (CONF_5, conf),
        (HANDOFF_5, handoff_keys()),
    ]
}

fn check(page: &str, text: &str, want: &[String]) {
    let gone = missing(text, want.iter().map(String::as_str));
    assert!(
        gone.is_empty(),
        "{page} does not document {gone:?} (the init accepts them)"
    );
}

#[test]
fn every_option_and_key_is_in_the_scdoc_sources() {
    for (page, want) in required() {
        // scdoc's escapes (`\_`, `\*`) are not part of the word.
        check(
            page,
            &source(&format!("docs/man/{page}.scd")).replace('\\', ""),
            &want,
        );
    }
}

/// scdoc, then groff at a line length no option wraps at; groff's
/// warnings (`-ww`) are failures.
fn render(page: &str) -> String {
    let src = paths::workspace_root().join(format!("docs/man/{page}.scd"));
    let scdoc = Command::new("scdoc")
        .stdin(std::fs::File::open(&src).unwrap())
        .output()
        .expect("running scdoc");
    assert!(
        scdoc.status.success(),
        "scdoc < {}: {}",
        src.display(),
        String::from_utf8_lossy(&scdoc.stderr)
    );
    let mut groff = Command::new("groff")
        .args(["-man", "-t", "-Tutf8", "-ww", "-rLL=2000n", "-P-cbou"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running groff");
    std::io::Write::write_all(&mut groff.stdin.take().unwrap(), &scdoc.stdout).unwrap();
    let out = groff.wait_with_output().unwrap();
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && warnings.trim().is_empty(),
        "groff on {page} (from {}): {warnings}",
        src.display()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_option_and_key_is_in_the_rendered_pages_without_groff_warnings() {
    if !(have("scdoc") && have("groff"))
        && skip("scdoc or groff is not installed (apt-get install scdoc groff-base)")
    {
        return;
    }
    for (page, want) in required() {
        check(page, &render(page), &want);
    }
}

/// The check itself can fail: a page without an option, or with only a
/// longer option that starts with its name, is caught.
#[test]
fn the_check_catches_an_undocumented_option() {
    let want = ["rescue.udev", "rescue.debug", "RUN"];
    assert_eq!(
        missing("*rescue.udev=*auto and *rescue.debug*. *RUN=*x", want),
        Vec::<&str>::new()
    );
    assert_eq!(
        missing("*rescue.udevx=* *rescue.debug-more* RUNNING", want),
        want.to_vec()
    );
    assert_eq!(
        missing("see rescue.udev.", ["rescue.udev"]),
        Vec::<&str>::new()
    );
    let page = PathBuf::from("docs/man/rescue-init.8.scd");
    let text =
        source(&page.display().to_string()).replace("rescue.coldplug-timeout", "rescue.coldplug");
    let result = std::panic::catch_unwind(|| check(RESCUE_INIT_8, &text, &required()[0].1));
    let msg = *result
        .expect_err("a page without rescue.coldplug-timeout passed")
        .downcast::<String>()
        .unwrap();
    assert!(msg.contains("\"rescue.coldplug-timeout\""), "{msg}");
}

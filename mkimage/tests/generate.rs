//! `mkimage generate`: the man page and the completions, from the same
//! definition as `--help`.

mod common;

use common::*;
use std::fs;

/// The long options a `--help` text lists (`--name` at the start of an
/// option line).
fn long_options(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| {
            l.trim_start()
                .split([',', ' '])
                .find(|w| w.starts_with("--"))
        })
        .map(|w| w.trim_end_matches(['=', ',']).to_string())
        .collect()
}

#[test]
fn the_man_page_has_every_option_of_every_command() {
    let s = Scratch::new("man");
    let out = mkimage(["generate", "man", s.0.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let roff = fs::read_to_string(s.path("mkimage.1")).unwrap();
    // roff writes a hyphen as \-.
    let page = roff.replace("\\-", "-");
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    for cmd in ["build", "pack", "list", "extract"] {
        let heading = format!(".SH \"MKIMAGE {}\"", cmd.to_uppercase());
        assert!(page.contains(&heading), "no {heading}");
        let help = mkimage_ok([cmd, "--help"]);
        let options = long_options(&help);
        assert!(
            options.contains(&"--help".to_string()),
            "{cmd}: {options:?}"
        );
        for option in options {
            assert!(
                page.contains(&option),
                "{option} of {cmd} is not in the man page"
            );
        }
    }
    assert!(long_options(&mkimage_ok(["build", "--help"])).len() > 20);
    // The manifest's format is described.
    assert!(page.contains("Manifest (--config FILE)"), "{page}");
    // Without a directory, the page goes to stdout.
    assert_eq!(mkimage_ok(["generate", "man"]), roff);
}

#[test]
fn completions_for_three_shells() {
    let s = Scratch::new("completions");
    for (shell, file, marker) in [
        ("bash", "mkimage.bash", "complete -F"),
        ("zsh", "_mkimage", "#compdef mkimage"),
        ("fish", "mkimage.fish", "complete -c mkimage"),
    ] {
        let out = mkimage(["generate", shell, s.0.to_str().unwrap()]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let text = fs::read_to_string(s.path(file)).unwrap();
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(text.contains("warn-image-size"), "{shell}");
        // The hidden command completes nothing.
        assert!(!text.contains("generate"), "{shell}");
    }
    let out = mkimage(["generate", "csh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("possible values: man, bash, zsh, fish"));
}

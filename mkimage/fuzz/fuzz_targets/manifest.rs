//! Arbitrary text as a `build --config` manifest: the TOML reader and the
//! option values must give options or an error at a line and column of
//! the text, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = mkimage::cli::manifest::parse(text) {
        assert!(e.line >= 1 && e.line <= text.split('\n').count(), "{e}");
        assert!(e.column >= 1, "{e}");
    }
});

//! Arbitrary text as a `build --config` manifest: the TOML-subset reader
//! must return settings or an error with a line in the text, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match mkimage::manifest::parse(text) {
        Ok(settings) => {
            for s in settings {
                assert!(s.line >= 1 && s.line <= text.lines().count().max(1));
            }
        }
        Err(e) => assert!(e.line >= 1 && e.line <= text.split('\n').count()),
    }
});

//! The handoff file parser never panics, and a parsed file builds a plan
//! (against an empty root) without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(file) = rescue_init::handoff::parse("fuzz", text) {
        let _ = rescue_init::handoff::build(&file, Path::new("fuzz"), Path::new("/nonexistent/host-cmdline"));
    }
});

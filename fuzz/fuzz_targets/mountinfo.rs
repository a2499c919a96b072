//! /proc/self/mountinfo parsing never panics on garbled input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = rescue_init::mountinfo::parse("fuzz", text);
});

//! The inittab reader of ReaR mode never panics, reports at most one
//! problem per line, and never invents entries.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (tab, errors) = rescue_init::rear::inittab::parse("fuzz", text);
    assert!(tab.entries.len() + errors.len() <= text.lines().count());
});

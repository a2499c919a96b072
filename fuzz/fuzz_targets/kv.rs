//! The KEY=VALUE reader of the config file never panics, and what it
//! accepts, the config applies without panicking either.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = rescue_init::kv::parse("fuzz", text, &["A", "B_1", "SHELL"]);
    let mut cfg = rescue_init::config::Config::default();
    let _ = cfg.apply_file("fuzz", text);
});

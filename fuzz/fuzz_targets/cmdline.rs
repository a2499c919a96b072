//! The kernel command line splitter, the config it feeds, and the
//! rescue.run word splitter never panic on any input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (params, _errors) = rescue_init::cmdline::parse(text);
    for p in &params {
        if let Some(v) = &p.value {
            let _ = rescue_init::cmdline::split_words(v);
        }
    }
    let mut cfg = rescue_init::config::Config::default();
    let _ = cfg.apply_cmdline(text);
});

//! Arbitrary bytes as a raw deflate stream for the block walk that joins
//! parallel gzip pieces: it must fail cleanly, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mkimage::fuzz_deflate_sync(data);
});

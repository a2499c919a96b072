//! Arbitrary bytes as an initramfs image: the segment walker, the
//! decompressors and the newc reader must fail cleanly, never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mkimage::inspect::list::list_from(Path::new("fuzz"), data, &mut std::io::sink());
});

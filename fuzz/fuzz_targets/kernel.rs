//! The kernel files PID 1 reads from the recovered system at the handoff
//! (bzImage and arm64 Image headers, gzip and EFI zboot packing) and the
//! device tree it rewrites on arm64: never a panic, bounded memory, and a
//! device tree written back reads again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rescue_init::fuzz_kernel_file(data));

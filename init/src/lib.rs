//! rescue-init: a PID 1 for rescue initramfs images.
//!
//! `main.rs` dispatches to `pid1` or an applet; each phase or concern
//! lives in a module of its own. Only `sys` may use `unsafe`: the
//! workspace denies it, and the one `allow` is on `mod sys` below.
//! Modules are `pub` only where `main.rs` (`applets`, `pid1`) or the fuzz
//! targets (the parsers of outside input) need them, so that the compiler
//! finds dead code.

#[macro_use]
pub(crate) mod log;

pub(crate) mod analyze;
pub mod applets;
pub mod bootcfg;
pub(crate) mod bootscripts;
pub mod cmdline;
pub mod config;
pub(crate) mod console;
pub(crate) mod events;
pub(crate) mod fsread;
pub mod handoff;
pub mod iso;
pub(crate) mod kexec;
pub mod kv;
pub(crate) mod line_error;
pub(crate) mod memfile;
pub(crate) mod modules;
pub(crate) mod mount;
pub mod mountinfo;
pub mod pid1;
pub(crate) mod preflight;
pub(crate) mod procs;
pub(crate) mod reap;
pub mod rear;
pub(crate) mod shutdown;
pub(crate) mod signals;
pub(crate) mod sort;
pub(crate) mod spawn;
pub(crate) mod supervise;
pub(crate) mod sync;
#[allow(unsafe_code)]
pub(crate) mod sys;
pub(crate) mod teardown;
#[cfg(test)]
mod test_rng;
pub(crate) mod timed;
pub(crate) mod timeline;
pub(crate) mod udev;
pub(crate) mod watchdog;

/// The parsers of kernel files, for the `kernel` fuzz target: an x86-64
/// bzImage header, a gzip or EFI zboot kernel unpacked (within 16 MiB) and
/// its arm64 Image header, a device tree read and written back. Never
/// panics; a tree that reads must read again after writing.
#[doc(hidden)]
pub fn fuzz_kernel_file(data: &[u8]) {
    let _ = handoff::parse_bzimage_header(data, data.len() as u64);
    if let Ok((image, _)) = kexec::unpack::unpack_within(data.to_vec(), 16 << 20) {
        let _ = kexec::arm64::image_header(&image);
    }
    if let Ok(tree) = kexec::fdt::Fdt::parse(data) {
        let again = tree.write();
        assert!(
            kexec::fdt::Fdt::parse(&again).is_ok(),
            "a device tree that was read does not read again once written"
        );
    }
}

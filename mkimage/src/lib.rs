//! mkimage as a library: the image builder, reader and extractor. The
//! `mkimage` binary is [`run`]; the fuzz targets call
//! [`cli::manifest::parse`], [`inspect::list::list_from`] and
//! [`fuzz_deflate_sync`]. The rest is
//! crate-private, so that the compiler finds what no one uses.
//!
//! The parts, from the command line down (each folder's tests are in
//! `x/tests.rs` beside module `x`, or inline):
//!
//! - `commands.rs`: what each command does, and what it says on stderr;
//! - `cli/`: the arguments, the `--config` manifest, the help, the man
//!   page and the completions;
//! - `image.rs`: what goes into an image, the policy of `build` and `pack`;
//! - `tree/`: the image's file tree and what feeds it from the host
//!   (directories, files, `--bin` programs with their libraries), and
//!   `--exclude`;
//! - `elf/`: ELF reading, the dynamic loader's search rules and
//!   `ld.so.conf`, for `--bin`;
//! - `kmod/`: kernel modules: which ones an image gets, the host's modules
//!   directory and `.modinfo`, the image's modules directory with kmod's
//!   indexes, firmware;
//! - `archive/`: writing the image: the newc archive, `--dedup`, the
//!   segments before it (`--append-to`, `--microcode`), the atomic output
//!   file, the progress bar;
//! - `report/`: what `build` and `pack` report: the numbers, the largest
//!   directories, the size warnings;
//! - `inspect/`: reading images back: their segments, `list`, `extract`;
//! - `compress/`: every compressor and decompressor, and the default
//!   method from the target kernel's config;
//! - `cpio/`: the newc format, read and written.
#![forbid(unsafe_code)]

pub(crate) mod archive;
pub mod cli;
mod commands;
pub(crate) mod compress;
pub(crate) mod cpio;
pub(crate) mod elf;
pub(crate) mod image;
pub mod inspect;
pub(crate) mod kmod;
pub(crate) mod report;
pub(crate) mod tree;

pub use commands::run;

/// For the fuzz target `deflate`: the block walk that joins libdeflate's
/// pieces into one gzip member refuses what it does not understand and
/// never panics.
pub fn fuzz_deflate_sync(data: &[u8]) {
    let _ = compress::pgzip::sync::to_sync_flush(&mut data.to_vec());
}

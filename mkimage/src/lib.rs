//! mkimage as a library: the image builder, reader and extractor that
//! the `mkimage` binary drives (also used by the fuzz targets).
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

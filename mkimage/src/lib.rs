//! mkimage as a library: the image builder, reader and extractor that
//! the `mkimage` binary drives (also used by the fuzz targets).
#![forbid(unsafe_code)]

pub mod archive;
pub mod cli;
mod commands;
pub mod compress;
pub mod cpio;
pub mod elf;
pub mod image;
pub mod inspect;
pub mod kmod;
pub mod report;
pub mod tree;

pub use commands::run;

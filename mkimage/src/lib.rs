//! mkimage as a library: the image builder, reader and extractor that
//! the `mkimage` binary drives (also used by the fuzz targets).
#![forbid(unsafe_code)]

pub mod archive;
pub mod cli;
pub mod compress;
pub mod cpio;
pub mod elf;
pub mod extract;
pub mod extract_fs;
pub mod image;
pub mod kmod;
pub mod list;
pub mod report;
pub mod segments;
pub mod tree;

//! mkimage: builds newc initramfs images for rescue-init.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    mkimage::run(std::env::args_os().skip(1))
}

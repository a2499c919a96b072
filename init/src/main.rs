//! rescue-init: PID 1 of a rescue image, and its applets.
//!
//! As PID 1 it boots the rescue system (see `pid1::run`). Called as
//! `reboot`, `poweroff` or `halt` (by name or as `rescue-init reboot`) it
//! asks PID 1 to do that.
#![deny(unsafe_code)]

use rescue_init::{applet, pid1};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if rustix::process::getpid().is_init() {
        pid1::run(&args[1.min(args.len())..]);
    }
    let name = args.first().map(|a| Path::new(a).file_name().unwrap_or_default().to_string_lossy().into_owned());
    let name = name.unwrap_or_default();
    let (name, rest) = match applet::request_for(&name) {
        Some(_) => (name, &args[1..]),
        None if args.len() > 1 => (args[1].clone(), &args[2..]),
        None => (String::new(), &args[..0]),
    };
    let code = match applet::request_for(&name) {
        Some(req) => applet::main(&name, req, rest),
        None => {
            eprintln!("{}", usage());
            2
        }
    };
    std::process::exit(code);
}

fn usage() -> String {
    format!(
        "rescue-init {}: PID 1 for rescue initramfs images\n\n\
         usage: rescue-init reboot|poweroff|halt [-f] [-n]\n\
         (also installed as /sbin/reboot, /sbin/poweroff, /sbin/halt)\n\n\
         As PID 1 it reads rescue.* options from the kernel command line and\n\
         /etc/rescue-init/config; see README.md.",
        env!("CARGO_PKG_VERSION")
    )
}

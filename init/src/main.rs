//! rescue-init: PID 1 of a rescue image, and its applets.
//!
//! As PID 1 it boots the rescue system (see `pid1::run`). Called as
//! `reboot`, `poweroff` or `halt` (by name or as `rescue-init reboot`) it
//! asks PID 1 to do that.
#![deny(unsafe_code)]

use rescue_init::handoff::{self, Plan};
use rescue_init::{applet, kexec, pid1};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if rustix::process::getpid().is_init() {
        pid1::run(&args[1.min(args.len())..]);
    }
    if args.get(1).map(String::as_str) == Some("handoff") && args.get(2).map(String::as_str) == Some("check") {
        std::process::exit(handoff::check_main_with(&args[3..], Some(&load_and_unload)));
    }
    if args.get(1).map(String::as_str) == Some("kexec") {
        std::process::exit(rescue_init::kexec_cli::main(&args[2..]));
    }
    let name = args.first().map(|a| Path::new(a).file_name().unwrap_or_default().to_string_lossy().into_owned());
    let name = name.unwrap_or_default();
    if name == "modprobe" {
        std::process::exit(rescue_init::modules::modprobe_main(&args[1..]));
    }
    if args.get(1).map(String::as_str) == Some("modprobe") {
        std::process::exit(rescue_init::modules::modprobe_main(&args[2..]));
    }
    if name == "shutdown" {
        std::process::exit(applet::shutdown_main(&args[1..]));
    }
    if args.get(1).map(String::as_str) == Some("shutdown") {
        std::process::exit(applet::shutdown_main(&args[2..]));
    }
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

/// `handoff check --load`: really load the planned kernel, then unload it.
fn load_and_unload(plan: &Plan) -> Result<(), String> {
    let k = plan.kexec.as_ref().ok_or("the plan does not kexec")?;
    let initrd = k.initrd.as_ref().map(|(p, _)| p.as_path());
    let method = kexec::load(&k.kernel.0, initrd, &k.cmdline.0).map_err(|e| e.to_string())?;
    println!("loaded with {method:?}; {} says 1; unloading", "/sys/kernel/kexec_loaded");
    kexec::unload().map_err(|e| format!("unload: {e}"))
}

fn usage() -> String {
    format!(
        "rescue-init {}: PID 1 for rescue initramfs images\n\n\
         usage: rescue-init reboot|poweroff|halt [-f] [-n]\n\
                rescue-init shutdown [-r|-h|-P|-H] [now|+0] (also /sbin/shutdown)\n\
                rescue-init handoff check [FILE] [--load] [--host-cmdline PATH]\n\
                rescue-init modprobe [-q] [-n] [-v] [-a] [--show-depends] NAME... (also /sbin/modprobe)\n\
                rescue-init kexec -l KERNEL [--initrd=FILE] [--command-line=STR] | -e | -u | -f\n\
                rescue-init kexec --iso PATH [--entry LABEL] [--list] [-e | --load-only]\n\
         (also installed as /sbin/reboot, /sbin/poweroff, /sbin/halt)\n\n\
         As PID 1 it reads rescue.* options from the kernel command line and\n\
         /etc/rescue-init/config; see README.md.",
        env!("CARGO_PKG_VERSION")
    )
}

//! rescue-init: PID 1 of a rescue image, and its applets.
//!
//! As PID 1 it boots the rescue system (`pid1::run`, which never
//! returns). Otherwise it is one of the applets below, chosen by the name
//! it was called by (a link such as /sbin/reboot) or by its first
//! argument (`rescue-init kexec ...`).

use rescue_init::{applets, pid1};
use std::path::Path;

struct Applet {
    name: &'static str,
    main: fn(&[String]) -> i32,
    /// Its lines in the usage text (after `rescue-init `).
    usage: &'static [&'static str],
    /// Installed as a link of its own, so the name it was called by
    /// selects it.
    linked: bool,
}

const APPLETS: &[Applet] = &[
    Applet {
        name: "reboot",
        main: applets::reboot::main,
        usage: &["reboot|poweroff|halt [-f] [-n]"],
        linked: true,
    },
    Applet {
        name: "poweroff",
        main: applets::reboot::main,
        usage: &[],
        linked: true,
    },
    Applet {
        name: "halt",
        main: applets::reboot::main,
        usage: &[],
        linked: true,
    },
    Applet {
        name: "shutdown",
        main: applets::shutdown::main,
        usage: &["shutdown [-r|-h|-P|-H] [now|+0] (also /sbin/shutdown)"],
        linked: true,
    },
    Applet {
        name: "handoff",
        main: applets::handoff::main,
        usage: &[
            "handoff check [FILE] [--load] [--host-cmdline PATH]",
            "handoff load [FILE] [--host-cmdline PATH]",
        ],
        linked: false,
    },
    Applet {
        name: "modprobe",
        main: applets::modprobe::main,
        usage: &["modprobe [-q] [-n] [-v] [-a] [--show-depends] NAME... (also /sbin/modprobe)"],
        linked: true,
    },
    Applet {
        name: "analyze",
        main: applets::analyze::main,
        usage: &[
            "analyze [blame | critical-chain | plot | json] [--handoff [FILE]] | mark GROUP NAME",
        ],
        linked: false,
    },
    Applet {
        name: "kexec",
        main: applets::kexec::main,
        usage: &[
            "kexec -l KERNEL [--initrd=FILE] [--command-line=STR] | -e | -u | -f",
            "kexec --iso PATH [--entry LABEL] [--list] [-e | --load-only]",
        ],
        linked: false,
    },
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if rustix::process::getpid().is_init() {
        pid1::run(&args[1.min(args.len())..]);
    }
    let called = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned());
    let applet = |name: &str| APPLETS.iter().find(|a| a.name == name);
    let (applet, rest) = match called.as_deref().and_then(applet).filter(|a| a.linked) {
        Some(a) => (a, &args[1..]),
        None => match args.get(1).and_then(|n| applet(n)) {
            Some(a) => (a, &args[2..]),
            None => {
                eprintln!("{}", usage());
                std::process::exit(2);
            }
        },
    };
    let argv: Vec<String> = std::iter::once(applet.name.to_string())
        .chain(rest.iter().cloned())
        .collect();
    std::process::exit((applet.main)(&argv));
}

fn usage() -> String {
    let lines: Vec<&str> = APPLETS
        .iter()
        .flat_map(|a| a.usage.iter().copied())
        .collect();
    format!(
        "rescue-init {}: PID 1 for rescue initramfs images\n\n\
         usage: rescue-init {}\n\
         (also installed as /sbin/reboot, /sbin/poweroff, /sbin/halt)\n\n\
         As PID 1 it reads rescue.* options from the kernel command line and\n\
         /etc/rescue-init/config; see rescue-init(8).",
        env!("CARGO_PKG_VERSION"),
        lines.join("\n       rescue-init ")
    )
}

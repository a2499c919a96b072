//! `reboot`, `poweroff` and `halt`: the same binary, called by these names
//! (or as `rescue-init reboot`), asks PID 1 to do it. `-f` acts at once
//! (sync, then the system call) as busybox's applets do.

use crate::signals::Request;
use crate::sys;
use rustix::system::RebootCommand;

fn request_for(name: &str) -> Option<Request> {
    match name {
        "reboot" => Some(Request::Reboot),
        "poweroff" => Some(Request::Poweroff),
        "halt" => Some(Request::Halt),
        _ => None,
    }
}

struct Opts {
    force: bool,
    no_sync: bool,
    firmware: bool,
}

fn parse(name: &str, args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        force: false,
        no_sync: false,
        firmware: false,
    };
    for a in args {
        match a.as_str() {
            "-f" | "--force" => o.force = true,
            "-n" | "--no-sync" => o.no_sync = true,
            "--firmware" if name == "reboot" => o.firmware = true,
            "-h" | "--help" => return Err(usage(name)),
            other => return Err(format!("{name}: unknown option {other:?}\n{}", usage(name))),
        }
    }
    Ok(o)
}

fn usage(name: &str) -> String {
    format!(
        "usage: {name} [-f] [-n]{fw}\n  asks PID 1 (rescue-init) to {name} cleanly: processes stopped, disks synced and unmounted\n  -f  {name} at once, without stopping anything (sync first unless -n)\n  -n  with -f: do not sync{fwhelp}",
        fw = if name == "reboot" { " [--firmware]" } else { "" },
        fwhelp = if name == "reboot" {
            "\n  --firmware  reboot through the firmware even when a handoff file asks for kexec"
        } else {
            ""
        }
    )
}

/// `argv[0]` (`reboot`, `poweroff` or `halt`) says what to do.
pub fn main(argv: &[String]) -> i32 {
    let name = argv.first().map_or("", String::as_str);
    let Some(req) = request_for(name) else {
        eprintln!("{}", usage("reboot"));
        return 2;
    };
    let opts = match parse(name, &argv[1..]) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return 2;
        }
    };
    if opts.force {
        return force(name, req, opts.no_sync);
    }
    ask_pid1(
        name,
        if opts.firmware {
            Request::FirmwareReboot
        } else {
            req
        },
    )
}

/// Signals the request to PID 1, which carries it out cleanly.
pub(super) fn ask_pid1(name: &str, req: Request) -> i32 {
    match sys::kill_raw(1, req.signal()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{name}: cannot signal PID 1: {e}");
            1
        }
    }
}

fn force(name: &str, req: Request, no_sync: bool) -> i32 {
    if !no_sync {
        rustix::fs::sync();
    }
    let cmd = match req {
        Request::Reboot | Request::Kexec | Request::FirmwareReboot => RebootCommand::Restart,
        Request::Halt => RebootCommand::Halt,
        Request::Poweroff => RebootCommand::PowerOff,
    };
    match rustix::system::reboot(cmd) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{name} -f: {e}");
            1
        }
    }
}

//! `reboot`, `poweroff` and `halt`: the same binary, called by these names
//! (or as `rescue-init reboot`), asks PID 1 to do it. `-f` acts at once
//! (sync, then the system call) as busybox's applets do.

use crate::signals::Request;
use crate::sys;
use rustix::system::RebootCommand;

pub fn request_for(name: &str) -> Option<Request> {
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
    let mut o = Opts { force: false, no_sync: false, firmware: false };
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

/// Runs the applet; returns the process exit status.
pub fn main(name: &str, req: Request, args: &[String]) -> i32 {
    let opts = match parse(name, args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return 2;
        }
    };
    if opts.force {
        return force(name, req, opts.no_sync);
    }
    let req = if opts.firmware { Request::FirmwareReboot } else { req };
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

/// `shutdown [-r|-h|-P|-H] [now|+0] [message]`, as ReaR's scripts and
/// people type it. A delayed shutdown is refused rather than silently made
/// immediate: there is no scheduler to honour it.
pub fn shutdown_main(args: &[String]) -> i32 {
    match parse_shutdown(args) {
        Ok(req) => {
            let name = match req {
                Request::Reboot => "reboot",
                Request::Halt => "halt",
                _ => "poweroff",
            };
            main(name, req, &[])
        }
        Err(msg) => {
            eprintln!("shutdown: {msg}\nusage: shutdown [-r|-h|-P|-H] [now|+0] [message]");
            2
        }
    }
}

fn parse_shutdown(args: &[String]) -> Result<Request, String> {
    let mut req = Request::Poweroff;
    let mut seen_time = false;
    for a in args {
        match a.as_str() {
            "-r" | "--reboot" => req = Request::Reboot,
            "-h" | "-P" | "--poweroff" => req = Request::Poweroff,
            "-H" | "--halt" => req = Request::Halt,
            "-c" => return Err("no delayed shutdown is pending (rescue-init does not schedule them)".into()),
            "now" | "+0" | "0" if !seen_time => seen_time = true,
            t if !seen_time && (t.starts_with('+') || t.contains(':')) => {
                return Err(format!("delayed shutdown {t:?} is not supported; use `sleep N; shutdown now`"))
            }
            o if o.starts_with('-') => return Err(format!("unknown option {o:?}")),
            // The wall message: there is nobody else to tell.
            _ => seen_time = true,
        }
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &str) -> Result<Request, String> {
        parse_shutdown(&a.split_whitespace().map(str::to_string).collect::<Vec<_>>())
    }

    #[test]
    fn shutdown_arguments() {
        assert_eq!(p("-r now"), Ok(Request::Reboot));
        assert_eq!(p("-h now going down"), Ok(Request::Poweroff));
        assert_eq!(p("-H +0"), Ok(Request::Halt));
        assert_eq!(p(""), Ok(Request::Poweroff));
        assert!(p("-r +5").unwrap_err().contains("delayed"));
        assert!(p("-r 12:30").unwrap_err().contains("delayed"));
        assert!(p("-c").is_err());
        assert!(p("-x now").unwrap_err().contains("unknown option"));
    }
}

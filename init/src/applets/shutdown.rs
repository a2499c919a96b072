//! `shutdown [-r|-h|-P|-H] [now|+0] [message]`, as ReaR's scripts and
//! people type it: asks PID 1 as `reboot`, `poweroff` or `halt` do. A
//! delayed shutdown is refused rather than silently made immediate:
//! there is no scheduler to honour it.

use crate::signals::Request;

pub fn main(argv: &[String]) -> i32 {
    match parse_shutdown(argv.get(1..).unwrap_or_default()) {
        Ok(req) => {
            let name = match req {
                Request::Reboot => "reboot",
                Request::Halt => "halt",
                _ => "poweroff",
            };
            super::reboot::ask_pid1(name, req)
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
            "-c" => {
                return Err(
                    "no delayed shutdown is pending (rescue-init does not schedule them)".into(),
                )
            }
            "now" | "+0" | "0" if !seen_time => seen_time = true,
            t if !seen_time && (t.starts_with('+') || t.contains(':')) => {
                return Err(format!(
                    "delayed shutdown {t:?} is not supported; use `sleep N; shutdown now`"
                ))
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

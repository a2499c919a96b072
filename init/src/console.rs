//! The console: PID 1's own stdio, and the terminals shells run on.

use rustix::fs::{open, Mode, OFlags};
use rustix::termios::{tcgetattr, tcsetattr, InputModes, LocalModes, OptionalActions, OutputModes};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

/// Puts `/dev/console` (or `/dev/null` when there is none) on fds 0–2 and
/// hands a copy to the logger.
pub fn attach_stdio() {
    let flags = OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = match open("/dev/console", flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => {
            crate::error!("cannot open /dev/console ({e}); using /dev/null");
            match open("/dev/null", flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(_) => return,
            }
        }
    };
    let _ = rustix::stdio::dup2_stdin(&fd);
    let _ = rustix::stdio::dup2_stdout(&fd);
    let _ = rustix::stdio::dup2_stderr(&fd);
    crate::log::attach_console(File::from(fd));
}

/// The terminals to run shells on: each `console=` device that exists,
/// else `/dev/console`.
pub fn shell_terminals(consoles: &[String]) -> Vec<PathBuf> {
    let mut ttys: Vec<PathBuf> = Vec::new();
    for name in consoles {
        let path = PathBuf::from("/dev").join(name);
        if path.exists() {
            ttys.push(path);
        } else {
            crate::warn!(
                "console={name}: {} does not exist; no shell there",
                path.display()
            );
        }
    }
    if ttys.is_empty() {
        ttys.push(PathBuf::from("/dev/console"));
    }
    ttys
}

/// Opens a terminal for a child's stdio, in a state a shell can use: a
/// shell killed while in raw mode must not leave the next one without echo.
pub fn open_terminal(path: &std::path::Path) -> std::io::Result<OwnedFd> {
    let fd = open(
        path,
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    if let Err(e) = make_sane(&fd) {
        crate::debug!("termios on {}: {e}", path.display());
    }
    Ok(fd)
}

fn make_sane(fd: impl AsFd) -> rustix::io::Result<()> {
    let mut t = tcgetattr(&fd)?;
    t.input_modes |= InputModes::ICRNL | InputModes::IXON;
    t.output_modes |= OutputModes::OPOST | OutputModes::ONLCR;
    t.local_modes |= LocalModes::ISIG
        | LocalModes::ICANON
        | LocalModes::ECHO
        | LocalModes::ECHOE
        | LocalModes::ECHOK
        | LocalModes::IEXTEN;
    tcsetattr(&fd, OptionalActions::Now, &t)
}

/// The TERM value for a terminal: serial lines get a VT100-compatible
/// type, virtual consoles `linux`.
pub fn term_for(path: &std::path::Path) -> &'static str {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let is_vt = name
        .strip_prefix("tty")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if is_vt || name == "console" {
        "linux"
    } else {
        "vt220"
    }
}

//! Starting children: a clean environment, the original signal state, and
//! (for shells and the recovery command) a session of their own with the
//! terminal as controlling tty.

use crate::console;
use crate::sys;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where a child's stdio goes.
pub enum Stdio3<'a> {
    /// A terminal, which also becomes the controlling tty of a new session.
    Terminal(&'a Path),
    /// PID 1's own stdio (the console, or a container's stdio); new session
    /// without a controlling tty.
    Inherit,
    /// stdin from /dev/null, output to PID 1's stdio (boot scripts).
    Detached,
}

/// A regular file (symlinks followed) that someone may execute.
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Builds a command for `argv` with the rescue environment.
pub fn command(argv: &[String], term: &str) -> io::Result<Command> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::other("empty command"))?;
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .env_clear()
        .env("PATH", PATH)
        .env("HOME", "/root")
        .env("TERM", term)
        .env("USER", "root")
        .env("LOGNAME", "root")
        .env("RESCUE_INIT", "1")
        .current_dir("/");
    Ok(cmd)
}

/// A login shell: argv[0] starts with `-` so it reads /etc/profile.
pub fn shell_command(shell: &str, term: &str) -> io::Result<Command> {
    let mut cmd = command(&[shell.to_string()], term)?;
    let base = Path::new(shell)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    cmd.arg0(format!("-{base}")).env("SHELL", shell);
    Ok(cmd)
}

/// Starts `cmd` owning the terminal `path` in a session of its own that a
/// keeper leads: a fork of PID 1 that makes the terminal its controlling
/// tty, runs `cmd` as the foreground process group, waits for it, lets the
/// terminal send what is still queued (`tcdrain`) and ends as `cmd` ended.
/// Returns the keeper's pid. Without the keeper `cmd` would lead the
/// session, and the hangup that its exit causes throws away output the
/// UART has not sent yet: the last lines of a recovery command were lost
/// on a serial console.
pub fn start_kept_session(mut cmd: Command, path: &Path) -> io::Result<i32> {
    let fd = console::open_terminal(path)?;
    cmd.stdin(Stdio::from(fd.try_clone()?))
        .stdout(Stdio::from(fd.try_clone()?))
        .stderr(Stdio::from(fd.try_clone()?));
    sys::foreground_group(&mut cmd);
    sys::prepare_child(&mut cmd, false, false);
    sys::fork_call(move || keep_session(cmd, fd))
}

fn keep_session(mut cmd: Command, tty: std::os::fd::OwnedFd) -> i32 {
    let led = rustix::process::setsid()
        .map_err(io::Error::from)
        .and_then(|_| sys::make_controlling_tty(&tty));
    if let Err(e) = led {
        crate::error!("cannot give {cmd:?} the console as its terminal: {e}");
    }
    let status = match cmd.spawn().and_then(|mut c| c.wait()) {
        Ok(s) => s,
        Err(e) => {
            crate::error!("{:?}: cannot start: {e}", cmd.get_program());
            return 127;
        }
    };
    let _ = rustix::termios::tcdrain(&tty);
    sys::exit_like(status)
}

/// Starts `cmd` with the given stdio; returns its pid.
pub fn start(mut cmd: Command, stdio: Stdio3<'_>) -> io::Result<i32> {
    match stdio {
        Stdio3::Terminal(path) => {
            let fd = console::open_terminal(path)?;
            cmd.stdin(Stdio::from(fd.try_clone()?))
                .stdout(Stdio::from(fd.try_clone()?))
                .stderr(Stdio::from(fd));
            sys::prepare_child(&mut cmd, true, true);
        }
        Stdio3::Inherit => sys::prepare_child(&mut cmd, true, false),
        Stdio3::Detached => {
            cmd.stdin(Stdio::null());
            sys::prepare_child(&mut cmd, true, false);
        }
    }
    let child = cmd.spawn()?;
    Ok(child.id() as i32)
}

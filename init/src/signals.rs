//! Signals as events: all of them arrive through one signalfd and become
//! either "reap children" or a shutdown request, which the main loop acts
//! on. No code runs in signal handlers.

use crate::sys;
use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Reboot,
    Halt,
    Poweroff,
    /// The kexec handoff (SIGRTMIN+6, as systemd numbers it).
    Kexec,
    /// A reboot through the firmware even when a handoff file exists
    /// (`reboot --firmware`; SIGRTMIN+7, our own number).
    FirmwareReboot,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Request::Reboot => "reboot",
            Request::Halt => "halt",
            Request::Poweroff => "poweroff",
            Request::Kexec => "kexec",
            Request::FirmwareReboot => "firmware reboot",
        })
    }
}

impl Request {
    /// The signal the applets send to PID 1 for this request.
    pub fn signal(self) -> i32 {
        match self {
            Request::Reboot => libc::SIGTERM,
            Request::Halt => libc::SIGUSR1,
            Request::Poweroff => libc::SIGUSR2,
            Request::Kexec => sys::sigrtmin() + 6,
            Request::FirmwareReboot => sys::sigrtmin() + 7,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Child,
    Request(Request),
    Other(i32),
}

/// Maps a signal number to what PID 1 does about it. SIGINT is what the
/// kernel sends for Ctrl-Alt-Del once `reboot(CAD_OFF)` is set; SIGPWR is
/// a UPS/power event, answered by halting as sysvinit does by default.
pub fn classify(sig: i32) -> Event {
    let rt = sys::sigrtmin();
    match sig {
        libc::SIGCHLD => Event::Child,
        libc::SIGINT | libc::SIGTERM => Event::Request(Request::Reboot),
        libc::SIGUSR1 | libc::SIGPWR => Event::Request(Request::Halt),
        libc::SIGUSR2 => Event::Request(Request::Poweroff),
        s if s == rt + 3 => Event::Request(Request::Halt),
        s if s == rt + 4 => Event::Request(Request::Poweroff),
        s if s == rt + 5 => Event::Request(Request::Reboot),
        s if s == rt + 6 => Event::Request(Request::Kexec),
        s if s == rt + 7 => Event::Request(Request::FirmwareReboot),
        s => Event::Other(s),
    }
}

/// One received signal: its number and who sent it.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub signo: i32,
    pub sender: u32,
}

pub struct Signals {
    fd: OwnedFd,
}

impl Signals {
    /// Takes over signal handling: blocks everything but the fault
    /// signals, ignores job control, and routes Ctrl-Alt-Del to SIGINT.
    pub fn take_over() -> std::io::Result<Signals> {
        let set = sys::block_signals()?;
        sys::ignore_job_control();
        let fd = sys::signalfd(&set)?;
        Ok(Signals { fd })
    }

    /// Reads one pending signal without blocking.
    pub fn read(&self) -> Option<Received> {
        // struct signalfd_siginfo is 128 bytes; ssi_signo is the first u32
        // and ssi_pid the fourth.
        let mut buf = [0u8; 128];
        match rustix::io::read(&self.fd, &mut buf) {
            Ok(128) => Some(Received {
                signo: u32_at(&buf, 0) as i32,
                sender: u32_at(&buf, 12),
            }),
            _ => None,
        }
    }
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_ne_bytes(b)
}

impl AsFd for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_roundtrip_through_their_signals() {
        for r in [
            Request::Reboot,
            Request::Halt,
            Request::Poweroff,
            Request::Kexec,
            Request::FirmwareReboot,
        ] {
            assert_eq!(classify(r.signal()), Event::Request(r));
        }
        assert_eq!(classify(libc::SIGINT), Event::Request(Request::Reboot));
        assert_eq!(
            classify(sys::sigrtmin() + 4),
            Event::Request(Request::Poweroff)
        );
        assert_eq!(classify(libc::SIGCHLD), Event::Child);
        assert_eq!(classify(libc::SIGHUP), Event::Other(libc::SIGHUP));
    }
}

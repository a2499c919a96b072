//! Reaping. SIGCHLDs coalesce, so every wake-up drains `waitpid(-1,
//! WNOHANG)` until nothing is left; orphans re-parented to PID 1 are reaped
//! with everybody else.

use rustix::io::Errno;
use rustix::process::{wait, WaitOptions, WaitStatus};

/// How a process ended, in words for the log.
pub fn describe(status: WaitStatus) -> String {
    if let Some(code) = status.exit_status() {
        format!("exited with status {code}")
    } else if let Some(sig) = status.terminating_signal() {
        format!("killed by signal {sig}")
    } else {
        format!("ended (wait status {:#x})", status.as_raw())
    }
}

/// Outcome of one drain.
pub struct Drained {
    /// True when PID 1 has no children left at all.
    pub no_children: bool,
}

/// Reaps every child that has ended, passing each to `on_exit`.
pub fn drain(mut on_exit: impl FnMut(i32, WaitStatus)) -> Drained {
    loop {
        // `wait` is waitpid(-1): any child, whatever its process group.
        match wait(WaitOptions::NOHANG) {
            Ok(Some((pid, status))) => on_exit(pid.as_raw_nonzero().get(), status),
            Ok(None) => return Drained { no_children: false },
            Err(Errno::CHILD) => return Drained { no_children: true },
            Err(Errno::INTR) => continue,
            Err(e) => {
                crate::error!("waitpid: {e}");
                return Drained { no_children: false };
            }
        }
    }
}

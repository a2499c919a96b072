//! Calls that may never return (an unmount or remount on a dead NFS
//! server, a swapoff or loop detach behind a stuck disk, the handoff's
//! reading of the recovered system) run in a forked child while PID 1
//! waits with a deadline; a child that misses it is sent SIGKILL and left
//! behind, stuck in the kernel, and PID 1 goes on.

use crate::events::Events;
use crate::sys;
use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::Errno;
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// Exit code of a child whose closure panicked (errno values stay below).
const PANICKED: i32 = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(Errno),
    /// No answer within the timeout; the child was sent SIGKILL.
    TimedOut,
    /// The child died oddly (signal, panic).
    Broken(String),
}

/// Runs `f` in a child and waits up to `timeout` for it. When fork fails,
/// `f` runs in PID 1 itself (not running it would be worse: a filesystem
/// left read-write).
/// A system call to make in a child.
pub type Call = Box<dyn FnOnce() -> Result<(), Errno>>;

pub fn call(events: &mut Events, timeout: Duration, f: Call) -> Outcome {
    let mut f = Some(f);
    let forked = sys::fork_call(|| {
        let Some(f) = f.take() else { return PANICKED };
        // A panic must never unwind into the child's copy of PID 1.
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(())) => 0,
            Ok(Err(e)) => e.raw_os_error().clamp(1, PANICKED - 1),
            Err(_) => PANICKED,
        }
    });
    let pid = match forked {
        Ok(pid) => pid,
        Err(e) => {
            crate::warn!("teardown: fork failed ({e}); making the call in PID 1 without a timeout");
            return match f.take().map(|f| f()) {
                Some(Ok(())) => Outcome::Done,
                Some(Err(e)) => Outcome::Failed(e),
                None => Outcome::Broken("nothing to run".into()),
            };
        }
    };
    events.track(pid);
    let mut status = None;
    events.wait_until(Instant::now() + timeout, |ev| {
        status = ev.take_exit(pid);
        status.is_some()
    });
    let Some(status) = status else {
        abandon(events, pid);
        return Outcome::TimedOut;
    };
    match (status.exit_status(), status.terminating_signal()) {
        (Some(0), _) => Outcome::Done,
        (Some(PANICKED), _) => Outcome::Broken("the call panicked".into()),
        (Some(errno), _) => Outcome::Failed(Errno::from_raw_os_error(errno)),
        (None, Some(sig)) => Outcome::Broken(format!("killed by signal {sig}")),
        (None, None) => Outcome::Broken(format!("ended oddly ({status:?})")),
    }
}

/// Runs `f` in a child and returns what it wrote, or why there is nothing
/// (or only part of it) after `timeout`. For scans of /proc that can block
/// behind a process stuck in the kernel (its maps are behind mmap_lock).
/// A closure whose text a child sends back (boxed: one copy of the
/// machinery for every caller).
pub type Scan = Box<dyn FnOnce() -> String>;

pub fn capture(events: &mut Events, timeout: Duration, f: Scan) -> Result<String, String> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| format!("pipe: {e}"))?;
    let pid = sys::fork_call(move || {
        let text =
            catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| "(the scan panicked)\n".into());
        let mut w = std::fs::File::from(w);
        match w.write_all(text.as_bytes()) {
            Ok(()) => 0,
            Err(_) => 1,
        }
    })
    .map_err(|e| format!("fork failed: {e}"))?;
    // The write end went with the closure: the parent's copy is closed, so
    // the read end sees EOF when the child is done.
    events.track(pid);
    let deadline = Instant::now() + timeout;
    let mut r = std::fs::File::from(r);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let complete = loop {
        let now = Instant::now();
        if now >= deadline {
            break false;
        }
        let left = deadline - now;
        let ts = rustix::time::Timespec {
            tv_sec: left.as_secs() as _,
            tv_nsec: left.subsec_nanos() as _,
        };
        let mut fds = [PollFd::new(&r, PollFlags::IN)];
        match poll(&mut fds, Some(&ts)) {
            Ok(0) | Err(Errno::INTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(format!("poll: {e}")),
        }
        match r.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    };
    let text = String::from_utf8_lossy(&out).into_owned();
    if !complete {
        abandon(events, pid);
        if text.is_empty() {
            return Err(format!("no answer within {timeout:?}"));
        }
        return Err(format!("no answer within {timeout:?}; got so far:\n{text}"));
    }
    events.wait_until(Instant::now() + Duration::from_secs(1), |ev| {
        ev.take_exit(pid).is_some()
    });
    Ok(text)
}

/// SIGKILL for a child that missed its deadline, and a short grace to
/// reap it; one stuck in an uninterruptible sleep stays behind.
fn abandon(events: &mut Events, pid: i32) {
    let _ = sys::kill_raw(pid, libc::SIGKILL);
    events.wait_until(Instant::now() + Duration::from_millis(200), |ev| {
        ev.take_exit(pid).is_some()
    });
}

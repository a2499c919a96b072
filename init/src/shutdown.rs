//! The shutdown path: decide (a handoff may turn a reboot into a kexec),
//! stop the shells, then every process (TERM, wait with a deadline, KILL),
//! sync, unmount newest first, and make the final system call. Returns
//! only if nothing final happened, so the caller can bring the shells back.

use crate::events::Events;
use crate::handoff::{self, Decision, Fallback};
use crate::signals::Request;
use crate::sys;
use rustix::system::RebootCommand;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a sync may go without Dirty+Writeback falling.
const SYNC_STALL: Duration = Duration::from_secs(10);

pub struct Shutdown {
    /// Session leaders of the shells (their sessions get SIGHUP first).
    pub shells: Vec<i32>,
    pub stop_timeout: Duration,
    /// In a container the filesystems belong to the host: they are
    /// unmounted in our namespace but never remounted read-only, which
    /// would change the host's superblock.
    pub container: bool,
    pub handoff: PathBuf,
    pub recorded_cmdline: PathBuf,
    /// The hardware watchdog's timeout through a kexec (zero: off).
    pub kexec_watchdog: Duration,
}

pub fn run(req: Request, ctx: &Shutdown, events: &mut Events) {
    let t0 = crate::timeline::now_us();
    crate::timeline::mark("shutdown", &format!("{req} requested"));
    match handoff::decide(req, &ctx.handoff, &ctx.recorded_cmdline, events) {
        Decision::Stay => {}
        Decision::Plain(r) => {
            teardown(r, ctx, events, None);
            final_call(r, events);
        }
        Decision::Kexec(fallback, record) => {
            let record = record.map(|path| (path, t0));
            teardown(Request::Kexec, ctx, events, record.as_ref());
            let watchdog = crate::watchdog::arm(ctx.kexec_watchdog);
            crate::timeline::mark("shutdown", "kexec");
            crate::info!("shutdown: kexec now");
            let err = crate::kexec::exec();
            crate::error!("kexec failed: {err}; FALLBACK={fallback}");
            if let Some(w) = watchdog {
                w.disarm();
            }
            match fallback {
                Fallback::Reboot => final_call(Request::Reboot, events),
                Fallback::Poweroff => final_call(Request::Poweroff, events),
                Fallback::Shell => {}
            }
        }
    }
}

/// `record`: the handoff record in the recovered system and when the
/// shutdown began; the filesystem holding it goes last, after the
/// teardown's timeline is written there.
fn teardown(req: Request, ctx: &Shutdown, events: &mut Events, record: Option<&(PathBuf, u64)>) {
    let t0 = Instant::now();
    crate::info!("shutdown ({req}): stopping processes");
    let t = crate::timeline::now_us();
    stop_processes(&ctx.shells, ctx.stop_timeout, events);
    crate::timeline::since(t, "shutdown", "stop processes");
    let t = crate::timeline::now_us();
    crate::sync::sync_bounded(events, SYNC_STALL);
    crate::timeline::since(t, "shutdown", "sync");
    crate::info!(
        "shutdown ({req}): processes stopped, synced ({} ms)",
        t0.elapsed().as_millis()
    );
    let hung_before = match record {
        Some((path, since)) => keep_record(path, *since, ctx, events),
        None => Vec::new(),
    };
    let t = crate::timeline::now_us();
    let mut left = crate::teardown::release_all(!ctx.container, events);
    left.extend(hung_before);
    crate::timeline::since(t, "shutdown", "release filesystems and devices");
    for m in &left {
        crate::warn!("shutdown: {m}");
    }
    crate::sync::sync_bounded(events, SYNC_STALL);
    crate::info!(
        "shutdown ({req}): filesystems done, {} left busy ({} ms)",
        left.len(),
        t0.elapsed().as_millis()
    );
    note_ignored(events, req);
}

/// Releases everything but the filesystem holding the handoff record,
/// appends the timeline of the shutdown so far to the record (read back
/// by `rescue-init analyze --handoff` in the recovered system), and syncs
/// it; the full teardown that follows releases that filesystem too.
/// Returns what hung meanwhile: the full teardown cannot see it again.
fn keep_record(
    path: &std::path::Path,
    since: u64,
    ctx: &Shutdown,
    events: &mut Events,
) -> Vec<String> {
    let t = crate::timeline::now_us();
    let mut hung = crate::teardown::release_all_but(!ctx.container, events, path);
    hung.retain(|m| m.contains(crate::teardown::HUNG));
    crate::timeline::since(t, "shutdown", "release all but the recovered root");
    let lines: String = crate::timeline::lines_since(since)
        .iter()
        .map(|l| format!("  timeline {l}\n"))
        .collect();
    if let Err(e) = crate::handoff::execute::append(path, &lines) {
        crate::warn!(
            "handoff: cannot add the timeline to {}: {e}",
            path.display()
        );
    }
    hung
}

/// SIGHUP+SIGTERM to the shells' sessions, SIGTERM+SIGCONT to everyone,
/// wait for them to go, SIGKILL what is left.
fn stop_processes(shells: &[i32], timeout: Duration, events: &mut Events) {
    for &pid in shells {
        let _ = sys::kill_raw(-pid, libc::SIGHUP);
        let _ = sys::kill_raw(-pid, libc::SIGTERM);
    }
    let _ = sys::kill_all(libc::SIGTERM);
    let _ = sys::kill_all(libc::SIGCONT);
    if wait_all_gone(Instant::now() + timeout, events) {
        return;
    }
    for p in crate::procs::user_processes() {
        crate::warn!(
            "shutdown: pid {} ({}) ignored SIGTERM for {:?}; killing it",
            p.pid,
            p.comm,
            timeout
        );
    }
    let _ = sys::kill_all(libc::SIGKILL);
    if !wait_all_gone(Instant::now() + Duration::from_secs(5), events) {
        let left: Vec<String> = crate::procs::user_processes()
            .iter()
            .map(|p| p.describe())
            .collect();
        crate::error!(
            "shutdown: survived SIGKILL for 5s (stuck in the kernel): {}; going on",
            left.join(", ")
        );
    }
}

fn wait_all_gone(deadline: Instant, events: &mut Events) -> bool {
    events.reap();
    events.wait_until(deadline, |ev| {
        ev.reap();
        ev.no_children
    })
}

/// A later request never silently replaces the one being carried out.
fn note_ignored(events: &mut Events, current: Request) {
    while let Some((req, pid)) = events.requests.pop_front() {
        crate::warn!("{req} requested by pid {pid} during {current}: the {current} already under way goes on");
    }
}

fn final_call(req: Request, events: &mut Events) {
    let cmd = match req {
        Request::Reboot | Request::Kexec | Request::FirmwareReboot => RebootCommand::Restart,
        Request::Halt => RebootCommand::Halt,
        Request::Poweroff => RebootCommand::PowerOff,
    };
    crate::info!("shutdown: {req} now");
    if cmd == RebootCommand::Restart {
        if let Err(e) = rustix::system::reboot(cmd) {
            crate::error!("reboot system call failed: {e}");
        }
        return;
    }
    // Halt and power-off end the calling process when they return.
    let call = move || match rustix::system::reboot(cmd) {
        Ok(()) => 0,
        Err(e) => e.raw_os_error(),
    };
    match sys::fork_call(call) {
        Ok(pid) => {
            events.track(pid);
            events.wait_until(Instant::now() + Duration::from_secs(30), |ev| {
                match ev.take_exit(pid) {
                    Some(s) => {
                        // The child's exit status is the errno of the call.
                        let errno = s.exit_status().unwrap_or(0);
                        let err = std::io::Error::from_raw_os_error(errno);
                        crate::error!("{req} system call failed: {err}");
                        true
                    }
                    None => false,
                }
            });
        }
        Err(e) => crate::error!("{req}: fork failed: {e}"),
    }
}

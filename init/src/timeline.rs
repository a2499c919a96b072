//! The timeline: PID 1 records every phase of the boot and the shutdown
//! with monotonic timestamps (microseconds since the kernel started, the
//! clock of the kernel's own log) in `/run/rescue-init/timeline`, one line
//! per span, `START END GROUP NAME` (a mark has END = START). Other
//! processes add marks with `rescue-init analyze mark GROUP NAME` (the
//! ReaR kit marks each of ReaR's setup scripts). `rescue-init analyze`
//! reads it back (`analyze/`).
//!
//! Lines recorded before /run exists are kept and written once it does.
//! Appending a line to a tmpfs costs microseconds; `rescue.timeline=off`
//! turns the recording off, for comparing.

use std::io::Write;
use std::sync::Mutex;

pub const PATH: &str = "/run/rescue-init/timeline";

/// Groups of the boot sequence's top level: their spans follow each other
/// and make the critical chain.
pub const PHASE: &str = "phase";

struct Recorder {
    on: bool,
    pending: Vec<String>,
    file: Option<std::fs::File>,
}

static RECORDER: Mutex<Recorder> = Mutex::new(Recorder {
    on: true,
    pending: Vec::new(),
    file: None,
});

/// Microseconds since boot on CLOCK_MONOTONIC.
pub fn now_us() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

/// Turns recording on or off (`rescue.timeline`).
pub fn set_enabled(on: bool) {
    let mut r = RECORDER.lock().unwrap_or_else(|e| e.into_inner());
    r.on = on;
    if !on {
        r.pending.clear();
    }
}

/// Records a span from `start` (a [`now_us`] reading) to now.
pub fn since(start: u64, group: &str, name: &str) {
    record(start, now_us(), group, name);
}

/// Records an instant.
pub fn mark(group: &str, name: &str) {
    let t = now_us();
    record(t, t, group, name);
}

/// Records a span.
pub fn record(start: u64, end: u64, group: &str, name: &str) {
    let line = format!(
        "{start} {end} {} {}\n",
        group.replace(' ', "_"),
        name.replace('\n', " ")
    );
    let mut guard = RECORDER.lock().unwrap_or_else(|e| e.into_inner());
    let r = &mut *guard;
    if !r.on {
        return;
    }
    if r.file.is_none() {
        r.file = open();
    }
    match r.file.as_mut() {
        Some(f) => {
            let mut all = std::mem::take(&mut r.pending).concat();
            all.push_str(&line);
            // One write per batch: O_APPEND keeps other writers' lines whole.
            let _ = f.write_all(all.as_bytes());
        }
        None => r.pending.push(line),
    }
}

/// PID 1 makes the file; other processes (the module helper, `analyze
/// mark`) only add to one that exists, so `rescue.timeline=off` holds.
fn open() -> Option<std::fs::File> {
    let pid1 = rustix::process::getpid().is_init();
    if pid1 {
        std::fs::create_dir_all("/run/rescue-init").ok()?;
    }
    std::fs::OpenOptions::new()
        .create(pid1)
        .append(true)
        .open(PATH)
        .ok()
}

/// The lines recorded since `start`, for the handoff record.
pub fn lines_since(start: u64) -> Vec<String> {
    let text = std::fs::read_to_string(PATH).unwrap_or_default();
    text.lines()
        .filter(|l| {
            l.split(' ')
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|s| s >= start)
        })
        .map(str::to_string)
        .collect()
}

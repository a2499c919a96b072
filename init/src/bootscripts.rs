//! Boot scripts: executables in `/etc/rescue-init/boot.d/`, run one after
//! another in name order before any shell starts. Each gets a timeout; its
//! exit status is logged; a failure never stops the boot.

use crate::events::Events;
use crate::reap;
use crate::spawn::{self, Stdio3};
use rustix::process::WaitStatus;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const BOOT_DIR: &str = "/etc/rescue-init/boot.d";

/// The scripts to run, in byte order of their names. Hidden files, editor
/// backups and non-executables are skipped (the latter with a warning).
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut scripts: Vec<PathBuf> = Vec::new();
    for entry in rd.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with('~') || name.ends_with(".disabled") {
            continue;
        }
        let path = entry.path();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => scripts.push(path),
            Ok(m) if m.is_file() => crate::warn!("{}: not executable, skipped", path.display()),
            _ => {}
        }
    }
    crate::sort::sort_by(&mut scripts, |a, b| a.as_os_str().cmp(b.as_os_str()));
    scripts
}

/// Runs every script of `dir` with `timeout` each.
pub fn run_all(dir: &Path, timeout: Duration, events: &mut Events) {
    for script in list(dir) {
        run_one(&script, timeout, events);
    }
}

fn run_one(script: &Path, timeout: Duration, events: &mut Events) {
    let name = script.display().to_string();
    let start = Instant::now();
    let label = format!("boot script {name}");
    let status = match run_bounded(std::slice::from_ref(&name), &label, timeout, events) {
        Ok(status) => status,
        Err(e) => {
            crate::error!("{label}: cannot start: {e}");
            return;
        }
    };
    let ms = start.elapsed().as_millis();
    match status {
        Some(s) if s.exit_status() == Some(0) => crate::info!("boot script {name}: ok ({ms} ms)"),
        Some(s) => crate::warn!(
            "boot script {name}: {} ({ms} ms); boot goes on",
            reap::describe(s)
        ),
        None => crate::error!("boot script {name}: would not die; left behind"),
    }
}

/// Runs `argv` (stdin /dev/null, output on the console, a session of its
/// own) for at most `timeout`, then stops its process group, saying so as
/// `LABEL: still running ...`. Its status; `None` when it survived
/// SIGKILL (stuck in the kernel).
pub fn run_bounded(
    argv: &[String],
    label: &str,
    timeout: Duration,
    events: &mut Events,
) -> std::io::Result<Option<WaitStatus>> {
    let t0 = crate::timeline::now_us();
    let status = bounded(argv, label, timeout, events);
    let group = if label.starts_with("boot script") {
        "script"
    } else {
        "devices"
    };
    crate::timeline::since(t0, group, label.trim_start_matches("boot script "));
    status
}

fn bounded(
    argv: &[String],
    label: &str,
    timeout: Duration,
    events: &mut Events,
) -> std::io::Result<Option<WaitStatus>> {
    let start = Instant::now();
    let pid = spawn::command(argv, "linux").and_then(|c| spawn::start(c, Stdio3::Detached))?;
    events.track(pid);
    let mut status = None;
    if events.wait_until(start + timeout, |ev| {
        status = ev.take_exit(pid);
        status.is_some()
    }) {
        return Ok(status);
    }
    crate::error!("{label}: still running after {timeout:?}; stopping it");
    Ok(stop_group(pid, events))
}

/// SIGTERM to the script's process group, then SIGKILL after 2 s.
fn stop_group(pid: i32, events: &mut Events) -> Option<WaitStatus> {
    for (sig, grace) in [(libc::SIGTERM, 2), (libc::SIGKILL, 2)] {
        let _ = crate::sys::kill_raw(-pid, sig);
        let mut status = None;
        let deadline = Instant::now() + Duration::from_secs(grace);
        if events.wait_until(deadline, |ev| {
            status = ev.take_exit(pid);
            status.is_some()
        }) {
            return status;
        }
    }
    None
}

//! Coldplug without udev: every device the kernel knows exposes a
//! `modalias` file under `/sys/devices`; loading the modules whose
//! aliases match makes new devices appear (virtio_pci brings the virtio
//! devices that need virtio_blk, ...), so the scan repeats until a pass
//! finds nothing new and no module was loaded for `quiet` (drivers that
//! probe asynchronously, such as SATA, add their devices a little later)
//! and nothing the kernel is known to do later is still pending (USB
//! enumeration, usb-storage's delayed scan: `settle.rs`).
//! CPU feature modules (`cpu:` modaliases: crypto acceleration, kvm) wait
//! until the devices have settled, so disks come first. An overall
//! deadline bounds it all.

use super::backend::Backend;
use super::loader::{LoadError, Loader};
use super::settle::Settle;
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long to keep looking for new devices after the last module load.
pub const DEFAULT_QUIET: Duration = Duration::from_millis(100);
/// Pause between rescans while waiting for quiet.
const RESCAN_PAUSE: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub elapsed: Duration,
    /// Scans of `/sys/devices`.
    pub passes: u32,
    /// Distinct modaliases seen.
    pub devices: usize,
    /// Modules loaded, in order.
    pub loaded: Vec<String>,
    /// `MODALIAS: error` for modules that would not load.
    pub failures: Vec<String>,
    /// The deadline ended the scan before it settled.
    pub timed_out: bool,
    /// `/sys/block` entries except loop and ram devices.
    pub block_devices: Vec<String>,
    /// What the kernel was still doing when the deadline came.
    pub pending: Option<String>,
    /// udev, not the built-in coldplug, did the job.
    pub udev: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.elapsed.as_millis();
        let by = if self.udev { "udev" } else { "coldplug" };
        if self.timed_out {
            write!(f, "{by} stopped at its deadline after {ms} ms (not settled")?;
            match &self.pending {
                Some(why) => write!(f, ": {why})")?,
                None => write!(f, ")")?,
            }
        } else {
            write!(f, "{by} settled in {ms} ms")?;
        }
        write!(f, ": {} modules loaded", self.loaded.len())?;
        if !self.loaded.is_empty() {
            write!(f, " ({})", self.loaded.join(", "))?;
        }
        if !self.failures.is_empty() {
            write!(f, ", {} failed", self.failures.len())?;
        }
        let blocks = if self.block_devices.is_empty() {
            "none".to_string()
        } else {
            self.block_devices.join(" ")
        };
        write!(f, "; block devices: {blocks}")
    }
}

/// Coldplugs the devices under `sys_root` (`/sys`) until settled or until
/// `deadline` has passed; waits [`DEFAULT_QUIET`] after the last load.
pub fn run<B: Backend>(loader: &mut Loader<B>, sys_root: &Path, deadline: Duration) -> Report {
    run_with(loader, sys_root, deadline, DEFAULT_QUIET)
}

/// As [`run`], with the quiet period as a parameter.
pub fn run_with<B: Backend>(
    loader: &mut Loader<B>,
    sys_root: &Path,
    deadline: Duration,
    quiet: Duration,
) -> Report {
    let start = Instant::now();
    // A huge deadline means "no deadline"; Instant + Duration::MAX panics.
    let end = start
        .checked_add(deadline)
        .unwrap_or(start + Duration::from_secs(365 * 86400));
    let before = loader.loaded().len();
    let mut seen: HashSet<String> = HashSet::new();
    let mut deferred: Vec<String> = Vec::new();
    let mut report = Report::default();
    let mut last_load: Option<Instant> = None;
    let mut settle = Settle::new();
    loop {
        report.passes += 1;
        let (cpu, mut batch): (Vec<String>, Vec<String>) = modaliases(&sys_root.join("devices"))
            .into_iter()
            .filter(|m| seen.insert(m.clone()))
            .partition(|m| m.starts_with("cpu:"));
        settle.saw(&batch, Instant::now());
        deferred.extend(cpu);
        if batch.is_empty() {
            let waited = last_load.map_or(quiet, |t| t.elapsed());
            let now = Instant::now();
            let pending = settle.pending(sys_root, now);
            if now >= end {
                report.timed_out = waited < quiet || !deferred.is_empty() || pending.is_some();
                report.pending = pending;
                break;
            }
            if waited < quiet || pending.is_some() {
                if pending.is_some() && pending != report.pending {
                    crate::debug!("coldplug: waiting: {}", pending.as_deref().unwrap_or(""));
                }
                report.pending = pending;
                let pause = if waited < quiet {
                    RESCAN_PAUSE.min(quiet - waited)
                } else {
                    RESCAN_PAUSE
                };
                std::thread::sleep(pause.min(end - now));
                continue;
            }
            report.pending = None;
            if deferred.is_empty() {
                break;
            }
            batch = std::mem::take(&mut deferred);
        }
        if load_all(loader, &batch, end, &mut report) {
            last_load = Some(Instant::now());
        }
        if report.timed_out {
            break;
        }
    }
    report.devices = seen.len();
    report.loaded = loader.loaded()[before..].to_vec();
    report.block_devices = block_devices(sys_root);
    report.elapsed = start.elapsed();
    report
}

/// Loads the modules for `aliases`; true if any module was loaded.
fn load_all<B: Backend>(
    loader: &mut Loader<B>,
    aliases: &[String],
    end: Instant,
    report: &mut Report,
) -> bool {
    let mut any = false;
    for alias in aliases {
        if Instant::now() >= end {
            report.timed_out = true;
            break;
        }
        match loader.load(alias) {
            Ok(names) => any |= !names.is_empty(),
            Err(e) if e.is_not_found() => {}
            Err(LoadError::FailedBefore { .. }) => {}
            Err(e) => report.failures.push(format!("{}: {e}", shorten(alias))),
        }
    }
    any
}

/// CPU modaliases list every feature flag: keep log lines readable.
fn shorten(alias: &str) -> String {
    match alias.char_indices().nth(64) {
        Some((i, _)) => format!("{}...", &alias[..i]),
        None => alias.to_string(),
    }
}

/// The distinct `modalias` values under `devices`, in device-path order.
/// Symlinks are never followed (sysfs is full of loops).
pub fn modaliases(devices: &Path) -> Vec<String> {
    let mut found: Vec<(PathBuf, String)> = Vec::new();
    let mut stack = vec![devices.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() && entry.file_name() == "modalias" {
                if let Some(alias) = read_modalias(&entry.path()) {
                    found.push((dir.clone(), alias));
                }
            }
        }
    }
    crate::sort::sort(&mut found);
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter_map(|(_, a)| seen.insert(a.clone()).then_some(a))
        .collect()
}

fn read_modalias(path: &Path) -> Option<String> {
    let data = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&data);
    let alias = text.trim();
    (!alias.is_empty()).then(|| alias.to_string())
}

/// Disk-like block devices: `/sys/block` without loop and ram devices.
pub fn block_devices(sys_root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(sys_root.join("block")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("loop") && !n.starts_with("ram"))
        .collect();
    crate::sort::sort(&mut names);
    names
}

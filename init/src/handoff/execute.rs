//! Carrying out the handoff when PID 1 shuts down: what a shutdown
//! request becomes. A reboot (or SIGRTMIN+6) while a handoff file exists
//! follows the file: by default a kexec into the recovered system, loaded
//! *before* anything is stopped so that a failed load leaves the rescue
//! system untouched and FALLBACK can still choose. The shutdown path
//! (`crate::shutdown`) then tears down and executes it.

use super::{validate, Action, Fallback, KexecPlan};
use crate::handoff;
use crate::kexec;
use crate::signals::Request;
use std::io::Write;
use std::path::{Path, PathBuf};

pub enum Decision {
    /// Carry out this request through the firmware (or halt/power off).
    Plain(Request),
    /// The kernel is loaded: tear down, then kexec; `Fallback` if it fails.
    /// The record written into the recovered system, if any, gets the
    /// teardown's timeline before its filesystem goes.
    Kexec(Fallback, Option<PathBuf>),
    /// Do not shut down at all.
    Stay,
}

/// Decides, and for a kexec loads the kernel.
pub fn decide(req: Request, handoff_file: &Path, recorded_cmdline: &Path) -> Decision {
    if !matches!(req, Request::Reboot | Request::Kexec) {
        return Decision::Plain(req);
    }
    let plan = match handoff::load(handoff_file, recorded_cmdline) {
        Ok(plan) => plan,
        Err(e) if e.is_missing() => return without_handoff(req, handoff_file),
        Err(e) => {
            crate::error!("handoff: {e}");
            let fallback = handoff::read(handoff_file)
                .ok()
                .and_then(|f| f.fallback)
                .map_or(Fallback::Reboot, |v| v.value);
            // The file may be fine and the recovered system lack a kernel:
            // the line above says which.
            return fall_back(fallback, "no plan to load (see above)");
        }
    };
    for note in &plan.notes {
        crate::info!("handoff: {note}");
    }
    let fallback = plan.fallback.0;
    match (plan.action.0, &plan.kexec) {
        (Action::Kexec, Some(k)) => load(k, fallback),
        (Action::Kexec, None) => fall_back(fallback, "the plan has no kernel"),
        (Action::Reboot, _) => Decision::Plain(Request::Reboot),
        (Action::Poweroff, _) => Decision::Plain(Request::Poweroff),
        (Action::Shell, _) => {
            crate::warn!(
                "handoff: ACTION=shell in {}: staying in the rescue system",
                handoff_file.display()
            );
            Decision::Stay
        }
    }
}

fn without_handoff(req: Request, handoff_file: &Path) -> Decision {
    if req == Request::Kexec && kexec::loaded() {
        crate::info!(
            "kexec requested: no {}, using the kernel already loaded",
            handoff_file.display()
        );
        return Decision::Kexec(Fallback::Reboot, None);
    }
    if req == Request::Kexec {
        crate::warn!(
            "kexec requested but there is no {} and no kernel loaded: rebooting",
            handoff_file.display()
        );
    }
    Decision::Plain(Request::Reboot)
}

fn load(k: &KexecPlan, fallback: Fallback) -> Decision {
    crate::info!("handoff: kernel {} ({})", k.kernel.0.display(), k.kernel.1);
    match &k.initrd {
        Some((p, src)) => crate::info!("handoff: initrd {} ({src})", p.display()),
        None => crate::info!("handoff: no initrd"),
    }
    crate::info!("handoff: command line {:?} ({})", k.cmdline.0, k.cmdline.1);
    let checked = validate(k);
    if !checked.is_ok() {
        return fall_back(
            fallback,
            &format!(
                "the plan does not pass its checks: {}",
                checked.problems().join("; ")
            ),
        );
    }
    for w in checked.warnings() {
        crate::warn!("handoff: {w}");
    }
    let t0 = crate::timeline::now_us();
    if handoff::preload::still_loaded(k) {
        crate::timeline::since(t0, "handoff", "kernel preloaded: checked unchanged");
        crate::info!("handoff: the kernel `rescue-init handoff load` loaded is unchanged: not loading it again");
        let t0 = crate::timeline::now_us();
        let written = record(k);
        crate::timeline::since(t0, "handoff", "record");
        return Decision::Kexec(fallback, written);
    }
    let initrd = k.initrd.as_ref().map(|(p, _)| p.as_path());
    match kexec::load(&k.kernel.0, initrd, &k.cmdline.0) {
        Ok(method) => {
            crate::timeline::since(t0, "handoff", "load the kernel");
            handoff::preload::remember(k);
            crate::info!("handoff: kernel loaded ({method:?})");
            let t0 = crate::timeline::now_us();
            let written = record(k);
            crate::timeline::since(t0, "handoff", "record");
            Decision::Kexec(fallback, written)
        }
        Err(e) => fall_back(fallback, &format!("loading the kernel failed: {e}")),
    }
}

/// What FALLBACK means before anything was stopped.
pub(super) fn fall_back(fallback: Fallback, why: &str) -> Decision {
    crate::error!("handoff: {why}; FALLBACK={fallback}");
    match fallback {
        Fallback::Reboot => Decision::Plain(Request::Reboot),
        Fallback::Poweroff => Decision::Plain(Request::Poweroff),
        Fallback::Shell => Decision::Stay,
    }
}

/// Leaves a note in the recovered system: it was started by kexec, on
/// hardware its firmware did not reset. Returns the file written.
fn record(k: &KexecPlan) -> Option<PathBuf> {
    let msg = format!(
        "{} rescue-init: this boot came via kexec from the rescue system (kernel {}, initrd {}, command line {:?}); \
         the firmware did not reset the hardware: do a full firmware reboot when convenient\n",
        utc_now(),
        k.kernel.0.display(),
        k.initrd.as_ref().map_or("none".into(), |(p, _)| p.display().to_string()),
        k.cmdline.0
    );
    crate::warn!("the next kernel starts via kexec on hardware the firmware did not reset; reboot through the firmware when convenient");
    let dir = match handoff::resolve_in_root(&k.root.0, "/var/log") {
        Ok(d) => d,
        Err(e) => {
            crate::warn!("handoff: no kexec record written: {e}");
            return None;
        }
    };
    let path = dir.join("rescue-init-kexec.log");
    match append(&path, &msg) {
        Ok(()) => {
            crate::info!("handoff: recorded in {}", path.display());
            Some(path)
        }
        Err(e) => {
            crate::warn!("handoff: cannot write {}: {e}", path.display());
            None
        }
    }
}

/// Appends `text` to `path` and waits until it is on the disk.
pub(crate) fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// `YYYY-MM-DD HH:MM:SS UTC` without a time zone database.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Hinnant's method).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_785), (2026, 11, 28));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}

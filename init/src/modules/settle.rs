//! Work the kernel finishes on its own time after a driver has loaded,
//! which coldplug's short quiet period would miss, so that "settled"
//! means the disks are there:
//!
//! - USB enumeration: once a USB host controller's root hub exists, the
//!   hub driver debounces each connected port (at least 100 ms of stable
//!   connection), resets it and only then adds the device. Sysfs does not
//!   say that a port is connected but not yet enumerated (6.1 has no port
//!   `state` attribute), so coldplug waits [`USB_QUIET`] after the newest
//!   USB interface appeared.
//! - usb-storage: the driver waits `delay_use` seconds (default 1) before
//!   it scans the SCSI host it made for a stick. An interface bound to
//!   `usb-storage` or `uas` whose `hostN` has no `targetN:*` yet is still
//!   scanning; coldplug waits for it up to `delay_use` + [`SCAN_GRACE`].
//!
//! Everything here is bounded; the coldplug deadline bounds it again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long after the newest USB interface to wait for more devices.
pub const USB_QUIET: Duration = Duration::from_millis(1000);
/// Time a usb-storage scan may take beyond `delay_use` (TCG is slow).
pub const SCAN_GRACE: Duration = Duration::from_secs(2);
/// usb-storage's own default for `delay_use`.
const DEFAULT_DELAY_USE: Duration = Duration::from_secs(1);
/// USB mass-storage drivers whose SCSI hosts scan asynchronously.
const STORAGE_DRIVERS: [&str; 2] = ["usb-storage", "uas"];

/// What coldplug has seen of the asynchronous work, across passes.
#[derive(Debug, Default)]
pub struct Settle {
    usb_seen: Option<Instant>,
    /// usb-storage interfaces found scanning, with when first noticed.
    scanning: HashMap<PathBuf, Instant>,
}

impl Settle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes the modaliases that are new in a pass.
    pub fn saw<'a>(&mut self, new: impl IntoIterator<Item = &'a String>, now: Instant) {
        if new.into_iter().any(|m| m.starts_with("usb:")) {
            self.usb_seen = Some(now);
        }
    }

    /// Why coldplug should keep waiting, or `None` when nothing known is
    /// still in progress.
    pub fn pending(&mut self, sys_root: &Path, now: Instant) -> Option<String> {
        if let Some(t) = self.usb_seen {
            if now.saturating_duration_since(t) < USB_QUIET {
                return Some("USB devices may still be enumerating".into());
            }
        }
        let limit = delay_use(sys_root) + SCAN_GRACE;
        for intf in storage_interfaces(sys_root) {
            if scanned(&intf) {
                continue;
            }
            let first = *self.scanning.entry(intf.clone()).or_insert(now);
            if now.saturating_duration_since(first) < limit {
                let name = intf.file_name().unwrap_or_default().to_string_lossy();
                return Some(format!("USB storage {name} is still scanning for disks"));
            }
        }
        None
    }
}

/// `/sys/module/usb_storage/parameters/delay_use`: seconds, or (newer
/// kernels) milliseconds with an `ms` suffix.
fn delay_use(sys_root: &Path) -> Duration {
    let path = sys_root.join("module/usb_storage/parameters/delay_use");
    let Ok(text) = std::fs::read_to_string(path) else {
        return DEFAULT_DELAY_USE;
    };
    let text = text.trim();
    let parsed = match text.strip_suffix("ms") {
        Some(ms) => ms.trim().parse().ok().map(Duration::from_millis),
        None => text.parse().ok().map(Duration::from_secs),
    };
    parsed
        .unwrap_or(DEFAULT_DELAY_USE)
        .min(Duration::from_secs(60))
}

/// Interfaces bound to a USB storage driver (the links in the driver's
/// sysfs directory that name a device).
fn storage_interfaces(sys_root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for driver in STORAGE_DRIVERS {
        let dir = sys_root.join("bus/usb/drivers").join(driver);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // Device links are `BUS-PORT:CONFIG.INTF`; the rest is
            // `bind`, `module`, `new_id` ...
            if name.contains(':') && e.path().is_dir() {
                out.push(e.path());
            }
        }
    }
    crate::sort::sort(&mut out);
    out
}

/// True when every `hostN` of the interface has a `targetN:...` (its scan
/// found something) or it has no host at all (the probe failed or has
/// not made one: nothing to wait for).
fn scanned(intf: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(intf) else {
        return true;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("host"))
        .all(|e| has_target(&e.path()))
}

fn has_target(host: &Path) -> bool {
    std::fs::read_dir(host).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("target"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::tests::TempDir;

    #[test]
    fn new_usb_interfaces_keep_coldplug_waiting() {
        let t = TempDir::new();
        let mut s = Settle::new();
        let t0 = Instant::now();
        s.saw(&["pci:v00001B36d0000000D".to_string()], t0);
        assert_eq!(s.pending(&t.path, t0), None);
        s.saw(
            &["usb:v1D6Bp0003d0601dc09dsc00dp03ic09isc00ip00in00".to_string()],
            t0,
        );
        assert!(s.pending(&t.path, t0 + Duration::from_millis(10)).is_some());
        assert_eq!(s.pending(&t.path, t0 + USB_QUIET), None);
    }

    #[test]
    fn usb_storage_host_without_target_is_scanning_until_its_bound() {
        let t = TempDir::new();
        let intf = "bus/usb/drivers/usb-storage/2-1:1.0";
        t.write(
            &format!("{intf}/host7/scsi_host/host7/proc_name"),
            "usb-storage",
        );
        t.write("bus/usb/drivers/usb-storage/bind", "");
        t.write("module/usb_storage/parameters/delay_use", "1\n");
        let mut s = Settle::new();
        let t0 = Instant::now();
        let why = s.pending(&t.path, t0).expect("scanning");
        assert!(why.contains("2-1:1.0"), "{why}");
        assert!(s.pending(&t.path, t0 + Duration::from_secs(2)).is_some());
        // delay_use + grace have passed: a stick without LUNs does not
        // hold the boot any longer.
        assert_eq!(
            s.pending(&t.path, t0 + Duration::from_secs(1) + SCAN_GRACE),
            None
        );
        // The scan found its disk.
        let mut s = Settle::new();
        t.write(&format!("{intf}/host7/target7:0:0/7:0:0:0/type"), "0");
        assert_eq!(s.pending(&t.path, t0), None);
    }

    #[test]
    fn delay_use_in_seconds_or_milliseconds_and_garbage() {
        let t = TempDir::new();
        let p = "module/usb_storage/parameters/delay_use";
        assert_eq!(delay_use(&t.path), DEFAULT_DELAY_USE);
        t.write(p, "5\n");
        assert_eq!(delay_use(&t.path), Duration::from_secs(5));
        t.write(p, "250ms\n");
        assert_eq!(delay_use(&t.path), Duration::from_millis(250));
        t.write(p, "soon\n");
        assert_eq!(delay_use(&t.path), DEFAULT_DELAY_USE);
        t.write(p, "4294967295\n");
        assert_eq!(delay_use(&t.path), Duration::from_secs(60));
    }
}

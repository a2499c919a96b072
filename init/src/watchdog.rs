//! The hardware watchdog armed through the kexec (`rescue.kexec-watchdog`).
//!
//! A kexec'd kernel that hangs leaves a remote server dead, with nobody to
//! press reset. Just before the kexec PID 1 opens the watchdog, sets its
//! timeout and leaves it running: the new kernel must take it over (its
//! driver's probe stops or adopts it; systemd's `RuntimeWatchdogSec` or a
//! watchdog daemon then keeps it fed) or the hardware resets the machine
//! into an ordinary firmware boot. The default is systemd's
//! `RebootWatchdogSec` (10 minutes): far longer than a kernel needs to
//! load its watchdog driver without firmware in the way, short enough
//! that a hung server comes back on its own.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The character devices of the watchdog core, the first one found wins.
const DEVICES: [&str; 2] = ["/dev/watchdog0", "/dev/watchdog"];
/// Set to 0 by the rescue system's module options (modules/config.rs);
/// anything else means the driver may stop the watchdog at the kexec.
const STOP_ON_REBOOT: &str = "/sys/module/watchdog/parameters/stop_on_reboot";

/// An open, running watchdog.
pub(crate) struct Armed {
    file: File,
    path: &'static str,
}

/// Arms the watchdog for `timeout` (whole seconds, rounded up); `None`
/// when it is off, there is no watchdog, or it cannot be set (said why).
pub(crate) fn arm(timeout: Duration) -> Option<Armed> {
    if timeout.is_zero() {
        return None;
    }
    let path = DEVICES.into_iter().find(|p| Path::new(p).exists())?;
    let secs = i32::try_from(timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0))
        .unwrap_or(i32::MAX);
    // Opening starts it; from here on it must be fed or disarmed.
    let file = match File::options().write(true).open(path) {
        Ok(f) => f,
        Err(e) => {
            crate::warn!("watchdog: cannot open {path}: {e}; the kexec goes on without it");
            return None;
        }
    };
    let armed = Armed { file, path };
    let got = match crate::sys::watchdog_set_timeout(armed.file.as_fd(), secs) {
        Ok(got) => got,
        Err(e) => {
            crate::warn!("watchdog: {path} refuses a {secs} s timeout ({e}); not armed");
            armed.disarm();
            return None;
        }
    };
    let _ = crate::sys::watchdog_keepalive(armed.file.as_fd());
    crate::info!(
        "watchdog: {path} ({}) armed for {got} s through the kexec: the target must take it over",
        identity(path)
    );
    warn_if_stopped_at_kexec();
    Some(armed)
}

impl Armed {
    /// Stops the watchdog (the magic close), e.g. when the kexec failed
    /// and the rescue system goes on.
    pub(crate) fn disarm(mut self) {
        match self.file.write_all(b"V") {
            Ok(()) => crate::info!("watchdog: {} disarmed", self.path),
            Err(e) => crate::warn!("watchdog: {}: the magic close failed: {e}", self.path),
        }
    }
}

/// The driver's name for the device (`i6300ESB timer`), for the log.
fn identity(dev: &str) -> String {
    let name = dev.trim_start_matches("/dev/");
    let name = if name == "watchdog" {
        "watchdog0"
    } else {
        name
    };
    let path = format!("/sys/class/watchdog/{name}/identity");
    crate::fsread::read_text(Path::new(&path), 4096)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown driver".into())
}

/// The watchdog core stops a running watchdog at every reboot, kexec
/// included, when its driver asks for that and `stop_on_reboot` is not 0.
fn warn_if_stopped_at_kexec() {
    let Ok(v) = crate::fsread::read_text(Path::new(STOP_ON_REBOOT), 4096) else {
        return;
    };
    if v.trim() != "0" {
        crate::warn!(
            "watchdog: watchdog.stop_on_reboot={} (built into the kernel?): its driver may stop it at the kexec; boot the rescue kernel with watchdog.stop_on_reboot=0",
            v.trim()
        );
    }
}

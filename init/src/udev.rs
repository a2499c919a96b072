//! `rescue.udev=auto|on|off` (config key `UDEV`): device bring-up by udev
//! when the image has it, instead of the built-in coldplug.
//!
//! - `auto` (the default): udev when the image holds both a daemon
//!   (`systemd-udevd` or `udevd`) and `udevadm`, else the built-in
//!   coldplug, quietly; an image made with udev gets its rules applied.
//! - `on`: udev; when the image lacks it, a warning says so and the
//!   built-in coldplug runs.
//! - `off`: the built-in coldplug, even with udev in the image.
//!
//! With udev, PID 1 still sets the kernel's module helper and loads the
//! explicit lists (`modules::prepare`), then starts the daemon as its own
//! child (not `--daemon`, so PID 1 knows its pid and sees it end), waits
//! for its control socket, runs `udevadm trigger --action=add` for
//! subsystems and then devices, and `udevadm settle` bounded by the
//! coldplug deadline. `udevadm settle` only waits for udev's queue, not
//! for work the kernel does later (USB enumeration, usb-storage's delayed
//! scan), so the settle repeats while new devices appear or
//! `modules::settle` knows of pending work. The readiness line is the
//! built-in one, saying `udev settled in N ms`, with the modules that
//! appeared in `/proc/modules` meanwhile.
//!
//! If the daemon will not start, or a trigger fails, udevd is stopped and
//! the built-in coldplug does the job (logged). While udevd runs, the
//! built-in hotplug leaves module loading to it (two loaders would race
//! for nothing); when udevd ends, PID 1 says so and its hotplug takes over.
//! At shutdown udevd is stopped with every other process.

use crate::bootscripts::run_bounded;
use crate::events::Events;
use crate::modules::coldplug::{self, Report};
use crate::modules::settle::Settle;
use crate::modules::{self, KernelBackend, Loader};
use crate::reap;
use crate::spawn::{self, Stdio3};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Auto,
    On,
    Off,
}

impl Mode {
    /// `auto`, `on` or `off`; a bare `rescue.udev` means `on`.
    pub fn parse(v: Option<&str>) -> Result<Mode, String> {
        match v {
            Some("auto") => Ok(Mode::Auto),
            None | Some("on") => Ok(Mode::On),
            Some("off") => Ok(Mode::Off),
            Some(other) => Err(format!("expected auto, on or off, got {other:?}")),
        }
    }
}

/// Where images keep the daemon and the admin tool (Debian, Fedora, older
/// and non-systemd udev, eudev), in the order tried.
pub const DAEMONS: [&str; 4] = [
    "/lib/systemd/systemd-udevd",
    "/usr/lib/systemd/systemd-udevd",
    "/sbin/udevd",
    "/usr/sbin/udevd",
];
pub const ADMINS: [&str; 4] = [
    "/bin/udevadm",
    "/usr/bin/udevadm",
    "/sbin/udevadm",
    "/usr/sbin/udevadm",
];

/// The control socket udevd makes once it takes requests.
const CONTROL: &str = "/run/udev/control";
/// How long udevd may take to make its control socket.
const START_WAIT: Duration = Duration::from_secs(5);
/// Pause between checks of work the kernel still has pending.
const PENDING_PAUSE: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programs {
    pub daemon: PathBuf,
    pub admin: PathBuf,
}

/// The udev programs under `root`, if both are there and executable.
pub fn find(root: &Path) -> Option<Programs> {
    let first = |names: &[&str]| {
        // is_executable follows symlinks (systemd-udevd -> udevadm).
        names
            .iter()
            .map(|n| root.join(n.trim_start_matches('/')))
            .find(|p| crate::spawn::is_executable(p))
    };
    Some(Programs {
        daemon: first(&DAEMONS)?,
        admin: first(&ADMINS)?,
    })
}

/// udev or the built-in coldplug, and a warning when `on` cannot be had.
pub fn choose(mode: Mode, found: Option<Programs>) -> (Option<Programs>, Option<String>) {
    match (mode, found) {
        (Mode::Off, _) | (Mode::Auto, None) => (None, None),
        (_, Some(p)) => (Some(p), None),
        (Mode::On, None) => {
            let why = format!(
                "rescue.udev=on, but the image has no udev daemon ({}) and udevadm ({}): using the built-in coldplug",
                DAEMONS.join(", "),
                ADMINS.join(", ")
            );
            (None, Some(why))
        }
    }
}

/// The udev daemon as PID 1's child, once started.
#[derive(Debug, Default)]
pub struct Udev {
    pid: Option<i32>,
}

impl Udev {
    /// True while udevd runs; says once that it has ended.
    pub fn running(&mut self, events: &mut Events) -> bool {
        let Some(pid) = self.pid else { return false };
        match events.take_exit(pid) {
            None => true,
            Some(status) => {
                crate::warn!(
                    "udevd (pid {pid}) {}; the built-in hotplug loads modules from now on",
                    reap::describe(status)
                );
                self.pid = None;
                false
            }
        }
    }
}

/// Device bring-up: udev if `mode` and the image say so and it works,
/// else the built-in coldplug. Either way ends with the readiness line.
pub fn bring_up(mode: Mode, explicit: &[String], deadline: Duration, events: &mut Events) -> Udev {
    let (programs, warning) = choose(mode, find(Path::new("/")));
    if let Some(w) = warning {
        crate::warn!("{w}");
    }
    let Some(programs) = programs else {
        modules::boot(explicit, deadline);
        return Udev::default();
    };
    let start = Instant::now();
    let before = loaded_modules();
    let loader = modules::prepare(explicit);
    crate::info!("starting {} for the devices", programs.daemon.display());
    let mut udev = Udev::default();
    match with_udev(&programs, start + deadline, events, &mut udev) {
        Ok(mut report) => {
            let before: HashSet<String> = before.into_iter().collect();
            report.loaded = loaded_modules()
                .into_iter()
                .filter(|m| !before.contains(m))
                .collect();
            report.elapsed = start.elapsed();
            modules::announce(&report, deadline);
        }
        Err(e) => {
            crate::warn!("udev: {e}; falling back to the built-in coldplug");
            stop(&mut udev, events);
            fall_back(loader, start, deadline);
        }
    }
    udev
}

/// Starts udevd, triggers and settles; the report lacks `loaded` and
/// `elapsed`, which the caller fills in.
fn with_udev(
    p: &Programs,
    end: Instant,
    events: &mut Events,
    udev: &mut Udev,
) -> Result<Report, String> {
    let argv = [p.daemon.display().to_string()];
    let cmd = spawn::command(&argv, "linux").map_err(|e| format!("{}: {e}", argv[0]))?;
    let pid = spawn::start(cmd, Stdio3::Detached)
        .map_err(|e| format!("cannot start {}: {e}", argv[0]))?;
    events.track(pid);
    udev.pid = Some(pid);
    let ready = Instant::now() + START_WAIT;
    while !Path::new(CONTROL).exists() {
        if !udev.running(events) {
            return Err(format!("{} ended before it made {CONTROL}", argv[0]));
        }
        if Instant::now() >= ready {
            return Err(format!(
                "{} made no {CONTROL} within {START_WAIT:?}",
                argv[0]
            ));
        }
        events.wait(Some(Duration::from_millis(10)));
    }
    crate::debug!("udev: {CONTROL} is there");
    crate::timeline::mark("devices", "udevd ready");
    let admin = p.admin.display().to_string();
    for kind in ["--type=subsystems", "--type=devices"] {
        let argv = [
            admin.clone(),
            "trigger".into(),
            kind.into(),
            "--action=add".into(),
        ];
        let left = end
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        let status = run_bounded(&argv, "udevadm trigger", left, events)
            .map_err(|e| format!("{admin}: {e}"))?;
        match status {
            Some(s) if s.exit_status() == Some(0) => {}
            Some(s) => return Err(format!("udevadm trigger {kind} {}", reap::describe(s))),
            None => return Err("udevadm trigger would not end".into()),
        }
        crate::debug!("udev: trigger {kind} done");
    }
    Ok(settle(&admin, end, events))
}

/// `udevadm settle`, again while new devices appear, then waiting for
/// what the kernel still does on its own; all bounded by `end`.
fn settle(admin: &str, end: Instant, events: &mut Events) -> Report {
    let sys = Path::new("/sys");
    let mut report = Report {
        udev: true,
        ..Report::default()
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut pending = Settle::new();
    loop {
        let now = Instant::now();
        if now >= end {
            report.timed_out = true;
            break;
        }
        report.passes += 1;
        let secs = end.saturating_duration_since(now).as_secs().max(1);
        let argv = [
            admin.to_string(),
            "settle".into(),
            format!("--timeout={secs}"),
        ];
        let settled = run_bounded(
            &argv,
            "udevadm settle",
            Duration::from_secs(secs + 2),
            events,
        )
        .is_ok_and(|status| status.is_some_and(|s| s.exit_status() == Some(0)));
        if !settled {
            report.timed_out = true;
            report.pending = Some("udev's event queue did not empty".into());
            break;
        }
        crate::debug!("udev: settle pass {} done", report.passes);
        let new: Vec<String> = coldplug::modaliases(&sys.join("devices"))
            .into_iter()
            .filter(|m| seen.insert(m.clone()))
            .collect();
        pending.saw(&new, Instant::now());
        if new.is_empty() {
            report.pending = pending.pending(sys, Instant::now());
            if report.pending.is_none() {
                break;
            }
            events.wait(Some(PENDING_PAUSE));
        }
    }
    report.devices = seen.len();
    report.block_devices = coldplug::block_devices(sys);
    report
}

/// The built-in coldplug after udev failed, with the rest of the time.
fn fall_back(loader: Option<Loader<KernelBackend>>, start: Instant, deadline: Duration) {
    let Some(mut loader) = loader else { return };
    let left = deadline.saturating_sub(start.elapsed());
    let mut report = coldplug::run(&mut loader, Path::new("/sys"), left);
    for f in &report.failures {
        crate::error!("coldplug: {f}");
    }
    report.loaded = loader.loaded().to_vec();
    report.elapsed = start.elapsed();
    modules::announce(&report, deadline);
}

/// SIGTERM to udevd, SIGKILL after 2 s.
fn stop(udev: &mut Udev, events: &mut Events) {
    let Some(pid) = udev.pid else { return };
    for sig in [libc::SIGTERM, libc::SIGKILL] {
        let _ = crate::sys::kill_raw(pid, sig);
        let until = Instant::now() + Duration::from_secs(2);
        if events.wait_until(until, |ev| ev.take_exit(pid).is_some()) {
            break;
        }
    }
    udev.pid = None;
}

/// Names in `/proc/modules`, oldest first (the kernel lists newest first).
fn loaded_modules() -> Vec<String> {
    let text = std::fs::read_to_string("/proc/modules").unwrap_or_default();
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    names.reverse();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn modes_parse_and_reject_garbage() {
        assert_eq!(Mode::parse(Some("auto")), Ok(Mode::Auto));
        assert_eq!(Mode::parse(None), Ok(Mode::On));
        assert_eq!(Mode::parse(Some("off")), Ok(Mode::Off));
        assert!(Mode::parse(Some("yes-please"))
            .unwrap_err()
            .contains("auto, on or off"));
    }

    #[test]
    fn finds_udev_through_symlinks_and_needs_both_programs() {
        use std::os::unix::fs::symlink;
        let root = std::env::temp_dir().join(format!("rescue-init-udev-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("lib/systemd")).unwrap();
        let admin = root.join("bin/udevadm");
        std::fs::write(&admin, "#!/bin/sh\n").unwrap();
        assert_eq!(find(&root), None, "not executable");
        std::fs::set_permissions(&admin, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find(&root), None, "no daemon");
        symlink(
            "/bin/udevadm-elsewhere",
            root.join("lib/systemd/systemd-udevd"),
        )
        .unwrap();
        assert_eq!(find(&root), None, "dangling link");
        std::fs::rename(&admin, root.join("bin/udevadm-elsewhere")).unwrap();
        symlink("udevadm-elsewhere", &admin).unwrap();
        std::fs::remove_file(root.join("lib/systemd/systemd-udevd")).unwrap();
        symlink("../../bin/udevadm", root.join("lib/systemd/systemd-udevd")).unwrap();
        let p = find(&root).unwrap();
        assert_eq!(
            (p.daemon, p.admin),
            (root.join("lib/systemd/systemd-udevd"), admin)
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn auto_uses_udev_when_present_on_warns_without_it() {
        let p = Programs {
            daemon: "/sbin/udevd".into(),
            admin: "/bin/udevadm".into(),
        };
        assert_eq!(choose(Mode::Auto, Some(p.clone())), (Some(p.clone()), None));
        assert_eq!(choose(Mode::On, Some(p.clone())), (Some(p.clone()), None));
        assert_eq!(choose(Mode::Off, Some(p)), (None, None));
        assert_eq!(choose(Mode::Auto, None), (None, None));
        let (none, why) = choose(Mode::On, None);
        assert!(none.is_none());
        assert!(why
            .unwrap()
            .contains("rescue.udev=on, but the image has no udev daemon"));
    }
}

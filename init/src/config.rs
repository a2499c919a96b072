//! The init's settings: defaults, then the config file
//! (`/etc/rescue-init/config`, `KEY=VALUE`), then `rescue.*` options on the
//! kernel command line, which win.

use crate::cmdline::{self, Param};
use crate::kv;
use crate::line_error::LineError;
use std::time::Duration;

pub(crate) const CONFIG_PATH: &str = "/etc/rescue-init/config";
/// The shell on the consoles unless `rescue.shell`/`SHELL` (or ReaR mode) says otherwise.
pub(crate) const DEFAULT_SHELL: &str = "/bin/sh";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Start the console shells (the default).
    Shell,
    Reboot,
    Poweroff,
    Halt,
    /// Follow the handoff file (kexec into the recovered system).
    Handoff,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub(crate) shell: String,
    pub(crate) run: Option<Vec<String>>,
    pub(crate) after: After,
    pub(crate) debug: bool,
    pub(crate) script_timeout: Duration,
    pub(crate) stop_timeout: Duration,
    /// Terminal names from `console=` (e.g. `ttyS0`, `tty1`), in order.
    pub(crate) consoles: Vec<String>,
    /// The handoff file read at reboot.
    pub(crate) handoff: String,
    /// Modules to load before coldplug (`rescue.modules=a,b,c`).
    pub(crate) modules: Vec<String>,
    /// Bound on the whole coldplug.
    pub(crate) coldplug_timeout: Duration,
    /// Device bring-up by udev (`rescue.udev`, see `udev.rs`).
    pub(crate) udev: crate::udev::Mode,
    /// Boot a ReaR rescue tree through its inittab (`rescue.rear=off`
    /// boots it as a plain image).
    pub(crate) rear: bool,
    /// Record the timeline (`rescue.timeline`, see `timeline.rs`).
    pub(crate) timeline: bool,
    /// The hardware watchdog's timeout through the kexec, zero for off
    /// (`rescue.kexec-watchdog`, see `watchdog.rs`).
    pub(crate) kexec_watchdog: std::time::Duration,
    /// Test-only: panic once in the main loop to prove PID 1 survives it.
    pub(crate) test_panic: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            shell: DEFAULT_SHELL.into(),
            run: None,
            after: After::Shell,
            debug: false,
            script_timeout: Duration::from_secs(30),
            stop_timeout: Duration::from_secs(5),
            consoles: Vec::new(),
            handoff: crate::handoff::DEFAULT_PATH.into(),
            modules: Vec::new(),
            coldplug_timeout: crate::modules::COLDPLUG_DEADLINE,
            udev: crate::udev::Mode::Auto,
            rear: true,
            timeline: true,
            kexec_watchdog: crate::watchdog::DEFAULT_TIMEOUT,
            test_panic: false,
        }
    }
}

#[derive(Clone, Copy)]
enum Key {
    Shell,
    Run,
    After,
    Debug,
    ScriptTimeout,
    StopTimeout,
    Handoff,
    Modules,
    ColdplugTimeout,
    Udev,
    Rear,
    Timeline,
    KexecWatchdog,
    TestPanic,
}

/// (config file key, command line key, setting). TestPanic has no file key.
/// One row a line, as rustfmt would not keep it: tests/tests/man.rs reads
/// the rows to check that the man pages document every key.
#[rustfmt::skip]
const KEYS: &[(&str, &str, Key)] = &[
    ("SHELL", "rescue.shell", Key::Shell),
    ("RUN", "rescue.run", Key::Run),
    ("AFTER", "rescue.after", Key::After),
    ("DEBUG", "rescue.debug", Key::Debug),
    ("SCRIPT_TIMEOUT", "rescue.script-timeout", Key::ScriptTimeout),
    ("STOP_TIMEOUT", "rescue.stop-timeout", Key::StopTimeout),
    ("HANDOFF", "rescue.handoff", Key::Handoff),
    ("MODULES", "rescue.modules", Key::Modules),
    ("COLDPLUG_TIMEOUT", "rescue.coldplug-timeout", Key::ColdplugTimeout),
    ("UDEV", "rescue.udev", Key::Udev),
    ("REAR", "rescue.rear", Key::Rear),
    ("TIMELINE", "rescue.timeline", Key::Timeline),
    ("KEXEC_WATCHDOG", "rescue.kexec-watchdog", Key::KexecWatchdog),
    ("", "rescue.test-panic", Key::TestPanic),
];

impl Config {
    /// Applies the config file's text; returns one message per rejected
    /// line (the rest of the file still applies).
    pub fn apply_file(&mut self, file: &str, text: &str) -> Vec<String> {
        let allowed: Vec<&str> = KEYS.iter().map(|k| k.0).filter(|k| !k.is_empty()).collect();
        let mut problems = Vec::new();
        let mut seen: Vec<(String, usize)> = Vec::new();
        // Parse line by line so one bad line does not discard the others.
        for (idx, line) in text.lines().enumerate() {
            match kv::parse(file, line, &allowed) {
                Ok(entries) => {
                    for e in entries {
                        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == e.key) {
                            problems.push(format!(
                                "{file}:{}: duplicate key {:?} (first set on line {first})",
                                idx + 1,
                                e.key
                            ));
                            continue;
                        }
                        seen.push((e.key.clone(), idx + 1));
                        let key = KEYS.iter().find(|k| k.0 == e.key).map(|k| k.2);
                        if let Some(key) = key {
                            if let Err(msg) = self.set(key, Some(&e.value)) {
                                problems.push(format!("{file}:{}: {}: {msg}", idx + 1, e.key));
                            }
                        }
                    }
                }
                Err(err) => problems.push(
                    LineError {
                        line: idx + 1,
                        ..err
                    }
                    .to_string(),
                ),
            }
        }
        problems
    }

    /// Applies the kernel command line; returns messages for malformed
    /// `rescue.*` options. Unknown options are ignored.
    pub fn apply_cmdline(&mut self, line: &str) -> Vec<String> {
        let (params, errors) = cmdline::parse(line);
        let mut problems: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        for Param { key, value } in &params {
            if key == "console" {
                if let Some(tty) = value.as_deref().and_then(console_name) {
                    if !self.consoles.contains(&tty) {
                        self.consoles.push(tty);
                    }
                }
                continue;
            }
            if let Some(&(_, _, k)) = KEYS.iter().find(|k| k.1 == key) {
                if let Err(msg) = self.set(k, value.as_deref()) {
                    problems.push(format!("kernel command line: {key}: {msg} (ignored)"));
                }
            }
        }
        problems
    }

    fn set(&mut self, key: Key, value: Option<&str>) -> Result<(), String> {
        match key {
            Key::Debug => self.debug = parse_bool(value)?,
            Key::TestPanic => self.test_panic = parse_bool(value)?,
            Key::Rear => self.rear = parse_bool(value)?,
            Key::Timeline => self.timeline = parse_bool(value)?,
            Key::Shell => self.shell = nonempty(value)?.to_string(),
            Key::Run => self.run = Some(parse_run(nonempty(value)?)?),
            Key::After => self.after = parse_after(nonempty(value)?)?,
            Key::ScriptTimeout => self.script_timeout = parse_secs(nonempty(value)?)?,
            Key::StopTimeout => self.stop_timeout = parse_secs(nonempty(value)?)?,
            Key::Handoff => self.handoff = absolute(nonempty(value)?)?,
            Key::Modules => self.modules = crate::modules::split_list(nonempty(value)?),
            Key::ColdplugTimeout => self.coldplug_timeout = parse_secs(nonempty(value)?)?,
            Key::Udev => self.udev = crate::udev::Mode::parse(value)?,
            Key::KexecWatchdog => self.kexec_watchdog = parse_watchdog(nonempty(value)?)?,
        }
        Ok(())
    }
}

fn nonempty(v: Option<&str>) -> Result<&str, String> {
    match v {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err("needs a value".into()),
    }
}

fn parse_bool(v: Option<&str>) -> Result<bool, String> {
    match v {
        None | Some("1" | "yes" | "true" | "on") => Ok(true),
        Some("0" | "no" | "false" | "off") => Ok(false),
        Some(other) => Err(format!("expected yes/no, got {other:?}")),
    }
}

fn parse_run(v: &str) -> Result<Vec<String>, String> {
    let words = cmdline::split_words(v).map_err(|e| format!("{e} in {v:?}"))?;
    if words.is_empty() {
        return Err("empty command".into());
    }
    Ok(words)
}

fn parse_after(v: &str) -> Result<After, String> {
    Ok(match v {
        "shell" => After::Shell,
        "reboot" => After::Reboot,
        "poweroff" => After::Poweroff,
        "halt" => After::Halt,
        "handoff" => After::Handoff,
        _ => {
            return Err(format!(
                "expected shell, reboot, poweroff, halt or handoff, got {v:?}"
            ))
        }
    })
}

fn absolute(v: &str) -> Result<String, String> {
    if v.starts_with('/') {
        Ok(v.to_string())
    } else {
        Err(format!("expected an absolute path, got {v:?}"))
    }
}

/// `SECS` or `SECS.FRACTION` (up to nanoseconds), at most a day. Decimal
/// by hand: the float parser would cost the static init 13 KiB.
/// Whole seconds, 0 for off; one hour at most, beyond which no hardware
/// watchdog counts (i6300esb stops at 2046 s).
fn parse_watchdog(v: &str) -> Result<Duration, String> {
    match v.parse::<u64>() {
        Ok(secs) if secs <= 3600 => Ok(Duration::from_secs(secs)),
        Ok(_) => Err(format!(
            "{v} s is more than a watchdog counts (at most 3600; 0 turns it off)"
        )),
        Err(_) => Err(format!(
            "expected whole seconds (0 turns it off), got {v:?}"
        )),
    }
}

fn parse_secs(v: &str) -> Result<Duration, String> {
    let bad = || format!("expected seconds, got {v:?}");
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return Err(bad());
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| format!("seconds out of range: {v}"))?
    };
    let nanos: u32 = format!("{frac:0<9}").parse().map_err(|_| bad())?;
    let d = Duration::new(secs, nanos);
    if d > Duration::from_secs(86400) {
        return Err(format!("seconds out of range: {v}"));
    }
    Ok(d)
}

/// `ttyS0,115200n8` → `ttyS0`; `tty0` (the active VT) → `tty1`; `null`
/// and empty names are no terminal.
fn console_name(v: &str) -> Option<String> {
    let name = v
        .split(',')
        .next()
        .unwrap_or("")
        .trim_start_matches("/dev/");
    match name {
        "" | "null" => None,
        "tty0" => Some("tty1".into()),
        n => Some(n.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_decimal() {
        assert_eq!(parse_secs("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_secs("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_secs(".25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_secs("0.000000001"), Ok(Duration::from_nanos(1)));
        assert_eq!(parse_secs("86400"), Ok(Duration::from_secs(86400)));
        for bad in [
            "",
            ".",
            "1e3",
            "-1",
            "1.2.3",
            "inf",
            "NaN",
            " 1",
            "0.0000000001",
        ] {
            assert!(
                parse_secs(bad).unwrap_err().starts_with("expected seconds"),
                "{bad:?}"
            );
        }
        for big in ["86401", "99999999999999999999999"] {
            assert!(
                parse_secs(big)
                    .unwrap_err()
                    .starts_with("seconds out of range"),
                "{big:?}"
            );
        }
    }

    #[test]
    fn cmdline_options_and_consoles() {
        let mut c = Config::default();
        let p = c.apply_cmdline(
            r#"console=tty0 console=ttyS0,115200n8 console=ttyS0 rescue.shell=/bin/bash rescue.run="/bin/sh -c 'echo hi'" rescue.debug rescue.after=poweroff rescue.stop-timeout=2.5 rescue.handoff=/tmp/h rescue.modules=virtio_blk,ext4 rescue.udev=off other=1"#,
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(c.consoles, ["tty1", "ttyS0"]);
        assert_eq!(c.shell, "/bin/bash");
        assert_eq!(c.run.as_deref().unwrap(), ["/bin/sh", "-c", "echo hi"]);
        assert!(c.debug);
        assert_eq!(c.after, After::Poweroff);
        assert_eq!(c.stop_timeout, Duration::from_millis(2500));
        assert_eq!(c.handoff, "/tmp/h");
        assert_eq!(c.modules, ["virtio_blk", "ext4"]);
        assert_eq!(c.udev, crate::udev::Mode::Off);
        let mut d = Config::default();
        assert!(!d
            .apply_cmdline("rescue.after=handoff rescue.handoff=relative")
            .is_empty());
        assert_eq!(
            (d.after, d.handoff.as_str()),
            (After::Handoff, crate::handoff::DEFAULT_PATH)
        );
    }

    #[test]
    fn malformed_options_are_reported_and_ignored() {
        let mut c = Config::default();
        let p = c.apply_cmdline("rescue.shell= rescue.after=dance rescue.debug=maybe rescue.udev=sometimes rescue.run=\"x");
        assert_eq!(p.len(), 5, "{p:?}");
        assert_eq!(c, Config::default());
        assert!(p
            .iter()
            .any(|m| m.contains("rescue.after") && m.contains("dance")));
    }

    #[test]
    fn file_then_cmdline_wins() {
        let mut c = Config::default();
        let p = c.apply_file(
            "cfg",
            "SHELL=/bin/ash\nRUN='rear recover'\nDEBUG=yes\nUDEV=on\n",
        );
        assert!(p.is_empty(), "{p:?}");
        c.apply_cmdline("rescue.shell=/bin/bash");
        assert_eq!(c.shell, "/bin/bash");
        assert_eq!(c.run.as_deref().unwrap(), ["rear", "recover"]);
        assert!(c.debug);
        assert_eq!(c.udev, crate::udev::Mode::On);
    }

    #[test]
    fn bad_file_lines_name_the_line_and_keep_the_rest() {
        let mut c = Config::default();
        let p = c.apply_file(
            "/etc/rescue-init/config",
            "BOGUS=1\nSHELL=/bin/ash\nAFTER=never\nRUN=\"x\nSHELL=/bin/zsh\n",
        );
        assert_eq!(c.shell, "/bin/ash");
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[3].contains(":5: duplicate key \"SHELL\" (first set on line 2)"));
        assert!(p[0].starts_with("/etc/rescue-init/config:1: unknown key"));
        assert!(p[1].starts_with("/etc/rescue-init/config:3: AFTER"));
        assert!(p[2].starts_with("/etc/rescue-init/config:4: unterminated"));
    }

    #[test]
    fn kexec_watchdog_is_whole_seconds_up_to_an_hour() {
        let mut c = Config::default();
        assert_eq!(c.kexec_watchdog, Duration::from_secs(600));
        assert!(c.apply_cmdline("rescue.kexec-watchdog=0").is_empty());
        assert!(c.kexec_watchdog.is_zero());
        let p = c.apply_file("/etc/rescue-init/config", "KEXEC_WATCHDOG=90\n");
        assert!(
            p.is_empty() && c.kexec_watchdog == Duration::from_secs(90),
            "{p:?}"
        );
        let p = c.apply_cmdline("rescue.kexec-watchdog=1.5 rescue.kexec-watchdog=7200");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("whole seconds") && p[1].contains("at most 3600"),
            "{p:?}"
        );
        assert_eq!(
            c.kexec_watchdog,
            Duration::from_secs(90),
            "bad values change nothing"
        );
    }
}

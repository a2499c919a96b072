//! Logging to `/dev/kmsg` and the console.
//!
//! Every line carries a monotonic millisecond timestamp so boot and
//! shutdown can be timed off the serial console. A line goes to the kernel
//! log; when the kernel would not echo it to the console itself (its level
//! is at or above `console_loglevel`, or there is no kmsg) it is written to
//! the console directly, so it is shown exactly once. Lines logged before
//! either exists are kept and flushed once the console is attached.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Mutex;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Level {
    Error = 3,
    Warn = 4,
    Info = 6,
    Debug = 7,
}

struct Logger {
    kmsg: Option<File>,
    console: Option<File>,
    /// Kernel's console_loglevel: kmsg lines below it reach the console.
    console_loglevel: u8,
    early: Vec<String>,
    debug: bool,
    /// Inside a container stderr is the console and there is no kmsg.
    stderr_only: bool,
}

static LOGGER: Mutex<Logger> = Mutex::new(Logger {
    kmsg: None,
    console: None,
    console_loglevel: 0,
    early: Vec::new(),
    debug: false,
    stderr_only: false,
});

fn with_logger<R>(f: impl FnOnce(&mut Logger) -> R) -> R {
    // A panic while logging must not make every later log line panic too.
    let mut guard = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard)
}

/// Milliseconds since boot (CLOCK_MONOTONIC starts near kernel start).
pub fn uptime_ms() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

fn stamp() -> String {
    let ms = uptime_ms();
    format!("[{:5}.{:03}]", ms / 1000, ms % 1000)
}

pub fn log(level: Level, args: fmt::Arguments<'_>) {
    let line = format!("{} rescue-init: {}", stamp(), args);
    with_logger(|l| l.emit(level, &line));
}

impl Logger {
    fn emit(&mut self, level: Level, line: &str) {
        if level == Level::Debug && !self.debug {
            return;
        }
        if self.stderr_only {
            let _ = writeln!(std::io::stderr(), "{line}");
            return;
        }
        let in_kmsg = self.write_kmsg(level, line);
        if in_kmsg {
            // Others change it while we run (ReaR's boot script runs
            // `dmesg -n1`): a stale level would hide our lines.
            self.console_loglevel = read_console_loglevel().unwrap_or(self.console_loglevel);
        }
        let kernel_echoes = in_kmsg && (level as u8) < self.console_loglevel;
        if kernel_echoes {
            return;
        }
        match self.console.as_mut() {
            Some(c) => {
                let _ = c.write_all(format!("{line}\n").as_bytes());
            }
            None if level <= Level::Warn || !in_kmsg => self.early.push(line.to_string()),
            None => {}
        }
    }

    fn write_kmsg(&mut self, level: Level, line: &str) -> bool {
        let Some(k) = self.kmsg.as_mut() else {
            return false;
        };
        // The kernel stamps kmsg lines itself; drop our stamp there.
        let text = line.split_once("] ").map_or(line, |(_, rest)| rest);
        // Facility 3 (daemon) keeps our lines apart from the kernel's own.
        // One write per record: kmsg turns every write into its own line.
        let record = format!("<{}>{}\n", 24 + level as u8, text);
        k.write_all(record.as_bytes()).is_ok()
    }
}

/// Opens `/dev/kmsg` once devtmpfs is mounted and reads the kernel's
/// console log level from /proc.
pub fn attach_kmsg() {
    let kmsg = OpenOptions::new().write(true).open("/dev/kmsg").ok();
    // Without this the kernel rate-limits userspace lines (10 per 5 s).
    let _ = std::fs::write("/proc/sys/kernel/printk_devkmsg", "on\n");
    let level = read_console_loglevel().unwrap_or(0);
    with_logger(|l| {
        l.kmsg = kmsg;
        l.console_loglevel = level;
    });
}

/// The kernel's console_loglevel, the first field of /proc's printk.
fn read_console_loglevel() -> Option<u8> {
    let text = std::fs::read_to_string("/proc/sys/kernel/printk").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The console is open: flush what was logged before it existed.
pub fn attach_console(console: File) {
    with_logger(|l| {
        l.console = Some(console);
        let early = std::mem::take(&mut l.early);
        if let Some(c) = l.console.as_mut() {
            for line in early {
                let _ = writeln!(c, "{line}");
            }
        }
    });
}

/// Container mode: no kmsg, no console of our own; stderr is the log.
pub fn use_stderr_only() {
    with_logger(|l| l.stderr_only = true);
}

pub fn set_debug(on: bool) {
    with_logger(|l| l.debug = on);
}

#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warn, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Error, format_args!($($arg)*)) };
}
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Debug, format_args!($($arg)*)) };
}

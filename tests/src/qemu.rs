//! A QEMU (TCG) virtual machine driven through its serial console.
//!
//! The guest's `ttyS0` (on arm64 `ttyAMA0`; `ARCH`, see [`crate::arch`])
//! is QEMU's stdin/stdout. A reader thread appends every
//! byte to a shared buffer and to `<target>/vm-logs/<name>.log`; `wait_for`
//! searches that buffer from a cursor which then moves past the match, so
//! the same marker can be awaited again. The human monitor is on a unix
//! socket for `sendkey` and friends. `-no-reboot` turns a guest reboot into
//! QEMU exiting, so `wait_exit` sees reboots as well as power-offs and tells
//! them apart by the kernel's last `reboot: ...` line. Dropping a `Vm` kills
//! QEMU.

use crate::{monitor, paths};
use anyhow::{anyhow, bail, Context, Result};
use regex::bytes::Regex;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The kernel command line every x86-64 VM starts with; [`base_cmdline`]
/// has the current architecture's console.
pub const BASE_CMDLINE: &str = "console=ttyS0 panic=-1";

/// The kernel command line every VM starts with.
pub fn base_cmdline() -> String {
    format!("console={} panic=-1", crate::Arch::current().console())
}
/// Lines of console output shown in failure messages.
const TAIL_LINES: usize = 80;

/// What the VM starts from.
#[derive(Clone, Debug)]
pub enum Boot {
    /// QEMU loads the kernel and initrd itself (`-kernel`, `-initrd`,
    /// `-append`).
    Kernel { kernel: PathBuf, initrd: PathBuf },
    /// The firmware (SeaBIOS) boots the first bootable disk or CD, as on
    /// a real machine; the command line is the boot loader's business.
    Firmware,
}

/// What to boot and how.
#[derive(Clone, Debug)]
pub struct BootOpts {
    pub boot: Boot,
    /// Appended to [`BASE_CMDLINE`] (kernel boots only).
    pub cmdline_extra: String,
    pub mem_mb: u32,
    pub cpus: u32,
    /// Raw images attached as virtio disks, in order (`vda`, `vdb`, ...).
    pub disks: Vec<PathBuf>,
    /// An ISO image attached as an IDE CD-ROM.
    pub cdrom: Option<PathBuf>,
    /// A virtio NIC on QEMU's user network, guest port 22 forwarded to
    /// this port on the host's 127.0.0.1.
    pub ssh_port: Option<u16>,
    /// A guest reboot ends QEMU (`-no-reboot`, the default), so that
    /// `wait_exit` sees it; off, the machine reboots through its firmware.
    pub reboot_exits: bool,
    /// Log file name (without `.log`); defaults to the current test's name.
    pub name: Option<String>,
    /// Where the log goes; defaults to `<target>/vm-logs`.
    pub log_dir: Option<PathBuf>,
    /// Further QEMU arguments.
    pub extra_args: Vec<String>,
}

impl BootOpts {
    pub fn new(kernel: impl Into<PathBuf>, initrd: impl Into<PathBuf>) -> Self {
        Self::with_boot(Boot::Kernel {
            kernel: kernel.into(),
            initrd: initrd.into(),
        })
    }

    /// A machine that boots through its firmware.
    pub fn firmware() -> Self {
        Self::with_boot(Boot::Firmware)
    }

    fn with_boot(boot: Boot) -> Self {
        BootOpts {
            boot,
            cmdline_extra: String::new(),
            mem_mb: 512,
            cpus: 1,
            disks: Vec::new(),
            cdrom: None,
            ssh_port: None,
            reboot_exits: true,
            name: None,
            log_dir: None,
            extra_args: Vec::new(),
        }
    }

    /// The full kernel command line.
    pub fn cmdline(&self) -> String {
        format!("{} {}", base_cmdline(), self.cmdline_extra)
            .trim()
            .to_owned()
    }

    fn qemu_command(&self, monitor: &Path) -> Command {
        let arch = crate::Arch::current();
        let mut cmd = Command::new(arch.qemu());
        cmd.args(arch.machine_args())
            .args(["-accel", "tcg", "-nodefaults", "-display", "none"])
            .args(["-m", &self.mem_mb.to_string()])
            .args(["-smp", &self.cpus.to_string()])
            .args(["-serial", "stdio"])
            .arg("-monitor")
            .arg(format!("unix:{},server=on,wait=off", monitor.display()));
        if self.reboot_exits {
            cmd.arg("-no-reboot");
        }
        if let Boot::Kernel { kernel, initrd } = &self.boot {
            cmd.arg("-kernel")
                .arg(kernel)
                .arg("-initrd")
                .arg(initrd)
                .args(["-append", &self.cmdline()]);
        }
        for disk in &self.disks {
            cmd.arg("-drive")
                .arg(format!("file={},format=raw,if=virtio", disk.display()));
        }
        if let Some(iso) = &self.cdrom {
            cmd.arg("-drive").arg(format!(
                "file={},format=raw,media=cdrom,if=ide,readonly=on",
                iso.display()
            ));
            // SeaBIOS tries the CD first, as a machine set to boot from it.
            cmd.args(["-boot", "order=dc"]);
        }
        if let Some(port) = self.ssh_port {
            cmd.args([
                "-netdev",
                &format!("user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:22"),
            ])
            .args(["-device", "virtio-net-pci,netdev=net0"]);
        }
        cmd.args(&self.extra_args);
        cmd
    }
}

/// How QEMU ended, read off the kernel's last words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// `reboot: Restarting system`
    Reboot,
    /// `reboot: Power down`
    PowerOff,
    /// `reboot: System halted`
    Halt,
    /// `Kernel panic - not syncing` (with `panic=-1` the kernel resets at once)
    Panic,
    /// QEMU exited without any of the above on the console.
    Unknown,
}

#[derive(Default)]
struct State {
    console: Vec<u8>,
    stderr: Vec<u8>,
    closed: bool,
}

/// Console bytes shared between the reader threads and the test.
struct Shared {
    state: Mutex<State>,
    grew: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running VM. See the module docs.
pub struct Vm {
    child: Child,
    stdin: Option<ChildStdin>,
    shared: Arc<Shared>,
    readers: Vec<JoinHandle<()>>,
    cursor: usize,
    log_path: PathBuf,
    monitor_path: PathBuf,
}

impl Vm {
    /// Starts QEMU. The kernel and initrd must exist.
    pub fn boot(opts: BootOpts) -> Result<Vm> {
        let mut files: Vec<&PathBuf> = opts.disks.iter().chain(&opts.cdrom).collect();
        if let Boot::Kernel { kernel, initrd } = &opts.boot {
            files.extend([kernel, initrd]);
        }
        for f in files {
            if !f.is_file() {
                bail!("cannot boot: {} does not exist", f.display());
            }
        }
        let name = opts.name.clone().unwrap_or_else(current_test_name);
        let log_dir = match &opts.log_dir {
            Some(dir) => dir.clone(),
            None => paths::target_subdir("vm-logs")?,
        };
        let log_path = log_dir.join(format!("{name}.log"));
        let mut log =
            File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let monitor_path = monitor_socket_path();
        let _ = std::fs::remove_file(&monitor_path);
        let mut cmd = opts.qemu_command(&monitor_path);
        writeln!(log, "# {cmd:?}")?;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| {
                let arch = crate::Arch::current();
                format!(
                    "starting {} (apt-get install {})",
                    arch.qemu(),
                    arch.qemu_package()
                )
            })?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            grew: Condvar::new(),
        });
        let log = Arc::new(Mutex::new(log));
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        let readers = vec![
            spawn_reader(out, shared.clone(), log.clone(), false),
            spawn_reader(err, shared.clone(), log, true),
        ];
        Ok(Vm {
            stdin: child.stdin.take(),
            child,
            shared,
            readers,
            cursor: 0,
            log_path,
            monitor_path,
        })
    }

    /// Waits until `needle` appears after the cursor; moves the cursor past it.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<()> {
        self.wait_for_re(&regex::escape(needle), timeout).map(drop)
    }

    /// Waits for a regex match after the cursor and moves the cursor past
    /// it. Returns the capture groups (0 = whole match; unmatched = "").
    /// The console arrives in pieces: end a variable-length capture with
    /// something that must follow it (`N=(\d+)\r?\n`), or `N=1` may match
    /// before `000` arrives.
    pub fn wait_for_re(&mut self, re: &str, timeout: Duration) -> Result<Vec<String>> {
        let regex = Regex::new(re).with_context(|| format!("bad regex {re:?}"))?;
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(caps) = regex.captures(&state.console[self.cursor..]) {
                self.cursor += caps.get(0).map_or(0, |m| m.end());
                return Ok(caps
                    .iter()
                    .map(|m| m.map_or(String::new(), |m| lossy(m.as_bytes())))
                    .collect());
            }
            let now = Instant::now();
            if state.closed || now >= deadline {
                let why = if state.closed {
                    "QEMU exited"
                } else {
                    "timed out"
                };
                drop(state);
                return Err(self.failure(&format!("{why} after waiting {timeout:?} for /{re}/")));
            }
            state = self
                .shared
                .grew
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Types `line` and Enter on the serial console.
    pub fn send_line(&mut self, line: &str) -> Result<()> {
        self.send_bytes(format!("{line}\n").as_bytes())
    }

    /// Sends raw bytes to the serial console (Ctrl-S is 0x13).
    pub fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let stdin = self.stdin.as_mut().ok_or_else(|| anyhow!("stdin closed"))?;
        let sent = stdin.write_all(bytes).and_then(|()| stdin.flush());
        sent.map_err(|e| self.failure(&format!("sending {bytes:?} to the console: {e}")))
    }

    /// Runs a human monitor command (e.g. `sendkey ctrl-alt-delete`) and
    /// returns its output.
    pub fn monitor(&mut self, command: &str) -> Result<String> {
        monitor::command(&self.monitor_path, command)
            .map_err(|e| self.failure(&format!("monitor command {command:?}: {e:#}")))
    }

    /// Waits for QEMU to exit and says why it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitKind> {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                return Err(self.failure(&format!("QEMU still running after {timeout:?}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let kind = classify_exit(&self.console());
        if kind == ExitKind::Unknown && !status.success() {
            return Err(self.failure(&format!("QEMU exited with {status}")));
        }
        Ok(kind)
    }

    /// The whole console output so far (lossy UTF-8).
    pub fn console(&self) -> String {
        lossy(&self.shared.lock().console)
    }

    /// Where the cursor is: console bytes before it have been matched.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Console output between two cursor positions (lossy UTF-8).
    pub fn console_range(&self, from: usize, to: usize) -> String {
        let state = self.shared.lock();
        let end = to.min(state.console.len());
        lossy(&state.console[from.min(end)..end])
    }

    /// Console output after the cursor.
    pub fn console_since_cursor(&self) -> String {
        lossy(&self.shared.lock().console[self.cursor..])
    }

    /// Fails (with the console tail) if `needle` is anywhere on the console.
    pub fn assert_absent(&self, needle: &str) -> Result<()> {
        if self.console().contains(needle) {
            return Err(self.failure(&format!("the console shows {needle:?}")));
        }
        Ok(())
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// An error carrying `msg`, the console tail and the log path.
    pub fn failure(&self, msg: &str) -> anyhow::Error {
        let state = self.shared.lock();
        let console = lossy(&state.console).replace('\r', "");
        let lines: Vec<&str> = console.lines().collect();
        let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
        let stderr = lossy(&state.stderr);
        anyhow!(
            "{msg}\n--- last {TAIL_LINES} console lines ---\n{tail}\n--- qemu stderr ---\n{stderr}\n--- full log: {} ---",
            self.log_path.display()
        )
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let _ = std::fs::remove_file(&self.monitor_path);
    }
}

fn spawn_reader(
    mut from: impl Read + Send + 'static,
    shared: Arc<Shared>,
    log: Arc<Mutex<File>>,
    is_stderr: bool,
) -> JoinHandle<()> {
    let started = Instant::now();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut at_line_start = true;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Ok(mut log) = log.lock() {
                let _ = log.write_all(&stamp_lines(&buf[..n], &mut at_line_start, started));
            }
            let mut state = shared.lock();
            let sink = if is_stderr {
                &mut state.stderr
            } else {
                &mut state.console
            };
            sink.extend_from_slice(&buf[..n]);
            drop(state);
            shared.grew.notify_all();
        }
        if !is_stderr {
            shared.lock().closed = true;
            shared.grew.notify_all();
        }
    })
}

/// `bytes` with the host's time since the VM started at the head of every
/// line (`[host 12.345] `), so a log shows where the seconds went even
/// where the guest's clock cannot (firmware, boot loader, a kexec).
fn stamp_lines(bytes: &[u8], at_line_start: &mut bool, started: Instant) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 32);
    for &b in bytes {
        if *at_line_start {
            out.extend_from_slice(
                format!("[host {:8.3}] ", started.elapsed().as_secs_f64()).as_bytes(),
            );
        }
        out.push(b);
        *at_line_start = b == b'\n';
    }
    out
}

/// Last `reboot: ...` line decides; a panic without one is a panic.
pub fn classify_exit(console: &str) -> ExitKind {
    let marks = [
        ("reboot: Restarting system", ExitKind::Reboot),
        ("reboot: Power down", ExitKind::PowerOff),
        ("reboot: System halted", ExitKind::Halt),
    ];
    let last = marks
        .iter()
        .filter_map(|(text, kind)| console.rfind(text).map(|at| (at, *kind)))
        .max_by_key(|(at, _)| *at);
    match last {
        Some((_, kind)) => kind,
        None if console.contains("Kernel panic - not syncing") => ExitKind::Panic,
        None => ExitKind::Unknown,
    }
}

fn monitor_socket_path() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("rescue-vm-{}-{n}.mon", std::process::id()))
}

/// libtest names each test's thread after the test (`module::test`).
fn current_test_name() -> String {
    let name = std::thread::current().name().unwrap_or("vm").to_owned();
    name.replace("::", "-").replace(
        |c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "_",
    )
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_reboot_line_wins() {
        let log = "reboot: Restarting system\n...\nreboot: Power down\n";
        assert_eq!(classify_exit(log), ExitKind::PowerOff);
        assert_eq!(classify_exit("reboot: System halted"), ExitKind::Halt);
        assert_eq!(
            classify_exit("Kernel panic - not syncing: Attempted to kill init!"),
            ExitKind::Panic
        );
        assert_eq!(classify_exit("nothing"), ExitKind::Unknown);
    }

    #[test]
    fn log_lines_get_host_stamps() {
        let mut start = true;
        let t0 = Instant::now();
        let out = String::from_utf8(stamp_lines(b"a\nb", &mut start, t0)).unwrap();
        assert!(!start, "the line is not finished");
        let rest = String::from_utf8(stamp_lines(b"c\n", &mut start, t0)).unwrap();
        let re = regex::Regex::new(r"^\[host +\d+\.\d{3}\] a\n\[host +\d+\.\d{3}\] b$").unwrap();
        assert!(re.is_match(&out), "{out:?}");
        assert_eq!(rest, "c\n");
    }

    #[test]
    fn cmdline_starts_with_the_base() {
        let mut opts = BootOpts::new("/k", "/i");
        opts.cmdline_extra = "rescue.run=x".into();
        assert_eq!(opts.cmdline(), format!("{} rescue.run=x", base_cmdline()));
    }
}

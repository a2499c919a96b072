//! Namespace tests (root): rescue-init runs as PID 1 of a fresh PID and
//! mount namespace on the host (`unshare --pid --mount --fork`), in its
//! container mode (`container=` set: log to stderr, shells on stdio,
//! rescue.* options from argv). Fast checks of reaping, signals, respawn
//! and panic recovery; the VM tests prove the same on a real kernel.
//!
//! A namespace's PID 1 ending by reboot(2) is killed by the kernel with
//! SIGHUP (restart) or SIGINT (halt/power-off), which `unshare` passes on:
//! that is how these tests tell which request was carried out.

use anyhow::{bail, Context, Result};
use rescue_tests::paths;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const LIMIT: Duration = Duration::from_secs(30);

struct Ns {
    child: Child,
    /// What each read of stdout or stderr got, whole: sent byte by byte,
    /// the two readers interleaved a log line with a command's output.
    out: std::sync::mpsc::Receiver<Vec<u8>>,
    log: Vec<u8>,
}

fn skip_unless_root() -> bool {
    !rescue_tests::is_root()
        && rescue_tests::skip("namespace tests need root (unshare --pid --mount)")
}

/// A scratch dir the namespace can see: the init mounts fresh tmpfs on
/// /tmp and /run, and the workspace itself may live under /tmp (CI).
fn scratch(name: &str) -> Result<PathBuf> {
    let dir = PathBuf::from(format!("/var/tmp/rescue-ns-tests-{}", std::process::id())).join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn script(name: &str, body: &str) -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = scratch("scripts")?.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n"))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(path)
}

impl Ns {
    fn start(args: &[&str]) -> Result<Ns> {
        let init = paths::rescue_init()?;
        let mut child = Command::new("unshare")
            .args(["--pid", "--mount", "--fork", "--kill-child"])
            .arg(&init)
            .args(args)
            .env("container", "rescue-ns-test")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("running unshare")?;
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child.stderr.take().map(|s| Box::new(s) as _),
        ] {
            let tx = tx.clone();
            let mut stream = stream.context("no pipe")?;
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Ns {
            child,
            out: rx,
            log: Vec::new(),
        })
    }

    fn text(&mut self) -> String {
        while let Ok(chunk) = self.out.try_recv() {
            self.log.extend_from_slice(&chunk);
        }
        String::from_utf8_lossy(&self.log).into_owned()
    }

    fn wait_for(&mut self, needle: &str) -> Result<()> {
        let end = Instant::now() + LIMIT;
        while Instant::now() < end {
            if self.text().contains(needle) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!(
            "{needle:?} did not appear within {LIMIT:?}; output:\n{}",
            self.text()
        )
    }

    /// The host pid of the namespace's PID 1 (unshare's only child).
    fn init_pid(&self) -> Result<i32> {
        let id = self.child.id();
        let end = Instant::now() + LIMIT;
        while Instant::now() < end {
            let kids = std::fs::read_to_string(format!("/proc/{id}/task/{id}/children"))
                .unwrap_or_default();
            if let Some(pid) = kids.split_whitespace().next() {
                return Ok(pid.parse()?);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        bail!("unshare ({id}) never started its child")
    }

    fn signal(&self, sig: &str) -> Result<()> {
        let pid = self.init_pid()?;
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &pid.to_string()])
            .status()?
            .success();
        if !ok {
            bail!("kill -{sig} {pid} failed");
        }
        Ok(())
    }

    fn send(&mut self, line: &str) -> Result<()> {
        let stdin = self.child.stdin.as_mut().context("stdin closed")?;
        writeln!(stdin, "{line}")?;
        Ok(stdin.flush()?)
    }

    fn wait_exit(&mut self) -> Result<ExitStatus> {
        let end = Instant::now() + LIMIT;
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait()? {
                std::thread::sleep(Duration::from_millis(50));
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!(
            "the namespace did not end within {LIMIT:?}; output:\n{}",
            self.text()
        )
    }

    /// Waits for the end and checks it was by `sig` (HUP: reboot, INT:
    /// halt or power-off).
    fn expect_end_by(&mut self, sig: i32) -> Result<String> {
        let status = self.wait_exit()?;
        let text = self.text();
        let got = status.signal().or_else(|| status.code().map(|c| c - 128));
        if got != Some(sig) {
            bail!("expected the namespace to end by signal {sig}, got {status:?}; output:\n{text}");
        }
        Ok(text)
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Proves: rescue.run runs its command, then rescue.after=poweroff powers
/// off through the shutdown path (the namespace ends by SIGINT).
#[test]
fn run_command_then_poweroff() -> Result<()> {
    if skip_unless_root() {
        return Ok(());
    }
    let mut ns = Ns::start(&[
        "rescue.run=/bin/sh -c 'echo RUN-$((2+3))'",
        "rescue.after=poweroff",
    ])?;
    let text = ns.expect_end_by(SIGINT)?;
    assert!(text.contains("RUN-5"), "{text}");
    assert!(text.contains("rescue.run exited with status 0"), "{text}");
    assert!(text.contains("shutdown: poweroff now"), "{text}");
    Ok(())
}

/// Proves: orphans re-parented to PID 1 are reaped. 1000 subshells each
/// leave a `sleep` behind; after they have all ended no zombie remains.
#[test]
fn reaps_an_orphan_storm() -> Result<()> {
    if skip_unless_root() {
        return Ok(());
    }
    let s = script(
        "orphans.sh",
        r#"i=0; while [ $i -lt 1000 ]; do (sleep 0.5 &); i=$((i+1)); done
echo "ORPHANS-ALIVE=$(grep -l '^[0-9]* (sleep) [SR] 1 ' /proc/[0-9]*/stat 2>/dev/null | wc -l)"
sleep 3
echo "ZOMBIES=$(grep -l '^[0-9]* ([^)]*) Z' /proc/[0-9]*/stat 2>/dev/null | wc -l)""#,
    )?;
    let mut ns = Ns::start(&[
        &format!("rescue.run={}", s.display()),
        "rescue.after=poweroff",
    ])?;
    let text = ns.expect_end_by(SIGINT)?;
    let alive: usize = field(&text, "ORPHANS-ALIVE=")?;
    assert!(
        alive > 0,
        "no orphan was ever parented to PID 1, the test proves nothing:\n{text}"
    );
    assert_eq!(field::<usize>(&text, "ZOMBIES=")?, 0, "{text}");
    Ok(())
}

fn field<T: std::str::FromStr>(text: &str, key: &str) -> Result<T> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .with_context(|| format!("no {key} in:\n{text}"))?;
    line.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("bad value for {key}: {line:?}"))
}

/// Proves: SIGTERM from outside is a reboot request, carried out while the
/// recovery command still runs (the namespace ends by SIGHUP).
#[test]
fn sigterm_reboots() -> Result<()> {
    if skip_unless_root() {
        return Ok(());
    }
    let mut ns = Ns::start(&["rescue.run=/bin/sleep 1000"])?;
    ns.wait_for("running rescue.run")?;
    ns.signal("TERM")?;
    let text = ns.expect_end_by(SIGHUP)?;
    assert!(text.contains("reboot requested (signal 15"), "{text}");
    assert!(text.contains("shutdown: reboot now"), "{text}");
    Ok(())
}

/// Proves: a second request neither replaces nor silently drops the first:
/// poweroff (sent first) happens and the later reboot is named in the log.
#[test]
fn first_request_wins_and_the_second_is_logged() -> Result<()> {
    if skip_unless_root() {
        return Ok(());
    }
    let mut ns = Ns::start(&["rescue.run=/bin/sleep 100"])?;
    ns.wait_for("running rescue.run")?;
    // Both requests must be pending together: freeze PID 1 while sending.
    ns.signal("STOP")?;
    ns.signal("USR2")?;
    ns.signal("TERM")?;
    ns.signal("CONT")?;
    let text = ns.expect_end_by(SIGINT)?;
    assert!(text.contains("shutdown (poweroff)"), "{text}");
    assert!(
        text.contains("during poweroff: the poweroff already under way goes on"),
        "{text}"
    );
    Ok(())
}

/// Proves: a process that ignores SIGTERM is named and SIGKILLed after the
/// stop timeout, and the shutdown still completes.
#[test]
fn stubborn_process_is_killed() -> Result<()> {
    if skip_unless_root() {
        return Ok(());
    }
    let s = script(
        "stubborn.sh",
        "sh -c \"trap '' TERM HUP; while :; do sleep 1; done\" &\nsleep 0.2",
    )?;
    let mut ns = Ns::start(&[
        &format!("rescue.run={}", s.display()),
        "rescue.after=reboot",
        "rescue.stop-timeout=1",
    ])?;
    let text = ns.expect_end_by(SIGHUP)?;
    assert!(text.contains("ignored SIGTERM"), "{text}");
    assert!(text.contains("shutdown: reboot now"), "{text}");
    Ok(())
}

/// Proves: a shell that cannot be executed is explained and retried with
/// growing pauses, not in a busy loop; PID 1 still answers requests.
#[test]
fn missing_shell_backs_off() -> Result<()> {
    if skip_unless_root() {
        return Ok(());
    }
    let mut ns = Ns::start(&["rescue.shell=/nonexistent/sh"])?;
    ns.wait_for("cannot start /nonexistent/sh")?;
    std::thread::sleep(Duration::from_secs(4));
    let attempts = ns.text().matches("cannot start /nonexistent/sh").count();
    // Back-off 1 s, 2 s, 4 s: three or four attempts in ~4 s; a busy
    // loop would make thousands.
    assert!(
        (2..=5).contains(&attempts),
        "{attempts} attempts:\n{}",
        ns.text()
    );
    ns.signal("USR2")?;
    ns.expect_end_by(SIGINT)?;
    Ok(())
}

/// Proves: a shell that exits at once is restarted, but after a burst of
/// restarts PID 1 throttles them and says so.
#[test]
fn respawn_is_rate_limited() -> Result<()> {
    if skip_unless_root() {
        return Ok(());
    }
    let mut ns = Ns::start(&["rescue.shell=/bin/true"])?;
    ns.wait_for("next start in 2s")?;
    std::thread::sleep(Duration::from_secs(3));
    let starts = ns.text().matches("shell on stdio started").count();
    assert!(
        (10..=14).contains(&starts),
        "{starts} starts:\n{}",
        ns.text()
    );
    ns.signal("TERM")?;
    ns.expect_end_by(SIGHUP)?;
    Ok(())
}

/// Proves: a panic in PID 1's main loop is caught; PID 1 logs it, starts
/// an emergency shell that runs commands, and still powers off on request.
#[test]
fn panic_in_main_loop_gives_emergency_shell() -> Result<()> {
    if skip_unless_root() {
        return Ok(());
    }
    let mut ns = Ns::start(&["rescue.test-panic"])?;
    ns.wait_for("survived a panic")?;
    ns.send("echo EMERGENCY-$((6*7))")?;
    ns.wait_for("EMERGENCY-42")?;
    let text = ns.text();
    assert!(text.contains("PANIC: "), "{text}");
    ns.signal("USR2")?;
    ns.expect_end_by(SIGINT)?;
    Ok(())
}

/// Proves: the init is one static binary (no interpreter, no shared
/// libraries to carry into an image) and within the size goal.
#[test]
fn init_is_static_and_small() -> Result<()> {
    let init = paths::rescue_init()?;
    let out = Command::new("file")
        .arg("-b")
        .arg(&init)
        .output()
        .context("running file(1)")?;
    let desc = String::from_utf8_lossy(&out.stdout);
    assert!(
        desc.contains("statically linked") || desc.contains("static-pie linked"),
        "{}: {desc}",
        init.display()
    );
    let size = std::fs::metadata(&init)?.len();
    assert!(
        size <= 1024 * 1024,
        "{} is {size} bytes, over 1 MiB",
        init.display()
    );
    Ok(())
}

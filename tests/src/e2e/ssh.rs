//! Commands on the server over SSH, as an admin runs them: root's key
//! (made per run, installed in the server's authorized_keys), QEMU's user
//! network forwarding a port on the host's 127.0.0.1 to the guest's 22.

use crate::kernel::run;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// What an ordinary command may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(300);

pub struct Ssh {
    pub port: u16,
    key: PathBuf,
}

impl Ssh {
    /// A fresh key pair in `dir` and a free port on 127.0.0.1.
    pub fn new(dir: &Path) -> Result<Ssh> {
        let key = dir.join("id_ed25519");
        let _ = std::fs::remove_file(&key);
        let _ = std::fs::remove_file(key.with_extension("pub"));
        run(Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "rescue-init-e2e",
                "-f",
            ])
            .arg(&key))
        .context("ssh-keygen (apt-get install openssh-client)")?;
        Ok(Ssh {
            port: free_port()?,
            key,
        })
    }

    pub fn public_key(&self) -> Result<String> {
        let path = self.key.with_extension("pub");
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }

    fn command(&self, script: &str, limit: Duration) -> Command {
        // ssh itself never gives up on a command that hangs.
        let mut cmd = Command::new("timeout");
        cmd.args([
            "--kill-after=10",
            &format!("{}", limit.as_secs().max(1)),
            "ssh",
        ]);
        cmd.arg("-i")
            .arg(&self.key)
            .args(["-p", &self.port.to_string()]);
        for opt in [
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "LogLevel=ERROR",
            "ConnectTimeout=10",
            "BatchMode=yes",
            "ServerAliveInterval=15",
        ] {
            cmd.args(["-o", opt]);
        }
        cmd.arg("root@127.0.0.1").arg(script);
        cmd.stdin(std::process::Stdio::null());
        cmd
    }

    /// Runs `script` (killed after `limit`) and returns its output,
    /// whatever its exit status.
    pub fn output(&self, script: &str, limit: Duration) -> Result<Output> {
        self.command(script, limit).output().context("running ssh")
    }

    /// Runs `script`; fails with its output unless it exits with 0.
    pub fn run(&self, script: &str) -> Result<String> {
        self.run_for(script, COMMAND_LIMIT)
    }

    /// As [`Ssh::run`], for a command that may take up to `limit`.
    pub fn run_for(&self, script: &str, limit: Duration) -> Result<String> {
        let out = self.output(script, limit)?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            bail!(
                "ssh root@127.0.0.1:{} {script:?} failed ({}):\n{text}",
                self.port,
                out.status
            );
        }
        Ok(text)
    }

    /// Runs `script` with its standard output going to the file `to`
    /// (a download: `cat FILE`, `tar -cf - DIR`); fails unless it exits 0.
    pub fn download(&self, script: &str, to: &Path, limit: Duration) -> Result<()> {
        let file =
            std::fs::File::create(to).with_context(|| format!("creating {}", to.display()))?;
        let out = self
            .command(script, limit)
            .stdout(file)
            .output()
            .context("running ssh")?;
        if !out.status.success() {
            bail!(
                "ssh {script:?} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Retries `script` until it succeeds (sshd up, network configured).
    pub fn wait_until(&self, script: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.run(script) {
                Ok(out) => return Ok(out),
                Err(e) if Instant::now() >= deadline => {
                    return Err(e.context(format!("not reachable over SSH within {timeout:?}")))
                }
                Err(_) => std::thread::sleep(Duration::from_secs(2)),
            }
        }
    }
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

//! A throw-away NFSv4 server on the host's loopback for the VM tests:
//! Debian's NFS-Ganesha (a userspace server, so the host kernel needs no
//! nfsd), exporting one directory on a free port. A guest on QEMU's user
//! network reaches it as 10.0.2.2. `kill` makes it vanish the way a dead
//! server does (no goodbye to its clients); dropping the handle kills it
//! and removes everything it made.

use anyhow::{bail, Context, Result};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const GANESHA: &str = "ganesha.nfsd";
/// Made by ganesha at start (its socket directory) when it is missing.
const RUN_DIR: &str = "/run/ganesha";
/// The export's path as a client mounts it.
pub const PSEUDO: &str = "/export";

pub struct NfsServer {
    child: Option<Child>,
    pub port: u16,
    /// The exported directory on the host.
    pub export: PathBuf,
    run_dir_was_there: bool,
}

/// Why the server cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    if !crate::is_root() {
        return Some("an NFS server needs root".into());
    }
    (!crate::have(GANESHA))
        .then(|| format!("no {GANESHA} (apt-get install nfs-ganesha nfs-ganesha-vfs)"))
}

impl NfsServer {
    /// Starts ganesha with its configuration, state and log under `dir`.
    pub fn start(dir: &Path) -> Result<NfsServer> {
        let export = dir.join("export");
        let recovery = dir.join("recovery");
        std::fs::create_dir_all(&export)?;
        std::fs::create_dir_all(&recovery)?;
        let port = free_port()?;
        let conf = dir.join("ganesha.conf");
        std::fs::write(&conf, config(port, &export, &recovery))?;
        let run_dir_was_there = Path::new(RUN_DIR).exists();
        let child = Command::new(GANESHA)
            .arg("-F")
            .arg("-L")
            .arg(dir.join("ganesha.log"))
            .arg("-f")
            .arg(&conf)
            .arg("-p")
            .arg(dir.join("ganesha.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {GANESHA}"))?;
        let mut server = NfsServer {
            child: Some(child),
            port,
            export,
            run_dir_was_there,
        };
        server.wait_listening(dir)?;
        Ok(server)
    }

    fn wait_listening(&mut self, dir: &Path) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "{GANESHA} ended ({status}) before listening; see {}",
                        dir.join("ganesha.log").display()
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "{GANESHA} is not listening on port {} after 30 s",
            self.port
        )
    }

    /// The server vanishes: SIGKILL, no unexport, no goodbye.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("killing the NFS server")?;
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for NfsServer {
    fn drop(&mut self) {
        let _ = self.kill();
        if !self.run_dir_was_there {
            // Only if empty: never a directory something else uses.
            let _ = std::fs::remove_dir(RUN_DIR);
        }
    }
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// NFSv4 over TCP only (no rpcbind, NLM or rquota), no grace period, the
/// client's root kept as root.
fn config(port: u16, export: &Path, recovery: &Path) -> String {
    format!(
        "NFS_CORE_PARAM {{ NFS_Port = {port}; Bind_addr = 127.0.0.1; Protocols = 4; \
         Enable_NLM = false; Enable_RQUOTA = false; }}\n\
         NFSV4 {{ Graceless = true; RecoveryBackend = fs; RecoveryRoot = {}; }}\n\
         EXPORT {{ Export_Id = 1; Path = {}; Pseudo = {PSEUDO}; Access_Type = RW; \
         Squash = No_Root_Squash; Protocols = 4; Transports = TCP; SecType = sys; \
         FSAL {{ Name = VFS; }} }}\n\
         LOG {{ Default_Log_Level = WARN; }}\n",
        recovery.display(),
        export.display()
    )
}

//! QEMU's human monitor over its unix socket: one connection per command.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs `command` (e.g. `sendkey ctrl-alt-delete`) and returns what the
/// monitor printed up to its next `(qemu) ` prompt.
pub fn command(socket: &Path, command: &str) -> Result<String> {
    let mut stream = connect_retrying(socket, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    read_until_prompt(&mut stream).context("waiting for the monitor banner")?;
    stream.write_all(format!("{command}\n").as_bytes())?;
    read_until_prompt(&mut stream).context("waiting for the command's output")
}

fn connect_retrying(socket: &Path, timeout: Duration) -> Result<UnixStream> {
    let deadline = Instant::now() + timeout;
    loop {
        match UnixStream::connect(socket) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() >= deadline => {
                return Err(e).with_context(|| format!("connecting to {}", socket.display()))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn read_until_prompt(stream: &mut UnixStream) -> Result<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"(qemu) ") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            bail!(
                "monitor closed the connection after {:?}",
                String::from_utf8_lossy(&got).into_owned()
            );
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

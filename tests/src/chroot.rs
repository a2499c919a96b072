//! A throwaway Debian system made with `mmdebstrap`, for tests that install
//! packages (tests/tests/deb.rs) without touching the host's.
//!
//! Every command runs in its own private mount namespace (`unshare --mount
//! --propagation private`) where /proc, /sys and /dev are mounted into the
//! root just for it, so those mounts end with the command, whatever happens
//! to the test. Dropping the [`Chroot`] unmounts anything still mounted
//! below it (lazily), and deletes the tree only when nothing is: deleting
//! through a bind mount of /dev would delete the host's device nodes.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Chroot {
    /// The directory holding the root (and nothing else of ours).
    dir: PathBuf,
    /// The system's `/`.
    pub root: PathBuf,
}

impl Chroot {
    /// Debian `suite` (variant apt, no recommends) with `include` in
    /// `dir`/root; `dir` is emptied first. The downloaded packages stay in
    /// its /var/cache/apt/archives, for reinstalling without the network.
    pub fn create(dir: &Path, suite: &str, include: &[&str]) -> Result<Chroot> {
        if dir.exists() {
            remove_unmounted(dir)?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        // The guard exists before mmdebstrap runs, so that a failure
        // cleans up too.
        let chroot = Chroot {
            dir: dir.to_path_buf(),
            root: dir.join("root"),
        };
        let mut cmd = private_mounts();
        cmd.args(["mmdebstrap", "--mode=root", "--variant=apt"])
            .args([
                "--skip=cleanup/apt/cache",
                "--aptopt=APT::Install-Recommends \"false\"",
            ])
            .arg(format!("--include={}", include.join(",")))
            .arg(suite)
            .arg(&chroot.root);
        let out = cmd
            .output()
            .context("running mmdebstrap (apt-get install mmdebstrap)")?;
        if !out.status.success() {
            bail!(
                "mmdebstrap {suite} {}: {}",
                chroot.root.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(chroot)
    }

    /// Runs `script` with `sh -c` inside the system, as root, with /proc,
    /// /sys and /dev mounted for it. Its status is the caller's to judge.
    pub fn output(&self, script: &str) -> Result<Output> {
        const ENTER: &str = "set -e; mount -t proc proc \"$ROOT/proc\"; mount --rbind /sys \"$ROOT/sys\"; \
                             mount --rbind /dev \"$ROOT/dev\"; exec chroot \"$ROOT\" /bin/sh -c \"$SCRIPT\"";
        private_mounts()
            .args(["sh", "-c", ENTER])
            .env_clear()
            .env("ROOT", &self.root)
            .env("SCRIPT", script)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", "/root")
            .env("LC_ALL", "C")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .with_context(|| format!("running in the chroot {}: {script}", self.root.display()))
    }

    /// [`Chroot::output`], failing (with its output) unless it succeeds;
    /// returns its stdout.
    pub fn run(&self, script: &str) -> Result<String> {
        let out = self.output(script)?;
        if !out.status.success() {
            bail!(
                "in the chroot {}: `{script}` failed ({}):\n{}{}",
                self.root.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A path inside the system (`/etc/x` → ROOT/etc/x).
    pub fn path(&self, inside: &str) -> PathBuf {
        self.root.join(inside.trim_start_matches('/'))
    }
}

/// `unshare --mount --propagation private --`: what follows runs in a
/// mount namespace of its own, so its mounts never reach the host and end
/// with it.
pub fn private_mounts() -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--"]);
    cmd
}

impl Drop for Chroot {
    fn drop(&mut self) {
        if let Err(e) = remove_unmounted(&self.dir) {
            eprintln!("warning: {e:#}");
        }
    }
}

/// The mount points at or below `dir` (from /proc/self/mountinfo).
pub fn mounts_below(dir: &Path) -> Result<Vec<PathBuf>> {
    let info =
        std::fs::read_to_string("/proc/self/mountinfo").context("reading /proc/self/mountinfo")?;
    Ok(info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape(m)))
        .filter(|m| m.starts_with(dir))
        .collect())
}

/// mountinfo escapes space, tab, newline and backslash as \ooo.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        match u8::from_str_radix(rest.get(i + 1..i + 4).unwrap_or(""), 8) {
            Ok(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            Err(_) => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out + rest
}

/// Unmounts what is mounted below `dir`, then deletes it, but only when no
/// mount is left.
fn remove_unmounted(dir: &Path) -> Result<()> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    for m in mounts_below(&dir)?.iter().rev() {
        let _ = Command::new("umount").arg("-R").arg("-l").arg(m).status();
    }
    let left = mounts_below(&dir)?;
    if !left.is_empty() {
        bail!(
            "{} not deleted: still mounted below it: {left:?}",
            dir.display()
        );
    }
    std::fs::remove_dir_all(&dir).with_context(|| format!("deleting {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape(r"/a\040b/c\134d"), "/a b/c\\d");
        assert_eq!(unescape("/plain"), "/plain");
    }

    #[test]
    fn the_host_root_is_a_mount_below_itself() {
        assert!(mounts_below(Path::new("/"))
            .unwrap()
            .contains(&PathBuf::from("/")));
        assert!(mounts_below(Path::new("/no/such/dir")).unwrap().is_empty());
    }
}

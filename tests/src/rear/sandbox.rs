//! A private view of the host for `rear`, so that the ReaR tests and the
//! bench change nothing on the machine that runs them.
//!
//! ReaR reads its scripts from /usr/share/rear, the modules of
//! KERNEL_VERSION from /lib/modules/VERSION (fixed paths), and writes
//! /var/lib/rear and /var/log/rear. Each run happens in a private mount
//! namespace (`unshare --mount --propagation private`) where throwaway
//! directories are bind-mounted over those four paths: a copy of ReaR's
//! scripts with the kit installed into the copy (by contrib/rear/install.sh
//! --rear-dir, which then moves files instead of calling dpkg-divert), and
//! a modules tree made for the test kernel. A path that does not exist on
//! the host (/lib/modules on a machine without kernels) gets its mount point
//! from a read-only overlay of its parent with a stub directory. The mounts
//! end with the namespace; nothing is written outside the sandbox.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// ReaR's script tree on the host, which the sandbox replaces.
pub const REAR_SHARE: &str = "/usr/share/rear";

/// One sandbox: its directories under `base`.
pub struct Sandbox {
    base: PathBuf,
    /// The copy of ReaR's scripts with the kit installed.
    pub share: PathBuf,
    /// Mounted over /var/log/rear: ReaR's logs of the runs.
    pub log_dir: PathBuf,
    /// (host path, the sandbox's directory that replaces it).
    binds: Vec<(PathBuf, PathBuf)>,
}

/// A copy of the host's ReaR scripts at `dir` with contrib/rear installed
/// into it; the host's tree is only read.
pub fn kit_share(dir: &Path) -> Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir.parent().context("kit_share: no parent")?)?;
    let out = Command::new("cp")
        .args(["-a", REAR_SHARE])
        .arg(dir)
        .output()
        .context("running cp")?;
    if !out.status.success() {
        bail!(
            "copying {REAR_SHARE} to {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let script = crate::paths::workspace_root().join("contrib/rear/install.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg("--rear-dir")
        .arg(dir)
        .output()
        .context("running contrib/rear/install.sh")?;
    if !out.status.success() {
        bail!(
            "{} --rear-dir {}: {}{}",
            script.display(),
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(dir.to_path_buf())
}

impl Sandbox {
    /// A fresh sandbox in `base` (emptied first) whose /lib/modules is
    /// `modules` (a directory holding RELEASE/).
    pub fn new(base: &Path, modules: &Path) -> Result<Sandbox> {
        let share = kit_share(&base.join("share"))?;
        let log_dir = base.join("var-log-rear");
        let var_lib = base.join("var-lib-rear");
        for d in [&log_dir, &var_lib] {
            std::fs::create_dir_all(d)?;
        }
        let binds = vec![
            (PathBuf::from(REAR_SHARE), share.clone()),
            (PathBuf::from("/lib/modules"), modules.to_path_buf()),
            (PathBuf::from("/var/lib/rear"), var_lib),
            (PathBuf::from("/var/log/rear"), log_dir.clone()),
        ];
        Ok(Sandbox {
            base: base.to_path_buf(),
            share,
            log_dir,
            binds,
        })
    }

    /// `program args` run in the sandbox's mount namespace.
    pub fn command(&self, program: &str) -> Result<Command> {
        let mut script = String::from("set -eu\n");
        for (i, (host, mine)) in self.binds.iter().enumerate() {
            let target = match host.canonicalize() {
                Ok(t) => t,
                Err(_) => self.stub_mount_point(host, i, &mut script)?,
            };
            script += &format!("mount --bind {} {}\n", quote(mine), quote(&target));
        }
        script += "exec \"$@\"\n";
        let mut cmd = crate::chroot::private_mounts();
        cmd.args(["sh", "-c", &script, "sh", program]);
        Ok(cmd)
    }

    /// For a host path that does not exist: overlays its parent (read-only)
    /// with a stub holding an empty directory of that name, so that the bind
    /// mount has a mount point; the host's parent stays as it is.
    fn stub_mount_point(&self, host: &Path, i: usize, script: &mut String) -> Result<PathBuf> {
        let name = host.file_name().context("stub: no file name")?;
        let parent = host.parent().context("stub: no parent")?;
        let parent = parent
            .canonicalize()
            .with_context(|| format!("{} does not exist either", parent.display()))?;
        let stub = self.base.join(format!("stub-{i}"));
        std::fs::create_dir_all(stub.join(name))?;
        *script += &format!(
            "mount -t overlay rescue-tests-stub -o lowerdir={}:{} {}\n",
            quote(&stub),
            quote(&parent),
            quote(&parent)
        );
        Ok(parent.join(name))
    }
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// What a ReaR run could leave on the host: diversions naming ReaR, the
/// kit's files in ReaR's tree (with size and mtime, so that a rewrite
/// shows), and /lib/modules/RELEASE. A sandboxed run must leave this list
/// as it found it.
pub fn host_traces(release: &str) -> Result<Vec<String>> {
    traces_in(Path::new("/"), release)
}

/// [`host_traces`] of the system installed at `root` (dpkg's database
/// read with `--admindir`).
pub fn traces_in(root: &Path, release: &str) -> Result<Vec<String>> {
    let mut traces = Vec::new();
    let admindir = root.join("var/lib/dpkg");
    if let Ok(out) = Command::new("dpkg-divert")
        .arg("--admindir")
        .arg(&admindir)
        .arg("--list")
        .output()
    {
        let list = String::from_utf8_lossy(&out.stdout);
        traces.extend(
            list.lines()
                .filter(|l| l.to_lowercase().contains("rear"))
                .map(|l| format!("diversion: {l}")),
        );
    }
    let mut todo = vec![root.join(REAR_SHARE.trim_start_matches('/'))];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let (path, name) = (e.path(), e.file_name().to_string_lossy().into_owned());
            let meta = std::fs::symlink_metadata(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            if meta.is_dir() {
                todo.push(path);
            } else if name.ends_with(".rear-stock")
                || name.contains("rescue_init")
                || name.contains("rescue-init")
                || is_kit_pack_script(&path)
            {
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_nanos());
                traces.push(format!(
                    "file: {} ({} bytes, mtime {mtime:?})",
                    path.display(),
                    meta.len()
                ));
            }
        }
    }
    let modules = root.join("lib/modules").join(release);
    if modules.exists() {
        traces.push(format!("directory: {}", modules.display()));
    }
    traces.sort();
    Ok(traces)
}

fn is_kit_pack_script(path: &Path) -> bool {
    path.ends_with("pack/GNU/Linux/900_create_initramfs.sh")
        && std::fs::read_to_string(path).is_ok_and(|s| s.contains("rescue-init's ReaR kit"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trace check sees what the old tests left behind: the kit's
    /// files, ReaR's script moved aside, a modules tree.
    #[test]
    fn traces_show_the_kit_and_a_modules_tree() {
        let root = std::env::temp_dir().join(format!("rt-traces-{}", std::process::id()));
        let pack = root.join("usr/share/rear/pack/GNU/Linux");
        std::fs::create_dir_all(&pack).unwrap();
        std::fs::write(pack.join("900_create_initramfs.sh"), "# ReaR's own\n").unwrap();
        assert_eq!(
            traces_in(&root, "6.1.0-9-amd64").unwrap(),
            Vec::<String>::new()
        );
        std::fs::write(
            pack.join("900_create_initramfs.sh"),
            "# rescue-init's ReaR kit\n",
        )
        .unwrap();
        std::fs::write(
            pack.join("900_create_initramfs.sh.rear-stock"),
            "# ReaR's own\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("usr/share/rear/build/default")).unwrap();
        std::fs::write(
            root.join("usr/share/rear/build/default/985_rescue_init.sh"),
            "",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("lib/modules/6.1.0-9-amd64")).unwrap();
        let traces = traces_in(&root, "6.1.0-9-amd64").unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(traces.len(), 4, "{traces:#?}");
        for want in [
            "900_create_initramfs.sh (",
            ".rear-stock",
            "985_rescue_init.sh",
            "lib/modules/6.1.0-9-amd64",
        ] {
            assert!(
                traces.iter().any(|t| t.contains(want)),
                "{want} not in {traces:#?}"
            );
        }
    }
}

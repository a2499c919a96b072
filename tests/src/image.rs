//! Initramfs fixtures, built with the real `mkimage`.
//!
//! A fixture is `rescue-init` as `/init` plus the repo's `rootfs/` plus a
//! busybox tree: `/bin/busybox` (Debian's busybox-static) with a symlink
//! `/bin/<applet>` for each applet, except the applets rescue-init provides
//! itself (`init`, `linuxrc`, `reboot`, `poweroff`, `halt`: mkimage links
//! those to `/init`). Work files go to `<target>/test-images/<name>/`.

use crate::kernel::run;
use crate::paths;
use anyhow::{bail, Context, Result};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Applets that rescue-init provides; never taken from busybox.
pub const INIT_APPLETS: &[&str] = &["init", "linuxrc", "reboot", "poweroff", "halt"];
/// Applets left out by [`ImageSpec::without_shell`].
pub const SHELL_APPLETS: &[&str] = &["sh", "ash", "hush", "bash"];
/// Overrides the busybox binary (must be statically linked).
pub const BUSYBOX_ENV: &str = "RESCUE_TEST_BUSYBOX";

/// What goes into a test image.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    /// Names the work directory and the image file.
    pub name: String,
    /// Busybox applets not to link.
    pub exclude: Vec<String>,
    /// Extra `--file SRC:DST` arguments for mkimage.
    pub files: Vec<(PathBuf, String)>,
    /// `gzip` or `none`.
    pub compress: String,
    /// Further `mkimage build` arguments (e.g. `--module NAME`).
    pub args: Vec<String>,
}

/// A built image.
#[derive(Clone, Debug)]
pub struct Initramfs {
    pub path: PathBuf,
}

impl ImageSpec {
    pub fn new(name: &str) -> Self {
        ImageSpec {
            name: name.to_owned(),
            exclude: INIT_APPLETS.iter().map(|s| s.to_string()).collect(),
            files: Vec::new(),
            compress: "gzip".into(),
            args: Vec::new(),
        }
    }

    /// No `/bin/sh` (nor `ash`, `hush`, `bash`) in the image.
    pub fn without_shell(mut self) -> Self {
        self.exclude
            .extend(SHELL_APPLETS.iter().map(|s| s.to_string()));
        self
    }

    /// Adds a host file as `dst` in the image.
    pub fn file(mut self, src: impl Into<PathBuf>, dst: &str) -> Self {
        self.files.push((src.into(), dst.to_owned()));
        self
    }

    /// Adds an argument for `mkimage build`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Runs `mkimage build` and returns the image.
    pub fn build(&self) -> Result<Initramfs> {
        let init = paths::rescue_init()?;
        let mkimage = paths::mkimage()?;
        let work = fresh_dir(&self.name)?;
        let tree = work.join("busybox");
        let excluded: Vec<&str> = self.exclude.iter().map(String::as_str).collect();
        busybox_tree(&tree, &excluded)?;
        let out = work.join(format!("{}.cpio.gz", self.name));
        let mut cmd = Command::new(&mkimage);
        cmd.arg("build").arg("--init").arg(&init);
        let rootfs = paths::workspace_root().join("rootfs");
        if rootfs.is_dir() {
            cmd.arg("--rootfs").arg(&rootfs);
        }
        cmd.arg("--rootfs").arg(&tree);
        for (src, dst) in &self.files {
            cmd.arg("--file").arg(format!("{}:{dst}", src.display()));
        }
        cmd.args(&self.args);
        cmd.arg("-o").arg(&out).args(["--compress", &self.compress]);
        run(&mut cmd).context("building the test image with mkimage")?;
        Ok(Initramfs { path: out })
    }
}

/// The host's udev (Debian's `udev` package) that [`ImageSpec::with_host_udev`]
/// puts in an image: the daemon (a link to udevadm), udevadm and the rule
/// helpers, each with its libraries (`mkimage build --bin`).
pub const UDEV_BINS: &[&str] = &[
    "/lib/systemd/systemd-udevd",
    "/bin/udevadm",
    "/lib/udev/ata_id",
    "/lib/udev/scsi_id",
    "/lib/udev/cdrom_id",
];

impl ImageSpec {
    /// Adds the host's udev: [`UDEV_BINS`], the rules (`/lib/udev/rules.d`),
    /// the hardware database and `/etc/udev/udev.conf`, as a distribution's
    /// initramfs has them. Fails with a hint when udev is not installed.
    pub fn with_host_udev(mut self) -> Result<Self> {
        let host = Path::new("/lib/udev/rules.d");
        if !host.is_dir() || !Path::new(UDEV_BINS[0]).exists() {
            bail!("no udev on this host (apt-get install udev)");
        }
        let tree = fresh_dir(&format!("{}-udev", self.name))?;
        let rules = tree.join("lib/udev/rules.d");
        fs::create_dir_all(&rules)?;
        for e in fs::read_dir(host)? {
            let e = e?;
            fs::copy(e.path(), rules.join(e.file_name()))
                .with_context(|| format!("copying {}", e.path().display()))?;
        }
        for (src, dst) in [
            ("/lib/udev/hwdb.bin", "lib/udev/hwdb.bin"),
            ("/etc/udev/udev.conf", "etc/udev/udev.conf"),
        ] {
            if Path::new(src).is_file() {
                fs::create_dir_all(tree.join(dst).parent().unwrap_or(&tree))?;
                fs::copy(src, tree.join(dst)).with_context(|| format!("copying {src}"))?;
            }
        }
        self.args
            .extend(["--rootfs".to_string(), tree.display().to_string()]);
        for bin in UDEV_BINS.iter().filter(|b| Path::new(b).exists()) {
            self.args.extend(["--bin".to_string(), bin.to_string()]);
        }
        Ok(self)
    }
}

impl ImageSpec {
    /// Adds `modules` (names, aliases) of the test kernel with what they
    /// need (`mkimage build --module`, with the kernel's modules directory
    /// and config, no firmware): rescue-init's coldplug loads them.
    pub fn with_modules<S: AsRef<str>>(
        mut self,
        kernel: &crate::Kernel,
        modules: &[S],
    ) -> Result<Self> {
        let mods = kernel
            .modules
            .as_ref()
            .context("the test kernel has no modules directory")?;
        let config = kernel
            .config
            .as_ref()
            .context("the test kernel has no config")?;
        self = self.arg("--modules-dir").arg(mods.display().to_string());
        self = self
            .arg("--kernel-config")
            .arg(config.display().to_string());
        self = self.arg("--firmware").arg("none");
        for m in modules {
            self = self.arg("--module").arg(m.as_ref());
        }
        Ok(self)
    }
}

/// `mkimage pack DIR -o FILE`: an image of exactly `dir`, no rescue-init.
pub fn pack(dir: &Path, name: &str) -> Result<Initramfs> {
    let mkimage = paths::mkimage()?;
    let out = paths::target_subdir("test-images")?.join(format!("{name}.cpio"));
    run(Command::new(mkimage)
        .arg("pack")
        .arg(dir)
        .arg("-o")
        .arg(&out))
    .context("packing an image with mkimage")?;
    Ok(Initramfs { path: out })
}

/// An empty `<target>/test-images/<name>/`.
pub fn fresh_dir(name: &str) -> Result<PathBuf> {
    let dir = paths::target_subdir("test-images")?.join(name);
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The static busybox to put in images: the host's, or with `ARCH=aarch64`
/// Debian's arm64 busybox-static, unpacked under the target dir.
pub fn busybox() -> Result<PathBuf> {
    let path = match std::env::var_os(BUSYBOX_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => match crate::Arch::get()? {
            crate::Arch::X86_64 => PathBuf::from("/bin/busybox"),
            arch => crate::arch::foreign_busybox(arch)?,
        },
    };
    let bytes = fs::read(&path).with_context(|| {
        format!(
            "reading {} (apt-get install busybox-static)",
            path.display()
        )
    })?;
    if bytes.windows(8).any(|w| w == b"/lib64/l") {
        bail!(
            "{} is dynamically linked: install busybox-static",
            path.display()
        );
    }
    Ok(path)
}

/// Creates `dir/bin/busybox` and `dir/bin/<applet>` symlinks for all its
/// applets except `exclude`.
pub fn busybox_tree(dir: &Path, exclude: &[&str]) -> Result<()> {
    let busybox = busybox()?;
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;
    fs::copy(&busybox, bin.join("busybox"))
        .with_context(|| format!("copying {}", busybox.display()))?;
    let list = applets(&busybox)?;
    for applet in list.lines().map(str::trim) {
        if applet.is_empty() || applet == "busybox" || exclude.contains(&applet) {
            continue;
        }
        let link = bin.join(applet);
        symlink("busybox", &link).with_context(|| format!("linking {}", link.display()))?;
    }
    Ok(())
}

/// `busybox --list`. A foreign busybox cannot run here: the host's
/// busybox-static (the same Debian source and configuration) lists them.
fn applets(busybox: &Path) -> Result<String> {
    if crate::Arch::get()? == crate::Arch::X86_64 {
        return run(Command::new(busybox).arg("--list"));
    }
    run(Command::new("/bin/busybox").arg("--list"))
        .context("listing the applets with the host's busybox (apt-get install busybox-static)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busybox_tree_leaves_out_init_applets_and_shell() {
        if busybox().is_err() && crate::skip("no static busybox (apt-get install busybox-static)") {
            return;
        }
        let dir = std::env::temp_dir().join(format!("rt-bb-{}", std::process::id()));
        let spec = ImageSpec::new("x").without_shell();
        let excluded: Vec<&str> = spec.exclude.iter().map(String::as_str).collect();
        busybox_tree(&dir, &excluded).unwrap();
        assert!(dir.join("bin/busybox").is_file());
        assert!(dir.join("bin/ls").is_symlink());
        for gone in ["init", "reboot", "poweroff", "halt", "linuxrc", "sh", "ash"] {
            assert!(!dir.join("bin").join(gone).exists(), "{gone} present");
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}

//! The journey's server: a Debian 12 system made from the package mirror
//! with mmdebstrap and configured as an admin would configure a small
//! server (hostname, serial console in GRUB, a static address with
//! systemd-networkd, root's SSH key, the backup disk in fstab, ReaR's
//! `local.conf`), with the rescue-init package (`make deb`) in root's home,
//! installed later on the running server with apt, as the README says.
//! The installer VM (install.rs) puts this tree on a partitioned LVM disk.

use crate::kernel::run;
use crate::paths;
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The server's hostname (ReaR names its output after it).
pub const HOSTNAME: &str = "server";
/// Debian's suite, as the rest of the tests use.
pub const SUITE: &str = "bookworm";
/// What the server runs: a kernel, systemd, GRUB for BIOS, LVM, sshd and
/// ReaR with what its ISO output needs. ReaR 2.7's mkrescue requires
/// `file` and `less`, which Debian's package does not depend on.
pub const PACKAGES: &[&str] = &[
    "linux-image-amd64",
    "systemd-sysv",
    "udev",
    "grub-pc",
    "lvm2",
    "e2fsprogs",
    "parted",
    "openssh-server",
    "iproute2",
    "procps",
    "rear",
    "file",
    "less",
    "xorriso",
    "isolinux",
    "syslinux-common",
];
/// The backup disk's filesystem label: ReaR's USB-style URL names it.
pub const BACKUP_LABEL: &str = "REAR-000";
/// Root's network address on QEMU's user network (its DHCP range).
const NETWORK: &str =
    "[Match]\nName=en* eth*\n\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\nDNS=10.0.2.3\n";
const GRUB_DEFAULTS: &str = "GRUB_DEFAULT=0\nGRUB_TIMEOUT=1\nGRUB_DISTRIBUTOR=Debian\n\
GRUB_CMDLINE_LINUX_DEFAULT=\"\"\nGRUB_CMDLINE_LINUX=\"console=ttyS0,115200n8\"\n\
GRUB_TERMINAL=serial\nGRUB_SERIAL_COMMAND=\"serial --unit=0 --speed=115200\"\n";
/// initramfs-tools' `dep` mode: only the modules this machine needs (an
/// admin's common choice; it keeps `update-initramfs`, which ReaR runs
/// during every recovery, from copying every driver).
const INITRAMFS_DEP: &str = "MODULES=dep\n";

/// The unpacked server tree.
pub struct Root {
    pub dir: PathBuf,
    /// The kernel release installed in it, e.g. `6.1.0-57-amd64`.
    pub release: String,
}

impl Root {
    pub fn vmlinuz(&self) -> PathBuf {
        self.dir.join(format!("boot/vmlinuz-{}", self.release))
    }

    pub fn modules(&self) -> PathBuf {
        self.dir.join(format!("lib/modules/{}", self.release))
    }

    pub fn kernel_config(&self) -> PathBuf {
        self.dir.join(format!("boot/config-{}", self.release))
    }
}

/// Why the journey cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    for (tool, package) in [
        ("mmdebstrap", "mmdebstrap"),
        ("ssh", "openssh-client"),
        ("lvs", "lvm2"),
        ("debugfs", "e2fsprogs"),
        ("sfdisk", "fdisk"),
    ] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            return Some(format!("`{tool}` is missing (apt-get install {package})"));
        }
    }
    None
}

/// `mmdebstrap` of [`PACKAGES`] into `dir` (which must not exist).
pub fn debootstrap(dir: &Path) -> Result<Root> {
    let include = PACKAGES.join(",");
    run(Command::new("mmdebstrap")
        .args([
            "--variant=minbase",
            "--quiet",
            &format!("--include={include}"),
            SUITE,
        ])
        .arg(dir))
    .context("building the server's Debian root (mmdebstrap)")?;
    let release = fs::read_dir(dir.join("boot"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find_map(|n| n.strip_prefix("vmlinuz-").map(str::to_owned))
        .context("the server root has no /boot/vmlinuz-*")?;
    Ok(Root {
        dir: dir.to_path_buf(),
        release,
    })
}

/// The admin's configuration: everything but the disk layout, which the
/// installer writes into fstab.
pub fn configure(root: &Root, ssh_pubkey: &str, local_conf: &str) -> Result<()> {
    let r = &root.dir;
    write(r, "etc/hostname", &format!("{HOSTNAME}\n"))?;
    write(
        r,
        "etc/hosts",
        &format!("127.0.0.1 localhost\n127.0.1.1 {HOSTNAME}\n"),
    )?;
    write(r, "etc/default/grub", GRUB_DEFAULTS)?;
    write(r, "etc/initramfs-tools/conf.d/modules-dep", INITRAMFS_DEP)?;
    write(r, "etc/systemd/network/10-wired.network", NETWORK)?;
    run(Command::new("chroot").arg(r).args([
        "systemctl",
        "enable",
        "--quiet",
        "systemd-networkd",
    ]))?;
    write(r, "root/.ssh/authorized_keys", ssh_pubkey)?;
    fs::create_dir_all(r.join("backup"))?;
    write(r, "etc/rear/local.conf", local_conf)?;
    Ok(())
}

/// The Debian package `make deb` built, copied into root's home on the
/// server: the admin installs it there with apt, as the README says.
pub fn copy_deb(root: &Root) -> Result<String> {
    let dir = paths::target_dir();
    let deb = fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy().starts_with("rescue-init_")
                    && n.to_string_lossy().ends_with("_amd64.deb")
            })
        })
        .max_by_key(|p| fs::metadata(p).and_then(|m| m.modified()).ok())
        .with_context(|| {
            format!(
                "no rescue-init_*_amd64.deb in {}: run `make deb`",
                dir.display()
            )
        })?;
    let name = deb
        .file_name()
        .context("deb name")?
        .to_string_lossy()
        .into_owned();
    fs::copy(&deb, root.dir.join("root").join(&name))
        .with_context(|| format!("copying {}", deb.display()))?;
    Ok(name)
}

/// The tree as an ext4 image for the installer (`mke2fs -d`).
pub fn staging_image(root: &Root, out: &Path) -> Result<()> {
    crate::target::mke2fs(&root.dir, out, "staging", "2400M")
}

fn write(root: &Path, rel: &str, text: &str) -> Result<()> {
    let path = root.join(rel);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// The ReaR configuration block of contrib/rear/README.md (between the
/// `e2e-local-conf` markers): the test configures ReaR exactly as the
/// README tells users to.
pub fn readme_local_conf() -> Result<String> {
    let path = paths::workspace_root().join("contrib/rear/README.md");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let start = "<!-- e2e-local-conf -->";
    let Some(from) = text.find(start) else {
        bail!("{}: no {start} marker", path.display())
    };
    let block = &text[from + start.len()..];
    let body = block
        .split("```")
        .nth(1)
        .context("no ``` block after the marker")?;
    let conf = body
        .strip_prefix("sh")
        .unwrap_or(body)
        .trim_start_matches('\n');
    if !conf.contains("BACKUP_URL=") {
        bail!(
            "{}: the local.conf example has no BACKUP_URL",
            path.display()
        );
    }
    Ok(conf.to_string())
}

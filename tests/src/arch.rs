//! The architecture the VM tests run: `ARCH=x86_64` (the default) or
//! `ARCH=aarch64` (`make test-vm ARCH=aarch64`). It picks rescue-init's
//! musl target, the Debian kernel and busybox, the QEMU binary, machine
//! and console.
//!
//! For arm64 the Debian packages come through a private apt state under
//! `<target>/apt-arm64/` (`APT::Architecture=arm64`), so the host's dpkg
//! needs no foreign architecture and nothing is installed on it.

use crate::kernel::run;
use crate::paths;
use anyhow::{bail, Context, Result};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable (and make variable) that selects it.
pub const ARCH_ENV: &str = "ARCH";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// From `$ARCH`; unset or empty is x86-64. Anything else is an error
    /// rather than a silent x86-64 run.
    pub fn get() -> Result<Arch> {
        match std::env::var(ARCH_ENV).as_deref() {
            Err(_) | Ok("") | Ok("x86_64") | Ok("amd64") | Ok("x86") => Ok(Arch::X86_64),
            Ok("aarch64") | Ok("arm64") => Ok(Arch::Aarch64),
            Ok(other) => bail!("{ARCH_ENV}={other}: the tests know x86_64 and aarch64"),
        }
    }

    /// [`Arch::get`], falling back to x86-64 (with a warning) on a bad value.
    pub fn current() -> Arch {
        Arch::get().unwrap_or_else(|e| {
            eprintln!("rescue-tests: {e:#}; using x86_64");
            Arch::X86_64
        })
    }

    pub fn musl_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Aarch64 => "aarch64-unknown-linux-musl",
        }
    }

    /// Debian's name for it.
    pub fn debian(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
        }
    }

    /// The serial console the kernel writes to.
    pub fn console(self) -> &'static str {
        match self {
            Arch::X86_64 => "ttyS0",
            Arch::Aarch64 => "ttyAMA0",
        }
    }

    pub fn qemu(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-system-x86_64",
            Arch::Aarch64 => "qemu-system-aarch64",
        }
    }

    /// The Debian package that has [`Arch::qemu`].
    pub fn qemu_package(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-system-x86",
            Arch::Aarch64 => "qemu-system-arm",
        }
    }

    /// Machine arguments: the PC default on x86-64; on arm64 QEMU's `virt`
    /// board with every CPU feature TCG emulates (its device tree is what
    /// the guest kernel reads from /sys/firmware/fdt).
    pub fn machine_args(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => &[],
            // pauth-impdef: QEMU's own pointer-authentication hash, much
            // faster under TCG than the architected QARMA.
            Arch::Aarch64 => &["-M", "virt", "-cpu", "max,pauth-impdef=on"],
        }
    }

    /// `apt-get`/`apt-cache` with the options that make them see this
    /// architecture's packages.
    pub fn apt(self, tool: &str) -> Result<Command> {
        let mut cmd = Command::new(tool);
        cmd.args(["-q", "-o", "APT::Sandbox::User=root"]);
        if self == Arch::X86_64 {
            return Ok(cmd);
        }
        let state = foreign_apt_state(self)?;
        cmd.args(foreign_apt_options(self, &state));
        Ok(cmd)
    }
}

fn foreign_apt_options(arch: Arch, state: &Path) -> Vec<String> {
    let a = arch.debian();
    vec![
        "-o".into(),
        format!("APT::Architecture={a}"),
        "-o".into(),
        format!("APT::Architectures::={a}"),
        "-o".into(),
        format!("Dir::State::Lists={}", state.join("lists").display()),
        "-o".into(),
        format!("Dir::Cache={}", state.join("cache").display()),
        // No packages of that architecture are installed: apt must not
        // read the host's dpkg status as if they were.
        "-o".into(),
        "Dir::State::status=/dev/null".into(),
    ]
}

/// `<target>/apt-<arch>/`, with package lists fetched (`apt-get update`
/// into that directory, under a lock) when they are missing or more than
/// a day old: the mirror drops superseded kernel packages.
fn foreign_apt_state(arch: Arch) -> Result<PathBuf> {
    let state = paths::target_subdir(&format!("apt-{}", arch.debian()))?;
    let lock_path = state.join(".lock");
    let lock =
        File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let done = state.join("updated");
    let fresh = fs::metadata(&done)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() < 24 * 3600);
    if !fresh {
        for d in ["lists/partial", "cache/archives/partial"] {
            fs::create_dir_all(state.join(d))
                .with_context(|| format!("creating {}", state.join(d).display()))?;
        }
        let mut cmd = Command::new("apt-get");
        cmd.args(["-q", "-o", "APT::Sandbox::User=root"])
            .args(foreign_apt_options(arch, &state))
            .arg("update");
        run(&mut cmd).with_context(|| format!("fetching the {} package lists", arch.debian()))?;
        fs::write(&done, b"").with_context(|| format!("writing {}", done.display()))?;
    }
    Ok(state)
}

/// `apt-get download PACKAGE` into `dir`, unpacked with `dpkg-deb -x` into
/// `dir/root`; returns that root.
pub fn download_unpacked(arch: Arch, package: &str, dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    run(arch
        .apt("apt-get")?
        .arg("download")
        .arg(package)
        .current_dir(dir))?;
    let deb = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .with_context(|| format!("apt-get download left no .deb in {}", dir.display()))?;
    let root = dir.join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
    Ok(root)
}

/// A tree of a foreign architecture's Debian `packages`, each unpacked
/// (never installed) with `dpkg-deb -x` into `<target>/sysroot-<arch>/`,
/// for `mkimage build --sysroot`. Made once.
pub fn foreign_sysroot(arch: Arch, packages: &[&str]) -> Result<PathBuf> {
    let dir = paths::target_subdir(&format!("sysroot-{}", arch.debian()))?;
    let root = dir.join("root");
    let stamp = dir.join("packages");
    let want = packages.join(" ");
    if fs::read_to_string(&stamp).is_ok_and(|s| s == want) {
        return Ok(root);
    }
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    for package in packages {
        let work = dir.join(format!("{package}.{}", std::process::id()));
        let unpacked = download_unpacked(arch, package, &work)?;
        run(Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", unpacked.display()))
            .arg(&root))
        .with_context(|| format!("merging {package} into {}", root.display()))?;
        let _ = fs::remove_dir_all(&work);
    }
    fs::write(&stamp, want).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(root)
}

/// The static busybox of a foreign architecture: Debian's busybox-static
/// for it, unpacked (never installed) into `<target>/busybox-<arch>/`.
pub fn foreign_busybox(arch: Arch) -> Result<PathBuf> {
    let dir = paths::target_subdir(&format!("busybox-{}", arch.debian()))?;
    let bin = dir.join("busybox");
    if bin.is_file() {
        return Ok(bin);
    }
    let work = dir.join(format!("tmp.{}", std::process::id()));
    let root = download_unpacked(arch, "busybox-static", &work)?;
    let tmp = dir.join(format!("busybox.{}", std::process::id()));
    fs::copy(root.join("bin/busybox"), &tmp).context("copying the unpacked busybox")?;
    fs::rename(&tmp, &bin).with_context(|| format!("renaming to {}", bin.display()))?;
    let _ = fs::remove_dir_all(&work);
    Ok(bin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_apt_reads_no_host_status() {
        let o = foreign_apt_options(Arch::Aarch64, Path::new("/s"));
        assert!(o.contains(&"APT::Architecture=arm64".to_string()));
        assert!(o.contains(&"Dir::State::Lists=/s/lists".to_string()));
        assert!(o.contains(&"Dir::State::status=/dev/null".to_string()));
    }

    #[test]
    fn names() {
        assert_eq!(Arch::Aarch64.musl_target(), "aarch64-unknown-linux-musl");
        assert_eq!(Arch::Aarch64.console(), "ttyAMA0");
        assert_eq!(Arch::X86_64.console(), "ttyS0");
    }
}

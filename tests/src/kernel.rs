//! The kernel the VM tests boot.
//!
//! `RESCUE_TEST_KERNEL=/path/to/vmlinuz` overrides everything (modules and
//! config are then looked for next to it, or set `RESCUE_TEST_MODULES`).
//! Otherwise the Debian kernel that `linux-image-amd64` (with `ARCH=aarch64`:
//! `linux-image-arm64`, see [`crate::arch`]) depends on is fetched with
//! `apt-get download`, unpacked with `dpkg-deb -x` and cached in
//! `<target>/test-kernel/<package>/` (`test-kernel-arm64/`). A lock file serialises concurrent test
//! processes and the unpacked tree only appears under its final name by an
//! atomic rename, so a half-extracted kernel is never used.

use crate::arch::{self, Arch};
use crate::paths;
use anyhow::{anyhow, bail, Context, Result};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Environment variable naming a kernel image to use instead of the cache.
pub const KERNEL_ENV: &str = "RESCUE_TEST_KERNEL";
/// Optional modules directory (`.../lib/modules/<release>`) for the override.
pub const MODULES_ENV: &str = "RESCUE_TEST_MODULES";
/// The Debian meta package whose dependency names the real kernel package.
fn meta_package(arch: Arch) -> String {
    format!("linux-image-{}", arch.debian())
}

/// The cache directory under the target dir.
fn cache_name(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "test-kernel",
        Arch::Aarch64 => "test-kernel-arm64",
    }
}

/// A bootable kernel and what came with it.
#[derive(Clone, Debug)]
pub struct Kernel {
    /// The bzImage handed to `qemu -kernel`.
    pub vmlinuz: PathBuf,
    /// `lib/modules/<release>` (plain `.ko` files; no `modules.dep`).
    pub modules: Option<PathBuf>,
    /// The kernel's `config-<release>`.
    pub config: Option<PathBuf>,
    /// The release string, e.g. `6.1.0-56-amd64`, when known.
    pub release: Option<String>,
}

impl Kernel {
    /// The test kernel: the override if set, else the cached Debian kernel
    /// (downloaded on first use). Computed once per process.
    pub fn get() -> Result<Kernel> {
        static KERNEL: OnceLock<Result<Kernel, String>> = OnceLock::new();
        KERNEL
            .get_or_init(|| Self::provision().map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(|e| anyhow!("no test kernel: {e}"))
    }

    fn provision() -> Result<Kernel> {
        match std::env::var_os(KERNEL_ENV) {
            Some(path) if !path.is_empty() => Self::from_override(Path::new(&path)),
            _ => Self::cached(),
        }
    }

    /// A kernel given by path; modules and config are guessed from a Debian
    /// style layout (`X/boot/vmlinuz-R` next to `X/lib/modules/R`).
    pub fn from_override(vmlinuz: &Path) -> Result<Kernel> {
        if !vmlinuz.is_file() {
            bail!("{KERNEL_ENV}={} is not a file", vmlinuz.display());
        }
        let release = file_suffix(vmlinuz, "vmlinuz-");
        let boot = vmlinuz.parent().unwrap_or(Path::new("."));
        let root = boot.parent().unwrap_or(Path::new("/"));
        let modules = match std::env::var_os(MODULES_ENV) {
            Some(m) if !m.is_empty() => Some(PathBuf::from(m)),
            _ => release.as_deref().and_then(|r| modules_dir(root, r)),
        };
        let config = release
            .as_deref()
            .map(|r| boot.join(format!("config-{r}")))
            .filter(|c| c.is_file());
        Ok(Kernel {
            vmlinuz: vmlinuz.to_path_buf(),
            modules,
            config,
            release,
        })
    }

    /// The cached Debian kernel, downloading and unpacking it if needed.
    pub fn cached() -> Result<Kernel> {
        let arch = Arch::get()?;
        let cache = paths::target_subdir(cache_name(arch))?;
        let lock_path = cache.join(".lock");
        let lock = File::create(&lock_path)
            .with_context(|| format!("creating {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("locking {}", lock_path.display()))?;
        let result = Self::cached_locked(arch, &cache);
        drop(lock);
        result
    }

    fn cached_locked(arch: Arch, cache: &Path) -> Result<Kernel> {
        let current = cache.join("current");
        if let Ok(name) = fs::read_to_string(&current) {
            if let Ok(kernel) = Self::from_tree(&cache.join(name.trim())) {
                return Ok(kernel);
            }
        }
        let package = kernel_package(arch)?;
        let tree = cache.join(&package);
        if !tree.is_dir() {
            download_and_unpack(arch, cache, &package, &tree)?;
        }
        let kernel = Self::from_tree(&tree)?;
        let tmp = cache.join("current.tmp");
        fs::write(&tmp, format!("{package}\n"))
            .and_then(|()| fs::rename(&tmp, &current))
            .with_context(|| format!("writing {}", current.display()))?;
        Ok(kernel)
    }

    /// A kernel from an unpacked Debian package tree.
    pub fn from_tree(tree: &Path) -> Result<Kernel> {
        let boot = tree.join("boot");
        let vmlinuz = fs::read_dir(&boot)
            .with_context(|| format!("reading {}", boot.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| file_suffix(p, "vmlinuz-").is_some())
            .ok_or_else(|| anyhow!("no vmlinuz-* in {}", boot.display()))?;
        Self::from_override(&vmlinuz)
    }
}

/// `name` of `path` with `prefix` stripped, if it starts with it.
fn file_suffix(path: &Path, prefix: &str) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix(prefix).map(str::to_owned)
}

fn modules_dir(root: &Path, release: &str) -> Option<PathBuf> {
    ["lib/modules", "usr/lib/modules"]
        .iter()
        .map(|d| root.join(d).join(release))
        .find(|p| p.is_dir())
}

/// The real kernel package, e.g. `linux-image-6.1.0-56-amd64`, from
/// `apt-cache depends linux-image-amd64`.
pub fn kernel_package(arch: Arch) -> Result<String> {
    let meta = meta_package(arch);
    let out = run(arch.apt("apt-cache")?.args(["depends", &meta]))?;
    parse_depends(&out, &meta).ok_or_else(|| {
        anyhow!("`apt-cache depends {meta}` names no linux-image package (run `apt-get update`?):\n{out}")
    })
}

fn parse_depends(out: &str, meta: &str) -> Option<String> {
    out.lines()
        .filter_map(|l| l.trim().trim_start_matches('|').strip_prefix("Depends:"))
        .map(str::trim)
        .find(|p| p.starts_with("linux-image-") && *p != meta)
        .map(str::to_owned)
}

fn download_and_unpack(arch: Arch, cache: &Path, package: &str, tree: &Path) -> Result<()> {
    // We hold the lock: any tmp.* left is from a process that died.
    for entry in fs::read_dir(cache)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with("tmp.") {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    let work = cache.join(format!("tmp.{}", std::process::id()));
    eprintln!(
        "rescue-tests: downloading {package} into {}",
        cache.display()
    );
    let root = arch::download_unpacked(arch, package, &work)?;
    // Only boot/ and the modules are needed; drop the docs.
    let _ = fs::remove_dir_all(root.join("usr/share"));
    fs::rename(&root, tree)
        .with_context(|| format!("renaming {} to {}", root.display(), tree.display()))?;
    fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))
}

/// Runs a command, returning stdout; the error names it and shows stderr.
pub fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_apt_cache_depends() {
        let out = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
        assert_eq!(
            parse_depends(out, "linux-image-amd64").as_deref(),
            Some("linux-image-6.1.0-56-amd64")
        );
        assert_eq!(
            parse_depends("linux-image-amd64\n", "linux-image-amd64"),
            None
        );
    }

    #[test]
    fn guesses_modules_and_config_of_an_override() {
        let root = std::env::temp_dir().join(format!("rt-kernel-{}", std::process::id()));
        fs::create_dir_all(root.join("boot")).unwrap();
        fs::create_dir_all(root.join("lib/modules/9.9-test")).unwrap();
        fs::write(root.join("boot/vmlinuz-9.9-test"), b"x").unwrap();
        fs::write(root.join("boot/config-9.9-test"), b"y").unwrap();
        let k = Kernel::from_tree(&root).unwrap();
        assert_eq!(k.release.as_deref(), Some("9.9-test"));
        assert_eq!(k.modules, Some(root.join("lib/modules/9.9-test")));
        assert_eq!(k.config, Some(root.join("boot/config-9.9-test")));
        fs::remove_dir_all(&root).unwrap();
    }
}

//! Real `rear mkrescue` runs for the ReaR tests and `make bench-rear`, in
//! a sandbox (rear/sandbox.rs) that leaves the host as it was: ReaR sees a
//! copy of its scripts with the kit from contrib/rear installed, and a
//! /lib/modules/RELEASE made for the test kernel: copies of its modules for
//! a virtio/SATA/SCSI disk with ext4 and their dependencies (ReaR finds
//! storage drivers with `find -type f`, so not symlinks), plus depmod's
//! indexes, which Debian's kernel package leaves to depmod.

pub mod sandbox;

use crate::{paths, Kernel};
use anyhow::{bail, Context, Result};
use sandbox::Sandbox;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What the rescue system needs for the test disks and a NIC.
pub const WANTED: &[&str] = &[
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "sd_mod",
    "ahci",
    "ext4",
    "crc32c_generic",
    "virtio_net",
];

/// Why the ReaR tests cannot run here, if they cannot.
pub fn unavailable() -> Option<String> {
    if Command::new("rear")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
    {
        None
    } else {
        Some(
            "`rear` is not installed (apt-get install rear); the ReaR tests and bench are skipped"
                .into(),
        )
    }
}

/// How ReaR is asked to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// The kit installed but disabled: ReaR's own find|cpio|gzip and init.
    Stock,
    /// mkimage packs (zstd) and rescue-init is /init.
    Kit,
}

pub struct Rescue {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// ReaR's build tree (KEEP_BUILD_DIR), for re-packing.
    pub rootfs: PathBuf,
    pub log: String,
    pub mkrescue_time: Duration,
}

/// Runs `rear mkrescue` in a throwaway configuration and sandbox under
/// target/rear/FLAVOUR/.
pub fn mkrescue(kernel: &Kernel, flavour: Flavour) -> Result<Rescue> {
    let release = kernel
        .release
        .as_deref()
        .context("the test kernel has no release")?;
    let base = paths::target_subdir(&format!("rear/{flavour:?}").to_lowercase())?;
    std::fs::remove_dir_all(&base).with_context(|| format!("emptying {}", base.display()))?;
    let modules = base.join("lib-modules");
    modules_tree(kernel, release, &modules)?;
    let sandbox = Sandbox::new(&base.join("sandbox"), &modules)?;
    let (conf, out, tmp) = (base.join("etc"), base.join("out"), base.join("tmp"));
    for d in [&conf, &out, &tmp] {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(
        conf.join("local.conf"),
        local_conf(kernel, release, &out, flavour)?,
    )?;
    let t0 = Instant::now();
    let run = sandbox
        .command("rear")?
        .arg("-c")
        .arg(&conf)
        .arg("mkrescue")
        .env("TMPDIR", &tmp)
        .output()
        .context("running rear")?;
    let mkrescue_time = t0.elapsed();
    if !run.status.success() {
        bail!(
            "rear mkrescue ({flavour:?}) failed (its log: {}/):\n{}{}",
            sandbox.log_dir.display(),
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let log = std::fs::read_to_string(find_one(&out, "rear-")?).unwrap_or_default();
    let rootfs = find_one(&tmp, "rear.")?.join("rootfs");
    Ok(Rescue {
        kernel: find_one(&out, "kernel-")?,
        initrd: find_one(&out, "initramfs-")?,
        rootfs,
        log,
        mkrescue_time,
    })
}

fn local_conf(kernel: &Kernel, release: &str, out: &Path, flavour: Flavour) -> Result<String> {
    let mut c = format!(
        "OUTPUT=RAMDISK\nOUTPUT_URL=file://{}\nBACKUP=REQUESTRESTORE\nBOOTLOADER=GRUB2\n\
         KERNEL_FILE={}\nKERNEL_VERSION={release}\nFIRMWARE_FILES=( 'no' )\nKEEP_BUILD_DIR=yes\n",
        out.display(),
        kernel.vmlinuz.display()
    );
    match flavour {
        Flavour::Stock => c.push_str("RESCUE_INIT_PACK=no\nRESCUE_INIT_AS_INIT=no\n"),
        Flavour::Kit => c.push_str(&format!(
            "REAR_INITRD_COMPRESSION=zstd\nRESCUE_INIT_MKIMAGE={}\nRESCUE_INIT_BIN={}\nRESCUE_INIT_AS_INIT=yes\n",
            paths::mkimage()?.display(),
            paths::rescue_init()?.display()
        )),
    }
    Ok(c)
}

/// The entry of `dir` (or of its subdirectories, for ReaR's OUTPUT_URL/HOST)
/// whose name starts with `prefix`.
fn find_one(dir: &Path, prefix: &str) -> Result<PathBuf> {
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for p in std::fs::read_dir(&d)
            .with_context(|| format!("reading {}", d.display()))?
            .flatten()
            .map(|e| e.path())
        {
            if p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
            {
                return Ok(p);
            }
            if p.is_dir() && d == dir {
                todo.push(p);
            }
        }
    }
    bail!("no {prefix}* in {}", dir.display())
}

/// Makes `dest`/RELEASE, a /lib/modules/RELEASE for ReaR: the WANTED
/// modules of the test kernel with their dependencies, and depmod's indexes.
pub fn modules_tree(kernel: &Kernel, release: &str, dest: &Path) -> Result<()> {
    let src = kernel
        .modules
        .as_ref()
        .context("the test kernel has no modules directory")?;
    let wanted = closure(src, release)?;
    let root = dest.join(release);
    let _ = std::fs::remove_dir_all(&root);
    for rel in &wanted {
        let to = root.join(rel);
        std::fs::create_dir_all(to.parent().context("module path")?)?;
        std::fs::copy(src.join(rel), &to).with_context(|| format!("copying {rel}"))?;
    }
    for f in [
        "modules.builtin",
        "modules.builtin.modinfo",
        "modules.order",
    ] {
        std::fs::copy(src.join(f), root.join(f)).with_context(|| format!("copying {f}"))?;
    }
    // depmod -b BASE wants BASE/lib/modules/RELEASE: a scratch base whose
    // lib/modules is a link to `dest`.
    let base = dest.with_extension("depmod-base");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(base.join("lib"))?;
    std::os::unix::fs::symlink(dest.canonicalize()?, base.join("lib/modules"))?;
    depmod(&base, release)?;
    std::fs::remove_dir_all(&base).with_context(|| format!("removing {}", base.display()))
}

/// The module files (relative paths) of WANTED and their dependencies, from
/// a depmod run over the whole tree in a scratch directory.
fn closure(src: &Path, release: &str) -> Result<BTreeSet<String>> {
    let dir = depmod_scratch(src, release, "rear/depmod")?;
    let dep = std::fs::read_to_string(dir.join("modules.dep"))?;
    let deps: Vec<(String, Vec<String>)> = dep
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(m, d)| {
            (
                m.to_string(),
                d.split_whitespace().map(str::to_string).collect(),
            )
        })
        .collect();
    let mut out = BTreeSet::new();
    for name in WANTED {
        let file = format!("/{name}.ko");
        let (m, d) = deps
            .iter()
            .find(|(m, _)| m.ends_with(&file))
            .with_context(|| format!("{name} is not in {}", src.display()))?;
        out.insert(m.clone());
        out.extend(d.iter().cloned());
    }
    Ok(out)
}

/// kmod's depmod over the test kernel's whole module tree `src`, written to
/// target/NAME/lib/modules/RELEASE (the modules themselves linked, not
/// copied); returns that directory. Debian ships no modules.dep.
pub fn depmod_scratch(src: &Path, release: &str, name: &str) -> Result<PathBuf> {
    let scratch = paths::target_subdir(name)?;
    let _ = std::fs::remove_dir_all(&scratch);
    let dir = scratch.join("lib/modules").join(release);
    std::fs::create_dir_all(&dir)?;
    std::os::unix::fs::symlink(src.join("kernel"), dir.join("kernel"))?;
    for f in [
        "modules.builtin",
        "modules.builtin.modinfo",
        "modules.order",
    ] {
        std::fs::copy(src.join(f), dir.join(f))?;
    }
    depmod(&scratch, release)?;
    Ok(dir)
}

fn depmod(base: &Path, release: &str) -> Result<()> {
    let out = Command::new("depmod")
        .arg("-b")
        .arg(base)
        .arg(release)
        .output()
        .context("running depmod (apt-get install kmod)")?;
    if !out.status.success() {
        bail!(
            "depmod -b {} {release}: {}",
            base.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

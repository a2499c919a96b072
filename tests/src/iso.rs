//! The rescue ISOs of the `kexec --iso` VM tests (both architectures): a
//! rescue-init image whose boot script prints [`MARKER`] with its command
//! line, and ReaR's ISO layout around it and the test kernel, made with
//! `xorriso -as mkisofs -R -J`.

use crate::target::write_exec;
use crate::{image, ImageSpec, Initramfs, Kernel};
use anyhow::{ensure, Context, Result};
use std::path::PathBuf;
use std::process::Command;

/// The ISO's rescue system prints this and its command line.
pub const MARKER: &str = "ISO-RESCUE-UP";

/// The rescue system inside the ISO, built as `name`.
pub fn rescue_initrd(name: &str) -> Result<Initramfs> {
    let dir = image::fresh_dir(&format!("{name}-src"))?;
    let script = dir.join("10-iso-marker");
    write_exec(
        &script,
        &format!("#!/bin/sh\necho \"{MARKER} cmdline=[$(cat /proc/cmdline)]\"\n"),
    )?;
    ImageSpec::new(name)
        .file(script, "/etc/rescue-init/boot.d/10-iso-marker")
        .build()
}

/// ReaR's layout in `<name>/rescue.iso`: the kernel and `initrd` in
/// `isolinux/`, and the boot configurations `configs` (path in the ISO,
/// text).
pub fn rescue_iso(
    name: &str,
    kernel: &Kernel,
    initrd: &Initramfs,
    configs: &[(&str, String)],
) -> Result<PathBuf> {
    let dir = image::fresh_dir(name)?;
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("isolinux"))?;
    std::fs::copy(&kernel.vmlinuz, tree.join("isolinux/kernel"))?;
    std::fs::copy(&initrd.path, tree.join("isolinux/initrd.cgz"))?;
    for (path, text) in configs {
        let at = tree.join(path);
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&at, text).with_context(|| format!("writing {}", at.display()))?;
    }
    let iso = dir.join("rescue.iso");
    let run = Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-R",
            "-J",
            "-V",
            "RELAXRECOVER",
            "-o",
        ])
        .arg(&iso)
        .arg(&tree)
        .output()
        .context("running xorriso (apt-get install xorriso)")?;
    ensure!(
        run.status.success(),
        "xorriso failed for {}: {}",
        iso.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    Ok(iso)
}

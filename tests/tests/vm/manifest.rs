//! `mkimage build --config FILE`: an image described by one manifest (init,
//! trees, a file, modules for the test kernel, zstd) boots to the shell,
//! with the manifest's file and module in it and the module loadable.

use super::common::{Guest, BOOT, STEP};
use anyhow::{bail, Context, Result};
use rescue_tests::{image, paths, ExitKind, Initramfs, Kernel};
use std::fs;
use std::path::Path;
use std::process::Command;

const MARKER: &str = "BUILT-FROM-MANIFEST";

/// A TOML basic string for `path` (the test paths need no escapes).
fn toml_path(path: &Path) -> Result<String> {
    let text = path.to_str().context("non-UTF-8 test path")?;
    if text.contains(['"', '\\']) || text.chars().any(char::is_control) {
        bail!("test path {text:?} would need escaping in TOML");
    }
    Ok(format!("\"{text}\""))
}

/// Writes the manifest (relative paths for what lies next to it) and runs
/// `mkimage build --config` on it from another directory.
fn manifest_image(kernel: &Kernel) -> Result<Initramfs> {
    let work = image::fresh_dir("manifest")?;
    image::busybox_tree(&work.join("busybox"), image::INIT_APPLETS)?;
    fs::write(work.join("marker.txt"), format!("{MARKER}\n"))?;
    let mods = kernel
        .modules
        .as_ref()
        .context("the test kernel has no modules directory")?;
    let config = kernel
        .config
        .as_ref()
        .context("the test kernel has no config")?;
    let text = format!(
        "# rescue image for the manifest VM test\n\
         init = {init}\n\
         output = \"manifest.cpio.zst\"\n\
         rootfs = [\n  {rootfs},\n  \"busybox\",\n]\n\
         file = [\"marker.txt:/etc/manifest-marker\"]\n\
         kernel-config = {config}\n\
         modules-dir = {mods}\n\
         module = [\"ext4\"]\n\
         firmware = \"none\"\n\
         compress = \"zstd\"\n\
         level = 9\n",
        init = toml_path(&paths::rescue_init()?)?,
        rootfs = toml_path(&paths::workspace_root().join("rootfs"))?,
        config = toml_path(config)?,
        mods = toml_path(mods)?,
    );
    let manifest = work.join("rescue.toml");
    fs::write(&manifest, text)?;
    let out = Command::new(paths::mkimage()?)
        .arg("build")
        .arg("--config")
        .arg(&manifest)
        .current_dir("/")
        .output()
        .context("running mkimage build --config")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("mkimage build --config failed: {stderr}");
    }
    if !stderr.contains("largest: ") {
        bail!("no largest-directories line in the summary: {stderr}");
    }
    Ok(Initramfs {
        path: work.join("manifest.cpio.zst"),
    })
}

#[test]
fn image_from_a_manifest_boots_with_its_file_and_module() -> Result<()> {
    let kernel = Kernel::get()?;
    let image = manifest_image(&kernel)?;
    let mut g = Guest::start(image, "")?;
    g.prompt(BOOT)?;
    g.sh("cat /etc/manifest-marker", MARKER, STEP)?;
    g.sh(
        "echo EXT4-KO=$(find /lib/modules -name ext4.ko | wc -l)",
        "EXT4-KO=1",
        STEP,
    )?;
    g.sh(
        "/sbin/modprobe ext4; echo EXT4=$(test -d /sys/module/ext4 && echo loaded)",
        "EXT4=loaded",
        STEP,
    )?;
    g.mark()?;
    g.send_line("poweroff")?;
    g.expect_exit(ExitKind::PowerOff)
}

//! Where the workspace, its build outputs and the binaries under test are.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// The musl target `rescue-init` is built for on x86-64 (it must be fully
/// static); [`rescue_init`] takes `$ARCH`'s.
pub const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// Root of the Cargo workspace (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// `target/<ARCH>-unknown-linux-musl/release/rescue-init` (static PID 1).
pub fn rescue_init() -> Result<PathBuf> {
    let musl = crate::Arch::get()?.musl_target();
    let path = target_dir().join(musl).join("release/rescue-init");
    require(
        path,
        &format!("cargo build --release --target {musl} -p rescue-init"),
    )
}

/// `target/release/mkimage`: the image builder is a host tool, built for
/// the host target in release mode.
pub fn mkimage() -> Result<PathBuf> {
    let path = target_dir().join("release/mkimage");
    require(path, "cargo build --release -p mkimage")
}

fn require(path: PathBuf, build: &str) -> Result<PathBuf> {
    if !path.is_file() {
        bail!(
            "{} is missing: run `make` (or `{build}`) before the VM tests",
            path.display()
        );
    }
    Ok(path)
}

/// A directory under the target dir, created if needed.
pub fn target_subdir(name: &str) -> Result<PathBuf> {
    let dir = target_dir().join(name);
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}

//! Is an ext4 filesystem clean? Asked from the host, after a VM is gone:
//! `e2fsck -fn` finds nothing, the journal needs no recovery (a
//! filesystem still mounted when the machine went down has
//! `needs_recovery` set) and the superblock says "clean".

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;

/// Fails, saying why, unless the ext4 filesystem on `dev` (an image file
/// or a block device) is clean.
pub fn assert_ext4_clean(dev: &Path) -> Result<()> {
    let fsck = Command::new("e2fsck")
        .arg("-fn")
        .arg(dev)
        .output()
        .context("running e2fsck (apt-get install e2fsprogs)")?;
    if !fsck.status.success() {
        bail!(
            "e2fsck -fn {} found problems ({}):\n{}{}",
            dev.display(),
            fsck.status,
            String::from_utf8_lossy(&fsck.stdout),
            String::from_utf8_lossy(&fsck.stderr)
        );
    }
    let dump = Command::new("dumpe2fs").arg("-h").arg(dev).output()?;
    let text = String::from_utf8_lossy(&dump.stdout);
    let features = text
        .lines()
        .find(|l| l.starts_with("Filesystem features:"))
        .unwrap_or("");
    if features.contains("needs_recovery") {
        bail!("{}: the journal needs recovery: the filesystem was still mounted when the machine went down:\n{features}", dev.display());
    }
    if !text
        .lines()
        .any(|l| l.starts_with("Filesystem state:") && l.contains("clean"))
    {
        bail!("{}: filesystem state is not clean:\n{text}", dev.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checker can say "unclean": a fresh filesystem passes, the same
    /// one with the journal marked as needing recovery (what a machine
    /// that went down with it mounted leaves) fails.
    #[test]
    fn reports_a_journal_that_needs_recovery() {
        let tools = ["mke2fs", "debugfs", "e2fsck"]
            .iter()
            .all(|t| Command::new(t).arg("-V").output().is_ok());
        if !tools {
            assert!(
                std::env::var_os("CI").is_none(),
                "e2fsprogs missing under CI"
            );
            eprintln!("SKIPPED: e2fsprogs is not installed");
            return;
        }
        let img = std::env::temp_dir().join(format!("rt-fsck-{}.img", std::process::id()));
        let made = Command::new("mke2fs")
            .args(["-q", "-F", "-t", "ext4"])
            .arg(&img)
            .arg("16M")
            .status()
            .unwrap();
        assert!(made.success());
        assert_ext4_clean(&img).expect("a fresh filesystem is clean");
        let set = Command::new("debugfs")
            .args(["-w", "-R", "feature needs_recovery"])
            .arg(&img)
            .output()
            .unwrap();
        assert!(
            set.status.success(),
            "{}",
            String::from_utf8_lossy(&set.stderr)
        );
        let err = assert_ext4_clean(&img).expect_err("needs_recovery must be reported");
        assert!(
            format!("{err:#}").contains("needs recovery")
                || format!("{err:#}").contains("found problems"),
            "{err:#}"
        );
        std::fs::remove_file(&img).unwrap();
    }
}

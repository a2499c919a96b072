//! The ReaR tests and `make bench-rear` run `rear mkrescue` in a sandbox
//! (tests/src/rear/sandbox.rs): this runs it as they do, with the kit and
//! stock, and checks that the host is as it was: no diversion of ReaR's
//! files, none of the kit's files in /usr/share/rear, no
//! /lib/modules/RELEASE made. Needs root and `rear`; takes a minute or two.

use anyhow::{ensure, Context, Result};
use rescue_tests::rear::{self, sandbox, Flavour};
use rescue_tests::{is_root, paths, skip, skip_if, Kernel};
use std::process::Command;

fn list(initrd: &std::path::Path) -> Result<String> {
    let out = Command::new(paths::mkimage()?)
        .arg("list")
        .arg(initrd)
        .output()?;
    ensure!(
        out.status.success(),
        "mkimage list {}: {}",
        initrd.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn sandboxed_rear_mkrescue_leaves_the_host_as_it_was() -> Result<()> {
    if skip_if(rear::unavailable()) || (!is_root() && skip("needs root (rear, unshare --mount)")) {
        return Ok(());
    }
    let kernel = Kernel::get()?;
    let release = kernel
        .release
        .clone()
        .context("the test kernel has no release")?;
    let before = sandbox::host_traces(&release)?;
    if !before.is_empty() {
        eprintln!(
            "note: before this test the host already had (left by the ReaR tests before they were sandboxed?):\n  {}\n\
             remove with: contrib/rear/install.sh --uninstall; rm -r /lib/modules/{release} if it holds .made-by-rescue-init-tests",
            before.join("\n  ")
        );
    }
    let kit = rear::mkrescue(&kernel, Flavour::Kit)?;
    ensure!(
        kit.log
            .contains("with mkimage (--compress zstd --level 9 --dedup)"),
        "the sandboxed kit did not pack with mkimage:\n{}",
        kit.log
    );
    ensure!(
        list(&kit.initrd)?
            .lines()
            .any(|l| l.contains("init -> bin/rescue-init")),
        "the kit's initrd has not rescue-init as /init"
    );
    let stock = rear::mkrescue(&kernel, Flavour::Stock)?;
    ensure!(
        std::fs::read(&stock.initrd)?.starts_with(&[0x1f, 0x8b]),
        "the stock initrd is not gzip"
    );
    ensure!(
        list(&stock.initrd)?
            .lines()
            .any(|l| l.contains("init -> bin/init")),
        "the stock initrd's /init is not ReaR's"
    );
    let after = sandbox::host_traces(&release)?;
    ensure!(
        after == before,
        "rear mkrescue changed the host:\nbefore: {before:#?}\nafter: {after:#?}"
    );
    Ok(())
}

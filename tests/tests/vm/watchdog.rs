//! Proves the watchdog through the kexec (init/src/watchdog.rs) on QEMU's
//! i6300esb: the rescue image's coldplug loads its driver (and the
//! watchdog core with `stop_on_reboot=0`), the recovery hands off with
//! `rescue.kexec-watchdog=10`, and PID 1 arms the watchdog just before the
//! kexec. A target that hangs before it loads a watchdog driver is reset
//! by the hardware: the firmware boots the rescue kernel again, with no
//! `reboot:` line from any kernel before it. A target that loads the
//! driver (its probe stops the timer) runs on and powers off by itself.

use super::common::{Guest, BOOT, STEP};
use super::handoff_fixtures as fx;
use anyhow::{ensure, Context, Result};
use rescue_tests::{image, BootOpts, ExitKind, ImageSpec, Initramfs, Kernel};
use std::path::PathBuf;
use std::time::Duration;

/// Long enough for the kexec'd kernel to get to its driver under TCG
/// (its self-decompression alone takes about 15 s there).
const TIMEOUT_SECS: u32 = 40;
/// The i6300esb driver splits the timeout over the chip's two stages:
/// the reset comes once it has run out (measured: 49 s after arming 40).
const RESET_AFTER: u32 = TIMEOUT_SECS;

const TARGET_INIT: &str = r#"#!/bin/sh
mkdir -p /proc /sys /dev
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "TARGET-KERNEL-UP cmdline=[$(cat /proc/cmdline)]"
if grep -q target.hang /proc/cmdline; then
    echo TARGET-HANGING
    while :; do sleep 3600; done
fi
insmod /lib/modules/test/watchdog.ko && insmod /lib/modules/test/i6300esb.ko && echo TARGET-WATCHDOG-DRIVER
sleep @WAIT@
echo TARGET-STILL-UP
poweroff -f
"#;

/// A target initrd with the watchdog driver; `TARGET_INIT` as /init.
fn target_initrd(kernel: &Kernel) -> Result<Initramfs> {
    let dir = image::fresh_dir("watchdog-target")?;
    let tree = dir.join("tree");
    image::busybox_tree(&tree, &[])?;
    std::fs::create_dir_all(tree.join("lib/modules/test"))?;
    let mods = ["drivers/watchdog/watchdog", "drivers/watchdog/i6300esb"];
    for (src, dst) in rescue_tests::target::module_files_of(kernel, &mods)? {
        std::fs::copy(&src, tree.join(dst.trim_start_matches('/')))?;
    }
    let init = TARGET_INIT.replace("@WAIT@", &(RESET_AFTER + 10).to_string());
    fx::write_exec(&tree.join("init"), &init)?;
    image::pack(&tree, "watchdog-target")
}

/// The rescue image: coldplug finds the disk and the watchdog; /recover
/// writes data and a handoff whose command line carries `extra`.
fn rescue_image(kernel: &Kernel, extra: &str) -> Result<Initramfs> {
    let dir = image::fresh_dir("watchdog-rescue-src")?;
    let script = dir.join("recover");
    let body = format!(
        "#!/bin/sh\nset -e\n\
         i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
         mkdir -p /mnt/local && mount -t ext4 /dev/vda /mnt/local\n\
         dd if=/dev/urandom of=/mnt/local/data.bin bs=1M count=4 2>/dev/null\n\
         ls /dev/watchdog0\n\
         mkdir -p /run/rescue-init\ncat > /run/rescue-init/handoff <<'EOF'\n\
         ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n\
         CMDLINE='console=ttyS0 panic=-1 {extra}'\nEOF\necho RECOVERY-DONE\n"
    );
    fx::write_exec(&script, &body)?;
    ImageSpec::new("watchdog-rescue")
        .with_modules(kernel, &["virtio_pci", "virtio_blk", "ext4", "i6300esb"])?
        .file(script, "/recover")
        .build()
}

/// Boots the rescue image with an i6300esb and the target disk.
fn start(extra: &str, reboot_exits: bool) -> Result<(Guest, PathBuf)> {
    let kernel = Kernel::get()?;
    let target = target_initrd(&kernel)?;
    let disk = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let image = rescue_image(&kernel, extra)?;
    let mut opts = BootOpts::new(&kernel.vmlinuz, &image.path);
    opts.cmdline_extra =
        format!("rescue.run=/recover rescue.after=handoff rescue.kexec-watchdog={TIMEOUT_SECS}");
    opts.disks = vec![disk.clone()];
    opts.reboot_exits = reboot_exits;
    opts.extra_args = vec!["-device".into(), "i6300esb".into()];
    let mut g = Guest::start_with_opts(opts)?;
    g.wait_for("RECOVERY-DONE", BOOT)?;
    g.wait_for_re(
        &format!(r"watchdog: /dev/watchdog0 \(i6300ESB timer\) armed for {TIMEOUT_SECS} s"),
        BOOT,
    )?;
    g.wait_for("shutdown: kexec now", STEP)?;
    Ok((g, disk))
}

#[test]
fn a_target_that_hangs_is_reset_by_the_watchdog() -> Result<()> {
    let (mut g, disk) = start("target.hang", false)?;
    g.wait_for("TARGET-HANGING", BOOT)?;
    let hung_at = g.cursor();
    // The firmware boots the rescue kernel again: only a reset does that.
    g.wait_for_re(
        r"Command line: [^\r\n]*rescue\.kexec-watchdog=",
        Duration::from_secs(u64::from(RESET_AFTER) + 60),
    )?;
    let between = g.console_range(hung_at, g.cursor());
    ensure!(
        !between.contains("reboot:") && !between.contains("Kernel panic"),
        "the machine restarted by software, not by the watchdog:\n{between}"
    );
    drop(g);
    fx::assert_disk_clean(&disk).context("the target disk")
}

#[test]
fn a_target_that_takes_the_watchdog_over_is_not_reset() -> Result<()> {
    let (mut g, disk) = start("target.keep", true)?;
    g.wait_for("TARGET-WATCHDOG-DRIVER", BOOT)?;
    // Past the time the watchdog would have reset the machine at.
    let wait = Duration::from_secs(u64::from(RESET_AFTER) + 60);
    g.wait_for("TARGET-STILL-UP", wait)?;
    g.expect_exit(ExitKind::PowerOff)?;
    fx::assert_disk_clean(&disk).context("the target disk")
}

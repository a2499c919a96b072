//! Faults that must not hang or dirty the handoff. A disk that stops
//! answering during the teardown: QEMU throttles its writes to one byte
//! and one request a second (`block_set_io_throttle`), while dirty data
//! for it waits in the page cache. The sync, the unmount and the
//! read-only remount of that disk can only hang; each is bounded, the log
//! names the disk, the kexec goes on, and the other disk comes out clean.

use super::common::{self, BOOT, STEP};
use super::handoff_fixtures as fx;
use anyhow::{ensure, Context, Result};
use rescue_tests::{image, ExitKind, Kernel};
use std::time::{Duration, Instant};

/// The teardown's own bound is 120 s (teardown/mod.rs BUDGET) after a
/// sync that gives up 10 s after it last made progress; TCG adds slack.
const HANDOFF_BOUND: Duration = Duration::from_secs(200);

#[test]
fn a_stalled_disk_is_named_and_the_others_stay_clean() -> Result<()> {
    let kernel = Kernel::get()?;
    let target = fx::target_initrd(&kernel)?;
    let root = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let dir = image::fresh_dir("faults-stall")?;
    std::fs::create_dir_all(dir.join("root"))?;
    let stall = dir.join("stall.img");
    fx::mke2fs(&dir.join("root"), &stall, "stall", "64M")?;
    // After "go" (the host throttled vdb's writes), 4 MiB of dirty data
    // for it stay in the page cache while the handoff begins.
    let extra = "mkdir -p /mnt/stall && mount -t ext4 /dev/vdb /mnt/stall\n\
                 echo STALL-READY\nread go\n\
                 dd if=/dev/urandom of=/mnt/stall/late.bin bs=1M count=4 2>/dev/null\n\
                 echo STALL-DIRTY";
    let handoff = "ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n\
                   CMDLINE='console=ttyS0 panic=-1 target.marker=stall'\n";
    let image = fx::rescue_image(&kernel, handoff, extra)?;
    let mut g = common::boot_with_disks(
        image,
        "rescue.run=/recover rescue.after=handoff",
        vec![root.clone(), stall.clone()],
    )?;
    g.wait_for("STALL-READY", BOOT)?;
    // bps_wr and iops_wr only: reads still work, so the target kernel can
    // probe the disk without waiting for it.
    let said = g.monitor("block_set_io_throttle virtio1 0 0 1 0 0 1")?;
    // The human monitor echoes the command; a refusal names the device
    // ("Device 'virtio1' not found") or says "Error".
    let lower = said.to_lowercase();
    ensure!(
        !lower.contains("not found") && !lower.contains("error") && !lower.contains("invalid"),
        "QEMU refused the throttle: {said}"
    );
    g.send_line("go")?;
    g.wait_for("STALL-DIRTY", STEP)?;
    g.wait_for("RECOVERY-DONE", STEP)?;
    let t0 = Instant::now();
    g.wait_for("shutdown: kexec now", HANDOFF_BOUND)?;
    let took = t0.elapsed();
    let console = g.console();
    let named = console
        .lines()
        .filter(|l| l.contains("rescue-init:") && l.contains("/mnt/stall"))
        .filter(|l| l.contains("no answer") || l.contains("left") || l.contains("busy"))
        .count();
    ensure!(named > 0, "the teardown never named /mnt/stall as stuck");
    ensure!(
        regex::Regex::new(r"shutdown: `umount /mnt/stall` hung in the kernel")?.is_match(&console),
        "the shutdown's summary does not name the unmount that hung"
    );
    println!(
        "handoff with a stalled disk: {:.1} s from the recovery's end to the kexec",
        took.as_secs_f64()
    );
    g.wait_for_re(
        r"TARGET-KERNEL-UP cmdline=\[[^\]]*target.marker=stall",
        BOOT,
    )?;
    g.wait_for("TARGET-DATA-OK", STEP)?;
    g.wait_for("TARGET-DONE", STEP)?;
    g.expect_exit(ExitKind::PowerOff)?;
    fx::assert_disk_clean(&root).context("the disk that kept answering")?;
    // The stall was real: the throttled disk never got its data.
    ensure!(
        fx::assert_disk_clean(&stall).is_err(),
        "the throttled disk came out clean: the stall did not happen"
    );
    Ok(())
}

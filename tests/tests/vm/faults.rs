//! Faults that must not hang or dirty the handoff. A disk that stops
//! answering during the teardown: QEMU throttles its writes to one byte
//! and one request a second (`block_set_io_throttle`), while dirty data
//! for it waits in the page cache. The sync, the unmount and the
//! read-only remount of that disk can only hang; each is bounded, the log
//! names the disk, the kexec goes on, and the other disk comes out clean.

use super::common::{self, BOOT, STEP};
use super::handoff_fixtures as fx;
use anyhow::{ensure, Context, Result};
use rescue_tests::nfs::{self, NfsServer};
use rescue_tests::{image, ExitKind, ImageSpec, Kernel};
use std::time::{Duration, Instant};

/// The teardown's own bound is 120 s (teardown/mod.rs BUDGET) after a
/// sync that gives up 10 s after it last made progress; TCG adds slack.
const HANDOFF_BOUND: Duration = Duration::from_secs(200);

/// QEMU's `block_set_io_throttle DEVICE BPS BPS_RD BPS_WR IOPS IOPS_RD
/// IOPS_WR`. The human monitor echoes the command; a refusal names the
/// device ("Device 'virtio1' not found") or says "Error".
fn throttle(g: &mut common::Guest, args: &str) -> Result<()> {
    let said = g.monitor(&format!("block_set_io_throttle {args}"))?;
    let lower = said.to_lowercase();
    ensure!(
        !lower.contains("not found") && !lower.contains("error") && !lower.contains("invalid"),
        "QEMU refused the throttle: {said}"
    );
    Ok(())
}

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
    throttle(&mut g, "virtio1 0 0 1 0 0 1")?;
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

/// A network filesystem whose server vanished: the recovery mounts an
/// NFSv4 export from the host (a `hard` mount, the default) and leaves a
/// writer on it that ignores SIGTERM; the host then kills the server. The
/// sync and the unmount of that mount can only hang or fail; the handoff
/// must still reach the kexec within a bound, say what it gave up on, and
/// leave the local disk clean.
#[test]
fn a_dead_nfs_server_is_named_and_the_local_disk_stays_clean() -> Result<()> {
    if rescue_tests::skip_if(nfs::unavailable()) {
        return Ok(());
    }
    let kernel = Kernel::get()?;
    let target = fx::target_initrd(&kernel)?;
    let root = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let dir = image::fresh_dir("faults-nfs")?;
    let mut server = NfsServer::start(&dir)?;
    let image = nfs_rescue_image(&kernel, server.port)?;
    let mut g = common::Guest::start_with_qemu_args(
        image,
        "rescue.run=/recover rescue.after=handoff",
        vec![root.clone()],
        [
            "-netdev",
            "user,id=n0",
            "-device",
            "virtio-net-pci,netdev=n0",
        ]
        .map(String::from)
        .to_vec(),
    )?;
    g.wait_for("NFS-READY", BOOT)?;
    let late = server.export.join("late.bin");
    let before = std::fs::metadata(&late).map(|m| m.len()).unwrap_or(0);
    ensure!(before > 0, "nothing the guest wrote reached the NFS server");
    server.kill()?;
    g.send_line("go")?;
    g.wait_for("RECOVERY-DONE", STEP)?;
    let t0 = Instant::now();
    g.wait_for("shutdown: kexec now", HANDOFF_BOUND)?;
    let took = t0.elapsed();
    let console = g.console();
    let named: Vec<&str> = console
        .lines()
        .filter(|l| l.contains("rescue-init:") && l.contains("/mnt/nfs"))
        .collect();
    ensure!(
        named.iter().any(|l| l.contains("shutdown:")),
        "the shutdown's summary never named /mnt/nfs; it said:\n{}",
        named.join("\n")
    );
    println!(
        "handoff with a dead NFS server: {:.1} s from the recovery's end to the kexec; about /mnt/nfs:\n{}",
        took.as_secs_f64(),
        named.join("\n")
    );
    g.wait_for_re(r"TARGET-KERNEL-UP cmdline=\[[^\]]*target.marker=nfs", BOOT)?;
    g.wait_for("TARGET-DATA-OK", STEP)?;
    g.wait_for("TARGET-DONE", STEP)?;
    g.expect_exit(ExitKind::PowerOff)?;
    fx::assert_disk_clean(&root).context("the local disk")?;
    Ok(())
}

/// Coldplug loads the disk's and the NIC's drivers; the kernel asks for
/// ext4 and NFSv4 (`fs-nfs4`) at the mounts. The writer keeps the file
/// open, so its data stays in the client's page cache until written back.
fn nfs_rescue_image(kernel: &Kernel, port: u16) -> Result<rescue_tests::Initramfs> {
    let dir = image::fresh_dir("faults-nfs-src")?;
    let script = dir.join("recover");
    let handoff = "ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n\
                   CMDLINE='console=ttyS0 panic=-1 target.marker=nfs'\n";
    let body = format!(
        "#!/bin/sh\nset -e\n\
         i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
         mkdir -p /mnt/local /mnt/nfs /run/rescue-init\n\
         mount -t ext4 /dev/vda /mnt/local\n\
         dd if=/dev/urandom of=/mnt/local/data.bin bs=1M count=8 2>/dev/null\n\
         (cd /mnt/local && md5sum data.bin > data.md5)\n\
         cat > /run/rescue-init/handoff <<'EOF'\n{handoff}EOF\n\
         ip link set lo up\nip link set eth0 up\nip addr add 10.0.2.15/24 dev eth0\n\
         mount -t nfs4 -o vers=4.2,proto=tcp,port={port},addr=10.0.2.2,clientaddr=10.0.2.15 \
         10.0.2.2:{pseudo} /mnt/nfs\n\
         echo NFS-MOUNTED\n\
         (trap '' TERM HUP; while :; do dd if=/dev/urandom bs=64k count=4 2>/dev/null; sleep 0.1; done > /mnt/nfs/late.bin) &\n\
         sleep 3\necho NFS-READY\nread go\nsleep 2\necho RECOVERY-DONE\n",
        pseudo = nfs::PSEUDO,
    );
    fx::write_exec(&script, &body)?;
    ImageSpec::new("faults-nfs-rescue")
        .with_modules(
            kernel,
            &["virtio_pci", "virtio_blk", "virtio_net", "ext4", "nfsv4"],
        )?
        .file(script, "/recover")
        .build()
}

/// The recovered system's disk stops answering just before the reboot:
/// working out the plan (its boot configuration, kernel and initrd) can
/// only hang. PID 1 does that in a child with a deadline, so the handoff
/// takes FALLBACK (a reboot) instead of hanging with it, and the data
/// written before stays safe.
#[test]
fn a_root_that_stops_answering_takes_the_fallback() -> Result<()> {
    let kernel = Kernel::get()?;
    let target = fx::target_initrd(&kernel)?;
    let root = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    // Nothing of the disk stays cached: every lookup under ROOT must read.
    let extra = "sync\necho 3 > /proc/sys/vm/drop_caches\necho STALL-READY\nread go";
    let handoff = "ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n\
                   CMDLINE='console=ttyS0 panic=-1 target.marker=stall'\n";
    let image = fx::rescue_image(&kernel, handoff, extra)?;
    let mut g = common::boot_with_disks(
        image,
        "rescue.run=/recover rescue.after=handoff",
        vec![root.clone()],
    )?;
    g.wait_for("STALL-READY", BOOT)?;
    // Reads at one byte and one request a second; writes go on.
    throttle(&mut g, "virtio0 0 1 0 0 1 0")?;
    g.send_line("go")?;
    g.wait_for("RECOVERY-DONE", STEP)?;
    let t0 = Instant::now();
    g.wait_for_re(
        r"handoff: working out the plan and loading the kernel: no answer within 60s[^\r\n]*FALLBACK=reboot",
        Duration::from_secs(120),
    )?;
    println!(
        "a root that stops answering: FALLBACK after {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    g.expect_exit(ExitKind::Reboot)?;
    g.assert_absent("TARGET-KERNEL-UP")?;
    // The killed child may still be stuck reading; the teardown then
    // remounts the disk read-only, unless that too waits on the reads.
    // Either way the summary must say which, and be right.
    let console = g.console();
    if console.contains("`remount /mnt/local read-only` hung in the kernel") {
        println!("the read-only remount hung too, and the summary says so");
    } else {
        fx::assert_disk_clean(&root).context("the recovered disk, released or read-only")?;
    }
    Ok(())
}

//! Proves the arm64 handoff: Debian's arm64 kernel has no kexec_file_load,
//! so rescue-init loads the target with its native kexec_load (the Image
//! at a 2 MiB base from /proc/iomem, the running device tree with /chosen
//! rewritten, the trampoline). A writer that ignores SIGTERM holds a file
//! open on the target disk; the teardown kills it, the kexec lands in the
//! target kernel with the new command line and initrd (the target's /init
//! prints the markers), and `e2fsck -fn` finds the disk clean afterwards.

use super::common::{self, BOOT, STEP};
use super::handoff_fixtures as fx;
use rescue_tests::{ExitKind, Kernel};

#[test]
fn native_kexec_load_lands_in_the_target_with_a_stubborn_writer_and_a_clean_disk(
) -> anyhow::Result<()> {
    super::require_aarch64()?;
    let kernel = Kernel::get()?;
    let target = fx::target_initrd(&kernel)?;
    let disk = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let handoff = "ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n\
                   CMDLINE='console=ttyAMA0 panic=-1 target.marker=arm64'\n";
    let writer = "setsid sh -c \"trap '' TERM HUP; exec 3>>/mnt/local/held.log; while :; do echo x >&3; sleep 0.1; done\" &\n\
                  while [ ! -s /mnt/local/held.log ]; do sleep 0.1; done";
    let image = fx::rescue_image(&kernel, handoff, writer)?;
    let mut g = common::boot_with_disks(
        image,
        "rescue.run=/recover rescue.after=handoff rescue.stop-timeout=1 rescue.debug",
        vec![disk.clone()],
    )?;
    g.wait_for_re("RECOVERY-DONE", BOOT)?;
    g.wait_for_re(r"handoff: kernel loaded", STEP)?;
    g.wait_for_re(r"pid \d+ \(sh\) ignored SIGTERM", STEP)?;
    g.wait_for_re("shutdown: kexec now", BOOT)?;
    g.wait_for_re(
        r"TARGET-KERNEL-UP cmdline=\[[^\]]*target.marker=arm64",
        BOOT,
    )?;
    g.wait_for_re("TARGET-DATA-OK", STEP)?;
    g.wait_for_re("TARGET-RECORD-FOUND", STEP)?;
    g.wait_for_re("TARGET-DONE", STEP)?;
    g.expect_exit(ExitKind::PowerOff)?;
    fx::assert_disk_clean(&disk)
}

/// A gzip-compressed Image (as Ubuntu ships its arm64 `vmlinuz`): `handoff
/// check --load` decompresses it in memory, says what it is and loads it
/// with the native kexec_load; `reboot` from the shell then hands off and
/// lands in the target.
#[test]
fn gzip_image_is_checked_loaded_and_booted_from_the_shell() -> anyhow::Result<()> {
    super::require_aarch64()?;
    let mut kernel = Kernel::get()?;
    let dir = rescue_tests::image::fresh_dir("a64-gzip-kernel")?;
    let gz = dir.join("vmlinuz.gz");
    let out = std::process::Command::new("gzip")
        .args(["-c", "-n", "-6"])
        .arg(&kernel.vmlinuz)
        .output()?;
    anyhow::ensure!(out.status.success(), "gzip failed");
    std::fs::write(&gz, out.stdout)?;
    let target = fx::target_initrd(&kernel)?;
    kernel.vmlinuz = gz;
    let disk = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let handoff = "ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n\
                   CMDLINE='console=ttyAMA0 panic=-1 target.marker=gzip'\n";
    let image = fx::rescue_image(&kernel, handoff, "")?;
    let mut g = common::boot_with_disks(image, "rescue.run=/recover", vec![disk.clone()])?;
    g.wait_for_re("RECOVERY-DONE", BOOT)?;
    g.prompt(BOOT)?;
    let caps = g.sh(
        "/init handoff check --load; echo CHECK-RC=$?",
        r"CHECK-RC=(\d+)\r?\n",
        BOOT,
    )?;
    anyhow::ensure!(
        caps[1] == "0",
        "handoff check --load failed:\n{}",
        g.console_since_cursor()
    );
    let console = g.console();
    anyhow::ensure!(
        console.contains("arm64 Image (Gzip)"),
        "the check did not name the gzip Image"
    );
    anyhow::ensure!(
        console.contains("loaded with KexecLoad"),
        "the check did not load with kexec_load"
    );
    g.send_line("reboot")?;
    g.wait_for_re("shutdown: kexec now", BOOT)?;
    g.wait_for_re(r"TARGET-KERNEL-UP cmdline=\[[^\]]*target.marker=gzip", BOOT)?;
    g.wait_for_re("TARGET-DATA-OK", STEP)?;
    g.wait_for_re("TARGET-DONE", STEP)?;
    g.expect_exit(ExitKind::PowerOff)?;
    fx::assert_disk_clean(&disk)
}

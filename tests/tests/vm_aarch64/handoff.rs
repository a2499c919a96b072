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
    compressed_kernel_boots("gzip", "Gzip", |image| {
        let out = std::process::Command::new("gzip")
            .args(["-c", "-n", "-6"])
            .arg(image)
            .output()?;
        anyhow::ensure!(out.status.success(), "gzip failed");
        Ok(out.stdout)
    })
}

/// Fedora's way: an EFI zboot image whose payload is the zstd-compressed
/// Image. Made here from Debian's Image with `zstd` and zboot's header
/// (`MZ`, `zimg`, payload offset and size, the compression's name: what
/// rescue-init reads; the EFI decompressor a real one carries is not
/// needed by a kexec).
#[test]
fn zstd_zboot_image_is_checked_loaded_and_booted_from_the_shell() -> anyhow::Result<()> {
    compressed_kernel_boots("zboot", "Zboot(\"zstd\")", |image| {
        let out = std::process::Command::new("zstd")
            .args(["-q", "-c", "-19"])
            .arg(image)
            .output()?;
        anyhow::ensure!(out.status.success(), "zstd failed");
        let mut z = b"MZ\0\0zimg".to_vec();
        z.extend(64u32.to_le_bytes());
        z.extend(u32::try_from(out.stdout.len())?.to_le_bytes());
        z.resize(24, 0);
        z.extend(b"zstd");
        z.resize(64, 0);
        z.extend(out.stdout);
        Ok(z)
    })
}

/// The target kernel made by `pack` from Debian's Image: `handoff check
/// --load` names it as `packing` and loads it with kexec_load, and
/// `reboot` lands in the target with the disk clean.
fn compressed_kernel_boots(
    name: &str,
    packing: &str,
    pack: impl FnOnce(&std::path::Path) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<()> {
    super::require_aarch64()?;
    let mut kernel = Kernel::get()?;
    let dir = rescue_tests::image::fresh_dir(&format!("a64-{name}-kernel"))?;
    let packed = dir.join("vmlinuz");
    std::fs::write(&packed, pack(&kernel.vmlinuz)?)?;
    let target = fx::target_initrd(&kernel)?;
    kernel.vmlinuz = packed;
    let disk = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let handoff = format!(
        "ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n\
         CMDLINE='console=ttyAMA0 panic=-1 target.marker={name}'\n"
    );
    let image = fx::rescue_image(&kernel, &handoff, "")?;
    let mut g = common::boot_with_disks(image, "rescue.run=/recover", vec![disk.clone()])?;
    g.wait_for_re("RECOVERY-DONE", BOOT)?;
    g.prompt(BOOT)?;
    fx::check_load(&mut g)?;
    let console = g.console();
    anyhow::ensure!(
        console.contains(&format!("arm64 Image ({packing})")),
        "the check did not name the {packing} Image"
    );
    anyhow::ensure!(
        console.contains("loaded with KexecLoad"),
        "the check did not load with kexec_load"
    );
    g.send_line("reboot")?;
    g.wait_for_re("shutdown: kexec now", BOOT)?;
    g.wait_for_re(
        &format!(r"TARGET-KERNEL-UP cmdline=\[[^\]]*target.marker={name}"),
        BOOT,
    )?;
    g.wait_for_re("TARGET-DATA-OK", STEP)?;
    g.wait_for_re("TARGET-DONE", STEP)?;
    g.expect_exit(ExitKind::PowerOff)?;
    fx::assert_disk_clean(&disk)
}

//! Proves `rescue-init kexec --iso` on arm64: arm64 rescue ISOs boot with
//! GRUB EFI only (no isolinux), so the ISO here has only ReaR's
//! `EFI/BOOT/grub.cfg` (its default entry chain-loads the next EFI
//! program), the arm64 kernel and a rescue initrd. A running rescue-init
//! host reads it from a virtio disk, picks the first Linux entry, loads it
//! from memory with the native kexec_load and executes it; the ISO's
//! rescue system comes up with the entry's command line.

use super::common::{self, BOOT, STEP};
use super::handoff_fixtures as fx;
use anyhow::{ensure, Result};
use rescue_tests::iso::{self, MARKER};
use rescue_tests::target::write_exec;
use rescue_tests::{image, ExitKind, ImageSpec, Initramfs, Kernel};
use std::path::PathBuf;

const EFI_GRUB_CFG: &str = include_str!("../../../init/tests/fixtures/iso/rear-efi-grub.cfg");
/// ReaR's EFI layout, GRUB only, with the serial console of arm64.
fn rescue_iso(kernel: &Kernel) -> Result<PathBuf> {
    let initrd = iso::rescue_initrd("a64-iso-rescue")?;
    let cfg = EFI_GRUB_CFG.replace("console=ttyS0,9600", "console=ttyAMA0");
    iso::rescue_iso(
        "a64-iso-image",
        kernel,
        &initrd,
        &[("EFI/BOOT/grub.cfg", cfg)],
    )
}

fn host_image(kernel: &Kernel) -> Result<Initramfs> {
    let dir = image::fresh_dir("a64-iso-host-src")?;
    let virtio = &fx::MODULES[..6];
    let mut spec = ImageSpec::new("a64-iso-host");
    for (src, dst) in rescue_tests::target::module_files_of(kernel, virtio)? {
        spec = spec.file(src, &dst);
    }
    // In load order; those built into the kernel are not in the image.
    let names: Vec<&str> = virtio
        .iter()
        .map(|m| rescue_tests::target::module_name(m))
        .collect();
    let script = dir.join("setup");
    write_exec(
        &script,
        &format!(
            "#!/bin/sh\nfor m in {}; do [ -e /lib/modules/test/$m.ko ] && insmod /lib/modules/test/$m.ko; done\n\
             i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\necho HOST-READY\n",
            names.join(" ")
        ),
    )?;
    spec.file(script, "/setup").build()
}

#[test]
fn grub_only_iso_boots_its_first_linux_entry() -> Result<()> {
    super::require_aarch64()?;
    let kernel = Kernel::get()?;
    let iso = rescue_iso(&kernel)?;
    let mut g = common::boot_with_disks(host_image(&kernel)?, "rescue.run=/setup", vec![iso])?;
    g.wait_for("HOST-READY", BOOT)?;
    g.prompt(BOOT)?;
    g.sh(
        "/init kexec --iso /dev/vda --list; echo LIST-RC=$?",
        "LIST-RC=0",
        STEP,
    )?;
    ensure!(
        g.console()
            .contains("would boot: Relax-and-Recover (BIOS or UEFI without Secure Boot) (the default entry Boot next EFI does not boot a Linux kernel"),
        "--list did not choose the first Linux entry over the chain-loading default"
    );
    // The last console= is /dev/console, where the marker goes: the
    // entry's own ends with tty0, as ReaR's does.
    g.send_line(
        "/init kexec --iso /dev/vda --append-extra 'console=ttyAMA0,115200 iso.marker=arm64' -e",
    )?;
    g.wait_for_re(r"loaded entry [^\r\n]*kernel /isolinux/kernel", BOOT)?;
    g.wait_for_re("shutdown: kexec now", BOOT)?;
    let caps = g.wait_for_re(&format!(r"{MARKER} cmdline=\[([^\]]*)\]"), BOOT)?;
    let cmdline = caps[1].to_string();
    ensure!(
        cmdline.contains("console=ttyAMA0 console=tty0 console=ttyAMA0,115200 iso.marker=arm64")
            && !cmdline.contains("initrd="),
        "the ISO's rescue system got [{cmdline}]"
    );
    g.prompt(BOOT)?;
    g.send_line("poweroff")?;
    g.expect_exit(ExitKind::PowerOff)
}

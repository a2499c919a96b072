//! Device bring-up on arm64 without udev: an image made with `mkimage
//! build --module ...` from the arm64 kernel's module tree boots on QEMU's
//! `virt` board with a virtio-blk disk on virtio-mmio (`if=none` +
//! `virtio-blk-device`), one on virtio-pci, and a SCSI disk behind
//! virtio-scsi-pci. The built-in coldplug must load their drivers and find
//! every disk; mounting ext4 then goes through the kernel's module helper.

use super::common::{Guest, BOOT, STEP};
use super::handoff_fixtures as fx;
use anyhow::Result;
use rescue_tests::{ExitKind, ImageSpec, Kernel};
use std::path::PathBuf;

const MODULES: &[&str] = &[
    "virtio_mmio",
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "sd_mod",
    "ext4",
];

fn small_disk(name: &str, marker: &str) -> Result<PathBuf> {
    fx::marked_disk("a64-devices", name, marker)
}

fn qemu_args(mmio: &std::path::Path, scsi: &std::path::Path) -> Vec<String> {
    [
        "-drive",
        &format!("file={},format=raw,if=none,id=mmio0", mmio.display()),
        "-device",
        "virtio-blk-device,drive=mmio0",
        "-drive",
        &format!("file={},format=raw,if=none,id=vscsi0", scsi.display()),
        "-device",
        "virtio-scsi-pci,id=vscsi",
        "-device",
        "scsi-hd,drive=vscsi0,bus=vscsi.0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn coldplug_finds_virtio_mmio_pci_and_scsi_disks_and_the_helper_loads_ext4() -> Result<()> {
    super::require_aarch64()?;
    let kernel = Kernel::get()?;
    let image = ImageSpec::new("a64-devices")
        .with_modules(&kernel, MODULES)?
        .build()?;
    let pci = small_disk("pci", "ON-PCI")?;
    let mmio = small_disk("mmio", "ON-MMIO")?;
    let scsi = small_disk("scsi", "ON-SCSI")?;
    let mut g = Guest::start_with_qemu_args(
        image,
        "rescue.coldplug-timeout=60",
        vec![pci],
        qemu_args(&mmio, &scsi),
    )?;
    let ready = r"coldplug settled in \d+ ms: [^\r\n]*block devices: ([^\r\n]*)\r?\n";
    let caps = g.wait_for_re(ready, BOOT)?;
    let found: Vec<&str> = caps[1].split_whitespace().collect();
    for disk in ["vda", "vdb", "sda"] {
        anyhow::ensure!(
            found.contains(&disk),
            "the readiness line lacks {disk}: [{}]",
            caps[1]
        );
    }
    g.prompt(BOOT)?;
    g.sh(
        "echo EXT4-BEFORE=$(test -d /sys/module/ext4 && echo loaded || echo absent)",
        "EXT4-BEFORE=absent",
        STEP,
    )?;
    for dev in ["vda", "vdb", "sda"] {
        let cmd = format!(
            "mkdir -p /mnt/{dev} && mount -t ext4 /dev/{dev} /mnt/{dev} && echo {dev}=$(cat /mnt/{dev}/marker)"
        );
        g.sh(&cmd, &format!("{dev}=ON-"), STEP)?;
    }
    let all = g.sh(
        "echo MARKERS=$(for f in /mnt/*/marker; do echo $(cat $f); done | sort | tr '\\n' ,)",
        r"MARKERS=(\S*)\r?\n",
        STEP,
    )?;
    anyhow::ensure!(
        all[1] == "ON-MMIO,ON-PCI,ON-SCSI,",
        "markers read: {}",
        all[1]
    );
    g.sh(
        "echo EXT4-AFTER=$(test -d /sys/module/ext4 && echo loaded)",
        "EXT4-AFTER=loaded",
        STEP,
    )?;
    g.send_line("poweroff")?;
    g.expect_exit(ExitKind::PowerOff)
}

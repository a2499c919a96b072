//! Device bring-up without udev, on Debian's modular kernel: an image made
//! with `mkimage build --module ...` (modules stored with kmod's indexes)
//! boots with disks on virtio-blk, virtio-scsi, AHCI, NVMe and USB mass
//! storage behind an xhci controller, and two NICs. Built-in
//! coldplug alone (no udev, no module list on the command line) must load
//! their drivers and find every disk; mounting ext4 then goes through the
//! kernel's module helper (`fs-ext4`, `crypto-crc32c`), which is
//! rescue-init's own modprobe applet.

use super::common::{Guest, BOOT, STEP};
use super::handoff_fixtures as fx;
use anyhow::{ensure, Context, Result};
use rescue_tests::{image, ImageSpec, Initramfs, Kernel};
use std::path::PathBuf;

/// Drivers for what QEMU offers below (sd_mod for the disks behind AHCI,
/// virtio-scsi and USB, matched by their `scsi:t-0x00` modalias; xhci_hcd
/// and usbcore come as dependencies of xhci_pci); ext4 is deliberately not
/// listed as something to load: the kernel asks for it when a disk is
/// mounted.
const MODULES: &[&str] = &[
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "ahci",
    "sd_mod",
    "nvme",
    "xhci_pci",
    "usb_storage",
    "uas",
    "virtio_net",
    "e1000",
    "ext4",
];

fn devices_image(kernel: &Kernel) -> Result<Initramfs> {
    devices_spec(kernel, "devices")?.build()
}

fn devices_spec(kernel: &Kernel, name: &str) -> Result<ImageSpec> {
    ImageSpec::new(name).with_modules(kernel, MODULES)
}

fn small_disk(name: &str, marker: &str) -> Result<PathBuf> {
    fx::marked_disk("devices", name, marker)
}

/// `-drive` for a raw image that a `-device` attaches.
fn drive(path: &std::path::Path, id: &str) -> [String; 2] {
    [
        "-drive".into(),
        format!("file={},format=raw,if=none,id={id}", path.display()),
    ]
}

/// SATA on AHCI, a SCSI disk on virtio-scsi, NVMe, a USB stick on xhci
/// and two NICs.
fn qemu_args(disks: &Disks) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    args.extend(drive(&disks.sata, "sata0"));
    args.extend(drive(&disks.vscsi, "vscsi0"));
    args.extend(drive(&disks.nvme, "nvm0"));
    args.extend(drive(&disks.usb, "usb0"));
    let rest = [
        "-device",
        "ahci,id=ahci",
        "-device",
        "ide-hd,drive=sata0,bus=ahci.0",
        "-device",
        "virtio-scsi-pci,id=vscsi",
        "-device",
        "scsi-hd,drive=vscsi0,bus=vscsi.0",
        "-device",
        "nvme,serial=rescue0,drive=nvm0",
        "-device",
        "qemu-xhci,id=xhci",
        "-device",
        "usb-storage,bus=xhci.0,drive=usb0",
        "-netdev",
        "user,id=n0",
        "-device",
        "virtio-net-pci,netdev=n0",
        "-netdev",
        "user,id=n1",
        "-device",
        "e1000,netdev=n1",
    ];
    args.extend(rest.iter().map(|s| s.to_string()));
    args
}

struct Disks {
    sata: PathBuf,
    vscsi: PathBuf,
    nvme: PathBuf,
    usb: PathBuf,
}

/// Boots `image` with a disk on every controller; waits for the readiness
/// line of `by` (`coldplug` or `udev`) and checks that it lists them all.
fn boot_with_every_disk(image: Initramfs, cmdline: &str, by: &str) -> Result<Guest> {
    let virtio = small_disk("virtio", "ON-VIRTIO")?;
    let disks = Disks {
        sata: small_disk("sata", "ON-SATA")?,
        vscsi: small_disk("vscsi", "ON-VSCSI")?,
        nvme: small_disk("nvme", "ON-NVME")?,
        usb: small_disk("usb", "ON-USB")?,
    };
    let cmdline = format!("rescue.coldplug-timeout=60 {cmdline}");
    let mut g = Guest::start_with_qemu_args(image, &cmdline, vec![virtio], qemu_args(&disks))?;
    let ready = format!(r"{by} settled in \d+ ms: [^\r\n]*block devices: ([^\r\n]*)\r?\n");
    let caps = g.wait_for_re(&ready, BOOT)?;
    let found: Vec<&str> = caps[1].split_whitespace().collect();
    // The three SCSI-type disks (SATA, virtio-scsi, USB) are sda..sdc in
    // whatever order their controllers finished probing.
    for disk in ["vda", "nvme0n1", "sda", "sdb", "sdc"] {
        anyhow::ensure!(
            found.contains(&disk),
            "the readiness line lacks {disk}: [{}]",
            caps[1]
        );
    }
    g.prompt(BOOT)?;
    Ok(g)
}

#[test]
fn coldplug_finds_every_disk_and_nic_and_the_kernel_helper_loads_ext4() -> Result<()> {
    let kernel = Kernel::get()?;
    // No udev in this image: rescue.udev=on says so and coldplugs itself.
    let mut g = boot_with_every_disk(devices_image(&kernel)?, "rescue.udev=on", "coldplug")?;
    let no_udev =
        r"rescue\.udev=on, but the image has no udev daemon [^\r\n]*: using the built-in coldplug";
    anyhow::ensure!(
        regex::Regex::new(no_udev)?.is_match(&g.console()),
        "no warning about the missing udev"
    );
    g.sh("cat /proc/sys/kernel/modprobe", "/sbin/modprobe", STEP)?;
    g.sh(
        "echo EXT4-BEFORE=$(test -d /sys/module/ext4 && echo loaded || echo absent)",
        "EXT4-BEFORE=absent",
        STEP,
    )?;
    for dev in ["vda", "nvme0n1", "sda", "sdb", "sdc"] {
        let cmd = format!("mkdir -p /mnt/{dev} && mount -t ext4 /dev/{dev} /mnt/{dev} && echo {dev}=$(cat /mnt/{dev}/marker)");
        g.sh(&cmd, &format!("{dev}=ON-"), STEP)?;
    }
    let all = g.sh(
        "echo MARKERS=$(for f in /mnt/*/marker; do echo $(cat $f); done | sort | tr '\\n' ,)",
        r"MARKERS=(\S*)\r?\n",
        STEP,
    )?;
    anyhow::ensure!(
        all[1] == "ON-NVME,ON-SATA,ON-USB,ON-VIRTIO,ON-VSCSI,",
        "markers read: {}",
        all[1]
    );
    g.sh("echo USBDRV=$(test -d /sys/module/xhci_pci && test -d /sys/module/usb_storage && echo both)", "USBDRV=both", STEP)?;
    g.sh(
        "echo CRC=$(test -d /sys/module/crc32c_generic -o -d /sys/module/crc32c_intel && echo yes)",
        "CRC=yes",
        STEP,
    )?;
    g.sh(
        "echo NETDRV=$(test -d /sys/module/e1000 && test -d /sys/module/virtio_net && echo both)",
        "NETDRV=both",
        STEP,
    )?;
    let nics = g.sh(
        "ls /sys/class/net | grep -v lo | wc -l | sed 's/^/NICS=/'",
        r"NICS=(\d+)\r?\n",
        STEP,
    )?;
    anyhow::ensure!(
        nics[1] == "2",
        "expected 2 NICs with drivers, found {}",
        nics[1]
    );
    modprobe_remove(&mut g)?;
    g.send_line("poweroff")?;
    g.expect_exit(rescue_tests::ExitKind::PowerOff)
}

/// `rescue.udev=on` with Debian's udev in the image: udevd (PID 1's child)
/// loads the drivers through its rules, the readiness line says `udev
/// settled` and lists every disk, udev's own work is visible (its database
/// and the `/dev/disk/by-label` links its rules make), a hot-added
/// controller gets its driver from udev while PID 1's hotplug stays out,
/// and udevd is stopped at power-off.
#[test]
fn udev_brings_up_every_disk_when_asked() -> Result<()> {
    let kernel = Kernel::get()?;
    let image = devices_spec(&kernel, "devices-udev")?
        .with_host_udev()?
        .build()?;
    let mut g = boot_with_every_disk(image, "rescue.udev=on", "udev")?;
    g.assert_absent("falling back to the built-in coldplug")?;
    g.assert_absent("coldplug settled")?;
    g.sh("echo UDEVD=$(pidof systemd-udevd | wc -w)", "UDEVD=1", STEP)?;
    let labels = "ls /dev/disk/by-label | sort | tr '\\n' ,";
    g.sh(
        &format!("echo LABELS=$({labels})"),
        "LABELS=nvme,sata,usb,virtio,vscsi,",
        STEP,
    )?;
    g.sh(
        "mkdir -p /mnt/u && mount -t ext4 /dev/disk/by-label/usb /mnt/u && cat /mnt/u/marker; echo",
        "ON-USB",
        STEP,
    )?;
    // Hotplug is udev's now: with virtio_scsi unloaded, a hot-added
    // controller gets it back through udev, and PID 1 starts nothing.
    g.sh("/sbin/modprobe -r virtio_scsi; echo RC=$?", "RC=0", STEP)?;
    g.monitor("device_add virtio-scsi-pci,id=hotscsi")?;
    let wait = "i=0; while [ ! -d /sys/module/virtio_scsi ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done";
    g.sh(
        &format!("{wait}; echo VSCSI=$(test -d /sys/module/virtio_scsi && echo back)"),
        "VSCSI=back",
        BOOT,
    )?;
    g.assert_absent("hotplug: ")?;
    g.send_line("poweroff")?;
    g.expect_exit(rescue_tests::ExitKind::PowerOff)
}

/// `modprobe -r`: a module holding mounted filesystems stays; virtio_net
/// (its NIC down) goes, with the two modules only it used, while virtio,
/// which the disks still use, stays.
fn modprobe_remove(g: &mut Guest) -> Result<()> {
    g.sh(
        "/sbin/modprobe -r ext4; echo RC=$?",
        r"module ext4 is in use[^\r\n]*\r?\nRC=1",
        STEP,
    )?;
    g.sh(
        "/sbin/modprobe -r -v virtio_net; echo RC=$?",
        r"rmmod virtio_net\r?\n[^R]*RC=0",
        STEP,
    )?;
    let gone = "for m in virtio_net net_failover failover; do test -d /sys/module/$m || echo $m; done | tr '\\n' ,";
    g.sh(
        &format!("echo GONE=$({gone}) KEPT=$(test -d /sys/module/virtio && echo virtio)"),
        "GONE=virtio_net,net_failover,failover, KEPT=virtio",
        STEP,
    )?;
    Ok(())
}

/// A udevd that dies at once (a stand-in script) and `rescue.udev=on`:
/// PID 1 says so and falls back to its own coldplug and hotplug.
fn broken_udev_image(kernel: &Kernel) -> Result<Initramfs> {
    let dir = image::fresh_dir("devices-broken-udev-src")?;
    let fake = dir.join("fake-udev");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"fake udev: failing on purpose\" >&2\nexit 3\n",
    )?;
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let spec = devices_spec(kernel, "devices-broken-udev")?;
    spec.file(&fake, "/lib/systemd/systemd-udevd")
        .file(&fake, "/bin/udevadm")
        .build()
}

/// Hotplug: a virtio-scsi controller and a disk on it, added through the
/// QEMU monitor after boot. The image's udevd is broken, so (with
/// `rescue.udev=on`) PID 1 falls back to its coldplug and keeps module
/// loading for hotplug. The driver was not loaded at boot; the kernel's
/// uevents make PID 1 load it, and the disk appears and mounts.
#[test]
fn hotplugged_controller_gets_its_driver_and_disk() -> Result<()> {
    let kernel = Kernel::get()?;
    let image = broken_udev_image(&kernel)?;
    let hot = small_disk("hot", "ON-HOTPLUG")?;
    let mut g = Guest::start_with_qemu_args(
        image,
        "rescue.coldplug-timeout=60 rescue.udev=on",
        Vec::new(),
        Vec::new(),
    )?;
    g.wait_for_re(r"starting /lib/systemd/systemd-udevd for the devices", BOOT)?;
    g.wait_for_re(r"udev: /lib/systemd/systemd-udevd ended before it made /run/udev/control; falling back to the built-in coldplug", BOOT)?;
    g.wait_for_re(r"coldplug settled in \d+ ms", BOOT)?;
    g.prompt(BOOT)?;
    g.sh(
        "echo SCSI-BEFORE=$(test -d /sys/module/virtio_scsi && echo loaded || echo absent)",
        "SCSI-BEFORE=absent",
        STEP,
    )?;
    g.monitor("device_add virtio-scsi-pci,id=hotscsi")?;
    g.wait_for_re(
        r"hotplug: [^\r\n]* added; loading modules for pci:v00001AF4d0000100[48]",
        STEP,
    )?;
    g.monitor(&format!(
        "drive_add 0 if=none,id=hot0,format=raw,file={}",
        hot.display()
    ))?;
    g.monitor("device_add scsi-hd,drive=hot0,bus=hotscsi.0")?;
    let wait = "i=0; while [ ! -b /dev/sda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done";
    g.sh(&format!("{wait}; mkdir -p /mnt/hot && mount -t ext4 /dev/sda /mnt/hot && cat /mnt/hot/marker; echo"), "ON-HOTPLUG", BOOT)?;
    g.sh(
        "echo SCSI-AFTER=$(test -d /sys/module/virtio_scsi && echo loaded)",
        "SCSI-AFTER=loaded",
        STEP,
    )?;
    g.send_line("poweroff")?;
    g.expect_exit(rescue_tests::ExitKind::PowerOff)
}

/// `rescue-init modprobe --show-depends` against kmod's `modprobe
/// --show-depends` on the same tree (Debian's modules, indexed by kmod's
/// depmod): every 8th module of modules.order plus aliases and a modalias.
/// rescue-init's own module option (modules/config.rs: the watchdog core
/// keeps a watchdog running through the kexec), which kmod does not have,
/// is taken out of its line before comparing.
fn without_builtin_option(line: String) -> String {
    match line.strip_suffix(" stop_on_reboot=0") {
        Some(rest) if rest.ends_with("/drivers/watchdog/watchdog.ko") => rest.to_string(),
        _ => line,
    }
}

/// Not a VM test; it lives here for the test kernel. kmod's output is
/// normalised for two quirks that do not change what gets loaded: it
/// repeats the chain of a soft dependency's own dependencies, and ends
/// option lines with a space. Where a module has several softdep lines
/// (btrfs: crc32c, xxhash64, sha256, blake2b-256) kmod 30 honours only one
/// of them; rescue-init loads them all, so there its list must contain
/// kmod's in the same order.
#[test]
fn modprobe_show_depends_matches_kmod() -> Result<()> {
    let kernel = Kernel::get()?;
    let (src, release) = (
        kernel.modules.as_ref().context("no modules")?,
        kernel.release.as_deref().context("no release")?,
    );
    let dir = rescue_tests::rear::depmod_scratch(src, release, "kmod-compare")?;
    let base = dir
        .ancestors()
        .nth(3)
        .context("scratch base")?
        .to_path_buf();
    let order = std::fs::read_to_string(dir.join("modules.order"))?;
    let softdep = std::fs::read_to_string(dir.join("modules.softdep"))?;
    let mut names: Vec<String> = order
        .lines()
        .step_by(8)
        .map(|l| {
            l.rsplit('/')
                .next()
                .unwrap_or(l)
                .trim_end_matches(".ko")
                .to_string()
        })
        .collect();
    names.extend(
        [
            "btrfs",
            "fs-ext4",
            "crypto-crc32c",
            "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
        ]
        .map(String::from),
    );
    let init = rescue_tests::paths::rescue_init()?;
    let show = |prog: &std::path::Path, pre: &[&str], name: &str| -> Result<Vec<String>> {
        let out = std::process::Command::new(prog)
            .args(pre)
            .arg("-d")
            .arg(&base)
            .args(["-S", release, "--show-depends", name])
            .output()?;
        let mut seen = std::collections::HashSet::new();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        Ok(text
            .lines()
            .map(|l| l.trim_end().to_string())
            .filter(|l| seen.insert(l.clone()))
            .collect())
    };
    let mut checked = 0;
    for name in &names {
        let kmod = show(std::path::Path::new("modprobe"), &[], name)?;
        let ours: Vec<String> = show(&init, &["modprobe"], name)?
            .into_iter()
            .map(without_builtin_option)
            .collect();
        let module = name.replace('-', "_");
        let several = softdep
            .lines()
            .filter(|l| l.starts_with(&format!("softdep {module} ")))
            .count()
            > 1;
        if several {
            let mut it = ours.iter();
            ensure!(
                kmod.iter().all(|k| it.any(|o| o == k)),
                "{name}: kmod's list is not in ours in order\nkmod: {kmod:#?}\nours: {ours:#?}"
            );
        } else {
            ensure!(
                kmod == ours,
                "{name}: --show-depends differs\nkmod: {kmod:#?}\nours: {ours:#?}"
            );
        }
        checked += 1;
    }
    ensure!(checked > 400, "only {checked} modules compared");
    Ok(())
}

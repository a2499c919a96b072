//! Proves `rescue-init kexec --iso` on a real kernel: a running "host"
//! (rescue-init's image with the virtio modules) reads a rescue ISO from a
//! virtio disk — ReaR's layout: `isolinux/kernel`, `isolinux/initrd.cgz`
//! and an isolinux.cfg whose default boots the local disk — lists its
//! entries, picks the first Linux entry instead of the `boothd0` default,
//! loads it from memory and executes it; the rescue image inside the ISO
//! boots and prints its marker with the command line it got. Garbage on a
//! disk given as the ISO is refused with a clear message and the host
//! keeps running.

use super::common::{self, Guest, BOOT, STEP};
use super::handoff_fixtures as fx;
use anyhow::Result;
use rescue_tests::iso::{self, MARKER};
use rescue_tests::target::write_exec;
use rescue_tests::{image, ExitKind, ImageSpec, Initramfs, Kernel};
use std::path::PathBuf;

/// The virtio modules of `fx::MODULES` (a virtio disk, no filesystem).
const VIRTIO: usize = 6;
const ISOLINUX_CFG: &str = include_str!("../../../init/tests/fixtures/iso/rear-isolinux.cfg");
const EFI_GRUB_CFG: &str = include_str!("../../../init/tests/fixtures/iso/rear-efi-grub.cfg");
/// The `rear` entry's append line, without `initrd=`.
const REAR_ARGS: &str = "root=/dev/ram0 vga=normal rw selinux=0 console=ttyS0,9600 console=tty0";
/// ReaR's ISO layout (isolinux and EFI GRUB) with the test kernel and
/// the rescue initrd.
fn rescue_iso(kernel: &Kernel) -> Result<PathBuf> {
    let initrd = iso::rescue_initrd("iso-rescue")?;
    let configs = [
        ("isolinux/isolinux.cfg", ISOLINUX_CFG.to_string()),
        ("EFI/BOOT/grub.cfg", EFI_GRUB_CFG.to_string()),
    ];
    iso::rescue_iso("iso-image", kernel, &initrd, &configs)
}

/// One MiB that is not an ISO.
fn garbage_disk() -> Result<PathBuf> {
    let path = image::fresh_dir("iso-garbage")?.join("garbage.img");
    let bytes: Vec<u8> = (0u32..1 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// The host: rescue-init's image, the virtio modules, and `/setup`,
/// which loads them and waits for both disks.
fn host_image(kernel: &Kernel) -> Result<Initramfs> {
    let dir = image::fresh_dir("iso-host-src")?;
    let mut spec = ImageSpec::new("iso-host");
    for (src, dst) in rescue_tests::target::module_files_of(kernel, &fx::MODULES[..VIRTIO])? {
        spec = spec.file(src, &dst);
    }
    let names: Vec<&str> = fx::MODULES[..VIRTIO]
        .iter()
        .map(|m| rescue_tests::target::module_name(m))
        .collect();
    let script = dir.join("setup");
    let body = format!(
        "#!/bin/sh\nfor m in {}; do insmod /lib/modules/test/$m.ko || echo \"insmod $m failed\"; done\n\
         i=0; while {{ [ ! -b /dev/vda ] || [ ! -b /dev/vdb ]; }} && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
         echo HOST-READY\n",
        names.join(" ")
    );
    write_exec(&script, &body)?;
    spec.file(script, "/setup").build()
}

/// Boots the host with the ISO as /dev/vda and garbage as /dev/vdb and
/// waits for its shell.
fn start() -> Result<Guest> {
    let kernel = Kernel::get()?;
    let disks = vec![rescue_iso(&kernel)?, garbage_disk()?];
    let mut g = common::boot_with_disks(host_image(&kernel)?, "rescue.run=/setup", disks)?;
    g.wait_for("HOST-READY", BOOT)?;
    g.prompt(BOOT)?;
    Ok(g)
}

/// The ISO's rescue system is up with `args` on its command line (and
/// no boot-loader tokens), has a working shell, and powers off.
fn landed(g: &mut Guest, args: &str) -> Result<()> {
    g.wait_for_re(r"kexec requested \(signal \d+ from pid \d+\)", STEP)?;
    g.wait_for_re("shutdown: kexec now", BOOT)?;
    let caps = g.wait_for_re(&format!(r"{MARKER} cmdline=\[([^\]]*)\]"), BOOT)?;
    let cmdline = &caps[1];
    if !cmdline.contains(args) || cmdline.contains("initrd=") || cmdline.contains("BOOT_IMAGE=") {
        return Err(g.failure(&format!(
            "the rescue system got the command line [{cmdline}], wanted [{args}] without initrd="
        )));
    }
    g.prompt(BOOT)?;
    g.mark()?;
    g.send_line("poweroff")?;
    g.expect_exit(ExitKind::PowerOff)
}

/// `--list` shows the entries and the choice; `-e` loads the first Linux
/// entry (the default `boothd0` chain-loads the disk: said so) and the
/// host's PID 1 executes it cleanly.
#[test]
fn rear_iso_lists_then_boots_the_first_linux_entry() -> Result<()> {
    let mut g = start()?;
    g.sh(
        "/init kexec --iso /dev/vda --list; echo LIST-RC=$?",
        "LIST-RC=0",
        STEP,
    )?;
    for want in [
        "* boothd0 (\"Boot First Local disk (hd0)\") [default]",
        "boots Linux: /isolinux/kernel",
        "would boot: rear",
    ] {
        if !g.console().contains(want) {
            return Err(g.failure(&format!("--list did not print {want:?}")));
        }
    }
    g.send_line("/init kexec --iso /dev/vda --append-extra 'console=ttyS0 iso.marker=exec' -e")?;
    g.wait_for_re(r"the default entry boothd0 [^\r\n]*does not boot a Linux kernel \(kernel chain\.c32 hd0\); using rear", STEP)?;
    g.wait_for_re(r"loaded entry rear [^\r\n]*kernel /isolinux/kernel \(\d+ bytes\), initrd /isolinux/initrd\.cgz", STEP)?;
    landed(
        &mut g,
        &format!("{REAR_ARGS} console=ttyS0 iso.marker=exec"),
    )
}

/// Garbage given as the ISO: a clear error, nothing loaded, the host
/// still up. Then the ISO as a file on a mounted filesystem (copied to
/// the host's /tmp, a tmpfs): `--entry rear-automatic --load-only` loads
/// it, and a plain `rescue-init kexec -e` executes it.
#[test]
fn garbage_is_refused_then_an_iso_file_loads_and_execs() -> Result<()> {
    let mut g = start()?;
    let state = "echo RC=$? LOADED=$(cat /sys/kernel/kexec_loaded)";
    g.sh(
        &format!("/init kexec --iso /dev/vdb --load-only; {state}"),
        "RC=1 LOADED=0",
        STEP,
    )?;
    let why = "rescue-init kexec: /dev/vdb: not an ISO 9660 image: no \"CD001\" volume descriptor at sector 16 (offset 32769)";
    if !g.console().contains(why) {
        return Err(g.failure("no clear error for a garbage ISO"));
    }
    g.mark()?;
    g.assert_init_alive()?;
    g.sh(
        "dd if=/dev/vda of=/tmp/rescue.iso bs=1M 2>/dev/null; echo COPIED=$?",
        "COPIED=0",
        BOOT,
    )?;
    let load = "/init kexec --iso /tmp/rescue.iso --entry rear-automatic --load-only --append-extra 'console=ttyS0 iso.marker=auto'";
    g.sh(&format!("{load}; {state}"), "RC=0 LOADED=1", BOOT)?;
    g.send_line("/init kexec -e")?;
    landed(
        &mut g,
        &format!("{REAR_ARGS} auto_recover console=ttyS0 iso.marker=auto"),
    )
}

/// Under systemd, `-e` runs `systemctl kexec`, whose shutdown unmounts
/// the filesystem the ISO is on, so the image must be closed by then (the
/// end-to-end journey found systemd failing to unmount /backup). A
/// stand-in `systemctl`, called in a PID namespace whose PID 1 is a shell
/// (not rescue-init), reports whether its caller still holds the ISO.
#[test]
fn under_systemd_the_iso_is_closed_before_systemctl_kexec() -> Result<()> {
    let mut g = start()?;
    g.sh(
        "dd if=/dev/vda of=/tmp/rescue.iso bs=1M 2>/dev/null; echo COPIED=$?",
        "COPIED=0",
        BOOT,
    )?;
    let fake = "mkdir -p /run/systemd/system /tmp/fake && printf '%s\\n' '#!/bin/sh' \
        'if ls -l /proc/$PPID/fd | grep -q rescue.iso; then echo ISO-HELD; else echo ISO-RELEASED; fi' \
        'echo \"FAKE-SYSTEMCTL $*\"' > /tmp/fake/systemctl && chmod +x /tmp/fake/systemctl && echo FAKE-READY";
    g.sh(fake, "FAKE-READY", STEP)?;
    g.send_line("PATH=/tmp/fake:$PATH unshare -p -f --mount-proc sh -c '/init kexec --iso /tmp/rescue.iso -e; echo KEXEC-RC=$?'")?;
    let caps = g.wait_for_re(r"(ISO-HELD|ISO-RELEASED)\r?\n", BOOT)?;
    g.wait_for("FAKE-SYSTEMCTL kexec", STEP)?;
    g.wait_for("KEXEC-RC=0", STEP)?;
    if caps[1] != "ISO-RELEASED" {
        return Err(
            g.failure("rescue-init kexec still held the ISO open when it ran systemctl kexec")
        );
    }
    g.prompt(STEP)?;
    g.sh(
        "/init kexec -u; rm -r /run/systemd; echo UNLOADED=$(cat /sys/kernel/kexec_loaded)",
        "UNLOADED=0",
        STEP,
    )?;
    g.assert_init_alive()
}

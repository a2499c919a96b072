//! `make demo`: the point of rescue-init in one boot. The rescue image
//! (rescue-init, busybox, the drivers for a virtio disk with ext4, which
//! its coldplug loads) boots with a "recovered system" attached: a disk with
//! a kernel, an initrd and a GRUB config (rescue_tests::target, as the VM
//! tests build it, Layout::Grub). A boot script mounts the disk at
//! /mnt/local and writes the handoff file, as a recovery's last step (the
//! ReaR kit's finalize script) does; the banner says what to try, and
//! `reboot` kexecs into the recovered system's kernel.

use crate::target::{self, Layout};
use crate::{image, ImageSpec, Kernel};
use anyhow::{Context, Result};
use std::path::PathBuf;

/// Drivers for the demo disk; rescue-init's coldplug loads them (ext4 on
/// the kernel's request when the disk is mounted).
const MODULES: &[&str] = &["virtio_pci", "virtio_blk", "ext4"];

/// Printed by the boot script once the disk is mounted (the VM test waits
/// for it).
pub const READY: &str = "demo: the recovered system's disk /dev/vda is mounted at /mnt/local";
/// Printed by the recovered system's /init after the kexec.
pub const LANDED: &str = "The recovered system is up";

const BOOT_SCRIPT: &str = r#"#!/bin/sh
# The end of a recovery: the recovered system mounted at /mnt/local and the
# handoff file naming it (no KERNEL=: its GRUB config says what to boot).
mkdir -p /mnt/local /run/rescue-init
if mount -t ext4 /dev/vda /mnt/local; then
    echo ROOT=/mnt/local > /run/rescue-init/handoff
    echo "demo: the recovered system's disk /dev/vda is mounted at /mnt/local; /run/rescue-init/handoff written"
else
    echo "demo: cannot mount /dev/vda: is the demo disk attached (make demo does it)?"
fi
"#;

/// /etc/profile.d/demo.sh: every login shell on the console shows it.
const BANNER: &str = r#"cat <<'END_OF_BANNER'

  rescue-init demo. This is the rescue system: rescue-init is PID 1, and it
  loaded the drivers for the disk itself (cat /proc/modules). A recovered
  system is on /dev/vda, mounted at /mnt/local, and the handoff file
  /run/rescue-init/handoff says to boot it next. Try:

    ls /mnt/local/boot; cat /mnt/local/boot/grub/grub.cfg
    cat /run/rescue-init/handoff
    rescue-init handoff check     what a reboot would boot, and whether it can
    reboot                        watch it kexec into the recovered system:
                                  no firmware, no boot loader

  On the host, man rescue-init-handoff explains the file. Ctrl-A X quits QEMU.

END_OF_BANNER
"#;

/// The recovered system's /init: says where it came from, shows the note
/// rescue-init left on its disk, and gives a shell.
const TARGET_INIT: &str = r#"#!/bin/sh
mkdir -p /proc /sys /dev /mnt
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
@MODULES@
echo
echo "The recovered system is up: kernel $(uname -r), reached by kexec from the rescue system."
echo "Its command line, from the GRUB entry on its disk: $(cat /proc/cmdline)"
if mount -t ext4 -o ro /dev/vda /mnt 2>/dev/null; then
    echo "rescue-init's note on the disk (/var/log/rescue-init-kexec.log):"
    cat /mnt/var/log/rescue-init-kexec.log
    umount /mnt
fi
echo "(A stand-in for the real system: a busybox shell. poweroff -f or Ctrl-A X ends the demo.)"
exec setsid cttyhack sh
"#;

/// What `make demo` boots.
pub struct Demo {
    pub kernel: PathBuf,
    pub image: PathBuf,
    /// The recovered system's disk (raw ext4), made afresh each time.
    pub disk: PathBuf,
}

/// Builds the rescue image and the recovered system's disk.
pub fn build() -> Result<Demo> {
    let kernel = Kernel::get()?;
    let initrd = target::target_initrd_with(&kernel, "demo-target", TARGET_INIT)?;
    let disk = target::target_disk(&kernel, &initrd, Layout::Grub, "demo-disk")?;
    let dir = image::fresh_dir("demo-files")?;
    let (script, banner) = (dir.join("50-demo"), dir.join("demo.sh"));
    target::write_exec(&script, BOOT_SCRIPT)?;
    std::fs::write(&banner, BANNER).with_context(|| format!("writing {}", banner.display()))?;
    let spec = ImageSpec::new("demo")
        .file(script, "/etc/rescue-init/boot.d/50-demo")
        .file(banner, "/etc/profile.d/demo.sh")
        .with_modules(&kernel, MODULES)?;
    let image = spec.build()?.path;
    Ok(Demo {
        kernel: kernel.vmlinuz,
        image,
        disk,
    })
}

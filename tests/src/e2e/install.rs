//! Installing the server onto its disk, the way a Debian installer's
//! guided LVM layout does, inside a QEMU "installer" VM: a rescue-init
//! image (the project's own rescue system) with the server's kernel and
//! the drivers for its disks, booted with the blank server disk and the
//! staged server tree attached. It partitions (msdos: /boot ext4, then an
//! LVM PV), creates the volume group `server-vg` with `swap_1` and `root`,
//! makes the filesystems, copies the tree, writes fstab and installs GRUB
//! for BIOS, using the server's own tools (chroot), and powers off through
//! rescue-init's teardown. The host cannot do this itself: it has no
//! device-mapper and no partition nodes for its loop devices.

use super::server::Root;
use crate::qemu::{BootOpts, ExitKind, Vm};
use crate::{ImageSpec, Initramfs};
use anyhow::{bail, Result};
use std::path::Path;
use std::time::Duration;

/// The volume group, as the Debian installer names it after the host.
pub const VG: &str = "server-vg";
/// How long the installation may take under TCG.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(1200);

/// The installer's `rescue.run`: vda is the blank server disk, vdb the
/// staged tree. `set -e`: any failure stops it, and rescue-init then
/// stays in the rescue system instead of powering off.
const INSTALL_SH: &str = r#"#!/bin/sh
set -eux
mkdir -p /src /copy /target
mount -t ext4 /dev/vdb /src
# A second view of the tree without the bind mounts below, to copy from.
mount --bind /src /copy
for d in dev proc sys; do mount --bind /$d /src/$d; done
mount -t tmpfs tmpfs /src/run
# No udev here: LVM creates its device nodes itself.
in_src() { chroot /src env DM_DISABLE_UDEV=1 LVM_SUPPRESS_FD_WARNINGS=1 "$@"; }
in_src parted -s /dev/vda mklabel msdos \
    mkpart primary ext4 1MiB 513MiB set 1 boot on \
    mkpart primary 513MiB 100% set 2 lvm on
in_src pvcreate -ff -y /dev/vda2
in_src vgcreate @VG@ /dev/vda2
in_src lvcreate -y -Wy -Zy -L 512M -n swap_1 @VG@
in_src lvcreate -y -Wy -Zy -l 100%FREE -n root @VG@
in_src mkfs.ext4 -q -L boot /dev/vda1
in_src mkfs.ext4 -q -L root /dev/mapper/@VGDM@-root
in_src mkswap /dev/mapper/@VGDM@-swap_1
mount -t ext4 /dev/mapper/@VGDM@-root /target
mkdir -p /target/boot
mount -t ext4 /dev/vda1 /target/boot
cp -a /copy/. /target/
boot_uuid=$(in_src blkid -s UUID -o value /dev/vda1)
cat > /target/etc/fstab <<EOT
# <file system> <mount point> <type> <options> <dump> <pass>
/dev/mapper/@VGDM@-root / ext4 errors=remount-ro 0 1
UUID=$boot_uuid /boot ext4 defaults 0 2
/dev/mapper/@VGDM@-swap_1 none swap sw 0 0
LABEL=@BACKUP@ /backup ext4 defaults,nofail 0 2
EOT
for d in dev proc sys; do mount --bind /$d /target/$d; done
mount -t tmpfs tmpfs /target/run
chroot /target env DM_DISABLE_UDEV=1 grub-install --target=i386-pc /dev/vda
chroot /target env DM_DISABLE_UDEV=1 update-grub
echo E2E-INSTALLED
"#;

/// `vg` as device-mapper spells it in /dev/mapper (`-` doubled).
pub fn dm_name(vg: &str) -> String {
    vg.replace('-', "--")
}

/// The installer image: rescue-init, busybox, the script and the drivers
/// for virtio disks, ext4 and device-mapper, from the server's own kernel.
fn installer_image(root: &Root, work: &Path) -> Result<Initramfs> {
    let script = work.join("install.sh");
    let text = INSTALL_SH
        .replace("@VGDM@", &dm_name(VG))
        .replace("@VG@", VG)
        .replace("@BACKUP@", super::server::BACKUP_LABEL);
    crate::target::write_exec(&script, &text)?;
    let mut spec = ImageSpec::new("e2e-installer").file(&script, "/install.sh");
    for m in [
        "virtio_pci",
        "virtio_blk",
        "ext4",
        "dm_mod",
        "crc32c_generic",
    ] {
        spec = spec.arg("--module").arg(m);
    }
    spec = spec.arg("--kver").arg(&root.release);
    spec = spec
        .arg("--modules-dir")
        .arg(root.modules().display().to_string());
    spec = spec
        .arg("--kernel-config")
        .arg(root.kernel_config().display().to_string());
    spec.build()
}

/// Installs the staged tree onto `disk` (a blank raw image).
pub fn install(root: &Root, staging: &Path, disk: &Path, log_dir: &Path) -> Result<()> {
    let image = installer_image(root, log_dir)?;
    let mut opts = BootOpts::new(root.vmlinuz(), &image.path);
    opts.cmdline_extra = "rescue.run=/install.sh rescue.after=poweroff".into();
    opts.mem_mb = 2048;
    opts.cpus = 2;
    opts.disks = vec![disk.to_path_buf(), staging.to_path_buf()];
    opts.name = Some("install".into());
    opts.log_dir = Some(log_dir.to_path_buf());
    let mut vm = Vm::boot(opts)?;
    vm.wait_for("E2E-INSTALLED", INSTALL_TIMEOUT)?;
    let exit = vm.wait_exit(Duration::from_secs(120))?;
    if exit != ExitKind::PowerOff {
        bail!(
            "{}",
            vm.failure(&format!(
                "the installer ended with {exit:?}, not a power-off"
            ))
        );
    }
    Ok(())
}

//! The kexec target both the VM tests and `make bench-handoff` boot into:
//! a target disk (ext4, made on the host with `mke2fs -d`) holding the test
//! kernel and a small target initrd. The target initrd mounts the disk
//! `ro,noload` (no journal replay, so an unclean teardown cannot be
//! hidden), checks the data and prints markers.

use crate::{image, Initramfs, Kernel};
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Modules (in load order) for a virtio disk with ext4 on Debian's kernel.
pub const MODULES: &[&str] = &[
    "drivers/virtio/virtio_ring",
    "drivers/virtio/virtio",
    "drivers/virtio/virtio_pci_modern_dev",
    "drivers/virtio/virtio_pci_legacy_dev",
    "drivers/virtio/virtio_pci",
    "drivers/block/virtio_blk",
    "crypto/crc32c_generic",
    "lib/crc16",
    "fs/mbcache",
    "fs/jbd2/jbd2",
    "fs/ext4/ext4",
];

/// `fs/ext4/ext4` -> `ext4`.
pub fn module_name(m: &str) -> &str {
    m.rsplit('/').next().unwrap_or(m)
}

/// Shell lines that load MODULES and wait for /dev/vda.
pub fn load_modules_sh() -> String {
    let names: Vec<&str> = MODULES.iter().map(|m| module_name(m)).collect();
    format!(
        "for m in {}; do insmod /lib/modules/test/$m.ko || echo \"insmod $m failed\"; done\n\
         i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n",
        names.join(" ")
    )
}

/// MODULES as (file in the test kernel, path in an image) pairs, the image
/// path being where `load_modules_sh` looks.
pub fn module_files(kernel: &Kernel) -> Result<Vec<(PathBuf, String)>> {
    module_files_of(kernel, MODULES)
}

/// The same for any list of module paths (relative to the kernel's
/// `kernel/` directory, without `.ko`).
pub fn module_files_of<'a>(
    kernel: &Kernel,
    modules: impl IntoIterator<Item = &'a &'a str>,
) -> Result<Vec<(PathBuf, String)>> {
    let dir = kernel
        .modules
        .as_ref()
        .context("the test kernel has no modules directory")?;
    // Built into this kernel (arm64 has virtio and virtio_ring built in):
    // nothing to load, and the `insmod` of it just says so.
    let builtin = std::fs::read_to_string(dir.join("modules.builtin")).unwrap_or_default();
    modules
        .into_iter()
        .filter(|m| !builtin.lines().any(|l| l == format!("kernel/{m}.ko")))
        .map(|m| {
            let src = dir.join("kernel").join(format!("{m}.ko"));
            if !src.is_file() {
                bail!("{} is missing", src.display());
            }
            Ok((src, format!("/lib/modules/test/{}.ko", module_name(m))))
        })
        .collect()
}

pub fn write_exec(path: &Path, body: &str) -> Result<()> {
    std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

const TARGET_INIT: &str = r#"#!/bin/sh
mkdir -p /proc /sys /dev
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "TARGET-KERNEL-UP cmdline=[$(cat /proc/cmdline)]"
@MODULES@
mkdir -p /mnt
if mount -t ext4 -o ro,noload /dev/vda /mnt; then
    if (cd /mnt && md5sum -c data.md5 >/dev/null); then echo TARGET-DATA-OK; else echo TARGET-DATA-BAD; fi
    if [ -s /mnt/var/log/rescue-init-kexec.log ]; then echo TARGET-RECORD-FOUND; fi
    umount /mnt
else
    echo TARGET-MOUNT-FAILED
fi
echo TARGET-DONE
poweroff -f
"#;

/// The target initrd (target/test-images/NAME): busybox, the modules, and
/// TARGET_INIT as /init.
pub fn target_initrd(kernel: &Kernel, name: &str) -> Result<Initramfs> {
    target_initrd_with(kernel, name, TARGET_INIT)
}

/// The same with `init` as /init; `@MODULES@` in it becomes the lines that
/// load MODULES and wait for /dev/vda.
pub fn target_initrd_with(kernel: &Kernel, name: &str, init: &str) -> Result<Initramfs> {
    let dir = image::fresh_dir(name)?;
    let tree = dir.join("tree");
    image::busybox_tree(&tree, &[])?;
    std::fs::create_dir_all(tree.join("lib/modules/test"))?;
    for (src, dst) in module_files(kernel)? {
        std::fs::copy(&src, tree.join(dst.trim_start_matches('/')))?;
    }
    write_exec(
        &tree.join("init"),
        &init.replace("@MODULES@", &load_modules_sh()),
    )?;
    image::pack(&tree, name)
}

/// How the recovered system's /boot looks. The kernel and initrd are
/// always /boot/vmlinuz-test and /boot/initrd-test.img; the layouts add
/// what auto-detection reads when the handoff names no kernel.
pub enum Layout {
    /// Nothing else: the handoff file names them.
    Named,
    /// Debian's /vmlinuz and /initrd.img links (relative, as Debian makes them).
    DebianLinks,
    /// A Boot Loader Specification entry with its own options.
    Bls,
    /// A GRUB config whose default entry (by title) is the test kernel.
    Grub,
}

const BLS_ENTRY: &str =
    "title Recovered system\nversion 6.1-test\nlinux /vmlinuz-test\ninitrd /initrd-test.img\n\
                         options console=ttyS0 panic=-1 target.marker=bls\n";

const GRUB_CFG: &str = "set default=\"Recovered system\"\nset timeout=5\n\
menuentry 'Old system' --class debian {\n\tlinux /boot/vmlinuz-old root=/dev/sda1 ro\n\tinitrd /boot/initrd-old.img\n}\n\
menuentry 'Recovered system' --class debian {\n\tload_video\n\tinsmod ext2\n\
\tlinux /boot/vmlinuz-test console=ttyS0 panic=-1 target.marker=grub\n\tinitrd /boot/initrd-test.img\n}\n";

fn write_layout(root: &Path, layout: Layout) -> Result<()> {
    // The entries name x86's serial console; arm64's is ttyAMA0.
    let console = |text: &str| text.replace("ttyS0", crate::Arch::current().console());
    match layout {
        Layout::Named => {}
        Layout::DebianLinks => {
            std::os::unix::fs::symlink("boot/vmlinuz-test", root.join("vmlinuz"))?;
            std::os::unix::fs::symlink("boot/initrd-test.img", root.join("initrd.img"))?;
        }
        Layout::Bls => {
            std::fs::create_dir_all(root.join("boot/loader/entries"))?;
            std::fs::write(
                root.join("boot/loader/entries/recovered.conf"),
                console(BLS_ENTRY),
            )?;
        }
        Layout::Grub => {
            std::fs::create_dir_all(root.join("boot/grub"))?;
            std::fs::write(root.join("boot/grub/grub.cfg"), console(GRUB_CFG))?;
        }
    }
    Ok(())
}

/// A fresh 256 MiB ext4 disk image (in target/test-images/NAME) holding
/// the target system.
pub fn target_disk(
    kernel: &Kernel,
    initrd: &Initramfs,
    layout: Layout,
    name: &str,
) -> Result<PathBuf> {
    let dir = image::fresh_dir(name)?;
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("boot"))?;
    std::fs::create_dir_all(root.join("var/log"))?;
    std::fs::copy(&kernel.vmlinuz, root.join("boot/vmlinuz-test"))?;
    std::fs::copy(&initrd.path, root.join("boot/initrd-test.img"))?;
    write_layout(&root, layout)?;
    let disk = dir.join("disk.img");
    mke2fs(&root, &disk, "target", "256M")?;
    Ok(disk)
}

/// An ext4 disk image of `size` holding the tree `root` (`mke2fs -d`).
pub fn mke2fs(root: &Path, img: &Path, label: &str, size: &str) -> Result<()> {
    let out = Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-L", label, "-d"])
        .arg(root)
        .arg(img)
        .arg(size)
        .output()
        .context("running mke2fs (apt-get install e2fsprogs)")?;
    if !out.status.success() {
        bail!(
            "mke2fs failed for {}: {}",
            img.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

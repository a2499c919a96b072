//! Fixtures for the kexec handoff scenarios: the target disk and initrd
//! (rescue_tests::target, shared with `make bench-handoff`) and a recovery
//! script for the rescue image that mounts the disk, writes data and the
//! handoff file.

use anyhow::Result;
use rescue_tests::target;
pub use rescue_tests::target::{load_modules_sh, mke2fs, write_exec, Layout, MODULES};
use rescue_tests::{image, ImageSpec, Initramfs, Kernel};
use std::path::{Path, PathBuf};

/// The target system's initrd (see rescue_tests::target).
pub fn target_initrd(kernel: &Kernel) -> Result<Initramfs> {
    target::target_initrd(kernel, "handoff-target")
}

/// The target disk with `layout` (see rescue_tests::target).
pub fn target_disk(kernel: &Kernel, initrd: &Initramfs, layout: Layout) -> Result<PathBuf> {
    target::target_disk(kernel, initrd, layout, "handoff-disk")
}

fn add_modules(mut spec: ImageSpec, kernel: &Kernel) -> Result<ImageSpec> {
    for (src, dst) in target::module_files(kernel)? {
        spec = spec.file(src, &dst);
    }
    Ok(spec)
}

/// The rescue image: rescue-init, busybox, the modules and `/recover`,
/// which mounts the disk at /mnt/local, writes data and the handoff file.
/// `extra` is appended to the script (e.g. a stubborn writer).
pub fn rescue_image(kernel: &Kernel, handoff: &str, extra: &str) -> Result<Initramfs> {
    let dir = image::fresh_dir("handoff-rescue-src")?;
    let script = dir.join("recover");
    let body = format!(
        "#!/bin/sh\nset -e\n{}mkdir -p /mnt/local\nmount -t ext4 /dev/vda /mnt/local\n\
         dd if=/dev/urandom of=/mnt/local/data.bin bs=1M count=8 2>/dev/null\n\
         (cd /mnt/local && md5sum data.bin > data.md5)\n\
         mkdir -p /run/rescue-init\ncat > /run/rescue-init/handoff <<'EOF'\n{handoff}EOF\n{extra}\necho RECOVERY-DONE\n",
        load_modules_sh()
    );
    write_exec(&script, &body)?;
    let spec = add_modules(ImageSpec::new("handoff-rescue"), kernel)?.file(script, "/recover");
    spec.build()
}

/// `e2fsck -fn` finds the disk clean and the journal needs no recovery.
pub fn assert_disk_clean(disk: &Path) -> Result<()> {
    rescue_tests::fsck::assert_ext4_clean(disk)
}

/// `rescue-init handoff check --load` at the prompt: it must exit 0.
pub fn check_load(g: &mut super::common::Guest) -> Result<()> {
    let caps = g.sh(
        "/init handoff check --load; echo CHECK-RC=$?",
        r"CHECK-RC=(\d+)\r?\n",
        super::common::BOOT,
    )?;
    anyhow::ensure!(
        caps[1] == "0",
        "handoff check --load failed:\n{}",
        g.console_since_cursor()
    );
    Ok(())
}

/// A 32 MiB ext4 disk labelled `name` holding a file `marker` that says
/// `marker`, in a fresh `<dir>-<name>` directory.
pub fn marked_disk(dir: &str, name: &str, marker: &str) -> Result<PathBuf> {
    let dir = image::fresh_dir(&format!("{dir}-{name}"))?;
    let root = dir.join("root");
    std::fs::create_dir_all(&root)?;
    std::fs::write(root.join("marker"), marker)?;
    let img = dir.join("disk.img");
    mke2fs(&root, &img, name, "32M")?;
    Ok(img)
}

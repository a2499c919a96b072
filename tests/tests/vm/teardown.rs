//! Proves step 5 of the teardown (init/src/teardown) on a real kernel: a
//! recovery command (`rescue.run=/recover`) leaves filesystems, swap and a
//! loop device set up the way a rescue session does, `rescue.after=handoff`
//! then tears everything down and kexecs into the target, which mounts the
//! root disk `ro,noload` and verifies the data. Afterwards `e2fsck -fn` on
//! the host finds every disk (and the loop image inside the root disk)
//! clean, with no journal in need of recovery.
//!
//! Fixtures come from `vm/handoff.rs` (target initrd and root disk); the
//! rescue image is built here because it also needs the loop module.

use super::common::{self, Guest, BOOT, STEP};
use super::handoff_fixtures as fx;
use anyhow::{bail, Context, Result};
use rescue_tests::{image, ExitKind, ImageSpec, Initramfs, Kernel};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Modules on top of `fx::MODULES`.
const EXTRA_MODULES: &[&str] = &["drivers/block/loop"];

pub(crate) fn handoff(marker: &str) -> String {
    format!(
        "ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n\
         CMDLINE='console=ttyS0 panic=-1 target.marker={marker}'\n"
    )
}

/// The rescue image: rescue-init, busybox, the modules, `files`, and
/// `/recover`: load the modules, wait for the disk, run `body`, write the
/// handoff file.
fn rescue_image(
    kernel: &Kernel,
    name: &str,
    body: &str,
    marker: &str,
    files: &[(PathBuf, &str)],
) -> Result<Initramfs> {
    let dir = image::fresh_dir(&format!("{name}-src"))?;
    let mut spec = ImageSpec::new(name);
    for (src, dst) in
        rescue_tests::target::module_files_of(kernel, fx::MODULES.iter().chain(EXTRA_MODULES))?
    {
        spec = spec.file(src, &dst);
    }
    let names: Vec<&str> = fx::MODULES
        .iter()
        .chain(EXTRA_MODULES)
        .map(|m| rescue_tests::target::module_name(m))
        .collect();
    for (src, dst) in files {
        spec = spec.file(src, dst);
    }
    let script = dir.join("recover");
    let text = format!(
        "#!/bin/sh\nset -e\n\
         for m in {}; do insmod /lib/modules/test/$m.ko || echo \"insmod $m failed\"; done\n\
         i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
         {body}\n\
         mkdir -p /run/rescue-init\ncat > /run/rescue-init/handoff <<'EOF'\n{}EOF\n\
         echo RECOVERY-DONE\n",
        names.join(" "),
        handoff(marker)
    );
    std::fs::write(&script, text)?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    spec.file(script, "/recover").build()
}

/// An ext4 image of `size` labelled `label`, made on the host, holding
/// `files` (host path, name in the image's root).
fn ext4_image(name: &str, label: &str, size: &str, files: &[(&Path, &str)]) -> Result<PathBuf> {
    let dir = image::fresh_dir(name)?;
    let root = dir.join("root");
    std::fs::create_dir_all(&root)?;
    for (src, dst) in files {
        std::fs::copy(src, root.join(dst)).with_context(|| format!("copying {}", src.display()))?;
    }
    let img = dir.join("disk.img");
    fx::mke2fs(&root, &img, label, size)?;
    Ok(img)
}

/// A disk for the target's /boot holding its kernel and initrd: mounted
/// at /mnt/local/boot, it is where the handoff reads the kernel from.
fn boot_disk(kernel: &Kernel, target: &Initramfs) -> Result<PathBuf> {
    ext4_image(
        "teardown-boot",
        "boot",
        "64M",
        &[
            (&kernel.vmlinuz, "vmlinuz-test"),
            (&target.path, "initrd-test.img"),
        ],
    )
}

/// Boots `image` with `disks` and lets /recover run, then the handoff.
fn start(image: Initramfs, disks: Vec<PathBuf>) -> Result<Guest> {
    common::boot_with_disks(image, "rescue.run=/recover rescue.after=handoff", disks)
}

/// Waits for the teardown's last pass line (`left: <left>`) and the
/// shutdown's summary (`<busy> left busy`), then checks that every regex
/// of `logged` is on the console.
pub(crate) fn torn_down(g: &mut Guest, left: &str, busy: usize, logged: &[&str]) -> Result<()> {
    g.wait_for("RECOVERY-DONE", BOOT)?;
    g.wait_for_re(r"handoff: kernel loaded", STEP)?;
    g.wait_for_re(
        &format!(r"teardown: pass \d+ \(\d+ ms\): [^\r\n]*; left: {left}\r?\n"),
        BOOT,
    )?;
    g.wait_for_re(&format!(r"filesystems done, {busy} left busy"), STEP)?;
    let console = g.console();
    for re in logged {
        if !regex::Regex::new(re)?.is_match(&console) {
            return Err(g.failure(&format!("the teardown did not log /{re}/")));
        }
    }
    Ok(())
}

/// The target came up with its data intact and powered off.
pub(crate) fn landed(g: &mut Guest, marker: &str) -> Result<()> {
    g.wait_for_re("shutdown: kexec now", STEP)?;
    g.wait_for_re(
        &format!(r"TARGET-KERNEL-UP cmdline=\[[^\]]*target.marker={marker}"),
        BOOT,
    )?;
    g.wait_for_re("TARGET-DATA-OK", STEP)?;
    g.wait_for_re("TARGET-RECORD-FOUND", STEP)?;
    g.wait_for_re("TARGET-DONE", STEP)?;
    g.expect_exit(ExitKind::PowerOff)
}

/// Writes the data the target checks (`data.md5` over `data.bin`).
const DATA: &str = "mkdir -p /mnt/local\nmount -t ext4 /dev/vda /mnt/local\n\
                    dd if=/dev/urandom of=/mnt/local/data.bin bs=1M count=4 2>/dev/null\n\
                    (cd /mnt/local && md5sum data.bin > data.md5)";

/// A chroot-style session: /boot from a second disk mounted inside the
/// root, /var bind-mounted elsewhere and written through, and /proc and a
/// bind of /dev inside the root (API filesystems that must go too, or the
/// root stays busy). Both disks come out clean.
#[test]
fn nested_bind_and_chroot_mounts_are_released() -> Result<()> {
    let kernel = Kernel::get()?;
    let target = fx::target_initrd(&kernel)?;
    let root = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    // The target's /boot lives on its own disk, as it often does: the
    // handoff reads the kernel from it.
    let boot = boot_disk(&kernel, &target)?;
    let body = format!(
        "{DATA}\n\
         mount -t ext4 /dev/vdb /mnt/local/boot\n\
         echo written-on-boot > /mnt/local/boot/written.txt\n\
         mkdir -p /srv/var && mount --bind /mnt/local/var /srv/var\n\
         echo through-the-bind > /srv/var/log/bind.log\n\
         mkdir -p /mnt/local/proc /mnt/local/dev\n\
         mount -t proc proc /mnt/local/proc && mount --bind /dev /mnt/local/dev\n\
         cat /proc/self/mountinfo"
    );
    let image = rescue_image(&kernel, "teardown-nested", &body, "nested", &[])?;
    let mut g = start(image, vec![root.clone(), boot.clone()])?;
    torn_down(
        &mut g,
        "nothing",
        0,
        &[
            r"unmounted /mnt/local/dev \(devtmpfs ",
            r"unmounted /mnt/local/proc \(proc ",
            r"unmounted /srv/var \(ext4 /dev/vda\)",
            r"unmounted /mnt/local/boot \(ext4 /dev/vdb\)",
            r"unmounted /mnt/local \(ext4 /dev/vda\)",
        ],
    )?;
    landed(&mut g, "nested")?;
    fx::assert_disk_clean(&root).context("the root disk")?;
    fx::assert_disk_clean(&boot).context("the boot disk")
}

/// A swap file and a loop-mounted image file, both on the target's root
/// filesystem: the swap is turned off, the loop filesystem unmounted and
/// the loop device detached before the root can go. The root disk and the
/// image inside it come out clean.
#[test]
fn swap_file_and_loop_image_on_the_root_are_released() -> Result<()> {
    let kernel = Kernel::get()?;
    let target = fx::target_initrd(&kernel)?;
    let root = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let dir = image::fresh_dir("teardown-loop-content")?;
    let note = dir.join("note.txt");
    std::fs::write(&note, "inside the loop image\n")?;
    let img = ext4_image("teardown-loop-img", "loopimg", "8M", &[(&note, "note.txt")])?;
    let body = format!(
        "{DATA}\n\
         dd if=/dev/zero of=/mnt/local/swapfile bs=1M count=16 2>/dev/null\n\
         chmod 600 /mnt/local/swapfile && mkswap /mnt/local/swapfile >/dev/null && swapon /mnt/local/swapfile\n\
         cp /img.ext4 /mnt/local/img.ext4\n\
         i=0; while [ ! -b /dev/loop0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
         losetup /dev/loop0 /mnt/local/img.ext4\n\
         mkdir -p /mnt/img && mount -t ext4 /dev/loop0 /mnt/img\n\
         echo written-inside > /mnt/img/written.txt\n\
         cat /proc/swaps; losetup -a"
    );
    let image = rescue_image(
        &kernel,
        "teardown-swap-loop",
        &body,
        "swaploop",
        &[(img, "/img.ext4")],
    )?;
    let mut g = start(image, vec![root.clone()])?;
    torn_down(
        &mut g,
        "nothing",
        0,
        &[
            r"teardown: swap /mnt/local/swapfile \(file\) off",
            r"unmounted /mnt/img \(ext4 /dev/loop0\)",
            r"teardown: loop0 \(/mnt/local/img\.ext4\) detached",
            r"unmounted /mnt/local \(ext4 /dev/vda\)",
        ],
    )?;
    landed(&mut g, "swaploop")?;
    fx::assert_disk_clean(&root).context("the root disk")?;
    let inner = image::fresh_dir("teardown-loop-check")?.join("img.ext4");
    let dump = Command::new("debugfs")
        .arg("-R")
        .arg(format!("dump /img.ext4 {}", inner.display()))
        .arg(&root)
        .output()
        .context("running debugfs")?;
    if !inner.is_file() {
        bail!(
            "debugfs could not extract /img.ext4: {}",
            String::from_utf8_lossy(&dump.stderr)
        );
    }
    fx::assert_disk_clean(&inner).context("the loop image inside the root disk")
}

/// A process that survives SIGKILL (frozen by the cgroup v1 freezer) keeps
/// its cwd in /mnt/local/boot and a file open read-only on /mnt/local. The
/// louder pass names it with both; /mnt/local/boot is remounted read-only
/// and detached lazily, /mnt/local is remounted read-only and left
/// mounted; the kexec goes on, and both disks are clean.
#[test]
fn unkillable_holder_is_named_and_its_filesystems_end_read_only() -> Result<()> {
    let kernel = Kernel::get()?;
    let target = fx::target_initrd(&kernel)?;
    let root = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let boot = boot_disk(&kernel, &target)?;
    let body = format!(
        "{DATA}\n\
         mount -t ext4 /dev/vdb /mnt/local/boot\n\
         mkdir -p /run/fz && mount -t cgroup -o freezer freezer /run/fz && mkdir /run/fz/stuck\n\
         setsid sh -c 'echo $$ > /run/stuck.pid; cd /mnt/local/boot; exec sleep 100000 3</mnt/local/data.md5' &\n\
         i=0; while [ \"$(cat /proc/$(cat /run/stuck.pid 2>/dev/null)/comm 2>/dev/null)\" != sleep ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n\
         cat /run/stuck.pid > /run/fz/stuck/tasks && echo FROZEN > /run/fz/stuck/freezer.state\n\
         echo STUCK-PID=$(cat /run/stuck.pid) $(cat /run/fz/stuck/freezer.state)"
    );
    let image = rescue_image(&kernel, "teardown-stuck", &body, "stuck", &[])?;
    let mut g = common::boot_with_disks(
        image,
        "rescue.run=/recover rescue.after=handoff rescue.stop-timeout=1",
        vec![root.clone(), boot.clone()],
    )?;
    torn_down(
        &mut g,
        r"1 mount \(0 read-write\)",
        2,
        &[
            r"STUCK-PID=\d+ FROZEN",
            r"teardown: still busy: /mnt/local, /mnt/local/boot\r?\n",
            r"teardown: pid \d+ \(sleep\) holds /mnt/local: fd 3 /mnt/local/data\.md5\r?\n",
            r"teardown: pid \d+ \(sleep\) holds /mnt/local/boot: cwd /mnt/local/boot\r?\n",
            r"/mnt/local/boot busy; remounted read-only",
            r"/mnt/local busy; remounted read-only",
            r"teardown: /mnt/local/boot \(ext4 /dev/vdb\) busy and read-only: detached lazily",
            r"shutdown: /mnt/local \(ext4 /dev/vda\) is still mounted \(read-only, its data is safe\)",
            r"shutdown: /mnt/local/boot \(ext4 /dev/vdb\) was detached lazily while busy",
        ],
    )?;
    landed(&mut g, "stuck")?;
    fx::assert_disk_clean(&root).context("the root disk")?;
    fx::assert_disk_clean(&boot).context("the boot disk")
}

/// A mount that hides a data mount (a tmpfs mounted on /srv after a data
/// disk was mounted on /srv/data) is released first, whatever its type:
/// until it goes, every unmount or remount through /srv/data's path
/// reaches the tmpfs instead. The kexec goes on and both disks are clean.
#[test]
fn a_mount_hiding_a_data_mount_is_released_first() -> Result<()> {
    let kernel = Kernel::get()?;
    let target = fx::target_initrd(&kernel)?;
    let root = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let data = ext4_image("teardown-hidden-data", "data", "32M", &[])?;
    let body = format!(
        "{DATA}\n\
         mkdir -p /srv/data && mount -t ext4 /dev/vdb /srv/data\n\
         dd if=/dev/urandom of=/srv/data/hidden.bin bs=1M count=2 2>/dev/null\n\
         mount -t tmpfs tmpfs /srv\n\
         cat /proc/self/mountinfo"
    );
    let image = rescue_image(&kernel, "teardown-overmount", &body, "overmount", &[])?;
    let mut g = start(image, vec![root.clone(), data.clone()])?;
    torn_down(
        &mut g,
        "nothing",
        0,
        &[
            r"unmounted /srv \(tmpfs tmpfs\)",
            r"unmounted /srv/data \(ext4 /dev/vdb\)",
        ],
    )?;
    landed(&mut g, "overmount")?;
    fx::assert_disk_clean(&root).context("the root disk")?;
    fx::assert_disk_clean(&data).context("the hidden data disk")
}

/// The recovered root itself hidden (a tmpfs on /mnt after it was mounted
/// on /mnt/local): the handoff cannot find the kernel and falls back to a
/// reboot, and the teardown still releases the tmpfs first and then the
/// root, which comes out clean (it stayed mounted read-write before).
#[test]
fn a_hidden_root_falls_back_and_is_still_unmounted() -> Result<()> {
    let kernel = Kernel::get()?;
    let target = fx::target_initrd(&kernel)?;
    let root = fx::target_disk(&kernel, &target, fx::Layout::Named)?;
    let body = format!("{DATA}\nmount -t tmpfs tmpfs /mnt");
    let image = rescue_image(&kernel, "teardown-hidden-root", &body, "hidden", &[])?;
    let mut g = start(image, vec![root.clone()])?;
    g.wait_for("RECOVERY-DONE", BOOT)?;
    g.wait_for_re(r"handoff: [^\r\n]*FALLBACK=reboot", STEP)?;
    g.wait_for_re(r"unmounted /mnt \(tmpfs tmpfs\)", BOOT)?;
    g.wait_for_re(r"unmounted /mnt/local \(ext4 /dev/vda\)", STEP)?;
    g.wait_for_re(r"filesystems done, 0 left busy", STEP)?;
    g.expect_exit(ExitKind::Reboot)?;
    fx::assert_disk_clean(&root).context("the hidden root disk")
}

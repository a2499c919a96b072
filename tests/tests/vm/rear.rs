//! The real thing: Debian's `rear` runs `rear mkrescue` with the kit from
//! contrib/rear installed (tests/src/rear.rs makes the throwaway
//! configuration and the sandbox that keeps the host's ReaR as it was).
//! Skipped, saying why, when `rear` is not installed (a failure under CI).

use super::common::{Guest, BOOT, STEP};
use super::handoff_fixtures as fx;
use anyhow::{ensure, Context, Result};
use rescue_tests::rear::{self, Flavour};
use rescue_tests::{paths, BootOpts, ExitKind, Kernel};
use std::process::Command;

const READY: &str = "Relax-and-Recover rescue system is ready";

fn skip() -> bool {
    rescue_tests::skip_if(rear::unavailable())
}

fn mkimage(args: &[&str]) -> Result<String> {
    let out = Command::new(paths::mkimage()?).args(args).output()?;
    ensure!(
        out.status.success(),
        "mkimage {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The kit's initrd is mkimage's (zstd, rescue-init as /init, the applets
/// in place) and packing ReaR's tree again gives the same bytes.
fn check_kit_initrd(r: &rear::Rescue) -> Result<()> {
    ensure!(
        r.log
            .contains("with mkimage (--compress zstd --level 9 --dedup)"),
        "ReaR's log does not show mkimage packing:\n{}",
        r.log
    );
    let bytes = std::fs::read(&r.initrd)?;
    ensure!(
        bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
        "the kit's initrd is not zstd"
    );
    let list = mkimage(&["list", &r.initrd.display().to_string()])?;
    for want in [
        "init -> bin/rescue-init",
        "bin/reboot -> rescue-init",
        "bin/shutdown -> rescue-init",
        "etc/scripts/system-setup",
    ] {
        ensure!(
            list.lines().any(|l| l.contains(want)),
            "`mkimage list` of ReaR's initrd lacks {want:?}"
        );
    }
    let again = r.initrd.with_extension("again");
    let rootfs = r.rootfs.display().to_string();
    mkimage(&[
        "pack",
        &rootfs,
        "-o",
        &again.display().to_string(),
        "--keep-owners",
        "--compress",
        "zstd",
        "--level",
        "9",
        "--dedup",
        "--quiet",
    ])?;
    ensure!(
        std::fs::read(&again)? == bytes,
        "packing ReaR's tree again gave other bytes than ReaR's initrd"
    );
    Ok(())
}

/// With the kit installed but disabled, ReaR packs and boots as it always
/// did: its own find|cpio|gzip and its own init.
#[test]
fn disabled_kit_leaves_rear_mkrescue_as_it_was() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let r = rear::mkrescue(&Kernel::get()?, Flavour::Stock)?;
    ensure!(
        r.log.contains("with gzip default compression"),
        "stock ReaR did not pack with gzip:\n{}",
        r.log
    );
    ensure!(
        std::fs::read(&r.initrd)?.starts_with(&[0x1f, 0x8b]),
        "stock initrd is not gzip"
    );
    let list = mkimage(&["list", &r.initrd.display().to_string()])?;
    ensure!(
        list.lines().any(|l| l.contains("init -> bin/init")),
        "stock initrd's /init is not ReaR's"
    );
    ensure!(
        !list.lines().any(|l| l.contains("bin/rescue-init")),
        "stock initrd contains the rescue-init binary"
    );
    Ok(())
}

/// `rear mkrescue` with the kit: the initrd boots with rescue-init as PID
/// 1 through ReaR's setup to its prompt; a simulated end of `rear recover`
/// (the recovered disk at /mnt/local, the kit's finalize script) and a
/// plain `reboot` land in the recovered system's kernel, disk clean.
#[test]
fn kit_initrd_boots_rear_and_reboot_kexecs_into_the_recovered_system() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let kernel = Kernel::get()?;
    let r = rear::mkrescue(&kernel, Flavour::Kit)?;
    check_kit_initrd(&r)?;
    let target = fx::target_initrd(&kernel)?;
    let disk = fx::target_disk(&kernel, &target, fx::Layout::Grub)?;
    let mut opts = BootOpts::new(&r.kernel, &r.initrd);
    opts.mem_mb = 1024;
    opts.disks = vec![disk.clone()];
    let mut g = Guest::start_with_opts(opts)?;
    g.wait_for_re(
        "rescue-init: ReaR rescue tree: booting it through its inittab",
        BOOT,
    )?;
    g.wait_for_re(READY, BOOT)?;
    g.prompt(BOOT)?;
    g.sh(
        "echo PID1=$(readlink /proc/1/exe)",
        "PID1=/bin/rescue-init",
        STEP,
    )?;
    // ReaR packs its mkrescue log into /tmp: no tmpfs may hide it.
    g.sh(
        "ls /tmp/rear-*partial*.log >/dev/null && echo TMP-KEPT",
        "TMP-KEPT",
        STEP,
    )?;
    let recover = "mkdir -p /mnt/local && mount /dev/vda /mnt/local && \
                   dd if=/dev/urandom of=/mnt/local/data.bin bs=1M count=4 2>/dev/null && \
                   (cd /mnt/local && md5sum data.bin > data.md5) && echo RECOVERED";
    g.sh(recover, "RECOVERED", STEP)?;
    // ReaR's tree has no base64 to send them over the console: onto the
    // disk, read on the host after the run.
    g.sh("rescue-init analyze json > /mnt/local/timeline.json && rescue-init analyze plot > /mnt/local/timeline.svg && echo TIMELINE-SAVED", "TIMELINE-SAVED", STEP)?;
    let finalize =
        "bash -c 'source /usr/share/rear/lib/global-functions.sh; LogPrint() { echo \"$*\"; }; \
                    LogPrintError() { echo \"$*\"; }; TARGET_FS_ROOT=/mnt/local; \
                    source /usr/share/rear/finalize/default/990_rescue_init_handoff.sh'";
    g.sh(
        finalize,
        "'reboot' will kexec into the recovered system",
        STEP,
    )?;
    g.send_line("reboot")?;
    g.wait_for_re(r"TARGET-KERNEL-UP cmdline=\[[^\]]*target.marker=grub", BOOT)?;
    g.wait_for_re("TARGET-DATA-OK", STEP)?;
    g.wait_for_re("TARGET-RECORD-FOUND", STEP)?;
    g.wait_for_re("TARGET-DONE", STEP)?;
    g.expect_exit(ExitKind::PowerOff)?;
    fx::assert_disk_clean(&disk).context("the recovered disk after the kexec")?;
    check_rear_timeline(&disk)?;
    check_handoff_timeline(&disk)
}

/// A file of the ext4 image `disk`, read on the host.
fn disk_file(disk: &std::path::Path, path: &str) -> Result<Vec<u8>> {
    let out = Command::new("debugfs")
        .args(["-R", &format!("cat {path}")])
        .arg(disk)
        .output()?;
    ensure!(
        out.status.success() && !out.stdout.is_empty(),
        "debugfs cat {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.stdout)
}

/// The ReaR boot's timeline: rescue-init's phases, ReaR's steps, and a
/// row for each of ReaR's setup scripts (the kit marks them). The chart is
/// kept as target/vm-logs/timeline-rear.svg (and .png).
fn check_rear_timeline(disk: &std::path::Path) -> Result<()> {
    use rescue_tests::timeline::{check_plot, render_png, rows};
    let rows = rows(&disk_file(disk, "/timeline.json")?)?;
    for (group, name) in [
        ("phase", "devices"),
        ("phase", "ReaR boot"),
        ("phase", "ReaR system-setup"),
        ("rear-setup", "00-functions.sh"),
        ("rear-setup", "40-start-udev-or-load-modules.sh"),
    ] {
        ensure!(
            rows.iter().any(|r| r.group == group && r.name == name),
            "no {group} row {name:?} in the ReaR boot's timeline: {rows:?}"
        );
    }
    let setup = rows
        .iter()
        .find(|r| r.name == "ReaR system-setup")
        .context("system-setup row")?;
    for r in rows.iter().filter(|r| r.group == "rear-setup") {
        ensure!(
            r.start_us >= setup.start_us && r.end_us <= setup.end_us && r.end_us > r.start_us,
            "{r:?} is not a span inside system-setup {setup:?}"
        );
    }
    let svg = disk_file(disk, "/timeline.svg")?;
    check_plot(&svg, &rows)?;
    let dir = paths::target_subdir("vm-logs")?;
    std::fs::write(dir.join("timeline-rear.svg"), &svg)?;
    render_png(
        &dir.join("timeline-rear.svg"),
        &dir.join("timeline-rear.png"),
    )?;
    Ok(())
}

/// The handoff record on the recovered disk carries the teardown's
/// timeline: read it on the host with the same binary.
fn check_handoff_timeline(disk: &std::path::Path) -> Result<()> {
    let record =
        rescue_tests::image::fresh_dir("rear-handoff-record")?.join("rescue-init-kexec.log");
    std::fs::write(&record, disk_file(disk, "/var/log/rescue-init-kexec.log")?)?;
    let out = Command::new(paths::rescue_init()?)
        .args(["analyze", "--handoff"])
        .arg(&record)
        .output()?;
    let blame = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "analyze --handoff: {}{blame}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The kit's finalize script loads the kernel before the reboot is
    // asked for, so the handoff only checks it is unchanged.
    for row in [
        "kernel preloaded: checked unchanged",
        "record",
        "stop processes",
        "sync",
        "release all but the recovered root",
    ] {
        ensure!(
            blame.lines().any(|l| l.ends_with(row)),
            "no {row:?} in the handoff's timeline:\n{blame}"
        );
    }
    Ok(())
}

/// The kit's pack script honours every REAR_INITRD_COMPRESSION value: run
/// with ReaR's own helper functions (lib/global-functions.sh) on a small
/// tree, it names the initrd as ReaR does and writes that format; without
/// mkimage it hands over to ReaR's own script.
#[test]
fn pack_script_honours_rear_initrd_compression() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let dir = rescue_tests::image::fresh_dir("rear-pack-script")?;
    // ReaR's scripts with the kit, in a copy: the host's tree stays as it is.
    let share = rear::sandbox::kit_share(&dir.join("share"))?;
    let share = share.display();
    let tree = dir.join("rootfs");
    std::fs::create_dir_all(tree.join("etc"))?;
    std::fs::write(tree.join("etc/marker"), "packed by the kit\n")?;
    let cases: [(&str, &str, &[u8]); 6] = [
        ("", "initrd.cgz", &[0x1f, 0x8b, 8]),
        ("fast", "initrd.cgz", &[0x1f, 0x8b, 8]),
        ("best", "initrd.cgz", &[0x1f, 0x8b, 8]),
        ("lz4", "initrd.lz4", &[0x02, 0x21, 0x4c, 0x18]),
        ("lzma", "initrd.xz", &[0xfd, b'7', b'z', b'X', b'Z', 0]),
        ("zstd", "initrd.zst", &[0x28, 0xb5, 0x2f, 0xfd]),
    ];
    for (value, name, magic) in cases {
        let tmp = dir.join(format!("tmp-{value}"));
        std::fs::create_dir_all(&tmp)?;
        let script = format!(
            "source {share}/lib/global-functions.sh; LogPrint() {{ echo \"$*\"; }}; Error() {{ echo \"ERROR: $*\"; exit 1; }}; \
             SHARE_DIR={share} ROOTFS_DIR='{}' TMP_DIR='{}' REAR_INITRD_COMPRESSION='{value}' RESCUE_INIT_MKIMAGE='{}'; \
             source {share}/pack/GNU/Linux/900_create_initramfs.sh; echo \"NAME=$REAR_INITRD_FILENAME\"",
            tree.display(),
            tmp.display(),
            paths::mkimage()?.display()
        );
        let out = Command::new("bash").arg("-c").arg(&script).output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        ensure!(
            out.status.success(),
            "REAR_INITRD_COMPRESSION={value:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ensure!(
            stdout.contains(&format!("NAME={name}")),
            "REAR_INITRD_COMPRESSION={value:?}: not named {name}: {stdout}"
        );
        let bytes = std::fs::read(tmp.join(name))?;
        ensure!(
            bytes.starts_with(magic),
            "REAR_INITRD_COMPRESSION={value:?}: {name} is not in the expected format"
        );
        let list = mkimage(&["list", &tmp.join(name).display().to_string()])?;
        ensure!(
            list.contains("etc/marker"),
            "REAR_INITRD_COMPRESSION={value:?}: {name} lacks the tree's file"
        );
    }
    // Without mkimage, ReaR's own script packs, as if the kit were absent.
    let tmp = dir.join("tmp-absent");
    std::fs::create_dir_all(&tmp)?;
    let script = format!(
        "source {share}/lib/global-functions.sh; LogPrint() {{ echo \"$*\"; }}; Error() {{ echo \"ERROR: $*\"; exit 1; }}; \
         SHARE_DIR={share} ROOTFS_DIR='{}' TMP_DIR='{}' REAR_INITRD_COMPRESSION= RESCUE_INIT_MKIMAGE=/nonexistent/mkimage; \
         source {share}/pack/GNU/Linux/900_create_initramfs.sh",
        tree.display(),
        tmp.display()
    );
    let out = Command::new("bash").arg("-c").arg(&script).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "without mkimage: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(
        stdout.contains("no mkimage found") && stdout.contains("with gzip default compression"),
        "without mkimage ReaR's own script did not pack: {stdout}"
    );
    ensure!(
        std::fs::read(tmp.join("initrd.cgz"))?.starts_with(&[0x1f, 0x8b]),
        "without mkimage: initrd.cgz is not gzip"
    );
    Ok(())
}

/// A ReaR-shaped tree (no real ReaR needed): the inittab's respawn daemon
/// (sshd in ReaR's tree) runs while system-setup still does, as ReaR's
/// systemd units run them, because an unattended `rear recover` runs
/// inside system-setup and a remote admin needs SSH meanwhile.
#[test]
fn daemons_run_alongside_system_setup() -> Result<()> {
    let dir = rescue_tests::image::fresh_dir("rear-shaped-src")?;
    let files = [
        ("boot", "#!/bin/sh\necho FAKE-REAR-BOOT\n"),
        (
            "system-setup",
            "#!/bin/sh\ni=0; while [ ! -e /run/daemon-up ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done\n\
             if [ -e /run/daemon-up ]; then echo DAEMON-RAN-DURING-SETUP; else echo DAEMON-NOT-RUNNING-DURING-SETUP; fi\n",
        ),
        ("run-daemon", "#!/bin/sh\ntouch /run/daemon-up\nexec sleep 100000\n"),
    ];
    let mut spec = rescue_tests::ImageSpec::new("rear-shaped");
    // busybox's login would be taken for ReaR's and ask for a password.
    spec.exclude.push("login".into());
    for (name, body) in files {
        let path = dir.join(name);
        rescue_tests::target::write_exec(&path, body)?;
        spec = spec.file(path, &format!("/etc/scripts/{name}"));
    }
    let inittab = dir.join("inittab");
    std::fs::write(&inittab, "id:3:initdefault:\nbo::bootwait:/etc/scripts/boot\nss::bootwait:/etc/scripts/system-setup\nsd:23:respawn:/etc/scripts/run-daemon\n")?;
    let mut g = Guest::start(spec.file(inittab, "/etc/inittab").build()?, "")?;
    g.wait_for("FAKE-REAR-BOOT", BOOT)?;
    let caps = g.wait_for_re(
        r"(DAEMON-RAN-DURING-SETUP|DAEMON-NOT-RUNNING-DURING-SETUP)",
        BOOT,
    )?;
    if caps[1] != "DAEMON-RAN-DURING-SETUP" {
        return Err(g.failure("the inittab's respawn daemon did not run while system-setup ran"));
    }
    g.prompt(BOOT)?;
    g.sh("echo DAEMON=[$(pidof sleep)]", r"DAEMON=\[\d+", STEP)?;
    g.assert_init_alive()
}

//! VM tests: the Debian kernel boots an initramfs built by `mkimage` under
//! QEMU (TCG), and each test drives rescue-init through the serial console.
//!
//! Run with `make test-vm` (needs the release binaries; see `make all`).
//! Console logs: `target/vm-logs/<module>-<test>.log`. QEMU is CPU-heavy,
//! so VMs run one at a time (a process-wide lock, plus `--test-threads=1`).

mod common;

use common::{boot, boot_to_shell, Guest, BOOT, STEP};
use rescue_tests::{ExitKind, ImageSpec};
use std::time::Duration;

/// Proves: the kernel runs rescue-init as PID 1, it logs timestamped
/// `rescue-init:` lines, and it starts the rootfs shell on the serial
/// console, whose RESCUE prompt accepts and runs commands.
mod boot_to_prompt {
    use super::*;

    #[test]
    fn logs_and_gives_a_working_shell() -> anyhow::Result<()> {
        let mut g = boot(common::image()?, "")?;
        g.wait_for_re(common::INIT_LOG_LINE, BOOT)?;
        g.prompt(BOOT)?;
        g.mark()?;
        g.assert_init_alive()
    }
}

/// Proves: `poweroff` from the shell reaches PID 1, which powers the
/// machine off (the kernel's last word is "reboot: Power down").
mod poweroff {
    use super::*;

    #[test]
    fn from_the_shell_powers_down() -> anyhow::Result<()> {
        let mut g = boot_to_shell("")?;
        g.send_line("poweroff")?;
        g.wait_for_re(common::POWEROFF_LOG, STEP)?;
        g.expect_exit(ExitKind::PowerOff)
    }

    /// ReaR's boot script runs `dmesg -n1`: the kernel then echoes no
    /// info line to the console, so the init must write its own.
    #[test]
    fn log_stays_on_the_console_after_dmesg_n1() -> anyhow::Result<()> {
        let mut g = boot_to_shell("")?;
        g.send_line("dmesg -n1; poweroff")?;
        g.wait_for_re(common::POWEROFF_LOG, STEP)?;
        g.wait_for("rescue-init: shutdown: poweroff now", STEP)?;
        g.expect_exit(ExitKind::PowerOff)
    }
}

/// Proves: PID 1 turned Ctrl-Alt-Del into a signal for itself (it logs
/// the request) and then reboots cleanly ("reboot: Restarting system").
mod ctrl_alt_del {
    use super::*;

    #[test]
    fn reboots_through_the_init() -> anyhow::Result<()> {
        let mut g = boot_to_shell("")?;
        g.monitor("sendkey ctrl-alt-delete")?;
        g.wait_for_re(common::CAD_LOG, STEP)?;
        g.expect_exit(ExitKind::Reboot)
    }
}

/// Proves: PID 1 reaps orphans. 1000 background `sleep`s are orphaned
/// (their subshell exits at once) and none is left a zombie afterwards.
mod orphans {
    use super::*;

    #[test]
    fn storm_of_1000_leaves_no_zombies() -> anyhow::Result<()> {
        let mut g = boot_to_shell("")?;
        let storm = "i=0; while [ $i -lt 1000 ]; do (sleep 1 &); i=$((i+1)); done; echo STORM-$i";
        g.sh(storm, "STORM-1000", Duration::from_secs(300))?;
        let count =
            "sleep 5; echo ZOMBIES=$(grep -l '^State:.Z' /proc/[0-9]*/status 2>/dev/null | wc -l)";
        let caps = g.sh(count, r"ZOMBIES=(\d+)\r?\n", STEP)?;
        if caps[1] != "0" {
            return Err(g.failure(&format!("{} zombies left after the storm", caps[1])));
        }
        g.assert_init_alive()
    }
}

/// Proves: PID 1 survives its shell being killed 20 times in a row: a new
/// shell comes back each time, restarts are rate-limited (logged) instead
/// of spinning, and PID 1 used little CPU doing so.
mod shell_respawn {
    use super::*;

    #[test]
    fn killed_20_times_comes_back() -> anyhow::Result<()> {
        let mut g = boot_to_shell("")?;
        let cpu_before = g.init_cpu_ticks()?;
        for round in 1..=20 {
            g.send_line("kill -9 $$")?;
            g.prompt(BOOT)
                .map_err(|e| e.context(format!("shell not back after kill #{round}")))?;
        }
        if !regex::Regex::new(common::BACKOFF_LOG)?.is_match(&g.console()) {
            return Err(g.failure("no rate-limit message after 20 fast restarts"));
        }
        // Boot work counts as PID 1's CPU time too: compare before/after.
        let used = g.init_cpu_ticks()?.saturating_sub(cpu_before);
        if used > 300 {
            return Err(g.failure(&format!("PID 1 used {used} CPU ticks: spinning?")));
        }
        g.mark()?;
        g.assert_init_alive()
    }
}

/// Proves: `rescue.run=` on the kernel command line is split with shell
/// quoting and run: `/bin/sh -c 'echo RUN-$((2+3))'` prints RUN-5.
mod rescue_run {
    use super::*;

    /// What a command writes just before it ends reaches the console,
    /// even when the terminal cannot send it yet: the end of its session
    /// must not throw queued output away (the e2e tier's installer VM lost
    /// its last line). Ctrl-S (flow control) holds the console's output
    /// while the command writes its last lines and exits; Ctrl-Q lets it go.
    #[test]
    fn output_queued_when_the_command_ends_is_not_lost() -> anyhow::Result<()> {
        let cmdline = r#"rescue.run="/bin/sh -c 'read x; echo END-$((40+2))-A; echo END-$((40+2))-B'" rescue.after=poweroff"#;
        let mut g = boot(common::image()?, cmdline)?;
        g.wait_for_re(r"rescue-init: running rescue\.run", BOOT)?;
        std::thread::sleep(Duration::from_secs(2));
        g.send_bytes(b"\x13go\n")?;
        std::thread::sleep(Duration::from_secs(3));
        g.send_bytes(b"\x11")?;
        // The command line holds `$((40+2))`, never 42: only the output matches.
        g.wait_for("END-42-A", STEP)?;
        g.wait_for("END-42-B", STEP)?;
        g.expect_exit(ExitKind::PowerOff)
    }

    #[test]
    fn runs_the_command_from_the_cmdline() -> anyhow::Result<()> {
        let cmdline = r#"rescue.run="/bin/sh -c 'echo RUN-$((2+3))'""#;
        let mut g = boot(common::image()?, cmdline)?;
        g.wait_for("RUN-5", BOOT)?;
        g.wait_for_re(r"rescue-init: rescue\.run exited with status 0", STEP)?;
        g.assert_init_alive()
    }
}

/// Proves: with no shell in the image PID 1 says so on the console, keeps
/// running, and still reboots cleanly on Ctrl-Alt-Del.
mod missing_shell {
    use super::*;

    #[test]
    fn is_reported_and_init_stays_up() -> anyhow::Result<()> {
        let image = ImageSpec::new("missing-shell").without_shell().build()?;
        let mut g = boot(image, "")?;
        g.wait_for_re(common::NO_SHELL_LOG, BOOT)?;
        std::thread::sleep(Duration::from_secs(3));
        g.assert_init_alive()?;
        g.monitor("sendkey ctrl-alt-delete")?;
        g.wait_for_re(common::CAD_LOG, STEP)?;
        g.expect_exit(ExitKind::Reboot)
    }
}

/// Proves: a panic in PID 1's main loop (forced by `rescue.test-panic`) is
/// caught and logged; PID 1 lives on and offers an emergency shell.
mod init_panic {
    use super::*;

    #[test]
    fn is_caught_and_gives_an_emergency_shell() -> anyhow::Result<()> {
        let mut g = boot(common::image()?, "rescue.test-panic")?;
        g.wait_for_re(common::PANIC_LOG, BOOT)?;
        g.wait_for_re(common::PANIC_SURVIVED_LOG, STEP)?;
        g.prompt(BOOT)?;
        g.mark()?;
        g.assert_init_alive()
    }
}

/// Proves the harness itself, without rescue-init: busybox's shell as
/// `/init` in an image from `mkimage pack` boots, runs a command and
/// powers off. If this fails, the other failures are not the init's.
mod harness {
    use super::*;

    #[test]
    fn busybox_init_image_boots_and_powers_off() -> anyhow::Result<()> {
        let mut g = Guest::start(common::harness_image()?, "")?;
        g.wait_for("HARNESS-UP", BOOT)?;
        g.send_line("echo MARK-$((6*7))")?;
        g.wait_for("MARK-42", STEP)?;
        g.send_line("poweroff -f")?;
        g.expect_exit(ExitKind::PowerOff)
    }
}

/// Proves: executables in /etc/rescue-init/boot.d run in name order before
/// the shell, each exit status is logged, a failing script and one that
/// hangs past `rescue.script-timeout` (stopped and logged) do not stop the
/// boot, and non-executable files are skipped.
mod boot_scripts {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const SCRIPTS: &[(&str, &str, u32)] = &[
        ("10-first", "echo BOOT-FIRST-$((1+1))", 0o755),
        ("20-fails", "echo BOOT-FAILING; exit 3", 0o755),
        ("30-hangs", "echo BOOT-HANGING; exec sleep 1000", 0o755),
        ("40-last", "echo BOOT-LAST-$((2+2))", 0o755),
        ("50-not-executable", "echo BOOT-SHOULD-NOT-RUN", 0o644),
    ];

    fn image_with_scripts() -> anyhow::Result<rescue_tests::Initramfs> {
        let dir = rescue_tests::image::fresh_dir("boot-scripts-src")?;
        let mut spec = ImageSpec::new("boot-scripts");
        for (name, body, mode) in SCRIPTS {
            let path = dir.join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n"))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode))?;
            spec = spec.file(path, &format!("/etc/rescue-init/boot.d/{name}"));
        }
        spec.build()
    }

    #[test]
    fn run_in_order_with_status_and_timeout() -> anyhow::Result<()> {
        let mut g = boot(image_with_scripts()?, "rescue.script-timeout=3")?;
        g.wait_for_re("50-not-executable: not executable, skipped", BOOT)?;
        g.wait_for_re("BOOT-FIRST-2", STEP)?;
        g.wait_for_re(r"boot script /etc/rescue-init/boot.d/10-first: ok", STEP)?;
        g.wait_for_re(
            r"boot.d/20-fails: exited with status 3 \(\d+ ms\); boot goes on",
            STEP,
        )?;
        g.wait_for_re(
            r"boot.d/30-hangs: still running after 3s; stopping it",
            STEP,
        )?;
        g.wait_for_re(r"boot.d/30-hangs: killed by signal 15", STEP)?;
        g.wait_for_re("BOOT-LAST-4", STEP)?;
        g.prompt(BOOT)?;
        g.assert_absent("BOOT-SHOULD-NOT-RUN")?;
        g.mark()
    }
}

#[path = "vm/handoff.rs"]
mod handoff_fixtures;

/// Proves the kexec handoff on a real kernel: a recovery command
/// (`rescue.run=/recover`) mounts a virtio disk at /mnt/local, writes data
/// and the handoff file; `rescue.after=handoff` then loads the target
/// kernel, tears everything down and kexecs. The target's initrd mounts the
/// disk `ro,noload` (no journal replay), verifies the data and finds the
/// kexec record; afterwards `e2fsck -fn` on the host finds the disk clean
/// and the journal not in need of recovery.
mod handoff {
    use super::handoff_fixtures as fx;
    use super::*;
    use rescue_tests::Kernel;
    use std::path::PathBuf;

    const NAMED: &str =
        "ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n";

    /// Boots the rescue image with the target disk attached.
    fn start(handoff: &str, extra: &str, cmdline: &str) -> anyhow::Result<(Guest, PathBuf)> {
        start_with(fx::Layout::Named, handoff, extra, cmdline)
    }

    fn start_with(
        layout: fx::Layout,
        handoff: &str,
        extra: &str,
        cmdline: &str,
    ) -> anyhow::Result<(Guest, PathBuf)> {
        let kernel = Kernel::get()?;
        let target = fx::target_initrd(&kernel)?;
        let disk = fx::target_disk(&kernel, &target, layout)?;
        let image = fx::rescue_image(&kernel, handoff, extra)?;
        let g = common::boot_with_disks(
            image,
            &format!("rescue.run=/recover {cmdline}"),
            vec![disk.clone()],
        )?;
        Ok((g, disk))
    }

    fn lands_in_target(g: &mut Guest, marker: &str) -> anyhow::Result<()> {
        lands(g, marker, true)
    }

    fn lands(g: &mut Guest, marker: &str, record: bool) -> anyhow::Result<()> {
        g.wait_for_re("shutdown: kexec now", BOOT)?;
        g.wait_for_re(
            &format!(r"TARGET-KERNEL-UP cmdline=\[[^\]]*target.marker={marker}"),
            BOOT,
        )?;
        g.wait_for_re("TARGET-DATA-OK", STEP)?;
        if record {
            g.wait_for_re("TARGET-RECORD-FOUND", STEP)?;
        }
        g.wait_for_re("TARGET-DONE", STEP)?;
        g.expect_exit(ExitKind::PowerOff)
    }

    #[test]
    fn plain_kexec_lands_in_the_target_with_a_clean_disk() -> anyhow::Result<()> {
        let handoff = format!("{NAMED}CMDLINE='console=ttyS0 panic=-1 target.marker=plain'\n");
        let (mut g, disk) = start(&handoff, "", "rescue.after=handoff")?;
        g.wait_for_re("RECOVERY-DONE", BOOT)?;
        g.wait_for_re(r"handoff: kernel loaded", STEP)?;
        g.wait_for_re(r"unmounted /mnt/local", STEP)?;
        lands_in_target(&mut g, "plain")?;
        fx::assert_disk_clean(&disk)
    }

    /// Without KERNEL the plan comes from the recovered system's boot
    /// configuration; the log names where each value came from.
    fn detected(
        layout: fx::Layout,
        handoff: &str,
        marker: &str,
        source: &str,
    ) -> anyhow::Result<()> {
        let (mut g, disk) = start_with(layout, handoff, "", "rescue.after=handoff")?;
        g.wait_for_re("RECOVERY-DONE", BOOT)?;
        g.wait_for_re(
            &format!(r"handoff: kernel /mnt/local/boot/vmlinuz-test \({source}"),
            STEP,
        )?;
        lands_in_target(&mut g, marker)?;
        fx::assert_disk_clean(&disk)
    }

    #[test]
    fn detects_debian_links() -> anyhow::Result<()> {
        detected(
            fx::Layout::DebianLinks,
            "CMDLINE='console=ttyS0 panic=-1 target.marker=debian'\n",
            "debian",
            r"link [^)]*vmlinuz\)",
        )
    }

    #[test]
    fn detects_a_bls_entry() -> anyhow::Result<()> {
        detected(
            fx::Layout::Bls,
            "# all from the BLS entry\n",
            "bls",
            "BLS entry",
        )
    }

    #[test]
    fn detects_the_grub_default_entry() -> anyhow::Result<()> {
        detected(
            fx::Layout::Grub,
            "ROOT=/mnt/local\n",
            "grub",
            r#"GRUB entry "Recovered system""#,
        )
    }

    /// `rescue-init kexec` with kexec-tools' flags from the rescue shell:
    /// `-l` loads (kexec_loaded says 1), `-u` unloads (0), and `-e` asks
    /// PID 1 (SIGRTMIN+6) for the clean teardown and jump.
    #[test]
    fn kexec_command_loads_unloads_and_executes() -> anyhow::Result<()> {
        let (mut g, disk) = start("# not used\n", "", "")?;
        g.wait_for_re("RECOVERY-DONE", BOOT)?;
        g.prompt(BOOT)?;
        let load =
            "/init kexec -l /mnt/local/boot/vmlinuz-test --initrd=/mnt/local/boot/initrd-test.img \
                    --command-line='console=ttyS0 panic=-1 target.marker=cli'";
        let state = "echo RC=$? LOADED=$(cat /sys/kernel/kexec_loaded)";
        g.sh(
            &format!("rm /run/rescue-init/handoff; {load}; {state}"),
            "RC=0 LOADED=1",
            BOOT,
        )?;
        g.sh(&format!("/init kexec -u; {state}"), "RC=0 LOADED=0", STEP)?;
        g.sh(&format!("{load}; {state}"), "RC=0 LOADED=1", BOOT)?;
        g.send_line("/init kexec -e")?;
        g.wait_for_re(r"kexec requested \(signal \d+ from pid \d+\)", STEP)?;
        lands(&mut g, "cli", false)?;
        fx::assert_disk_clean(&disk)
    }

    /// A process that ignores SIGTERM and keeps a file open for writing on
    /// the target filesystem is named, killed, and the disk ends clean.
    #[test]
    fn stubborn_writer_is_killed_and_the_disk_stays_clean() -> anyhow::Result<()> {
        let handoff = format!("{NAMED}CMDLINE='console=ttyS0 panic=-1 target.marker=stubborn'\n");
        // Its own session (like a daemon), so the end of /recover's
        // session does not hang it up; /recover waits until it writes.
        let writer = "setsid sh -c \"trap '' TERM HUP; exec 3>>/mnt/local/held.log; while :; do echo x >&3; sleep 0.1; done\" &\n\
                      while [ ! -s /mnt/local/held.log ]; do sleep 0.1; done";
        let (mut g, disk) = start(
            &handoff,
            writer,
            "rescue.after=handoff rescue.stop-timeout=1",
        )?;
        g.wait_for_re("RECOVERY-DONE", BOOT)?;
        g.wait_for_re(r"pid \d+ \(sh\) ignored SIGTERM", STEP)?;
        lands_in_target(&mut g, "stubborn")?;
        fx::assert_disk_clean(&disk)
    }

    /// A handoff naming a kernel that does not exist: a clear message, the
    /// FALLBACK (shell) taken before anything was stopped, PID 1 alive,
    /// and `poweroff` still leaves the disk clean.
    #[test]
    fn missing_kernel_takes_the_fallback() -> anyhow::Result<()> {
        let handoff =
            "ROOT=/mnt/local\nKERNEL=/boot/no-such-kernel\nCMDLINE=quiet\nFALLBACK=shell\n";
        let (mut g, disk) = start(handoff, "", "rescue.after=handoff")?;
        g.wait_for_re(r"handoff: [^\r\n]*no-such-kernel[^\r\n]*", BOOT)?;
        g.wait_for_re(r"FALLBACK=shell", STEP)?;
        g.prompt(BOOT)?;
        g.mark()?;
        g.assert_init_alive()?;
        g.send_line("poweroff")?;
        g.wait_for_re(r"unmounted /mnt/local", STEP)?;
        g.expect_exit(ExitKind::PowerOff)?;
        fx::assert_disk_clean(&disk)
    }

    /// Hostile files on the recovered root (issue 14): a grub.cfg that
    /// doubles a variable 40 times and a FIFO where the kernel should be.
    /// PID 1 reads them at the reboot without allocating gigabytes or
    /// blocking, takes the FALLBACK (shell) and stays alive; `handoff
    /// check` names the line of the config.
    #[test]
    fn hostile_boot_files_take_the_fallback() -> anyhow::Result<()> {
        let handoff = "ROOT=/mnt/local\nCMDLINE=quiet\nFALLBACK=shell\n";
        let extra = "mkdir -p /mnt/local/boot/grub\n\
                     { echo 'set a=x'; i=0; while [ $i -lt 40 ]; do echo 'set a=$a$a'; i=$((i+1)); done; \
                     printf 'menuentry A {\\n linux /boot/vmlinuz-test $a\\n}\\n'; } > /mnt/local/boot/grub/grub.cfg\n\
                     mv /mnt/local/boot/vmlinuz-test /mnt/local/boot/saved-kernel\n\
                     mkfifo /mnt/local/boot/vmlinuz-test";
        let (mut g, disk) = start(handoff, extra, "rescue.after=handoff")?;
        g.wait_for_re("RECOVERY-DONE", BOOT)?;
        g.wait_for_re(r"FALLBACK=shell", STEP)?;
        g.prompt(BOOT)?;
        g.mark()?;
        g.assert_init_alive()?;
        g.sh(
            "/init handoff check | grep -o 'grub.cfg:[0-9]*: a variable expands to more than [0-9]* bytes'",
            "grub.cfg:17: a variable expands to more than 65536 bytes",
            STEP,
        )?;
        g.send_line("poweroff")?;
        g.wait_for_re(r"unmounted /mnt/local", STEP)?;
        g.expect_exit(ExitKind::PowerOff)?;
        fx::assert_disk_clean(&disk)
    }

    /// A kernel file that is not a bzImage, or a handoff file that is
    /// garbage: the log says what and where, the default FALLBACK (reboot)
    /// is taken without a kexec, and the disk is left clean.
    fn refused_then_reboots(handoff: &str, extra: &str, why: &str) -> anyhow::Result<()> {
        let (mut g, disk) = start(handoff, extra, "rescue.after=handoff")?;
        g.wait_for_re("RECOVERY-DONE", BOOT)?;
        g.wait_for_re(why, STEP)?;
        g.wait_for_re("FALLBACK=reboot", STEP)?;
        g.wait_for_re(r"unmounted /mnt/local", STEP)?;
        g.expect_exit(ExitKind::Reboot)?;
        g.assert_absent("Starting new kernel")?;
        fx::assert_disk_clean(&disk)
    }

    #[test]
    fn corrupt_kernel_falls_back_to_reboot() -> anyhow::Result<()> {
        let handoff = "KERNEL=/boot/corrupt\nCMDLINE=quiet\n";
        let extra = "dd if=/dev/urandom of=/mnt/local/boot/corrupt bs=1k count=64 2>/dev/null";
        refused_then_reboots(
            handoff,
            extra,
            r"handoff: the plan does not pass its checks: kernel: /mnt/local/boot/corrupt: not an x86 kernel",
        )
    }

    #[test]
    fn garbage_handoff_file_falls_back_to_reboot() -> anyhow::Result<()> {
        let handoff = "KERNEL=/boot/vmlinuz-test\nthis is not a handoff file\n";
        refused_then_reboots(handoff, "", r"handoff: /run/rescue-init/handoff:2: ")
    }

    /// `rescue-init handoff check --load` prints the plan, really loads the
    /// kernel with kexec_file_load, unloads it, and exits 0; on a garbage
    /// handoff file it names the file and line and exits non-zero.
    #[test]
    fn handoff_check_loads_and_rejects_garbage() -> anyhow::Result<()> {
        let handoff = format!("{NAMED}CMDLINE='console=ttyS0 target.marker=check'\n");
        let (mut g, _disk) = start(&handoff, "", "")?;
        g.wait_for_re("RECOVERY-DONE", BOOT)?;
        g.prompt(BOOT)?;
        handoff_fixtures::check_load(&mut g)?;
        anyhow::ensure!(
            g.console().contains("loaded with FileLoad"),
            "check --load did not report the load"
        );
        g.sh(
            "printf 'KERNEL=/boot/vmlinuz-test\\nBOGUS\\n' > /tmp/bad",
            "",
            STEP,
        )?;
        let caps = g.sh(
            "/init handoff check /tmp/bad; echo CHECK-RC=$?",
            r"CHECK-RC=(\d+)\r?\n",
            STEP,
        )?;
        anyhow::ensure!(caps[1] != "0", "a garbage handoff file passed the check");
        anyhow::ensure!(
            g.console().contains("/tmp/bad:2"),
            "the error does not name /tmp/bad:2"
        );
        Ok(())
    }
}

/// Proves the teardown beyond one plain mount: nested mounts on a second
/// disk and bind mounts, a swap file and a loop-mounted image on the
/// target filesystem, and a process that survives SIGKILL — all released
/// (or named and made safe) before the kexec, every disk clean afterwards.
#[path = "vm/teardown.rs"]
mod teardown;

/// Proves the teardown on md RAID1, LVM (with swap in use), LUKS2 (alone
/// and on LVM on md), XFS and a chroot with a shell inside, judged clean
/// afterwards by a checker VM that assembles it all read-only; and that
/// the same checker calls a crash without teardown unclean.
#[path = "vm/stacks.rs"]
mod stacks;

/// Proves `rescue-init kexec --iso` from a running system: the ISO (ReaR's
/// isolinux layout, attached as a disk) is read directly, the first Linux
/// entry chosen over the chain-loading default, and its rescue system
/// boots; garbage is refused with a clear error while the host runs on.
#[path = "vm/iso.rs"]
mod iso;

/// Proves the hardware watchdog through the kexec: armed before it, it
/// resets a target that hangs and leaves alone one that takes it over.
#[path = "vm/watchdog.rs"]
mod watchdog;

/// Proves handoff after handoff: a chain of kexecs from rescue-init into
/// rescue-init, each verifying the last one's data (`make soak`).
#[path = "vm/soak.rs"]
mod soak;

/// Proves the handoff stays bounded with a disk that stops answering.
#[path = "vm/faults.rs"]
mod faults;

/// Proves device bring-up without udev: coldplug by modalias finds disks on
/// virtio-blk, virtio-scsi, AHCI, NVMe and USB storage on xhci (waiting for
/// its delayed scan) and drivers for two NICs, and the kernel's module
/// requests are answered by rescue-init's modprobe applet.
#[path = "vm/devices.rs"]
mod devices;

/// Proves `make demo`: the rescue image with the recovered system's disk,
/// `rescue-init handoff check`, and `reboot` landing in its kernel.
#[path = "vm/demo.rs"]
mod demo;

/// Proves `mkimage build --config`: an image described by a manifest
/// (init, trees, a file, a module with its dependencies, zstd) boots to
/// the shell with the manifest's file and a loadable module.
#[path = "vm/manifest.rs"]
mod manifest;

/// Proves every compression mkimage writes is one the kernel unpacks: the
/// default image made with zstd, xz, lz4 and none each boots to a shell
/// (gzip is what every other test boots, in several of its 1 MiB blocks),
/// and so does xz level 0, whose 1 MiB blocks make several xz blocks.
mod compressors {
    use super::*;

    #[test]
    fn every_compressor_boots_to_a_shell() -> anyhow::Result<()> {
        for (method, level) in [
            ("zstd", ""),
            ("xz", ""),
            ("xz", "0"),
            ("lz4", ""),
            ("none", ""),
        ] {
            let mut spec = ImageSpec::new(&format!("compress-{method}{level}"));
            spec.compress = method.into();
            if !level.is_empty() {
                spec = spec.arg("--level").arg(level);
            }
            let mut g = boot(spec.build()?, "")?;
            g.prompt(BOOT)?;
            g.mark()?;
            g.send_line("poweroff")?;
            g.expect_exit(ExitKind::PowerOff)?;
        }
        Ok(())
    }

    /// `--dedup` (the ReaR kit packs with it): identical files are stored
    /// once, as hard links, and the kernel's unpacker makes them one
    /// file with both names and the whole content.
    #[test]
    fn a_deduplicated_image_unpacks_its_hard_links() -> anyhow::Result<()> {
        use std::io::Write as _;
        let dir = rescue_tests::image::fresh_dir("dedup-src")?;
        let data = dir.join("data.bin");
        let mut f = std::fs::File::create(&data)?;
        for i in 0..(256 * 1024u32) {
            f.write_all(&i.wrapping_mul(2_654_435_761).to_le_bytes())?;
        }
        drop(f);
        let sum = std::process::Command::new("md5sum").arg(&data).output()?;
        let sum = String::from_utf8_lossy(&sum.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let mut spec = ImageSpec::new("dedup")
            .file(&data, "/data/one.bin")
            .file(&data, "/srv/two.bin")
            .arg("--dedup")
            .arg("--level")
            .arg("9");
        spec.compress = "zstd".into();
        let mut g = boot(spec.build()?, "")?;
        g.prompt(BOOT)?;
        let caps = g.sh(
            "echo DEDUP $(stat -c '%i:%h' /data/one.bin /srv/two.bin) $(md5sum /data/one.bin /srv/two.bin | cut -d' ' -f1)",
            r"DEDUP (\d+):(\d+) (\d+):(\d+) ([0-9a-f]{32}) ([0-9a-f]{32})\r?\n",
            STEP,
        )?;
        anyhow::ensure!(
            caps[1] == caps[3] && caps[2] == "2" && caps[4] == "2",
            "not one file with two names: {caps:?}"
        );
        anyhow::ensure!(
            caps[5] == sum && caps[6] == sum,
            "the content differs from the host's ({sum}): {caps:?}"
        );
        g.send_line("poweroff")?;
        g.expect_exit(ExitKind::PowerOff)
    }
}

/// Proves the ReaR integration against the real `rear mkrescue`: the kit
/// packs with mkimage and makes rescue-init the rescue system's PID 1,
/// which runs ReaR's setup to its prompt and turns `reboot` after a
/// recovery into a kexec; with the kit disabled ReaR works as before.
#[path = "vm/rear.rs"]
mod rear;

/// Proves: PID 1 records the boot's timeline; `rescue-init analyze` gives
/// it back as JSON, as an SVG chart a real XML parser reads (one titled
/// row per span) and as the critical chain; `rescue.timeline=off`
/// records nothing. The chart is kept as target/vm-logs/timeline-plain.svg
/// (and .png where rsvg-convert is installed).
mod timeline {
    use super::*;
    use anyhow::ensure;
    use rescue_tests::timeline::{check_plot, render_png, rows};

    #[test]
    fn analyze_gives_json_a_chart_and_the_chain() -> anyhow::Result<()> {
        let mut g = boot_to_shell("")?;
        let json = g.fetch("rescue-init analyze json", STEP)?;
        let rows = rows(&json)?;
        for phase in [
            "kernel",
            "early mounts",
            "config",
            "devices",
            "boot scripts",
        ] {
            ensure!(
                rows.iter().any(|r| r.group == "phase" && r.name == phase),
                "no phase {phase:?} in {rows:?}"
            );
        }
        ensure!(
            rows.iter()
                .any(|r| r.group == "login" && r.name.contains("ttyS0")),
            "no shell start in {rows:?}"
        );
        let kernel = rows.iter().find(|r| r.name == "kernel").unwrap();
        ensure!(
            kernel.start_us == 0 && kernel.end_us > 0,
            "the kernel's row: {kernel:?}"
        );
        let svg = g.fetch("rescue-init analyze plot", STEP)?;
        check_plot(&svg, &rows)?;
        let dir = rescue_tests::paths::target_subdir("vm-logs")?;
        std::fs::write(dir.join("timeline-plain.svg"), &svg)?;
        render_png(
            &dir.join("timeline-plain.svg"),
            &dir.join("timeline-plain.png"),
        )?;
        g.sh(
            "rescue-init analyze critical-chain",
            r"kernel @0\.000s \+\d+\.\d{3}s\r?\nearly mounts @",
            STEP,
        )?;
        g.sh("rescue-init analyze bogus; echo RC=$?", "RC=2", STEP)?;
        g.assert_init_alive()
    }

    #[test]
    fn off_records_nothing() -> anyhow::Result<()> {
        let mut g = boot_to_shell("rescue.timeline=off")?;
        g.sh(
            "rescue-init analyze; echo RC=$?; ls /run/rescue-init/timeline",
            "RC=1",
            STEP,
        )?;
        ensure!(
            g.console().contains("no such file") || g.console().contains("No such file"),
            "a timeline file exists with rescue.timeline=off"
        );
        g.assert_init_alive()
    }
}

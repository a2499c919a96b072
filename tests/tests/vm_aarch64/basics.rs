//! Proves on arm64: the kernel runs rescue-init as PID 1, which logs and
//! starts the rootfs shell on ttyAMA0; a killed shell comes back; orphans
//! are reaped; `poweroff` from the shell powers the machine down.

use super::common::{self, boot_to_shell, BOOT, STEP};
use rescue_tests::ExitKind;

#[test]
fn boots_to_the_prompt_respawns_the_shell_reaps_and_powers_off() -> anyhow::Result<()> {
    super::require_aarch64()?;
    let mut g = common::boot(common::image()?, "")?;
    g.wait_for_re(common::INIT_LOG_LINE, BOOT)?;
    g.prompt(BOOT)?;
    g.sh("uname -m | sed 's/^/MACHINE=/'", "MACHINE=aarch64", STEP)?;
    // Orphans: 50 background children whose parent shell exits at once.
    g.sh(
        "sh -c 'for i in $(seq 50); do sleep 0.2 & done'; sleep 2; \
         echo ZOMBIES=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)",
        "ZOMBIES=0",
        STEP,
    )?;
    // The shell killed: PID 1 starts a new one on the console.
    g.send_line("kill -9 $$")?;
    g.prompt(BOOT)?;
    g.sh("echo ALIVE-AGAIN", "ALIVE-AGAIN", STEP)?;
    g.assert_init_alive()?;
    drop(g);
    let mut g = boot_to_shell("")?;
    g.send_line("poweroff")?;
    g.wait_for_re(common::POWEROFF_LOG, STEP)?;
    g.expect_exit(ExitKind::PowerOff)
}

/// mkimage on this x86-64 host resolves a dynamically linked arm64
/// program: Debian's arm64 `dash` and `libc6`, unpacked (never installed)
/// into a tree, go into the image with `--sysroot`, and the program runs
/// on arm64 through its interpreter and libc from that tree.
#[test]
fn a_dynamic_arm64_program_from_a_sysroot_runs() -> anyhow::Result<()> {
    super::require_aarch64()?;
    let arch = rescue_tests::Arch::Aarch64;
    let root = rescue_tests::arch::foreign_sysroot(arch, &["libc6", "dash"])?;
    let image = rescue_tests::ImageSpec::new("aarch64-sysroot")
        .arg("--sysroot")
        .arg(root.display().to_string())
        .arg("--bin")
        .arg("/bin/dash")
        .build()?;
    let mut g = common::boot(image, "")?;
    g.prompt(BOOT)?;
    g.sh(
        "/bin/dash -c 'echo DYN-$((6*7))-$(readlink /lib/ld-linux-aarch64.so.1)'",
        "DYN-42-aarch64-linux-gnu/ld-linux-aarch64.so.1",
        STEP,
    )?;
    g.sh(
        "test -f /lib/aarch64-linux-gnu/libc.so.6 && echo LIBC-IN",
        "LIBC-IN",
        STEP,
    )?;
    Ok(())
}

//! `make demo` does what its banner says (tests/src/demo.rs builds the
//! same image and disk): the rescue system comes up with the recovered
//! system's disk mounted and the handoff written, `rescue-init handoff
//! check` finds the kernel through the disk's GRUB config, and `reboot`
//! kexecs into it; the recovered system finds rescue-init's note on its
//! disk.

use super::common::{Guest, BOOT, STEP};
use anyhow::Result;
use rescue_tests::{demo, BootOpts, ExitKind};

#[test]
fn reboot_kexecs_into_the_recovered_system() -> Result<()> {
    let d = demo::build()?;
    let mut opts = BootOpts::new(&d.kernel, &d.image);
    opts.disks = vec![d.disk.clone()];
    let mut g = Guest::start_with_opts(opts)?;
    g.wait_for_re(demo::READY, BOOT)?;
    g.wait_for_re("rescue-init demo. This is the rescue system", BOOT)?;
    g.prompt(BOOT)?;
    // The banner says rescue-init loaded the disk's drivers itself.
    g.sh(
        "echo LOADED-$(grep -c '^virtio_blk ' /proc/modules)",
        "LOADED-1",
        STEP,
    )?;
    g.sh(
        "rescue-init handoff check",
        "result: a kexec would work",
        STEP,
    )?;
    g.send_line("reboot")?;
    g.wait_for_re("shutdown: kexec now", BOOT)?;
    g.wait_for_re(demo::LANDED, BOOT)?;
    g.wait_for_re(
        r"from the GRUB entry on its disk: [^\r\n]*target.marker=grub",
        STEP,
    )?;
    g.wait_for_re("rescue-init's note on the disk", STEP)?;
    g.wait_for_re("poweroff -f or Ctrl-A X ends the demo", STEP)?;
    g.send_line("poweroff -f")?;
    g.expect_exit(ExitKind::PowerOff)
}

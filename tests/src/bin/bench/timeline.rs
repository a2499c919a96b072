//! What the timeline costs: the same image booted with `rescue.timeline`
//! on (the default) and off, interleaved, under QEMU TCG. Measured on the
//! guest's own clock, from the kernel's "Run /init as init process" to
//! rescue-init's "shell on /dev/ttyS0 started": everything PID 1 does at
//! boot, coldplug of a virtio disk and NIC and its rows included.

use crate::report::{self, median, min_max, num, Table};
use anyhow::{Context, Result};
use rescue_tests::{BootOpts, ImageSpec, Initramfs, Kernel, Vm};
use std::time::Duration;

const START: &str = r"\[\s*(\d+\.\d+)\] Run /init as init process";
const SHELL: &str = r"\[\s*(\d+\.\d+)\] rescue-init: shell on /dev/ttyS0 started";

fn image(kernel: &Kernel) -> Result<Initramfs> {
    ImageSpec::new("bench-timeline")
        .with_modules(kernel, &["virtio_pci", "virtio_blk", "virtio_net", "ext4"])?
        .build()
}

/// Seconds from /init to the shell, on the guest's clock.
fn boot_once(kernel: &Kernel, image: &Initramfs, timeline: bool) -> Result<f64> {
    let mut opts = BootOpts::new(&kernel.vmlinuz, &image.path);
    opts.cmdline_extra = format!("rescue.timeline={}", if timeline { "on" } else { "off" });
    opts.extra_args = [
        "-device",
        "virtio-net-pci,netdev=n0",
        "-netdev",
        "user,id=n0",
    ]
    .map(String::from)
    .to_vec();
    opts.name = Some(format!("bench-timeline-{timeline}"));
    let mut vm = Vm::boot(opts)?;
    let start = vm.wait_for_re(START, Duration::from_secs(120))?;
    let shell = vm.wait_for_re(SHELL, Duration::from_secs(120))?;
    let t = |caps: &[String]| -> Result<f64> { caps[1].parse().context("a kernel timestamp") };
    Ok(t(&shell)? - t(&start)?)
}

pub fn run(reps: usize) -> Result<String> {
    let kernel = Kernel::get()?;
    let image = image(&kernel)?;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..reps {
        eprintln!("bench timeline: round {}/{reps}", round + 1);
        // Alternate which goes first, so that drift in the machine's load
        // falls on both.
        for timeline in [round % 2 == 0, round % 2 != 0] {
            let s = boot_once(&kernel, &image, timeline)?;
            if timeline {
                on.push(s)
            } else {
                off.push(s)
            }
        }
    }
    let mut t = Table::new(&[
        "rescue.timeline",
        "/init to shell, s (median)",
        "min–max s",
        "vs off",
    ]);
    let m_off = median(&off);
    for (name, v) in [("off", &off), ("on (default)", &on)] {
        let (lo, hi) = min_max(v);
        t.row(vec![
            name.into(),
            num(median(v), 3),
            format!("{}–{}", num(lo, 3), num(hi, 3)),
            format!("{}×", num(median(v) / m_off, 2)),
        ]);
    }
    Ok(format!(
        "# What the boot timeline costs (QEMU TCG)\n\n{}\n\
         The image: rescue-init, busybox, virtio disk/NIC drivers and ext4 (coldplug loads them, \
         one timeline row each). {reps} boots each, interleaved; the guest's clock from the kernel's \
         \"Run /init as init process\" to the shell on ttyS0. Load average at the end: {}.\n\n{}",
        report::machine(),
        report::load1(),
        t.markdown()
    ))
}

//! The soak: a chain of handoffs in one VM run. The disk holds the test
//! kernel and the soak image itself as the recovered system's kernel and
//! initrd, so every kexec lands in rescue-init again. Each cycle verifies
//! the previous cycle's data (written with fsync before that handoff),
//! writes the next, leaves a writer that ignores SIGTERM on the disk, and
//! hands off; the last one powers off. Every cycle's data verified, the
//! disk clean at the end (`e2fsck -fn`), PID 1 never died, and the
//! distribution of handoff times reported.
//!
//! `SOAK_CYCLES` sets the number of handoffs (3 in `make test`, 200 by
//! `make soak`); the report goes to stdout and `target/bench/soak.txt`.

use super::common::{Guest, BOOT};
use super::handoff_fixtures as fx;
use anyhow::{ensure, Context, Result};
use rescue_tests::{image, paths, BootOpts, ExitKind, ImageSpec, Initramfs, Kernel};
use std::path::PathBuf;

const CYCLE: &str = r#"#!/bin/sh
set -e
i=0; while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
mkdir -p /mnt/local && mount -t ext4 /dev/vda /mnt/local && cd /mnt/local
total=$(sed -n 's/.*soak\.total=\([0-9]*\).*/\1/p' /proc/cmdline)
n=$(cat cycle 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then
    if md5sum -c data-$n.md5 >/dev/null 2>&1; then echo "SOAK-VERIFIED $n"; else echo "SOAK-BAD $n"; exit 1; fi
    rm -f data-$n.bin data-$n.md5
fi
mkdir -p /run/rescue-init
if [ "$n" -ge "$total" ]; then
    echo ACTION=poweroff > /run/rescue-init/handoff
    echo SOAK-DONE
    exit 0
fi
m=$((n+1))
dd if=/dev/urandom of=data-$m.bin bs=64k count=16 conv=fsync 2>/dev/null
md5sum data-$m.bin > data-$m.md5
echo $m > cycle.new && mv cycle.new cycle
setsid sh -c "trap '' TERM HUP; exec 3>>stubborn.log; while :; do echo $m >&3; sleep 0.2; done" &
cat > /run/rescue-init/handoff <<EOF
ROOT=/mnt/local
KERNEL=/boot/vmlinuz
INITRD=/boot/initrd.img
CMDLINE='console=ttyS0 panic=-1 @CMDLINE@ soak.total=$total'
EOF
echo "SOAK-CYCLE $m"
"#;

/// The soak's own command line, on the first boot and every kexec.
const CMDLINE: &str = "rescue.run=/cycle rescue.after=handoff rescue.stop-timeout=1";

fn soak_image(kernel: &Kernel) -> Result<Initramfs> {
    let dir = image::fresh_dir("soak-src")?;
    let script = dir.join("cycle");
    fx::write_exec(&script, &CYCLE.replace("@CMDLINE@", CMDLINE))?;
    ImageSpec::new("soak")
        .with_modules(kernel, &["virtio_pci", "virtio_blk", "ext4"])?
        .file(script, "/cycle")
        .build()
}

/// The disk: the kernel and the soak image as its /boot.
fn soak_disk(kernel: &Kernel, image: &Initramfs) -> Result<PathBuf> {
    let dir = image::fresh_dir("soak-disk")?;
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("boot"))?;
    std::fs::create_dir_all(root.join("var/log"))?;
    std::fs::copy(&kernel.vmlinuz, root.join("boot/vmlinuz"))?;
    std::fs::copy(&image.path, root.join("boot/initrd.img"))?;
    let disk = dir.join("disk.img");
    fx::mke2fs(&root, &disk, "soak", "128M")?;
    Ok(disk)
}

fn cycles() -> Result<u32> {
    match std::env::var("SOAK_CYCLES") {
        Ok(v) => v.parse().with_context(|| format!("SOAK_CYCLES={v:?}")),
        Err(_) => Ok(3),
    }
}

#[test]
fn a_chain_of_handoffs_keeps_every_byte() -> Result<()> {
    let total = cycles()?;
    let kernel = Kernel::get()?;
    let image = soak_image(&kernel)?;
    let disk = soak_disk(&kernel, &image)?;
    let mut opts = BootOpts::new(&kernel.vmlinuz, &image.path);
    opts.cmdline_extra = format!("{CMDLINE} soak.total={total}");
    opts.disks = vec![disk.clone()];
    let mut g = Guest::start_with_opts(opts)?;
    for m in 1..=total {
        g.wait_for(&format!("SOAK-CYCLE {m}"), BOOT)?;
        g.wait_for(&format!("SOAK-VERIFIED {m}"), BOOT * 2)?;
    }
    g.wait_for("SOAK-DONE", BOOT)?;
    g.expect_exit(ExitKind::PowerOff)?;
    g.assert_init_alive()?;
    ensure!(!g.console().contains("SOAK-BAD"), "a cycle's data was lost");
    fx::assert_disk_clean(&disk).context("the soak disk after the last cycle")?;
    report(total, &g.console())
}

/// The handoff times, from `rescue.run` ending to the kernel's "Starting
/// new kernel" (the guest's own clock), and the teardown's part of them.
fn report(total: u32, console: &str) -> Result<()> {
    let exit =
        regex::Regex::new(r"\[\s*(\d+\.\d+)\] rescue-init: rescue\.run exited with status 0")?;
    let stop = regex::Regex::new(
        r"\[\s*(\d+\.\d+)\] rescue-init: shutdown \(kexec\): stopping processes",
    )?;
    let kexec = regex::Regex::new(r"\[\s*(\d+\.\d+)\] kexec_core: Starting new kernel")?;
    let stamps = |re: &regex::Regex| -> Vec<f64> {
        re.captures_iter(console)
            .filter_map(|c| c[1].parse().ok())
            .collect()
    };
    let (exits, stops, kexecs) = (stamps(&exit), stamps(&stop), stamps(&kexec));
    let n = total as usize;
    ensure!(
        kexecs.len() == n && stops.len() == n && exits.len() >= n,
        "expected {n} handoffs, saw {} kexecs, {} teardowns",
        kexecs.len(),
        stops.len()
    );
    let handoff: Vec<f64> = (0..n).map(|i| kexecs[i] - exits[i]).collect();
    let teardown: Vec<f64> = (0..n).map(|i| kexecs[i] - stops[i]).collect();
    let text = format!(
        "soak: {n} handoffs, every cycle's data verified, disk clean, PID 1 alive\n\
         handoff (rescue.run ended -> kexec): {}\n\
         teardown (stop processes -> kexec, 1 s stop timeout for the stubborn writer): {}\n",
        summary(handoff),
        summary(teardown)
    );
    print!("{text}");
    let dir = paths::target_subdir("bench")?;
    std::fs::write(dir.join("soak.txt"), text)?;
    Ok(())
}

fn summary(mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!(
        "median {:.2} s, p95 {:.2} s, max {:.2} s",
        at(0.5),
        at(0.95),
        at(1.0)
    )
}

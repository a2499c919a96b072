//! `rescue-bench rear`: ReaR's stock rescue initrd against the kit's, both
//! made by a real `rear mkrescue` from the same host (tests/src/rear.rs):
//! pack time and size on the same tree, and boot time under QEMU TCG with
//! the same kernel, from the kernel starting to unpack the initramfs to
//! ReaR's "rescue system is ready" line.

use crate::report::{median, min_max, num, Table};
use anyhow::{bail, Result};
use rescue_tests::rear::{self, Flavour, Rescue};
use rescue_tests::{paths, BootOpts, Kernel, Vm};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// What contrib/rear/pack-initramfs.sh gives mkimage for
/// REAR_INITRD_COMPRESSION=zstd.
pub(crate) const KIT_ZSTD: &[&str] = &["--compress", "zstd", "--level", "9", "--dedup"];
const WAIT: Duration = Duration::from_secs(180);
const UNPACK: &str = "Trying to unpack rootfs image as initramfs";
const READY: &str = "Relax-and-Recover rescue system is ready";
const UDEV_STEP: &str = "Running 40-start-udev-or-load-modules.sh";
const NEXT_STEP: &str = "Running 41-load-special-modules.sh";

pub(crate) struct Boot {
    /// Host clock: unpack line → ready line.
    pub(crate) to_ready: f64,
    /// Guest clock: unpack line → `Run /init`.
    pub(crate) to_init: f64,
    /// Host clock: ReaR's 40-start-udev-or-load-modules.sh.
    pub(crate) udev_script: f64,
}

fn boot_once(r: &Rescue, name: &str) -> Result<Boot> {
    let mut opts = BootOpts::new(&r.kernel, &r.initrd);
    opts.mem_mb = 1024;
    opts.name = Some(name.into());
    boot_timed(&mut Vm::boot(opts)?)
}

/// Times a ReaR rescue boot from the kernel unpacking the initramfs to
/// ReaR's "ready"; the VM goes on running.
pub(crate) fn boot_timed(vm: &mut Vm) -> Result<Boot> {
    let caps = vm.wait_for_re(&format!(r"\[\s*(\d+\.\d+)\] {UNPACK}"), WAIT)?;
    let (t_unpack, h_unpack) = (caps[1].parse::<f64>()?, Instant::now());
    let caps = vm.wait_for_re(r"\[\s*(\d+\.\d+)\] Run /init as init process", WAIT)?;
    let t_init = caps[1].parse::<f64>()?;
    vm.wait_for(UDEV_STEP, WAIT)?;
    let h_udev = Instant::now();
    vm.wait_for(NEXT_STEP, WAIT)?;
    let udev_script = h_udev.elapsed().as_secs_f64();
    vm.wait_for(READY, WAIT)?;
    Ok(Boot {
        to_ready: h_unpack.elapsed().as_secs_f64(),
        to_init: t_init - t_unpack,
        udev_script,
    })
}

/// ReaR's own pipeline (pack/GNU/Linux/900_create_initramfs.sh, default).
pub(crate) fn pack_stock(tree: &Path, out: &Path) -> Result<f64> {
    let script = format!(
        "cd '{}' && find . ! -name '*~' | cpio -H newc --create --quiet | gzip > '{}'",
        tree.display(),
        out.display()
    );
    timed(Command::new("sh").arg("-c").arg(script))
}

pub(crate) fn pack_mkimage(tree: &Path, out: &Path, compress: &[&str]) -> Result<f64> {
    let mut cmd = Command::new(paths::mkimage()?);
    cmd.arg("pack")
        .arg(tree)
        .arg("-o")
        .arg(out)
        .args(["--keep-owners", "--quiet"])
        .args(compress);
    timed(&mut cmd)
}

fn timed(cmd: &mut Command) -> Result<f64> {
    let t0 = Instant::now();
    let st = cmd.status()?;
    if !st.success() {
        bail!("{cmd:?}: {st}");
    }
    Ok(t0.elapsed().as_secs_f64())
}

pub(crate) fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

pub(crate) fn med_range(v: &[f64]) -> (f64, String) {
    let (lo, hi) = min_max(v);
    (median(v), format!("{}–{}", num(lo, 2), num(hi, 2)))
}

pub fn run(reps: usize) -> Result<String> {
    if let Some(why) = rear::unavailable() {
        return Ok(format!("## ReaR\n\nSkipped: {why}\n"));
    }
    let kernel = Kernel::get()?;
    eprintln!("bench rear: rear mkrescue, stock and with the kit");
    let stock = rear::mkrescue(&kernel, Flavour::Stock)?;
    let kit = rear::mkrescue(&kernel, Flavour::Kit)?;
    let out = paths::target_subdir("bench/rear")?;
    let (mut p_stock, mut p_zstd, mut p_gzip) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..reps {
        eprintln!("bench rear: packing, round {}/{reps}", i + 1);
        p_stock.push(pack_stock(&stock.rootfs, &out.join("stock.cgz"))?);
        p_zstd.push(pack_mkimage(&kit.rootfs, &out.join("kit.zst"), KIT_ZSTD)?);
        p_gzip.push(pack_mkimage(
            &stock.rootfs,
            &out.join("stock-mkimage.cgz"),
            &["--compress", "gzip", "--level", "6"],
        )?);
    }
    let (mut b_stock, mut b_kit) = (Vec::new(), Vec::new());
    for i in 0..reps {
        eprintln!("bench rear: booting, round {}/{reps}", i + 1);
        b_stock.push(boot_once(&stock, &format!("bench-rear-stock-{i}"))?);
        b_kit.push(boot_once(&kit, &format!("bench-rear-kit-{i}"))?);
    }
    let host = render(
        reps,
        &stock,
        &kit,
        [&p_stock, &p_zstd, &p_gzip],
        [
            size(&stock.initrd),
            size(&out.join("kit.zst")),
            size(&out.join("stock-mkimage.cgz")),
        ],
        [&b_stock, &b_kit],
    );
    if std::env::var("BENCH_REAR_SERVER").as_deref() == Ok("0") {
        return Ok(host);
    }
    Ok(format!("{host}\n{}", crate::rear_server::measure(reps)?))
}

fn render(
    reps: usize,
    stock: &Rescue,
    kit: &Rescue,
    packs: [&[f64]; 3],
    sizes: [u64; 3],
    boots: [&[Boot]; 2],
) -> String {
    let mut s = format!(
        "## ReaR: stock rescue initrd vs the kit (mkimage + rescue-init)\n\n\
         A real `rear mkrescue` (ReaR 2.7, OUTPUT=RAMDISK, modules for virtio/SATA/SCSI disks and ext4, \
         no firmware) made both: stock = ReaR's own init and `find | cpio | gzip`; kit = contrib/rear \
         (mkimage, zstd, rescue-init as PID 1). `rear mkrescue` took {} s stock and {} s with the kit. \
         Medians of {reps}, range in brackets. The zstd row packs the kit's tree as its \
         `rear mkrescue` does; the gzip rows pack the stock tree.\n\n",
        num(stock.mkrescue_time.as_secs_f64(), 1),
        num(kit.mkrescue_time.as_secs_f64(), 1)
    );
    let (ps, ps_r) = med_range(packs[0]);
    let mut t = Table::new(&[
        "pack",
        "seconds",
        "range",
        "ratio to stock",
        "initrd bytes",
        "size ratio",
    ]);
    let labels = [
        "ReaR: `find \\| cpio \\| gzip`",
        "kit: mkimage pack --compress zstd --level 9 --dedup",
        "mkimage pack --compress gzip --level 6 (ReaR's default kept)",
    ];
    for (i, label) in labels.iter().enumerate() {
        let (m, r) = if i == 0 {
            (ps, ps_r.clone())
        } else {
            med_range(packs[i])
        };
        t.row(vec![
            label.to_string(),
            num(m, 2),
            r,
            num(m / ps, 2),
            sizes[i].to_string(),
            num(sizes[i] as f64 / sizes[0] as f64, 2),
        ]);
    }
    s.push_str(&t.markdown());
    let mut t = Table::new(&[
        "boot (QEMU TCG, 1 GiB)",
        "unpack → ready (s)",
        "range",
        "ratio",
        "unpack → /init (s)",
        "ReaR's 40-start-udev script (s)",
    ]);
    let base = median(&boots[0].iter().map(|b| b.to_ready).collect::<Vec<_>>());
    for (label, b) in [
        ("stock (ReaR's init: systemd)", boots[0]),
        ("kit (rescue-init)", boots[1]),
    ] {
        let (m, r) = med_range(&b.iter().map(|x| x.to_ready).collect::<Vec<_>>());
        let init = median(&b.iter().map(|x| x.to_init).collect::<Vec<_>>());
        let udev = median(&b.iter().map(|x| x.udev_script).collect::<Vec<_>>());
        t.row(vec![
            label.into(),
            num(m, 2),
            r,
            num(m / base, 2),
            num(init, 2),
            num(udev, 2),
        ]);
    }
    s.push('\n');
    s.push_str(&t.markdown());
    s.push_str(
        "\nReaR's scripts sleep before the ready line whatever the init: system-setup's `sleep 1` \
         (a workaround for lost systemd output), and, when no systemd-udevd runs, \
         40-start-udev-or-load-modules.sh's wait loop (5 × 2 s) plus `sleep 1` and `sleep 3` around \
         trigger and settle. The kit replaces that script, under rescue-init only, by one that loads \
         /etc/modules and dm-mod (rescue-init's coldplug already loaded every device's driver).\n",
    );
    s
}

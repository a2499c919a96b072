//! Device bring-up under QEMU TCG: rescue-init's built-in coldplug against
//! Debian's udev doing the same job in the same image (`rescue.udev=off`
//! vs `rescue.udev=on`), on Debian's modular kernel.
//!
//! Images (both with Debian's udev, rules and hwdb from the host, as
//! `ImageSpec::with_host_udev` adds them):
//! - virtio: the modules a virtio VM needs (virtio_pci, virtio_blk,
//!   virtio_scsi, virtio_net, ext4 and what they pull in);
//! - storage+net: every module under `kernel/drivers/{ata, scsi, nvme,
//!   block, virtio, md, message/fusion, usb/storage, usb/host, net}` —
//!   a generic image that must boot on unknown hardware.
//!
//! Machines: "virtio" (a virtio-blk disk and a virtio-net NIC) and
//! "mixed" (virtio-blk, AHCI, NVMe, virtio-scsi, USB storage on xhci,
//! e1000 and virtio-net).
//!
//! The number: from the kernel's `Run /init as init process` to the init's
//! readiness line (`coldplug settled` / `udev settled`), both kernel
//! timestamps on the serial console. The block devices each way found are
//! reported too: a fast way that missed a disk would not count.

use crate::handoff::stamped;
use crate::report::{self, median, min_max, num, Table};
use anyhow::{bail, Context, Result};
use rescue_tests::{image, BootOpts, ImageSpec, Initramfs, Kernel, Vm};
use std::path::{Path, PathBuf};

const VIRTIO_MODULES: &[&str] = &[
    "virtio_pci",
    "virtio_blk",
    "virtio_scsi",
    "virtio_net",
    "ext4",
];
const STORAGE_NET_DIRS: &[&str] = &[
    "ata",
    "scsi",
    "nvme",
    "block",
    "virtio",
    "md",
    "message/fusion",
    "usb/storage",
    "usb/host",
    "net",
];
/// The readiness line: stamp, who, settled or not, its own ms, modules, disks.
const READY: &str = r"rescue-init: (coldplug|udev) (settled in|stopped at its deadline after) (\d+) ms[^\r\n]*?: (\d+) modules loaded[^\r\n]*; block devices: ([^\r\n]*)";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Machine {
    Virtio,
    Mixed,
}

impl Machine {
    fn name(self) -> &'static str {
        match self {
            Machine::Virtio => "virtio (virtio-blk, virtio-net)",
            Machine::Mixed => {
                "mixed (virtio-blk, AHCI, NVMe, virtio-scsi, USB storage, e1000, virtio-net)"
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Builtin,
    Udev,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Builtin => "built-in coldplug (rescue.udev=off)",
            Way::Udev => "udev (rescue.udev=on)",
        }
    }
    fn word(self) -> &'static str {
        match self {
            Way::Builtin => "coldplug",
            Way::Udev => "udev",
        }
    }
}

struct Case {
    image: &'static str,
    machine: Machine,
    initrd: Initramfs,
}

#[derive(Default)]
struct Sample {
    /// `Run /init` → readiness line, kernel clock.
    init_to_ready: f64,
    /// The init's own measure of the bring-up phase.
    phase: f64,
    modules: usize,
    disks: String,
}

/// `--module PATH` for every module under the storage and network dirs.
fn storage_net_modules(kernel: &Kernel) -> Result<Vec<PathBuf>> {
    let dir = kernel
        .modules
        .as_ref()
        .context("the test kernel has no modules directory")?;
    let mut out = Vec::new();
    for sub in STORAGE_NET_DIRS {
        collect_ko(&dir.join("kernel/drivers").join(sub), &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn collect_ko(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let p = e?.path();
        if p.is_dir() {
            collect_ko(&p, out)?;
        } else if p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains(".ko"))
        {
            out.push(p);
        }
    }
    Ok(())
}

fn build(kernel: &Kernel, name: &str, modules: &[String]) -> Result<(Initramfs, usize)> {
    let mut spec = ImageSpec::new(name)
        .with_host_udev()?
        .with_modules(kernel, modules)?;
    spec.compress = "zstd".into();
    eprintln!(
        "bench: building {name} ({} --module arguments)",
        modules.len()
    );
    let initrd = spec.build()?;
    let listed = std::process::Command::new(rescue_tests::paths::mkimage()?)
        .arg("list")
        .arg(&initrd.path)
        .output()?;
    let kos = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| l.ends_with(".ko"))
        .count();
    Ok((initrd, kos))
}

/// Empty raw disks; detection needs no filesystem.
fn disks(n: usize) -> Result<Vec<PathBuf>> {
    let dir = image::fresh_dir("bench-devices-disks")?;
    (0..n)
        .map(|i| {
            let p = dir.join(format!("disk{i}.img"));
            std::fs::File::create(&p)?.set_len(16 << 20)?;
            Ok(p)
        })
        .collect()
}

fn qemu_args(machine: Machine, d: &[PathBuf]) -> Vec<String> {
    let mut a: Vec<String> = [
        "-netdev",
        "user,id=n0",
        "-device",
        "virtio-net-pci,netdev=n0",
    ]
    .map(String::from)
    .to_vec();
    if machine == Machine::Virtio {
        return a;
    }
    for (i, disk) in d.iter().enumerate().skip(1) {
        a.extend([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d{i}", disk.display()),
        ]);
    }
    let devices = [
        "ahci,id=ahci",
        "ide-hd,drive=d1,bus=ahci.0",
        "nvme,serial=bench0,drive=d2",
        "virtio-scsi-pci,id=vscsi",
        "scsi-hd,drive=d3,bus=vscsi.0",
        "qemu-xhci,id=xhci",
        "usb-storage,bus=xhci.0,drive=d4",
        "e1000,netdev=n1",
    ];
    a.extend(["-netdev".to_string(), "user,id=n1".to_string()]);
    for dev in devices {
        a.extend(["-device".to_string(), dev.to_string()]);
    }
    a
}

fn run_once(kernel: &Kernel, case: &Case, way: Way, n: usize) -> Result<Sample> {
    let d = disks(5)?;
    let mut opts = BootOpts::new(&kernel.vmlinuz, &case.initrd.path);
    opts.mem_mb = 1024;
    opts.disks = vec![d[0].clone()];
    opts.extra_args = qemu_args(case.machine, &d);
    let slug = if case.machine == Machine::Virtio {
        "virtio"
    } else {
        "mixed"
    };
    opts.name = Some(format!(
        "bench-devices-{}-{slug}-{}-{n}",
        case.image,
        way.word()
    ));
    let udev = if way == Way::Udev { "on" } else { "off" };
    opts.cmdline_extra = format!("rescue.udev={udev} rescue.coldplug-timeout=120");
    let mut vm = Vm::boot(opts)?;
    let (t_init, _, _) = stamped(&mut vm, "Run /init as init process")?;
    let (t_ready, _, c) = stamped(&mut vm, READY)?;
    if c[2] != way.word() {
        return Err(vm.failure(&format!(
            "asked for {}, the readiness line is {}'s",
            way.word(),
            &c[2]
        )));
    }
    if c[3] != "settled in" {
        return Err(vm.failure("bring-up hit its deadline"));
    }
    Ok(Sample {
        init_to_ready: t_ready - t_init,
        phase: c[4].parse::<f64>()? / 1000.0,
        modules: c[5].parse()?,
        disks: c[6].trim().to_string(),
    })
}

pub fn run(reps: usize) -> Result<String> {
    let kernel = Kernel::get()?;
    let virtio: Vec<String> = VIRTIO_MODULES.iter().map(|s| s.to_string()).collect();
    let all: Vec<String> = storage_net_modules(&kernel)?
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let (virtio_img, virtio_kos) = build(&kernel, "bench-devices-virtio", &virtio)?;
    let (all_img, all_kos) = build(&kernel, "bench-devices-storage-net", &all)?;
    let cases = [
        Case {
            image: "virtio",
            machine: Machine::Virtio,
            initrd: virtio_img,
        },
        Case {
            image: "storage-net",
            machine: Machine::Virtio,
            initrd: all_img.clone(),
        },
        Case {
            image: "storage-net",
            machine: Machine::Mixed,
            initrd: all_img,
        },
    ];
    let ways = [Way::Builtin, Way::Udev];
    let mut results: Vec<Vec<Sample>> = (0..cases.len() * ways.len()).map(|_| Vec::new()).collect();
    let mut failures: Vec<String> = Vec::new();
    for n in 1..=reps {
        for (ci, case) in cases.iter().enumerate() {
            for (wi, way) in ways.iter().enumerate() {
                eprintln!(
                    "bench: devices round {n}/{reps}: {} image, {} machine, {} (load {})",
                    case.image,
                    case.machine.name(),
                    way.word(),
                    report::load1()
                );
                match run_once(&kernel, case, *way, n) {
                    Ok(s) => {
                        eprintln!("bench:   /init → settled {:.3} s (phase {:.3} s), {} modules, disks: {}", s.init_to_ready, s.phase, s.modules, s.disks);
                        results[ci * ways.len() + wi].push(s);
                    }
                    Err(e) => {
                        let line = format!("{e:#}").lines().next().unwrap_or("").to_string();
                        eprintln!("bench:   run failed: {line}");
                        failures.push(format!(
                            "{} / {} / {}: {line}",
                            case.image,
                            case.machine.name(),
                            way.word()
                        ));
                    }
                }
            }
        }
    }
    if results.iter().any(Vec::is_empty) {
        bail!("a case had no successful run; see target/vm-logs/bench-devices-*.log");
    }
    Ok(render(
        reps,
        &cases,
        &ways,
        &results,
        (virtio_kos, all_kos),
        &failures,
    ))
}

fn render(
    reps: usize,
    cases: &[Case],
    ways: &[Way],
    results: &[Vec<Sample>],
    kos: (usize, usize),
    failures: &[String],
) -> String {
    let mut t = Table::new(&[
        "image",
        "machine",
        "way",
        "runs ok",
        "/init → settled s (median)",
        "min–max",
        "bring-up phase s (init's own)",
        "modules loaded",
        "block devices found",
    ]);
    let mut ratios = Table::new(&[
        "image",
        "machine",
        "built-in s",
        "udev s",
        "built-in / udev",
    ]);
    for (ci, case) in cases.iter().enumerate() {
        let mut medians = Vec::new();
        for (wi, way) in ways.iter().enumerate() {
            let s = &results[ci * ways.len() + wi];
            let total: Vec<f64> = s.iter().map(|x| x.init_to_ready).collect();
            let (lo, hi) = min_max(&total);
            let mut disks: Vec<&str> = s.iter().map(|x| x.disks.as_str()).collect();
            disks.dedup();
            medians.push(median(&total));
            t.row(vec![
                case.image.into(),
                case.machine.name().into(),
                way.name().into(),
                format!("{}/{reps}", s.len()),
                num(median(&total), 3),
                format!("{}–{}", num(lo, 3), num(hi, 3)),
                num(median(&s.iter().map(|x| x.phase).collect::<Vec<_>>()), 3),
                num(
                    median(&s.iter().map(|x| x.modules as f64).collect::<Vec<_>>()),
                    0,
                ),
                disks.join(" / "),
            ]);
        }
        ratios.row(vec![
            case.image.into(),
            case.machine.name().into(),
            num(medians[0], 3),
            num(medians[1], 3),
            format!("**{}×**", num(medians[0] / medians[1], 2)),
        ]);
    }
    let mut out = String::from("# Device bring-up: built-in coldplug vs udev (QEMU TCG)\n\n");
    out += &report::machine();
    out += &format!(
        "\nImages: virtio ({} modules), storage-net ({} modules: kernel/drivers/{{{}}} with their dependencies); \
         both hold Debian's udev ({}), its rules and hwdb. {reps} runs per row, interleaved; medians. \
         Time: kernel timestamps of `Run /init as init process` and the readiness line.\n\n",
        kos.0,
        kos.1,
        STORAGE_NET_DIRS.join(","),
        report::first_line("dpkg-query", &["-W", "-f", "${Version}", "udev"]),
    );
    out += &t.markdown();
    out += "\n";
    out += &ratios.markdown();
    if !failures.is_empty() {
        out += "\nFailed runs (left out of the medians):\n\n";
        for f in failures {
            out += &format!("- {f}\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_regex_reads_both_ways_and_the_deadline() {
        let re = regex::Regex::new(&crate::handoff::stamp_re(READY)).unwrap();
        let line = "[   13.564900] rescue-init: udev settled in 9058 ms: 9 modules loaded (virtio_pci, virtio_blk); block devices: vda\r\n";
        let c = re.captures(line).unwrap();
        assert_eq!(
            (&c[1], &c[2], &c[3], &c[4], &c[5], &c[6]),
            ("13.564900", "udev", "settled in", "9058", "9", "vda")
        );
        let late = "[ 70.1] rescue-init: coldplug stopped at its deadline after 60000 ms (not settled: USB storage 2-1:1.0 is still scanning for disks): 3 modules loaded (a, b, c); block devices: none";
        let c = re.captures(late).unwrap();
        assert_eq!(
            (&c[2], &c[3], &c[5], &c[6]),
            ("coldplug", "stopped at its deadline after", "3", "none")
        );
    }
}

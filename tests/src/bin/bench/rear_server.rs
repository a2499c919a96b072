//! The realistic case of `rescue-bench rear`: the rescue trees ReaR builds
//! on a running Debian 12 server, where systemd and udevd run and ReaR
//! puts both into the tree. The journey's server (rescue_tests::e2e) makes
//! them with two real `rear mkrescue` runs, the kit's and the stock one
//! (the kit switched off in local.conf); each ISO's kernel and initrd and
//! each build tree are copied to the host.

use anyhow::{bail, Context, Result};
use rescue_tests::e2e::{server, Journey};
use rescue_tests::kernel::run;
use rescue_tests::rear::{Flavour, Rescue};
use rescue_tests::{BootOpts, ExitKind, Vm};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MKRESCUE: Duration = Duration::from_secs(3600);
const COPY: Duration = Duration::from_secs(1800);

/// The server (for its disks and machine) and the two rescues it made.
struct ServerRescues {
    journey: Journey,
    stock: Rescue,
    kit: Rescue,
}

fn make() -> Result<ServerRescues> {
    let mut j = Journey::in_dir("bench-rear-server", Flavour::Kit)?;
    eprintln!(
        "bench rear: building the journey's server in {}",
        j.dir.display()
    );
    j.build_server()?;
    j.install()?;
    let mut vm = j.boot_server()?;
    j.install_package()?;
    let kit = mkrescue_in(&j, "kit", "")?;
    let stock = mkrescue_in(&j, "stock", rescue_tests::e2e::flavour_conf(Flavour::Stock))?;
    j.ssh
        .output("systemctl poweroff", Duration::from_secs(30))?;
    if vm.wait_exit(Duration::from_secs(300))? != ExitKind::PowerOff {
        bail!("the server did not power off");
    }
    Ok(ServerRescues {
        journey: j,
        stock,
        kit,
    })
}

/// `rear -v mkrescue` in the server with the README's local.conf plus
/// `extra`; the ISO's kernel and initrd and the build tree to the host.
fn mkrescue_in(j: &Journey, name: &str, extra: &str) -> Result<Rescue> {
    let conf = format!(
        "{}KEEP_BUILD_DIR=yes\n{extra}",
        server::readme_local_conf()?
    );
    j.ssh.run(&format!(
        "rm -rf /var/tmp/rear.* && cat > /etc/rear/local.conf <<'EOT'\n{conf}EOT"
    ))?;
    eprintln!("bench rear: rear mkrescue in the server ({name})");
    let t0 = Instant::now();
    let log = j.ssh.run_for("rear -v mkrescue 2>&1", MKRESCUE)?;
    let mkrescue_time = t0.elapsed();
    let dir = j.dir.join(name);
    std::fs::create_dir_all(&dir)?;
    let iso = dir.join("rescue.iso");
    j.ssh
        .download("cat /var/lib/rear/output/rear-server.iso", &iso, COPY)?;
    let tar = dir.join("rootfs.tar");
    j.ssh
        .download("tar -C /var/tmp/rear.*/rootfs -cf - .", &tar, COPY)?;
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs)?;
    run(Command::new("tar")
        .arg("-xpf")
        .arg(&tar)
        .arg("-C")
        .arg(&rootfs))
    .context("unpacking the build tree")?;
    std::fs::remove_file(&tar)?;
    let boot = dir.join("isolinux");
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(&iso)
        .args(["-extract", "/isolinux"])
        .arg(&boot))
    .context("extracting the ISO's isolinux directory")?;
    let initrd = std::fs::read_dir(&boot)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("initrd"))
        })
        .with_context(|| format!("no initrd* in {}", boot.display()))?;
    Ok(Rescue {
        kernel: boot.join("kernel"),
        initrd,
        rootfs,
        log,
        mkrescue_time,
    })
}

/// The server's machine booting `r` directly (as after a kexec: no
/// firmware, no boot loader), its disks and NIC attached.
fn boot_opts(s: &ServerRescues, r: &Rescue, name: &str) -> BootOpts {
    let mut opts = s.journey.machine(name, disks(&s.journey), None);
    opts.boot = rescue_tests::qemu::Boot::Kernel {
        kernel: r.kernel.clone(),
        initrd: r.initrd.clone(),
    };
    // ReaR's own append line, without a recover mode.
    opts.cmdline_extra = "root=/dev/ram0 vga=normal rw selinux=0".into();
    opts.reboot_exits = true;
    opts
}

fn disks(j: &Journey) -> Vec<PathBuf> {
    vec![j.img("server"), j.img("backup")]
}

/// The kit's timeline of the running boot, over SSH (its blame, longest
/// first); the VM must still run.
fn kit_blame(s: &ServerRescues) -> Result<String> {
    s.journey
        .ssh
        .wait_until("rescue-init analyze blame", Duration::from_secs(300))
}

/// Whether a path exists (for reporting which tree has udevd).
fn has(tree: &Path, rel: &str) -> bool {
    tree.join(rel).exists()
}

/// The realistic case, measured: packing the server's trees, the initrds'
/// sizes, and `reps` boots of each on the server's machine.
pub fn measure(reps: usize) -> Result<String> {
    use crate::rear::{boot_timed, med_range, pack_mkimage, pack_stock, size, KIT_ZSTD};
    use crate::report::{median, num, Table};
    let s = make()?;
    let out = s.journey.dir.join("packs");
    std::fs::create_dir_all(&out)?;
    let (kit, stock) = (s.kit.rootfs.as_path(), s.stock.rootfs.as_path());
    let candidates: [(&str, &Path, &[&str]); 5] = [
        (
            "mkimage gzip -6 (ReaR's default kept; stock tree)",
            stock,
            &["--compress", "gzip", "--level", "6"],
        ),
        (
            "mkimage zstd -3 (the kit before)",
            kit,
            &["--compress", "zstd"],
        ),
        ("mkimage zstd -9 --dedup (the kit now)", kit, KIT_ZSTD),
        (
            "mkimage zstd -15 --dedup",
            kit,
            &["--compress", "zstd", "--level", "15", "--dedup"],
        ),
        (
            "mkimage zstd -19 --dedup",
            kit,
            &["--compress", "zstd", "--level", "19", "--dedup"],
        ),
    ];
    let mut t = Table::new(&[
        "pack the server's tree (host, 2 cores)",
        "seconds",
        "range",
        "time ratio",
        "bytes",
        "size ratio",
    ]);
    let mut stock_times = Vec::new();
    for _ in 0..reps {
        stock_times.push(pack_stock(&s.stock.rootfs, &out.join("stock.cgz"))?);
    }
    let (base_t, r) = med_range(&stock_times);
    let base_s = size(&out.join("stock.cgz")) as f64;
    t.row(vec![
        "ReaR: `find \\| cpio \\| gzip`".into(),
        num(base_t, 2),
        r,
        "1.00".into(),
        num(base_s, 0),
        "1.00".into(),
    ]);
    for (label, tree, args) in candidates {
        let file = out.join("kit.img");
        let times: Vec<f64> = (0..reps)
            .map(|_| pack_mkimage(tree, &file, args))
            .collect::<Result<_>>()?;
        let (m, r) = med_range(&times);
        let bytes = size(&file) as f64;
        t.row(vec![
            label.into(),
            num(m, 2),
            r,
            num(m / base_t, 2),
            num(bytes, 0),
            num(bytes / base_s, 2),
        ]);
    }
    let mut boots = Table::new(&[
        "boot on the server's machine (2 vCPUs, 2 GiB)",
        "unpack → ready (s)",
        "range",
        "ratio",
        "unpack → /init (s)",
        "40-start-udev (s)",
    ]);
    let (mut b_stock, mut b_kit, mut blame) = (Vec::new(), Vec::new(), String::new());
    for i in 0..reps {
        eprintln!(
            "bench rear: the server's rescue, booting round {}/{reps}",
            i + 1
        );
        b_stock.push(boot_timed(&mut Vm::boot(boot_opts(
            &s,
            &s.stock,
            &format!("bench-rear-server-stock-{i}"),
        ))?)?);
        let mut vm = Vm::boot(boot_opts(&s, &s.kit, &format!("bench-rear-server-kit-{i}")))?;
        b_kit.push(boot_timed(&mut vm)?);
        if i == 0 {
            blame = kit_blame(&s)?;
        }
        drop(vm);
    }
    let base = median(&b_stock.iter().map(|b| b.to_ready).collect::<Vec<_>>());
    for (label, b) in [
        ("stock (systemd, udevd)", &b_stock),
        ("kit (rescue-init, udevd)", &b_kit),
    ] {
        let (m, r) = med_range(&b.iter().map(|x| x.to_ready).collect::<Vec<_>>());
        let init = median(&b.iter().map(|x| x.to_init).collect::<Vec<_>>());
        let udev = median(&b.iter().map(|x| x.udev_script).collect::<Vec<_>>());
        boots.row(vec![
            label.into(),
            num(m, 2),
            r,
            num(m / base, 2),
            num(init, 2),
            num(udev, 2),
        ]);
    }
    let top: Vec<&str> = blame.lines().take(15).collect();
    Ok(format!(
        "## ReaR on a Debian 12 server: the realistic tree\n\n\
         The journey's server (systemd and udevd running; `make test-e2e`) made both trees with a real `rear mkrescue` \
         ({} s with the kit, {} s stock, under TCG); the stock tree {} systemd-udevd. ISO initrds: kit {} bytes, stock {} bytes \
         ({}×). Medians of {reps}.\n\n{}\n{}\nThe kit's boot as `rescue-init analyze blame` tells it (first run, longest first):\n\n```\n{}\n```\n",
        num(s.kit.mkrescue_time.as_secs_f64(), 0),
        num(s.stock.mkrescue_time.as_secs_f64(), 0),
        if has(&s.stock.rootfs, "lib/systemd/systemd-udevd") || has(&s.stock.rootfs, "usr/lib/systemd/systemd-udevd") { "has" } else { "lacks" },
        size(&s.kit.initrd),
        size(&s.stock.initrd),
        num(size(&s.kit.initrd) as f64 / size(&s.stock.initrd) as f64, 2),
        t.markdown(),
        boots.markdown(),
        top.join("\n"),
    ))
}

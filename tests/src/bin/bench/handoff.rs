//! The kexec handoff done two ways under QEMU TCG, same kernel, same
//! target disk and target initrd as the VM tests (`rescue_tests::target`):
//!
//! - manual: busybox `sh` is PID 1 (`/init` script, image made by
//!   `mkimage build --bin /usr/sbin/kexec`); it mounts the disk, writes the
//!   data, then `kexec -s -l`, `umount -a -r -f`, `sync`, `sleep 3`,
//!   `kexec -e`, writing a marker to /dev/kmsg between the steps;
//! - rescue-init: `rescue.run=/recover rescue.after=handoff`, exactly the
//!   VM test scenario (the same /recover, plus the marker);
//! - rescue-init with the kernel loaded ahead: /recover ends with `rescue-init
//!   handoff load`, as the ReaR kit's finalize script does, so the reboot
//!   only checks that the plan is unchanged.
//!
//! Clocks. Intervals inside the rescue system come from kernel timestamps
//! (`[  x.xxxxxx]`) of lines on the serial console: the recovery's done
//! marker and the step markers are written to /dev/kmsg, so they share
//! the clock of `kexec_core: Starting new kernel`. The target kernel's
//! timestamps restart at 0, so "done → target's Run /init" is measured on
//! the host: the wall-clock time between the arrival of the two console
//! lines (read by the harness as QEMU writes them; the guest clock follows
//! the host's under TCG).

use crate::report::{self, median, min_max, num, Table};
use anyhow::{bail, Context, Result};
use rescue_tests::target::{load_modules_sh, module_files, target_initrd, write_exec, Layout};
use rescue_tests::{image, paths, BootOpts, ExitKind, ImageSpec, Initramfs, Kernel, Vm};
use std::process::Command;
use std::time::{Duration, Instant};

/// Generous: TCG on two cores shared with compilers.
const WAIT: Duration = Duration::from_secs(300);

/// The recovery both ways share: mount the disk, write and checksum 8 MiB,
/// then the done marker (kernel-stamped through /dev/kmsg).
fn recovery_sh() -> String {
    format!(
        "{}mkdir -p /mnt/local\nmount -t ext4 /dev/vda /mnt/local\n\
         dd if=/dev/urandom of=/mnt/local/data.bin bs=1M count=8 2>/dev/null\n\
         (cd /mnt/local && md5sum data.bin > data.md5)\n",
        load_modules_sh()
    )
}

const DONE: &str = "BENCH-RECOVERY-DONE";
const TARGET_CMDLINE: &str = "console=ttyS0 panic=-1";

/// (B, C) rescue-init's image: the VM test's /recover plus the marker,
/// and for C the kernel loaded ahead.
fn rescue_image(kernel: &Kernel, way: Way) -> Result<Initramfs> {
    let dir = image::fresh_dir(&format!("bench-handoff-{}-src", way.slug()))?;
    let script = dir.join("recover");
    let preload = if way == Way::Preloaded {
        "rescue-init handoff load\n"
    } else {
        ""
    };
    let body = format!(
        "#!/bin/sh\nset -e\n{}mkdir -p /run/rescue-init\ncat > /run/rescue-init/handoff <<'EOF'\n\
         ROOT=/mnt/local\nKERNEL=/boot/vmlinuz-test\nINITRD=/boot/initrd-test.img\n\
         CMDLINE='{TARGET_CMDLINE} target.marker=rescue-init'\nEOF\n{preload}\
         echo {DONE} > /dev/kmsg\necho \"RECOVERY-DONE uptime=$(cut -d' ' -f1 /proc/uptime)\"\n",
        recovery_sh()
    );
    write_exec(&script, &body)?;
    let mut spec =
        ImageSpec::new(&format!("bench-handoff-{}", way.slug())).file(script, "/recover");
    for (src, dst) in module_files(kernel)? {
        spec = spec.file(src, &dst);
    }
    spec.build()
}

/// (A) busybox sh as PID 1 doing the handoff by hand.
fn manual_init() -> String {
    format!(
        r#"#!/bin/sh
# The kernel's usermode helper may run /sbin/modprobe; only PID 1 recovers.
[ $$ = 1 ] || exit 1
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=755 tmpfs /run
echo on > /proc/sys/kernel/printk_devkmsg
exec 3>/dev/kmsg
mark() {{ echo "$1" >&3; }}
{recovery}mark {DONE}
echo "RECOVERY-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
if ! kexec -s -l /mnt/local/boot/vmlinuz-test --initrd=/mnt/local/boot/initrd-test.img \
        --command-line='{TARGET_CMDLINE} target.marker=manual'; then
    echo MANUAL-LOAD-FAILED; busybox poweroff -f
fi
mark BENCH-MANUAL-LOADED
umount -a -r -f
mark BENCH-MANUAL-UNMOUNTED
sync
mark BENCH-MANUAL-SYNCED
sleep 3
mark BENCH-MANUAL-SLEPT
kexec -e
echo MANUAL-EXEC-FAILED
busybox poweroff -f
"#,
        recovery = recovery_sh()
    )
}

fn manual_image(kernel: &Kernel) -> Result<Initramfs> {
    let work = image::fresh_dir("bench-handoff-manual")?;
    let tree = work.join("busybox");
    image::busybox_tree(&tree, image::INIT_APPLETS)?;
    let init = work.join("init.sh");
    write_exec(&init, &manual_init())?;
    let out = work.join("bench-handoff-manual.cpio.gz");
    let busybox = image::busybox()?;
    let mut cmd = Command::new(paths::mkimage()?);
    cmd.arg("build")
        .arg("--init")
        .arg(&init)
        .arg("--rootfs")
        .arg(&tree);
    cmd.args(["--bin", "/usr/sbin/kexec"]);
    // mkimage links /sbin/modprobe to /init; a busybox image has busybox's.
    cmd.arg("--file")
        .arg(format!("{}:/sbin/modprobe", busybox.display()));
    for (src, dst) in module_files(kernel)? {
        cmd.arg("--file").arg(format!("{}:{dst}", src.display()));
    }
    cmd.arg("-o").arg(&out).args(["--compress", "gzip"]);
    let res = cmd.output().context("running mkimage build")?;
    if !res.status.success() {
        bail!(
            "mkimage build for the manual image failed: {}",
            String::from_utf8_lossy(&res.stderr)
        );
    }
    Ok(Initramfs { path: out })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Way {
    Manual,
    RescueInit,
    Preloaded,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Manual => "manual (busybox sh, kexec-tools)",
            Way::RescueInit => "rescue-init (rescue.after=handoff)",
            Way::Preloaded => "rescue-init, kernel loaded ahead (`handoff load`)",
        }
    }
    fn slug(self) -> &'static str {
        match self {
            Way::Manual => "manual",
            Way::RescueInit => "rescue-init",
            Way::Preloaded => "preloaded",
        }
    }
}

/// One run's numbers (seconds unless named otherwise).
#[derive(Clone, Debug, Default)]
struct Sample {
    /// done marker → `kexec_core: Starting new kernel` (guest clock).
    done_to_kexec: f64,
    /// done → kernel loaded (guest clock).
    load: f64,
    /// kernel loaded → `Starting new kernel` (guest clock).
    teardown: f64,
    /// manual: umount / sync / sleep+kexec -e; rescue-init: its own
    /// "processes stopped, synced" and "filesystems done" ms, then → kexec.
    steps: Vec<(String, f64)>,
    /// done → the target's `Run /init as init process` (host wall clock).
    done_to_target_init: f64,
    /// The target kernel's own timestamp of `Run /init as init process`.
    target_init_stamp: f64,
    /// done → `Starting new kernel` measured on the host, as a cross-check.
    done_to_kexec_host: f64,
    data_ok: bool,
    record_found: bool,
    fsck_rc: i32,
    needs_recovery: bool,
    state: String,
}

pub fn stamp_re(text: &str) -> String {
    format!(r"\[\s*(\d+\.\d+)\] {text}")
}

/// Waits for a kernel-stamped line; returns (guest stamp, host instant, captures).
pub fn stamped(vm: &mut Vm, text: &str) -> Result<(f64, Instant, Vec<String>)> {
    let caps = vm.wait_for_re(&stamp_re(text), WAIT)?;
    let at = Instant::now();
    Ok((caps[1].parse()?, at, caps))
}

fn run_once(
    way: Way,
    kernel: &Kernel,
    target: &Initramfs,
    image: &Initramfs,
    n: usize,
) -> Result<Sample> {
    let disk = rescue_tests::target::target_disk(
        kernel,
        target,
        Layout::Named,
        &format!("bench-handoff-disk-{}", way.slug()),
    )?;
    let mut opts = BootOpts::new(&kernel.vmlinuz, &image.path);
    opts.disks = vec![disk.clone()];
    opts.name = Some(format!("bench-handoff-{}-{n}", way.slug()));
    if way != Way::Manual {
        opts.cmdline_extra = "rescue.run=/recover rescue.after=handoff".into();
    }
    let mut vm = Vm::boot(opts)?;
    let mut s = Sample::default();
    let (t_done, h_done, _) = stamped(&mut vm, DONE)?;
    let t_loaded;
    let h_kexec;
    match way {
        Way::Manual => {
            t_loaded = stamped(&mut vm, "BENCH-MANUAL-LOADED")?.0;
            let t_umount = stamped(&mut vm, "BENCH-MANUAL-UNMOUNTED")?.0;
            let t_sync = stamped(&mut vm, "BENCH-MANUAL-SYNCED")?.0;
            s.steps
                .push(("umount -a -r -f".into(), t_umount - t_loaded));
            s.steps.push(("sync".into(), t_sync - t_umount));
            let t_slept = stamped(&mut vm, "BENCH-MANUAL-SLEPT")?.0;
            s.steps.push(("sleep 3".into(), t_slept - t_sync));
            let (t_kexec, h, _) = stamped(&mut vm, "kexec_core: Starting new kernel")?;
            h_kexec = h;
            s.steps.push(("kexec -e".into(), t_kexec - t_slept));
            s.done_to_kexec = t_kexec - t_done;
            s.done_to_kexec_host = (h_kexec - h_done).as_secs_f64();
        }
        Way::RescueInit | Way::Preloaded => {
            // Loaded ahead, the reboot only finds the plan unchanged.
            t_loaded = stamped(&mut vm, r"rescue-init: handoff: (kernel loaded|the kernel .rescue-init handoff load. loaded is unchanged)")?.0;
            let (_, _, c) = stamped(
                &mut vm,
                r"rescue-init: shutdown \(kexec\): processes stopped, synced \((\d+) ms\)",
            )?;
            s.steps.push((
                "stop processes + sync (own log)".into(),
                c[2].parse::<f64>()? / 1000.0,
            ));
            let (_, _, c) = stamped(
                &mut vm,
                r"rescue-init: shutdown \(kexec\): filesystems done, (\d+) left busy \((\d+) ms\)",
            )?;
            s.steps.push((
                "… + unmount + sync (own log)".into(),
                c[3].parse::<f64>()? / 1000.0,
            ));
            if c[2] != "0" {
                s.steps.push((format!("{} left busy", c[2]), f64::NAN));
            }
            let t_now = stamped(&mut vm, "rescue-init: shutdown: kexec now")?.0;
            let (t_kexec, h, _) = stamped(&mut vm, "kexec_core: Starting new kernel")?;
            h_kexec = h;
            s.steps
                .push(("loaded → \"kexec now\"".into(), t_now - t_loaded));
            s.steps.push((
                "\"kexec now\" → Starting new kernel".into(),
                t_kexec - t_now,
            ));
            s.done_to_kexec = t_kexec - t_done;
            s.done_to_kexec_host = (h_kexec - h_done).as_secs_f64();
        }
    }
    s.load = t_loaded - t_done;
    s.teardown = s.done_to_kexec - s.load;
    let (_, h_linux, _) = stamped(&mut vm, "Linux version ")?;
    let (t_init, h_init, _) = stamped(&mut vm, "Run /init as init process")?;
    s.steps.push((
        "host clock: Starting new kernel → target's `Linux version` line".into(),
        (h_linux - h_kexec).as_secs_f64(),
    ));
    s.steps.push((
        "host clock: target's `Linux version` → `Run /init` line".into(),
        (h_init - h_linux).as_secs_f64(),
    ));
    s.target_init_stamp = t_init;
    s.done_to_target_init = (h_init - h_done).as_secs_f64();
    let caps = vm.wait_for_re(r"TARGET-(DATA-OK|DATA-BAD|MOUNT-FAILED)", WAIT)?;
    s.data_ok = caps[1] == "DATA-OK";
    vm.wait_for_re("TARGET-DONE", WAIT)?;
    s.record_found = vm.console().contains("TARGET-RECORD-FOUND");
    let exit = vm.wait_exit(WAIT)?;
    if exit != ExitKind::PowerOff {
        return Err(vm.failure(&format!("the target ended with {exit:?}, not a power-off")));
    }
    drop(vm);
    let fsck = Command::new("e2fsck").arg("-fn").arg(&disk).output()?;
    s.fsck_rc = fsck.status.code().unwrap_or(-1);
    let dump = Command::new("dumpe2fs").arg("-h").arg(&disk).output()?;
    let text = String::from_utf8_lossy(&dump.stdout);
    s.needs_recovery = text
        .lines()
        .any(|l| l.starts_with("Filesystem features:") && l.contains("needs_recovery"));
    s.state = text
        .lines()
        .find_map(|l| l.strip_prefix("Filesystem state:"))
        .unwrap_or("?")
        .trim()
        .to_string();
    Ok(s)
}

fn med(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> f64 {
    median(&samples.iter().map(f).collect::<Vec<_>>())
}

fn range(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> String {
    let (lo, hi) = min_max(&samples.iter().map(f).collect::<Vec<_>>());
    format!("{}–{}", num(lo, 3), num(hi, 3))
}

pub fn run(reps: usize) -> Result<String> {
    let kernel = Kernel::get()?;
    eprintln!("bench: building the images");
    let target = target_initrd(&kernel, "bench-handoff-target")?;
    let images = [
        (Way::Manual, manual_image(&kernel)?),
        (Way::RescueInit, rescue_image(&kernel, Way::RescueInit)?),
        (Way::Preloaded, rescue_image(&kernel, Way::Preloaded)?),
    ];
    let mut results: Vec<(Way, Vec<Sample>, Vec<String>)> = images
        .iter()
        .map(|(w, _)| (*w, Vec::new(), Vec::new()))
        .collect();
    for n in 1..=reps {
        for (k, (way, img)) in images.iter().enumerate() {
            eprintln!(
                "bench: handoff round {n}/{reps}: {} (load {})",
                way.name(),
                report::load1()
            );
            match run_once(*way, &kernel, &target, img, n) {
                Ok(s) => {
                    eprintln!(
                        "bench:   done→kexec {:.3} s (load {:.3} s, teardown {:.3} s), done→target /init {:.3} s, fsck rc {}, needs_recovery {}",
                        s.done_to_kexec, s.load, s.teardown, s.done_to_target_init, s.fsck_rc, s.needs_recovery
                    );
                    results[k].1.push(s);
                }
                Err(e) => {
                    eprintln!("bench:   run failed: {e:#}");
                    results[k]
                        .2
                        .push(format!("{e:#}").lines().next().unwrap_or("").to_string());
                }
            }
        }
    }
    if results.iter().any(|(_, s, _)| s.is_empty()) {
        bail!("a way had no successful run; see target/vm-logs/bench-handoff-*.log");
    }
    Ok(render(&kernel, reps, &results))
}

fn render(kernel: &Kernel, reps: usize, results: &[(Way, Vec<Sample>, Vec<String>)]) -> String {
    let mut t = Table::new(&[
        "way",
        "runs ok",
        "done → kexec s (median)",
        "min–max",
        "load s",
        "teardown s",
        "done → target's Run /init s (host clock)",
        "target's own Run /init stamp s",
        "data ok / record",
        "disk clean (e2fsck -fn rc, needs_recovery, state)",
    ]);
    for (way, s, failed) in results {
        let clean: Vec<String> = s
            .iter()
            .map(|x| {
                format!(
                    "{}/{}/{}",
                    x.fsck_rc,
                    if x.needs_recovery { "yes" } else { "no" },
                    x.state
                )
            })
            .collect();
        let all_clean = s
            .iter()
            .all(|x| x.fsck_rc == 0 && !x.needs_recovery && x.state == "clean");
        t.row(vec![
            way.name().to_string(),
            format!("{}/{}", s.len(), s.len() + failed.len()),
            num(med(s, |x| x.done_to_kexec), 3),
            range(s, |x| x.done_to_kexec),
            num(med(s, |x| x.load), 3),
            num(med(s, |x| x.teardown), 3),
            num(med(s, |x| x.done_to_target_init), 3),
            num(med(s, |x| x.target_init_stamp), 3),
            format!(
                "{}/{} / {}/{}",
                s.iter().filter(|x| x.data_ok).count(),
                s.len(),
                s.iter().filter(|x| x.record_found).count(),
                s.len()
            ),
            format!(
                "{} ({})",
                if all_clean { "**yes**" } else { "**no**" },
                clean.join(", ")
            ),
        ]);
    }
    let m = &results[0].1;
    let mut ratios = Table::new(&["against the manual way", "ratio", "goal"]);
    for (way, r, _) in &results[1..] {
        let ratio = |f: fn(&Sample) -> f64| med(r, f) / med(m, f);
        let clean = r.iter().all(|x| x.fsck_rc == 0 && !x.needs_recovery);
        let whole = ratio(|x| x.done_to_kexec);
        ratios.row(vec![
            format!(
                "{}: recovery done (the reboot asked for) → kexec syscall",
                way.slug()
            ),
            format!("{}×", num(whole, 3)),
            match way {
                Way::Preloaded => format!(
                    "≤ 0.1× with the disk clean: {}",
                    if whole <= 0.1 && clean {
                        "met"
                    } else {
                        "**not met**"
                    }
                ),
                _ => String::new(),
            },
        ]);
        ratios.row(vec![
            format!("{}: teardown (kernel loaded → kexec syscall)", way.slug()),
            format!("{}×", num(ratio(|x| x.teardown), 3)),
            String::new(),
        ]);
        ratios.row(vec![
            format!("{}: done → target's Run /init (host clock)", way.slug()),
            format!("{}×", num(ratio(|x| x.done_to_target_init), 3)),
            String::new(),
        ]);
    }
    let mut steps = Table::new(&["way", "step", "median s", "min–max"]);
    for (way, s, _) in results {
        let Some(first) = s.first() else { continue };
        for (i, (name, _)) in first.steps.iter().enumerate() {
            let get = |x: &Sample| x.steps.get(i).map_or(f64::NAN, |p| p.1);
            steps.row(vec![
                way.slug().into(),
                name.clone(),
                num(med(s, get), 3),
                range(s, get),
            ]);
        }
        steps.row(vec![
            way.slug().into(),
            "cross-check: done → kexec on the host clock".into(),
            num(med(s, |x| x.done_to_kexec_host), 3),
            range(s, |x| x.done_to_kexec_host),
        ]);
    }
    let failures: Vec<String> = results
        .iter()
        .flat_map(|(w, _, f)| f.iter().map(move |e| format!("- {}: {e}\n", w.slug())))
        .collect();
    format!(
        "## kexec handoff: rescue-init against the manual way\n\n{}\
         QEMU TCG, 512 MiB, kernel {} (the rescue and the target kernel are the same file), {reps} runs per way, \
         interleaved. Both recover the same way (insmod virtio/ext4, mount /dev/vda at /mnt/local, write and \
         checksum 8 MiB) and then write `{DONE}` to /dev/kmsg (the preloaded way runs `rescue-init handoff load` \
         before that, as the ReaR kit does at the end of `rear recover`, where ReaR's 30-second reboot countdown \
         follows). *done → kexec* is guest kernel time from that line \
         to `kexec_core: Starting new kernel`; *load* ends at `handoff: kernel loaded` (rescue-init) or after \
         `kexec -s -l` (manual); *teardown* is the rest. *done → target's Run /init* is host wall-clock time \
         between the two console lines (the target kernel's clock restarts at 0); its own stamp for that line is \
         in the next column. Disk checked on the host after the target powered off (the target mounts it \
         `ro,noload`).\n\n{}\n{}\nSteps (guest kernel clock unless marked \"host clock\"; rescue-init's own ms figures are cumulative from the start \
         of its teardown):\n\n{}\n{}Logs: `target/vm-logs/bench-handoff-*.log`.\n",
        report::machine(),
        kernel.release.as_deref().unwrap_or("?"),
        t.markdown(),
        ratios.markdown(),
        steps.markdown(),
        if failures.is_empty() { String::new() } else { format!("\nFailed runs:\n{}\n", failures.concat()) },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_regex_reads_kernel_timestamps() {
        let re = regex::Regex::new(&stamp_re("kexec_core: Starting new kernel")).unwrap();
        let caps = re
            .captures("x\r\n[   12.345678] kexec_core: Starting new kernel\r\n")
            .unwrap();
        assert_eq!(&caps[1], "12.345678");
    }

    #[test]
    fn manual_init_guards_against_modprobe_calls() {
        let s = manual_init();
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains("[ $$ = 1 ] || exit 1"));
        assert!(s.contains("umount -a -r -f"));
    }
}

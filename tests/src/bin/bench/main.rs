//! `rescue-bench`: side-by-side benchmarks for the README.
//!
//!   rescue-bench mkimage   mkimage pack vs find|cpio|gzip/pigz/zstd, bsdtar
//!   rescue-bench handoff   rescue-init's kexec handoff vs the manual way (QEMU)
//!   rescue-bench devices   built-in coldplug vs udev, /init to devices settled (QEMU)
//!   rescue-bench rear      ReaR's stock rescue initrd vs the kit's (real rear mkrescue, QEMU)
//!   rescue-bench timeline  the boot with the timeline on and off (QEMU)
//!   rescue-bench e2e       the user's journey, stock ReaR vs the kit (QEMU, long)
//!   rescue-bench all       all of them but e2e
//!
//! Each writes a Markdown report to stdout and to `target/bench/NAME.md`;
//! progress goes to stderr. `BENCH_REPS` (default 3) sets the repetitions;
//! `BENCH_REAL_MB` (default 200, 0 skips) the size of the copy of host
//! libraries used as the second mkimage tree. The machine is shared and
//! noisy: everything is repeated, interleaved, and reported as medians with
//! their range. Nothing here asserts on time.
//! Run through `make bench`, `make bench-mkimage`, `make bench-handoff` or
//! `make bench-devices`.

mod devices;
mod e2e;
mod gen;
mod handoff;
mod mkimage;
mod rear;
mod rear_server;
mod report;
mod timeline;

use anyhow::{bail, Result};

fn main() {
    if let Err(e) = run(std::env::args().skip(1).collect()) {
        eprintln!("rescue-bench: {e:#}");
        std::process::exit(1);
    }
}

fn reps() -> Result<usize> {
    match std::env::var("BENCH_REPS") {
        Ok(s) if !s.is_empty() => match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => bail!("BENCH_REPS={s:?}: want a number ≥ 1"),
        },
        _ => Ok(3),
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let reps = reps()?;
    let which: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut do_mkimage, mut do_handoff, mut do_devices, mut do_rear) =
        (false, false, false, false);
    match which[..] {
        ["mkimage"] => do_mkimage = true,
        ["handoff"] => do_handoff = true,
        ["devices"] => do_devices = true,
        ["rear"] => do_rear = true,
        ["e2e"] => return report::publish("e2e", &e2e::run()?).map(drop),
        ["timeline"] => return report::publish("timeline", &timeline::run(reps.max(5))?).map(drop),
        ["all"] | [] => (do_mkimage, do_handoff, do_devices, do_rear) = (true, true, true, true),
        _ => {
            bail!("usage: rescue-bench [mkimage | handoff | devices | rear | timeline | e2e | all]")
        }
    };
    if do_mkimage {
        report::publish("mkimage", &mkimage::run(reps)?)?;
    }
    if do_handoff {
        report::publish("handoff", &handoff::run(reps)?)?;
    }
    if do_devices {
        report::publish("devices", &devices::run(reps)?)?;
    }
    if do_rear {
        report::publish("rear", &rear::run(reps)?)?;
    }
    Ok(())
}

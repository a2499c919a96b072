//! Proves the teardown on real storage stacks, judged from outside by the
//! checker VM (rescue_tests::checker), since the host has no
//! device-mapper. One recovery builds them all, to keep TCG time low:
//!
//! - vda: the target's root (ext4), with /proc, /sys and /dev bound into
//!   it as ReaR's recover does and a shell left running in the chroot;
//! - vdb+vdc: md0, RAID1, ext4 on it;
//! - vdd+vde: md1, RAID1, an LVM PV: VG vg0 with an ext4 LV (`data`), a
//!   swap LV in use (`swap`) and LUKS2 on an LV (`secret`) with ext4
//!   inside: LUKS on LVM on md;
//! - vdf: LUKS2 with ext4 inside;
//! - vdg: XFS.
//!
//! Every filesystem gets data (fsync'd) and its checksum; writers that
//! ignore SIGTERM keep writing (and syncing) to md0, the stacked LUKS and
//! the XFS. The control run crashes (sysrq b) instead of handing off,
//! and the same checker must call it unclean.

use super::common::{Guest, BOOT, STEP};
use super::handoff_fixtures as fx;
use super::teardown::{handoff, landed, torn_down};
use anyhow::{bail, Context, Result};
use rescue_tests::checker::{self, Report};
use rescue_tests::{image, BootOpts, ExitKind, Initramfs, Kernel};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The disks after the root, with their sizes (sparse files). XFS needs
/// 300 MB at least.
const DISKS: &[(&str, u64)] = &[
    ("md0a", 64),
    ("md0b", 64),
    ("md1a", 160),
    ("md1b", 160),
    ("luks", 64),
    ("xfs", 320),
];

/// Builds every stack, writes the data, starts the stubborn writers and
/// the chroot shell (see the module docs).
const BUILD: &str = r#"set -e
put() { dd if=/dev/urandom of=$1/data.bin bs=64k count=16 conv=fsync 2>/dev/null; (cd $1 && md5sum data.bin > data.md5); sync; }
raid1() { /usr/sbin/mdadm --create /dev/$1 --run --level=1 --raid-devices=2 --metadata=1.2 --assume-clean $2 $3; }
luks() { /usr/sbin/cryptsetup -q luksFormat --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file /key $1; /usr/sbin/cryptsetup open --key-file /key $1 $2; }
ext4() { /usr/sbin/mke2fs -q -t ext4 $1; mount -t ext4 $1 $2; put $2; }
mkdir -p /mnt/local && mount -t ext4 /dev/vda /mnt/local && put /mnt/local
S=/mnt/local/srv; mkdir -p $S/md $S/lvm $S/stack $S/luks $S/xfs
raid1 md0 /dev/vdb /dev/vdc; ext4 /dev/md0 $S/md
raid1 md1 /dev/vdd /dev/vde
/usr/sbin/lvm pvcreate -q /dev/md1; /usr/sbin/lvm vgcreate -q vg0 /dev/md1
for lv in data:32M swap:16M secret:64M; do /usr/sbin/lvm lvcreate -q -y -n ${lv%:*} -L ${lv#*:} vg0; done
ext4 /dev/vg0/data $S/lvm
mkswap /dev/vg0/swap >/dev/null; swapon /dev/vg0/swap
luks /dev/vg0/secret secret; ext4 /dev/mapper/secret $S/stack
luks /dev/vdf plain; ext4 /dev/mapper/plain $S/luks
/usr/sbin/mkfs.xfs -q -f /dev/vdg; mount -t xfs /dev/vdg $S/xfs; put $S/xfs
for d in proc sys dev; do mkdir -p /mnt/local/$d; mount --bind /$d /mnt/local/$d; done
mkdir -p /mnt/local/bin; cp /bin/busybox /mnt/local/bin/busybox
setsid chroot /mnt/local /bin/busybox sh -c 'cd /srv/stack; while :; do /bin/busybox sleep 1; done' </dev/null >/dev/null 2>&1 &
for d in md stack xfs; do
    setsid sh -c "trap '' TERM HUP; exec 3>>$S/$d/held.log; while :; do echo x >&3; sync; sleep 0.1; done" </dev/null >/dev/null 2>&1 &
done
while [ ! -s $S/xfs/held.log ]; do sleep 0.1; done
cat /proc/mdstat /proc/swaps; /usr/sbin/lvm lvs; ls /dev/mapper
set +e
echo STACKS-BUILT
"#;

/// For BUILD under TCG on a busy machine.
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// What the checker assembles and judges, in order.
const PLAN: &str = "md md0 vdb vdc\next4 md0-ext4 /dev/md0\nmd md1 vdd vde\nlvm vg0\n\
                    swap vg0-swap /dev/vg0/swap\next4 vg0-data /dev/vg0/data\n\
                    luks secret /dev/vg0/secret\next4 secret-ext4 /dev/mapper/secret\n\
                    luks plain /dev/vdf\next4 plain-ext4 /dev/mapper/plain\n\
                    xfs xfs /dev/vdg\next4 root /dev/vda\n";

/// Every name the plan judges.
const JUDGED: &[&str] = &[
    "md0",
    "md0-ext4",
    "md1",
    "vg0",
    "vg0-swap",
    "vg0-data",
    "secret",
    "secret-ext4",
    "plain",
    "plain-ext4",
    "xfs",
    "root",
];

/// What the teardown logs releasing the stacks, in any order.
const RELEASED: &[&str] = &[
    r"pid \d+ \(sh\) ignored SIGTERM",
    r"unmounted /mnt/local/proc \(proc ",
    r"unmounted /mnt/local/sys \(sysfs ",
    r"unmounted /mnt/local/dev \(devtmpfs ",
    r"unmounted /mnt/local/srv/xfs \(xfs /dev/vdg\)",
    r"unmounted /mnt/local/srv/md \(ext4 /dev/md0\)",
    r"teardown: swap /dev/mapper/vg0-swap \(partition\) off",
    r"teardown: device-mapper dm-\d+ \(secret\) removed",
    r"teardown: device-mapper dm-\d+ \(plain\) removed",
    r"teardown: device-mapper dm-\d+ \(vg0-secret\) removed",
    r"teardown: device-mapper dm-\d+ \(vg0-swap\) removed",
    r"teardown: device-mapper dm-\d+ \(vg0-data\) removed",
    r"teardown: md array md0 stopped",
    r"teardown: md array md1 stopped",
    r"unmounted /mnt/local \(ext4 /dev/vda\)",
];

/// The layers that record whether they were shut down cleanly.
const DIRTY_LAYERS: &[&str] = &[
    "md0",
    "md0-ext4",
    "md1",
    "vg0-data",
    "secret-ext4",
    "plain-ext4",
    "xfs",
    "root",
];

/// Fresh sparse disks: the target's root first, then [`DISKS`].
fn disks(kernel: &Kernel, name: &str) -> Result<Vec<PathBuf>> {
    let target = fx::target_initrd(kernel)?;
    let mut all = vec![fx::target_disk(kernel, &target, fx::Layout::Named)?];
    let dir = image::fresh_dir(&format!("{name}-disks"))?;
    for (disk, mb) in DISKS {
        let path = dir.join(format!("{disk}.img"));
        let f =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        f.set_len(mb << 20)?;
        all.push(path);
    }
    Ok(all)
}

/// The recovery image: BUILD, then `end` (the handoff file, or a crash).
fn recovery(kernel: &Kernel, name: &str, end: &str) -> Result<Initramfs> {
    let dir = image::fresh_dir(&format!("{name}-src"))?;
    let script = dir.join("recover");
    let head = checker::script_head(1 + DISKS.len());
    rescue_tests::target::write_exec(&script, &format!("{head}{BUILD}{end}"))?;
    checker::storage_image(kernel, name, &[(script, "/recover")])
}

fn boot(image: Initramfs, kernel: &Kernel, cmdline: &str, disks: Vec<PathBuf>) -> Result<Guest> {
    let mut opts = BootOpts::new(&kernel.vmlinuz, &image.path);
    opts.cmdline_extra = cmdline.into();
    opts.mem_mb = 1024;
    opts.disks = disks;
    Guest::start_with_opts(opts)
}

/// The end of /recover: the handoff file `text`.
fn handoff_end(text: &str) -> String {
    format!(
        "mkdir -p /run/rescue-init\ncat > /run/rescue-init/handoff <<'EOF'\n{text}EOF\necho RECOVERY-DONE\n"
    )
}

const CMDLINE: &str = "rescue.run=/recover rescue.after=handoff rescue.stop-timeout=2";

/// Waits for BUILD to finish; fails at once when /recover exits early.
fn built(g: &mut Guest) -> Result<()> {
    let re = r"STACKS-BUILT|rescue-init: rescue\.run exited with status [1-9]";
    let caps = g.wait_for_re(re, BUILD_TIMEOUT)?;
    if caps[0] != "STACKS-BUILT" {
        return Err(g.failure("building the stacks failed"));
    }
    Ok(())
}

/// The checker's report, printed with its time.
fn check(kernel: &Kernel, name: &str, disks: &[PathBuf]) -> Result<Report> {
    let report = checker::check(kernel, name, disks, PLAN)?;
    eprintln!("{name}: checker VM took {:?}", report.took);
    for v in &report.verdicts {
        eprintln!(
            "  {} {}",
            if v.clean() { "CLEAN  " } else { "UNCLEAN" },
            v.name
        );
        if !v.clean() {
            eprintln!("          {}", v.why);
        }
    }
    Ok(report)
}

/// md (0 and 1), LVM with a swap LV in use, LUKS2 alone and on LVM on
/// md, XFS, and ReaR's chroot binds with a shell inside: all torn down
/// (each logged), the target lands, and the checker finds every layer
/// clean with the data intact.
#[test]
fn every_layer_is_torn_down_and_found_clean() -> Result<()> {
    let kernel = Kernel::get()?;
    let disks = disks(&kernel, "stacks")?;
    let image = recovery(&kernel, "stacks-rescue", &handoff_end(&handoff("stacks")))?;
    let t0 = Instant::now();
    let mut g = boot(image, &kernel, CMDLINE, disks.clone())?;
    // Building the stacks takes minutes under TCG; the rest is timed
    // as in the teardown tests.
    built(&mut g)?;
    torn_down(&mut g, "nothing", 0, RELEASED)?;
    landed(&mut g, "stacks")?;
    eprintln!(
        "stacks: rescue VM to the target's poweroff took {:?}",
        t0.elapsed()
    );
    drop(g);
    let report = check(&kernel, "stacks-checker", &disks)?;
    report.all_clean(JUDGED)?;
    fx::assert_disk_clean(&disks[0]).context("the root disk, checked on the host")
}

/// The same stacks when the handoff is refused (its kernel is missing)
/// and rescue-init falls back to a reboot: the reboot's teardown releases
/// every layer as the kexec's does, and the checker finds them clean.
#[test]
fn a_refused_handoff_reboots_with_every_layer_clean() -> Result<()> {
    let kernel = Kernel::get()?;
    let disks = disks(&kernel, "stacks-fallback")?;
    let text = "ROOT=/mnt/local\nKERNEL=/boot/no-such-kernel\nFALLBACK=reboot\n";
    let image = recovery(&kernel, "stacks-fallback-rescue", &handoff_end(text))?;
    let t0 = Instant::now();
    let mut g = boot(image, &kernel, CMDLINE, disks.clone())?;
    built(&mut g)?;
    g.wait_for("RECOVERY-DONE", BOOT)?;
    g.wait_for_re(r"handoff: [^\r\n]*no-such-kernel", STEP)?;
    g.wait_for_re(r"FALLBACK=reboot", STEP)?;
    g.wait_for_re(r"filesystems done, 0 left busy", BOOT)?;
    let console = g.console();
    for re in RELEASED {
        if !regex::Regex::new(re)?.is_match(&console) {
            return Err(g.failure(&format!("the teardown did not log /{re}/")));
        }
    }
    g.expect_exit(ExitKind::Reboot)?;
    eprintln!("stacks-fallback: the rescue VM took {:?}", t0.elapsed());
    drop(g);
    let report = check(&kernel, "stacks-fallback-checker", &disks)?;
    report.all_clean(JUDGED)?;
    fx::assert_disk_clean(&disks[0]).context("the root disk, checked on the host")
}

/// The control: the same stacks, and the machine crashes (sysrq b, no
/// sync, no teardown) while the writers run, with one member of md1
/// failed. The checker must find every layer that records its state
/// unclean, and md1 behind on events, or its "clean" above proves nothing.
#[test]
fn a_crash_without_teardown_is_found_unclean() -> Result<()> {
    let kernel = Kernel::get()?;
    let disks = disks(&kernel, "stacks-control")?;
    // md marks its superblock clean 0.2 s after the last write
    // (safe_mode_delay); 60 s makes sure the crash finds the arrays
    // active, as a crash in the middle of writing does.
    // vde failed out of md1 as well: its superblock falls behind vdd's,
    // which the checker must see in the event counts.
    let end = "/usr/sbin/mdadm /dev/md1 --fail /dev/vde\n\
               for m in md0 md1; do echo 60 > /sys/block/$m/md/safe_mode_delay; done\n\
               sleep 1; echo CONTROL-CRASH\necho b > /proc/sysrq-trigger\nsleep 60\n";
    let image = recovery(&kernel, "stacks-control-rescue", end)?;
    let t0 = Instant::now();
    let mut g = boot(image, &kernel, "rescue.run=/recover", disks.clone())?;
    built(&mut g)?;
    g.wait_for("CONTROL-CRASH", BOOT)?;
    g.wait_exit(STEP)?;
    drop(g);
    let report = check(&kernel, "stacks-control-checker", &disks)?;
    eprintln!(
        "stacks-control: the rescue VM took {:?}",
        t0.elapsed() - report.took
    );
    // Every layer that has a dirty state: the md superblocks, the ext4
    // journals, the XFS log. LVM, swap and LUKS have none; the checker
    // can only say that they open.
    let mut missed = Vec::new();
    for &name in DIRTY_LAYERS {
        if report.get(name)?.clean() {
            missed.push(name);
        }
    }
    let md1 = report.get("md1")?;
    if !md1.why.contains("events") {
        missed.push("md1's failed member");
    }
    if !missed.is_empty() {
        bail!(
            "the checker called {} clean after a crash (log: {})",
            missed.join(", "),
            report.log.display()
        );
    }
    Ok(())
}

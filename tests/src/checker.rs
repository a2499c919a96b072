//! Storage stacks in the VM tests: the image that builds them and the
//! checker VM that judges them afterwards.
//!
//! The host's kernel has no device-mapper, so md, LVM and LUKS can only be
//! assembled in a guest. [`storage_image`] is a rescue-init image with
//! Debian's mdadm, lvm, cryptsetup, e2fsprogs and xfsprogs and the modules
//! they need; a test's recovery script builds its stacks with it, and
//! [`check`] boots it again as the checker: every disk attached
//! read-only (QEMU `readonly=on`, so nothing the checker does can repair
//! what it judges), each layer assembled read-only and judged, one line
//! per object on the console: `CHECK-CLEAN <name>` or
//! `CHECK-UNCLEAN <name>: <why>`.
//!
//! A plan line names what to check, in order (later lines use the
//! devices earlier ones assemble); fields are separated by spaces:
//!
//! - `md NAME MEMBER...`: `mdadm --examine` on every member says
//!   `State : clean` with the same event count, then the array is
//!   assembled `--readonly` and is not degraded;
//! - `lvm VG`: the volume group activates with every LV read-only;
//! - `luks NAME DEV`: `cryptsetup open --readonly` with `/key` as NAME;
//! - `swap NAME DEV`: the swap signature is there;
//! - `ext4 NAME DEV`: no journal to recover, state clean, `e2fsck -fn`
//!   passes, and `data.md5` checks out on a `ro,noload` mount;
//! - `xfs NAME DEV`: no dirty log, `xfs_repair -n` passes, and
//!   `data.md5` checks out on a `ro,norecovery` mount.

use crate::target::module_name;
use crate::{BootOpts, ImageSpec, Initramfs, Kernel, Vm};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Debian's tools, each with its libraries (`mkimage build --bin`).
/// With the Debian package each comes from.
pub const TOOLS: &[(&str, &str)] = &[
    ("/usr/sbin/mdadm", "mdadm"),
    ("/usr/sbin/lvm", "lvm2"),
    ("/usr/sbin/cryptsetup", "cryptsetup-bin"),
    ("/usr/sbin/mke2fs", "e2fsprogs"),
    ("/usr/sbin/e2fsck", "e2fsprogs"),
    ("/usr/sbin/dumpe2fs", "e2fsprogs"),
    ("/usr/sbin/mkfs.xfs", "xfsprogs"),
    ("/usr/sbin/xfs_repair", "xfsprogs"),
];

/// Kernel modules on top of `target::MODULES` (virtio, ext4), loaded by
/// the scripts in this order; mkimage adds their dependencies (AES and
/// SHA-256 are built into Debian's kernel).
pub const MODULES: &[&str] = &[
    "md_mod",
    "raid1",
    "dm_mod",
    "dm_crypt",
    "xts",
    "algif_skcipher",
    "xfs",
];

/// LVM without udev (the images have none): device lists from /dev,
/// device nodes made by libdevmapper, no monitoring daemon.
const LVM_CONF: &str =
    "devices { obtain_device_list_from_udev = 0 external_device_info_source = \"none\" }\n\
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }\n";

/// The start of every script: PATH, the modules, the disks. The scripts
/// call Debian's tools by their full path: Debian's busybox runs its own
/// applets (its `mke2fs`) before anything on PATH.
pub fn script_head(disks: usize) -> String {
    let base: Vec<&str> = crate::target::MODULES
        .iter()
        .map(|m| module_name(m))
        .collect();
    let last = (b'a' + disks.saturating_sub(1) as u8) as char;
    format!(
        "#!/bin/sh\nexport PATH=/usr/sbin:/usr/bin:/sbin:/bin MDADM_NO_UDEV=1\n\
         for m in {} {}; do modprobe $m || echo \"modprobe $m failed\"; done\n\
         i=0; while [ ! -b /dev/vd{last} ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done\n\
         mkdir -p /run/cryptsetup /run/lvm /run/lock/lvm\n",
        base.join(" "),
        MODULES.join(" ")
    )
}

/// The image: rescue-init, busybox, [`TOOLS`], the modules, an LVM config
/// for a system without udev, `/key` (the LUKS key file) and `files`.
pub fn storage_image(kernel: &Kernel, name: &str, files: &[(PathBuf, &str)]) -> Result<Initramfs> {
    let dir = crate::image::fresh_dir(&format!("{name}-etc"))?;
    std::fs::write(dir.join("lvm.conf"), LVM_CONF)?;
    // A fixed key: the checker must open what the recovery made.
    std::fs::write(dir.join("key"), "rescue-init storage test key\n")?;
    let modules: Vec<&str> = crate::target::MODULES
        .iter()
        .map(|m| module_name(m))
        .chain(MODULES.iter().copied())
        .collect();
    let mut spec = ImageSpec::new(name)
        .with_modules(kernel, &modules)?
        .file(dir.join("lvm.conf"), "/etc/lvm/lvm.conf")
        .file(dir.join("key"), "/key");
    if Path::new("/etc/mke2fs.conf").is_file() {
        spec = spec.file("/etc/mke2fs.conf", "/etc/mke2fs.conf");
    }
    for (tool, package) in TOOLS {
        if !Path::new(tool).is_file() {
            bail!("{tool} is missing on this host: apt-get install {package}");
        }
        spec = spec.arg("--bin").arg(*tool);
    }
    for (src, dst) in files {
        spec = spec.file(src, dst);
    }
    spec.build()
}

/// The checker's shell functions, one per plan keyword; each prints the
/// verdict line.
const CHECK_FNS: &str = r#"
verdict() { if [ -z "$2" ]; then echo "CHECK-CLEAN $1"; else echo "CHECK-UNCLEAN $1:$2"; fi; }
data() { # NAME MOUNT-ARGS...: mounts read-only, checks data.md5
    d=/c/$1; shift
    mkdir -p $d && mount "$@" $d 2>/dev/null || { echo " cannot mount read-only"; return; }
    (cd $d && md5sum -c data.md5 >/dev/null 2>&1) || echo " data.md5 does not match"
}
do_md() {
    n=$1; shift; why=; ev=
    for m in "$@"; do
        x=$(/usr/sbin/mdadm --examine /dev/$m 2>&1); echo "$x" | grep -E 'State :|Events :' | sed "s|^|  $m |"
        echo "$x" | grep -qE '^ +State : clean' || why="$why $m superblock state $(echo "$x" | sed -n 's/^ *State : //p')"
        e=$(echo "$x" | sed -n 's/^ *Events : //p'); [ -z "$ev" ] && ev=$e
        [ "$e" = "$ev" ] || why="$why $m events $e != $ev"
    done
    devs=; for m in "$@"; do devs="$devs /dev/$m"; done
    /usr/sbin/mdadm --assemble --readonly /dev/$n $devs 2>&1 || why="$why assemble failed"
    [ "$(cat /sys/block/$n/md/degraded 2>/dev/null)" = 0 ] || why="$why degraded"
    verdict $n "$why"
}
do_lvm() {
    /usr/sbin/lvm vgchange -ay --config "activation { read_only_volume_list = [ \"$1\" ] }" $1 2>&1 || { verdict $1 " vgchange -ay failed"; return; }
    verdict $1 ""
}
do_luks() {
    /usr/sbin/cryptsetup open --readonly --key-file /key $2 $1 2>&1 && verdict $1 "" || verdict $1 " cryptsetup open failed"
}
do_swap() {
    sig=$(dd if=$2 bs=1 skip=4086 count=10 2>/dev/null)
    [ "$sig" = SWAPSPACE2 ] && verdict $1 "" || verdict $1 " no swap signature ($sig)"
}
do_ext4() {
    why=; h=$(/usr/sbin/dumpe2fs -h $2 2>&1)
    echo "$h" | grep -q '^Filesystem features:.*needs_recovery' && why="$why the journal needs recovery"
    echo "$h" | grep -qE '^Filesystem state: +clean$' || why="$why state $(echo "$h" | sed -n 's/^Filesystem state: *//p')"
    /usr/sbin/e2fsck -fn $2 >/tmp/fsck.out 2>&1; rc=$?
    [ $rc = 0 ] || { cat /tmp/fsck.out; why="$why e2fsck -fn exit $rc"; }
    why="$why$(data $1 -t ext4 -o ro,noload $2)"
    verdict $1 "$why"
}
do_xfs() {
    why=; /usr/sbin/xfs_repair -n $2 >/tmp/xfs.out 2>&1; rc=$?
    # xfs_repair -n only warns ("ALERT: ... metadata changes in a log
    # which is being ignored") and may still exit 0.
    grep -q 'changes in a log' /tmp/xfs.out && why="$why the log needs replay"
    [ $rc = 0 ] || why="$why xfs_repair -n exit $rc"
    [ -z "$why" ] || cat /tmp/xfs.out
    why="$why$(data $1 -t xfs -o ro,norecovery $2)"
    verdict $1 "$why"
}
while read -r kind args; do
    [ -n "$kind" ] && do_$kind $args </dev/null
done < /check.plan
echo CHECK-END
"#;

/// One judged object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub name: String,
    /// Empty when clean: otherwise what the checker found.
    pub why: String,
}

impl Verdict {
    pub fn clean(&self) -> bool {
        self.why.is_empty()
    }
}

/// What a checker run found, with its console for the error messages.
pub struct Report {
    pub verdicts: Vec<Verdict>,
    pub console: String,
    pub log: PathBuf,
    pub took: Duration,
}

impl Report {
    /// The verdict on `name`, or an error when the checker gave none.
    pub fn get(&self, name: &str) -> Result<&Verdict> {
        self.verdicts
            .iter()
            .find(|v| v.name == name)
            .with_context(|| {
                format!(
                    "the checker said nothing about {name} (log: {})",
                    self.log.display()
                )
            })
    }

    /// Fails naming every unclean object (and the log) unless all of
    /// `names` are clean.
    pub fn all_clean(&self, names: &[&str]) -> Result<()> {
        let mut bad = Vec::new();
        for name in names {
            let v = self.get(name)?;
            if !v.clean() {
                bad.push(format!("{name}:{}", v.why));
            }
        }
        if !bad.is_empty() {
            bail!(
                "the checker found unclean: {} (log: {})",
                bad.join("; "),
                self.log.display()
            );
        }
        Ok(())
    }
}

/// `CHECK-CLEAN name` / `CHECK-UNCLEAN name: why` lines of `console`.
pub fn parse(console: &str) -> Vec<Verdict> {
    console
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter_map(|l| {
            if let Some(name) = l.strip_prefix("CHECK-CLEAN ") {
                return Some(Verdict {
                    name: name.trim().into(),
                    why: String::new(),
                });
            }
            let rest = l.strip_prefix("CHECK-UNCLEAN ")?;
            let (name, why) = rest.split_once(':').unwrap_or((rest, "unclean"));
            Some(Verdict {
                name: name.into(),
                why: why.trim().into(),
            })
        })
        .collect()
}

/// Boots the checker with `disks` attached read-only and runs `plan`.
/// `name` names the image and the console log.
pub fn check(kernel: &Kernel, name: &str, disks: &[PathBuf], plan: &str) -> Result<Report> {
    let dir = crate::image::fresh_dir(&format!("{name}-src"))?;
    let script = dir.join("check");
    crate::target::write_exec(&script, &format!("{}{CHECK_FNS}", script_head(disks.len())))?;
    std::fs::write(dir.join("plan"), plan)?;
    let image = storage_image(
        kernel,
        name,
        &[(script, "/check"), (dir.join("plan"), "/check.plan")],
    )?;
    let mut opts = BootOpts::new(&kernel.vmlinuz, &image.path);
    opts.cmdline_extra = "rescue.run=/check rescue.after=poweroff".into();
    opts.mem_mb = 1024;
    opts.name = Some(name.into());
    for d in disks {
        opts.extra_args.push("-drive".into());
        opts.extra_args.push(format!(
            "file={},format=raw,if=virtio,readonly=on",
            d.display()
        ));
    }
    let started = Instant::now();
    let mut vm = Vm::boot(opts)?;
    vm.wait_for("CHECK-END", Duration::from_secs(600))
        .context("the checker VM did not finish")?;
    let console = vm.console();
    let _ = vm.wait_exit(Duration::from_secs(60));
    Ok(Report {
        verdicts: parse(&console),
        log: vm.log_path().to_path_buf(),
        console,
        took: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_verdicts_and_reasons() {
        let v = parse("x\r\nCHECK-CLEAN md0\r\nCHECK-UNCLEAN data: the journal needs recovery\r\n");
        assert_eq!(v.len(), 2);
        assert!(v[0].clean() && v[0].name == "md0");
        assert_eq!(v[1].name, "data");
        assert_eq!(v[1].why, "the journal needs recovery");
    }
}

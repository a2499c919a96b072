//! The journey's stages, in the order a user lives them. Each prints one
//! line with its duration on the host's clock; the serial logs under
//! `target/e2e/` carry the host's time on every line.

use super::server::{self, Root, HOSTNAME};
use super::ssh::Ssh;
use super::{disks, install, FIRMWARE_REBOOT, KEXEC_JUMP, REAR_READY, RECOVER_DONE};
use crate::qemu::{BootOpts, ExitKind, Vm};
use crate::rear::Flavour;
use crate::{kernel::run, paths};
use anyhow::{bail, ensure, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SERVER_UP: Duration = Duration::from_secs(900);
const MKBACKUP: Duration = Duration::from_secs(3600);
const RESCUE_UP: Duration = Duration::from_secs(1200);
const RECOVERY: Duration = Duration::from_secs(3600);
const SHUTDOWN: Duration = Duration::from_secs(300);
const SERVER_DISK: &str = "8G";
/// The replacement disk of the bare-metal run: not the original's size.
const REPLACEMENT_DISK: &str = "10G";
const BACKUP_DISK: &str = "4G";
/// Where the ISO lands on the backup disk (BACKUP_URL=usb, OUTPUT=ISO).
fn iso_on_backup() -> String {
    format!("/{HOSTNAME}/rear-{HOSTNAME}.iso")
}
/// The data the recovery must bring back: three files, and one written
/// with fsync just before the backup starts.
const WRITE_DATA: &str = "set -e; mkdir -p /srv/data; cd /srv/data; \
    for i in 1 2 3; do head -c 4M /dev/urandom > file$i; done; \
    echo \"written just before the backup: $(date -Ins)\" | dd of=last conv=fsync status=none; \
    sha256sum file1 file2 file3 last";

/// Durations the bench compares (host clock, seconds).
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Every stage, in order.
    pub stages: Vec<(String, f64)>,
    /// kexec of the rescue ISO asked for → ReaR's "ready" line.
    pub rescue_boot: f64,
    /// ReaR ready → `rear recover` finished.
    pub recovery: f64,
    /// `rear recover` finished → the recovered server's login prompt.
    pub to_login: f64,
}

pub struct Journey {
    pub flavour: Flavour,
    pub dir: PathBuf,
    pub ssh: Ssh,
    pub report: Report,
    root: Option<Root>,
    /// The package file in root's home on the server.
    deb: String,
    /// The checksums the server printed before the backup.
    data: String,
}

impl Journey {
    /// A fresh work directory: nothing from an earlier run is reused.
    pub fn new(flavour: Flavour) -> Result<Journey> {
        let name = match flavour {
            Flavour::Kit => "e2e",
            Flavour::Stock => "e2e-stock",
        };
        Self::in_dir(name, flavour)
    }

    /// As [`Journey::new`], working in `target/NAME/`.
    pub fn in_dir(name: &str, flavour: Flavour) -> Result<Journey> {
        let dir = paths::target_dir().join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)?;
        let ssh = Ssh::new(&dir)?;
        Ok(Journey {
            flavour,
            dir,
            ssh,
            report: Report::default(),
            root: None,
            deb: String::new(),
            data: String::new(),
        })
    }

    /// Runs `f` as the stage `name`, printing its duration.
    pub fn stage<T>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        eprintln!("e2e: {name} ...");
        let t0 = Instant::now();
        let out = f(self).with_context(|| format!("stage {name:?}"));
        let secs = t0.elapsed().as_secs_f64();
        eprintln!(
            "e2e: {name}: {secs:.1} s{}",
            if out.is_ok() { "" } else { " (FAILED)" }
        );
        self.report.stages.push((name.to_string(), secs));
        out
    }

    pub fn img(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.img"))
    }

    fn root(&self) -> Result<&Root> {
        self.root
            .as_ref()
            .context("the server root is not built yet")
    }

    /// mmdebstrap, the admin's configuration, the package, staging.
    pub fn build_server(&mut self) -> Result<()> {
        let local_conf = format!(
            "{}{}",
            server::readme_local_conf()?,
            super::flavour_conf(self.flavour)
        );
        let root = server::debootstrap(&self.dir.join("root"))?;
        server::configure(&root, &self.ssh.public_key()?, &local_conf)?;
        self.deb = server::copy_deb(&root)?;
        server::staging_image(&root, &self.img("staging"))?;
        self.root = Some(root);
        Ok(())
    }

    /// The installer VM puts the server on its disk; the backup disk is a
    /// fresh ext4 filesystem labelled as BACKUP_URL says.
    pub fn install(&mut self) -> Result<()> {
        let disk = self.img("server");
        sparse(&disk, SERVER_DISK)?;
        install::install(self.root()?, &self.img("staging"), &disk, &self.dir)?;
        std::fs::remove_file(self.img("staging"))?;
        let backup = self.img("backup");
        sparse(&backup, BACKUP_DISK)?;
        run(Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", server::BACKUP_LABEL])
            .arg(&backup))?;
        Ok(())
    }

    /// The machine: 2 CPUs, 2 GiB, the disks, a NIC with SSH forwarded.
    pub fn machine(&self, name: &str, disks: Vec<PathBuf>, cdrom: Option<PathBuf>) -> BootOpts {
        let mut opts = BootOpts::firmware();
        opts.mem_mb = 2048;
        opts.cpus = 2;
        opts.disks = disks;
        opts.cdrom = cdrom;
        opts.ssh_port = Some(self.ssh.port);
        // The kit never reboots through the firmware; if it did, QEMU ends
        // and the test fails. The stock path does reboot.
        opts.reboot_exits = self.flavour == Flavour::Kit;
        opts.name = Some(name.into());
        opts.log_dir = Some(self.dir.clone());
        opts
    }

    /// Firmware → GRUB → the server's initrd (LVM) → systemd, up.
    pub fn boot_server(&mut self) -> Result<Vm> {
        let mut vm =
            Vm::boot(self.machine("server", vec![self.img("server"), self.img("backup")], None))?;
        vm.wait_for("GRUB", SERVER_UP)?;
        self.wait_systemd_up(&mut vm)?;
        Ok(vm)
    }

    /// The server's systemd reached its default target with nothing
    /// failed, as `systemctl is-system-running --wait` says.
    fn wait_systemd_up(&mut self, vm: &mut Vm) -> Result<()> {
        let state = self
            .ssh
            .wait_until("systemctl is-system-running --wait || true", SERVER_UP)
            .map_err(|e| vm.failure(&format!("{e:#}")))?;
        if state.trim() != "running" {
            let failed = self
                .ssh
                .run("systemctl --failed --no-legend --plain")
                .unwrap_or_default();
            bail!(
                "{}",
                vm.failure(&format!(
                    "systemd is {:?}, failed units:\n{failed}",
                    state.trim()
                ))
            );
        }
        Ok(())
    }

    /// The package installed as the README says (it enables the kit),
    /// data written, `rear -v mkbackup`.
    pub fn backup(&mut self) -> Result<()> {
        self.install_package()?;
        self.data = self.ssh.run(WRITE_DATA)?;
        let out = self.ssh.run_for("rear -v mkbackup 2>&1", MKBACKUP)?;
        eprintln!("{out}");
        if self.flavour == Flavour::Kit {
            ensure!(
                out.contains("with mkimage"),
                "ReaR did not pack with mkimage:\n{out}"
            );
        }
        self.ssh
            .run(&format!("test -s /backup{}", iso_on_backup()))
            .context("the ISO is not on the backup disk")?;
        Ok(())
    }

    /// The running server boots the rescue ISO with kexec: systemd shuts
    /// down cleanly, the rescue system comes up (rescue-init as PID 1
    /// with the kit) and is reachable over SSH before the recovery ends.
    pub fn rescue_by_kexec(&mut self, vm: &mut Vm) -> Result<()> {
        let cmd = format!(
            "rescue-init kexec --iso /backup{} --append-extra unattended -e 2>&1",
            iso_on_backup()
        );
        let from = vm.cursor();
        let asked = Instant::now();
        // The connection drops when sshd stops: any exit status will do.
        let out = self.ssh.output(&cmd, Duration::from_secs(600))?;
        let said = String::from_utf8_lossy(&out.stdout);
        ensure!(
            said.contains("loaded entry"),
            "rescue-init kexec --iso said:\n{said}"
        );
        vm.wait_for("systemd-shutdown[1]: Syncing filesystems", SHUTDOWN)?;
        vm.wait_for(KEXEC_JUMP, SHUTDOWN)?;
        let shutdown = vm.console_range(from, vm.cursor());
        if let Some(line) = shutdown.lines().find(|l| l.contains("FAILED")) {
            bail!(
                "{}",
                vm.failure(&format!(
                    "systemd's shutdown before the kexec failed a step: {line}"
                ))
            );
        }
        if self.flavour == Flavour::Kit {
            vm.wait_for_re(r"rescue-init: rescue-init \S+ as PID 1", RESCUE_UP)?;
        }
        vm.wait_for(REAR_READY, RESCUE_UP)?;
        self.report.rescue_boot = asked.elapsed().as_secs_f64();
        // No pgrep in ReaR's rescue system: count the processes whose
        // command line mentions `recover`.
        let who = self.ssh.wait_until("echo PID1=$(readlink /proc/1/exe); echo RECOVER_PROCESSES=$(grep -l recover /proc/[0-9]*/cmdline 2>/dev/null | wc -l)", RESCUE_UP)?;
        eprintln!(
            "e2e: the rescue system answers over SSH: {}",
            who.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        if self.flavour == Flavour::Kit {
            ensure!(
                who.contains("PID1=/bin/rescue-init"),
                "PID 1 of the rescue system is not rescue-init: {who}"
            );
            self.save_rescue_timeline()?;
        }
        Ok(())
    }

    /// The rescue boot's timeline, as `rescue-init analyze` gives it over
    /// SSH: JSON and the chart (checked, and kept as
    /// target/e2e/rescue-timeline.{json,svg,png}); the critical chain and
    /// the longest rows are printed.
    fn save_rescue_timeline(&self) -> Result<()> {
        use crate::timeline::{check_plot, render_png, rows};
        let get = |what: &str| -> Result<Vec<u8>> {
            let out = self.ssh.output(
                &format!("rescue-init analyze {what}"),
                Duration::from_secs(60),
            )?;
            ensure!(
                out.status.success(),
                "rescue-init analyze {what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Ok(out.stdout)
        };
        let json = get("json")?;
        let rows = rows(&json)?;
        ensure!(
            rows.iter().any(|r| r.group == "rear-setup"),
            "no row for ReaR's setup scripts in the rescue timeline"
        );
        let svg = get("plot")?;
        check_plot(&svg, &rows)?;
        std::fs::write(self.dir.join("rescue-timeline.json"), &json)?;
        std::fs::write(self.dir.join("rescue-timeline.svg"), &svg)?;
        render_png(
            &self.dir.join("rescue-timeline.svg"),
            &self.dir.join("rescue-timeline.png"),
        )?;
        let chain = String::from_utf8_lossy(&get("critical-chain")?).into_owned();
        eprintln!("e2e: the rescue boot, `rescue-init analyze critical-chain`:\n{chain}");
        let blame = String::from_utf8_lossy(&get("blame")?)
            .lines()
            .take(12)
            .collect::<Vec<_>>()
            .join("\n");
        eprintln!("e2e: the rescue boot's longest rows:\n{blame}");
        Ok(())
    }

    /// `rear recover` (unattended) to its end, then into the recovered
    /// system: a kexec with the kit, the firmware without.
    pub fn recover(&mut self, vm: &mut Vm) -> Result<()> {
        let t0 = Instant::now();
        vm.wait_for(RECOVER_DONE, RECOVERY)?;
        self.report.recovery = t0.elapsed().as_secs_f64();
        let done = Instant::now();
        let from = vm.cursor();
        match self.flavour {
            // ReaR's `dmesg -n1` keeps the kernel's own kexec line off the
            // console; a firmware reboot would end QEMU (`-no-reboot`).
            Flavour::Kit => {
                // The kit's finalize script loads the kernel ahead; the
                // reboot then only checks the plan is unchanged (or loads
                // it again if it changed).
                let how = vm.wait_for_re(
                    r"rescue-init: handoff: (kernel loaded|the kernel `rescue-init handoff load` loaded is unchanged)",
                    SHUTDOWN,
                )?;
                eprintln!("e2e: at the reboot: {}", how[1]);
                vm.wait_for("rescue-init: shutdown: kexec now", SHUTDOWN)?;
            }
            Flavour::Stock => vm.wait_for(FIRMWARE_REBOOT, SHUTDOWN)?,
        }
        vm.wait_for("Command line: root=/dev/mapper/", SHUTDOWN)?;
        if self.flavour == Flavour::Kit {
            let between = vm.console_range(from, vm.cursor());
            ensure!(
                !between.contains(FIRMWARE_REBOOT),
                "the rescue system rebooted through the firmware"
            );
        }
        // initramfs-tools' own lines: the server's initrd mounts its root.
        vm.wait_for("Begin: Mounting root file system", SERVER_UP)?;
        vm.wait_for("login:", SERVER_UP)?;
        self.report.to_login = done.elapsed().as_secs_f64();
        Ok(())
    }

    /// The recovered server: its own initrd activated LVM, systemd is up,
    /// the data is back, the kexec is on record; a copy of its disk taken
    /// while it runs is reported unclean (the check can fail); after a
    /// clean poweroff every filesystem is clean.
    pub fn check_recovered(&mut self, vm: &mut Vm, disk: &Path) -> Result<()> {
        self.wait_systemd_up(vm)?;
        // dm-mod is a module: root on LVM means the initrd activated it.
        let root = self.ssh.run("findmnt -n -o SOURCE /")?;
        ensure!(
            root.trim() == format!("/dev/mapper/{}-root", install::dm_name(install::VG)),
            "the recovered root is {root:?}, not the LVM volume"
        );
        let data = self
            .ssh
            .run("cd /srv/data && sha256sum file1 file2 file3 last")?;
        ensure!(
            data == self.data,
            "the data differs after the recovery:\nbefore:\n{}\nafter:\n{data}",
            self.data
        );
        if self.flavour == Flavour::Kit {
            let record = self.ssh.run("cat /var/log/rescue-init-kexec.log")?;
            ensure!(
                record.contains("came via kexec"),
                "no kexec record in the recovered system: {record}"
            );
            let last = self.ssh.run("rescue-init analyze --handoff")?;
            for row in [
                "stop processes",
                "sync",
                "release all but the recovered root",
            ] {
                ensure!(
                    last.lines().any(|l| l.ends_with(row)),
                    "no {row:?} in the handoff's timeline:\n{last}"
                );
            }
            eprintln!("e2e: the last seconds before the kexec, `rescue-init analyze --handoff` in the recovered server:\n{last}");
        }
        let cmdline = self.ssh.run("cat /proc/cmdline")?;
        eprintln!("e2e: the recovered server runs with: {}", cmdline.trim());
        self.control_copy_is_unclean(disk)?;
        self.ssh
            .output("systemctl poweroff", Duration::from_secs(30))?;
        let exit = vm.wait_exit(SHUTDOWN)?;
        ensure!(
            exit == ExitKind::PowerOff,
            "the recovered server ended with {exit:?}"
        );
        for line in disks::assert_all_clean(disk)? {
            eprintln!("e2e: {}: {line}", disk.display());
        }
        Ok(())
    }

    /// The control run of the disk check: the disk as it is while the
    /// server runs (root mounted) must not pass.
    fn control_copy_is_unclean(&self, disk: &Path) -> Result<()> {
        let copy = self.img("control-copy");
        run(Command::new("cp")
            .arg("--sparse=always")
            .arg(disk)
            .arg(&copy))?;
        let verdict = disks::assert_all_clean(&copy);
        std::fs::remove_file(&copy)?;
        match verdict {
            Ok(lines) => bail!("the check passed a disk copied from the running server: {lines:?}"),
            Err(e) => eprintln!(
                "e2e: control: a copy of the running server's disk is reported unclean: {:#}",
                e.root_cause()
            ),
        }
        Ok(())
    }

    /// `apt install ./rescue-init_*.deb` on the server, as the README
    /// says; the package enables the kit (it diverts ReaR's pack script).
    pub fn install_package(&mut self) -> Result<()> {
        let apt = self.ssh.run(&format!(
            "cd /root && apt-get install -y ./{} 2>&1 && dpkg-divert --list rescue-init",
            self.deb
        ))?;
        ensure!(
            apt.contains("900_create_initramfs.sh.rear-stock"),
            "installing the package did not divert ReaR's pack script:\n{apt}"
        );
        Ok(())
    }

    /// The rescue ISO from the backup disk, read on the host (`debugfs`).
    fn iso_from_backup(&self) -> Result<PathBuf> {
        let iso = self.dir.join("rear.iso");
        let dump = format!("dump {} {}", iso_on_backup(), iso.display());
        run(Command::new("debugfs")
            .args(["-R", &dump])
            .arg(self.img("backup")))?;
        ensure!(
            std::fs::metadata(&iso).map(|m| m.len()).unwrap_or(0) > 0,
            "debugfs did not extract the ISO"
        );
        Ok(iso)
    }

    /// Bare metal: a blank disk of another size, the ISO on a CD booted
    /// by the firmware (its default entry recovers unattended), the
    /// recovery, the kexec into the recovered system with the CD still in.
    pub fn bare_metal(&mut self) -> Result<()> {
        let iso = self.iso_from_backup()?;
        let disk = self.img("replacement");
        sparse(&disk, REPLACEMENT_DISK)?;
        let mut vm = Vm::boot(self.machine(
            "bare-metal",
            vec![disk.clone(), self.img("backup")],
            Some(iso),
        ))?;
        vm.wait_for("ISOLINUX", RESCUE_UP)?;
        vm.wait_for(REAR_READY, RESCUE_UP)?;
        vm.wait_for(
            "Launching 'rear recover' automatically in unattended mode",
            RESCUE_UP,
        )?;
        self.recover(&mut vm)?;
        self.check_recovered(&mut vm, &disk)
    }
}

/// A sparse file of `size` (`truncate -s`), replacing any old one.
fn sparse(path: &Path, size: &str) -> Result<()> {
    let _ = std::fs::remove_file(path);
    run(Command::new("truncate").args(["-s", size]).arg(path))?;
    Ok(())
}

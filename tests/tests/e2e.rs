//! `make test-e2e`: the user's journey, end to end, under QEMU (see
//! rescue_tests::e2e). One test, stages in order; it takes tens of
//! minutes under TCG. Skipped, saying why, where the tools it needs are
//! missing (and then failing under CI).

use anyhow::Result;
use rescue_tests::e2e::{server, Journey};
use rescue_tests::rear::{self, Flavour};

fn skip() -> bool {
    let why = if rescue_tests::is_root() {
        rear::unavailable().or_else(server::unavailable)
    } else {
        Some("needs root (mmdebstrap, chroot, loop devices)".into())
    };
    rescue_tests::skip_if(why)
}

#[test]
fn backup_kexec_rescue_unattended_recover_and_kexec_back() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let mut j = Journey::new(Flavour::Kit)?;
    j.stage("build the server (mmdebstrap)", |j| j.build_server())?;
    j.stage("install it on LVM (installer VM)", |j| j.install())?;
    let mut vm = j.stage("boot: firmware, GRUB, initrd, systemd", |j| j.boot_server())?;
    j.stage("apt install the package, write data, rear mkbackup", |j| {
        j.backup()
    })?;
    j.stage("kexec the rescue ISO from the running server", |j| {
        j.rescue_by_kexec(&mut vm)
    })?;
    j.stage("unattended rear recover, kexec back", |j| {
        j.recover(&mut vm)
    })?;
    let disk = j.img("server");
    j.stage("the recovered server, then its disks from the host", |j| {
        j.check_recovered(&mut vm, &disk)
    })?;
    drop(vm);
    j.stage("bare metal: blank disk, ISO on CD, recover, kexec", |j| {
        j.bare_metal()
    })?;
    eprintln!("e2e: done:");
    for (name, secs) in &j.report.stages {
        eprintln!("e2e:   {secs:8.1} s  {name}");
    }
    Ok(())
}

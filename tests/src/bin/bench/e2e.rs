//! `rescue-bench e2e`: the user's journey (rescue_tests::e2e) twice on the
//! same VM: ReaR's stock path (its own init in the rescue system, a
//! firmware reboot after the recovery) and the kit's (rescue-init as PID
//! 1, a kexec into the recovered system). Both boot the rescue ISO by
//! kexec from the running server, which is the only way without a medium.

use crate::report::{num, Table};
use anyhow::Result;
use rescue_tests::e2e::{Journey, Report};
use rescue_tests::rear::{self, Flavour};

fn journey(flavour: Flavour) -> Result<Report> {
    let mut j = Journey::new(flavour)?;
    eprintln!("bench e2e: {flavour:?}: logs in {}", j.dir.display());
    j.stage("build the server", |j| j.build_server())?;
    j.stage("install it", |j| j.install())?;
    let mut vm = j.stage("boot it", |j| j.boot_server())?;
    j.stage("rear mkbackup", |j| j.backup())?;
    j.stage("kexec the rescue ISO", |j| j.rescue_by_kexec(&mut vm))?;
    j.stage("recover", |j| j.recover(&mut vm))?;
    let disk = j.img("server");
    j.stage("check the recovered server", |j| {
        j.check_recovered(&mut vm, &disk)
    })?;
    Ok(j.report)
}

pub fn run() -> Result<String> {
    if let Some(why) = rear::unavailable().or_else(rescue_tests::e2e::server::unavailable) {
        return Ok(format!("## The journey\n\nSkipped: {why}\n"));
    }
    let stock = journey(Flavour::Stock)?;
    let kit = journey(Flavour::Kit)?;
    Ok(render(&stock, &kit))
}

fn render(stock: &Report, kit: &Report) -> String {
    let mut s = String::from(
        "## The journey: ReaR's stock path vs the kit\n\n\
         One run each on the same QEMU machine (TCG, 2 vCPUs, 2 GiB), host clock. The rescue ISO is \
         kexec'd from the running server both times (`rescue-init kexec --iso … -e`); stock = \
         `RESCUE_INIT_PACK=no RESCUE_INIT_AS_INIT=no RESCUE_INIT_KEXEC=no` (ReaR's initrd and init, \
         a firmware reboot after `rear recover`), kit = the defaults.\n\n",
    );
    let mut t = Table::new(&["stage", "stock (s)", "kit (s)", "kit / stock"]);
    let rows = [
        (
            "rescue boot: kexec asked → ReaR ready",
            stock.rescue_boot,
            kit.rescue_boot,
        ),
        (
            "recovery: ReaR ready → `rear recover` finished",
            stock.recovery,
            kit.recovery,
        ),
        (
            "recovery finished → recovered server's login prompt",
            stock.to_login,
            kit.to_login,
        ),
    ];
    for (label, a, b) in rows {
        t.row(vec![label.into(), num(a, 1), num(b, 1), num(b / a, 2)]);
    }
    let (a, b) = (
        rows.iter().map(|r| r.1).sum::<f64>(),
        rows.iter().map(|r| r.2).sum::<f64>(),
    );
    t.row(vec![
        "**total**".into(),
        num(a, 1),
        num(b, 1),
        num(b / a, 2),
    ]);
    s.push_str(&t.markdown());
    s.push_str("\nEvery stage of each run:\n\n");
    let mut t = Table::new(&["stage", "stock (s)", "kit (s)"]);
    for ((name, a), (_, b)) in stock.stages.iter().zip(&kit.stages) {
        t.row(vec![name.clone(), num(*a, 1), num(*b, 1)]);
    }
    s.push_str(&t.markdown());
    s.push_str(
        "\nUnder QEMU the firmware is SeaBIOS, which starts in about a second: the stock path's \
         reboot costs little here. On real servers the firmware's power-on self test takes minutes \
         (see the README for public figures), once per reboot; the kit's kexec skips it.\n",
    );
    s
}

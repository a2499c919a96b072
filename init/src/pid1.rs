//! PID 1: the boot sequence, then the main loop. Nothing here may end the
//! process: errors are logged and the boot goes on, a panic in the main
//! loop is caught and answered with an emergency shell, and if even that
//! keeps failing PID 1 falls back to reaping forever.

use crate::config::{After, Config, CONFIG_PATH};
use crate::events::Events;
use crate::signals::{Request, Signals};
use crate::spawn::{self, Stdio3};
use crate::supervise::Supervisor;
use crate::timeline::{self, PHASE};
use crate::udev::Udev;
use crate::{bootscripts, console, log, mount, reap, rear, shutdown};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Panics tolerated before PID 1 gives up on its loop and only reaps.
const MAX_PANICS: u32 = 3;

struct State {
    cfg: Config,
    events: Events,
    shells: Supervisor,
    /// ReaR's respawn daemons: they may start while a step owns the
    /// console, unlike the shells.
    services: Supervisor,
    container: bool,
    /// udevd, when it brought the devices up (`rescue.udev`).
    udev: Udev,
}

pub fn run(args: &[String]) -> ! {
    let t_init = timeline::now_us();
    let container = std::env::var_os("container").is_some();
    let signals = Signals::take_over();
    if container {
        log::use_stderr_only();
    } else {
        // Ctrl-Alt-Del now arrives as SIGINT instead of an instant reboot.
        let _ = rustix::system::reboot(rustix::system::RebootCommand::CadOff);
    }
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    // One log line: the kernel would print a continuation line unprefixed.
    std::panic::set_hook(Box::new(|info| {
        crate::error!("PANIC: {}", info.to_string().replace('\n', " "))
    }));

    let failed = mount::mount_all(mount::EARLY_MOUNTS);
    let t_mounted = timeline::now_us();
    if !container {
        log::attach_kmsg();
        console::attach_stdio();
    }
    crate::info!(
        "rescue-init {} as PID 1: early mounts done ({failed} failed)",
        env!("CARGO_PKG_VERSION")
    );
    set_hostname();
    let mut cfg = load_config(container, args);
    timeline::set_enabled(cfg.timeline && !container);
    timeline::record(0, t_init, PHASE, "kernel");
    timeline::record(t_init, t_mounted, PHASE, "early mounts");
    timeline::since(t_mounted, PHASE, "config");
    let signals = match signals {
        Ok(s) => s,
        Err(e) => {
            crate::error!("cannot take over signals ({e}); only reaping from now on");
            reap_forever();
        }
    };
    let mut events = Events::new(signals);
    let mut udev = Udev::default();
    if !container {
        let t = timeline::now_us();
        udev = crate::udev::bring_up(cfg.udev, &cfg.modules, cfg.coldplug_timeout, &mut events);
        timeline::since(t, PHASE, "devices");
        listen_for_hotplug(&mut events);
    }
    let t = timeline::now_us();
    bootscripts::run_all(
        Path::new(bootscripts::BOOT_DIR),
        cfg.script_timeout,
        &mut events,
    );
    timeline::since(t, PHASE, "boot scripts");
    crate::info!("boot scripts done");
    let rear = if cfg.rear && !container {
        rear::detect(Path::new("/"))
    } else {
        None
    };
    if let Some(plan) = &rear {
        adopt_rear_login(&mut cfg, plan);
    }
    let ttys = terminals(&cfg, container);
    let shells = Supervisor::new(&cfg.shell, ttys);
    let services = Supervisor::new("", Vec::new());
    let mut st = State {
        cfg,
        events,
        shells,
        services,
        container,
        udev,
    };
    if let Some(plan) = rear {
        rear_boot(&mut st, plan);
    }
    recovery_command(&mut st);
    supervise_forever(st)
}

/// Devices that appear later (a USB disk plugged in) get their modules
/// through the kernel's uevents.
fn listen_for_hotplug(events: &mut Events) {
    if !Path::new(crate::modules::HELPER_PATH).exists() {
        return;
    }
    match crate::modules::hotplug::Uevents::open() {
        Ok(u) => events.listen_uevents(u),
        Err(e) => crate::warn!("no hotplug: cannot listen to the kernel's uevents: {e}"),
    }
}

/// Starts `modprobe -q -b ALIAS` for every device that was added, unless
/// udevd runs: then loading modules is its job.
fn handle_hotplug(events: &mut Events, udev: &mut Udev) {
    let added = std::mem::take(&mut events.hotplug);
    if udev.running(events) {
        return;
    }
    for ev in added {
        let Some(alias) = crate::modules::hotplug::wanted(&ev) else {
            continue;
        };
        crate::info!("hotplug: {} added; loading modules for {alias}", ev.devpath);
        let argv = [
            crate::modules::HELPER_PATH.to_string(),
            "-q".into(),
            "-b".into(),
            alias.to_string(),
        ];
        if let Err(e) =
            spawn::command(&argv, "linux").and_then(|c| spawn::start(c, Stdio3::Detached))
        {
            crate::warn!("hotplug: cannot start {}: {e}", argv[0]);
        }
    }
}

/// The hostname from /etc/hostname, so prompts and logs say which
/// system this is.
fn set_hostname() {
    let Ok(text) = std::fs::read_to_string("/etc/hostname") else {
        return;
    };
    let name = text.trim();
    if !name.is_empty() {
        if let Err(e) = rustix::system::sethostname(name.as_bytes()) {
            crate::warn!("sethostname {name:?}: {e}");
        }
    }
}

/// Config file, then the kernel command line (in a container: our argv).
fn load_config(container: bool, args: &[String]) -> Config {
    let mut cfg = Config::default();
    if let Ok(text) = std::fs::read_to_string(CONFIG_PATH) {
        for problem in cfg.apply_file(CONFIG_PATH, &text) {
            crate::error!("{problem} (line ignored)");
        }
    }
    let line = if container {
        args.iter()
            .map(|a| {
                if a.contains(char::is_whitespace) {
                    format!("\"{a}\"")
                } else {
                    a.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        std::fs::read_to_string("/proc/cmdline").unwrap_or_else(|e| {
            crate::error!("/proc/cmdline: {e}");
            String::new()
        })
    };
    for problem in cfg.apply_cmdline(&line) {
        crate::error!("{problem}");
    }
    log::set_debug(cfg.debug);
    crate::debug!("config: {cfg:?}");
    cfg
}

fn terminals(cfg: &Config, container: bool) -> Vec<Option<PathBuf>> {
    if container {
        return vec![None];
    }
    console::shell_terminals(&cfg.consoles)
        .into_iter()
        .map(Some)
        .collect()
}

/// ReaR's login on the consoles, unless a shell was chosen explicitly.
fn adopt_rear_login(cfg: &mut Config, plan: &rear::Plan) {
    crate::info!("ReaR rescue tree: booting it through its inittab (rescue.rear=off boots it as a plain image)");
    for note in &plan.notes {
        crate::info!("ReaR: {note}");
    }
    match &plan.login {
        Some(login) if cfg.shell == crate::config::DEFAULT_SHELL => cfg.shell = login.clone(),
        _ => {}
    }
}

/// ReaR's bootwait scripts in order on the console; its daemons join in
/// at the step the plan says.
fn rear_boot(st: &mut State, plan: rear::Plan) {
    let mut services = Some(plan.services);
    for (i, argv) in plan.steps.iter().enumerate() {
        if i >= plan.services_at {
            start_services(st, services.take());
        }
        let t0 = std::time::Instant::now();
        if let Some(status) = run_on_console(st, argv, "ReaR") {
            crate::info!(
                "ReaR: {} {} ({} ms)",
                argv.join(" "),
                reap::describe(status),
                t0.elapsed().as_millis()
            );
        }
    }
    start_services(st, services.take());
}

fn start_services(st: &mut State, services: Option<Vec<rear::Service>>) {
    for svc in services.into_iter().flatten() {
        st.services.add_service(&svc.name, svc.argv);
    }
    st.services.start_due(&mut st.events);
}

/// `rescue.run`: runs once, owning the console, before the shells start.
fn recovery_command(st: &mut State) {
    let Some(argv) = st.cfg.run.clone() else {
        return;
    };
    let Some(status) = run_on_console(st, &argv, "rescue.run") else {
        return;
    };
    crate::info!("rescue.run {}", reap::describe(status));
    let req = match st.cfg.after {
        After::Shell => return,
        After::Reboot => Request::Reboot,
        After::Poweroff => Request::Poweroff,
        After::Halt => Request::Halt,
        After::Handoff => Request::Kexec,
    };
    if status.exit_status() == Some(0) {
        st.events.requests.push_back((req, 1));
    } else {
        crate::warn!(
            "rescue.run failed: staying in the rescue system instead of rescue.after={req}"
        );
    }
}

/// Runs `argv` owning the console until it exits; shutdown requests that
/// arrive meanwhile are served (a successful one never returns). `None`
/// when it cannot start.
fn run_on_console(
    st: &mut State,
    argv: &[String],
    what: &str,
) -> Option<rustix::process::WaitStatus> {
    crate::info!("running {what}: {argv:?}");
    let t0 = timeline::now_us();
    let row = match what {
        "ReaR" => format!(
            "ReaR {}",
            argv.last()
                .map_or("", |a| a.rsplit('/').next().unwrap_or(a))
        ),
        _ => what.to_string(),
    };
    let status = wait_on_console(st, argv, what);
    timeline::since(t0, PHASE, &row);
    status
}

fn wait_on_console(
    st: &mut State,
    argv: &[String],
    what: &str,
) -> Option<rustix::process::WaitStatus> {
    let started = spawn::command(argv, "linux").and_then(|c| match st.container {
        true => spawn::start(c, Stdio3::Inherit),
        false => spawn::start_kept_session(c, Path::new("/dev/console")),
    });
    let pid = match started {
        Ok(pid) => pid,
        Err(e) => {
            crate::error!("{what} {argv:?}: cannot start: {e}; going on");
            return None;
        }
    };
    st.events.track(pid);
    loop {
        if let Some(s) = st.events.take_exit(pid) {
            return Some(s);
        }
        if !st.events.requests.is_empty() {
            // Served here: a refused handoff (FALLBACK=shell) leaves the
            // command running and owning the console, and its end must
            // still be waited for and acted on.
            crate::info!("{what} still running (pid {pid}) when a shutdown was requested");
            serve_request(st);
            continue;
        }
        let next = st.services.start_due(&mut st.events);
        st.events.wait(next);
        handle_hotplug(&mut st.events, &mut st.udev);
        st.services.collect_exits(&mut st.events);
    }
}

fn supervise_forever(mut st: State) -> ! {
    let mut panics = 0;
    loop {
        let _ = catch_unwind(AssertUnwindSafe(|| main_loop(&mut st)));
        panics += 1;
        if panics > MAX_PANICS {
            crate::error!(
                "PID 1 panicked {panics} times; giving up the main loop and only reaping"
            );
            reap_forever();
        }
        crate::error!(
            "PID 1 survived a panic in its main loop; starting an emergency shell on the console"
        );
        let tty = if st.container {
            None
        } else {
            Some(PathBuf::from("/dev/console"))
        };
        st.shells = Supervisor::new(&st.cfg.shell, vec![tty]);
    }
}

/// Carries out the oldest shutdown request; returns when it did not
/// happen (a handoff refused with FALLBACK=shell, a failed system call).
fn serve_request(st: &mut State) {
    let Some((req, _)) = st.events.requests.pop_front() else {
        return;
    };
    let ctx = shutdown::Shutdown {
        shells: st.shells.pids(),
        stop_timeout: st.cfg.stop_timeout,
        container: st.container,
        handoff: PathBuf::from(&st.cfg.handoff),
        recorded_cmdline: PathBuf::from(crate::handoff::RECORDED_CMDLINE_PATH),
        kexec_watchdog: st.cfg.kexec_watchdog,
    };
    shutdown::run(req, &ctx, &mut st.events);
    crate::warn!("{req} did not happen; the rescue system goes on");
}

fn main_loop(st: &mut State) {
    loop {
        serve_request(st);
        if st.cfg.test_panic {
            st.cfg.test_panic = false;
            panic!("rescue.test-panic: deliberate panic in the main loop");
        }
        let next = [
            st.shells.start_due(&mut st.events),
            st.services.start_due(&mut st.events),
        ]
        .into_iter()
        .flatten()
        .min();
        st.events.wait(next);
        handle_hotplug(&mut st.events, &mut st.udev);
        st.shells.collect_exits(&mut st.events);
        st.services.collect_exits(&mut st.events);
    }
}

/// The last resort: no loop, no signals, just reap so zombies never pile up.
fn reap_forever() -> ! {
    loop {
        match rustix::process::wait(rustix::process::WaitOptions::empty()) {
            Ok(_) => {}
            Err(_) => std::thread::sleep(std::time::Duration::from_secs(1)),
        }
    }
}

//! Device bring-up at boot: the explicit module lists, then coldplug
//! (or udev: `crate::udev` uses [`prepare`] and [`announce`]), then one
//! readiness line. Runs inside PID 1, so it only logs: nothing
//! here may end the boot, and it starts no threads.

use super::backend::{Backend, KernelBackend};
use super::coldplug::{self, Report};
use super::config::{modules_load_list, Config};
use super::index::Index;
use super::loader::Loader;
use super::running_modules_dir;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where mkimage installs the applet (a link to the init binary).
pub const HELPER_PATH: &str = "/sbin/modprobe";
/// The sysctl naming the kernel's module helper.
pub const HELPER_SYSCTL: &str = "/proc/sys/kernel/modprobe";

/// Points the kernel's module requests at `path`.
pub fn set_kernel_helper(path: &str) -> io::Result<()> {
    let current = std::fs::read_to_string(HELPER_SYSCTL).unwrap_or_default();
    if current.trim_end() == path {
        return Ok(());
    }
    std::fs::write(HELPER_SYSCTL, format!("{path}\n")).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{HELPER_SYSCTL}: cannot set to {path}: {e}"),
        )
    })
}

/// Default for the coldplug deadline.
pub const COLDPLUG_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct BootOptions {
    /// Where `/etc/modprobe.d`, `/etc/modules-load.d` and `/lib/modules` are.
    pub root: PathBuf,
    /// The index dir; `None`: `ROOT/lib/modules/$(uname -r)`.
    pub modules_dir: Option<PathBuf>,
    pub sys_root: PathBuf,
    /// The kernel command line (module options, `modprobe.blacklist=`).
    pub cmdline: String,
    /// Modules to load before coldplug (`rescue.modules=a,b,c`).
    pub explicit: Vec<String>,
    pub deadline: Duration,
}

/// What PID 1 calls after the early mounts when it coldplugs itself:
/// [`prepare`], then coldplug `/sys` for at most `deadline`, then the
/// readiness line. `None` when there is no module index (logged).
pub fn boot(explicit: &[String], deadline: Duration) -> Option<Report> {
    helper();
    boot_with(
        &BootOptions::running(explicit, deadline),
        KernelBackend::new(),
    )
}

/// The first half of either bring-up (built-in or udev): points the
/// kernel at the modprobe applet and loads `explicit` (`rescue.modules`)
/// and the modules-load.d lists. Returns the loader (`None` without a
/// module index) for coldplug to go on with.
pub fn prepare(explicit: &[String]) -> Option<Loader<KernelBackend>> {
    helper();
    prepare_with(
        &BootOptions::running(explicit, COLDPLUG_DEADLINE),
        KernelBackend::new(),
    )
}

impl BootOptions {
    /// The running system's paths and command line.
    pub fn running(explicit: &[String], deadline: Duration) -> Self {
        let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_else(|e| {
            crate::warn!("/proc/cmdline: {e}; no module options from the command line");
            String::new()
        });
        BootOptions {
            root: PathBuf::from("/"),
            modules_dir: None,
            sys_root: PathBuf::from("/sys"),
            cmdline,
            explicit: explicit.to_vec(),
            deadline,
        }
    }
}

/// Makes the kernel run our applet for its module requests.
fn helper() {
    if !Path::new(HELPER_PATH).exists() {
        crate::warn!("{HELPER_PATH} is missing: modules the kernel asks for (crypto, file systems) cannot be loaded");
        return;
    }
    if let Err(e) = set_kernel_helper(HELPER_PATH) {
        crate::warn!("{e}");
    }
}

/// [`boot`] with every path and the backend as parameters.
pub fn boot_with<B: Backend>(opts: &BootOptions, backend: B) -> Option<Report> {
    let start = Instant::now();
    let mut loader = prepare_with(opts, backend)?;
    let mut report = coldplug::run(&mut loader, &opts.sys_root, opts.deadline);
    for f in &report.failures {
        crate::error!("coldplug: {f}");
    }
    log_warnings(&mut loader);
    // The readiness line covers the whole bring-up, lists included.
    report.loaded = loader.loaded().to_vec();
    report.elapsed = start.elapsed();
    announce(&report, opts.deadline);
    Some(report)
}

/// The readiness line: info when settled, a warning at the deadline.
pub fn announce(report: &Report, deadline: Duration) {
    if report.timed_out {
        crate::warn!("{report} (deadline {} ms)", deadline.as_millis());
    } else {
        crate::info!("{report}");
        // For those who would otherwise wait for the devices again (the
        // ReaR kit's setup script checks it).
        let _ = std::fs::create_dir_all("/run/rescue-init")
            .and_then(|()| std::fs::write(SETTLED_PATH, format!("{report}\n")));
    }
}

/// Exists once the devices settled (built-in coldplug or udev) within the
/// deadline.
pub const SETTLED_PATH: &str = "/run/rescue-init/devices-settled";

/// [`prepare`] with every path and the backend as parameters.
pub fn prepare_with<B: Backend>(opts: &BootOptions, backend: B) -> Option<Loader<B>> {
    let dir = opts
        .modules_dir
        .clone()
        .unwrap_or_else(|| running_modules_dir(&opts.root));
    let index = match Index::load(&dir) {
        Ok(i) => i,
        Err(e) => {
            crate::warn!("{e}; skipping module loading and coldplug");
            return None;
        }
    };
    for p in &index.problems {
        crate::warn!("{p} (skipped)");
    }
    crate::debug!("module index {}: {} modules", dir.display(), index.len());
    let config = Config::load(&opts.root, &opts.cmdline);
    for p in &config.problems {
        crate::warn!("{p}");
    }
    let mut loader = Loader::new(index, config, backend);
    load_list(&mut loader, "rescue.modules", &opts.explicit);
    let (listed, problems) = modules_load_list(&opts.root);
    for p in &problems {
        crate::warn!("{p} (skipped)");
    }
    load_list(&mut loader, "modules-load.d", &listed);
    Some(loader)
}

fn load_list<B: Backend>(loader: &mut Loader<B>, source: &str, names: &[String]) {
    for name in names {
        match loader.load(name) {
            Ok(loaded) if loaded.is_empty() => {
                crate::debug!("{source}: {name}: already loaded or built in")
            }
            Ok(loaded) => crate::info!("{source}: {name}: loaded {}", loaded.join(", ")),
            Err(e) => crate::error!("{source}: {e}"),
        }
    }
    log_warnings(loader);
}

fn log_warnings<B: Backend>(loader: &mut Loader<B>) {
    for w in loader.take_warnings() {
        crate::warn!("{w}");
    }
}

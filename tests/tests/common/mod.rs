//! Helpers that keep the VM tests short: one VM at a time, the default
//! image, and the console patterns that the init's contract promises.

#![allow(dead_code)]

use anyhow::{Context, Result};
use rescue_tests::{image, BootOpts, ExitKind, ImageSpec, Initramfs, Kernel, Vm};
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// For boot markers and anything after a restart (TCG on 2 busy cores).
pub const BOOT: Duration = Duration::from_secs(60);
/// For a command's output at a live prompt.
pub const STEP: Duration = Duration::from_secs(30);

/// The prompt `rootfs/etc/profile` sets: `RESCUE <host>:<cwd> # `.
pub const PROMPT: &str = r"RESCUE [^\r\n]*:[^\r\n]* [#$] ";
/// A timestamped log line of the init (its own stamp or the kernel's).
pub const INIT_LOG_LINE: &str = r"\[\s*\d+\.\d+\] rescue-init: ";
/// The init taking Ctrl-Alt-Del: SIGINT (2) from the kernel (pid 0).
pub const CAD_LOG: &str = r"rescue-init: reboot requested \(signal 2 from pid 0\)";
/// The init taking `poweroff` (SIGUSR2 from the applet).
pub const POWEROFF_LOG: &str = r"rescue-init: poweroff requested \(signal 12 from pid \d+\)";
/// The init throttling shell restarts (supervise.rs).
pub const BACKOFF_LOG: &str =
    r"rescue-init: shell on [^\r\n]*; \d+ starts within \d+s, next start in \d+s";
/// The init reporting that there is no shell to start.
pub const NO_SHELL_LOG: &str =
    r"rescue-init: [^\r\n]*cannot start /bin/sh[^\r\n]*No shell is available";
/// The init's panic hook (the message may be on the next line), then its
/// recovery from the main loop's panic.
pub const PANIC_LOG: &str = r"(?s)rescue-init: PANIC: .{0,300}rescue\.test-panic";
pub const PANIC_SURVIVED_LOG: &str = r"rescue-init: PID 1 survived a panic in its main loop";

/// A VM plus the process-wide lock that keeps VMs from running in parallel.
pub struct Guest {
    vm: Vm,
    _serial: MutexGuard<'static, ()>,
}

impl Deref for Guest {
    type Target = Vm;
    fn deref(&self) -> &Vm {
        &self.vm
    }
}

impl DerefMut for Guest {
    fn deref_mut(&mut self) -> &mut Vm {
        &mut self.vm
    }
}

impl Guest {
    /// Boots `image` with `cmdline` added to the default command line.
    pub fn start(image: Initramfs, cmdline: &str) -> Result<Guest> {
        Self::start_with_disks(image, cmdline, Vec::new())
    }

    /// Boots `image` with raw disk images attached as virtio disks.
    pub fn start_with_disks(image: Initramfs, cmdline: &str, disks: Vec<PathBuf>) -> Result<Guest> {
        Self::start_with_qemu_args(image, cmdline, disks, Vec::new())
    }

    /// Boots with virtio disks and further QEMU arguments (other buses).
    pub fn start_with_qemu_args(
        image: Initramfs,
        cmdline: &str,
        disks: Vec<PathBuf>,
        qemu_args: Vec<String>,
    ) -> Result<Guest> {
        let kernel = Kernel::get()?;
        let mut opts = BootOpts::new(&kernel.vmlinuz, &image.path);
        opts.cmdline_extra = cmdline.to_owned();
        opts.disks = disks;
        opts.extra_args = qemu_args;
        Self::start_with_opts(opts)
    }

    /// Boots with options made by the caller (another kernel, more memory).
    pub fn start_with_opts(opts: BootOpts) -> Result<Guest> {
        static SERIAL: Mutex<()> = Mutex::new(());
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Guest {
            vm: Vm::boot(opts)?,
            _serial: serial,
        })
    }

    /// Waits for the next shell prompt.
    pub fn prompt(&mut self, timeout: Duration) -> Result<()> {
        self.wait_for_re(PROMPT, timeout).map(drop)
    }

    /// Types `cmd`, waits for `want` (a regex) and the next prompt;
    /// returns the capture groups of `want`.
    pub fn sh(&mut self, cmd: &str, want: &str, timeout: Duration) -> Result<Vec<String>> {
        self.send_line(cmd)?;
        let caps = self.wait_for_re(want, timeout)?;
        self.prompt(STEP)?;
        Ok(caps)
    }

    /// The bytes `cmd` writes, carried over the console in base64
    /// between markers (the image needs `base64`: busybox or coreutils).
    pub fn fetch(&mut self, cmd: &str, timeout: Duration) -> Result<Vec<u8>> {
        use base64::Engine as _;
        self.send_line(&format!(
            "echo FETCH-$((1+1))-BEGIN; {cmd} | base64; echo FETCH-$((1+1))-END"
        ))?;
        let caps = self.wait_for_re(
            r"FETCH-2-BEGIN\r?\n([A-Za-z0-9+/=\r\n]*)FETCH-2-END",
            timeout,
        )?;
        self.prompt(STEP)?;
        let text: String = caps[1].chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .context("decoding what the guest sent")
    }

    /// The shell computes: `echo MARK-$((6*7))` prints `MARK-42`.
    pub fn mark(&mut self) -> Result<()> {
        self.sh("echo MARK-$((6*7))", "MARK-42", STEP).map(drop)
    }

    /// PID 1's user + system CPU time in clock ticks (1/100 s).
    pub fn init_cpu_ticks(&mut self) -> Result<u64> {
        let cmd = "echo INITCPU=$(awk '{print $14+$15}' /proc/1/stat)";
        let caps = self.sh(cmd, r"INITCPU=(\d+)\r?\n", STEP)?;
        Ok(caps[1].parse()?)
    }

    /// The kernel never saw PID 1 die or panic.
    pub fn assert_init_alive(&self) -> Result<()> {
        self.assert_absent("Attempted to kill init")?;
        self.assert_absent("Kernel panic")
    }

    /// Waits for QEMU to exit and checks how.
    pub fn expect_exit(&mut self, want: ExitKind) -> Result<()> {
        let got = self.wait_exit(BOOT)?;
        if got != want {
            return Err(self.failure(&format!("expected {want:?}, QEMU ended with {got:?}")));
        }
        self.assert_absent("Attempted to kill init")
    }
}

/// Boots an image with extra kernel command line.
pub fn boot(image: Initramfs, cmdline: &str) -> Result<Guest> {
    Guest::start(image, cmdline)
}

/// Boots an image with virtio disks attached.
pub fn boot_with_disks(image: Initramfs, cmdline: &str, disks: Vec<PathBuf>) -> Result<Guest> {
    Guest::start_with_disks(image, cmdline, disks)
}

/// Boots the default image and waits for the first prompt.
pub fn boot_to_shell(cmdline: &str) -> Result<Guest> {
    let mut g = boot(image()?, cmdline)?;
    g.prompt(BOOT)?;
    Ok(g)
}

/// The default image (rescue-init + rootfs + busybox), built once.
pub fn image() -> Result<Initramfs> {
    static IMAGE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let built = ImageSpec::new("vm-default").build();
            built.map(|i| i.path).map_err(|e| format!("{e:#}"))
        })
        .clone()
        .map(|path| Initramfs { path })
        .map_err(anyhow::Error::msg)
}

/// Busybox only, with a shell script as `/init`, packed by `mkimage pack`.
pub fn harness_image() -> Result<Initramfs> {
    let dir = image::fresh_dir("harness")?;
    let tree = dir.join("tree");
    image::busybox_tree(&tree, &[])?;
    let init = tree.join("init");
    std::fs::write(&init, HARNESS_INIT).context("writing the harness /init")?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&init, std::fs::Permissions::from_mode(0o755))?;
    image::pack(&tree, "harness")
}

const HARNESS_INIT: &str = "#!/bin/sh
mkdir -p /proc /dev
mount -t proc proc /proc
mount -t devtmpfs dev /dev
echo HARNESS-UP
exec setsid cttyhack sh
";

//! The few system calls rustix does not offer (signal masks, signalfd,
//! signal dispositions, `kill(-1)`, fork-for-reboot, module loading and
//! unloading). This is the only
//! module allowed to use `unsafe` (see `lib.rs`); every block says why
//! it is sound.

use rustix::io::Errno;
use rustix::ioctl::{ioctl, opcode, NoArg, Opcode, Updater};
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::OnceLock;

/// Signals that must stay deliverable: blocking them would turn a fault
/// into an endless loop instead of a visible crash.
const FAULT_SIGNALS: [i32; 6] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGABRT,
    libc::SIGTRAP,
];

/// Job-control signals PID 1 ignores (it has no terminal to stop for).
const IGNORED: [i32; 3] = [libc::SIGTTIN, libc::SIGTTOU, libc::SIGTSTP];

/// The mask PID 1 started with, restored in every child before exec.
static ORIGINAL_MASK: OnceLock<SigSet> = OnceLock::new();

#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

// SAFETY: sigset_t is a plain bit array with no pointers.
unsafe impl Send for SigSet {}
// SAFETY: as above; shared references only read the bits.
unsafe impl Sync for SigSet {}

impl SigSet {
    fn empty() -> Self {
        // SAFETY: sigset_t is plain data; sigemptyset initialises all of it.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid, writable sigset_t.
        unsafe { libc::sigemptyset(&mut set) };
        SigSet(set)
    }

    /// Every signal except the fault signals (and KILL/STOP, which the
    /// kernel refuses to block anyway).
    fn all_but_faults() -> Self {
        let mut set = SigSet::empty();
        // SAFETY: `set.0` is a valid, initialised sigset_t.
        unsafe { libc::sigfillset(&mut set.0) };
        for sig in FAULT_SIGNALS {
            // SAFETY: valid sigset_t and a valid signal number.
            unsafe { libc::sigdelset(&mut set.0, sig) };
        }
        set
    }
}

/// Blocks every non-fault signal and remembers the previous mask.
pub fn block_signals() -> io::Result<SigSet> {
    let blocked = SigSet::all_but_faults();
    let mut old = SigSet::empty();
    // SAFETY: both pointers reference valid sigset_t values that live
    // across the call.
    let rc = unsafe { libc::sigprocmask(libc::SIG_SETMASK, &blocked.0, &mut old.0) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let _ = ORIGINAL_MASK.set(old);
    Ok(blocked)
}

/// Sets the disposition of the job-control signals to "ignore".
pub fn ignore_job_control() {
    for sig in IGNORED {
        // SAFETY: SIG_IGN is a valid disposition for these catchable
        // signals; no handler code is installed.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
}

/// Creates a non-blocking, close-on-exec signalfd for `set`.
pub fn signalfd(set: &SigSet) -> io::Result<OwnedFd> {
    let flags = libc::SFD_CLOEXEC | libc::SFD_NONBLOCK;
    // SAFETY: -1 asks for a new fd; `set` points to a valid sigset_t.
    let fd = unsafe { libc::signalfd(-1, &set.0, flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this fd to us; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Restores default dispositions and the original signal mask in the
/// child, between fork and exec, and optionally starts a new session.
pub fn prepare_child(cmd: &mut Command, new_session: bool, ctty: bool) {
    let mask = ORIGINAL_MASK.get().copied().unwrap_or_else(SigSet::empty);
    let hook = move || {
        for sig in IGNORED {
            // SAFETY: async-signal-safe call on a valid signal number.
            unsafe { libc::signal(sig, libc::SIG_DFL) };
        }
        // SAFETY: `mask` is a valid sigset_t copied into the closure.
        if unsafe { libc::sigprocmask(libc::SIG_SETMASK, &mask.0, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if new_session {
            rustix::process::setsid()?;
        }
        if ctty {
            // SAFETY: fd 0 is the child's stdin, open until exec.
            make_controlling_tty(unsafe { BorrowedFd::borrow_raw(0) })?;
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe system calls and
    // allocates nothing, as required between fork and exec.
    unsafe { cmd.pre_exec(hook) };
}

/// Between fork and exec of a session's command: its own process group,
/// made the terminal's (fd 0) foreground group while the job-control
/// signals are still ignored and blocked as in PID 1 (a background group
/// calling tcsetpgrp would otherwise be stopped by SIGTTOU). Register
/// before [`prepare_child`], whose hook restores the signals.
pub fn foreground_group(cmd: &mut Command) {
    let hook = || {
        rustix::process::setpgid(None, None)?;
        let me = rustix::process::getpid();
        // SAFETY: fd 0 is the terminal; BorrowedFd only for the call.
        let tty = unsafe { BorrowedFd::borrow_raw(0) };
        rustix::termios::tcsetpgrp(tty, me)?;
        Ok(())
    };
    // SAFETY: setpgid, getpid and the tcsetpgrp ioctl are
    // async-signal-safe and allocate nothing.
    unsafe { cmd.pre_exec(hook) };
}

/// Ends this (forked) process the way its child ended: the same exit
/// code, or death by the same signal.
pub fn exit_like(status: std::process::ExitStatus) -> ! {
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = status.signal() {
        // SAFETY: plain calls on a valid signal number; if the signal does
        // not end us (it was a stop signal), the _exit below does.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            let mut set = SigSet::empty();
            libc::sigaddset(&mut set.0, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set.0, std::ptr::null_mut());
            libc::kill(libc::getpid(), sig);
        }
    }
    let code = status.code().unwrap_or(128 + status.signal().unwrap_or(0));
    // SAFETY: ends the forked child without running the parent's
    // destructors.
    unsafe { libc::_exit(code) }
}

/// Makes the terminal `tty` the caller's controlling tty (the caller
/// leads a session), stealing it if an old session still claims it, as
/// getty does.
pub fn make_controlling_tty(tty: impl AsFd) -> io::Result<()> {
    // SAFETY: plain ioctl on a valid fd with an integer argument;
    // async-signal-safe, so fine between fork and exec too.
    if unsafe { libc::ioctl(tty.as_fd().as_raw_fd(), libc::TIOCSCTTY, 1) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `kill(-1, sig)`: every process except PID 1 itself (and kernel threads).
pub fn kill_all(sig: i32) -> io::Result<()> {
    // SAFETY: kill takes plain integers; -1 is the documented broadcast.
    if unsafe { libc::kill(-1, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `kill(pid, sig)` for signal numbers rustix has no name for (SIGRTMIN+n).
pub fn kill_raw(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// SIGRTMIN as the C library defines it (musl reserves some).
pub fn sigrtmin() -> i32 {
    libc::SIGRTMIN()
}

/// Runs `f` in a forked child and returns the child's pid; the child
/// exits with `f`'s result. Used for calls PID 1 must not make itself:
/// halt and power-off end the calling process when they return, and a
/// sync can hang forever on a dead disk.
pub fn fork_call(f: impl FnOnce() -> i32) -> io::Result<i32> {
    // SAFETY: PID 1 is single-threaded (it never starts threads), so the
    // child may run arbitrary code; it never returns into the caller.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // A panic must not unwind into the child's copy of PID 1's loop.
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
        // SAFETY: terminate the child without running parent destructors.
        unsafe { libc::_exit(code) };
    }
    Ok(pid)
}

/// Flags of kexec_file_load(2).
pub const KEXEC_FILE_UNLOAD: u64 = 0x1;
pub const KEXEC_FILE_NO_INITRAMFS: u64 = 0x4;

/// The syscall number: musl's libc crate lacks it on aarch64, where the
/// generic table (include/uapi/asm-generic/unistd.h) gives it 294.
#[cfg(target_arch = "aarch64")]
const SYS_KEXEC_FILE_LOAD: libc::c_long = 294;
#[cfg(not(target_arch = "aarch64"))]
const SYS_KEXEC_FILE_LOAD: libc::c_long = libc::SYS_kexec_file_load;

/// `kexec_file_load(kernel_fd, initrd_fd, cmdline_len, cmdline, flags)`.
/// `cmdline` must end with its NUL, which the length counts.
pub fn kexec_file_load(
    kernel: BorrowedFd<'_>,
    initrd: Option<BorrowedFd<'_>>,
    cmdline: &CStr,
    flags: u64,
) -> io::Result<()> {
    let bytes = cmdline.to_bytes_with_nul();
    let initrd_fd = initrd.map_or(-1, |fd| fd.as_raw_fd());
    // SAFETY: the fds are borrowed, so open for the duration of the call;
    // the command line pointer and length describe a live NUL-terminated
    // buffer; the kernel only reads them.
    let rc = unsafe {
        libc::syscall(
            SYS_KEXEC_FILE_LOAD,
            kernel.as_raw_fd(),
            initrd_fd,
            bytes.len(),
            bytes.as_ptr(),
            flags,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `struct kexec_segment` from <linux/kexec.h>: `bufsz` bytes at `buf`
/// go to physical `mem`, a page-aligned `memsz`-byte range (the rest
/// zeroed). The lifetime ties it to the buffer it points into.
#[repr(C)]
pub struct KexecSegment<'a> {
    buf: *const u8,
    bufsz: usize,
    mem: usize,
    memsz: usize,
    _buf: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> KexecSegment<'a> {
    pub fn new(buf: &'a [u8], mem: u64, memsz: u64) -> Self {
        KexecSegment {
            buf: buf.as_ptr(),
            bufsz: buf.len(),
            mem: mem as usize,
            memsz: memsz as usize,
            _buf: std::marker::PhantomData,
        }
    }
}

/// `kexec_load(entry, nr_segments, segments, KEXEC_ARCH_DEFAULT)`; no
/// segments unloads.
pub fn kexec_load(entry: u64, segments: &[KexecSegment<'_>]) -> io::Result<()> {
    let ptr = if segments.is_empty() {
        std::ptr::null()
    } else {
        segments.as_ptr()
    };
    // SAFETY: `segments` is a live slice of #[repr(C)] kexec_segment
    // structs, each pointing into a buffer its lifetime keeps alive; the
    // kernel copies them during the call and writes nothing back.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_kexec_load,
            entry as libc::c_ulong,
            segments.len() as libc::c_ulong,
            ptr,
            0 as libc::c_ulong,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `finit_module(fd, params, flags)`: loads the kernel module in `fd`.
pub fn finit_module(module: BorrowedFd<'_>, params: &CStr, flags: i32) -> io::Result<()> {
    // SAFETY: the fd is borrowed and open for the call; `params` is a live
    // NUL-terminated string the kernel only reads.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_finit_module,
            module.as_raw_fd(),
            params.as_ptr(),
            flags,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `delete_module(name, O_NONBLOCK)`: unloads the module `name`. Never
/// forced (no O_TRUNC) and never waiting: a module in use gives EWOULDBLOCK
/// (or EBUSY) at once.
pub fn delete_module(name: &CStr) -> io::Result<()> {
    // SAFETY: `name` is a live NUL-terminated string the kernel only
    // reads; the flags are plain integers.
    let rc = unsafe { libc::syscall(libc::SYS_delete_module, name.as_ptr(), libc::O_NONBLOCK) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `swapoff(path)`.
pub fn swapoff(path: &CStr) -> Result<(), Errno> {
    // SAFETY: `path` is a live NUL-terminated string the kernel only reads.
    if unsafe { libc::swapoff(path.as_ptr()) } != 0 {
        let err = std::io::Error::last_os_error();
        return Err(Errno::from_raw_os_error(
            err.raw_os_error().unwrap_or(libc::EIO),
        ));
    }
    Ok(())
}

/// `LOOP_CLR_FD` from <linux/loop.h>: `_IO(0x4C, 0x01)`.
const LOOP_CLR_FD: Opcode = opcode::none(0x4C, 0x01);

/// Detaches the loop device open as `fd` from its backing file. While
/// someone else has the device open the kernel (since 5.x) sets
/// LO_FLAGS_AUTOCLEAR instead and returns success: the device detaches
/// itself on its last close.
pub fn loop_clr_fd(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: LOOP_CLR_FD takes no argument and touches no user memory;
    // the fd is borrowed, so open for the call.
    unsafe { ioctl(fd, NoArg::<LOOP_CLR_FD>::new()) }
}

/// `struct dm_ioctl` from <linux/dm-ioctl.h> (312 bytes on every arch).
#[repr(C)]
pub struct DmIoctl {
    version: [u32; 3],
    data_size: u32,
    data_start: u32,
    target_count: u32,
    open_count: i32,
    flags: u32,
    event_nr: u32,
    padding: u32,
    dev: u64,
    name: [u8; 128],
    uuid: [u8; 129],
    data: [u8; 7],
}

const DM_IOCTL_SIZE: usize = std::mem::size_of::<DmIoctl>();
const _: () = assert!(DM_IOCTL_SIZE == 312);
const _: () = assert!(std::mem::offset_of!(DmIoctl, dev) == 40);
const _: () = assert!(std::mem::offset_of!(DmIoctl, name) == 48);
const _: () = assert!(std::mem::offset_of!(DmIoctl, uuid) == 176);

/// `DM_DEV_REMOVE`: `_IOWR(0xfd, DM_DEV_REMOVE_CMD = 4, struct dm_ioctl)`.
const DM_DEV_REMOVE: Opcode = opcode::read_write::<DmIoctl>(0xfd, 4);
const _: () = assert!(DM_DEV_REMOVE as u64 == 0xc138_fd04);

/// Removes the device-mapper device called `name` (what `dmsetup remove`
/// does) through `control`, an open /dev/mapper/control. EBUSY while the
/// device is open; ENXIO when there is no such device.
pub fn dm_dev_remove(control: BorrowedFd<'_>, name: &str) -> Result<(), Errno> {
    if name.is_empty() || name.len() >= 128 || name.contains('\0') {
        return Err(Errno::INVAL);
    }
    let mut io = DmIoctl {
        // Interface version 4.0.0: the kernel accepts any 4.x at or below
        // its own.
        version: [4, 0, 0],
        data_size: DM_IOCTL_SIZE as u32,
        data_start: DM_IOCTL_SIZE as u32,
        target_count: 0,
        open_count: 0,
        flags: 0,
        event_nr: 0,
        padding: 0,
        dev: 0,
        name: [0; 128],
        uuid: [0; 129],
        data: [0; 7],
    };
    io.name[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: DM_DEV_REMOVE reads and writes back `data_size` bytes of a
    // struct dm_ioctl; `io` is exactly that struct (#[repr(C)], size
    // checked above), initialised, and lives across the call; the fd is
    // borrowed, so open.
    unsafe { ioctl(control, Updater::<DM_DEV_REMOVE, DmIoctl>::new(&mut io)) }
}

/// `WDIOC_SETTIMEOUT` from <linux/watchdog.h>: `_IOWR('W', 6, int)`.
const WDIOC_SETTIMEOUT: Opcode = opcode::read_write::<libc::c_int>(b'W', 6);
/// `WDIOC_KEEPALIVE`: `_IOR('W', 5, int)` (the argument is ignored).
const WDIOC_KEEPALIVE: Opcode = opcode::read::<libc::c_int>(b'W', 5);

/// Sets the watchdog's timeout; returns the one the driver chose (drivers
/// round to what their hardware can count).
pub fn watchdog_set_timeout(fd: BorrowedFd<'_>, secs: i32) -> Result<i32, Errno> {
    let mut value: libc::c_int = secs;
    // SAFETY: WDIOC_SETTIMEOUT reads and writes one int, which `value` is;
    // the fd is borrowed, so open for the call.
    unsafe {
        ioctl(
            fd,
            Updater::<WDIOC_SETTIMEOUT, libc::c_int>::new(&mut value),
        )?
    };
    Ok(value)
}

/// Restarts the watchdog's countdown.
pub fn watchdog_keepalive(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut ignored: libc::c_int = 0;
    // SAFETY: WDIOC_KEEPALIVE is declared as writing one int, which
    // `ignored` is (the core writes nothing); the fd is borrowed.
    unsafe {
        ioctl(
            fd,
            Updater::<WDIOC_KEEPALIVE, libc::c_int>::new(&mut ignored),
        )
    }
}

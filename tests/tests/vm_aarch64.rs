//! The aarch64 VM tier: Debian's arm64 kernel boots images built by
//! `mkimage` under `qemu-system-aarch64 -M virt -cpu max -accel tcg`.
//!
//! Run with `make test-vm ARCH=aarch64` (it builds rescue-init for
//! aarch64-unknown-linux-musl and fetches the arm64 kernel and busybox).
//! TCG emulating arm64 on x86-64 is slow, so this tier is a chosen few
//! tests: boot to the prompt with the shell respawned and orphans reaped,
//! power-off, coldplug of virtio-blk and virtio-scsi with ext4 through the
//! kernel's module helper, the handoff with the native kexec_load (plain
//! and gzip Image, and from GRUB auto-detection as `make demo` does), and
//! `rescue-init kexec --iso` on a GRUB-only ISO, and a dynamically linked
//! arm64 program put in by `mkimage build --sysroot`. The x86-64 tier (`vm.rs`) proves the rest of
//! PID 1's behaviour, which is architecture-independent code.

mod common;

#[path = "vm/handoff.rs"]
#[allow(dead_code, unused_imports)]
mod handoff_fixtures;

#[path = "vm_aarch64/basics.rs"]
mod basics;
/// The x86-64 tier's `make demo` test, unchanged: the recovered system's
/// GRUB config (with arm64's console) is auto-detected and `reboot`
/// kexecs into it.
#[path = "vm/demo.rs"]
mod demo;
#[path = "vm_aarch64/devices.rs"]
mod devices;
#[path = "vm_aarch64/handoff.rs"]
mod handoff;
#[path = "vm_aarch64/iso.rs"]
mod iso;

/// Fails (not skips) when the tier is run without `ARCH=aarch64`: the
/// tests would otherwise boot x86-64 and prove nothing about arm64.
pub fn require_aarch64() -> anyhow::Result<()> {
    let arch = rescue_tests::Arch::get()?;
    anyhow::ensure!(
        arch == rescue_tests::Arch::Aarch64,
        "the aarch64 tier needs ARCH=aarch64 (make test-vm ARCH=aarch64)"
    );
    Ok(())
}

//! The user's journey, end to end (`make test-e2e`; `make bench-e2e`
//! compares it with ReaR's stock path): a Debian 12 server installed on
//! an LVM disk boots through firmware, GRUB, its own initrd and systemd;
//! rescue-init and the ReaR kit are installed the documented way; `rear
//! mkbackup` writes the ISO and the backup to a second disk; the running
//! server kexecs the rescue ISO (`rescue-init kexec --iso ... -e`, systemd
//! shuts down cleanly), ReaR recovers unattended and `reboot` kexecs into
//! the recovered system, which must come up under systemd with its data,
//! and leave every filesystem clean after a poweroff. Then the same on a
//! blank disk of another size, the ISO booted from a CD by the firmware.
//!
//! Everything runs from scratch under `target/e2e/` (serial logs
//! `*.log`, the disks `*.img`), kept after the run for inspection.

pub mod disks;
pub mod install;
pub mod server;
pub mod ssh;
mod stages;

pub use stages::{Journey, Report};

use crate::rear::Flavour;

/// ReaR's line when its rescue system has finished setting up.
pub const REAR_READY: &str = "Relax-and-Recover rescue system is ready";
/// ReaR's line at the end of a successful unattended recovery.
pub const RECOVER_DONE: &str = "'rear recover' finished successfully";
/// The kernel's last line before it jumps into a kexec'd kernel.
pub const KEXEC_JUMP: &str = "kexec_core: Starting new kernel";
/// The kernel's line when the firmware is asked to reboot.
pub const FIRMWARE_REBOOT: &str = "reboot: Restarting system";

/// What a journey's local.conf adds to the README's example.
pub fn flavour_conf(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Kit => "",
        // ReaR as it comes: its own find|cpio|gzip, its own init, and a
        // firmware reboot after the recovery.
        Flavour::Stock => "RESCUE_INIT_PACK=no\nRESCUE_INIT_AS_INIT=no\nRESCUE_INIT_KEXEC=no\n",
    }
}

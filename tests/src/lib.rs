//! Test support for rescue-init: kernel provisioning, a QEMU harness and
//! initramfs fixtures built with `mkimage`.
//!
//! The VM tests live in `tests/vm.rs`; the namespace tests in `tests/ns.rs`.

pub mod arch;
pub mod checker;
pub mod chroot;
pub mod demo;
pub mod e2e;
pub mod fsck;
pub mod image;
pub mod iso;
pub mod kernel;
pub mod monitor;
pub mod nfs;
pub mod paths;
pub mod qemu;
pub mod rear;
pub mod skip;
pub mod target;
pub mod timeline;

pub use arch::Arch;
pub use image::{ImageSpec, Initramfs};
pub use kernel::Kernel;
pub use qemu::{BootOpts, ExitKind, Vm};
pub use skip::{have, is_root, skip, skip_if};

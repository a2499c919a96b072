//! Kernel modules without udev: the kmod index files, module loading
//! with `finit_module`, coldplug from sysfs, and the `modprobe` applet the
//! kernel runs when it wants a module.
//!
//! # Pieces
//!
//! - [`Index`] (`index.rs`, `parse.rs`): `modules.dep`, `modules.alias`,
//!   `modules.softdep`, `modules.builtin` and `modules.builtin.modinfo`
//!   under `/lib/modules/RELEASE`, read by the [`kmodfmt`] crate that
//!   mkimage writes them with. Bad lines are skipped and kept in
//!   [`Index::problems`] as `FILE:LINE: cause`; only a missing
//!   `modules.dep` makes the index unusable.
//! - [`Config`] (`config.rs`): `/etc/modprobe.d/*.conf` (`options`,
//!   `blacklist`, `alias`, `softdep`; `install`/`remove` are reported and
//!   ignored), `NAME.param=value` and `modprobe.blacklist=a,b` from the
//!   kernel command line, and `/etc/modules-load.d/*.conf` lists.
//! - [`Loader`] (`loader.rs`): name or alias to modules (config aliases,
//!   module names, `modules.alias`, built-in aliases, built-in names; the
//!   first that matches wins, as in kmod), then dependencies first, soft
//!   dependencies `pre:` before and `post:` after, each module once;
//!   built-in and already loaded modules are skipped. A blacklist hides
//!   modules found through an alias, never a module asked for by name.
//!   The kernel is reached through a [`Backend`] so tests need no root.
//! - [`coldplug`]: load a module for every `modalias` under
//!   `/sys/devices`, pass after pass, until no new device shows up and
//!   nothing known is pending (`settle.rs`: USB enumeration, usb-storage
//!   scans).
//! - The `modprobe` applet (`crate::applets::modprobe`), for the kernel's
//!   `/proc/sys/kernel/modprobe` helper and for people, drives these;
//!   [`remove`] (`remove.rs`) is its `-r`.
//! - [`boot`] (`boot.rs`): what PID 1 calls once the early mounts exist.
//!
//! Names are compared normalised: `-` becomes `_` (outside `[...]` in
//! aliases), as the kernel and kmod do ([`kmodfmt::normalize_alias`]);
//! alias patterns match as kmod's do ([`kmodfmt::glob`]).

mod backend;
mod boot;
pub mod coldplug;
mod config;
pub mod hotplug;
mod index;
mod loader;
mod parse;
mod remove;
pub mod settle;

#[cfg(test)]
mod tests;

pub use backend::{Backend, KernelBackend};
pub use boot::{announce, boot, prepare, COLDPLUG_DEADLINE, HELPER_PATH};
pub use config::{split_list, Config};
pub use index::Index;
pub use loader::{LoadError, Loader, Location, Step};
pub use remove::remove;

use std::path::Path;

/// Where module trees live: `/lib/modules/RELEASE`.
pub const MODULES_ROOT: &str = "/lib/modules";

/// The running kernel's release (`uname -r`).
pub fn kernel_release() -> String {
    rustix::system::uname()
        .release()
        .to_string_lossy()
        .into_owned()
}

/// `/lib/modules/RELEASE` for the running kernel, under `root`.
pub fn running_modules_dir(root: &Path) -> std::path::PathBuf {
    root.join(MODULES_ROOT.trim_start_matches('/'))
        .join(kernel_release())
}

//! Booting a rescue ISO (a file or a block device) with kexec from a
//! running system, without mounting it: what `rescue-init kexec --iso
//! PATH` does (its options: `applets/kexec/iso.rs`).
//!
//! - [`fs`] reads ISO 9660 itself: the volume descriptors from sector 16,
//!   directory records, Rock Ridge names and symbolic links (`NM`, `SL`,
//!   relocated directories, `CE` continuation areas), Joliet names, and
//!   plain names looked up ignoring case. Damaged images are refused with
//!   the image's name and the offset of the damage; so are multi-extent
//!   files.
//! - [`menu`] finds the boot entries: the first isolinux/syslinux config
//!   and the GRUB configs, read by [`crate::bootcfg`], and picks one:
//!   `--entry`, else the default, unless that does not boot Linux (ReaR's
//!   ISOs default to booting the local disk): then the first entry that
//!   does, and it says so.
//! - [`load`] copies the kernel and the initrds (concatenated) into
//!   memfds and loads them with kexec_file_load; the command line is the
//!   entry's without boot-loader tokens (`initrd=`, `BOOT_IMAGE=`), plus
//!   `--append-extra`.
//!
//! `-e` then executes it the way `rescue-init kexec -e` does (asking PID 1
//! or systemd for a clean shutdown); `--load-only` (the default) stops
//! after loading; `--list` only prints the entries.

mod error;
pub(crate) mod fs;
pub(crate) mod load;
mod medium;
pub mod menu;
mod susp;
mod volume;

#[cfg(test)]
mod tests;

pub(crate) use error::IsoError;
pub use fs::Iso;
pub use medium::Medium;

use std::io;
use std::path::Path;

/// Opens the ISO image (file or block device) at `path`.
pub(crate) fn open(path: &Path) -> Result<Iso, IsoError> {
    Iso::new(Medium::open(path)?)
}

/// Why an ISO cannot be booted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Iso(#[from] IsoError),
    #[error("{file}: no boot entries: {found} (looked for {looked})")]
    NoEntries {
        file: String,
        found: String,
        looked: String,
    },
    #[error("{file}: no boot entry boots a Linux kernel: {entries}")]
    NoLinux { file: String, entries: String },
    #[error("{file}: no boot entry {name:?}; the entries are: {labels}")]
    EntryNotFound {
        file: String,
        name: String,
        labels: String,
    },
    #[error("{file}: entry {entry} does not boot a Linux kernel ({what})")]
    EntryNotLinux {
        file: String,
        entry: String,
        what: String,
    },
    #[error("entry {entry} ({origin}): {what}: {source}")]
    Missing {
        entry: String,
        origin: String,
        what: &'static str,
        source: Box<IsoError>,
    },
    #[error("cannot create a memory file for the {what}: {source}")]
    Memfd {
        what: &'static str,
        source: io::Error,
    },
    #[error("the command line is {len} bytes; the kernel takes at most {max}")]
    Cmdline { len: usize, max: usize },
    #[error(transparent)]
    Load(#[from] crate::kexec::KexecError),
}

//! The handoff: after a recovery, a script writes the *handoff file*
//! naming the recovered system's kernel, initrd and command line, and
//! rescue-init kexecs into it. This module turns that file into a
//! [`Plan`] and checks it, making no system calls beyond reading files;
//! only [`decide`] (`execute.rs`, at shutdown, in a child of PID 1:
//! `isolated.rs`) loads the kernel.
//!
//! # The handoff file
//!
//! `KEY=VALUE` lines as [`crate::kv`] reads them (a shell can write it and
//! `.` it). Keys:
//!
//! - `ROOT`: where the recovered system is mounted in the rescue system;
//!   an absolute path, default [`DEFAULT_ROOT`] (`/mnt/local`). `ROOT=/`
//!   takes the kernel from the rescue system itself.
//! - `KERNEL`, `INITRD`: paths inside ROOT, resolved as if chrooted there
//!   (absolute symlinks stay inside ROOT; `..` above ROOT or a link
//!   pointing out of it is refused, see [`resolve_in_root`]).
//! - `CMDLINE`: the new kernel's command line.
//! - `ACTION=kexec|reboot|poweroff|shell` (default `kexec`) and
//!   `FALLBACK=reboot|shell|poweroff` (default `reboot`): what to do, and
//!   what to do if the kexec cannot happen.
//!
//! Without `KERNEL` the boot configuration under ROOT is read, in this
//! order: Boot Loader Specification entries, GRUB's `grub.cfg`, Debian's
//! `/vmlinuz` links, the newest `/boot/vmlinuz-*` (see `detect/`). Each
//! value not set in the file comes from there: INITRD from the same boot
//! entry; CMDLINE from the entry's arguments, else from the host command
//! line recorded in the image at build time. When `KERNEL` is set the
//! default boot entry still supplies INITRD and CMDLINE, but only if it
//! boots the very same file. Every value carries its [`Source`]. Only
//! `ACTION=kexec` looks at ROOT and the rest; other actions ignore them.
//!
//! kexec takes one initrd: a boot entry's early-microcode images
//! (`*ucode*`, `*microcode*`) are left out, several other initrds are an
//! error. [`validate()`] then checks what the kernel's kexec_file_load
//! checks: an x86-64 bzImage (boot protocol 2.12+, 64-bit entry, loadable
//! above 4 GiB), a readable non-empty initrd, and a command line without
//! NUL or newline of at most 2047 bytes (warning beyond the 2016 that
//! kexec_file_load takes: it keeps 30 bytes for `elfcorehdr=`).

// x86-64 only; arm64 kernels are checked by crate::kexec::arm64.
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
mod bzimage;
mod detect;
mod error;
pub(crate) mod execute;
mod file;
mod isolated;
mod plan;
pub(crate) mod preload;
mod resolve;
mod source;
mod validate;

#[cfg(test)]
mod tests;

pub(crate) use bzimage::{cmdline_size_of, parse_header as parse_bzimage_header};
pub(crate) use error::HandoffError;
pub(crate) use execute::Decision;
pub use file::{parse, HandoffFile};
pub(crate) use file::{Action, Fallback};
pub(crate) use isolated::decide;
pub use plan::build;
pub(crate) use plan::{KexecPlan, Plan};
pub(crate) use resolve::resolve_in_root;
pub(crate) use validate::{file_load_max, validate, CMDLINE_MAX};

use std::io;
use std::path::Path;

/// Where the recovery writes the handoff file.
pub(crate) const DEFAULT_PATH: &str = "/run/rescue-init/handoff";
/// The recovered system's root when the file sets no `ROOT`.
pub(crate) const DEFAULT_ROOT: &str = "/mnt/local";
/// The original host's `/proc/cmdline`, recorded when the image was built.
pub(crate) const RECORDED_CMDLINE_PATH: &str = "/etc/rescue-init/host-cmdline";

/// Reads and parses the handoff file at `path`.
pub(crate) fn read(path: &Path) -> Result<HandoffFile, HandoffError> {
    let text = crate::fsread::read_text(path, crate::fsread::MAX_TEXT);
    let text = text
        .map_err(io::Error::from)
        .map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => HandoffError::Missing {
                path: path.to_path_buf(),
            },
            _ => HandoffError::Read {
                path: path.to_path_buf(),
                source,
            },
        })?;
    Ok(parse(&path.display().to_string(), &text)?)
}

/// Reads the handoff file at `path` and works out the plan: paths
/// resolved inside ROOT, missing values detected. `recorded_cmdline` is
/// the host command line file ([`RECORDED_CMDLINE_PATH`] in the image).
/// The plan is not validated yet: see [`validate()`].
pub(crate) fn load(path: &Path, recorded_cmdline: &Path) -> Result<Plan, HandoffError> {
    let file = read(path)?;
    build(&file, path, recorded_cmdline)
}

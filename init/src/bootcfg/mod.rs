//! Boot loader configurations, read the way the boot loaders read them,
//! for both places rescue-init needs them: the handoff (what the
//! recovered system boots by default, `handoff/detect/`) and
//! `kexec --iso` (the entries of a rescue ISO, `iso/menu.rs`). One
//! parser per format; the callers decide where the files come from.
//!
//! - [`grub`]: `grub.cfg` as a menu tree with its default, GRUB's script
//!   syntax (`grub/script.rs`) and `grubenv`.
//! - [`bls`]: Boot Loader Specification entries, their order and
//!   `loader.conf`'s default.
//! - [`syslinux`]: isolinux/syslinux configs.
//! - [`entry`]: a flat list of boot entries, whichever loader's, and the
//!   kernel command line made from one (what `kexec --iso` boots).
//! - [`version`]: version ordering of kernels and BLS entries.

pub mod bls;
pub mod entry;
pub mod grub;
pub mod syslinux;
pub mod version;

/// Reads a file a config includes (`source`, `include`): its text, or
/// why not.
pub type Reader<'a> = &'a mut dyn FnMut(&str) -> Result<String, String>;

/// Included files read in all, for one menu: ten `source` lines per
/// file, seven files deep, would otherwise be ten million reads.
pub const MAX_FILES: usize = 64;
/// Their bytes in all.
pub const MAX_BYTES: usize = 8 << 20;

/// `read` within [`MAX_FILES`] and [`MAX_BYTES`]: once either is
/// spent, every further include fails (and is noted as skipped).
pub fn budget<'a>(read: Reader<'a>) -> impl FnMut(&str) -> Result<String, String> + 'a {
    let (mut files, mut bytes) = (0usize, 0usize);
    move |path| {
        if files >= MAX_FILES {
            return Err(format!("more than {MAX_FILES} included files in all"));
        }
        files += 1;
        let text = read(path)?;
        bytes = bytes.saturating_add(text.len());
        if bytes > MAX_BYTES {
            files = MAX_FILES;
            return Err(format!(
                "more than {MAX_BYTES} bytes of included files in all"
            ));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod hostile;

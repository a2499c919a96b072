//! Would the kexec work? The kernel is an x86-64 bzImage (on arm64 an
//! uncompressed Image, see [`crate::kexec::arm64`]) the kernel's
//! kexec_file_load takes, the initrd is a readable non-empty file, the
//! command line fits and has no NUL or newline. Only reads files.

use super::bzimage::BzImage;
use super::plan::KexecPlan;
use crate::kexec;
use crate::preflight::Limits;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// `COMMAND_LINE_SIZE` is 2048 bytes with the NUL on x86 and on arm64.
pub const CMDLINE_MAX: usize = 2047;
#[cfg(not(target_arch = "aarch64"))]
const ARCH_NAME: &str = "x86";
#[cfg(target_arch = "aarch64")]
const ARCH_NAME: &str = "arm64";
/// kexec_file_load keeps room for `elfcorehdr=0x...` (30 bytes) even
/// when loading a normal kernel, and counts the NUL.
const KEXEC_FILE_RESERVE: usize = 30 + 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok(String),
    /// Works, but worth knowing.
    Warn(String),
    Fail(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `kernel`, `initrd` or `cmdline`.
    pub what: &'static str,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    pub checks: Vec<Check>,
    /// The kernel's header, when it passed.
    pub kernel: Option<BzImage>,
}

impl Validation {
    /// True when nothing failed (warnings allowed).
    pub fn is_ok(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| matches!(c.outcome, Outcome::Fail(_)))
    }

    /// The failures, as `what: message`.
    pub fn problems(&self) -> Vec<String> {
        let failed = self.checks.iter().filter_map(|c| match &c.outcome {
            Outcome::Fail(m) => Some(format!("{}: {m}", c.what)),
            _ => None,
        });
        failed.collect()
    }

    /// The warnings, as `what: message`: the handoff logs them, as a
    /// load that fails later is explained by one.
    pub fn warnings(&self) -> Vec<String> {
        let warned = self.checks.iter().filter_map(|c| match &c.outcome {
            Outcome::Warn(m) => Some(format!("{}: {m}", c.what)),
            _ => None,
        });
        warned.collect()
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let (tag, msg) = match &c.outcome {
                Outcome::Ok(m) => ("ok  ", m),
                Outcome::Warn(m) => ("WARN", m),
                Outcome::Fail(m) => ("FAIL", m),
            };
            writeln!(f, "  {tag} {}: {msg}", c.what)?;
        }
        Ok(())
    }
}

/// The kernel: an x86-64 bzImage on x86-64.
#[cfg(not(target_arch = "aarch64"))]
fn kernel(path: &Path) -> (Option<BzImage>, Outcome) {
    match super::bzimage::inspect(path) {
        Ok(b) => (Some(b), Outcome::Ok(format!("{}: {b}", path.display()))),
        Err(e) => (None, Outcome::Fail(e.to_string())),
    }
}

/// The kernel: on arm64 an Image, plain or gzip/EFI-zboot compressed
/// (decompressed in memory as the load does, then its header read).
/// arm64's COMMAND_LINE_SIZE is 2048 as on x86, and the Image has no field
/// of its own for it.
#[cfg(target_arch = "aarch64")]
fn kernel(path: &Path) -> (Option<BzImage>, Outcome) {
    use crate::kexec::{arm64, unpack};
    let checked = std::fs::read(path)
        .map_err(|e| format!("cannot read: {e}"))
        .and_then(unpack::unpack)
        .and_then(|(image, packing)| Ok((arm64::image_header(&image)?, packing)));
    let outcome = match checked {
        Ok((h, packing)) => Outcome::Ok(format!(
            "{}: arm64 Image ({packing:?}), text_offset {:#x}, image_size {} bytes",
            path.display(),
            h.text_offset,
            h.image_size
        )),
        Err(e) => Outcome::Fail(format!("{}: {e}", path.display())),
    };
    (None, outcome)
}

/// Checks the plan's kernel, initrd and command line.
pub fn validate(plan: &KexecPlan) -> Validation {
    let (kernel, outcome) = kernel(&plan.kernel.0);
    let mut checks = vec![Check {
        what: "kernel",
        outcome,
    }];
    let initrd = match &plan.initrd {
        Some((p, _)) => initrd_outcome(p),
        None => Outcome::Warn("none: the kernel must find its root file system on its own".into()),
    };
    checks.push(Check {
        what: "initrd",
        outcome: initrd,
    });
    checks.push(Check {
        what: "cmdline",
        outcome: cmdline(&plan.cmdline.0, kernel.as_ref(), kexec::tool().is_some()),
    });
    let bytes = [Some(&plan.kernel.0), plan.initrd.as_ref().map(|i| &i.0)]
        .into_iter()
        .flatten()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let limits = Limits::current();
    checks.push(Check {
        what: "kexec",
        outcome: match limits.refusal(bytes) {
            Some(why) => Outcome::Fail(why),
            None => Outcome::Ok(limits.summary(bytes)),
        },
    });
    Validation { checks, kernel }
}

pub(crate) fn initrd_outcome(path: &Path) -> Outcome {
    let fail = |why: String| Outcome::Fail(format!("{}: {why}", path.display()));
    let (mut f, len) = match crate::fsread::open_regular(path, crate::fsread::Links::Follow) {
        Ok(found) => found,
        Err(e @ crate::fsread::ReadError::NotRegular(_)) => return fail(e.to_string()),
        Err(e) => return fail(format!("cannot open: {e}")),
    };
    let mut first = [0u8; 1];
    match f.read(&mut first) {
        Ok(0) => fail("empty".into()),
        Ok(_) if len == 0 => fail("empty".into()),
        Ok(_) => Outcome::Ok(format!("{}: {len} bytes", path.display())),
        Err(e) => fail(format!("cannot read: {e}")),
    }
}

/// The longest command line kexec_file_load takes for a kernel whose
/// header says `cmdline_size`.
pub fn file_load_max(cmdline_size: u32) -> usize {
    (cmdline_size as usize).saturating_sub(KEXEC_FILE_RESERVE)
}

/// The command line: no NUL or line break, within the kernel's limit and the
/// kernel's own `cmdline_size`; beyond kexec_file_load's smaller limit
/// only the kexec-tools fallback can load it: a warning when this system
/// has kexec-tools (`classic`), else a failure that says so.
pub fn cmdline(c: &str, kernel: Option<&BzImage>, classic: bool) -> Outcome {
    let len = c.len();
    if c.contains('\0') {
        return Outcome::Fail("contains a NUL byte".into());
    }
    if c.contains(['\n', '\r']) {
        return Outcome::Fail("contains a line break".into());
    }
    if len > CMDLINE_MAX {
        return Outcome::Fail(format!(
            "{len} bytes; {ARCH_NAME} allows {CMDLINE_MAX} (COMMAND_LINE_SIZE 2048 with the NUL)"
        ));
    }
    let Some(k) = kernel else {
        return Outcome::Ok(format!("{len} bytes"));
    };
    let size = k.cmdline_size as usize;
    if len > size {
        return Outcome::Fail(format!(
            "{len} bytes; this kernel takes {size} (cmdline_size)"
        ));
    }
    let file_load = file_load_max(k.cmdline_size);
    let why = format!("{len} bytes: kexec_file_load takes at most {file_load} for this kernel (it reserves 30 for elfcorehdr=)");
    if len > file_load && classic {
        return Outcome::Warn(format!("{why}; only kexec-tools can load it"));
    }
    if len > file_load {
        return Outcome::Fail(format!(
            "{why}, and there is no kexec-tools here for the classic load: shorten it"
        ));
    }
    Outcome::Ok(format!("{len} bytes (at most {file_load})"))
}

//! The plan: what the handoff will do, every value with where it came from.

use super::detect::{detect, Detected};
use super::error::HandoffError;
use super::file::{Action, Fallback, HandoffFile, Value};
use super::resolve::resolve_in_root;
use super::source::Source;
use super::DEFAULT_ROOT;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What to kexec. Paths are host paths (below ROOT, symlinks resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KexecPlan {
    pub root: (PathBuf, Source),
    pub kernel: (PathBuf, Source),
    pub initrd: Option<(PathBuf, Source)>,
    pub cmdline: (String, Source),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The handoff file.
    pub file: PathBuf,
    pub action: (Action, Source),
    pub fallback: (Fallback, Source),
    /// `Some` exactly when the action is [`Action::Kexec`].
    pub kexec: Option<KexecPlan>,
    /// How values were found and what was passed over on the way.
    pub notes: Vec<String>,
}

/// Works out the plan for a parsed handoff file (read from `path`);
/// `recorded_cmdline` is the host command line file.
pub fn build(
    file: &HandoffFile,
    path: &Path,
    recorded_cmdline: &Path,
) -> Result<Plan, HandoffError> {
    let action = sourced(&file.action, Action::Kexec);
    let fallback = sourced(&file.fallback, Fallback::Reboot);
    let mut notes = Vec::new();
    let kexec = if action.0 == Action::Kexec {
        Some(kexec_plan(file, recorded_cmdline, &mut notes)?)
    } else {
        let set: Vec<&str> = [
            ("ROOT", &file.root),
            ("KERNEL", &file.kernel),
            ("INITRD", &file.initrd),
            ("CMDLINE", &file.cmdline),
        ]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| *k)
        .collect();
        if !set.is_empty() {
            notes.push(format!("ACTION={}: {} ignored", action.0, set.join(", ")));
        }
        None
    };
    Ok(Plan {
        file: path.to_path_buf(),
        action,
        fallback,
        kexec,
        notes,
    })
}

fn sourced<T: Copy>(v: &Option<Value<T>>, default: T) -> (T, Source) {
    v.as_ref().map_or((default, Source::Default), |v| {
        (v.value, Source::HandoffFile { line: v.line })
    })
}

fn kexec_plan(
    file: &HandoffFile,
    recorded: &Path,
    notes: &mut Vec<String>,
) -> Result<KexecPlan, HandoffError> {
    let root = root(file)?;
    let (kernel, detected) = kernel(file, &root.0, notes)?;
    let (initrd, args) = detected.map_or((None, None), |d| (d.initrd, d.args));
    let initrd = match &file.initrd {
        Some(v) => Some((
            resolve(file, &root.0, "INITRD", v)?,
            Source::HandoffFile { line: v.line },
        )),
        None => initrd,
    };
    if initrd.is_none() {
        notes.push("no initrd".into());
    }
    let cmdline = match (&file.cmdline, args) {
        (Some(v), _) => (v.value.clone(), Source::HandoffFile { line: v.line }),
        (None, Some(args)) => args,
        (None, None) => recorded_cmdline(recorded, notes)?,
    };
    Ok(KexecPlan {
        root,
        kernel,
        initrd,
        cmdline,
    })
}

fn root(file: &HandoffFile) -> Result<(PathBuf, Source), HandoffError> {
    let (root, source, origin) = match &file.root {
        Some(v) => (
            PathBuf::from(&v.value),
            Source::HandoffFile { line: v.line },
            format!("{}:{}", file.name, v.line),
        ),
        None => (
            PathBuf::from(DEFAULT_ROOT),
            Source::Default,
            format!("{} (ROOT not set, default)", file.name),
        ),
    };
    let reason = match fs::metadata(&root) {
        Ok(m) if m.is_dir() => return Ok((root, source)),
        Ok(_) => "not a directory".to_string(),
        Err(e) => e.to_string(),
    };
    Err(HandoffError::Root {
        origin,
        root,
        reason,
    })
}

fn resolve(
    file: &HandoffFile,
    root: &Path,
    key: &'static str,
    v: &Value,
) -> Result<PathBuf, HandoffError> {
    resolve_in_root(root, &v.value).map_err(|source| HandoffError::Path {
        file: file.name.clone(),
        line: v.line,
        key,
        source: Box::new(source),
    })
}

/// KERNEL from the file, or detected. With KERNEL set, the default boot
/// entry still counts when it boots that same file.
fn kernel(
    file: &HandoffFile,
    root: &Path,
    notes: &mut Vec<String>,
) -> Result<((PathBuf, Source), Option<Detected>), HandoffError> {
    let Some(v) = &file.kernel else {
        let d = detect(root, notes).ok_or_else(|| no_kernel(root, notes))?;
        return Ok((d.kernel.clone(), Some(d)));
    };
    let k = resolve(file, root, "KERNEL", v)?;
    let same = detect(root, &mut Vec::new()).filter(|d| d.kernel.0 == k);
    match &same {
        Some(d) => notes.push(format!(
            "KERNEL is the default boot entry's ({}): unset values come from it",
            d.kernel.1
        )),
        None => notes.push(
            "KERNEL is not what the boot configuration boots by default: nothing taken from it"
                .into(),
        ),
    }
    Ok(((k, Source::HandoffFile { line: v.line }), same))
}

fn no_kernel(root: &Path, notes: &[String]) -> HandoffError {
    let mut tried = vec![
        "BLS entries in /boot/loader/entries and /efi/loader/entries".to_string(),
        "GRUB menu entries in /boot/grub/grub.cfg, /boot/grub2/grub.cfg and /boot/efi/EFI/*/grub.cfg".into(),
        "the links /vmlinuz and /boot/vmlinuz, and /boot/vmlinuz-*".into(),
    ];
    tried.extend(notes.iter().cloned());
    if fs::read_dir(root).is_ok_and(|mut d| d.next().is_none()) {
        tried.push(format!(
            "{} is empty: is the recovered system mounted there?",
            root.display()
        ));
    }
    HandoffError::NoKernel {
        root: root.to_path_buf(),
        tried,
    }
}

/// The host command line recorded at image build time, minus GRUB's
/// `BOOT_IMAGE=` (it would name the old kernel).
fn recorded_cmdline(
    path: &Path,
    notes: &mut Vec<String>,
) -> Result<(String, Source), HandoffError> {
    let no = |reason: &str| HandoffError::NoCmdline {
        recorded: path.to_path_buf(),
        reason: reason.into(),
    };
    let text = crate::fsread::read_text(path, crate::fsread::MAX_TEXT).map_err(io::Error::from);
    let text = match text {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(no("does not exist")),
        Err(source) => {
            return Err(HandoffError::RecordedCmdline {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut line = text.trim();
    if let Some(rest) = line
        .strip_prefix("BOOT_IMAGE=")
        .filter(|r| !r.starts_with('"'))
    {
        line = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, tail)| tail.trim_start());
        notes.push("dropped BOOT_IMAGE= from the recorded host command line".into());
    }
    if line.is_empty() {
        return Err(no("is empty"));
    }
    Ok((
        line.to_string(),
        Source::RecordedHostCmdline {
            path: path.to_path_buf(),
        },
    ))
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "handoff file {}", self.file.display())?;
        writeln!(f, "  action:   {}  [{}]", self.action.0, self.action.1)?;
        writeln!(f, "  fallback: {}  [{}]", self.fallback.0, self.fallback.1)?;
        if let Some(k) = &self.kexec {
            write!(f, "{k}")?;
        }
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        Ok(())
    }
}

impl fmt::Display for KexecPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  root:     {}  [{}]",
            self.root.0.display(),
            self.root.1
        )?;
        writeln!(
            f,
            "  kernel:   {}  [{}]",
            self.kernel.0.display(),
            self.kernel.1
        )?;
        match &self.initrd {
            Some((p, s)) => writeln!(f, "  initrd:   {}  [{s}]", p.display())?,
            None => writeln!(f, "  initrd:   none")?,
        }
        let c = &self.cmdline.0;
        if c.chars().any(char::is_control) {
            writeln!(f, "  cmdline:  {c:?}  [{}]", self.cmdline.1)
        } else {
            writeln!(f, "  cmdline:  {c}  [{}]", self.cmdline.1)
        }
    }
}

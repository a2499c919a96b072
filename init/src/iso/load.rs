//! Loading an entry's kernel and initrds with kexec_file_load(2) from
//! memory: each goes into a sealed memfd (no temporary files on disk);
//! several initrds are concatenated, each padded to 4 bytes as GRUB does,
//! so the kernel finds every cpio archive.
//!
//! Errors are classified as in `kexec.rs` (replicated here: its
//! classification is private): a signature or lockdown refusal is
//! reported and never worked around; when kexec_file_load cannot take the
//! image (ENOSYS, EINVAL, ENOEXEC, EOPNOTSUPP) kexec-tools' classic
//! kexec_load is tried on the memfds through `/proc/PID/fd/N`.

use super::fs::Iso;
use super::Error;
use crate::bootcfg::entry::BootEntry;
use crate::kexec::{self, KexecError, Method};
use crate::memfile::MemFile;
use crate::sys;
use std::ffi::CString;
use std::os::fd::AsFd;
use std::path::Path;

/// What was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub method: Method,
    pub kernel_bytes: u64,
    pub initrd_bytes: u64,
}

/// Copies `paths` of the ISO, in order, into one memfd.
pub fn copy_all(
    iso: &Iso,
    e: &BootEntry,
    what: &'static str,
    paths: &[&str],
) -> Result<MemFile, Error> {
    let name = CString::new(format!("rescue-init-iso-{what}")).unwrap_or_default();
    let mut mem = MemFile::new(&name).map_err(|source| Error::Memfd { what, source })?;
    for path in paths {
        mem.pad(4).map_err(|source| Error::Memfd { what, source })?;
        iso.copy(path, &mut mem).map_err(|source| Error::Missing {
            entry: e.to_string(),
            origin: e.origin.clone(),
            what,
            source: Box::new(source),
        })?;
    }
    mem.seal().map_err(|source| Error::Memfd { what, source })?;
    Ok(mem)
}

/// Loads entry `e` of `iso` with `cmdline`.
pub fn load(iso: &Iso, e: &BootEntry, cmdline: &str) -> Result<Loaded, Error> {
    let kernel_path = e.kernel().ok_or_else(|| Error::EntryNotLinux {
        file: iso.name().into(),
        entry: e.to_string(),
        what: "no kernel".into(),
    })?;
    if cmdline.len() > crate::handoff::CMDLINE_MAX {
        return Err(Error::Cmdline {
            len: cmdline.len(),
            max: crate::handoff::CMDLINE_MAX,
        });
    }
    let kernel = copy_all(iso, e, "kernel", &[kernel_path])?;
    let paths: Vec<&str> = e.initrds.iter().map(String::as_str).collect();
    let initrd = if paths.is_empty() {
        None
    } else {
        Some(copy_all(iso, e, "initrd", &paths)?)
    };
    let label = format!("{}:{kernel_path}", iso.name());
    let method = load_files(&kernel, initrd.as_ref(), cmdline, Path::new(&label))?;
    Ok(Loaded {
        method,
        kernel_bytes: kernel.len,
        initrd_bytes: initrd.map_or(0, |i| i.len),
    })
}

/// kexec_file_load of open files; `label` names the kernel in errors.
pub fn load_files(
    kernel: &MemFile,
    initrd: Option<&MemFile>,
    cmdline: &str,
    label: &Path,
) -> Result<Method, KexecError> {
    let c = CString::new(cmdline).map_err(|_| KexecError::Cmdline)?;
    let flags = if initrd.is_some() {
        0
    } else {
        sys::KEXEC_FILE_NO_INITRAMFS
    };
    let load = kexec::describe(
        &kernel.file,
        kernel.len + initrd.map_or(0, |i| i.len),
        cmdline,
    );
    kexec::preflight(label, &load)?;
    let method = match sys::kexec_file_load(
        kernel.file.as_fd(),
        initrd.map(|i| i.file.as_fd()),
        &c,
        flags,
    ) {
        Ok(()) => Method::FileLoad,
        Err(e) => kexec::after_failure(e, label, &load, |file_load, why| {
            let initrd_path = initrd.map(MemFile::proc_path);
            let kernel_path = kernel.proc_path();
            kexec::classic(
                &kernel_path,
                initrd_path.as_deref(),
                cmdline,
                &load,
                file_load,
                why,
            )
        })?,
    };
    if !kexec::loaded() {
        return Err(KexecError::NotLoaded);
    }
    Ok(method)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn refusals_are_not_worked_around() {
        let class = |errno| kexec::classify(&io::Error::from_raw_os_error(errno));
        for errno in [libc::EPERM, libc::EKEYREJECTED, libc::ENOKEY, libc::EBADMSG] {
            assert!(matches!(class(errno), kexec::Class::Refused), "{errno}");
        }
        for errno in [libc::ENOSYS, libc::EINVAL, libc::ENOEXEC, libc::EOPNOTSUPP] {
            assert!(matches!(class(errno), kexec::Class::Unsupported), "{errno}");
        }
        assert!(matches!(class(libc::ENOMEM), kexec::Class::Other));
        let e = KexecError::Refused {
            path: "/dev/sr0:/isolinux/kernel".into(),
            source: io::Error::from_raw_os_error(libc::EPERM),
            why: "the kernel is locked down".into(),
        };
        assert_eq!(e.to_string(), "the kernel refused /dev/sr0:/isolinux/kernel: the kernel is locked down (Operation not permitted (os error 1)); not working around it");
    }
}

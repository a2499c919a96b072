//! A sealed memfd: a kernel or initrd put together in memory (an ISO's
//! files, an unpacked arm64 Image) and handed to kexec_file_load(2) by fd,
//! with no temporary file on any disk.

use rustix::fs::{MemfdFlags, SealFlags};
use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// A memfd holding what was copied into it, sealed against changes.
pub struct MemFile {
    pub file: File,
    pub len: u64,
}

impl MemFile {
    pub fn new(name: &CStr) -> io::Result<MemFile> {
        let fd = rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
        Ok(MemFile {
            file: File::from(fd),
            len: 0,
        })
    }

    /// Pads with zeros to a multiple of `align`.
    pub fn pad(&mut self, align: u64) -> io::Result<()> {
        let pad = (align - self.len % align) % align;
        self.write_all(&vec![0; pad as usize])
    }

    pub fn seal(&self) -> io::Result<()> {
        let seals = SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL;
        Ok(rustix::fs::fcntl_add_seals(&self.file, seals)?)
    }

    /// `/proc/PID/fd/N`, for a program that is not our child by fd.
    pub fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.file.as_raw_fd()
        ))
    }
}

impl Write for MemFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

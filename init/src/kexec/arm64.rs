//! The classic kexec_load(2) on arm64, done natively: Debian's arm64
//! kernels have no kexec_file_load (CONFIG_KEXEC_FILE unset), and an image
//! need not carry kexec-tools.
//!
//! Segments, all inside one "System RAM" range of /proc/iomem and clear of
//! everything the running kernel lists under it (its code and data, the
//! "reserved" memblock regions, firmware tables):
//! - the Image at a 2 MiB-aligned base plus its `text_offset`
//!   (Documentation/arch/arm64/booting.rst), `image_size` long;
//! - at the next 2 MiB boundary the device tree: the running one
//!   (/sys/firmware/fdt) with `/chosen` rewritten, then a trampoline page;
//! - the initrd after them.
//!
//! The kernel's arm64 kexec enters the entry point (the trampoline) with
//! the MMU off and x0 = 0 for a kexec_load image; the trampoline loads
//! the device tree's address into x0, zeroes x1-x3 and branches to the
//! Image, as booting.rst asks.

use super::fdt::{Fdt, FdtError};
use crate::sys::{self, KexecSegment};
use std::path::Path;

const FDT_PATH: &str = "/sys/firmware/fdt";
const IOMEM: &str = "/proc/iomem";
const SZ_2M: u64 = 2 << 20;
const PAGE: u64 = 4096;
/// "ARM\x64" at 0x38 of an arm64 Image.
const IMAGE_MAGIC: &[u8; 4] = b"ARM\x64";

#[derive(Debug, thiserror::Error)]
pub enum Arm64Error {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}")]
    Image(String),
    #[error("{FDT_PATH}: {0}")]
    Fdt(#[from] FdtError),
    #[error("{IOMEM}: {0}")]
    Memory(String),
    #[error("kexec_load: {0}")]
    Load(std::io::Error),
}

/// A physical address range, end exclusive.
pub type Range = (u64, u64);

/// What the Image header says (booting.rst, "Call the kernel image").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    pub text_offset: u64,
    pub image_size: u64,
    pub flags: u64,
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Checks an uncompressed arm64 Image ([`super::unpack`] first).
pub fn image_header(b: &[u8]) -> Result<ImageHeader, String> {
    let file_len = b.len() as u64;
    if b.len() < 64 || &b[0x38..0x3c] != IMAGE_MAGIC {
        return Err("not an arm64 Image: no \"ARM\\x64\" magic at 0x38".into());
    }
    let h = ImageHeader {
        text_offset: le64(b, 8),
        image_size: le64(b, 16),
        flags: le64(b, 24),
    };
    // image_size 0 means a kernel older than 3.17, whose bss size is unknown.
    if h.image_size == 0 || h.image_size < file_len {
        return Err(format!(
            "arm64 Image header has image_size {} for a {file_len}-byte file",
            h.image_size
        ));
    }
    if h.flags & 1 != 0 {
        return Err("a big-endian arm64 Image".into());
    }
    if !h.text_offset.is_multiple_of(PAGE) || h.text_offset >= SZ_2M {
        return Err(format!(
            "arm64 Image text_offset {:#x} is unusable",
            h.text_offset
        ));
    }
    Ok(h)
}

/// "System RAM" ranges (inclusive ends turned exclusive) and what is
/// nested under them, from /proc/iomem's text.
pub fn parse_iomem(text: &str) -> (Vec<Range>, Vec<Range>) {
    let (mut ram, mut busy) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let nested = line.starts_with(' ');
        let Some((range, name)) = line.trim().split_once(" : ") else {
            continue;
        };
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else {
            continue;
        };
        let r = (a, b.saturating_add(1));
        if !nested && name == "System RAM" {
            ram.push(r);
        } else if nested {
            busy.push(r);
        }
    }
    (ram, busy)
}

/// The lowest 2 MiB-aligned base where `len` bytes fit inside one RAM
/// range without touching a busy one.
pub fn find_base(ram: &[Range], busy: &[Range], len: u64) -> Option<u64> {
    for &(start, end) in ram {
        let mut base = start.div_ceil(SZ_2M) * SZ_2M;
        while base.checked_add(len)? <= end {
            let stop = base + len;
            match busy
                .iter()
                .filter(|&&(a, b)| a < stop && b > base)
                .map(|r| r.1)
                .max()
            {
                None => return Some(base),
                Some(b) => base = b.div_ceil(SZ_2M) * SZ_2M,
            }
        }
    }
    None
}

/// aarch64 code: `ldr x0, dtb; mov x1..x3, xzr; ldr x4, entry; br x4`,
/// then the two literals (the `ldr`s are PC-relative).
pub fn trampoline(dtb: u64, entry: u64) -> Vec<u8> {
    let code: [u32; 6] = [
        0x5800_00c0, // ldr x0, #24
        0xaa1f_03e1, // mov x1, xzr
        0xaa1f_03e2, // mov x2, xzr
        0xaa1f_03e3, // mov x3, xzr
        0x5800_0084, // ldr x4, #16 (from 16: the literal at 32)
        0xd61f_0080, // br x4
    ];
    let mut out: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    out.extend(dtb.to_le_bytes());
    out.extend(entry.to_le_bytes());
    out
}

fn random(n: usize) -> Result<Vec<u8>, Arm64Error> {
    use std::io::Read;
    let mut v = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut v))
        .map_err(|e| Arm64Error::Read("/dev/urandom".into(), e))?;
    Ok(v)
}

/// `/chosen` for the next kernel: its command line and initrd; no crash
/// kernel entries (this is not a kdump load); the seeds, which the
/// running kernel zeroed or dropped after use, refilled when present.
pub fn rewrite_chosen(
    fdt: &mut Fdt,
    cmdline: &str,
    initrd: Option<(u64, u64)>,
) -> Result<(), Arm64Error> {
    let chosen = fdt.child_mut("chosen");
    for stale in [
        "linux,elfcorehdr",
        "linux,usable-memory-range",
        "linux,initrd-start",
        "linux,initrd-end",
    ] {
        chosen.remove(stale);
    }
    let mut args = cmdline.as_bytes().to_vec();
    args.push(0);
    chosen.set("bootargs", args);
    if let Some((start, end)) = initrd {
        chosen.set("linux,initrd-start", start.to_be_bytes().to_vec());
        chosen.set("linux,initrd-end", end.to_be_bytes().to_vec());
    }
    if chosen.prop("kaslr-seed").is_some() {
        chosen.set("kaslr-seed", random(8)?);
    }
    if let Some(len) = chosen.prop("rng-seed").map(<[u8]>::len) {
        chosen.set("rng-seed", random(len)?);
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, Arm64Error> {
    std::fs::read(path).map_err(|e| Arm64Error::Read(path.display().to_string(), e))
}

fn page_up(n: u64) -> u64 {
    n.div_ceil(PAGE) * PAGE
}

/// Loads `kernel` (+ `initrd`) with `cmdline` for a later reboot(KEXEC).
pub fn load(kernel: &Path, initrd: Option<&Path>, cmdline: &str) -> Result<(), Arm64Error> {
    let (image, _) = super::unpack::unpack(read(kernel)?)
        .map_err(|e| Arm64Error::Image(format!("{}: {e}", kernel.display())))?;
    let h = image_header(&image)
        .map_err(|e| Arm64Error::Image(format!("{}: {e}", kernel.display())))?;
    let ramdisk = initrd.map(read).transpose()?;
    let mut fdt = Fdt::parse(&read(Path::new(FDT_PATH))?)?;
    let iomem = std::fs::read_to_string(IOMEM).map_err(|e| Arm64Error::Read(IOMEM.into(), e))?;
    let (ram, busy) = parse_iomem(&iomem);
    // Room for the tree to grow by the new /chosen entries.
    let dtb_room = page_up(read(Path::new(FDT_PATH))?.len() as u64 + cmdline.len() as u64 + 4096);
    let kernel_end = (h.text_offset + h.image_size).div_ceil(SZ_2M) * SZ_2M;
    let initrd_len = ramdisk.as_ref().map_or(0, |r| page_up(r.len() as u64));
    let total = kernel_end + dtb_room + PAGE + initrd_len;
    let base = find_base(&ram, &busy, total).ok_or_else(|| {
        Arm64Error::Memory(format!(
            "no free System RAM range of {total} bytes at a 2 MiB boundary"
        ))
    })?;
    let entry = base + h.text_offset;
    let dtb_at = base + kernel_end;
    let tramp_at = dtb_at + dtb_room;
    let initrd_at = tramp_at + PAGE;
    let initrd_range = ramdisk
        .as_ref()
        .map(|r| (initrd_at, initrd_at + r.len() as u64));
    rewrite_chosen(&mut fdt, cmdline, initrd_range)?;
    let dtb = fdt.write();
    if dtb.len() as u64 > dtb_room {
        return Err(Arm64Error::Memory(format!(
            "the device tree grew to {} bytes",
            dtb.len()
        )));
    }
    let code = trampoline(dtb_at, entry);
    let mut segs = vec![
        KexecSegment::new(&image, entry, page_up(h.image_size)),
        KexecSegment::new(&dtb, dtb_at, dtb_room),
        KexecSegment::new(&code, tramp_at, PAGE),
    ];
    if let Some(r) = &ramdisk {
        segs.push(KexecSegment::new(r, initrd_at, initrd_len));
    }
    crate::debug!(
        "arm64 kexec_load: Image at {entry:#x} ({} bytes), dtb at {dtb_at:#x}, trampoline at {tramp_at:#x}, initrd at {initrd_at:#x}",
        h.image_size
    );
    sys::kexec_load(tramp_at, &segs).map_err(Arm64Error::Load)
}

#[cfg(test)]
#[path = "arm64_tests.rs"]
mod tests;

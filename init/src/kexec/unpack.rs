//! An arm64 kernel as kexec needs it: an uncompressed Image. Distributions
//! ship it plain (Debian), gzip-compressed (Ubuntu's `vmlinuz`), or as an
//! EFI zboot PE whose payload is the compressed Image (Fedora: zstd). Each
//! is decompressed here in memory (zstd in the arm64 build only, with
//! ruzstd); zboot is refused under lockdown, where the kernel would take
//! only what it can check against a signature, and the decompressed
//! payload carries none.

/// The largest Image accepted after decompression.
pub(crate) const MAX_IMAGE: usize = 256 << 20;
const LOCKDOWN: &str = "/sys/kernel/security/lockdown";

/// What the kernel file was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    Plain,
    Gzip,
    Zboot(&'static str),
}

/// The Image inside `file`, decompressed if needed.
pub fn unpack(file: Vec<u8>) -> Result<(Vec<u8>, Packing), String> {
    unpack_within(file, MAX_IMAGE)
}

/// [`unpack`] with at most `max` bytes decompressed (the fuzz target's
/// smaller bound).
pub fn unpack_within(file: Vec<u8>, max: usize) -> Result<(Vec<u8>, Packing), String> {
    if file.starts_with(&[0x1f, 0x8b]) {
        return Ok((gunzip(&file, max)?, Packing::Gzip));
    }
    if file.starts_with(b"MZ") && file.get(4..8) == Some(b"zimg") {
        return zboot(&file, max);
    }
    Ok((file, Packing::Plain))
}

fn le32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// EFI zboot (drivers/firmware/efi/libstub/zboot-header.S): payload
/// offset and size at 8 and 12, the compression's name at 24.
fn zboot(file: &[u8], max: usize) -> Result<(Vec<u8>, Packing), String> {
    if locked_down() {
        return Err("an EFI zboot kernel under lockdown: its decompressed Image cannot be checked against the signature, so it is not loaded".into());
    }
    let (off, size) = le32(file, 8)
        .zip(le32(file, 12))
        .ok_or("EFI zboot header truncated")?;
    let payload = file
        .get(off..off.saturating_add(size))
        .ok_or_else(|| format!("EFI zboot payload ({size} bytes at {off}) runs past the file"))?;
    let name = file.get(24..32).ok_or("EFI zboot header truncated")?;
    let name = name.split(|&c| c == 0).next().unwrap_or_default();
    match name {
        b"gzip" => Ok((gunzip(payload, max)?, Packing::Zboot("gzip"))),
        b"zstd" => Ok((unzstd(payload, max)?, Packing::Zboot("zstd"))),
        other => Err(format!(
            "an EFI zboot kernel compressed with {:?}: only gzip and zstd are decompressed here",
            String::from_utf8_lossy(other)
        )),
    }
}

/// A zstd stream (one or more frames), at most `max` bytes out.
#[cfg(any(target_arch = "aarch64", test))]
fn unzstd(b: &[u8], max: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() {
        let mut frame =
            ruzstd::decoding::StreamingDecoder::new(&mut rest).map_err(|e| format!("zstd: {e}"))?;
        let room = (max + 1).saturating_sub(out.len()) as u64;
        (&mut frame)
            .take(room)
            .read_to_end(&mut out)
            .map_err(|e| format!("zstd: cannot decompress: {e}"))?;
        if out.len() > max {
            return Err(format!("zstd: the Image is over {max} bytes"));
        }
    }
    Ok(out)
}

#[cfg(not(any(target_arch = "aarch64", test)))]
fn unzstd(_: &[u8], _: usize) -> Result<Vec<u8>, String> {
    Err("zstd: decompressed by the arm64 build only".into())
}

/// Whether the kernel is in lockdown ("[none]" is not).
fn locked_down() -> bool {
    std::fs::read_to_string(LOCKDOWN).is_ok_and(|s| !s.contains("[none]"))
}

/// A gzip member (RFC 1952): the header's optional fields skipped, the
/// deflate stream inflated.
pub fn gunzip(b: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let bad = |what: &str| format!("gzip: {what}");
    if b.len() < 18 || b[2] != 8 {
        return Err(bad("truncated or not deflate"));
    }
    let flags = b[3];
    let mut at = 10;
    if flags & 4 != 0 {
        let xlen = b
            .get(at..at + 2)
            .ok_or_else(|| bad("truncated extra field"))?;
        at += 2 + u16::from_le_bytes([xlen[0], xlen[1]]) as usize;
    }
    for bit in [8, 16] {
        if flags & bit != 0 {
            let rest = b.get(at..).ok_or_else(|| bad("truncated name"))?;
            at += rest
                .iter()
                .position(|&c| c == 0)
                .ok_or_else(|| bad("unterminated name"))?
                + 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    let stream = b.get(at..).ok_or_else(|| bad("truncated header"))?;
    miniz_oxide::inflate::decompress_to_vec_with_limit(stream, max)
        .map_err(|e| bad(&format!("cannot inflate: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3];
        out.extend(b"Image\0");
        out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
        out.extend([0; 8]);
        out
    }

    use ruzstd::encoding::CompressionLevel;

    /// An EFI zboot header (MZ, `zimg`, payload offset and size, the
    /// compression's name at 24) and `payload` at 64.
    fn zboot_file(name: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut z = b"MZ\0\0zimg".to_vec();
        z.extend(64u32.to_le_bytes());
        z.extend((payload.len() as u32).to_le_bytes());
        z.resize(24, 0);
        z.extend(name);
        z.resize(64, 0);
        z.extend(payload);
        z
    }

    /// Fedora's arm64 kernels: zstd in EFI zboot, two frames here.
    #[test]
    fn zboot_zstd_is_decompressed() {
        let image = b"an arm64 Image from Fedora".repeat(5000);
        let (a, b) = image.split_at(40_000);
        let mut payload = ruzstd::encoding::compress_to_vec(a, CompressionLevel::Fastest);
        payload.extend(ruzstd::encoding::compress_to_vec(
            b,
            CompressionLevel::Fastest,
        ));
        match unpack(zboot_file(b"zstd", &payload)) {
            Ok(got) => assert_eq!(got, (image, Packing::Zboot("zstd"))),
            Err(e) => assert!(locked_down() && e.contains("lockdown"), "{e}"),
        }
    }

    #[test]
    fn plain_passes_gzip_and_zboot_gzip_are_inflated() {
        let image = b"an arm64 Image".repeat(100);
        assert_eq!(
            unpack(image.clone()).unwrap(),
            (image.clone(), Packing::Plain)
        );
        assert_eq!(
            unpack(gzip(&image)).unwrap(),
            (image.clone(), Packing::Gzip)
        );
        let payload = gzip(&image);
        let mut z = b"MZ\0\0zimg".to_vec();
        z.extend(64u32.to_le_bytes());
        z.extend((payload.len() as u32).to_le_bytes());
        z.resize(24, 0);
        z.extend(b"gzip\0\0\0\0");
        z.resize(64, 0);
        z.extend(&payload);
        if locked_down() {
            assert!(unpack(z).unwrap_err().contains("lockdown"));
        } else {
            assert_eq!(unpack(z).unwrap(), (image, Packing::Zboot("gzip")));
        }
    }

    /// What arm64's kexec_file_load is offered for a compressed kernel: the
    /// Image alone, in a memfd nobody can change any more.
    #[test]
    fn a_compressed_kernel_is_unpacked_into_a_sealed_memfd() {
        use std::io::{Read, Seek, Write};
        let image = b"an arm64 Image".repeat(1000);
        let dir = std::env::temp_dir().join(format!("rescue-unpack-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("vmlinuz");
        std::fs::write(&path, gzip(&image)).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mut mem = crate::kexec::unpacked(&file).unwrap().expect("unpacked");
        assert_eq!(mem.len, image.len() as u64);
        let seals = rustix::fs::fcntl_get_seals(&mem.file).unwrap();
        assert!(seals.contains(rustix::fs::SealFlags::WRITE | rustix::fs::SealFlags::GROW));
        assert!(mem.write_all(b"x").is_err(), "the memfd is not sealed");
        let mut back = Vec::new();
        mem.file.seek(std::io::SeekFrom::Start(0)).unwrap();
        mem.file.read_to_end(&mut back).unwrap();
        assert_eq!(back, image);
        std::fs::write(&path, &image).unwrap();
        let plain = std::fs::File::open(&path).unwrap();
        assert!(crate::kexec::unpacked(&plain).unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_what_it_cannot_unpack() {
        for (name, payload, says) in [
            (b"zstd", vec![0u8; 4], "zstd: "),
            (b"lzma", vec![0u8; 4], "compressed with \"lzma\""),
        ] {
            let e = unpack(zboot_file(name, &payload)).unwrap_err();
            assert!(e.contains(says) || e.contains("lockdown"), "{e}");
        }
        let z = ruzstd::encoding::compress_to_vec(&[0u8; 5000][..], CompressionLevel::Fastest);
        let e = unzstd(&z, 4096).unwrap_err();
        assert_eq!(e, "zstd: the Image is over 4096 bytes");
        let e = unpack(vec![
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0, 0, 0, 0, 0, 0,
        ])
        .unwrap_err();
        assert!(e.starts_with("gzip: cannot inflate"), "{e}");
        let e = unpack(vec![0x1f, 0x8b, 8]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }
}

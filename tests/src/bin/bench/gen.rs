//! A deterministic generator of an initramfs-shaped tree: thousands of
//! small text and binary files of varied compressibility, a few dozen
//! "libraries", a dozen large semi-compressible "modules", symlinks and
//! hardlinks. Same parameters, same bytes: the tree is cached under
//! `target/bench/trees/` with a stamp naming the generator version and
//! parameters, and regenerated only when they change.

use anyhow::{Context, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bump when the generated content changes.
const VERSION: u32 = 1;

/// SplitMix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// Log-uniform in `lo..=hi` (many small, few large).
    pub fn log_range(&mut self, lo: u64, hi: u64) -> u64 {
        let (a, b) = ((lo as f64).ln(), (hi as f64).ln());
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((a + (b - a) * u).exp() as u64).clamp(lo, hi)
    }
}

/// Incompressible bytes (compressed data, images, firmware blobs).
pub fn random_bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Bytes frequent in x86-64 code and ELF data.
const COMMON: [u8; 16] = [
    0x00, 0x00, 0x00, 0x00, 0xff, 0x48, 0x89, 0x8b, 0xe8, 0x0f, 0x85, 0x84, 0x24, 0x45, 0x31, 0xc0,
];

/// Semi-compressible, code-like bytes: literal runs from a skewed byte
/// distribution mixed with copies of recent data (what LZ77 finds in
/// kernel modules and libraries). gzip -6 gets it to roughly 40-50 %.
pub fn code_bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(len + 128);
    while out.len() < len {
        let r = rng.next();
        if out.len() < 4096 || r % 100 < 45 {
            // A literal run of 8..=64 bytes.
            let n = 8 + (r >> 8) as usize % 57;
            let mut bits = 0u64;
            for i in 0..n {
                if i % 8 == 0 {
                    bits = rng.next();
                }
                let b = (bits >> ((i % 8) * 8)) as u8;
                // Half common bytes, half uniform.
                out.push(if b & 0x80 != 0 {
                    COMMON[(b & 0x0f) as usize]
                } else {
                    b.rotate_left(1)
                });
            }
        } else {
            // A match: 6..=70 bytes from up to 32 KiB back.
            let n = 6 + (r >> 8) as usize % 65;
            let window = out.len().min(32 * 1024);
            let dist = n + (r >> 24) as usize % (window - n);
            let start = out.len() - dist;
            out.extend_from_within(start..start + n);
        }
    }
    out.truncate(len);
    out
}

/// A vocabulary of pseudo-words.
fn vocabulary(rng: &mut Rng) -> Vec<String> {
    let syllables = [
        "ka", "lo", "mi", "ne", "tor", "sys", "dev", "boot", "net", "con", "fig", "ure", "mod",
        "ule", "lib", "ker", "nel", "pro", "cess", "file", "path", "load", "init", "mount", "root",
        "user",
    ];
    (0..512)
        .map(|_| {
            let n = rng.range(1, 4);
            (0..n)
                .map(|_| syllables[rng.next() as usize % syllables.len()])
                .collect()
        })
        .collect()
}

/// Text (docs, scripts, configs): words with a skewed frequency.
pub fn text_bytes(rng: &mut Rng, words: &[String], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let n = rng.range(3, 14);
        for i in 0..n {
            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            let w = &words[((u * u * u) * words.len() as f64) as usize];
            if i > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(w.as_bytes());
        }
        if rng.next().is_multiple_of(7) {
            write!(out, " = {}", rng.next() % 100_000).ok();
        }
        out.push(b'\n');
    }
    out.truncate(len);
    out
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Params {
    pub small_files: usize,
    pub libraries: usize,
    pub modules: usize,
    pub symlinks: usize,
    pub hardlinks: usize,
    pub seed: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            small_files: 3000,
            libraries: 40,
            modules: 12,
            symlinks: 400,
            hardlinks: 60,
            seed: 42,
        }
    }
}

impl Params {
    fn stamp(&self) -> String {
        format!("gen v{VERSION} {self:?}\n")
    }
}

/// The generated tree, from the cache when the stamp matches.
pub fn tree(base: &Path, params: &Params) -> Result<PathBuf> {
    let dir = base.join("generated");
    let stamp = base.join("generated.stamp");
    if dir.is_dir() && fs::read_to_string(&stamp).ok().as_deref() == Some(params.stamp().as_str()) {
        return Ok(dir);
    }
    let _ = fs::remove_file(&stamp);
    let tmp = base.join("generated.tmp");
    for d in [&dir, &tmp] {
        if d.exists() {
            fs::remove_dir_all(d).with_context(|| format!("removing {}", d.display()))?;
        }
    }
    eprintln!("bench: generating the test tree in {} ...", dir.display());
    generate(&tmp, params)?;
    fs::rename(&tmp, &dir)?;
    fs::write(&stamp, params.stamp())?;
    Ok(dir)
}

fn put(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

/// Writes the tree into `root` (which must not exist).
pub fn generate(root: &Path, p: &Params) -> Result<()> {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let mut rng = Rng::new(p.seed);
    let words = vocabulary(&mut rng);
    fs::create_dir_all(root)?;
    let dirs = [
        "etc",
        "etc/ssl/certs",
        "usr/bin",
        "usr/sbin",
        "usr/share/doc",
        "usr/share/locale",
        "usr/share/zoneinfo",
        "usr/share/terminfo",
        "usr/lib/firmware",
        "usr/libexec",
        "var/lib/dpkg/info",
    ];
    let mut files: Vec<PathBuf> = Vec::new();
    // Small files: 50 % text, 30 % code-like, 20 % incompressible.
    for i in 0..p.small_files {
        let d = dirs[rng.next() as usize % dirs.len()];
        let sub = format!("{d}/g{:02}", rng.next() % 40);
        let len = rng.log_range(64, 96 * 1024) as usize;
        let kind = rng.next() % 10;
        let (data, ext) = match kind {
            0..=4 => (text_bytes(&mut rng, &words, len), "txt"),
            5..=7 => (code_bytes(&mut rng, len), "bin"),
            _ => (random_bytes(&mut rng, len), "gz"),
        };
        let path = root.join(sub).join(format!("f{i:05}.{ext}"));
        put(&path, &data)?;
        if (5..=7).contains(&kind) {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        }
        files.push(path);
    }
    // Libraries: 64 KiB .. 3 MiB of code-like data, with .so links.
    let lib = root.join("usr/lib/x86_64-linux-gnu");
    for i in 0..p.libraries {
        let len = rng.log_range(64 * 1024, 3 * 1024 * 1024) as usize;
        let name = format!("libbench{i:02}.so.{}.{}", i % 5, i % 3);
        put(&lib.join(&name), &code_bytes(&mut rng, len))?;
        symlink(&name, lib.join(format!("libbench{i:02}.so.{}", i % 5)))?;
    }
    // Modules: 5..20 MiB, semi-compressible.
    let kmod = root.join("usr/lib/modules/6.1.0-bench/kernel/drivers");
    for i in 0..p.modules {
        let len = rng.range(5 * 1024 * 1024, 20 * 1024 * 1024) as usize;
        put(
            &kmod.join(format!("sub{}/big{i:02}.ko", i % 4)),
            &code_bytes(&mut rng, len),
        )?;
    }
    // Symlinks to files (relative, some dangling-free absolute ones).
    let bin = root.join("usr/bin");
    for i in 0..p.symlinks {
        let target = &files[rng.next() as usize % files.len()];
        let rel = target.strip_prefix(root)?;
        let link = bin.join(format!("link{i:04}"));
        if i % 3 == 0 {
            symlink(Path::new("/").join(rel), &link)?;
        } else {
            symlink(Path::new("..").join("..").join(rel), &link)?;
        }
    }
    // Hardlinks: some files get a second (or third) name.
    let sbin = root.join("usr/sbin/hard");
    fs::create_dir_all(&sbin)?;
    for i in 0..p.hardlinks {
        let target = &files[rng.next() as usize % files.len()];
        fs::hard_link(target, sbin.join(format!("hard{i:03}")))?;
    }
    // Empty directories, like mount points.
    for d in ["proc", "sys", "dev", "run", "tmp", "mnt/local", "var/empty"] {
        fs::create_dir_all(root.join(d))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let a = code_bytes(&mut Rng::new(7), 100_000);
        let b = code_bytes(&mut Rng::new(7), 100_000);
        assert_eq!(a, b);
        assert_eq!(a.len(), 100_000);
        assert_ne!(a, code_bytes(&mut Rng::new(8), 100_000));
    }

    #[test]
    fn log_range_stays_in_bounds() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let v = r.log_range(64, 4096);
            assert!((64..=4096).contains(&v));
        }
    }

    #[test]
    fn small_tree_has_every_kind_of_entry() {
        let root = std::env::temp_dir().join(format!("rb-gen-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let p = Params {
            small_files: 30,
            libraries: 2,
            modules: 0,
            symlinks: 5,
            hardlinks: 3,
            seed: 1,
        };
        generate(&root, &p).unwrap();
        assert!(root.join("usr/bin/link0000").is_symlink());
        assert!(root.join("usr/sbin/hard/hard000").is_file());
        assert!(root
            .join("usr/lib/x86_64-linux-gnu/libbench00.so.0")
            .is_symlink());
        fs::remove_dir_all(&root).unwrap();
    }
}

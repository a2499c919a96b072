//! Test data: a fake modules directory of tiny module files, modelled
//! on Debian's 6.1 kernel (ext4 and what it needs).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::elf::testelf;

/// A scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mkimage-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    pub fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        p
    }

    /// A module file at `rel`, compressed by its ending.
    pub fn module(&self, rel: &str, modinfo: &[&str]) -> PathBuf {
        let data = testelf::module(true, true, modinfo);
        self.write(rel, &compress(rel, &data))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `data` compressed as the ending of `name` says.
pub fn compress(name: &str, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    if name.ends_with(".xz") {
        let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
        e.write_all(data).unwrap();
        e.finish().unwrap()
    } else if name.ends_with(".zst") {
        zstd::encode_all(data, 1).unwrap()
    } else if name.ends_with(".gz") {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    } else {
        data.to_vec()
    }
}

/// The modules of [`fake_dir`]: path and `.modinfo` strings.
pub const MODULES: [(&str, &[&str]); 9] = [
    (
        "kernel/fs/ext4/ext4.ko",
        &[
            "alias=fs-ext4",
            "softdep=pre: crypto-crc32c",
            "depends=jbd2,mbcache,crc16",
            "name=ext4",
        ],
    ),
    (
        "kernel/fs/jbd2/jbd2.ko",
        &["softdep=pre: crypto-crc32c", "depends=", "name=jbd2"],
    ),
    ("kernel/fs/mbcache.ko", &["depends=", "name=mbcache"]),
    ("kernel/lib/crc16.ko", &["depends=", "name=crc16"]),
    (
        "kernel/crypto/crc32c_generic.ko",
        &[
            "alias=crypto-crc32c",
            "alias=crc32c",
            "depends=",
            "name=crc32c_generic",
        ],
    ),
    (
        "kernel/arch/x86/crypto/crc32c-intel.ko.xz",
        &[
            "alias=crypto-crc32c",
            "alias=cpu:type:x86,ven*fam*mod*:feature:*0094*",
            "depends=",
        ],
    ),
    (
        "kernel/drivers/net/wifi/fakewifi.ko.zst",
        &[
            "firmware=fake/fw-1.bin",
            "firmware=fake/missing.bin",
            "alias=pci:v00008086d00002723sv*sd*bc*sc*i*",
            "depends=cfg80211",
            "softdep=post: fakeled no-such-module",
        ],
    ),
    (
        "kernel/net/wireless/cfg80211.ko.gz",
        &["depends=", "firmware=regulatory.db"],
    ),
    ("kernel/drivers/leds/fakeled.ko", &["depends=crc16"]),
];

/// A modules directory with [`MODULES`], `modules.builtin` (unix,
/// sd_mod), `modules.builtin.modinfo` and `modules.order`; no
/// `modules.dep`, as Debian ships it.
pub fn fake_dir(s: &Scratch) -> PathBuf {
    for (rel, info) in MODULES {
        s.module(&format!("mods/{rel}"), info);
    }
    s.write(
        "mods/modules.builtin",
        b"kernel/net/unix/unix.ko\nkernel/drivers/scsi/sd_mod.ko\n",
    );
    s.write(
        "mods/modules.builtin.modinfo",
        b"unix.alias=net-pf-1\0unix.license=GPL\0sd_mod.alias=scsi:t-0x00*\0",
    );
    s.write(
        "mods/modules.order",
        b"kernel/lib/crc16.ko\nkernel/fs/mbcache.ko\nkernel/fs/jbd2/jbd2.ko\n\
          kernel/fs/ext4/ext4.ko\nkernel/crypto/crc32c_generic.ko\n\
          kernel/arch/x86/crypto/crc32c-intel.ko\nkernel/net/wireless/cfg80211.ko\n",
    );
    s.path("mods")
}

/// What depmod writes for [`fake_dir`] (modules.dep, modules.alias,
/// modules.softdep), to test the directory with them.
pub fn add_depmod_files(dir: &Path) {
    let dep = "\
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko.xz:
kernel/net/wireless/cfg80211.ko.gz:
kernel/drivers/net/wifi/fakewifi.ko.zst: kernel/net/wireless/cfg80211.ko.gz
kernel/drivers/leds/fakeled.ko: kernel/lib/crc16.ko
";
    let alias = "\
# Aliases extracted from modules themselves.
alias fs-ext4 ext4
alias crypto-crc32c crc32c_generic
alias crc32c crc32c_generic
alias crypto-crc32c crc32c_intel
alias cpu:type:x86,ven*fam*mod*:feature:*0094* crc32c_intel
alias pci:v00008086d00002723sv*sd*bc*sc*i* fakewifi
";
    let softdep = "\
# Soft dependencies extracted from modules themselves.
softdep ext4 pre: crypto-crc32c
softdep jbd2 pre: crypto-crc32c
softdep fakewifi post: fakeled no-such-module
";
    fs::write(dir.join("modules.dep"), dep).unwrap();
    fs::write(dir.join("modules.alias"), alias).unwrap();
    fs::write(dir.join("modules.softdep"), softdep).unwrap();
}

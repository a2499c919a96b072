use super::{loader, TempDir};
use crate::modules::coldplug::{block_devices, modaliases, run_with};
use std::path::{Path, PathBuf};
use std::time::Duration;

const VIRTIO_BLK_PCI: &str = "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00";
const SATA_PCI: &str = "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01";

/// A QEMU-like sysfs: a virtio disk and a SATA controller on PCI, a
/// device nobody drives, a loop device, and symlinks that loop.
fn fake_sys() -> TempDir {
    let t = TempDir::new();
    t.write(
        "devices/pci0000:00/0000:00:04.0/modalias",
        format!("{VIRTIO_BLK_PCI}\n"),
    );
    t.write("devices/pci0000:00/0000:00:1f.2/modalias", SATA_PCI);
    t.write("devices/pci0000:00/0000:00:1f.3/modalias", SATA_PCI);
    t.write("devices/LNXSYSTM:00/modalias", "acpi:LNXSYSTM:\n");
    t.write("devices/platform/empty/modalias", "\n");
    std::fs::create_dir_all(t.path.join("block/loop0")).unwrap();
    std::fs::create_dir_all(t.path.join("class/block")).unwrap();
    let dev = t.path.join("devices/pci0000:00/0000:00:04.0");
    std::os::unix::fs::symlink("..", dev.join("up")).unwrap();
    std::os::unix::fs::symlink(t.path.join("devices"), dev.join("subsystem")).unwrap();
    t
}

fn virtio_disk_appears(sys: &Path) -> Vec<(PathBuf, String)> {
    let virtio = sys.join("devices/pci0000:00/0000:00:04.0/virtio1");
    vec![(
        virtio.join("modalias"),
        "virtio:d00000002v00001AF4\n".into(),
    )]
}

#[test]
fn walks_without_following_symlinks() {
    let t = fake_sys();
    let found = modaliases(&t.path.join("devices"));
    assert_eq!(found, ["acpi:LNXSYSTM:", VIRTIO_BLK_PCI, SATA_PCI]);
    assert!(block_devices(&t.path).is_empty());
}

#[test]
fn repeats_until_no_new_device() {
    let t = fake_sys();
    let mut l = loader();
    l.backend
        .creates
        .insert("virtio_pci".into(), virtio_disk_appears(&t.path));
    l.backend.creates.insert(
        "virtio_blk".into(),
        vec![(t.path.join("block/vda/dev"), "254:0".into())],
    );
    let r = run_with(&mut l, &t.path, Duration::from_secs(10), Duration::ZERO);
    assert!(!r.timed_out);
    assert_eq!(
        r.passes, 3,
        "PCI devices, then the virtio disk, then nothing new"
    );
    assert_eq!(r.devices, 4);
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let expect = [
        "virtio_ring",
        "virtio_pci_modern_dev",
        "virtio_pci_legacy_dev",
        "virtio",
        "virtio_pci",
        "scsi_common",
        "scsi_mod",
        "libata",
        "libahci",
        "ahci",
        "virtio_blk",
    ];
    assert_eq!(r.loaded, expect);
    assert_eq!(l.backend.names(), expect);
    assert_eq!(r.block_devices, ["vda"]);
    let line = r.to_string();
    assert!(line.starts_with("coldplug settled in "), "{line}");
    assert!(
        line.ends_with(&format!(
            ": 11 modules loaded ({}); block devices: vda",
            expect.join(", ")
        )),
        "{line}"
    );
}

#[test]
fn failures_are_reported_and_others_go_on() {
    let t = fake_sys();
    let mut l = loader();
    l.backend.fail.insert("libahci".into(), libc::ENOENT);
    let r = run_with(&mut l, &t.path, Duration::from_secs(10), Duration::ZERO);
    assert_eq!(
        r.failures.len(),
        1,
        "the second SATA controller is not retried: {:?}",
        r.failures
    );
    assert!(
        r.failures[0].starts_with(&format!("{SATA_PCI}: libahci: cannot load")),
        "{}",
        r.failures[0]
    );
    assert!(r.failures[0].ends_with(
        "unknown symbol in module, or unknown parameter (see dmesg): No such file or directory (os error 2)"
    ));
    assert!(r.loaded.contains(&"virtio_pci".to_string()));
    assert!(
        r.to_string().contains(", 1 failed; block devices: none"),
        "{r}"
    );
}

#[test]
fn deadline_stops_the_scan() {
    let t = fake_sys();
    let mut l = loader();
    let r = run_with(&mut l, &t.path, Duration::ZERO, Duration::ZERO);
    assert!(r.timed_out);
    assert!(r.loaded.is_empty());
    assert!(
        r.to_string()
            .starts_with("coldplug stopped at its deadline after "),
        "{r}"
    );
    // A deadline inside the quiet period also ends the wait.
    let mut l = loader();
    let r = run_with(
        &mut l,
        &t.path,
        Duration::from_millis(50),
        Duration::from_secs(60),
    );
    assert!(r.timed_out);
    assert!(r.elapsed < Duration::from_secs(5));
}

#[test]
fn quiet_period_catches_late_devices() {
    let t = fake_sys();
    let mut l = loader();
    let late = t
        .path
        .join("devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/modalias");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        std::fs::create_dir_all(late.parent().unwrap()).unwrap();
        std::fs::write(&late, "virtio:d00000008v00001AF4").unwrap();
    });
    let r = run_with(
        &mut l,
        &t.path,
        Duration::from_secs(10),
        Duration::from_millis(400),
    );
    writer.join().unwrap();
    assert!(!r.timed_out);
    assert!(r.loaded.contains(&"virtio_scsi".to_string()), "{r}");
    assert!(r.elapsed >= Duration::from_millis(400));
}

#[test]
fn boot_loads_lists_then_coldplugs() {
    use crate::modules::boot::{boot_with, BootOptions};
    let root = TempDir::with_good_index();
    root.write("etc/modules-load.d/fs.conf", "fs-ext4\nnot-a-module\n");
    let sys = fake_sys();
    let opts = BootOptions {
        root: root.path.clone(),
        modules_dir: Some(root.path.join(super::DIR.trim_start_matches('/'))),
        sys_root: sys.path.clone(),
        cmdline: "virtio_pci.force_legacy=1".into(),
        explicit: vec!["crc16".into()],
        deadline: Duration::from_secs(10),
    };
    let r = boot_with(&opts, super::Fake::default()).unwrap();
    assert_eq!(r.loaded[0], "crc16", "rescue.modules first");
    let ext4 = r.loaded.iter().position(|m| m == "ext4").unwrap();
    let pci = r.loaded.iter().position(|m| m == "virtio_pci").unwrap();
    assert!(ext4 < pci, "modules-load.d before coldplug: {:?}", r.loaded);
    let empty = TempDir::new();
    let opts = BootOptions {
        modules_dir: Some(empty.path.clone()),
        ..opts
    };
    assert!(
        boot_with(&opts, super::Fake::default()).is_none(),
        "no modules.dep: skipped"
    );
}

#[test]
fn cpu_features_wait_for_the_devices() {
    let t = fake_sys();
    t.write(
        "devices/system/cpu/modalias",
        "cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0094,00E1\n",
    );
    let mut l = loader();
    l.backend
        .creates
        .insert("virtio_pci".into(), virtio_disk_appears(&t.path));
    let r = run_with(&mut l, &t.path, Duration::from_secs(10), Duration::ZERO);
    let pos = |m: &str| r.loaded.iter().position(|x| x == m).unwrap();
    assert!(pos("virtio_blk") < pos("crc32c_intel"), "{:?}", r.loaded);
    assert_eq!(
        r.passes, 4,
        "PCI, virtio disk, settled (then CPU), nothing new"
    );
    assert!(!r.timed_out);
}

/// A USB stick whose usb-storage host has not been scanned yet: coldplug
/// waits for the scan (the disk appears after 300 ms), and at a deadline
/// it says what was still pending instead of claiming to have settled.
#[test]
fn waits_for_a_pending_usb_storage_scan() {
    let t = fake_sys();
    let intf = t.path.join("bus/usb/drivers/usb-storage/2-1:1.0");
    std::fs::create_dir_all(intf.join("host7")).unwrap();
    t.write("module/usb_storage/parameters/delay_use", "1\n");
    let short = run_with(
        &mut loader(),
        &t.path,
        Duration::from_millis(200),
        Duration::ZERO,
    );
    assert!(short.timed_out);
    let line = short.to_string();
    assert!(
        line.contains("(not settled: USB storage 2-1:1.0 is still scanning for disks)"),
        "{line}"
    );
    let target = intf.join("host7/target7:0:0");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        std::fs::create_dir_all(target).unwrap();
    });
    let r = run_with(
        &mut loader(),
        &t.path,
        Duration::from_secs(10),
        Duration::ZERO,
    );
    writer.join().unwrap();
    assert!(!r.timed_out, "{r}");
    assert!(
        r.elapsed >= Duration::from_millis(300),
        "settled before the scan: {r}"
    );
}

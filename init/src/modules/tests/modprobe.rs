use super::{Fake, TempDir, DIR};
use crate::applets::modprobe::{modprobe_with, Env};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    fake: Fake,
}

/// Runs the applet against the good fixture under a temporary root.
fn modprobe(t: &TempDir, args: &[&str], fake: Fake) -> Out {
    let mut argv: Vec<String> = vec![
        "-d".into(),
        t.path.display().to_string(),
        "-S".into(),
        "6.1.0-56-amd64".into(),
    ];
    argv.extend(args.iter().map(|s| s.to_string()));
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut fake_slot = Some(fake);
    let env = Env {
        config_root: t.path.clone(),
        cmdline: "virtio_blk.queue_depth=4".into(),
        kmsg: Some(t.path.join("kmsg")),
        backend: Recorder(&mut fake_slot),
    };
    let code = modprobe_with(&argv, env, &mut out, &mut err);
    Out {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
        fake: fake_slot.take().unwrap(),
    }
}

/// Lends the fake to the applet (which takes its backend by value).
struct Recorder<'a>(&'a mut Option<Fake>);

impl crate::modules::Backend for Recorder<'_> {
    fn load(&mut self, path: &std::path::Path, params: &str) -> std::io::Result<()> {
        self.0.as_mut().unwrap().load(path, params)
    }
    fn is_loaded(&self, name: &str) -> bool {
        self.0.as_ref().unwrap().is_loaded(name)
    }
    fn remove(&mut self, name: &str) -> std::io::Result<()> {
        self.0.as_mut().unwrap().remove(name)
    }
    fn users(&self, name: &str) -> crate::modules::backend::Users {
        self.0.as_ref().unwrap().users(name)
    }
}

fn ko(t: &TempDir, rel: &str) -> String {
    format!("{}{DIR}/kernel/{rel}", t.path.display())
}

#[test]
fn show_depends_prints_insmod_lines() {
    let t = TempDir::with_good_index();
    let o = modprobe(&t, &["--show-depends", "virtio_blk"], Fake::default());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let expect = format!(
        "insmod {} \ninsmod {} \ninsmod {} queue_depth=4\n",
        ko(&t, "drivers/virtio/virtio_ring.ko"),
        ko(&t, "drivers/virtio/virtio.ko"),
        ko(&t, "drivers/block/virtio_blk.ko")
    );
    assert_eq!(o.stdout, expect);
    assert!(o.fake.loads.is_empty());
    let o = modprobe(&t, &["-D", "crypto-sha256"], Fake::default());
    assert_eq!(o.stdout, "builtin sha256_generic\n");
}

#[test]
fn loads_with_parameters_and_dry_run() {
    let t = TempDir::with_good_index();
    let o = modprobe(&t, &["-v", "virtio-blk", "extra=1"], Fake::default());
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.fake.names(), ["virtio_ring", "virtio", "virtio_blk"]);
    assert_eq!(o.fake.loads[2].1, "queue_depth=4 extra=1");
    assert_eq!(o.stdout.lines().count(), 3);
    let mut fake = Fake::default();
    fake.preloaded.insert("virtio_ring".into());
    let o = modprobe(&t, &["-n", "-v", "virtio_blk"], fake);
    assert!(o.fake.loads.is_empty());
    assert_eq!(
        o.stdout.lines().count(),
        2,
        "virtio_ring is loaded already: {}",
        o.stdout
    );
    let o = modprobe(&t, &["-a", "crc16", "mbcache"], Fake::default());
    assert_eq!(o.fake.names(), ["crc16", "mbcache"]);
}

#[test]
fn kernel_helper_requests() {
    let t = TempDir::with_good_index();
    let o = modprobe(&t, &["-q", "--", "fs-ext4"], Fake::default());
    assert_eq!(o.code, 0);
    assert_eq!(o.fake.names().last(), Some(&"ext4"));
    let o = modprobe(&t, &["-q", "--", "net-pf-99"], Fake::default());
    assert_eq!((o.code, o.stderr.as_str()), (1, ""));
    assert!(
        !t.path.join("kmsg").exists(),
        "not found is not worth a kernel log line"
    );
    t.write("kmsg", ""); // /dev/kmsg exists; the applet never creates it
    let mut fake = Fake::default();
    fake.fail.insert("jbd2".into(), libc::ENOEXEC);
    let o = modprobe(&t, &["-q", "--", "fs-ext4"], fake);
    assert_eq!((o.code, o.stderr.as_str()), (1, ""));
    let kmsg = std::fs::read_to_string(t.path.join("kmsg")).unwrap();
    assert!(
        kmsg.starts_with("<27>modprobe: ERROR: could not insert fs-ext4: jbd2: cannot load"),
        "{kmsg}"
    );
}

#[test]
fn errors_and_unsupported() {
    let t = TempDir::with_good_index();
    let o = modprobe(&t, &["nosuch"], Fake::default());
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        format!(
            "modprobe: FATAL: module nosuch not found in directory {}{DIR}\n",
            t.path.display()
        )
    );
    let o = modprobe(&t, &["-r", "virtio_blk"], Fake::default());
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "modprobe: ERROR: module virtio_blk is not loaded\n")
    );
    let o = modprobe(&t, &["--bogus"], Fake::default());
    assert_eq!(o.code, 2);
    assert!(o
        .stderr
        .starts_with("modprobe: unknown option --bogus\nusage: modprobe"));
    let o = modprobe(&t, &[], Fake::default());
    assert_eq!(o.code, 2);
    let empty = TempDir::new();
    let o = modprobe(&empty, &["ext4"], Fake::default());
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("/modules.dep: not found"), "{}", o.stderr);
}

#[test]
fn blacklist_applies_to_aliases_and_with_b_to_names() {
    let t = TempDir::with_good_index();
    t.write("etc/modprobe.d/bl.conf", "blacklist virtio_net\n");
    let o = modprobe(&t, &["virtio:d00000001v00001AF4"], Fake::default());
    assert_eq!(o.code, 0, "kmod: a blacklisted alias is not an error");
    assert!(o.fake.loads.is_empty());
    let o = modprobe(&t, &["-b", "virtio_net"], Fake::default());
    assert!(o.fake.loads.is_empty());
    let o = modprobe(&t, &["virtio_net"], Fake::default());
    assert_eq!(o.fake.names().last(), Some(&"virtio_net"));
}

/// virtio_blk loaded with what it needs; virtio_pci also uses virtio and
/// virtio_ring when `pci` is set.
fn virtio_loaded(pci: bool) -> Fake {
    let mut fake = Fake::default();
    for m in ["virtio_ring", "virtio", "virtio_blk"] {
        fake.preloaded.insert(m.into());
    }
    let mut users = |name: &str, holders: &[&str]| {
        let holders: Vec<String> = holders.iter().map(|s| s.to_string()).collect();
        let refcnt = holders.len() as u32;
        fake.users.insert(
            name.into(),
            crate::modules::backend::Users { holders, refcnt },
        );
    };
    if pci {
        users("virtio", &["virtio_blk", "virtio_pci"]);
        users("virtio_ring", &["virtio", "virtio_blk", "virtio_pci"]);
    } else {
        users("virtio", &["virtio_blk"]);
        users("virtio_ring", &["virtio", "virtio_blk"]);
    }
    if pci {
        fake.preloaded.insert("virtio_pci".into());
    }
    fake
}

#[test]
fn remove_unloads_the_module_then_unused_dependencies() {
    let t = TempDir::with_good_index();
    let o = modprobe(&t, &["-r", "-v", "virtio_blk"], virtio_loaded(false));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.fake.removed, ["virtio_blk", "virtio", "virtio_ring"]);
    assert_eq!(
        o.stdout,
        "rmmod virtio_blk\nrmmod virtio\nrmmod virtio_ring\n"
    );
    // virtio_pci still uses virtio and virtio_ring: they stay, and -v says why.
    let o = modprobe(&t, &["-r", "-v", "virtio_blk"], virtio_loaded(true));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.fake.removed, ["virtio_blk"]);
    assert!(
        o.stderr.contains("kept virtio: still in use by virtio_pci"),
        "{}",
        o.stderr
    );
    // -n: the same plan, nothing unloaded.
    let o = modprobe(&t, &["-r", "-n", "virtio_blk"], virtio_loaded(false));
    assert_eq!((o.code, o.fake.removed.len()), (0, 0));
    assert_eq!(
        o.stdout,
        "rmmod virtio_blk\nrmmod virtio\nrmmod virtio_ring\n"
    );
}

#[test]
fn remove_refuses_modules_in_use_built_in_or_absent() {
    let t = TempDir::with_good_index();
    let mut mounted = virtio_loaded(false);
    mounted.users.insert(
        "virtio_blk".into(),
        crate::modules::backend::Users {
            holders: vec![],
            refcnt: 1,
        },
    );
    let o = modprobe(&t, &["-r", "virtio_blk"], mounted);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "modprobe: ERROR: module virtio_blk is in use (1 references)\n"
    );
    assert!(o.fake.removed.is_empty());
    let o = modprobe(&t, &["-r", "virtio"], virtio_loaded(false));
    assert_eq!(
        o.stderr,
        "modprobe: ERROR: module virtio is in use by virtio_blk\n"
    );
    let o = modprobe(&t, &["-r", "zswap"], Fake::default());
    assert_eq!(
        o.stderr,
        "modprobe: ERROR: module zswap is built into the kernel\n"
    );
    // -q: the kernel log gets it, not stderr; the status still says so.
    let o = modprobe(&t, &["-q", "-r", "ext4"], Fake::default());
    assert_eq!((o.code, o.stderr.as_str()), (1, ""));
}

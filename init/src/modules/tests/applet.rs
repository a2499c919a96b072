use super::{Fake, TempDir, DIR};
use crate::modules::applet::{modprobe_with, Env};

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
        (1, "modprobe: -r (removing modules) is not supported yet\n")
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

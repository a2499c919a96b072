use super::{fixture, TempRoot};
use crate::bootcfg::bls::{choose, compare, expand, parse_default, parse_entry, Entry};
use crate::bootcfg::grub::{parse_grubenv, Env};
use crate::handoff::detect::bls::detect;
use crate::handoff::source::Source;

const MID: &str = "4f2b7c9d1e3a4b5c8d9e0f1a2b3c4d5e";
const DEB13: &str = fixture!("bls/debian-6.1.0-13-amd64.conf");
const DEB9: &str = fixture!("bls/debian-6.1.0-9-amd64.conf");
const RHEL362: &str = fixture!("bls/rhel-5.14.0-362.8.1.el9_3.x86_64.conf");
const RHEL70: &str = fixture!("bls/rhel-5.14.0-70.13.1.el9_0.x86_64.conf");
const RHEL_RESCUE: &str = fixture!("bls/rhel-0-rescue.conf");

fn sorted(mut v: Vec<Entry>) -> Vec<Entry> {
    v.sort_by(compare);
    v
}

#[test]
fn parses_entries() {
    let e = parse_entry("debian-6.1.0-13-amd64.conf", DEB13);
    assert_eq!(e.id, "debian-6.1.0-13-amd64");
    assert_eq!(e.title.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
    assert_eq!(e.version.as_deref(), Some("6.1.0-13-amd64"));
    assert_eq!(e.machine_id.as_deref(), Some(MID));
    assert_eq!(e.sort_key.as_deref(), Some("debian"));
    assert_eq!(e.linux, Some(format!("/{MID}/6.1.0-13-amd64/linux")));
    assert_eq!(
        e.initrds,
        [format!("/{MID}/6.1.0-13-amd64/initrd.img-6.1.0-13-amd64")]
    );
    assert_eq!(
        e.options,
        [
            "root=UUID=0b1c9e4e-3d2a-4f7e-9d3c-1f2e3d4c5b6a ro quiet".to_string(),
            format!("systemd.machine_id={MID}")
        ]
    );
    let arch = parse_entry("arch-lts.conf", fixture!("bls/arch-lts.conf"));
    assert_eq!(arch.initrds, ["/amd-ucode.img /initramfs-linux-lts.img"]);
    assert_eq!(
        parse_entry("uki.conf", fixture!("bls/uki.conf")).linux,
        None
    );
}

#[test]
fn loader_conf_default() {
    assert_eq!(
        parse_default(fixture!("bls/loader.conf")).as_deref(),
        Some("debian-6.1.0-9*")
    );
    assert_eq!(parse_default("timeout 3\n#default x\n"), None);
    assert_eq!(
        parse_default("default a\ndefault  b \n").as_deref(),
        Some("b")
    );
}

#[test]
fn bls_order() {
    let deb = sorted(vec![
        parse_entry("debian-6.1.0-9-amd64.conf", DEB9),
        parse_entry("debian-6.1.0-13-amd64.conf", DEB13),
    ]);
    assert_eq!(
        deb[0].id, "debian-6.1.0-13-amd64",
        "same sort-key and machine-id: newest version first"
    );
    let rhel = sorted(vec![
        parse_entry(&format!("{MID}-0-rescue.conf"), RHEL_RESCUE),
        parse_entry(&format!("{MID}-5.14.0-70.13.1.el9_0.x86_64.conf"), RHEL70),
        parse_entry(&format!("{MID}-5.14.0-362.8.1.el9_3.x86_64.conf"), RHEL362),
    ]);
    let ids: Vec<&str> = rhel.iter().map(|e| &e.id[MID.len() + 1..]).collect();
    assert_eq!(
        ids,
        [
            "5.14.0-362.8.1.el9_3.x86_64",
            "5.14.0-70.13.1.el9_0.x86_64",
            "0-rescue"
        ]
    );
    // Entries with a sort-key come before those without.
    let mixed = sorted(vec![
        parse_entry("zzz-9.conf", "linux /k"),
        parse_entry("a.conf", "linux /k\nsort-key a"),
    ]);
    assert_eq!(mixed[0].id, "a");
}

#[test]
fn choosing_the_default() {
    let entries = sorted(vec![
        parse_entry("debian-6.1.0-9-amd64.conf", DEB9),
        parse_entry("debian-6.1.0-13-amd64.conf", DEB13),
    ]);
    let (e, why) = choose(&entries, Some("debian-6.1.0-9*"), None).unwrap();
    assert_eq!(
        (e.id.as_str(), why.as_str()),
        (
            "debian-6.1.0-9-amd64",
            "loader.conf default \"debian-6.1.0-9*\""
        )
    );
    assert_eq!(
        choose(&entries, Some("debian-6.1.0-9-amd64.conf"), None)
            .unwrap()
            .0
            .id,
        "debian-6.1.0-9-amd64"
    );
    assert_eq!(
        choose(&entries, Some("nothing*"), None).unwrap().0.id,
        "debian-6.1.0-13-amd64"
    );
    assert_eq!(
        choose(&entries, Some("@saved"), Some("debian-6.1.0-9-amd64"))
            .unwrap()
            .1,
        "GRUB saved_entry"
    );
    assert_eq!(
        choose(&entries, None, Some("gone")).unwrap().1,
        "first in BLS order"
    );
    assert!(choose(&[], None, None).is_none());
}

#[test]
fn grub_variables_in_options() {
    let env: Env = parse_grubenv(fixture!("bls/rhel.grubenv"));
    assert_eq!(
        expand("$kernelopts $tuned_params", &env),
        (
            "root=/dev/mapper/rhel-root ro resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root "
                .to_string(),
            vec![]
        )
    );
    assert_eq!(
        expand("a ${kernelopts}b", &env).0,
        "a root=/dev/mapper/rhel-root ro resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/rootb"
    );
    assert_eq!(
        expand("x=$ $nope ${also", &Env::new()),
        (
            "x=$  ".to_string(),
            vec!["nope".to_string(), "also".to_string()]
        )
    );
}

fn debian_root() -> TempRoot {
    let t = TempRoot::new();
    t.file("/boot/loader/entries/debian-6.1.0-13-amd64.conf", DEB13)
        .file("/boot/loader/entries/debian-6.1.0-9-amd64.conf", DEB9)
        .file("/boot/loader/entries/uki.conf", fixture!("bls/uki.conf"));
    for v in ["6.1.0-13-amd64", "6.1.0-9-amd64"] {
        t.kernel(&format!("/boot/{MID}/{v}/linux"))
            .file(&format!("/boot/{MID}/{v}/initrd.img-{v}"), "cpio");
    }
    t
}

#[test]
fn detects_the_newest_entry() {
    let t = debian_root();
    let mut notes = Vec::new();
    let d = detect(&t.path, &mut notes).unwrap();
    let source = Source::Bls {
        path: t.host("/boot/loader/entries/debian-6.1.0-13-amd64.conf"),
    };
    assert_eq!(
        d.kernel,
        (
            t.host(&format!("/boot/{MID}/6.1.0-13-amd64/linux")),
            source.clone()
        )
    );
    assert_eq!(
        d.initrd,
        Some((
            t.host(&format!(
                "/boot/{MID}/6.1.0-13-amd64/initrd.img-6.1.0-13-amd64"
            )),
            source.clone()
        ))
    );
    let args =
        format!("root=UUID=0b1c9e4e-3d2a-4f7e-9d3c-1f2e3d4c5b6a ro quiet systemd.machine_id={MID}");
    assert_eq!(d.args, Some((args, source)));
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("uki.conf: no linux line"), "{notes:?}");
}

#[test]
fn loader_conf_picks_the_default() {
    let t = debian_root();
    t.file("/boot/loader/loader.conf", fixture!("bls/loader.conf"));
    let d = detect(&t.path, &mut Vec::new()).unwrap();
    assert_eq!(
        d.kernel.0,
        t.host(&format!("/boot/{MID}/6.1.0-9-amd64/linux"))
    );
}

#[test]
fn rhel_saved_entry_and_kernelopts() {
    let t = TempRoot::new();
    for (v, text) in [
        ("5.14.0-362.8.1.el9_3.x86_64", RHEL362),
        ("5.14.0-70.13.1.el9_0.x86_64", RHEL70),
    ] {
        t.file(&format!("/boot/loader/entries/{MID}-{v}.conf"), text)
            .kernel(&format!("/boot/vmlinuz-{v}"))
            .file(&format!("/boot/initramfs-{v}.img"), "cpio");
    }
    let d = detect(&t.path, &mut Vec::new()).unwrap();
    assert_eq!(
        d.kernel.0,
        t.host("/boot/vmlinuz-5.14.0-362.8.1.el9_3.x86_64"),
        "no grubenv: newest"
    );
    assert!(d
        .args
        .unwrap()
        .0
        .starts_with("root=/dev/mapper/rhel-root ro crashkernel="));
    assert_eq!(
        d.initrd.unwrap().0,
        t.host("/boot/initramfs-5.14.0-362.8.1.el9_3.x86_64.img"),
        "$tuned_initrd is empty"
    );
    t.file("/boot/grub2/grubenv", fixture!("bls/rhel.grubenv"));
    let d = detect(&t.path, &mut Vec::new()).unwrap();
    assert_eq!(
        d.kernel.0,
        t.host("/boot/vmlinuz-5.14.0-70.13.1.el9_0.x86_64"),
        "grubenv saved_entry"
    );
    assert_eq!(
        d.args.unwrap().0,
        "root=/dev/mapper/rhel-root ro resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root"
    );
}

#[test]
fn unset_kernelopts_drops_the_options() {
    let t = TempRoot::new();
    t.file("/boot/loader/entries/x.conf", RHEL70)
        .kernel("/boot/vmlinuz-5.14.0-70.13.1.el9_0.x86_64")
        .file("/boot/initramfs-5.14.0-70.13.1.el9_0.x86_64.img", "cpio");
    let mut notes = Vec::new();
    let d = detect(&t.path, &mut notes).unwrap();
    assert_eq!(d.args, None);
    assert!(
        notes
            .iter()
            .any(|n| n
                .contains("options use $kernelopts, $tuned_params, which grubenv does not set")),
        "{notes:?}"
    );
    assert!(d.initrd.is_some());
}

#[test]
fn microcode_initrds_are_left_out() {
    let t = TempRoot::new();
    t.file("/efi/loader/entries/arch.conf", fixture!("bls/arch.conf"))
        .file(
            "/efi/loader/entries/arch-lts.conf",
            fixture!("bls/arch-lts.conf"),
        )
        .file("/efi/loader/loader.conf", "default arch.conf\n")
        .kernel("/efi/vmlinuz-linux")
        .file("/efi/initramfs-linux.img", "cpio")
        .file("/efi/intel-ucode.img", "ucode");
    let mut notes = Vec::new();
    let d = detect(&t.path, &mut notes).unwrap();
    assert_eq!(d.kernel.0, t.host("/efi/vmlinuz-linux"));
    assert_eq!(d.initrd.unwrap().0, t.host("/efi/initramfs-linux.img"));
    assert!(
        notes
            .iter()
            .any(|n| n.contains("left out the microcode initrd /intel-ucode.img")),
        "{notes:?}"
    );
}

#[test]
fn broken_default_entry_is_noted() {
    let t = TempRoot::new();
    t.file(
        "/boot/loader/entries/a.conf",
        "linux /vmlinuz-gone\ninitrd /a /b\n",
    );
    let mut notes = Vec::new();
    assert!(detect(&t.path, &mut notes).is_none());
    assert!(
        notes[0].contains("a.conf (first in BLS order)")
            && notes[0].contains("vmlinuz-gone\" inside"),
        "{notes:?}"
    );
    t.kernel("/boot/vmlinuz-gone");
    let mut notes = Vec::new();
    assert!(detect(&t.path, &mut notes).is_none());
    assert!(
        notes[0].contains("2 initrds (/a, /b); kexec takes one: set INITRD"),
        "{notes:?}"
    );
}

/// An entry for another architecture is passed over, whichever this one
/// is; one for this machine is used, and its `devicetree` is named as not
/// loaded (the running device tree goes on).
#[test]
fn architecture_and_devicetree() {
    use crate::bootcfg::bls::ARCH;
    let aa64 = fixture!("bls/debian-aa64-rockpro64.conf");
    let e = parse_entry("x.conf", aa64);
    assert_eq!(e.architecture.as_deref(), Some("aa64"));
    assert_eq!(
        e.devicetree.as_deref(),
        Some(format!("/{MID}/6.12.38+deb13-arm64/rockchip/rk3399-rockpro64.dtb").as_str())
    );
    let other = if ARCH == "aa64" { "x64" } else { "aa64" };
    let t = TempRoot::new();
    for (name, arch) in [("own", ARCH), ("other", other)] {
        let v = format!("6.12.38+deb13-{name}");
        let text = aa64
            .replace("architecture aa64", &format!("architecture {arch}"))
            .replace("6.12.38+deb13-arm64", &v);
        t.file(&format!("/boot/loader/entries/{name}.conf"), text)
            .kernel(&format!("/boot/{MID}/{v}/linux"))
            .file(&format!("/boot/{MID}/{v}/initrd.img-{v}"), "cpio");
    }
    let mut notes = Vec::new();
    let d = detect(&t.path, &mut notes).unwrap();
    assert_eq!(
        d.kernel.0,
        t.host(&format!("/boot/{MID}/6.12.38+deb13-own/linux"))
    );
    let skipped = format!("other.conf: architecture {other}, skipped (this machine is {ARCH})");
    assert!(notes.iter().any(|n| n.ends_with(&skipped)), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("devicetree /")
            && n.contains(
                "rk3399-rockpro64.dtb is not loaded: the kexec passes on the running device tree"
            )),
        "{notes:?}"
    );
}

use super::{fixture, TempRoot};
use crate::bootcfg::grub::{parse_grubenv, select, Config, Env, Item};
use crate::handoff::detect::grub::detect;

fn parse(text: &str, env: Env) -> Config {
    crate::bootcfg::grub::parse("grub.cfg", text, env, None)
}
use crate::handoff::source::Source;

const DEBIAN: &str = fixture!("grub/debian.cfg");
const RHEL7: &str = fixture!("grub/rhel7.cfg");
const UBUNTU: &str = fixture!("grub/ubuntu-by-title.cfg");
const UUID: &str = "0b1c9e4e-3d2a-4f7e-9d3c-1f2e3d4c5b6a";

fn titles(items: &[Item]) -> Vec<&str> {
    items
        .iter()
        .map(|i| match i {
            Item::Entry(e) => e.title.as_str(),
            Item::Menu(m) => m.title.as_str(),
        })
        .collect()
}

fn chosen(conf: &Config, default: &str) -> Result<(String, String), String> {
    select(&conf.items, default).map(|(path, e)| {
        (
            path,
            e.linux.as_ref().map_or(String::new(), |l| l.0.clone()),
        )
    })
}

#[test]
fn debian_menu_tree() {
    let conf = parse(DEBIAN, Env::new());
    assert_eq!(conf.default.as_deref(), Some("0"));
    assert!(!conf.blscfg);
    // The firmware entry sits inside an `if`, which is still the menu.
    assert_eq!(
        titles(&conf.items),
        [
            "Debian GNU/Linux",
            "Advanced options for Debian GNU/Linux",
            "UEFI Firmware Settings"
        ]
    );
    let Item::Entry(first) = &conf.items[0] else {
        panic!("not an entry")
    };
    assert_eq!(
        first.id.as_deref(),
        Some(format!("gnulinux-simple-{UUID}").as_str())
    );
    let (path, args) = first.linux.clone().unwrap();
    assert_eq!(path, "/boot/vmlinuz-6.1.0-13-amd64");
    assert_eq!(
        args,
        [format!("root=UUID={UUID}"), "ro".into(), "quiet".into()]
    );
    assert_eq!(first.initrds, ["/boot/initrd.img-6.1.0-13-amd64"]);
    let Item::Menu(adv) = &conf.items[1] else {
        panic!("not a submenu")
    };
    assert_eq!(adv.items.len(), 4);
}

#[test]
fn selecting_by_number_title_and_id() {
    let conf = parse(DEBIAN, Env::new());
    let adv = "Advanced options for Debian GNU/Linux";
    let cases = [
        ("0", "Debian GNU/Linux".to_string(), "/boot/vmlinuz-6.1.0-13-amd64"),
        ("1>2", format!("{adv}>Debian GNU/Linux, with Linux 6.1.0-9-amd64"), "/boot/vmlinuz-6.1.0-9-amd64"),
        ("1", format!("{adv}>Debian GNU/Linux, with Linux 6.1.0-13-amd64"), "/boot/vmlinuz-6.1.0-13-amd64"),
        (
            "Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-9-amd64 (recovery mode)",
            format!("{adv}>Debian GNU/Linux, with Linux 6.1.0-9-amd64 (recovery mode)"),
            "/boot/vmlinuz-6.1.0-9-amd64",
        ),
        (
            "gnulinux-advanced-0b1c9e4e-3d2a-4f7e-9d3c-1f2e3d4c5b6a>gnulinux-6.1.0-9-amd64-advanced-0b1c9e4e-3d2a-4f7e-9d3c-1f2e3d4c5b6a",
            format!("{adv}>Debian GNU/Linux, with Linux 6.1.0-9-amd64"),
            "/boot/vmlinuz-6.1.0-9-amd64",
        ),
    ];
    for (default, path, kernel) in cases {
        assert_eq!(
            chosen(&conf, default),
            Ok((path, kernel.to_string())),
            "{default}"
        );
    }
    assert_eq!(chosen(&conf, "7").unwrap_err(), "no menu entry \"7\"");
    assert!(chosen(&conf, "0>1")
        .unwrap_err()
        .contains("is an entry, not a submenu"));
    assert!(chosen(&conf, "99999999999999999999999").is_err());
}

#[test]
fn saved_entry_from_grubenv() {
    let env = parse_grubenv(fixture!("grub/rhel7.grubenv"));
    let conf = parse(RHEL7, env);
    let title = "Red Hat Enterprise Linux Server (3.10.0-1160.el7.x86_64) 7.9 (Maipo)";
    // The `then default=...` tweak on the if line is not applied.
    assert_eq!(conf.default.as_deref(), Some(title));
    let (path, e) = select(&conf.items, title).unwrap();
    assert_eq!(path, title);
    assert_eq!(
        e.linux.as_ref().unwrap().0,
        "/vmlinuz-3.10.0-1160.el7.x86_64"
    );
    assert_eq!(e.initrds, ["/initramfs-3.10.0-1160.el7.x86_64.img"]);
    // Without grubenv there is no default: GRUB's is the first entry.
    assert_eq!(parse(RHEL7, Env::new()).default, None);
    // `set default=saved` reads saved_entry too.
    let saved = parse(
        "set default=saved\nmenuentry 'x' {\n}\n",
        [("saved_entry".to_string(), "x".to_string())].into(),
    );
    assert_eq!(saved.default.as_deref(), Some("x"));
}

#[test]
fn default_by_title_path() {
    let conf = parse(UBUNTU, Env::new());
    let d = conf.default.clone().unwrap();
    assert_eq!(
        d,
        "Advanced options for Ubuntu>Ubuntu, with Linux 5.15.0-86-generic"
    );
    let (_, e) = select(&conf.items, &d).unwrap();
    let (path, args) = e.linux.clone().unwrap();
    assert_eq!(path, "/vmlinuz-5.15.0-86-generic");
    assert_eq!(
        args.join(" "),
        "root=UUID=9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d ro quiet splash",
        "$vt_handoff is unset"
    );
}

#[test]
fn configs_without_entries() {
    let bls = parse(fixture!("grub/rhel8-blscfg.cfg"), Env::new());
    assert!(bls.items.is_empty() && bls.blscfg);
    let stub = parse(fixture!("grub/efi-stub.cfg"), Env::new());
    assert!(stub.items.is_empty() && !stub.blscfg);
}

#[test]
fn odd_syntax() {
    let text = "menuentry \"A b\" --id=a {\nlinux ($root)/k x \"y z\"\n}\nfunction f {\nmenuentry 'hidden' {\n}\n}\n{\n}\n}\nsubmenu 's' {\nsubmenu 't' {\nmenuentry 'deep' {\n linux /deep\n";
    let conf = parse(text, Env::new());
    assert_eq!(titles(&conf.items), ["A b", "s"]);
    assert_eq!(chosen(&conf, "a"), Ok(("A b".into(), "()/k".into())));
    assert_eq!(chosen(&conf, "1"), Ok(("s>t>deep".into(), "/deep".into())));
    let Item::Entry(e) = &conf.items[0] else {
        panic!()
    };
    assert_eq!(e.linux.as_ref().unwrap().1, ["x", "y z"]);
}

fn debian_root() -> TempRoot {
    let t = TempRoot::new();
    t.file("/boot/grub/grub.cfg", DEBIAN);
    for v in ["6.1.0-13-amd64", "6.1.0-9-amd64"] {
        t.kernel(&format!("/boot/vmlinuz-{v}"))
            .file(&format!("/boot/initrd.img-{v}"), "cpio");
    }
    t
}

#[test]
fn detects_debian() {
    let t = debian_root();
    let mut notes = Vec::new();
    let d = detect(&t.path, &mut notes).unwrap();
    let source = Source::Grub {
        path: t.host("/boot/grub/grub.cfg"),
        entry: "Debian GNU/Linux".into(),
    };
    assert_eq!(
        d.kernel,
        (t.host("/boot/vmlinuz-6.1.0-13-amd64"), source.clone())
    );
    assert_eq!(
        d.initrd,
        Some((t.host("/boot/initrd.img-6.1.0-13-amd64"), source.clone()))
    );
    assert_eq!(d.args, Some((format!("root=UUID={UUID} ro quiet"), source)));
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn saved_default_from_grubenv_next_to_grub_cfg() {
    let t = debian_root();
    let cfg = DEBIAN.replace("set default=\"0\"", "set default=\"${saved_entry}\"");
    let id = format!("gnulinux-advanced-{UUID}>gnulinux-6.1.0-9-amd64-advanced-{UUID}");
    t.file("/boot/grub/grub.cfg", cfg).file(
        "/boot/grub/grubenv",
        format!("# GRUB Environment Block\nsaved_entry={id}\n####"),
    );
    let d = detect(&t.path, &mut Vec::new()).unwrap();
    assert_eq!(d.kernel.0, t.host("/boot/vmlinuz-6.1.0-9-amd64"));
    let Source::Grub { entry, .. } = d.kernel.1 else {
        panic!()
    };
    assert_eq!(
        entry,
        "Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-9-amd64"
    );
}

#[test]
fn separate_boot_partition_paths() {
    let t = TempRoot::new();
    t.file("/boot/grub2/grub.cfg", RHEL7)
        .file("/boot/grub2/grubenv", fixture!("grub/rhel7.grubenv"))
        .kernel("/boot/vmlinuz-3.10.0-1160.el7.x86_64")
        .file("/boot/initramfs-3.10.0-1160.el7.x86_64.img", "cpio");
    let d = detect(&t.path, &mut Vec::new()).unwrap();
    assert_eq!(d.kernel.0, t.host("/boot/vmlinuz-3.10.0-1160.el7.x86_64"));
    assert_eq!(
        d.initrd.unwrap().0,
        t.host("/boot/initramfs-3.10.0-1160.el7.x86_64.img")
    );
    assert!(d.args.unwrap().0.ends_with("rhgb quiet LANG=en_US.UTF-8"));
}

#[test]
fn unknown_default_falls_back_to_the_first_entry() {
    let t = debian_root();
    t.file(
        "/boot/grub/grub.cfg",
        DEBIAN.replace("set default=\"0\"", "set default=\"gone\""),
    );
    let mut notes = Vec::new();
    let d = detect(&t.path, &mut notes).unwrap();
    assert_eq!(d.kernel.0, t.host("/boot/vmlinuz-6.1.0-13-amd64"));
    assert!(
        notes[0].contains("default \"gone\": no menu entry \"gone\"; using the first entry"),
        "{notes:?}"
    );
}

#[test]
fn efi_stub_and_blscfg_configs_are_passed_over() {
    let t = TempRoot::new();
    t.file(
        "/boot/efi/EFI/debian/grub.cfg",
        fixture!("grub/efi-stub.cfg"),
    )
    .file("/boot/grub2/grub.cfg", fixture!("grub/rhel8-blscfg.cfg"));
    let mut notes = Vec::new();
    assert!(detect(&t.path, &mut notes).is_none());
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].ends_with("grub2/grub.cfg: its entries come from blscfg (BLS)"));
    assert!(notes[1].ends_with("EFI/debian/grub.cfg: no menu entries"));
}

/// GRUB's `devicetree` (arm64 boards) is read with the entry and named as
/// not loaded; the entry still boots.
#[test]
fn devicetree_is_named_not_loaded() {
    let cfg = "menuentry 'Debian' {\n\tlinux /boot/vmlinuz-6.12 root=/dev/vda2 ro\n\t\
               initrd /boot/initrd.img-6.12\n\tdevicetree /boot/dtbs/6.12/rk3399-rockpro64.dtb\n}\n";
    let conf = parse(cfg, Env::new());
    let Item::Entry(e) = &conf.items[0] else {
        panic!("not an entry: {:?}", conf.items)
    };
    assert_eq!(
        e.devicetree.as_deref(),
        Some("/boot/dtbs/6.12/rk3399-rockpro64.dtb")
    );
    assert_eq!(e.other, None);
    let t = TempRoot::new();
    t.file("/boot/grub/grub.cfg", cfg)
        .kernel("/boot/vmlinuz-6.12")
        .file("/boot/initrd.img-6.12", "cpio");
    let mut notes = Vec::new();
    let d = detect(&t.path, &mut notes).unwrap();
    assert_eq!(d.kernel.0, t.host("/boot/vmlinuz-6.12"));
    assert!(
        notes
            .iter()
            .any(|n| n.contains("devicetree /boot/dtbs/6.12/rk3399-rockpro64.dtb is not loaded")),
        "{notes:?}"
    );
}

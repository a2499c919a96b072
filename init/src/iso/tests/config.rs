use super::{fixture, open, rear_tree, Temp};
use crate::bootcfg::entry::{Boots, Menu};
use crate::bootcfg::{grub, syslinux};
use crate::iso::menu::{choose, discover, Choice};
use crate::iso::Error;
use std::collections::HashMap;

const REAR: &str = fixture!("rear-isolinux.cfg");
const REAR_EFI: &str = fixture!("rear-efi-grub.cfg");
const REAR_ARGS: &str = "root=/dev/ram0 vga=normal rw selinux=0 console=ttyS0,9600 console=tty0";

/// A reader over a few named texts.
fn files(map: &[(&str, &str)]) -> impl FnMut(&str) -> Result<String, String> {
    let map: HashMap<String, String> = map
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |p: &str| {
        map.get(p)
            .cloned()
            .ok_or_else(|| format!("{p}: not found in the ISO"))
    }
}

fn labels(m: &Menu) -> Vec<&str> {
    m.entries.iter().map(|e| e.label.as_str()).collect()
}

fn index(m: &Menu, label: &str) -> usize {
    m.entries.iter().position(|e| e.label == label).unwrap()
}

#[test]
fn rear_isolinux_entries() {
    let m = syslinux::parse("/isolinux/isolinux.cfg", REAR, &mut files(&[]));
    assert_eq!(
        labels(&m),
        [
            "rear",
            "rear-automatic",
            "-",
            "help",
            "boothd0",
            "boothd1",
            "local",
            "hdt",
            "reboot",
            "poweroff"
        ]
    );
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    let rear = &m.entries[0];
    assert_eq!(rear.boots, Boots::Linux("/isolinux/kernel".into()));
    assert_eq!(rear.initrds, ["/isolinux/initrd.cgz"]);
    assert_eq!(rear.title.as_deref(), Some("Recover rescuehost"));
    assert_eq!(rear.origin, "/isolinux/isolinux.cfg:12");
    assert_eq!(rear.cmdline(""), REAR_ARGS);
    assert_eq!(
        m.entries[1].cmdline("console=ttyS0 x.y=1"),
        format!("{REAR_ARGS} auto_recover console=ttyS0 x.y=1")
    );
    // A word the entry has already is not added twice.
    assert_eq!(
        m.entries[1].cmdline("auto_recover unattended"),
        format!("{REAR_ARGS} auto_recover unattended")
    );
    // `menu default` in boothd0; `default menu.c32` is the UI module.
    assert_eq!(m.default, Some(index(&m, "boothd0")));
    let other = |l: &str| m.entries[index(&m, l)].boots.clone();
    assert_eq!(
        other("boothd0"),
        Boots::Other("kernel chain.c32 hd0".into())
    );
    assert_eq!(other("local"), Boots::Other("localboot -1".into()));
    assert_eq!(other("-"), Boots::Other("no kernel line".into()));
    for l in ["hdt", "reboot", "poweroff"] {
        assert!(matches!(other(l), Boots::Other(_)), "{l}");
    }
}

#[test]
fn a_default_that_does_not_boot_linux_gives_the_first_linux_entry() {
    let m = syslinux::parse("/isolinux/isolinux.cfg", REAR, &mut files(&[]));
    let Choice { index, note } = choose(&m, "rear.iso", None).unwrap();
    assert_eq!(m.entries[index].label, "rear");
    let note = note.unwrap();
    assert!(
        note.contains("boothd0")
            && note.contains("does not boot a Linux kernel (kernel chain.c32 hd0)")
            && note.contains("using rear"),
        "{note}"
    );
    let pick =
        |name: &str| choose(&m, "rear.iso", Some(name)).map(|c| m.entries[c.index].label.clone());
    assert_eq!(pick("rear-automatic").unwrap(), "rear-automatic");
    assert_eq!(pick("REAR-Automatic").unwrap(), "rear-automatic");
    assert_eq!(
        pick("Automatic Recover rescuehost").unwrap(),
        "rear-automatic"
    );
    let err = pick("boothd0").unwrap_err().to_string();
    assert!(
        err.starts_with("rear.iso: entry boothd0")
            && err.contains("does not boot a Linux kernel (kernel chain.c32 hd0)"),
        "{err}"
    );
    let err = pick("nope").unwrap_err().to_string();
    assert!(
        err.contains("no boot entry \"nope\"") && err.contains("rear, rear-automatic, -"),
        "{err}"
    );
}

#[test]
fn rear_efi_grub_entries() {
    let m = grub::menu("/EFI/BOOT/grub.cfg", REAR_EFI, &mut files(&[]));
    assert_eq!(
        labels(&m),
        [
            "Relax-and-Recover (BIOS or UEFI without Secure Boot)",
            "Relax-and-Recover (UEFI and Secure Boot)",
            "Boot next EFI",
            "Reboot",
            "Exit to EFI shell",
        ]
    );
    assert_eq!(m.default, Some(2), "set default=\"chainloader\" is an --id");
    assert_eq!(
        m.entries[2].boots,
        Boots::Other("no linux command (chainloader ()/EFI/debian/grubx64.efi)".into())
    );
    assert_eq!(
        m.entries[3].boots,
        Boots::Other("no linux command (reboot)".into())
    );
    for e in &m.entries[..2] {
        assert_eq!(e.kernel(), Some("/isolinux/kernel"));
        assert_eq!(e.initrds, ["/isolinux/initrd.cgz"]);
        assert_eq!(e.cmdline(""), REAR_ARGS);
    }
    let c = choose(&m, "x", None).unwrap();
    assert_eq!(c.index, 0);
    assert!(c.note.unwrap().contains("Boot next EFI"));
    assert_eq!(choose(&m, "x", Some("rear_secure_boot")).unwrap().index, 1);
}

#[test]
fn grub_submenus_variables_sources_and_initrd_lists() {
    let theme = fixture!("live-theme.cfg");
    let m = grub::menu(
        "/boot/grub/grub.cfg",
        fixture!("live-grub.cfg"),
        &mut files(&[("/boot/grub/theme.cfg", theme)]),
    );
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    assert_eq!(m.entries.len(), 4);
    let serial = &m.entries[2];
    assert_eq!(m.default, Some(2), "default 1>1");
    assert_eq!(serial.label, "Live system (microcode, serial)");
    assert_eq!(serial.kernel(), Some("/live/vmlinuz-6.1.0-13-amd64"));
    assert_eq!(
        serial.initrds,
        ["/live/ucode.img", "/live/initrd.img-6.1.0-13-amd64"]
    );
    assert_eq!(
        serial.cmdline("quiet"),
        "boot=live components console=ttyS0,115200n8 quiet"
    );
    assert_eq!(
        m.entries[0].cmdline(""),
        "boot=live components quiet splash"
    );
    assert_eq!(
        m.entries[3].boots,
        Boots::Other("no linux command (fwsetup)".into())
    );
    for name in [
        "live-serial",
        "1>1",
        "Advanced options ...>Live system (microcode, serial)",
    ] {
        assert_eq!(choose(&m, "x", Some(name)).unwrap().index, 2, "{name}");
    }
    let sourced = grub::menu(
        "/boot/grub/grub.cfg",
        "source /boot/grub/nothere.cfg\nsource /boot/grub/grub.cfg\n",
        &mut files(&[]),
    );
    assert_eq!(sourced.notes.len(), 2, "{:?}", sourced.notes);
    assert!(sourced.notes[0].starts_with(
        "/boot/grub/grub.cfg:1: source /boot/grub/nothere.cfg: /boot/grub/nothere.cfg: not found"
    ));
}

#[test]
fn syslinux_includes_global_append_and_initrd_lists() {
    let main = fixture!("include-isolinux.cfg");
    let m = syslinux::parse(
        "/isolinux/isolinux.cfg",
        main,
        &mut files(&[
            ("/isolinux/menu.cfg", fixture!("include-menu.cfg")),
            ("/isolinux/isolinux.cfg", main),
        ]),
    );
    assert_eq!(labels(&m), ["rescue", "plain", "noappend", "firmware"]);
    assert_eq!(m.default, Some(0));
    assert_eq!(m.notes.len(), 2, "{:?}", m.notes);
    assert!(m.notes[0].contains("/isolinux/isolinux.cfg:6: include /isolinux/missing.cfg"));
    assert!(m.notes[1].contains("a loop"));
    let [rescue, plain, noappend, firmware] = &m.entries[..] else {
        panic!()
    };
    assert_eq!(rescue.origin, "/isolinux/menu.cfg:1");
    assert_eq!(rescue.initrds, ["/boot/ucode.img", "/boot/initrd.img"]);
    assert_eq!(rescue.cmdline(""), "quiet");
    assert_eq!(plain.kernel(), Some("/isolinux/vmlinuz.efi"));
    assert_eq!(
        plain.initrds,
        ["/isolinux/../boot/a.img", "/isolinux/../boot/b.img"]
    );
    assert_eq!(plain.cmdline(""), "console=ttyS0");
    assert_eq!(noappend.cmdline(""), "");
    assert!(noappend.initrds.is_empty());
    assert!(firmware.kernel().is_none());
}

#[test]
fn rear_iso_configs_are_found_with_any_names() {
    let t = Temp::new();
    rear_tree(&t);
    for (name, flags) in [
        ("rr", &["-R", "-J"][..]),
        ("plain", &["--norock"][..]),
        ("joliet", &["--norock", "-J"][..]),
    ] {
        let Some(path) = t.iso(name, flags) else {
            return;
        };
        let iso = open(&path);
        let m = discover(&iso).unwrap();
        assert_eq!(
            m.configs,
            ["/isolinux/isolinux.cfg", "/EFI/BOOT/grub.cfg"],
            "{name}"
        );
        assert_eq!(m.entries.len(), 15, "{name}");
        assert_eq!(m.entries[m.default.unwrap()].label, "boothd0", "{name}");
        let c = choose(&m, iso.name(), None).unwrap();
        assert_eq!(m.entries[c.index].label, "rear", "{name}");
        let listing = crate::applets::kexec::iso::listing(&m, iso.name(), &Ok(c), "");
        assert!(
            listing.contains(
                "* boothd0 (\"Boot First Local disk (hd0)\") [default]  (/isolinux/isolinux.cfg:"
            ),
            "{listing}"
        );
        assert!(listing.contains(&format!("    boots Linux: /isolinux/kernel\n    initrds: /isolinux/initrd.cgz\n    args: {REAR_ARGS}\n")), "{listing}");
        assert!(
            listing.contains("does not boot Linux: localboot -1"),
            "{listing}"
        );
        assert!(
            listing
                .contains("would boot: rear (\"Recover rescuehost\") (the default entry boothd0"),
            "{listing}"
        );
    }
}

#[test]
fn no_entries_and_no_linux_entries_are_errors() {
    let m = syslinux::parse(
        "/syslinux.cfg",
        "label a\n kernel chain.c32 hd0\nlabel b\n localboot 0\n",
        &mut files(&[]),
    );
    let err = choose(&m, "x.iso", None).unwrap_err();
    assert!(matches!(err, Error::NoLinux { .. }));
    assert_eq!(
        err.to_string(),
        "x.iso: no boot entry boots a Linux kernel: a: kernel chain.c32 hd0; b: localboot 0"
    );
}

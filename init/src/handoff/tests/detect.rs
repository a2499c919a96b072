use super::{fixture, TempRoot};
use crate::handoff::detect::detect;
use crate::handoff::source::Source;

fn found(t: &TempRoot) -> (String, Source, Option<String>, Vec<String>) {
    let mut notes = Vec::new();
    let d = detect(&t.path, &mut notes).expect("a kernel");
    let rel = |p: &std::path::Path| format!("/{}", p.strip_prefix(&t.path).unwrap().display());
    (
        rel(&d.kernel.0),
        d.kernel.1,
        d.initrd.map(|i| rel(&i.0)),
        notes,
    )
}

#[test]
fn debian_links() {
    let t = TempRoot::new();
    t.kernel("/boot/vmlinuz-6.1.0-13-amd64")
        .file("/boot/initrd.img-6.1.0-13-amd64", "cpio")
        .kernel("/boot/vmlinuz-6.1.0-99-amd64")
        .link("/vmlinuz", "boot/vmlinuz-6.1.0-13-amd64")
        .link("/initrd.img", "boot/initrd.img-6.1.0-13-amd64");
    let (k, source, i, notes) = found(&t);
    assert_eq!(
        k, "/boot/vmlinuz-6.1.0-13-amd64",
        "the link wins over the newest kernel"
    );
    assert_eq!(
        source,
        Source::DebianLink {
            path: t.host("/vmlinuz")
        }
    );
    assert_eq!(i.as_deref(), Some("/boot/initrd.img-6.1.0-13-amd64"));
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn debian_links_in_boot_and_dangling_ones() {
    let t = TempRoot::new();
    t.kernel("/boot/vmlinuz-6.1.0-13-amd64")
        .link("/vmlinuz", "boot/vmlinuz-6.1.0-12-amd64")
        .link("/boot/vmlinuz", "/boot/vmlinuz-6.1.0-13-amd64");
    let (k, source, i, notes) = found(&t);
    assert_eq!(k, "/boot/vmlinuz-6.1.0-13-amd64");
    assert_eq!(
        source,
        Source::DebianLink {
            path: t.host("/boot/vmlinuz")
        }
    );
    assert_eq!(i, None);
    assert!(notes[0].ends_with("/boot/vmlinuz-6.1.0-12-amd64 does not exist (via symlink /vmlinuz -> boot/vmlinuz-6.1.0-12-amd64)"), "{notes:?}");
    assert!(
        notes[1].contains("/boot/vmlinuz found but no usable /boot/initrd.img"),
        "{notes:?}"
    );
}

#[test]
fn newest_kernel_with_each_initrd_naming() {
    for initrd in [
        "initrd.img-6.1.0-13-amd64",
        "initramfs-6.1.0-13-amd64.img",
        "initrd-6.1.0-13-amd64",
    ] {
        let t = TempRoot::new();
        t.kernel("/boot/vmlinuz-6.1.0-9-amd64")
            .kernel("/boot/vmlinuz-6.1.0-13-amd64")
            .kernel("/boot/vmlinuz-6.1.0-10-amd64")
            .file("/boot/initrd.img-6.1.0-10-amd64", "cpio")
            .file(&format!("/boot/{initrd}"), "cpio");
        let (k, source, i, _) = found(&t);
        assert_eq!(k, "/boot/vmlinuz-6.1.0-13-amd64");
        assert_eq!(
            source,
            Source::NewestKernel {
                dir: t.host("/boot")
            }
        );
        assert_eq!(i, Some(format!("/boot/{initrd}")));
    }
}

#[test]
fn newest_kernel_skips_broken_ones() {
    let t = TempRoot::new();
    t.kernel("/boot/vmlinuz-5.10.0-1-amd64")
        .link("/boot/vmlinuz-6.1.0-1-amd64", "../../outside")
        .dir("/boot/vmlinuz-6.2");
    let (k, _, i, notes) = found(&t);
    assert_eq!(k, "/boot/vmlinuz-5.10.0-1-amd64");
    assert_eq!(i, None);
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(
        notes[0].contains("vmlinuz-6.2: not a regular file"),
        "{notes:?}"
    );
    assert!(notes[1].contains("would leave ROOT"), "{notes:?}");
}

#[test]
fn order_bls_then_grub_then_links_then_newest() {
    let t = TempRoot::new();
    t.kernel("/boot/vmlinuz-9.9")
        .link("/vmlinuz", "boot/vmlinuz-9.9");
    assert!(matches!(found(&t).1, Source::DebianLink { .. }));
    t.file(
        "/boot/grub/grub.cfg",
        "menuentry 'x' {\n linux /vmlinuz-9.9 ro\n}\n",
    );
    assert!(matches!(found(&t).1, Source::Grub { .. }));
    t.file("/boot/loader/entries/e.conf", "linux /vmlinuz-9.9\n");
    assert!(matches!(found(&t).1, Source::Bls { .. }));
}

#[test]
fn broken_bls_falls_through_to_grub() {
    let t = TempRoot::new();
    t.file("/boot/loader/entries/e.conf", "linux /vmlinuz-missing\n")
        .file("/boot/grub/grub.cfg", fixture!("grub/debian.cfg"))
        .kernel("/boot/vmlinuz-6.1.0-13-amd64")
        .file("/boot/initrd.img-6.1.0-13-amd64", "cpio");
    let (k, source, _, notes) = found(&t);
    assert_eq!(k, "/boot/vmlinuz-6.1.0-13-amd64");
    assert!(matches!(source, Source::Grub { .. }));
    assert!(
        notes[0].contains("e.conf (first in BLS order)"),
        "{notes:?}"
    );
}

#[test]
fn nothing_to_find() {
    let t = TempRoot::new();
    t.dir("/boot").file("/boot/config-6.1", "");
    assert!(detect(&t.path, &mut Vec::new()).is_none());
}

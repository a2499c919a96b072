use super::*;
use crate::elf::testelf::{build, Spec};
use crate::tree::Kind;
use std::os::unix::fs::symlink;

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("mkimage-bins-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        Dir(fs::canonicalize(d).unwrap())
    }
    fn file(&self, rel: &str, data: &[u8], mode: u32) -> PathBuf {
        let p = self.0.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        p
    }
    fn link(&self, target: &str, rel: &str) -> PathBuf {
        let p = self.0.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, &p).unwrap();
        p
    }
    /// The image name of `rel`.
    fn name(&self, rel: &str) -> Vec<u8> {
        let full = self.0.join(rel);
        full.as_os_str().as_bytes()[1..].to_vec()
    }
    fn host(&self) -> Host {
        Host {
            path_var: Some(self.0.join("bin").into_os_string()),
            ld_so_conf: self.0.join("no-ld.so.conf"),
            root: PathBuf::from("/"),
        }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn kind(t: &Tree, name: &[u8]) -> Option<Kind> {
    t.get(name).map(|e| e.kind.clone())
}

fn link_to(target: &str) -> Option<Kind> {
    Some(Kind::Symlink {
        target: target.as_bytes().to_vec(),
    })
}

#[test]
fn symlinks_of_directories_and_files_are_kept() {
    let d = Dir::new("links");
    let real = d.file("usr/lib/libfoo.so.1.2.3", b"lib", 0o644);
    d.link("libfoo.so.1.2.3", "usr/lib/libfoo.so.1");
    d.link("usr/lib", "lib");
    let abs = d.0.join("usr");
    d.link(abs.to_str().unwrap(), "abs");
    let mut t = Tree::default();
    add_host_path(&mut t, &d.0.join("lib/libfoo.so.1")).unwrap();
    add_host_path(&mut t, &d.0.join("abs/lib/../lib/libfoo.so.1.2.3")).unwrap();
    assert_eq!(kind(&t, &d.name("lib")), link_to("usr/lib"));
    assert_eq!(
        kind(&t, &d.name("usr/lib/libfoo.so.1")),
        link_to("libfoo.so.1.2.3")
    );
    let file = Some(Kind::File { src: real, size: 3 });
    assert_eq!(kind(&t, &d.name("usr/lib/libfoo.so.1.2.3")), file);
    assert_eq!(kind(&t, &d.name("abs")), link_to(abs.to_str().unwrap()));
    assert!(t.into_entries().is_ok());
}

#[test]
fn a_directory_of_the_image_is_kept() {
    let d = Dir::new("keep");
    d.file("usr/sbin/tool", b"tool", 0o755);
    d.link("usr/sbin", "sbin");
    let mut t = Tree::default();
    let applet = [d.name("sbin"), b"/reboot".to_vec()].concat();
    t.insert(applet, Entry::symlink(b"/init")).unwrap();
    add_host_path(&mut t, &d.0.join("sbin/tool")).unwrap();
    assert!(matches!(
        kind(&t, &d.name("sbin/tool")),
        Some(Kind::File { .. })
    ));
    assert!(t.get(&d.name("usr/sbin/tool")).is_none());
    assert!(t.into_entries().is_ok());
}

#[test]
fn symlink_loops_and_missing_files_are_errors() {
    let d = Dir::new("loop");
    d.link("b", "a");
    d.link("a", "b");
    let mut t = Tree::default();
    let err = add_host_path(&mut t, &d.0.join("a")).unwrap_err();
    assert!(matches!(err, BinError::Loop { .. }), "{err}");
    let err = add_host_path(&mut t, &d.0.join("nope/x")).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn names_are_looked_up_in_path() {
    let d = Dir::new("path");
    let tool = d.file("bin/tool", b"x", 0o755);
    d.file("bin/plain", b"x", 0o644);
    let host = d.host();
    assert_eq!(locate(OsStr::new("tool"), &host).unwrap(), tool);
    let err = locate(OsStr::new("plain"), &host).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--bin plain: no executable of that name in $PATH"
    );
    assert_eq!(locate(tool.as_os_str(), &host).unwrap(), tool);
    assert!(locate(OsStr::new("/no/such/prog"), &host).is_err());
}

fn program(d: &Dir, interp: Option<&str>, needed: &'static [&'static str]) -> PathBuf {
    let spec = Spec {
        interp,
        needed,
        runpath: Some("$ORIGIN/../lib"),
        ..Spec::default()
    };
    d.file("bin/prog", &build(&spec), 0o755)
}

#[test]
fn a_program_comes_with_its_libraries() {
    let d = Dir::new("prog");
    let interp = d.file("lib/ld-test.so", &build(&Spec::default()), 0o755);
    program(&d, interp.to_str(), &["libone.so.1"]);
    d.file("lib/libone.so.1.0", &build(&Spec::default()), 0o644);
    d.link("libone.so.1.0", "lib/libone.so.1");
    let mut t = Tree::default();
    let warnings = add_bins(&mut t, &["prog".into()], false, &d.host()).unwrap();
    assert!(warnings.is_empty());
    for name in ["bin/prog", "lib/ld-test.so", "lib/libone.so.1.0"] {
        assert!(
            matches!(kind(&t, &d.name(name)), Some(Kind::File { .. })),
            "{name}"
        );
    }
    assert_eq!(
        kind(&t, &d.name("lib/libone.so.1")),
        link_to("libone.so.1.0")
    );
}

#[test]
fn missing_pieces_are_errors_or_warnings() {
    let d = Dir::new("missing");
    program(&d, Some("/nonexistent/ld.so"), &["libmkimage-absent.so.7"]);
    let mut t = Tree::default();
    let err = add_bins(&mut t, &["prog".into()], false, &d.host()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("bin/prog") && text.contains("libmkimage-absent.so.7"),
        "{text}"
    );
    let warnings = add_bins(&mut t, &["prog".into()], true, &d.host()).unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[1].contains("/nonexistent/ld.so"), "{warnings:?}");
    assert!(t.get(&d.name("bin/prog")).is_some());
}

#[test]
fn garbage_programs_are_refused_by_name() {
    let d = Dir::new("garbage");
    d.file("bin/script", b"#!/bin/sh\necho hi\n", 0o755);
    let mut t = Tree::default();
    let err = add_bins(&mut t, &["script".into()], true, &d.host()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bin/script: not an ELF file"), "{text}");
}

/// Another architecture's tree (`--sysroot`): the program, its interpreter
/// behind an absolute symlink and its library are found inside the tree,
/// by the tree's own ld.so.conf include, and land in the image at the
/// paths that system gives them; an x86-64 library of the same name in the
/// tree's default directories is passed over.
#[test]
fn a_sysroot_of_another_architecture() {
    let d = Dir::new("sysroot");
    let arm = |interp, needed| Spec {
        machine: 183,
        interp,
        needed,
        ..Spec::default()
    };
    d.file(
        "usr/bin/tool",
        &build(&arm(Some("/lib/ld-linux-aarch64.so.1"), &["libfoo.so.1"])),
        0o755,
    );
    let ld = "lib/aarch64-linux-gnu/ld-linux-aarch64.so.1";
    d.file(ld, &build(&arm(None, &[])), 0o755);
    d.link(
        "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
        "lib/ld-linux-aarch64.so.1",
    );
    d.file("lib64/libfoo.so.1", &build(&Spec::default()), 0o644);
    d.file("opt/arm/libfoo.so.1", &build(&arm(None, &[])), 0o644);
    d.file(
        "etc/ld.so.conf",
        b"include /etc/ld.so.conf.d/*.conf\n",
        0o644,
    );
    d.file("etc/ld.so.conf.d/arm.conf", b"/opt/arm\n", 0o644);
    let mut t = Tree::default();
    let host = Host::in_root(&d.0);
    let warnings = add_bins(&mut t, &["tool".into()], false, &host).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let file = |rel: &str| {
        Some(Kind::File {
            src: d.0.join(rel),
            size: fs::metadata(d.0.join(rel)).unwrap().len(),
        })
    };
    assert_eq!(kind(&t, b"usr/bin/tool"), file("usr/bin/tool"));
    assert_eq!(
        kind(&t, b"lib/ld-linux-aarch64.so.1"),
        link_to("/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1")
    );
    assert_eq!(kind(&t, ld.as_bytes()), file(ld));
    assert_eq!(
        kind(&t, b"opt/arm/libfoo.so.1"),
        file("opt/arm/libfoo.so.1")
    );
    assert!(t.get(b"lib64/libfoo.so.1").is_none());
    let absent = locate(OsStr::new("nothing"), &host).unwrap_err();
    assert!(absent.to_string().contains("nothing"), "{absent}");
}

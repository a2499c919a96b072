use super::*;
use crate::elf::testelf::{build, Spec};

const X86_64: Kind = Kind {
    class64: true,
    little: true,
    machine: EM_X86_64,
};

/// A scratch tree of test ELF files.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("mkimage-ldso-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn elf(&self, rel: &str, spec: Spec) -> PathBuf {
        let p = self.0.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, build(&spec)).unwrap();
        p
    }
    fn closure(&self, prog: &Path) -> Closure {
        Loader::default().closure(prog).unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn runpath_with_origin_applies_to_each_object_itself() {
    let d = Dir::new("runpath");
    let prog = d.elf(
        "bin/prog",
        Spec {
            interp: Some("/lib64/ld-linux-x86-64.so.2"),
            needed: &["liba.so"],
            runpath: Some("$ORIGIN/../lib"),
            ..Spec::default()
        },
    );
    let a = d.elf(
        "lib/liba.so",
        Spec {
            needed: &["libb.so", "liba.so"],
            runpath: Some("${ORIGIN}/sub"),
            ..Spec::default()
        },
    );
    let b = d.elf("lib/sub/libb.so", Spec::default());
    let c = d.closure(&prog);
    assert_eq!(c.interp, Some(PathBuf::from("/lib64/ld-linux-x86-64.so.2")));
    // As the loader names them: $ORIGIN is not normalized.
    let want = ["bin/../lib/liba.so", "bin/../lib/sub/libb.so"];
    assert_eq!(c.libs, want.map(|w| d.0.join(w)));
    assert!(c.missing.is_empty());
    assert_eq!(
        fs::canonicalize(&c.libs[0]).unwrap(),
        fs::canonicalize(a).unwrap()
    );
    assert!(b.is_file());
}

#[test]
fn rpath_is_inherited_but_not_through_a_runpath_user() {
    let d = Dir::new("rpath");
    let r = d.0.join("r");
    let rpath = r.to_str().unwrap();
    let prog = d.elf(
        "prog",
        Spec {
            needed: &["liba.so", "libr.so"],
            rpath: Some(rpath),
            ..Spec::default()
        },
    );
    // liba has no paths of its own: the program's RPATH finds libc2.
    d.elf(
        "r/liba.so",
        Spec {
            needed: &["libc2.so"],
            ..Spec::default()
        },
    );
    d.elf("r/libc2.so", Spec::default());
    // libr has a RUNPATH: RPATHs are not searched for its needs.
    let runpath = format!("{}/elsewhere", d.0.display());
    d.elf(
        "r/libr.so",
        Spec {
            needed: &["libonly-in-r.so"],
            runpath: Some(&runpath),
            ..Spec::default()
        },
    );
    d.elf("r/libonly-in-r.so", Spec::default());
    let c = d.closure(&prog);
    assert_eq!(
        c.libs,
        [r.join("liba.so"), r.join("libr.so"), r.join("libc2.so")]
    );
    assert_eq!(
        c.missing,
        [(r.join("libr.so"), "libonly-in-r.so".to_string())]
    );
}

#[test]
fn rpath_is_ignored_when_runpath_is_there() {
    let d = Dir::new("both");
    let (rp, run) = (d.0.join("rp"), d.0.join("run"));
    let prog = d.elf(
        "prog",
        Spec {
            needed: &["libx.so"],
            rpath: Some(rp.to_str().unwrap()),
            runpath: Some(run.to_str().unwrap()),
            ..Spec::default()
        },
    );
    d.elf("rp/libx.so", Spec::default());
    d.elf("run/libx.so", Spec::default());
    assert_eq!(d.closure(&prog).libs, [run.join("libx.so")]);
}

#[test]
fn libraries_of_another_kind_are_skipped() {
    let d = Dir::new("kind");
    let runpath = format!("{0}/l32:{0}/arm:{0}/junk:{0}/l64", d.0.display());
    let prog = d.elf(
        "prog",
        Spec {
            needed: &["libk.so"],
            runpath: Some(&runpath),
            ..Spec::default()
        },
    );
    d.elf(
        "l32/libk.so",
        Spec {
            class64: false,
            ..Spec::default()
        },
    );
    d.elf(
        "arm/libk.so",
        Spec {
            machine: EM_AARCH64,
            ..Spec::default()
        },
    );
    fs::create_dir_all(d.0.join("junk")).unwrap();
    fs::write(d.0.join("junk/libk.so"), b"INPUT(-lk)").unwrap();
    d.elf("l64/libk.so", Spec::default());
    assert_eq!(d.closure(&prog).libs, [d.0.join("l64/libk.so")]);
}

#[test]
fn a_missing_library_names_who_needs_it() {
    let d = Dir::new("missing");
    let prog = d.elf(
        "prog",
        Spec {
            needed: &["libnot-there-at-all.so.9"],
            ..Spec::default()
        },
    );
    let c = d.closure(&prog);
    assert_eq!(c.missing, [(prog, "libnot-there-at-all.so.9".to_string())]);
    let err = Loader::default().closure(&d.0.join("nothing")).unwrap_err();
    assert!(err.to_string().contains("nothing"), "{err}");
}

#[test]
fn expansion_of_tokens() {
    let dirs = expand(
        b"$ORIGIN/a:${ORIGIN}:rel/x::/abs/$PLATFORM",
        Path::new("/o"),
        X86_64,
    );
    assert_eq!(dirs, ["/o/a", "/o", "/abs/x86_64"].map(PathBuf::from));
    let lib = &expand(b"/usr/$LIB", Path::new("/"), X86_64)[0];
    assert!(lib.starts_with("/usr/lib"), "{}", lib.display());
}

#[test]
fn default_dirs_are_multiarch_then_lib64_then_lib() {
    let want = [
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
    ];
    assert_eq!(default_dirs(X86_64), want.map(PathBuf::from));
}

#[test]
fn a_host_program_finds_its_libc() {
    let loader = Loader::in_root(Path::new("/"), Path::new("/etc/ld.so.conf")).unwrap();
    for prog in ["/bin/sh", "/usr/bin/bash"] {
        let Ok(c) = loader.closure(Path::new(prog)) else {
            continue;
        };
        let names: Vec<_> = c.libs.iter().filter_map(|l| l.file_name()).collect();
        assert!(
            names
                .iter()
                .any(|n| n.to_string_lossy().starts_with("libc.")),
            "{c:?}"
        );
        assert!(c.missing.is_empty(), "{c:?}");
    }
}

use super::*;
use crate::kmod::testmods::{add_depmod_files, fake_dir, Scratch};

fn sys(proc_modules: PathBuf) -> System {
    System {
        proc_modules,
        release: Some("6.1-test".into()),
    }
}

fn spec(dir: &Path, names: &[&str]) -> ModuleSpec {
    ModuleSpec {
        dir: Some(dir.to_path_buf()),
        names: names.iter().map(OsString::from).collect(),
        ..ModuleSpec::default()
    }
}

/// The names `select` chooses, with the notes.
fn chosen(
    dir: &Path,
    spec: &ModuleSpec,
    sys: &System,
) -> Result<(Vec<String>, Vec<String>), ModError> {
    let mut db = ModDb::open(dir)?;
    let mut notes = Vec::new();
    let chosen = select(&mut db, spec, sys, &mut notes)?;
    Ok((chosen.into_keys().collect(), notes))
}

const EXT4_SET: [&str; 6] = [
    "crc16",
    "crc32c_generic",
    "crc32c_intel",
    "ext4",
    "jbd2",
    "mbcache",
];

#[test]
fn ext4_comes_with_its_dependencies_and_soft_dependencies() {
    let s = Scratch::new("modules-ext4");
    let dir = fake_dir(&s);
    let sys = sys(s.path("no-proc"));
    let (names, notes) = chosen(&dir, &spec(&dir, &["ext4"]), &sys).unwrap();
    assert_eq!(names, EXT4_SET);
    assert!(notes.is_empty(), "{notes:?}");
    add_depmod_files(&dir);
    let (names, _) = chosen(&dir, &spec(&dir, &["fs-ext4"]), &sys).unwrap();
    assert_eq!(names, EXT4_SET);
}

#[test]
fn soft_dependencies_missing_are_warnings() {
    let s = Scratch::new("modules-softdep");
    let dir = fake_dir(&s);
    let sys = sys(s.path("no-proc"));
    let (names, notes) = chosen(&dir, &spec(&dir, &["fakewifi"]), &sys).unwrap();
    assert_eq!(names, ["cfg80211", "crc16", "fakeled", "fakewifi"]);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].contains("fakewifi: soft dependency no-such-module"),
        "{notes:?}"
    );
}

#[test]
fn what_cannot_be_found() {
    let s = Scratch::new("modules-missing");
    let dir = fake_dir(&s);
    let sys = sys(s.path("no-proc"));
    let err = chosen(&dir, &spec(&dir, &["nope"]), &sys)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("--module nope: no module or alias of that name in"),
        "{err}"
    );
    let (names, notes) = chosen(&dir, &spec(&dir, &["unix", "net-pf-1"]), &sys).unwrap();
    assert!(names.is_empty());
    assert_eq!(
        notes,
        [
            "modules: unix is built into the kernel",
            "modules: net-pf-1 is built into the kernel"
        ]
    );
    let broken = s.module("broken.ko", &["depends=crc16,nothere"]);
    let err = chosen(&dir, &spec(&dir, &[broken.to_str().unwrap()]), &sys)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("module broken (") && err.contains("broken.ko) depends on nothere"),
        "{err}"
    );
}

#[test]
fn loaded_and_all() {
    let s = Scratch::new("modules-loaded");
    let dir = fake_dir(&s);
    let proc = s.write(
        "proc-modules",
        b"jbd2 151552 1 ext4, Live 0x0\nvboxsf 1 0 - Live 0x0\n",
    );
    let mut spec = spec(&dir, &[]);
    spec.set = ModuleSet::Loaded;
    let (names, notes) = chosen(&dir, &spec, &sys(proc)).unwrap();
    assert_eq!(names, ["crc32c_generic", "crc32c_intel", "jbd2"]);
    assert!(
        notes[0].contains("loaded module vboxsf is not in"),
        "{notes:?}"
    );
    spec.set = ModuleSet::All;
    let (names, _) = chosen(&dir, &spec, &sys(s.path("no-proc"))).unwrap();
    assert_eq!(names.len(), 9);
    let mut notes = Vec::new();
    spec.kver = Some("6.1-other".into());
    spec.set = ModuleSet::Loaded;
    target(&spec, &sys(s.path("x")), &mut notes).unwrap();
    assert!(
        notes[0].contains("running kernel (6.1-test), not 6.1-other"),
        "{notes:?}"
    );
}

#[test]
fn version_and_directory() {
    let s = Scratch::new("modules-target");
    let dir = s
        .write("lib/modules/6.1.0-9-amd64/modules.order", b"")
        .parent()
        .unwrap()
        .to_path_buf();
    let sys = sys(s.path("no-proc"));
    let mut notes = Vec::new();
    let mut spec = spec(&dir, &[]);
    assert_eq!(
        target(&spec, &sys, &mut notes).unwrap(),
        ("6.1.0-9-amd64".into(), dir.clone())
    );
    spec.kver = Some("7.0".into());
    assert_eq!(target(&spec, &sys, &mut notes).unwrap().0, "7.0");
    spec.dir = None;
    assert_eq!(
        target(&spec, &sys, &mut notes).unwrap().1,
        Path::new("/lib/modules/7.0")
    );
    spec.kver = None;
    assert_eq!(target(&spec, &sys, &mut notes).unwrap().0, "6.1-test");
    assert!(notes[0].contains("running kernel, 6.1-test"), "{notes:?}");
}

#[test]
fn set_names() {
    assert_eq!("loaded".parse::<ModuleSet>(), Ok(ModuleSet::Loaded));
    assert!("some"
        .parse::<ModuleSet>()
        .unwrap_err()
        .contains("loaded, all or none"));
    assert_eq!("none".parse::<FirmwareSet>(), Ok(FirmwareSet::None));
}

#[test]
fn modules_for_another_kernel_are_a_warning() {
    let s = Scratch::new("modules-vermagic");
    let dir = fake_dir(&s);
    s.module(
        "mods/kernel/a.ko",
        &["vermagic=6.1-test SMP preempt mod_unload"],
    );
    s.module(
        "mods/kernel/b.ko",
        &["vermagic=5.10.0-9-amd64 SMP mod_unload"],
    );
    let mut db = ModDb::open(&dir).unwrap();
    let a = db.module("a").unwrap();
    let b = db.module("b").unwrap();
    assert_eq!(check_vermagic([&a, &a].into_iter(), "6.1-test"), None);
    let w = check_vermagic([&a, &b].into_iter(), "6.1-test").unwrap();
    assert!(w.contains("1 of the modules are built for another kernel than 6.1-test (as b, for 5.10.0-9-amd64)"), "{w}");
}

#[test]
fn all_leaves_out_modules_whose_dependencies_are_missing() {
    let s = Scratch::new("modules-all-broken");
    let dir = fake_dir(&s);
    s.module("mods/kernel/drivers/broken.ko", &["depends=nothere"]);
    s.module("mods/kernel/drivers/onbroken.ko", &["depends=broken,crc16"]);
    s.module("mods/kernel/drivers/fine.ko", &["depends=unix"]);
    let sys = sys(s.path("no-proc"));
    let mut all = spec(&dir, &[]);
    all.set = ModuleSet::All;
    let (names, notes) = chosen(&dir, &all, &sys).unwrap();
    assert!(!names.contains(&"broken".to_string()), "{names:?}");
    assert!(!names.contains(&"onbroken".to_string()), "{names:?}");
    assert!(names.contains(&"fine".to_string()) && names.contains(&"ext4".to_string()));
    let warnings: Vec<&String> = notes.iter().filter(|n| n.contains("left out")).collect();
    assert_eq!(warnings.len(), 1, "{notes:?}");
    let w = warnings[0];
    assert!(w.contains("left out 2 module(s)"), "{w}");
    assert!(w.contains("broken (needs nothere)"), "{w}");
    assert!(
        w.contains("onbroken (needs broken, which needs nothere)"),
        "{w}"
    );
    // Named explicitly, a module with a missing dependency is an error.
    let e = chosen(&dir, &spec(&dir, &["onbroken"]), &sys).unwrap_err();
    assert!(matches!(e, ModError::MissingDep { .. }), "{e}");
    assert!(e.to_string().contains("nothere"), "{e}");
}

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cli::{parse, Command, UsageError};
use crate::compress::Method;
use crate::firmware::FirmwareSet;
use crate::kconfig::KernelRef;
use crate::limits::Limit;
use crate::modules::ModuleSet;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests")
}

fn build(manifest: &str, extra: &str) -> Result<Command, UsageError> {
    let mut args: Vec<OsString> = vec!["build".into(), "--config".into()];
    args.push(fixtures().join(manifest).into());
    args.extend(extra.split_whitespace().map(OsString::from));
    parse(args)
}

#[test]
fn a_full_manifest_sets_every_kind_of_option() {
    let Command::Build { spec, out } = build("good-full.toml", "").unwrap() else {
        panic!("not build")
    };
    let dir = fixtures();
    assert_eq!(out.path, dir.join("out/rescue.img"));
    assert_eq!(spec.init, PathBuf::from("/usr/lib/rescue-init/rescue-init"));
    assert_eq!(
        spec.rootfs,
        [dir.join("rootfs"), PathBuf::from("/srv/rear/tree")]
    );
    assert_eq!(
        spec.files[0],
        (dir.join("etc/motd"), OsString::from("/etc/motd"))
    );
    assert_eq!(
        spec.files[1],
        (PathBuf::from("/etc/hostname"), OsString::from("/etc/"))
    );
    assert_eq!((spec.nodes[0].major, spec.nodes[0].minor), (1, 3));
    assert_eq!(
        spec.bins,
        [OsString::from("bash"), OsString::from("/usr/sbin/parted")]
    );
    let m = &spec.modules;
    assert_eq!(
        m.names,
        [OsString::from("ext4"), OsString::from("virtio_blk")]
    );
    assert_eq!(
        (m.set, m.firmware),
        (ModuleSet::Loaded, FirmwareSet::Needed)
    );
    assert_eq!(m.kver.as_deref(), Some("6.1.0-13-amd64"));
    assert_eq!(m.dir, Some(PathBuf::from("/lib/modules/6.1.0-13-amd64")));
    assert_eq!(out.choice.method, Some(Method::Zstd));
    assert_eq!(out.choice.level, Some(19));
    assert!(out.opts.dedup && !spec.allow_missing && !out.opts.quiet);
    assert_eq!(out.opts.warn_image, Limit::At(512 << 20));
    assert_eq!(out.opts.warn_file, Limit::At(100_000_000));
    assert_eq!(out.opts.top, Some(8));
}

#[test]
fn the_command_line_replaces_values_and_adds_to_lists() {
    let extra = "--level 3 --kver 6.2.0 --modules-dir /m2 --rootfs extra --bin ls -o other --quiet";
    let Command::Build { spec, out } = build("good-full.toml", extra).unwrap() else {
        panic!("not build")
    };
    assert_eq!(out.choice.level, Some(3));
    assert_eq!(out.path, PathBuf::from("other"));
    assert_eq!(spec.modules.kver.as_deref(), Some("6.2.0"));
    assert_eq!(spec.modules.dir, Some(PathBuf::from("/m2")));
    assert_eq!(spec.rootfs.last(), Some(&PathBuf::from("extra")));
    assert_eq!(spec.rootfs.len(), 3);
    assert_eq!(spec.bins.last(), Some(&OsString::from("ls")));
    assert!(out.opts.quiet);
    // Given twice on the command line is still an error.
    let e = build("good-full.toml", "--kver 1 --kver 2").unwrap_err();
    assert!(e.message.contains("--kver given twice"), "{}", e.message);
}

#[test]
fn a_minimal_manifest_and_the_order_of_options() {
    let dir = fixtures();
    // --config may come after other options.
    let args = ["build", "--compress", "xz", "--config"].map(OsString::from);
    let mut args = args.to_vec();
    args.push(dir.join("good-minimal.toml").into());
    let Command::Build { spec, out } = parse(args).unwrap() else {
        panic!("not build")
    };
    assert_eq!(spec.init, dir.join("init.bin"));
    assert_eq!(out.path, dir.join("image.cpio.gz"));
    assert_eq!(out.choice.method, Some(Method::Xz));
    assert_eq!(out.choice.kernel, None::<KernelRef>);
}

#[test]
fn bad_manifests_name_file_and_line() {
    let cases = [
        ("bad-unknown-key.toml", 4, "unknown key \"size\""),
        ("bad-unquoted.toml", 3, "not a value"),
        ("bad-table.toml", 2, "tables are not used"),
        ("bad-duplicate.toml", 3, "already set on line 1"),
        ("bad-unclosed-array.toml", 5, "array not closed"),
        ("bad-type.toml", 3, "level must be an integer, not a string"),
        ("bad-compress.toml", 3, "unknown compression \"zip\""),
        ("bad-two-on-a-line.toml", 1, "after the value"),
        ("bad-garbage.toml", 1, "expected a key"),
        ("bad-flag.toml", 3, "dedup must be true or false"),
    ];
    for (name, line, want) in cases {
        let e = build(name, "").expect_err(name);
        let at = format!("{}:{line}: ", fixtures().join(name).display());
        assert!(e.message.starts_with(&at), "{name}: {}", e.message);
        assert!(e.message.contains(want), "{name}: {}", e.message);
        assert_eq!(e.command, "build");
    }
}

#[test]
fn manifest_problems_outside_the_syntax() {
    let e = build("does-not-exist.toml", "").unwrap_err();
    assert!(e.message.contains("cannot read manifest"), "{}", e.message);
    let e = build("good-minimal.toml", "--config x").unwrap_err();
    assert!(e.message.contains("--config given twice"), "{}", e.message);
    // A manifest's values are checked like the command line's.
    let dir = std::env::temp_dir().join(format!("mkimage-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |text: &str| {
        let path = dir.join("m.toml");
        std::fs::write(&path, text).unwrap();
        parse(vec!["build".into(), "--config".into(), path.into()])
    };
    let e = write("init = \"i\"\noutput = \"o\"\nkver = \"../x\"\n").unwrap_err();
    assert!(
        e.message
            .ends_with("m.toml:3: kver: not a kernel version: \"../x\""),
        "{}",
        e.message
    );
    let e = write("output = \"o\"\n").unwrap_err();
    assert!(e.message.contains("missing --init"), "{}", e.message);
    let e = write("init = \"\"\noutput = \"o\"\n").unwrap_err();
    assert!(
        e.message.contains("m.toml:1: init: empty value"),
        "{}",
        e.message
    );
    let e = write("init = \"i\"\noutput = \"o\"\nconfig = \"other.toml\"\n").unwrap_err();
    assert!(
        e.message.contains("unknown key \"config\""),
        "{}",
        e.message
    );
    let e = write("init = \"i\"\noutput = \"o\"\nwarn-file-size = \"lots\"\n").unwrap_err();
    assert!(
        e.message
            .contains("m.toml:3: warn-file-size: \"lots\" is not a size"),
        "{}",
        e.message
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

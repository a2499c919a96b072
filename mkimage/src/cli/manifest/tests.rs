use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{parse as parse_text, Located};
use crate::cli::{parse, Command};
use crate::compress::kconfig::KernelRef;
use crate::compress::Method;
use crate::kmod::firmware::FirmwareSet;
use crate::kmod::ModuleSet;
use crate::report::limits::Limit;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests")
}

fn build(manifest: &str, extra: &str) -> Result<Command, String> {
    let mut args: Vec<OsString> = vec!["build".into(), "--config".into()];
    args.push(fixtures().join(manifest).into());
    args.extend(extra.split_whitespace().map(OsString::from));
    parse(args).map_err(|e| e.to_string())
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
    assert!(
        e.contains("'--kver <VERSION>' cannot be used multiple times"),
        "{e}"
    );
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
        ("bad-unquoted.toml", 3, "string values must be quoted"),
        ("bad-table.toml", 2, "tables are not used"),
        ("bad-duplicate.toml", 3, "duplicate key"),
        ("bad-unclosed-array.toml", 4, "unclosed array"),
        ("bad-type.toml", 3, "level: invalid type: string \"nine\""),
        (
            "bad-compress.toml",
            3,
            "compress: unknown compression \"zip\"",
        ),
        ("bad-two-on-a-line.toml", 1, "expected newline"),
        ("bad-garbage.toml", 1, "expected `=`"),
        (
            "bad-flag.toml",
            3,
            "dedup: invalid type: string \"yes\", expected a boolean",
        ),
    ];
    for (name, line, want) in cases {
        let e = build(name, "").expect_err(name);
        let at = format!("error: {}:{line}:", fixtures().join(name).display());
        assert!(e.starts_with(&at), "{name}: {e}");
        assert!(e.contains(want), "{name}: {e}");
        assert!(e.contains("Usage: mkimage build"), "{name}: {e}");
    }
}

#[test]
fn manifest_problems_outside_the_syntax() {
    let e = build("does-not-exist.toml", "").unwrap_err();
    assert!(e.contains("cannot read manifest"), "{e}");
    let e = build("good-minimal.toml", "--config x").unwrap_err();
    assert!(
        e.contains("'--config <FILE>' cannot be used multiple times"),
        "{e}"
    );
    // A manifest's values are checked like the command line's.
    let dir = std::env::temp_dir().join(format!("mkimage-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |text: &str| {
        let path = dir.join("m.toml");
        std::fs::write(&path, text).unwrap();
        parse(["build", "--config", path.to_str().unwrap()]).map_err(|e| e.to_string())
    };
    let e = write("init = \"i\"\noutput = \"o\"\nkver = \"../x\"\n").unwrap_err();
    assert!(
        e.contains("m.toml:3:8: kver: not a kernel version: \"../x\""),
        "{e}"
    );
    let e = write("output = \"o\"\n").unwrap_err();
    assert!(e.contains("missing --init"), "{e}");
    let e = write("init = \"\"\noutput = \"o\"\n").unwrap_err();
    assert!(e.contains("m.toml:1:8: init: empty value"), "{e}");
    let e = write("init = \"i\"\noutput = \"o\"\nconfig = \"other.toml\"\n").unwrap_err();
    assert!(e.contains("unknown key \"config\""), "{e}");
    let e = write("init = \"i\"\noutput = \"o\"\nwarn-file-size = \"lots\"\n").unwrap_err();
    assert!(
        e.contains("m.toml:3:18: warn-file-size: \"lots\" is not a size"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn err(text: &str) -> Located {
    parse_text(text).expect_err(text)
}

#[test]
fn values_of_every_kind() {
    let a = parse_text("init = 'C:\\raw\\n'").unwrap();
    assert_eq!(a.init, Some(PathBuf::from("C:\\raw\\n")));
    let a = parse_text("init = \"t\\tq\\\"b\\\\\\u00e9\"").unwrap();
    assert_eq!(a.init, Some(PathBuf::from("t\tq\"b\\é")));
    let a = parse_text("top = 1_000\nlevel = 19\ndedup = false # off\nquiet = true").unwrap();
    assert_eq!((a.out.top, a.out.level), (Some(1000), Some(19)));
    assert!(!a.out.dedup && a.out.quiet);
    assert!(parse_text("rootfs = []").unwrap().rootfs.is_empty());
    let two = [PathBuf::from("x"), PathBuf::from("y")];
    assert_eq!(parse_text("rootfs = [\"x\", 'y']").unwrap().rootfs, two);
    let spread = "rootfs = [\n  \"x\", # first\n  # between\n  \"y\",\n]\n";
    assert_eq!(parse_text(spread).unwrap().rootfs, two);
    // A repeatable option may be given one string.
    assert_eq!(
        parse_text("rootfs = 'x'").unwrap().rootfs,
        [PathBuf::from("x")]
    );
    // Sizes are strings or integers.
    let a = parse_text("warn-image-size = 1024\nwarn-file-size = \"none\"").unwrap();
    assert_eq!(a.out.warn_image_size, Some(Limit::At(1024)));
    assert_eq!(a.out.warn_file_size, Some(Limit::Off));
}

#[test]
fn lines_are_counted_through_arrays_and_comments() {
    let text = "# head\n\nlevel = 1\nrootfs = [\n \"a\",\n \"b\",\n]\r\ntop = 'z'\n";
    let e = err(text);
    assert_eq!((e.line, e.column), (8, 7), "{e}");
    assert!(
        e.message.starts_with("top: invalid type: string \"z\""),
        "{e}"
    );
    assert_eq!(parse_text("").unwrap().rootfs, Vec::<PathBuf>::new());
    assert!(parse_text("  # only a comment").is_ok());
}

#[test]
fn garbage_is_refused_with_its_line() {
    let cases = [
        ("init = \"i\"\n[table]\n", 2, "tables are not used"),
        ("level = 1\n[init]\n", 2, "tables are not used"),
        ("level = 1\ntop = 2\nlevel = 3\n", 3, "duplicate key"),
        ("level 1", 1, "expected `=`"),
        ("level = ", 1, "string values must be quoted"),
        ("init = yes", 1, "string values must be quoted"),
        ("level = 1.5", 1, "level: invalid type: floating point"),
        ("level = -3", 1, "level: invalid value: integer `-3`"),
        ("level = 1979-05-27", 1, "level: invalid type"),
        ("init = \"open", 1, "invalid basic string"),
        ("init = \"\\q\"", 1, "escape"),
        ("\"level\" = \"x\"", 1, "level: invalid type: string"),
        ("a.b = 1", 1, "[a]: tables are not used"),
        ("= 1", 1, "keys cannot be empty"),
        (
            "rootfs = [1, 2]",
            1,
            "rootfs: needs a string or an array of strings",
        ),
        ("top = 1\nrootfs = [\"x\",\n\n", 2, "unclosed array"),
        ("init = \"bell\u{7}\"", 1, "invalid basic string"),
        ("level = 99999999999999999999", 1, "integer"),
        ("compres = 'zstd'", 1, "did you mean \"compress\"?"),
        (
            "dedup = 1",
            1,
            "dedup: invalid type: integer `1`, expected a boolean",
        ),
    ];
    for (text, line, want) in cases {
        let e = err(text);
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(want), "{text:?}: {e}");
    }
}

#[test]
fn every_option_of_build_but_config_is_a_key() {
    let keys = super::keys();
    assert!(keys.contains(&"init".to_string()) && keys.contains(&"warn-file-size".to_string()));
    assert!(!keys.contains(&"config".to_string()) && !keys.contains(&"help".to_string()));
    // Each key is known to serde too: a wrong value is a type error, never
    // "unknown field", whatever the key.
    for key in &keys {
        let e = err(&format!("{key} = {{}}\n"));
        assert!(e.message.contains("tables are not used"), "{key}: {e}");
        let e = err(&format!("{key} = 1979-05-27\n"));
        assert!(e.message.starts_with(&format!("{key}: ")), "{key}: {e}");
        assert!(!e.message.contains("unknown"), "{key}: {e}");
    }
}

#[test]
fn every_fixture_parses_or_fails_cleanly() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let result = parse_text(&text);
        if name.starts_with("good-") {
            assert!(result.is_ok(), "{name}: {result:?}");
        }
        if let Err(e) = result {
            assert!(
                e.line >= 1 && e.line <= text.lines().count().max(1),
                "{name}: {e}"
            );
        }
        seen += 1;
    }
    assert!(seen >= 10, "fixtures missing in {}", fixtures().display());
}

use clap::error::ErrorKind;

use super::*;
use crate::compress::kconfig::KernelRef;
use crate::compress::Method;

fn parse_line(line: &str) -> Result<Command, clap::Error> {
    parse(line.split_whitespace())
}

/// The message of a usage error, as printed.
fn error(line: &str) -> String {
    parse_line(line).expect_err(line).to_string()
}

#[test]
fn pack_with_all_options() {
    let cmd = parse_line("pack /tree -o out.img --compress=none --keep-owners").unwrap();
    let Command::Pack {
        dir,
        out,
        keep_owners,
    } = cmd
    else {
        panic!("not pack")
    };
    assert_eq!(dir, PathBuf::from("/tree"));
    assert_eq!(out.path, PathBuf::from("out.img"));
    assert_eq!(out.choice.method, Some(Method::None));
    assert!(keep_owners);
}

#[test]
fn attached_short_value_and_level() {
    let Command::Pack { out, .. } = parse_line("pack d -oimg --level 9").unwrap() else {
        panic!("not pack")
    };
    assert_eq!(out.path, PathBuf::from("img"));
    assert_eq!(out.choice.level, Some(9));
}

#[test]
fn build_collects_repeated_options() {
    let cmd = parse_line(
        "build --init /i --rootfs a --rootfs b --file /x:/etc/x --file c:d:/y \
         --mknod /dev/null:c:1:3:0666 --mknod dev/sda:b:8:0:660 --output o",
    )
    .unwrap();
    let Command::Build { spec, out } = cmd else {
        panic!("not build")
    };
    assert_eq!(spec.init, PathBuf::from("/i"));
    assert_eq!(spec.rootfs, [PathBuf::from("a"), PathBuf::from("b")]);
    assert_eq!(
        spec.files[0],
        (PathBuf::from("/x"), OsString::from("/etc/x"))
    );
    assert_eq!(spec.files[1], (PathBuf::from("c:d"), OsString::from("/y")));
    let null = &spec.nodes[0];
    assert_eq!(
        (null.block, null.major, null.minor, null.perm),
        (false, 1, 3, 0o666)
    );
    assert_eq!(spec.nodes[1].path, OsString::from("dev/sda"));
    assert!(spec.nodes[1].block);
    assert_eq!(out.choice, Choice::default());
    assert!(spec.bins.is_empty() && !spec.allow_missing);
}

#[test]
fn build_with_binaries_and_kernel() {
    let cmd = parse_line(
        "build --init /i -o o --bin bash --bin /usr/sbin/parted --allow-missing \
         --kver 6.1.0-13-amd64 --compress zstd --level 19",
    )
    .unwrap();
    let Command::Build { spec, out } = cmd else {
        panic!("not build")
    };
    assert_eq!(
        spec.bins,
        [OsString::from("bash"), OsString::from("/usr/sbin/parted")]
    );
    assert!(spec.allow_missing);
    let kernel = KernelRef::Version("6.1.0-13-amd64".into());
    assert_eq!(out.choice.kernel, Some(kernel));
    assert_eq!(out.choice.method, Some(Method::Zstd));
    assert_eq!(out.choice.level, Some(19));
    let Command::Pack { out, .. } = parse_line("pack d -o x --kernel-config /k").unwrap() else {
        panic!("not pack")
    };
    let kernel = KernelRef::Config(PathBuf::from("/k"));
    assert_eq!(out.choice.kernel, Some(kernel));
}

#[test]
fn helps_and_version() {
    let kind = |line: &str| parse_line(line).expect_err(line).kind();
    assert_eq!(kind("--help"), ErrorKind::DisplayHelp);
    assert_eq!(kind("-V"), ErrorKind::DisplayVersion);
    // No command: the help, as an error (exit status 2).
    let none = parse_line("").expect_err("no command");
    assert_eq!(
        none.kind(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    assert_eq!(none.exit_code(), 2);
    let help = |line: &str| parse_line(line).expect_err(line).render().to_string();
    assert!(help("help pack").contains("Usage: mkimage pack [OPTIONS] <DIR>"));
    assert!(help("build -h").contains("--init <FILE>"));
    assert!(help("build --help").contains("Manifest (--config FILE)"));
    assert!(help("list --help").contains("'(hardlink)'"));
    assert!(help("-V").contains(&format!("mkimage {}", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn usage_errors_say_what_is_wrong() {
    let cases = [
        ("frobnicate", "unrecognized subcommand 'frobnicate'"),
        ("pack dir", "missing -o FILE"),
        ("pack -o x", "<DIR>"),
        ("pack d -o x --bogus", "unexpected argument '--bogus'"),
        (
            "pack d -o x --dedupe",
            "a similar argument exists: '--dedup'",
        ),
        (
            "pack d -o x --compress zip",
            "invalid value 'zip' for '--compress",
        ),
        ("pack d -o x --level 12", "out of range"),
        ("pack d -o x --compress none --level 1", "does not apply"),
        ("pack d -o", "a value is required for '--output <FILE>'"),
        ("pack d e -o x", "unexpected argument 'e'"),
        (
            "pack d -o x --keep-owners=yes",
            "unexpected value 'yes' for '--keep-owners'",
        ),
        ("list a b", "unexpected argument 'b'"),
        ("build -o x", "missing --init"),
        ("build --init i -o x --file nocolon", "expected SRC:DST"),
        ("build --init i -o x --mknod a:x:1:2:600", "c or b"),
        ("build --init i -o x --mknod a:c:1:2:999", "octal"),
        ("build --init i -o x --mknod a:c:1:z:600", "number"),
        (
            "build --init i -o x --keep-owners",
            "unexpected argument '--keep-owners'",
        ),
        (
            "build --init i -o x --bin",
            "a value is required for '--bin",
        ),
        (
            "pack d -o x --allow-missing",
            "unexpected argument '--allow-missing'",
        ),
        ("pack d -o x --kver 1 --kernel-config c", "only one of"),
        (
            "pack d -o x --kver 1 --kver 2",
            "'--kver <VERSION>' cannot be used multiple times",
        ),
        (
            "build --init i -o x --modules some",
            "possible values: loaded, all, none",
        ),
        (
            "build --init i -o x --firmware most",
            "possible values: needed, all, none",
        ),
        ("build --init i -o x --module=", "empty name"),
        (
            "build --init i -o x --modules-dir a --modules-dir b",
            "cannot be used multiple times",
        ),
        (
            "pack d -o x --module ext4",
            "unexpected argument '--module'",
        ),
        (
            "pack d -o x --kver ../../etc/passwd",
            "not a kernel version",
        ),
        ("pack d -o x --compress lz4 --level 1", "does not apply"),
        ("pack d -o x --compress zstd --level 20", "out of range"),
    ];
    for (line, expected) in cases {
        let err = error(line);
        assert!(err.contains(expected), "{line}: {err}");
    }
    // Errors found after clap's own checks show the command's usage too.
    assert!(error("pack dir").contains("Usage: mkimage pack"));
    assert!(error("build -o x").contains("Usage: mkimage build"));
}

#[test]
fn values_given_twice_the_last_wins() {
    let Command::Pack { out, .. } =
        parse_line("pack d -o a -o b --level 1 --level 2 --quiet --quiet").unwrap()
    else {
        panic!("not pack")
    };
    assert_eq!(out.path, PathBuf::from("b"));
    assert_eq!(out.choice.level, Some(2));
    assert!(out.opts.quiet);
}

#[test]
fn build_takes_module_options() {
    let cmd = parse_line(
        "build --init i -o x --kver 6.1.0-13-amd64 --kernel-config /k/config \
         --module ext4 --module ./my.ko --modules loaded --modules-dir /m \
         --firmware all --firmware-dir /fw",
    )
    .unwrap();
    let Command::Build { spec, out } = cmd else {
        panic!("not build")
    };
    let m = &spec.modules;
    assert_eq!(m.kver.as_deref(), Some("6.1.0-13-amd64"));
    assert_eq!(m.names, [OsString::from("ext4"), OsString::from("./my.ko")]);
    assert_eq!(m.set, crate::kmod::ModuleSet::Loaded);
    assert_eq!(m.dir, Some(PathBuf::from("/m")));
    assert_eq!(m.firmware, crate::kmod::firmware::FirmwareSet::All);
    assert_eq!(m.firmware_dir, Some(PathBuf::from("/fw")));
    // The config file wins for the compression; the version names modules.
    assert_eq!(
        out.choice.kernel,
        Some(KernelRef::Config(PathBuf::from("/k/config")))
    );
    let Command::Build { spec, .. } = parse_line("build --init i -o x").unwrap() else {
        panic!("not build")
    };
    assert_eq!(spec.modules, crate::kmod::ModuleSpec::default());
    assert_eq!(
        spec.modules.firmware,
        crate::kmod::firmware::FirmwareSet::Needed
    );
}

#[test]
fn double_dash_ends_options() {
    let Command::Pack { dir, .. } = parse_line("pack -o x -- --odd-dir").unwrap() else {
        panic!("not pack")
    };
    assert_eq!(dir, PathBuf::from("--odd-dir"));
}

#[test]
fn extract_takes_image_and_dir() {
    let cmd = parse_line("extract img out").unwrap();
    let want = Command::Extract {
        image: "img".into(),
        dir: "out".into(),
    };
    assert_eq!(cmd, want);
    assert!(error("extract img").contains("<DIR>"));
    assert!(parse_line("extract a b c").is_err());
}

#[test]
fn write_options_of_build_and_pack() {
    let Command::Pack { out, .. } =
        parse_line("pack d -o i --dedup --append-to=old --quiet --json").unwrap()
    else {
        panic!("not pack")
    };
    assert!(out.opts.dedup && out.opts.quiet && out.opts.json);
    assert_eq!(out.opts.append_to, Some(PathBuf::from("old")));
    let e = error("pack d -o i --microcode fw");
    assert!(e.contains("--microcode"), "{e}");
    let e = error("build --init i -o o --microcode fw --append-to o");
    assert!(e.contains("first segment"), "{e}");
    let Command::Build { out, .. } = parse_line("build --init i -o o --microcode fw").unwrap()
    else {
        panic!("not build")
    };
    assert_eq!(out.opts.microcode, Some(PathBuf::from("fw")));
}

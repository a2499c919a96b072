use super::*;
use crate::compress::Method;
use crate::kconfig::KernelRef;

fn args(line: &str) -> Vec<OsString> {
    line.split_whitespace().map(OsString::from).collect()
}

fn parse_line(line: &str) -> Result<Command, UsageError> {
    parse(args(line))
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
    assert_eq!(parse_line("--help").unwrap(), Command::Help(MAIN_HELP));
    assert_eq!(parse_line("-V").unwrap(), Command::Version);
    assert_eq!(parse_line("help pack").unwrap(), Command::Help(PACK_HELP));
    assert_eq!(parse_line("build -h").unwrap(), Command::Help(BUILD_HELP));
    assert_eq!(parse_line("list --help").unwrap(), Command::Help(LIST_HELP));
}

#[test]
fn usage_errors_say_what_is_wrong() {
    let cases = [
        ("", "missing command"),
        ("frobnicate", "unknown command"),
        ("pack dir", "missing -o FILE"),
        ("pack -o x", "missing DIR"),
        ("pack d -o x --bogus", "unknown option --bogus"),
        ("pack d -o x --compress zip", "unknown compression"),
        ("pack d -o x --level 12", "out of range"),
        ("pack d -o x --compress none --level 1", "does not apply"),
        ("pack d -o", "-o needs a value"),
        ("pack d e -o x", "unexpected argument"),
        ("pack d -o x --keep-owners=yes", "unexpected value"),
        ("list a b", "unexpected argument"),
        ("build -o x", "missing --init"),
        ("build --init i -o x --file nocolon", "expected SRC:DST"),
        ("build --init i -o x --mknod a:x:1:2:600", "c or b"),
        ("build --init i -o x --mknod a:c:1:2:999", "octal"),
        ("build --init i -o x --mknod a:c:1:z:600", "number"),
        ("build --init i -o x --keep-owners", "not an option"),
        ("build --init i -o x --bin", "--bin needs a value"),
        ("pack d -o x --allow-missing", "not an option"),
        ("pack d -o x --kver 1 --kernel-config c", "only one of"),
        ("pack d -o x --kver 1 --kver 2", "--kver given twice"),
        ("build --init i -o x --modules some", "loaded, all or none"),
        ("build --init i -o x --firmware most", "needed, all or none"),
        ("build --init i -o x --module=", "empty name"),
        (
            "build --init i -o x --modules-dir a --modules-dir b",
            "given twice",
        ),
        ("pack d -o x --module ext4", "not an option"),
        (
            "pack d -o x --kver ../../etc/passwd",
            "not a kernel version",
        ),
        ("pack d -o x --compress lz4 --level 1", "does not apply"),
        ("pack d -o x --compress zstd --level 20", "out of range"),
    ];
    for (line, expected) in cases {
        let err = parse_line(line).expect_err(line);
        assert!(err.message.contains(expected), "{line}: {}", err.message);
    }
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
    assert_eq!(m.set, crate::modules::ModuleSet::Loaded);
    assert_eq!(m.dir, Some(PathBuf::from("/m")));
    assert_eq!(m.firmware, crate::firmware::FirmwareSet::All);
    assert_eq!(m.firmware_dir, Some(PathBuf::from("/fw")));
    // The config file wins for the compression; the version names modules.
    assert_eq!(
        out.choice.kernel,
        Some(KernelRef::Config(PathBuf::from("/k/config")))
    );
    let Command::Build { spec, .. } = parse_line("build --init i -o x").unwrap() else {
        panic!("not build")
    };
    assert_eq!(spec.modules, crate::modules::ModuleSpec::default());
    assert_eq!(spec.modules.firmware, crate::firmware::FirmwareSet::Needed);
}

#[test]
fn double_dash_ends_options() {
    let Command::Pack { dir, .. } = parse_line("pack -o x -- --odd-dir").unwrap() else {
        panic!("not pack")
    };
    assert_eq!(dir, PathBuf::from("--odd-dir"));
}

#[test]
fn every_option_is_in_some_help() {
    let all = [MAIN_HELP, BUILD_HELP, PACK_HELP, LIST_HELP].concat();
    for name in LONG {
        assert!(
            all.contains(&format!("--{name}")),
            "--{name} is not documented"
        );
    }
    assert!(BUILD_HELP.contains("--bin NAME|PATH") && BUILD_HELP.contains("--kver VERSION"));
    assert!(PACK_HELP.contains("--kernel-config FILE"));
}

#[test]
fn extract_takes_image_and_dir() {
    let cmd = parse_line("extract img out").unwrap();
    let want = Command::Extract {
        image: "img".into(),
        dir: "out".into(),
    };
    assert_eq!(cmd, want);
    assert!(parse_line("extract img")
        .unwrap_err()
        .message
        .contains("missing DIR"));
    assert!(parse_line("extract a b c").is_err());
    assert_eq!(
        parse_line("help extract").unwrap(),
        Command::Help(EXTRACT_HELP)
    );
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
    let e = parse_line("pack d -o i --microcode fw").unwrap_err();
    assert!(e.message.contains("--microcode"), "{}", e.message);
    let e = parse_line("build --init i -o o --microcode fw --append-to o").unwrap_err();
    assert!(e.message.contains("first segment"), "{}", e.message);
    let Command::Build { out, .. } = parse_line("build --init i -o o --microcode fw").unwrap()
    else {
        panic!("not build")
    };
    assert_eq!(out.opts.microcode, Some(PathBuf::from("fw")));
}

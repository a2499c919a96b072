use super::{fixture, good_index, TempDir, DIR};
use crate::modules::index::{IndexError, ModuleRef};
use crate::modules::parse::{parse_alias, parse_builtin, parse_dep, parse_softdep};
use crate::modules::{Config, Index};
use std::path::Path;

fn names(refs: &[ModuleRef]) -> Vec<&str> {
    refs.iter().map(|r| r.name.as_str()).collect()
}

#[test]
fn loads_the_real_index_slice() {
    let t = TempDir::with_good_index();
    let dir = t.path.join(DIR.trim_start_matches('/'));
    let i = Index::load(&dir).unwrap();
    assert!(i.problems.is_empty(), "{:?}", i.problems);
    assert_eq!(i.len(), 61);
    assert_eq!(
        i.path_of("virtio_blk").unwrap(),
        dir.join("kernel/drivers/block/virtio_blk.ko")
    );
    // depmod lists the dependency to load first last.
    assert_eq!(
        i.deps("virtio_blk").collect::<Vec<_>>(),
        ["virtio_ring", "virtio"]
    );
    assert_eq!(i.softdeps("ext4").unwrap().pre, ["crypto_crc32c"]);
    assert_eq!(
        i.softdeps("btrfs").unwrap().pre.len(),
        4,
        "several softdep lines add up"
    );
}

#[test]
fn resolves_names_aliases_and_builtins() {
    let i = good_index();
    assert_eq!(
        i.resolve("virtio-blk"),
        [ModuleRef {
            name: "virtio_blk".into(),
            builtin: false,
            via_alias: false
        }]
    );
    // What QEMU's sysfs shows.
    assert_eq!(
        names(&i.resolve("pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00")),
        ["virtio_pci"]
    );
    assert_eq!(
        names(&i.resolve("virtio:d00000002v00001AF4")),
        ["virtio_blk"]
    );
    assert_eq!(
        names(&i.resolve("virtio:d00000001v00001AF4")),
        ["virtio_net"]
    );
    assert_eq!(
        names(&i.resolve("pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01")),
        ["ahci"]
    );
    assert_eq!(names(&i.resolve("fs-ext4")), ["ext4"]);
    assert_eq!(
        names(&i.resolve("crypto-crc32c")),
        ["crc32c_generic", "crc32c_intel"]
    );
    let sha = i.resolve("crypto-sha256");
    assert_eq!(
        sha,
        [ModuleRef {
            name: "sha256_generic".into(),
            builtin: true,
            via_alias: true
        }]
    );
    assert_eq!(
        i.resolve("binfmt_script"),
        [ModuleRef {
            name: "binfmt_script".into(),
            builtin: true,
            via_alias: false
        }]
    );
    assert!(i
        .resolve("pci:v0000DEADd0000BEEFsv0sd0bc99sc00i00")
        .is_empty());
    assert!(i.resolve("no-such-thing").is_empty());
}

#[test]
fn a_name_beats_an_alias() {
    let mut i = good_index();
    i.add_alias("extra", "alias ext4 virtio_blk\n");
    assert_eq!(names(&i.resolve("ext4")), ["ext4"]);
    let c = Config::default();
    assert!(c.match_alias("ext4").is_empty());
}

#[test]
fn missing_dep_file_is_the_only_fatal_problem() {
    let t = TempDir::new();
    let err = Index::load(&t.path).unwrap_err();
    assert!(matches!(err, IndexError::MissingDep { .. }));
    assert!(
        err.to_string()
            .starts_with(&format!("{}/modules.dep: not found", t.path.display())),
        "{err}"
    );
    t.write("modules.dep", "kernel/a.ko:\n");
    let i = Index::load(&t.path).unwrap();
    assert_eq!(i.len(), 1);
    assert_eq!(
        i.problems.len(),
        1,
        "modules.alias is missing: {:?}",
        i.problems
    );
    assert!(i.problems[0]
        .to_string()
        .contains("modules.alias:0: cannot read"));
}

/// Every line of a garbled fixture is rejected and named.
fn each_line_rejected<T: std::fmt::Debug>(
    text: &str,
    parse: impl Fn(&str) -> (Vec<T>, Vec<crate::line_error::LineError>),
) {
    for (n, line) in text.lines().enumerate() {
        let (items, errors) = parse(line);
        assert!(
            items.is_empty(),
            "line {}: {line:?} accepted as {items:?}",
            n + 1
        );
        assert_eq!(errors.len(), 1, "line {}: {line:?}", n + 1);
        assert!(
            errors[0].to_string().starts_with("garbled:1: "),
            "{}",
            errors[0]
        );
    }
}

#[test]
fn garbled_files_lose_only_their_bad_lines() {
    each_line_rejected(fixture!("garbled.dep"), |l| parse_dep("garbled", l));
    each_line_rejected(fixture!("garbled.alias"), |l| parse_alias("garbled", l));
    each_line_rejected(fixture!("garbled.softdep"), |l| parse_softdep("garbled", l));
    each_line_rejected(fixture!("garbled.builtin"), |l| parse_builtin("garbled", l));
    let mut i = Index::empty(Path::new(DIR));
    let garbled = fixture!("garbled.dep");
    i.add_dep("modules.dep", &format!("{garbled}{}", super::GOOD_DEP));
    assert_eq!(i.len(), 61);
    assert_eq!(i.problems.len(), garbled.lines().count());
    assert_eq!(i.problems[0].line, 1);
}

#[test]
fn duplicate_and_dangling_dep_entries() {
    let mut i = Index::empty(Path::new("/m"));
    i.add_dep("modules.dep", "a.ko: b.ko\na.ko: c.ko\n");
    assert_eq!(i.problems.len(), 1);
    assert_eq!(
        i.problems[0].to_string(),
        "modules.dep:2: module a listed again; keeping the first entry"
    );
    assert_eq!(i.deps("a").collect::<Vec<_>>(), ["b"]);
    assert_eq!(
        i.path_of("b").unwrap(),
        Path::new("/m/b.ko"),
        "known from a's line"
    );
    let mut i = Index::empty(Path::new("/m"));
    i.add_dep("modules.dep", "/abs/x.ko:\n");
    assert_eq!(i.path_of("x").unwrap(), Path::new("/abs/x.ko"));
}

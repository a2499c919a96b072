use super::*;

fn names(tree: Tree) -> Vec<String> {
    tree.into_entries()
        .unwrap()
        .into_iter()
        .map(|(n, _)| String::from_utf8(n).unwrap())
        .collect()
}

#[test]
fn normalize_cleans_and_refuses_escapes() {
    assert_eq!(normalize(OsStr::new("/etc//./x")).unwrap(), b"etc/x");
    assert_eq!(normalize(OsStr::new("etc/x/")).unwrap(), b"etc/x");
    let err = normalize(OsStr::new("/etc/../../x")).unwrap_err();
    assert!(err.to_string().contains("/etc/../../x"), "{err}");
    assert!(matches!(err, TreeError::Escapes { .. }));
    assert!(matches!(
        normalize(OsStr::new("/./")).unwrap_err(),
        TreeError::Root { .. }
    ));
}

#[test]
fn ancestors_nearest_first() {
    let all: Vec<&[u8]> = ancestors(b"a/b/c").collect();
    assert_eq!(all, vec![&b"a/b"[..], &b"a"[..]]);
    assert_eq!(ancestors(b"top").count(), 0);
}

#[test]
fn parents_are_synthesized_and_sorted_first() {
    let mut t = Tree::default();
    t.insert(b"usr/lib/x".to_vec(), Entry::symlink(b"y"))
        .unwrap();
    t.insert(b"usr-old".to_vec(), Entry::dir(0o700)).unwrap();
    t.insert(b"a".to_vec(), Entry::dir(0o700)).unwrap();
    assert_eq!(names(t), ["a", "usr", "usr-old", "usr/lib", "usr/lib/x"]);
}

#[test]
fn synthesized_parents_are_0755_root() {
    let mut t = Tree::default();
    t.insert(b"d/f".to_vec(), Entry::symlink(b"y")).unwrap();
    let entries = t.into_entries().unwrap();
    assert_eq!(entries[0].1, Entry::dir(0o755));
}

#[test]
fn non_dir_parent_is_an_error() {
    let mut t = Tree::default();
    // A file, not a symlink: symlinks are followed (see below).
    t.insert(b"sbin".to_vec(), Entry::data(b"x".to_vec(), 0o644))
        .unwrap();
    t.insert(b"sbin/reboot".to_vec(), Entry::symlink(b"/init"))
        .unwrap();
    let err = t.into_entries().unwrap_err();
    assert!(err.to_string().contains("/sbin/reboot"), "{err}");
}

#[test]
fn non_dir_replacing_dir_drops_children_only() {
    let mut t = Tree::default();
    for name in ["x/a", "x/b/c", "x-y", "x0"] {
        t.insert(name.as_bytes().to_vec(), Entry::symlink(b"t"))
            .unwrap();
    }
    t.insert(b"x".to_vec(), Entry::dir(0o755)).unwrap();
    t.insert(b"x/b".to_vec(), Entry::dir(0o755)).unwrap();
    t.insert(b"x".to_vec(), Entry::symlink(b"elsewhere"))
        .unwrap();
    assert_eq!(names(t), ["x", "x-y", "x0"]);
}

#[test]
fn dir_over_dir_keeps_children_and_takes_new_mode() {
    let mut t = Tree::default();
    t.insert(b"d".to_vec(), Entry::dir(0o755)).unwrap();
    t.insert(b"d/f".to_vec(), Entry::symlink(b"t")).unwrap();
    t.insert(b"d".to_vec(), Entry::dir(0o700)).unwrap();
    assert_eq!(t.get(b"d").map(|e| e.perm), Some(0o700));
    assert_eq!(names(t), ["d", "d/f"]);
}

#[test]
fn insert_default_does_not_replace() {
    let mut t = Tree::default();
    t.insert(b"tmp".to_vec(), Entry::symlink(b"var/tmp"))
        .unwrap();
    t.insert_default(b"tmp", Entry::dir(0o1777)).unwrap();
    assert!(!t.get(b"tmp").unwrap().is_dir());
}

#[test]
fn name_limit_is_the_kernels() {
    let mut t = Tree::default();
    let ok = vec![b'a'; MAX_NAME];
    t.insert(ok, Entry::dir(0o755)).unwrap();
    let long = vec![b'a'; MAX_NAME + 1];
    let err = t.insert(long, Entry::dir(0o755)).unwrap_err();
    assert!(err.to_string().contains("4096 bytes long"), "{err}");
}

#[test]
fn modes_carry_type_bits() {
    assert_eq!(Entry::dir(0o755).mode(), 0o40755);
    assert_eq!(Entry::char_dev(5, 1, 0o600).mode(), 0o20600);
    assert_eq!(Entry::symlink(b"x").mode(), 0o120777);
    assert_eq!(Entry::dir(0o41777).perm, 0o1777);
}

#[test]
fn has_dir_sees_implicit_parents() {
    let mut t = Tree::default();
    t.insert(b"sbin/reboot".to_vec(), Entry::symlink(b"/init"))
        .unwrap();
    t.insert(b"etc".to_vec(), Entry::dir(0o755)).unwrap();
    t.insert(b"lib".to_vec(), Entry::symlink(b"usr/lib"))
        .unwrap();
    assert!(t.has_dir(b"sbin") && t.has_dir(b"etc"));
    assert!(!t.has_dir(b"lib") && !t.has_dir(b"sbin/reboot") && !t.has_dir(b"sbi"));
}

#[test]
fn entries_go_through_the_symlinks_of_their_parents() {
    let mut t = Tree::default();
    t.insert(b"sbin".to_vec(), Entry::symlink(b"usr/sbin"))
        .unwrap();
    t.insert(b"lib".to_vec(), Entry::symlink(b"/usr/lib"))
        .unwrap();
    t.insert(b"usr/lib64".to_vec(), Entry::symlink(b"../lib"))
        .unwrap();
    t.insert(b"lib64".to_vec(), Entry::symlink(b"usr/lib64"))
        .unwrap();
    t.insert(b"sbin/halt".to_vec(), Entry::symlink(b"/init"))
        .unwrap();
    t.insert(b"lib64/ld.so".to_vec(), Entry::data(b"x".to_vec(), 0o755))
        .unwrap();
    // A directory does not replace a symlink that leads to one.
    t.insert(b"sbin".to_vec(), Entry::dir(0o755)).unwrap();
    assert!(t.get(b"sbin/halt").is_some());
    let names: Vec<Vec<u8>> = t.into_entries().unwrap().into_iter().map(|e| e.0).collect();
    let names: Vec<&str> = names
        .iter()
        .map(|n| std::str::from_utf8(n).unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "lib",
            "lib64",
            "sbin",
            "usr",
            "usr/lib",
            "usr/lib/ld.so",
            "usr/lib64",
            "usr/sbin",
            "usr/sbin/halt"
        ]
    );
}

#[test]
fn a_symlink_loop_is_left_alone() {
    let mut t = Tree::default();
    t.insert(b"a".to_vec(), Entry::symlink(b"b")).unwrap();
    t.insert(b"b".to_vec(), Entry::symlink(b"a")).unwrap();
    assert_eq!(t.resolve(b"a/x", false), b"a/x");
    t.insert(b"a/x".to_vec(), Entry::dir(0o755)).unwrap();
    assert!(matches!(
        t.into_entries(),
        Err(TreeError::ParentNotDir { .. })
    ));
}

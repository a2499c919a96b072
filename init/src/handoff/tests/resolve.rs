use super::TempRoot;
use crate::handoff::resolve::{resolve_in_root, ResolveErrorKind as K, MAX_SYMLINK_HOPS};

fn tree() -> TempRoot {
    let t = TempRoot::new();
    t.file("/boot/vmlinuz-6.1.0-13-amd64", "k")
        .file("/boot/versions/6.0/vmlinuz", "old")
        .dir("/boot/versions/6.1");
    t
}

#[test]
fn plain_paths() {
    let t = tree();
    let want = t.host("/boot/vmlinuz-6.1.0-13-amd64");
    for p in [
        "/boot/vmlinuz-6.1.0-13-amd64",
        "boot/vmlinuz-6.1.0-13-amd64",
        "//boot/./vmlinuz-6.1.0-13-amd64",
        "/boot/../boot/vmlinuz-6.1.0-13-amd64",
    ] {
        assert_eq!(resolve_in_root(&t.path, p).unwrap(), want, "{p}");
    }
    assert_eq!(resolve_in_root(&t.path, "/").unwrap(), t.path);
    assert_eq!(resolve_in_root(&t.path, "/boot/").unwrap(), t.host("/boot"));
}

#[test]
fn relative_and_absolute_links_stay_inside_root() {
    let t = tree();
    t.link("/vmlinuz", "boot/vmlinuz-6.1.0-13-amd64")
        .link("/boot/vmlinuz", "/boot/vmlinuz-6.1.0-13-amd64");
    let want = t.host("/boot/vmlinuz-6.1.0-13-amd64");
    assert_eq!(resolve_in_root(&t.path, "/vmlinuz").unwrap(), want);
    assert_eq!(resolve_in_root(&t.path, "/boot/vmlinuz").unwrap(), want);
    // A link to a host path means that path inside ROOT, as in a chroot.
    t.link(
        "/boot/hosty",
        &t.host("/boot/vmlinuz-6.1.0-13-amd64").display().to_string(),
    );
    let e = resolve_in_root(&t.path, "/boot/hosty").unwrap_err();
    assert!(matches!(e.kind, K::NotFound { .. }), "{e}");
}

#[test]
fn link_chains_and_directory_links() {
    let t = tree();
    t.link("/a", "/b")
        .link("/b", "boot/c")
        .link("/boot/c", "vmlinuz-6.1.0-13-amd64");
    assert_eq!(
        resolve_in_root(&t.path, "/a").unwrap(),
        t.host("/boot/vmlinuz-6.1.0-13-amd64")
    );
    // `..` after a directory link goes to the link target's parent.
    t.link("/boot/current", "versions/6.1");
    assert_eq!(
        resolve_in_root(&t.path, "/boot/current/../6.0/vmlinuz").unwrap(),
        t.host("/boot/versions/6.0/vmlinuz")
    );
    t.link("/boot/up", "../boot/versions");
    assert_eq!(
        resolve_in_root(&t.path, "/boot/up/6.0/vmlinuz").unwrap(),
        t.host("/boot/versions/6.0/vmlinuz")
    );
}

#[test]
fn dot_dot_above_root_is_refused() {
    let t = tree();
    for p in [
        "/..",
        "..",
        "../etc/passwd",
        "/boot/../../etc/passwd",
        "/boot/versions/../../..",
    ] {
        let e = resolve_in_root(&t.path, p).unwrap_err();
        assert!(matches!(e.kind, K::Escape { via: None }), "{p}: {e}");
        assert!(e.to_string().contains("\"..\" would leave ROOT"), "{e}");
    }
}

#[test]
fn links_pointing_out_are_refused() {
    let t = tree();
    t.link("/boot/evil", "../../../etc/passwd")
        .link("/boot/evil2", "/boot/../../etc");
    let e = resolve_in_root(&t.path, "/boot/evil").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e.kind, K::Escape { via: Some(_) }), "{msg}");
    let want = format!("\"/boot/evil\" inside {}: \"..\" would leave ROOT (via symlink /boot/evil -> ../../../etc/passwd)", t.path.display());
    assert_eq!(msg, want);
    assert!(matches!(
        resolve_in_root(&t.path, "/boot/evil2/passwd")
            .unwrap_err()
            .kind,
        K::Escape { .. }
    ));
}

#[test]
fn loops_and_hop_limit() {
    let t = tree();
    t.link("/a", "b").link("/b", "a").link("/self", "self");
    for p in ["/a", "/self", "/b/x"] {
        let e = resolve_in_root(&t.path, p).unwrap_err();
        assert!(matches!(e.kind, K::Loop { .. }), "{p}: {e}");
        assert!(e.to_string().contains("ELOOP"));
    }
    // A chain of exactly 40 links resolves; 41 do not.
    t.link("/l0", "boot/vmlinuz-6.1.0-13-amd64");
    for i in 1..=MAX_SYMLINK_HOPS {
        t.link(&format!("/l{i}"), &format!("l{}", i - 1));
    }
    assert!(resolve_in_root(&t.path, &format!("/l{}", MAX_SYMLINK_HOPS - 1)).is_ok());
    assert!(matches!(
        resolve_in_root(&t.path, &format!("/l{MAX_SYMLINK_HOPS}"))
            .unwrap_err()
            .kind,
        K::Loop { .. }
    ));
}

#[test]
fn missing_files_and_non_directories() {
    let t = tree();
    let e = resolve_in_root(&t.path, "/boot/nope").unwrap_err();
    assert!(
        matches!(&e.kind, K::NotFound { at, via: None } if at == "/boot/nope"),
        "{e}"
    );
    let e = resolve_in_root(&t.path, "/nope/deeper/x").unwrap_err();
    assert!(
        matches!(&e.kind, K::NotFound { at, .. } if at == "/nope"),
        "{e}"
    );
    t.link("/vmlinuz", "boot/vmlinuz-7");
    let e = resolve_in_root(&t.path, "/vmlinuz").unwrap_err();
    assert!(
        e.to_string()
            .ends_with("/boot/vmlinuz-7 does not exist (via symlink /vmlinuz -> boot/vmlinuz-7)"),
        "{e}"
    );
    let e = resolve_in_root(&t.path, "/boot/vmlinuz-6.1.0-13-amd64/x").unwrap_err();
    assert!(
        matches!(&e.kind, K::NotADirectory { at, .. } if at == "/boot/vmlinuz-6.1.0-13-amd64"),
        "{e}"
    );
    assert!(matches!(
        resolve_in_root(&t.path, "").unwrap_err().kind,
        K::Empty
    ));
}

#[test]
fn bad_roots() {
    let t = tree();
    let e = resolve_in_root(&t.host("/boot/vmlinuz-6.1.0-13-amd64"), "/x").unwrap_err();
    assert!(matches!(e.kind, K::RootNotDir));
    let e = resolve_in_root(&t.host("/missing"), "/x").unwrap_err();
    assert!(matches!(e.kind, K::Root(_)));
    assert!(e.to_string().contains("cannot access ROOT"));
}

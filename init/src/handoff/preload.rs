//! Loading the kernel before the reboot is asked for (`rescue-init
//! handoff load`, which the ReaR kit runs at the end of `rear recover`):
//! loading hashes the whole kernel and initrd, seconds on the critical
//! path of the reboot otherwise. What was loaded is remembered as a
//! fingerprint of the plan — the kernel's and initrd's device, inode,
//! size and modification time, and the command line — and the reboot only
//! skips the load when the plan it makes then has the same fingerprint
//! and a kernel is still loaded; otherwise it loads again.

use super::KexecPlan;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The fingerprint of what is loaded.
pub const LOADED_PATH: &str = "/run/rescue-init/handoff.loaded";

/// One line per file and the command line; an unreadable file gives no
/// fingerprint (and so never a match).
pub fn fingerprint(k: &KexecPlan) -> Option<String> {
    let id = |what: &str, p: &Path| {
        std::fs::metadata(p).ok().map(|m| {
            format!(
                "{what} {} {} {} {} {}.{}\n",
                p.display(),
                m.dev(),
                m.ino(),
                m.size(),
                m.mtime(),
                m.mtime_nsec()
            )
        })
    };
    let mut out = id("kernel", &k.kernel.0)?;
    if let Some((p, _)) = &k.initrd {
        out.push_str(&id("initrd", p)?);
    }
    out.push_str(&format!("cmdline {:?}\n", k.cmdline.0));
    Some(out)
}

/// After a load: remember what was loaded.
pub fn remember(k: &KexecPlan) {
    match fingerprint(k) {
        Some(f) => {
            let _ = std::fs::create_dir_all("/run/rescue-init");
            if let Err(e) = std::fs::write(LOADED_PATH, f) {
                crate::warn!("handoff: cannot write {LOADED_PATH}: {e}");
            }
        }
        None => forget(),
    }
}

/// Whatever is loaded now is not known to be the plan's kernel.
pub fn forget() {
    let _ = std::fs::remove_file(LOADED_PATH);
}

/// The plan's kernel is loaded already and nothing it consists of changed.
pub fn still_loaded(k: &KexecPlan) -> bool {
    let Ok(was) = std::fs::read_to_string(LOADED_PATH) else {
        return false;
    };
    crate::kexec::loaded() && fingerprint(k).is_some_and(|now| now == was)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handoff::source::Source;

    fn plan(dir: &Path, cmdline: &str) -> KexecPlan {
        KexecPlan {
            root: (dir.to_path_buf(), Source::Default),
            kernel: (dir.join("vmlinuz"), Source::Default),
            initrd: Some((dir.join("initrd"), Source::Default)),
            cmdline: (cmdline.into(), Source::Default),
        }
    }

    #[test]
    fn the_fingerprint_changes_with_the_files_and_the_command_line() {
        let dir = std::env::temp_dir().join(format!("rescue-init-preload-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("vmlinuz"), b"kernel").unwrap();
        std::fs::write(dir.join("initrd"), b"initrd").unwrap();
        let a = fingerprint(&plan(&dir, "ro")).unwrap();
        assert_eq!(fingerprint(&plan(&dir, "ro")).unwrap(), a, "the same plan");
        assert_ne!(
            fingerprint(&plan(&dir, "ro quiet")).unwrap(),
            a,
            "another command line"
        );
        std::fs::write(dir.join("initrd"), b"another initrd").unwrap();
        assert_ne!(
            fingerprint(&plan(&dir, "ro")).unwrap(),
            a,
            "the initrd was rewritten"
        );
        // A replaced file is another inode even with the same size.
        std::fs::remove_file(dir.join("vmlinuz")).unwrap();
        std::fs::write(dir.join("vmlinuz.new"), b"kernel").unwrap();
        let b = fingerprint(&plan(&dir, "ro"));
        assert!(b.is_none(), "a missing kernel gives no fingerprint");
        std::fs::rename(dir.join("vmlinuz.new"), dir.join("vmlinuz")).unwrap();
        assert_ne!(fingerprint(&plan(&dir, "ro")), Some(a));

        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Honest skips. A test that cannot run here (not root, a tool missing)
//! says so on stderr as `SKIPPED: <reason>`; under CI (the environment
//! variable `CI` set, as CI systems and `.ci/run` do) it fails instead, so
//! CI can never be green by skipping. Every test of the workspace that can
//! skip goes through [`skip`] (the mkimage and rescue-init crates take this
//! crate as a dev-dependency for it).

use std::fmt::Display;

/// The environment variable that turns a skip into a failure.
pub const CI_ENV: &str = "CI";

/// Whether we run under CI: `CI` set to anything but empty, `0` or `false`.
pub fn under_ci() -> bool {
    ci_value(std::env::var(CI_ENV).ok().as_deref())
}

fn ci_value(v: Option<&str>) -> bool {
    !matches!(v.map(str::trim), None | Some("" | "0" | "false"))
}

/// The calling test cannot run here because of `reason`: prints
/// `SKIPPED: <reason>` and returns true, so that the caller returns; under
/// CI it panics, failing the test.
///
/// ```no_run
/// if !rescue_tests::is_root() && rescue_tests::skip("needs root (chroot)") {
///     return;
/// }
/// ```
#[track_caller]
pub fn skip(reason: impl Display) -> bool {
    skip_with(under_ci(), &reason.to_string())
}

/// [`skip`] when `why` is `Some`; false (run the test) when it is `None`.
#[track_caller]
pub fn skip_if(why: Option<impl Display>) -> bool {
    why.is_some_and(skip)
}

#[track_caller]
fn skip_with(ci: bool, reason: &str) -> bool {
    if ci {
        panic!("cannot run: {reason} (this would be a skip, but {CI_ENV} is set: under CI a skip is a failure)");
    }
    eprintln!("SKIPPED: {reason}");
    true
}

/// Whether this process runs as root (many tests need it).
pub fn is_root() -> bool {
    // The effective uid (the second field of the Uid: line, as `id -u`
    // prints it); no libc crate needed.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("Uid:")
                    .map(|u| u.split_whitespace().nth(1) == Some("0"))
            })
        })
        .unwrap_or(false)
}

/// Whether `program` is on PATH (as `command -v` finds it).
pub fn have(program: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", "command -v \"$1\" >/dev/null", "sh", program])
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_values() {
        for (v, ci) in [
            (None, false),
            (Some(""), false),
            (Some("0"), false),
            (Some("false"), false),
            (Some("true"), true),
            (Some("1"), true),
        ] {
            assert_eq!(ci_value(v), ci, "CI={v:?}");
        }
    }

    #[test]
    fn a_skip_returns_true_outside_ci() {
        assert!(skip_with(false, "testing the skip helper"));
        assert!(!skip_if(None::<&str>));
    }

    #[test]
    #[should_panic(expected = "under CI a skip is a failure")]
    fn a_skip_fails_under_ci() {
        skip_with(true, "testing the skip helper");
    }

    #[test]
    fn have_finds_sh_and_not_nonsense() {
        assert!(have("sh"));
        assert!(!have("no-such-program-rescue-init-test"));
    }
}

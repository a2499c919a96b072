//! ReaR mode: when the image is a Relax-and-Recover rescue tree (it holds
//! `/etc/scripts/boot` and `/etc/scripts/system-setup`), rescue-init boots
//! it the way ReaR's own SysV inittab describes: the bootwait scripts one
//! after another on the console (system-setup reads the kernel command
//! line for `auto_recover`/`unattended` and may run `rear recover`), then
//! ReaR's login on every console. Its respawn daemons (syslog, sshd) start
//! with system-setup, as ReaR's systemd units start them, so that sshd is
//! reachable while an unattended `rear recover` runs. ReaR's shutdown
//! entries (`do-shutdown`: killall5, `umount -av`, reboot -f) are not run:
//! rescue-init's own shutdown replaces them, including the kexec handoff.

pub mod inittab;

use crate::spawn::is_executable;
use inittab::{Action, Entry};
use std::path::Path;

pub const BOOT_SCRIPT: &str = "etc/scripts/boot";
pub const SETUP_SCRIPT: &str = "etc/scripts/system-setup";
pub const INITTAB: &str = "etc/inittab";
/// ReaR's login: asks for the root password when one was set at mkrescue
/// time, then execs a bash login shell.
pub const LOGIN: &str = "bin/login";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// `PROGRAM (inittab:LINE id)` for the log.
    pub name: String,
    pub argv: Vec<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Run one after another on the console, each to its end.
    pub steps: Vec<Vec<String>>,
    /// Respawned from the start of step `services_at` on.
    pub services: Vec<Service>,
    /// The step the daemons start with: the one running system-setup
    /// (ReaR's systemd units run sshd alongside it), else after the last.
    pub services_at: usize,
    /// ReaR's login program for the consoles, when the image has one.
    pub login: Option<String>,
    /// What was read, skipped or replaced, for the log.
    pub notes: Vec<String>,
}

/// The plan for the image rooted at `root` ("/" as PID 1), or `None` when
/// the image is not a ReaR rescue tree.
pub fn detect(root: &Path) -> Option<Plan> {
    if !is_executable(&root.join(BOOT_SCRIPT)) || !is_executable(&root.join(SETUP_SCRIPT)) {
        return None;
    }
    let mut plan = Plan::default();
    match std::fs::read_to_string(root.join(INITTAB)) {
        Ok(text) => from_inittab(&format!("/{INITTAB}"), &text, &mut plan),
        Err(e) => plan.notes.push(format!(
            "/{INITTAB}: {e}; running ReaR's boot and system-setup scripts"
        )),
    }
    if plan.steps.is_empty() {
        plan.steps = vec![
            vec![format!("/{BOOT_SCRIPT}")],
            vec![format!("/{SETUP_SCRIPT}")],
        ];
    }
    let setup = format!("/{SETUP_SCRIPT}");
    plan.services_at = plan
        .steps
        .iter()
        .position(|s| s.iter().any(|w| w.contains(&setup)))
        .unwrap_or(plan.steps.len());
    if is_executable(&root.join(LOGIN)) {
        plan.login = Some(format!("/{LOGIN}"));
    }
    Some(plan)
}

fn from_inittab(file: &str, text: &str, plan: &mut Plan) {
    let (tab, errors) = inittab::parse(file, text);
    plan.notes
        .extend(errors.iter().map(|e| format!("{e} (line ignored)")));
    if !errors.is_empty() {
        // A typo must not cost the boot its setup: the two scripts run.
        plan.notes.push(format!(
            "{file} has errors; running ReaR's boot and system-setup scripts"
        ));
    }
    let level = tab.default_level.unwrap_or('3');
    // SysV order: sysinit, then boot/bootwait, then the default level's
    // wait/once entries.
    let sysinit = tab.entries.iter().filter(|e| e.action == Action::Sysinit);
    let boot = tab
        .entries
        .iter()
        .filter(|e| matches!(e.action, Action::Boot | Action::Bootwait));
    let level_steps = tab
        .in_level(level)
        .filter(|e| matches!(e.action, Action::Wait | Action::Once));
    if errors.is_empty() {
        plan.steps = sysinit
            .chain(boot)
            .chain(level_steps)
            .map(|e| argv(&e.process))
            .collect();
    }
    for e in tab.in_level(level).filter(|e| e.action == Action::Respawn) {
        if is_getty(e) {
            plan.notes.push(format!(
                "{file}:{} {}: a getty; the consoles get ReaR's login instead",
                e.line, e.id
            ));
        } else {
            let argv = argv(&e.process);
            // The program first: the log and the timeline say what runs.
            let program = argv
                .first()
                .map_or("", |p| p.rsplit('/').next().unwrap_or(p));
            plan.services.push(Service {
                name: format!("{program} ({file}:{} {})", e.line, e.id),
                argv,
            });
        }
    }
    for e in tab.entries.iter().filter(|e| {
        e.action == Action::Wait && !e.runlevels.is_empty() && !e.runlevels.contains(level)
    }) {
        plan.notes.push(format!(
            "{file}:{} {} ({:?}): not run; rescue-init's shutdown replaces it",
            e.line, e.id, e.process
        ));
    }
}

fn is_getty(e: &Entry) -> bool {
    let prog = e.process.split_whitespace().next().unwrap_or("");
    Path::new(prog)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("getty"))
}

/// SysV init's rule: a command with shell syntax goes through `sh -c`,
/// anything else is split on white space.
fn argv(process: &str) -> Vec<String> {
    if process.contains(|c: char| "~`!$^&*()=|\\{}[];\"'<>?".contains(c)) {
        vec!["/bin/sh".into(), "-c".into(), format!("exec {process}")]
    } else {
        process.split_whitespace().map(str::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn tree(name: &str, inittab: Option<&str>, login: bool) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("rescue-init-rear-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("etc/scripts")).unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        let mut files = vec![BOOT_SCRIPT, SETUP_SCRIPT];
        if login {
            files.push(LOGIN);
        }
        for f in files {
            std::fs::write(root.join(f), "#!/bin/bash\n").unwrap();
            std::fs::set_permissions(root.join(f), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        if let Some(t) = inittab {
            std::fs::write(root.join(INITTAB), t).unwrap();
        }
        root
    }

    #[test]
    fn rear_tree_gives_the_inittab_plan() {
        let root = tree("plan", Some(include_str!("fixtures/rear.inittab")), true);
        let plan = detect(&root).expect("a ReaR tree");
        assert_eq!(
            plan.steps,
            [
                vec!["/etc/scripts/boot".to_string()],
                vec!["/etc/scripts/system-setup".to_string()]
            ]
        );
        let names: Vec<_> = plan.services.iter().map(|s| s.argv.join(" ")).collect();
        assert_eq!(names, ["/etc/scripts/run-syslog", "/etc/scripts/run-sshd"]);
        assert_eq!(plan.services_at, 1, "the daemons start with system-setup");
        assert_eq!(plan.login.as_deref(), Some("/bin/login"));
        assert_eq!(plan.notes.iter().filter(|n| n.contains("getty")).count(), 5);
        assert!(
            plan.notes
                .iter()
                .any(|n| n.contains(":9 ha") && n.contains("shutdown replaces it")),
            "{:#?}",
            plan.notes
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn without_inittab_the_two_scripts_run() {
        let root = tree("noinittab", None, false);
        let plan = detect(&root).expect("a ReaR tree");
        assert_eq!(plan.steps.len(), 2);
        assert!(plan.services.is_empty() && plan.login.is_none());
        assert!(
            plan.notes[0].starts_with("/etc/inittab: "),
            "{:?}",
            plan.notes
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn garbled_inittab_is_reported_and_the_scripts_still_run() {
        let root = tree(
            "garbled",
            Some("bo::bootwait:/etc/scripts/boot\nss:bootwait:/etc/scripts/system-setup\n"),
            false,
        );
        let plan = detect(&root).expect("a ReaR tree");
        assert_eq!(plan.steps.len(), 2, "{:?}", plan.steps);
        assert!(
            plan.notes[0].starts_with("/etc/inittab:2: expected"),
            "{:?}",
            plan.notes
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn not_a_rear_tree() {
        let root = tree("plain", None, false);
        std::fs::remove_file(root.join(SETUP_SCRIPT)).unwrap();
        assert!(detect(&root).is_none());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn shell_syntax_goes_through_sh() {
        assert_eq!(argv("/sbin/x --a b"), ["/sbin/x", "--a", "b"]);
        assert_eq!(
            argv("/bin/x >/dev/null 2>&1"),
            ["/bin/sh", "-c", "exec /bin/x >/dev/null 2>&1"]
        );
    }
}

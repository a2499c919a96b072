//! `/etc/inittab` as SysV init reads it: `id:runlevels:action:process`.
//! ReaR's rescue tree describes its boot this way (bootwait entries for its
//! setup scripts, respawn entries for gettys and daemons), so ReaR mode
//! takes the plan from here instead of hard-coding ReaR's file names.

use crate::line_error::LineError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Sysinit,
    Boot,
    Bootwait,
    Once,
    Wait,
    Respawn,
    Off,
    Initdefault,
    /// ctrlaltdel, powerfail…: events rescue-init handles itself.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub id: String,
    pub runlevels: String,
    pub action: Action,
    /// The command as written (without SysV's leading `+`).
    pub process: String,
}

#[derive(Debug, Default)]
pub struct Inittab {
    pub entries: Vec<Entry>,
    /// The `initdefault` runlevel (SysV's default without one: 3 here,
    /// ReaR's multi-user level).
    pub default_level: Option<char>,
}

impl Inittab {
    /// Entries that apply in `level`: no runlevels listed means all.
    pub fn in_level(&self, level: char) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |e| e.runlevels.is_empty() || e.runlevels.contains(level))
    }
}

/// Parses the whole text; a bad line is an error naming it, and the good
/// lines are still returned so one typo does not lose the boot plan.
pub fn parse(file: &str, text: &str) -> (Inittab, Vec<LineError>) {
    let mut tab = Inittab::default();
    let mut errors = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(idx + 1, line) {
            Ok(e) if e.action == Action::Initdefault => match e.runlevels.chars().next() {
                Some(c) if e.runlevels.len() == 1 => tab.default_level = Some(c),
                _ => errors.push(LineError::new(
                    file,
                    idx + 1,
                    format!("initdefault needs one runlevel, got {:?}", e.runlevels),
                )),
            },
            Ok(e) => tab.entries.push(e),
            Err(msg) => errors.push(LineError::new(file, idx + 1, msg)),
        }
    }
    (tab, errors)
}

fn parse_line(line: usize, text: &str) -> Result<Entry, String> {
    let mut fields = text.splitn(4, ':');
    let (Some(id), Some(runlevels), Some(action), Some(process)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(format!(
            "expected id:runlevels:action:process, got {text:?}"
        ));
    };
    if id.is_empty() || id.len() > 4 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("bad id {id:?} (1 to 4 letters or digits)"));
    }
    if let Some(c) = runlevels
        .chars()
        .find(|c| !matches!(c, '0'..='9' | 'a'..='c' | 'A'..='C' | 's' | 'S'))
    {
        return Err(format!("bad runlevel {c:?} in {runlevels:?}"));
    }
    let action = parse_action(action)?;
    let process = process.trim().trim_start_matches('+').trim().to_string();
    if process.is_empty() && !matches!(action, Action::Initdefault | Action::Off) {
        return Err(format!("entry {id:?} has no process"));
    }
    Ok(Entry {
        line,
        id: id.to_string(),
        runlevels: runlevels.to_string(),
        action,
        process,
    })
}

fn parse_action(a: &str) -> Result<Action, String> {
    Ok(match a {
        "sysinit" => Action::Sysinit,
        "boot" => Action::Boot,
        "bootwait" => Action::Bootwait,
        "once" => Action::Once,
        "wait" => Action::Wait,
        "respawn" => Action::Respawn,
        "off" => Action::Off,
        "initdefault" => Action::Initdefault,
        "ondemand" | "powerwait" | "powerfail" | "powerokwait" | "powerfailnow" | "ctrlaltdel"
        | "kbrequest" => Action::Other,
        other => return Err(format!("unknown action {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAR: &str = include_str!("fixtures/rear.inittab");

    #[test]
    fn rear_inittab() {
        let (tab, errors) = parse("inittab", REAR);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(tab.default_level, Some('3'));
        let boot: Vec<_> = tab
            .entries
            .iter()
            .filter(|e| e.action == Action::Bootwait)
            .map(|e| e.process.as_str())
            .collect();
        assert_eq!(boot, ["/etc/scripts/boot", "/etc/scripts/system-setup"]);
        let respawn: Vec<_> = tab
            .in_level('3')
            .filter(|e| e.action == Action::Respawn)
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(respawn, ["sy", "t1", "t2", "t3", "t4", "t5", "ssh"]);
        let halt = tab.entries.iter().find(|e| e.id == "ha").expect("ha entry");
        assert_eq!(
            (halt.action, halt.runlevels.as_str(), halt.line),
            (Action::Wait, "0", 9)
        );
    }

    #[test]
    fn garbled_lines_name_file_and_line_and_keep_the_rest() {
        let (tab, errors) = parse("/etc/inittab", include_str!("fixtures/garbled.inittab"));
        let msgs: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(msgs.len(), 6, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("/etc/inittab:2: expected id:runlevels:action:process"),
            "{}",
            msgs[0]
        );
        assert!(msgs[1].starts_with("/etc/inittab:3: bad id"), "{}", msgs[1]);
        assert!(
            msgs[2].starts_with("/etc/inittab:4: bad runlevel 'x'"),
            "{}",
            msgs[2]
        );
        assert!(
            msgs[3].starts_with("/etc/inittab:5: unknown action \"sometimes\""),
            "{}",
            msgs[3]
        );
        assert!(
            msgs[4].starts_with("/etc/inittab:6: entry \"em\" has no process"),
            "{}",
            msgs[4]
        );
        assert!(
            msgs[5].starts_with("/etc/inittab:7: initdefault needs one runlevel"),
            "{}",
            msgs[5]
        );
        assert_eq!(tab.entries.len(), 2);
        assert_eq!(tab.entries[1].process, "/bin/echo a:b:c");
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::test_rng::Rng(0x1a17);
        for _ in 0..2000 {
            let len = rng.below(200);
            let bytes: Vec<u8> = (0..len)
                .map(|_| b"ab:3#\n +respawnwait/ \x00\xff"[rng.below(22)])
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let (tab, errors) = parse("fuzz", &text);
            assert!(tab.entries.len() + errors.len() <= text.lines().count());
        }
    }
}

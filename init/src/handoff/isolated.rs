//! PID 1 works out the plan and loads the kernel in a forked child
//! ([`crate::timed::capture`]): the plan reads the recovered system's
//! files, so a disk that stops answering, or a parser bug that panics or
//! runs out of memory, costs the child and never PID 1, which then takes
//! FALLBACK. The child answers with one decision ([`encode`]); the kernel
//! it loaded stays loaded, and the timeline it recorded went to the shared
//! file. FALLBACK comes from the handoff file itself, which is on the
//! rescue system's tmpfs and read with a size limit.

use super::execute::{self, Decision};
use super::Fallback;
use crate::events::Events;
use crate::signals::Request;
use std::path::Path;
use std::time::Duration;

/// Reading a kernel and an initrd of a few hundred MB and hashing them
/// takes seconds; a minute is a disk that does not answer.
const DEADLINE: Duration = Duration::from_secs(60);
/// The child's address space: enough for arm64's kexec_load, which holds
/// the whole kernel and initrd in memory, never all of the machine's.
const MIN_MEMORY: u64 = 1 << 30;

/// [`execute::decide`] in a child, within [`DEADLINE`].
pub fn decide(req: Request, handoff_file: &Path, recorded: &Path, events: &mut Events) -> Decision {
    if !matches!(req, Request::Reboot | Request::Kexec) {
        return Decision::Plain(req);
    }
    let fallback = super::read(handoff_file)
        .ok()
        .and_then(|f| f.fallback)
        .map_or(Fallback::Reboot, |v| v.value);
    let (file, rec) = (handoff_file.to_path_buf(), recorded.to_path_buf());
    let answer = crate::timed::capture(
        events,
        DEADLINE,
        Box::new(move || {
            // Named in `ps` and in the shutdown's messages if it sticks.
            let _ = rustix::thread::set_name(c"handoff-plan");
            limit_memory();
            encode(&execute::decide(req, &file, &rec))
        }),
    );
    match answer {
        Ok(text) => decode(&text).unwrap_or_else(|| {
            execute::fall_back(
                fallback,
                &format!("working out the plan failed (it answered {text:?})"),
            )
        }),
        Err(why) => execute::fall_back(
            fallback,
            &format!("working out the plan and loading the kernel: {why}"),
        ),
    }
}

fn limit_memory() {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| mem_total(&m))
        .unwrap_or(0);
    let limit = (total / 2).max(MIN_MEMORY);
    let lim = rustix::process::Rlimit {
        current: Some(limit),
        maximum: Some(limit),
    };
    if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::As, lim) {
        crate::warn!("handoff: cannot limit the plan's memory: {e}");
    }
}

/// MemTotal in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let kb = meminfo.lines().find_map(|l| {
        l.strip_prefix("MemTotal:")?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse::<u64>()
            .ok()
    })?;
    kb.checked_mul(1024)
}

/// `plain REQUEST`, `stay`, or `kexec FALLBACK` with the record's path on
/// the next line (empty when none was written).
fn encode(d: &Decision) -> String {
    match d {
        Decision::Plain(r) => format!("plain {r}"),
        Decision::Stay => "stay".into(),
        Decision::Kexec(f, record) => format!(
            "kexec {f}\n{}",
            record
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string())
        ),
    }
}

fn decode(text: &str) -> Option<Decision> {
    let (head, rest) = text.split_once('\n').unwrap_or((text, ""));
    let (word, arg) = head.split_once(' ').unwrap_or((head, ""));
    match (word, arg) {
        ("stay", "") => Some(Decision::Stay),
        ("plain", r) => {
            let req = [
                Request::Reboot,
                Request::Halt,
                Request::Poweroff,
                Request::Kexec,
                Request::FirmwareReboot,
            ];
            req.into_iter()
                .find(|q| q.to_string() == r)
                .map(Decision::Plain)
        }
        ("kexec", f) => {
            let f = [Fallback::Reboot, Fallback::Poweroff, Fallback::Shell]
                .into_iter()
                .find(|x| x.to_string() == f)?;
            let record = (!rest.is_empty()).then(|| rest.into());
            Some(Decision::Kexec(f, record))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn round_trip(d: Decision) -> Option<Decision> {
        decode(&encode(&d))
    }

    #[test]
    fn decisions_survive_the_pipe() {
        let record = PathBuf::from("/mnt/local/var/log/rescue-init-kexec.log");
        assert!(matches!(
            round_trip(Decision::Kexec(Fallback::Shell, Some(record.clone()))),
            Some(Decision::Kexec(Fallback::Shell, Some(p))) if p == record
        ));
        assert!(matches!(
            round_trip(Decision::Kexec(Fallback::Reboot, None)),
            Some(Decision::Kexec(Fallback::Reboot, None))
        ));
        assert!(matches!(round_trip(Decision::Stay), Some(Decision::Stay)));
        for r in [Request::Reboot, Request::Poweroff, Request::Halt] {
            assert!(matches!(round_trip(Decision::Plain(r)), Some(Decision::Plain(q)) if q == r));
        }
    }

    #[test]
    fn garbage_is_no_decision() {
        for text in [
            "",
            "kexec",
            "kexec sometimes\n",
            "plain nap",
            "stay put",
            "(the scan panicked)\n",
        ] {
            assert!(decode(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn memory_total() {
        assert_eq!(
            mem_total("MemTotal:  2048 kB\nMemFree: 1 kB\n"),
            Some(2 << 20)
        );
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
    }
}

//! A sync that cannot hang PID 1: sync(2) runs in a child while PID 1
//! watches Dirty + Writeback in /proc/meminfo; as long as that keeps
//! falling it waits, and when it stalls for too long it says so and goes on
//! (the child stays behind, stuck in the kernel, and is not waited for).

use crate::events::Events;
use crate::sys;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(50);

/// Returns true when the sync finished.
pub fn sync_bounded(events: &mut Events, stall: Duration) -> bool {
    let pid = match sys::fork_call(|| {
        rustix::fs::sync();
        0
    }) {
        Ok(pid) => pid,
        Err(e) => {
            crate::warn!("sync: fork failed ({e}); syncing in PID 1");
            rustix::fs::sync();
            return true;
        }
    };
    events.track(pid);
    let mut best = u64::MAX;
    let mut last_progress = Instant::now();
    loop {
        if events.take_exit(pid).is_some() {
            return true;
        }
        if let Some(kb) = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .as_deref()
            .and_then(dirty_kb)
        {
            if kb < best {
                best = kb;
                last_progress = Instant::now();
            }
        }
        if last_progress.elapsed() >= stall {
            crate::error!("sync: no progress for {:?} with {best} kB still dirty or under writeback; going on", stall);
            return false;
        }
        events.wait(Some(POLL));
    }
}

/// Dirty + Writeback in kB, from /proc/meminfo's text.
pub fn dirty_kb(meminfo: &str) -> Option<u64> {
    let field = |name: &str| {
        meminfo.lines().find_map(|l| {
            l.strip_prefix(name)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    Some(field("Dirty:")? + field("Writeback:")?)
}

#[cfg(test)]
mod tests {
    use super::dirty_kb;

    #[test]
    fn reads_dirty_and_writeback() {
        let text =
            "MemTotal:  100 kB\nDirty:     1234 kB\nWriteback:   16 kB\nWritebackTmp: 5 kB\n";
        assert_eq!(dirty_kb(text), Some(1250));
        assert_eq!(dirty_kb("Dirty: 1 kB\n"), None);
        assert_eq!(dirty_kb("Dirty: x kB\nWriteback: 0 kB\n"), None);
    }
}

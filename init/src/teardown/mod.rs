//! Step 5 of the shutdown: release filesystems, swap and block devices,
//! pass after pass, until a pass changes nothing. Each kind of thing is a
//! [`Target`] in a file of its own; a pass releases them in this order:
//!
//! 1. `swap.rs`: swapoff every active swap area (a swap file keeps its
//!    filesystem busy and read-write);
//! 2. `unmount.rs`: unmount newest first (MNT_FORCE for network
//!    filesystems);
//! 3. `loopdev.rs`: detach bound loop devices (the kernel sets autoclear
//!    on one still in use, which then goes by itself when its filesystem
//!    is unmounted); the filesystem holding a backing file can only go
//!    after this, hence the repeated passes;
//! 4. `dm.rs`: remove device-mapper devices (DM_DEV_REMOVE, `dmsetup
//!    remove`), those with nothing stacked on them first;
//! 5. `md.rs`: stop md arrays (`array_state` = clear, what `mdadm --stop`
//!    does). After dm: LVM on md, the common stacking, goes in one pass
//!    (md on dm, as md over LUKS, takes a second).
//!
//! What is there is read apart from the calls that release it:
//! `mounts.rs` decides over mountinfo, `swaps.rs` reads /proc/swaps,
//! `blockdev.rs` sysfs, `holders.rs` /proc; all are tested without root.
//!
//! Every operation runs in a child with a timeout (`timed`): one that does
//! not return (a dead NFS server, a stuck disk) is reported and never
//! retried, and the teardown goes on. The devices the rescue system's own
//! root lives on are left alone.
//!
//! When a pass changes nothing, a louder pass (`unmount.rs`) names every
//! process holding a file, cwd, root or mapping on what is still mounted,
//! then the last resorts: busy filesystems are remounted read-only, and
//! busy read-only leaf mounts are detached lazily (MNT_DETACH) so that
//! their parent can be unmounted. Detaching only read-only mounts is deliberate: their data is
//! already consistent on disk, so hiding them loses nothing, whereas a
//! lazily detached read-write filesystem would stay writable out of sight
//! with nobody left to remount it. If that changed something, passes go on.
//!
//! Unmounting comes before remounting read-only because a successful
//! unmount leaves the filesystem clean anyway; the remount is the fallback
//! for what stays busy.

mod blockdev;
mod dm;
mod holders;
mod loopdev;
mod md;
mod mounts;
mod swap;
mod swaps;

mod unmount;

use crate::events::Events;
use crate::timed::{self, Outcome};
use rustix::io::Errno;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

const MOUNTINFO: &str = "/proc/self/mountinfo";
const SYS: &str = "/sys";
/// Most system calls: unmount, remount, loop detach, md stop, dm remove.
const OP_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_PASSES: usize = 16;
/// No new pass starts after this long.
const BUDGET: Duration = Duration::from_secs(120);

/// One kind of thing the teardown releases.
trait Target {
    fn words(&self) -> &'static Words;
    /// What is left now; compared between passes, since a pass that
    /// released nothing itself may still have let the kernel release
    /// something (an autoclear loop device going with its filesystem).
    fn left(&self, cx: &Context) -> Left;
    /// Releases what can be released this pass; returns how many went.
    fn release(&mut self, cx: &mut Context) -> usize;
    /// When a whole pass changed nothing: the louder measures, with a
    /// count for each of them.
    fn when_stuck(&mut self, _cx: &mut Context) -> Vec<(&'static str, usize)> {
        Vec::new()
    }
    /// One message per thing still there at the end.
    fn report(&self, cx: &Context) -> Vec<String>;
}

/// How the pass line speaks of a target: what a release did, and what is
/// left (one, many).
#[derive(Debug, PartialEq, Eq)]
struct Words {
    done: &'static str,
    one: &'static str,
    many: &'static str,
}

/// What is left of one target.
#[derive(Debug, Default, PartialEq, Eq)]
struct Left {
    /// One key per thing (`loop0`; a mount's id and whether it is
    /// read-only, so that a remount counts as a change).
    items: Vec<String>,
    /// Said after the count: `2 mounts (1 read-write)`.
    detail: Option<String>,
}

impl Left {
    fn items(items: Vec<String>) -> Left {
        Left {
            items,
            detail: None,
        }
    }
}

/// What every target needs: the events (to wait for its children), the
/// calls that hung or failed for good, and what must not be touched.
struct Context<'e> {
    events: &'e mut Events,
    /// In a container the mounts belong to the host (see [`release_all`]).
    host_owned: bool,
    /// Operations that did not return in time ("umount /mnt/x"): never
    /// tried again, and named in what is left.
    hung: BTreeSet<String>,
    /// Operations that failed for a reason that will not change: logged
    /// once, not retried.
    failed: BTreeSet<String>,
    /// The devices under the rescue system's own root.
    protected: BTreeSet<String>,
    /// A mount point kept mounted this time (the one holding the handoff
    /// record, see [`release_all_but`]).
    hold: Option<String>,
}

impl<'e> Context<'e> {
    fn new(host_owned: bool, events: &'e mut Events) -> Self {
        let protected = if host_owned {
            BTreeSet::new()
        } else {
            mounts::read(MOUNTINFO)
                .map(|all| blockdev::protected(Path::new(SYS), &all))
                .unwrap_or_default()
        };
        if !protected.is_empty() {
            let list: Vec<&str> = protected.iter().map(String::as_str).collect();
            crate::info!(
                "teardown: the rescue system's root is on {}: left alone",
                list.join(", ")
            );
        }
        Context {
            events,
            host_owned,
            hung: BTreeSet::new(),
            failed: BTreeSet::new(),
            protected,
            hold: None,
        }
    }

    /// Runs `f` with `timeout` unless `key` hung or failed for good before.
    /// Returns None when skipped or timed out (which is logged here).
    fn op(
        &mut self,
        key: &str,
        timeout: Duration,
        f: impl FnOnce() -> Result<(), Errno> + 'static,
    ) -> Option<Outcome> {
        // One copy of the fork-and-wait for every call site (the init's
        // size is bounded): the closure goes behind a pointer.
        self.op_boxed(key, timeout, Box::new(f))
    }

    fn op_boxed(&mut self, key: &str, timeout: Duration, f: timed::Call) -> Option<Outcome> {
        if self.hung.contains(key) || self.failed.contains(key) {
            return None;
        }
        let t0 = crate::timeline::now_us();
        let outcome = timed::call(self.events, timeout, f);
        crate::timeline::since(t0, "teardown", key);
        match outcome {
            Outcome::TimedOut => {
                crate::error!(
                    "teardown: {key}: no answer after {timeout:?}; leaving it (the call stays stuck in the kernel)"
                );
                self.hung.insert(key.to_string());
                None
            }
            other => Some(other),
        }
    }

    /// Logs a failure that retrying will not fix, once.
    fn give_up(&mut self, key: &str, why: impl std::fmt::Display) {
        crate::warn!("teardown: {key}: {why}");
        self.failed.insert(key.to_string());
    }

    /// `; `key` hung` when the operation `key` hung, for the report.
    fn hung_note(&self, key: &str) -> String {
        if self.hung.contains(key) {
            format!("; `{key}` hung")
        } else {
            String::new()
        }
    }
}

/// Releases everything it can and returns one message per thing left
/// behind (a mount, swap area, loop, md or dm device, or a call that hung).
/// `remount_ro` is false in a container: the filesystems and devices belong
/// to the host, so mounts are only unmounted in our namespace, never
/// remounted or detached, and swap and block devices are not touched.
pub fn release_all(remount_ro: bool, events: &mut Events) -> Vec<String> {
    release(Context::new(!remount_ro, events))
}

/// As [`release_all`], but the filesystem that holds `file` stays mounted
/// (and so do the devices under it), so that it can still be written.
pub fn release_all_but(remount_ro: bool, events: &mut Events, file: &Path) -> Vec<String> {
    let mut cx = Context::new(!remount_ro, events);
    cx.hold = mounts::read(MOUNTINFO)
        .ok()
        .and_then(|all| mounts::holding(&all, file));
    if let Some(h) = &cx.hold {
        crate::info!(
            "teardown: {h} stays mounted until {} is written",
            file.display()
        );
    }
    release(cx)
}

/// How the report names a call that never returned.
pub(crate) const HUNG: &str = "hung in the kernel";

fn release(mut cx: Context) -> Vec<String> {
    let mut targets: Vec<Box<dyn Target>> = if cx.host_owned {
        vec![Box::new(unmount::Unmount::default())]
    } else {
        vec![
            Box::new(swap::Swap),
            Box::new(unmount::Unmount::default()),
            Box::new(loopdev::Loops::default()),
            Box::new(dm::Dm),
            Box::new(md::Md),
        ]
    };
    passes(&mut targets, &mut cx);
    let mut left: Vec<String> = targets.iter().flat_map(|t| t.report(&cx)).collect();
    // A call that hung may have taken its object out of sight (an unmount
    // that detached the mount, then stuck flushing a dead disk): it is
    // still named, since what it was writing may never reach the disk.
    for key in &cx.hung {
        if !left.iter().any(|m| m.contains(key.as_str())) {
            left.push(format!(
                "`{key}` {HUNG}: what it was writing may not have reached its disk or server"
            ));
        }
    }
    left
}

type Snapshot = Vec<(&'static Words, Left)>;

fn snapshot(targets: &[Box<dyn Target>], cx: &Context) -> Snapshot {
    targets.iter().map(|t| (t.words(), t.left(cx))).collect()
}

fn nothing_left(s: &Snapshot) -> bool {
    s.iter().all(|(_, left)| left.items.is_empty())
}

/// Passes until one changes nothing, everything is released, or the
/// pass count or time budget runs out.
fn passes(targets: &mut [Box<dyn Target>], cx: &mut Context) {
    let start = Instant::now();
    for pass in 1..=MAX_PASSES {
        let t0 = Instant::now();
        let pass_start = crate::timeline::now_us();
        let before = snapshot(targets, cx);
        if nothing_left(&before) {
            crate::info!("teardown: pass {pass}: nothing left to release");
            return;
        }
        let mut done: Vec<(&str, usize)> = targets
            .iter_mut()
            .map(|t| (t.words().done, t.release(cx)))
            .collect();
        let mut changed = done.iter().any(|(_, n)| *n > 0) || snapshot(targets, cx) != before;
        if !changed {
            for t in targets.iter_mut() {
                done.extend(t.when_stuck(cx));
            }
            changed = done.iter().any(|(_, n)| *n > 0);
        }
        let after = snapshot(targets, cx);
        crate::timeline::since(pass_start, "teardown", &format!("pass {pass}"));
        crate::info!(
            "teardown: pass {pass} ({} ms): {}; left: {}",
            t0.elapsed().as_millis(),
            describe_done(&done),
            describe_left(&after)
        );
        if !changed || nothing_left(&after) {
            return;
        }
        if start.elapsed() >= BUDGET {
            crate::warn!("teardown: still changing after {:?}; going on", BUDGET);
            return;
        }
    }
    crate::warn!("teardown: still changing after {MAX_PASSES} passes; going on");
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn describe_done(done: &[(&str, usize)]) -> String {
    let v: Vec<String> = done
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{what} {n}"))
        .collect();
    if v.is_empty() {
        "nothing changed".into()
    } else {
        v.join(", ")
    }
}

fn describe_left(s: &Snapshot) -> String {
    let mut out = String::new();
    for (words, left) in s.iter().filter(|(_, l)| !l.items.is_empty()) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(&plural(left.items.len(), words.one, words.many));
        if let Some(detail) = &left.detail {
            let _ = write!(out, " ({detail})");
        }
    }
    if out.is_empty() {
        "nothing".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWAP: Words = Words {
        done: "swap off",
        one: "swap",
        many: "swaps",
    };
    const MOUNT: Words = Words {
        done: "unmounted",
        one: "mount",
        many: "mounts",
    };
    const LOOP: Words = Words {
        done: "loop detached",
        one: "loop",
        many: "loops",
    };

    #[test]
    fn pass_lines() {
        let d = [("swap off", 1), ("unmounted", 2), ("loop detached", 0)];
        assert_eq!(describe_done(&d), "swap off 1, unmounted 2");
        assert_eq!(describe_done(&[("swap off", 0)]), "nothing changed");
        let mounts = Left {
            items: vec!["1 ro".into(), "2 rw".into()],
            detail: Some("1 read-write".into()),
        };
        let s: Snapshot = vec![
            (&SWAP, Left::default()),
            (&MOUNT, mounts),
            (&LOOP, Left::items(vec!["loop0".into()])),
        ];
        assert_eq!(describe_left(&s), "2 mounts (1 read-write), 1 loop");
        assert_eq!(describe_left(&Snapshot::default()), "nothing");
    }
}

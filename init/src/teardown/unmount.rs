//! Mounts: unmounted newest first (MNT_FORCE for network filesystems).
//! When a pass changes nothing, a louder pass names every process holding
//! a file, cwd, root or mapping on what is still mounted, then the last
//! resorts: busy filesystems are remounted read-only, and busy read-only
//! leaf mounts are detached lazily (MNT_DETACH) so that their parent can
//! be unmounted (see `mounts.rs` for which, and why only those).

use super::{holders, mounts, Context, Left, Target, Words, MOUNTINFO, OP_TIMEOUT};
use crate::mountinfo::MountInfo;
use crate::timed::{self, Outcome};
use rustix::io::Errno;
use rustix::mount::{mount_remount, unmount, MountFlags, UnmountFlags};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const PROC: &str = "/proc";
/// Naming the holders reads every process's /proc entries.
const SCAN_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(super) struct Unmount {
    /// Busy read-only mounts detached lazily.
    detached: Vec<MountInfo>,
    /// Mount ids whose holders were already named.
    named: BTreeSet<u32>,
}

fn all_mounts() -> Vec<MountInfo> {
    match mounts::read(MOUNTINFO) {
        Ok(all) => all,
        Err(e) => {
            crate::error!("teardown: {e}");
            Vec::new()
        }
    }
}

fn releasable(cx: &Context) -> Vec<MountInfo> {
    let mut rel = mounts::releasable(&all_mounts());
    if let Some(h) = &cx.hold {
        rel.retain(|m| m.mount_point != *h);
    }
    rel
}

impl Target for Unmount {
    fn words(&self) -> &'static Words {
        &Words {
            done: "unmounted",
            one: "mount",
            many: "mounts",
        }
    }

    fn left(&self, cx: &Context) -> Left {
        let rel = releasable(cx);
        let rw = rel.iter().filter(|m| !mounts::super_ro(m)).count();
        // A mount remounted read-only counts as a change.
        let items = rel
            .iter()
            .map(|m| format!("{} {}", m.id, if mounts::super_ro(m) { "ro" } else { "rw" }))
            .collect();
        Left {
            items,
            detail: Some(format!("{rw} read-write")),
        }
    }

    fn release(&mut self, cx: &mut Context) -> usize {
        let mut n = 0;
        for m in releasable(cx).iter().rev() {
            let key = format!("umount {}", m.mount_point);
            let flags = if mounts::network(m) {
                UnmountFlags::FORCE
            } else {
                UnmountFlags::empty()
            };
            let mp = m.mount_point.clone();
            match cx.op(&key, OP_TIMEOUT, move || unmount(mp.as_str(), flags)) {
                Some(Outcome::Done) => {
                    crate::info!("unmounted {}", mounts::describe(m));
                    n += 1;
                }
                Some(Outcome::Failed(Errno::BUSY)) => crate::debug!("{} busy", m.mount_point),
                // Gone already (with its parent, or by propagation) — unless
                // it is still listed: then the path led to another mount.
                Some(Outcome::Failed(e @ (Errno::INVAL | Errno::NOENT))) => {
                    if all_mounts().iter().any(|x| x.id == m.id) {
                        crate::warn!("unmount {}: {e}, yet it is still mounted (its path leads elsewhere: hidden under a later mount?)", mounts::describe(m));
                    }
                }
                Some(Outcome::Failed(e)) => crate::warn!("unmount {}: {e}", m.mount_point),
                Some(Outcome::Broken(why)) => crate::warn!("unmount {}: {why}", m.mount_point),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    /// Names the holders; then, unless the mounts belong to the host, the
    /// last resorts.
    fn when_stuck(&mut self, cx: &mut Context) -> Vec<(&'static str, usize)> {
        self.name_holders(cx);
        if cx.host_owned {
            return Vec::new();
        }
        vec![
            ("remounted read-only", remount_read_only(cx)),
            ("detached lazily", self.detach_lazily(cx)),
        ]
    }

    fn report(&self, cx: &Context) -> Vec<String> {
        let mut out = Vec::new();
        for m in releasable(cx) {
            let state = if mounts::super_ro(&m) {
                "read-only, its data is safe"
            } else {
                "READ-WRITE: recent writes may be lost"
            };
            let hung = cx.hung_note(&format!("umount {}", m.mount_point));
            out.push(format!(
                "{} is still mounted ({state}){hung}",
                mounts::describe(&m)
            ));
        }
        for m in &self.detached {
            out.push(format!(
                "{} was detached lazily while busy (read-only)",
                mounts::describe(m)
            ));
        }
        out
    }
}

impl Unmount {
    /// The louder pass: names the processes holding what is still mounted
    /// (each mount once), in a child so that a process stuck in the kernel
    /// cannot block the scan of its /proc entries.
    fn name_holders(&mut self, cx: &mut Context) {
        let rel = releasable(cx);
        let new: Vec<&MountInfo> = rel.iter().filter(|m| !self.named.contains(&m.id)).collect();
        if new.is_empty() {
            return;
        }
        let list: Vec<&str> = new.iter().map(|m| m.mount_point.as_str()).collect();
        let list = list.join(", ");
        crate::warn!("teardown: still busy: {list}");
        self.named.extend(new.iter().map(|m| m.id));
        let targets: Vec<holders::Target> = new.iter().map(|m| holders::Target::from(*m)).collect();
        match timed::capture(
            cx.events,
            SCAN_TIMEOUT,
            Box::new(move || holders::report(Path::new(PROC), &targets).join("\n")),
        ) {
            Ok(text) if text.trim().is_empty() => {
                let stuck = crate::procs::stuck_in_kernel();
                if stuck.is_empty() {
                    crate::warn!("teardown: no process holds a file, cwd or mapping on {list} (mounts on them, loop devices, swap or the kernel do)")
                } else {
                    crate::warn!("teardown: no process holds a file, cwd or mapping on {list}; stuck in the kernel (killed, waiting on I/O): {stuck}")
                }
            }
            Ok(text) => {
                for line in text.lines() {
                    crate::warn!("teardown: {line}");
                }
            }
            Err(e) => crate::warn!("teardown: cannot name the processes holding {list}: {e}"),
        }
    }

    /// Detaches busy read-only leaf mounts lazily so that their parents
    /// can be unmounted.
    fn detach_lazily(&mut self, cx: &mut Context) -> usize {
        let mut n = 0;
        let all = all_mounts();
        let rel = releasable(cx);
        for m in mounts::detachable(&rel, &all) {
            let key = format!("detach {}", m.mount_point);
            let mp = m.mount_point.clone();
            match cx.op(&key, OP_TIMEOUT, move || {
                unmount(mp.as_str(), UnmountFlags::DETACH)
            }) {
                Some(Outcome::Done) => {
                    crate::warn!(
                        "teardown: {} busy and read-only: detached lazily (its data is safe; it lives on out of sight until its last user goes)",
                        mounts::describe(m)
                    );
                    self.detached.push(m.clone());
                    n += 1;
                }
                Some(Outcome::Failed(e)) => cx.give_up(&key, e),
                Some(Outcome::Broken(why)) => cx.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }
}

/// Remounts read-only what stays busy.
fn remount_read_only(cx: &mut Context) -> usize {
    let mut n = 0;
    for m in releasable(cx).iter().rev().filter(|m| !mounts::super_ro(m)) {
        let key = format!("remount {} read-only", m.mount_point);
        let mp = m.mount_point.clone();
        match cx.op(&key, OP_TIMEOUT, move || {
            mount_remount(mp.as_str(), MountFlags::RDONLY, "")
        }) {
            Some(Outcome::Done) => {
                crate::info!("{} busy; remounted read-only", m.mount_point);
                n += 1;
            }
            // A file open for writing (or a swap file, a loop device)
            // on it: retried in a later pass if something changes.
            Some(Outcome::Failed(e)) => {
                crate::warn!(
                    "{} busy and cannot be remounted read-only: {e}",
                    m.mount_point
                )
            }
            Some(Outcome::Broken(why)) => cx.give_up(&key, why),
            Some(Outcome::TimedOut) | None => {}
        }
    }
    n
}

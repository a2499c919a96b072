//! Step 5 of the shutdown: release filesystems, swap and block devices,
//! pass after pass, until a pass changes nothing. A pass, in this order:
//!
//! 1. swapoff every active swap area (a swap file keeps its filesystem
//!    busy and read-write);
//! 2. unmount newest first (MNT_FORCE for network filesystems);
//! 3. detach bound loop devices (the kernel sets autoclear on one still in
//!    use, which then goes by itself when its filesystem is unmounted);
//!    the filesystem holding a backing file can only go after this, hence
//!    the repeated passes;
//! 4. stop md arrays (`array_state` = clear, what `mdadm --stop` does);
//! 5. remove device-mapper devices (DM_DEV_REMOVE, `dmsetup remove`),
//!    those with nothing stacked on them first.
//!
//! Every operation runs in a child with a timeout (`timed`): one that does
//! not return (a dead NFS server, a stuck disk) is reported and never
//! retried, and the teardown goes on. The devices the rescue system's own
//! root lives on are left alone.
//!
//! When a pass changes nothing, a louder pass names every process holding
//! a file, cwd, root or mapping on what is still mounted, then the last
//! resorts: busy filesystems are remounted read-only, and busy read-only
//! leaf mounts are detached lazily (MNT_DETACH) so that their parent can be
//! unmounted. Detaching only read-only mounts is deliberate: their data is
//! already consistent on disk, so hiding them loses nothing, whereas a
//! lazily detached read-write filesystem would stay writable out of sight
//! with nobody left to remount it. If that changed something, passes go on.
//!
//! Unmounting comes before remounting read-only because a successful
//! unmount leaves the filesystem clean anyway; the remount is the fallback
//! for what stays busy.

pub mod blockdev;
pub mod holders;
pub mod mounts;
pub mod swaps;
pub mod timed;

use crate::events::Events;
use crate::mountinfo::MountInfo;
use rustix::io::Errno;
use rustix::mount::{mount_remount, unmount, MountFlags, UnmountFlags};
use std::collections::BTreeSet;
use std::ffi::CString;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};
use timed::Outcome;

const MOUNTINFO: &str = "/proc/self/mountinfo";
const PROC_SWAPS: &str = "/proc/swaps";
const PROC: &str = "/proc";
const SYS: &str = "/sys";
const DM_CONTROL: &str = "/dev/mapper/control";

/// Most system calls: unmount, remount, loop detach, md stop, dm remove.
const OP_TIMEOUT: Duration = Duration::from_secs(5);
/// swapoff reads every swapped-out page back in: it gets longer.
const SWAPOFF_TIMEOUT: Duration = Duration::from_secs(30);
/// Naming the holders reads every process's /proc entries.
const SCAN_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_PASSES: usize = 16;
/// No new pass starts after this long.
const BUDGET: Duration = Duration::from_secs(120);

/// Releases everything it can and returns one message per thing left
/// behind (a mount, swap area, loop, md or dm device, or a call that hung).
/// `remount_ro` is false in a container: the filesystems and devices belong
/// to the host, so mounts are only unmounted in our namespace, never
/// remounted or detached, and swap and block devices are not touched.
pub fn release_all(remount_ro: bool, events: &mut Events) -> Vec<String> {
    let mut t = Teardown::new(!remount_ro, events);
    t.run();
    t.left()
}

struct Teardown<'e> {
    events: &'e mut Events,
    host_owned: bool,
    start: Instant,
    /// Operations that did not return in time ("umount /mnt/x"): never
    /// tried again, and named in what is left.
    hung: BTreeSet<String>,
    /// Operations that failed for a reason that will not change: logged
    /// once, not retried.
    failed: BTreeSet<String>,
    /// Busy read-only mounts detached lazily.
    detached: Vec<MountInfo>,
    /// Loop devices told to detach themselves on their last close.
    autoclear: BTreeSet<String>,
    /// Mount ids whose holders were already named.
    named: BTreeSet<u32>,
    /// The devices under the rescue system's own root.
    protected: BTreeSet<String>,
}

/// What one pass did.
#[derive(Default)]
struct Done {
    swapoff: usize,
    unmounted: usize,
    loops: usize,
    md: usize,
    dm: usize,
    remounted_ro: usize,
    detached: usize,
}

impl Done {
    fn any(&self) -> bool {
        self.swapoff + self.unmounted + self.loops + self.md + self.dm + self.remounted_ro + self.detached > 0
    }
}

/// What is left, compared between passes: a pass that released nothing
/// itself may still have let the kernel release something (an autoclear
/// loop device going with its filesystem).
#[derive(Debug, Default, PartialEq, Eq)]
struct Snapshot {
    mounts: Vec<(u32, bool)>,
    rw: usize,
    swaps: Vec<String>,
    loops: Vec<String>,
    md: Vec<String>,
    dm: Vec<String>,
}

impl Snapshot {
    fn is_empty(&self) -> bool {
        self.mounts.is_empty()
            && self.swaps.is_empty()
            && self.loops.is_empty()
            && self.md.is_empty()
            && self.dm.is_empty()
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl<'e> Teardown<'e> {
    fn new(host_owned: bool, events: &'e mut Events) -> Self {
        let protected = if host_owned {
            BTreeSet::new()
        } else {
            mounts::read(MOUNTINFO).map(|all| blockdev::protected(Path::new(SYS), &all)).unwrap_or_default()
        };
        if !protected.is_empty() {
            let list: Vec<&str> = protected.iter().map(String::as_str).collect();
            crate::info!("teardown: the rescue system's root is on {}: left alone", list.join(", "));
        }
        Teardown {
            events,
            host_owned,
            start: Instant::now(),
            hung: BTreeSet::new(),
            failed: BTreeSet::new(),
            detached: Vec::new(),
            autoclear: BTreeSet::new(),
            named: BTreeSet::new(),
            protected,
        }
    }

    fn run(&mut self) {
        for pass in 1..=MAX_PASSES {
            let t0 = Instant::now();
            let before = self.snapshot();
            if before.is_empty() {
                crate::info!("teardown: pass {pass}: nothing left to release");
                return;
            }
            let mut done = Done::default();
            if !self.host_owned {
                done.swapoff = self.swapoff_all();
            }
            done.unmounted = self.unmount_pass();
            if !self.host_owned {
                done.loops = self.detach_loops();
                done.md = self.stop_md();
                done.dm = self.remove_dm();
            }
            let mut changed = done.any() || self.snapshot() != before;
            if !changed {
                self.name_holders();
                if !self.host_owned {
                    self.last_resorts(&mut done);
                    changed = done.any();
                }
            }
            let after = self.snapshot();
            crate::info!(
                "teardown: pass {pass} ({} ms): {}; left: {}",
                t0.elapsed().as_millis(),
                describe_done(&done),
                describe_left(&after)
            );
            if !changed || after.is_empty() {
                return;
            }
            if self.start.elapsed() >= BUDGET {
                crate::warn!("teardown: still changing after {:?}; going on", BUDGET);
                return;
            }
        }
        crate::warn!("teardown: still changing after {MAX_PASSES} passes; going on");
    }

    fn mounts(&self) -> Vec<MountInfo> {
        match mounts::read(MOUNTINFO) {
            Ok(all) => all,
            Err(e) => {
                crate::error!("teardown: {e}");
                Vec::new()
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        let rel = mounts::releasable(&self.mounts());
        let mut s = Snapshot {
            mounts: rel.iter().map(|m| (m.id, mounts::super_ro(m))).collect(),
            rw: rel.iter().filter(|m| !mounts::super_ro(m)).count(),
            ..Snapshot::default()
        };
        if self.host_owned {
            return s;
        }
        let sys = Path::new(SYS);
        s.swaps = swaps::read(PROC_SWAPS).into_iter().map(|s| s.path).collect();
        s.loops = blockdev::loops(sys).into_iter().map(|l| l.name).filter(|n| !self.protected.contains(n)).collect();
        s.md = blockdev::mds(sys)
            .into_iter()
            .filter(|m| m.state != "clear" && !self.protected.contains(&m.name))
            .map(|m| format!("{} {}", m.name, m.state))
            .collect();
        s.dm = blockdev::dms(sys).into_iter().map(|d| d.name).filter(|n| !self.protected.contains(n)).collect();
        s
    }

    /// Runs `f` with `timeout` unless `key` hung or failed for good before.
    /// Returns None when skipped or timed out (which is logged here).
    fn op(&mut self, key: &str, timeout: Duration, f: impl FnOnce() -> Result<(), Errno>) -> Option<Outcome> {
        if self.hung.contains(key) || self.failed.contains(key) {
            return None;
        }
        match timed::call(self.events, timeout, f) {
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

    fn swapoff_all(&mut self) -> usize {
        let mut n = 0;
        for s in swaps::read(PROC_SWAPS) {
            let key = format!("swapoff {}", s.path);
            if s.deleted() {
                if !self.failed.contains(&key) {
                    self.give_up(&key, "the swap file was deleted while active and cannot be named to swapoff");
                }
                continue;
            }
            let Ok(path) = CString::new(s.path.clone()) else { continue };
            let t0 = Instant::now();
            match self.op(&key, SWAPOFF_TIMEOUT, move || crate::sys::swapoff(&path)) {
                Some(Outcome::Done) => {
                    crate::info!(
                        "teardown: swap {} ({}) off, {} kB were in use ({} ms)",
                        s.path,
                        s.kind,
                        s.used_kb,
                        t0.elapsed().as_millis()
                    );
                    n += 1;
                }
                Some(Outcome::Failed(e)) => self.give_up(&key, e),
                Some(Outcome::Broken(why)) => self.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    fn unmount_pass(&mut self) -> usize {
        let mut n = 0;
        for m in mounts::releasable(&self.mounts()).iter().rev() {
            let key = format!("umount {}", m.mount_point);
            let flags = if mounts::network(m) { UnmountFlags::FORCE } else { UnmountFlags::empty() };
            let mp = m.mount_point.clone();
            match self.op(&key, OP_TIMEOUT, move || unmount(mp.as_str(), flags)) {
                Some(Outcome::Done) => {
                    crate::info!("unmounted {}", mounts::describe(m));
                    n += 1;
                }
                Some(Outcome::Failed(Errno::BUSY)) => crate::debug!("{} busy", m.mount_point),
                // Gone already (with its parent, or by propagation).
                Some(Outcome::Failed(Errno::INVAL | Errno::NOENT)) => {}
                Some(Outcome::Failed(e)) => crate::warn!("unmount {}: {e}", m.mount_point),
                Some(Outcome::Broken(why)) => crate::warn!("unmount {}: {why}", m.mount_point),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    fn detach_loops(&mut self) -> usize {
        let sys = Path::new(SYS);
        let mut n = 0;
        for l in blockdev::loops(sys) {
            if self.protected.contains(&l.name) || self.autoclear.contains(&l.name) {
                continue;
            }
            let key = format!("detach {}", l.name);
            let dev = format!("/dev/{}", l.name);
            let clear = move || {
                let fd = rustix::fs::open(
                    dev.as_str(),
                    rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )?;
                crate::sys::loop_clr_fd(std::os::fd::AsFd::as_fd(&fd))
            };
            match self.op(&key, OP_TIMEOUT, clear) {
                Some(Outcome::Done) => {
                    if blockdev::loops(sys).iter().any(|x| x.name == l.name) {
                        crate::info!(
                            "teardown: {} ({}) still in use; it detaches itself when closed (autoclear)",
                            l.name,
                            l.backing
                        );
                        self.autoclear.insert(l.name);
                    } else {
                        crate::info!("teardown: {} ({}) detached", l.name, l.backing);
                        n += 1;
                    }
                }
                // Unbound meanwhile (autoclear).
                Some(Outcome::Failed(Errno::NXIO)) => {}
                Some(Outcome::Failed(Errno::BUSY)) => crate::debug!("{} busy", l.name),
                Some(Outcome::Failed(e)) => self.give_up(&key, e),
                Some(Outcome::Broken(why)) => self.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    fn stop_md(&mut self) -> usize {
        let sys = Path::new(SYS);
        let mut n = 0;
        for md in blockdev::mds(sys) {
            if md.state == "clear" || self.protected.contains(&md.name) {
                continue;
            }
            let key = format!("stop {}", md.name);
            let state = sys.join("block").join(&md.name).join("md/array_state");
            let stop =
                move || std::fs::write(&state, "clear").map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO));
            match self.op(&key, OP_TIMEOUT, stop) {
                Some(Outcome::Done) => {
                    crate::info!("teardown: md array {} stopped (was {})", md.name, md.state);
                    n += 1;
                }
                Some(Outcome::Failed(Errno::BUSY)) => crate::debug!("{} busy", md.name),
                Some(Outcome::Failed(e)) => self.give_up(&key, e),
                Some(Outcome::Broken(why)) => self.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    fn remove_dm(&mut self) -> usize {
        let mut n = 0;
        for dm in blockdev::dms(Path::new(SYS)) {
            if self.protected.contains(&dm.name) {
                continue;
            }
            let key = format!("remove {} ({})", dm.name, dm.dm_name);
            let name = dm.dm_name.clone();
            let remove = move || {
                let fd = rustix::fs::open(
                    DM_CONTROL,
                    rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )?;
                crate::sys::dm_dev_remove(std::os::fd::AsFd::as_fd(&fd), &name)
            };
            match self.op(&key, OP_TIMEOUT, remove) {
                Some(Outcome::Done) => {
                    crate::info!("teardown: device-mapper {} ({}) removed", dm.name, dm.dm_name);
                    n += 1;
                }
                Some(Outcome::Failed(Errno::BUSY)) => crate::debug!("{} ({}) busy", dm.name, dm.dm_name),
                Some(Outcome::Failed(Errno::NXIO)) => {}
                Some(Outcome::Failed(e)) => self.give_up(&key, e),
                Some(Outcome::Broken(why)) => self.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    /// The louder pass: names the processes holding what is still mounted
    /// (each mount once), in a child so that a process stuck in the kernel
    /// cannot block the scan of its /proc entries.
    fn name_holders(&mut self) {
        let rel = mounts::releasable(&self.mounts());
        let new: Vec<&MountInfo> = rel.iter().filter(|m| !self.named.contains(&m.id)).collect();
        if new.is_empty() {
            return;
        }
        let list: Vec<&str> = new.iter().map(|m| m.mount_point.as_str()).collect();
        let list = list.join(", ");
        crate::warn!("teardown: still busy: {list}");
        self.named.extend(new.iter().map(|m| m.id));
        let targets: Vec<holders::Target> = new.iter().map(|m| holders::Target::from(*m)).collect();
        match timed::capture(self.events, SCAN_TIMEOUT, move || holders::report(Path::new(PROC), &targets).join("\n")) {
            Ok(text) if text.trim().is_empty() => {
                crate::warn!("teardown: no process holds a file, cwd or mapping on {list} (mounts on them, loop devices, swap or the kernel do)")
            }
            Ok(text) => {
                for line in text.lines() {
                    crate::warn!("teardown: {line}");
                }
            }
            Err(e) => crate::warn!("teardown: cannot name the processes holding {list}: {e}"),
        }
    }

    /// Remount read-only what stays busy, then detach busy read-only leaf
    /// mounts lazily so that their parents can be unmounted.
    fn last_resorts(&mut self, done: &mut Done) {
        for m in mounts::releasable(&self.mounts()).iter().rev().filter(|m| !mounts::super_ro(m)) {
            let key = format!("remount {} read-only", m.mount_point);
            let mp = m.mount_point.clone();
            match self.op(&key, OP_TIMEOUT, move || mount_remount(mp.as_str(), MountFlags::RDONLY, "")) {
                Some(Outcome::Done) => {
                    crate::info!("{} busy; remounted read-only", m.mount_point);
                    done.remounted_ro += 1;
                }
                // A file open for writing (or a swap file, a loop device)
                // on it: retried in a later pass if something changes.
                Some(Outcome::Failed(e)) => {
                    crate::warn!("{} busy and cannot be remounted read-only: {e}", m.mount_point)
                }
                Some(Outcome::Broken(why)) => self.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        let all = self.mounts();
        let rel = mounts::releasable(&all);
        for m in mounts::detachable(&rel, &all) {
            let key = format!("detach {}", m.mount_point);
            let mp = m.mount_point.clone();
            match self.op(&key, OP_TIMEOUT, move || unmount(mp.as_str(), UnmountFlags::DETACH)) {
                Some(Outcome::Done) => {
                    crate::warn!(
                        "teardown: {} busy and read-only: detached lazily (its data is safe; it lives on out of sight until its last user goes)",
                        mounts::describe(m)
                    );
                    self.detached.push(m.clone());
                    done.detached += 1;
                }
                Some(Outcome::Failed(e)) => self.give_up(&key, e),
                Some(Outcome::Broken(why)) => self.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
    }

    /// One message per thing left behind.
    fn left(&self) -> Vec<String> {
        let mut out = Vec::new();
        let hung = |key: String| if self.hung.contains(&key) { format!("; `{key}` hung") } else { String::new() };
        for m in mounts::releasable(&self.mounts()) {
            let state = if mounts::super_ro(&m) {
                "read-only, its data is safe"
            } else {
                "READ-WRITE: recent writes may be lost"
            };
            let mp = &m.mount_point;
            out.push(format!("{} is still mounted ({state}){}", mounts::describe(&m), hung(format!("umount {mp}"))));
        }
        for m in &self.detached {
            out.push(format!("{} was detached lazily while busy (read-only)", mounts::describe(m)));
        }
        if self.host_owned {
            return out;
        }
        for s in swaps::read(PROC_SWAPS) {
            out.push(format!("swap {} is still active{}", s.path, hung(format!("swapoff {}", s.path))));
        }
        let sys = Path::new(SYS);
        for l in blockdev::loops(sys).into_iter().filter(|l| !self.protected.contains(&l.name)) {
            let how = if l.autoclear { " (detaches itself when closed)" } else { "" };
            out.push(format!(
                "{} ({}) is still attached{how}{}",
                l.name,
                l.backing,
                hung(format!("detach {}", l.name))
            ));
        }
        for md in blockdev::mds(sys) {
            if md.state != "clear" && !self.protected.contains(&md.name) {
                out.push(format!("md array {} is still {}{}", md.name, md.state, hung(format!("stop {}", md.name))));
            }
        }
        for dm in blockdev::dms(sys).into_iter().filter(|d| !self.protected.contains(&d.name)) {
            let key = format!("remove {} ({})", dm.name, dm.dm_name);
            out.push(format!("device-mapper {} ({}) is still active{}", dm.name, dm.dm_name, hung(key)));
        }
        out
    }
}

fn describe_done(d: &Done) -> String {
    let parts = [
        (d.swapoff, "swap off"),
        (d.unmounted, "unmounted"),
        (d.loops, "loop detached"),
        (d.md, "md stopped"),
        (d.dm, "dm removed"),
        (d.remounted_ro, "remounted read-only"),
        (d.detached, "detached lazily"),
    ];
    let v: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{what} {n}")).collect();
    if v.is_empty() {
        "nothing changed".into()
    } else {
        v.join(", ")
    }
}

fn describe_left(s: &Snapshot) -> String {
    let mut out = String::new();
    if !s.mounts.is_empty() {
        let _ = write!(out, "{} ({} read-write)", plural(s.mounts.len(), "mount", "mounts"), s.rw);
    }
    for (n, one, many) in [
        (s.swaps.len(), "swap", "swaps"),
        (s.loops.len(), "loop", "loops"),
        (s.md.len(), "md array", "md arrays"),
        (s.dm.len(), "dm device", "dm devices"),
    ] {
        if n > 0 {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&plural(n, one, many));
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

    #[test]
    fn pass_lines() {
        let d = Done { swapoff: 1, unmounted: 2, ..Done::default() };
        assert_eq!(describe_done(&d), "swap off 1, unmounted 2");
        assert_eq!(describe_done(&Done::default()), "nothing changed");
        let s =
            Snapshot { mounts: vec![(1, true), (2, false)], rw: 1, loops: vec!["loop0".into()], ..Snapshot::default() };
        assert_eq!(describe_left(&s), "2 mounts (1 read-write), 1 loop");
        assert_eq!(describe_left(&Snapshot::default()), "nothing");
    }
}

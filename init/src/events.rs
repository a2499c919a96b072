//! The event loop's one waiting point: poll the signalfd with a timeout,
//! reap on SIGCHLD, queue shutdown requests in arrival order.

use crate::modules::hotplug::{Uevent, Uevents};
use crate::reap;
use crate::signals::{classify, Event, Request, Signals};
use rustix::event::{poll, PollFd, PollFlags};
use rustix::process::WaitStatus;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

pub struct Events {
    signals: Signals,
    /// Requests in the order they arrived, with the sender's pid.
    pub requests: VecDeque<(Request, u32)>,
    /// Exit statuses of the processes someone asked to track.
    exits: HashMap<i32, WaitStatus>,
    tracked: Vec<i32>,
    /// Set once a drain found no children at all.
    pub no_children: bool,
    /// The kernel's uevents, once hotplug is on.
    uevents: Option<Uevents>,
    /// Uevents received and not yet handled, in arrival order.
    pub hotplug: Vec<Uevent>,
}

impl Events {
    pub fn new(signals: Signals) -> Self {
        Events {
            signals,
            requests: VecDeque::new(),
            exits: HashMap::new(),
            tracked: Vec::new(),
            no_children: false,
            uevents: None,
            hotplug: Vec::new(),
        }
    }

    /// Also waits for the kernel's uevents from now on.
    pub fn listen_uevents(&mut self, uevents: Uevents) {
        self.uevents = Some(uevents);
    }

    /// Remembers `pid`'s exit status when it ends (others are just reaped).
    pub fn track(&mut self, pid: i32) {
        self.tracked.push(pid);
    }

    /// The exit status of a tracked process, once it has ended.
    pub fn take_exit(&mut self, pid: i32) -> Option<WaitStatus> {
        let status = self.exits.remove(&pid)?;
        self.tracked.retain(|p| *p != pid);
        Some(status)
    }

    /// Waits up to `timeout` (forever when `None`) for signals, then
    /// handles everything pending.
    pub fn wait(&mut self, timeout: Option<Duration>) {
        let ts = timeout.map(|d| rustix::time::Timespec {
            tv_sec: d.as_secs() as _,
            tv_nsec: d.subsec_nanos() as _,
        });
        let uevents_ready = {
            let mut fds = vec![PollFd::new(&self.signals, PollFlags::IN)];
            if let Some(u) = &self.uevents {
                fds.push(PollFd::new(u, PollFlags::IN));
            }
            match poll(&mut fds, ts.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    crate::error!("poll on signalfd: {e}");
                    // Never spin: a broken poll still must not burn the CPU.
                    std::thread::sleep(
                        timeout
                            .unwrap_or(Duration::from_secs(1))
                            .min(Duration::from_secs(1)),
                    );
                }
            }
            fds.get(1).is_some_and(|f| !f.revents().is_empty())
        };
        if uevents_ready {
            if let Some(u) = &self.uevents {
                self.hotplug.extend(u.drain());
            }
        }
        self.handle_pending();
    }

    /// Waits until `deadline`, returning early when `done` holds.
    pub fn wait_until(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        loop {
            if done(self) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            self.wait(Some(deadline - now));
        }
    }

    fn handle_pending(&mut self) {
        let mut reap = false;
        while let Some(r) = self.signals.read() {
            match classify(r.signo) {
                Event::Child => reap = true,
                Event::Request(req) => {
                    crate::info!("{req} requested (signal {} from pid {})", r.signo, r.sender);
                    self.requests.push_back((req, r.sender));
                }
                Event::Other(sig) => crate::debug!("ignoring signal {sig} from pid {}", r.sender),
            }
        }
        // Reap even without SIGCHLD: a child may have ended while the
        // signal was already consumed by an earlier drain.
        if reap || !self.tracked.is_empty() {
            self.reap();
        }
    }

    pub fn reap(&mut self) {
        let tracked = &self.tracked;
        let exits = &mut self.exits;
        let drained = reap::drain(|pid, status| {
            if tracked.contains(&pid) {
                exits.insert(pid, status);
            }
        });
        self.no_children = drained.no_children;
    }
}

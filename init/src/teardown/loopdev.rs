//! Loop devices: detached once nothing uses them. The kernel sets
//! autoclear on one still in use, which then goes by itself when its
//! filesystem is unmounted; the filesystem holding a backing file can
//! only go after that, hence the repeated passes.

use super::blockdev;
use super::{Context, Left, Target, Words, OP_TIMEOUT, SYS};
use crate::timed::Outcome;
use rustix::io::Errno;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Default)]
pub(super) struct Loops {
    /// Loop devices told to detach themselves on their last close.
    autoclear: BTreeSet<String>,
}

impl Target for Loops {
    fn words(&self) -> &'static Words {
        &Words {
            done: "loop detached",
            one: "loop",
            many: "loops",
        }
    }

    fn left(&self, cx: &Context) -> Left {
        Left::items(
            blockdev::loops(Path::new(SYS))
                .into_iter()
                .map(|l| l.name)
                .filter(|n| !cx.protected.contains(n))
                .collect(),
        )
    }

    fn release(&mut self, cx: &mut Context) -> usize {
        let sys = Path::new(SYS);
        let mut n = 0;
        for l in blockdev::loops(sys) {
            if cx.protected.contains(&l.name) || self.autoclear.contains(&l.name) {
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
            match cx.op(&key, OP_TIMEOUT, clear) {
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
                Some(Outcome::Failed(e)) => cx.give_up(&key, e),
                Some(Outcome::Broken(why)) => cx.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    fn report(&self, cx: &Context) -> Vec<String> {
        let left = blockdev::loops(Path::new(SYS))
            .into_iter()
            .filter(|l| !cx.protected.contains(&l.name));
        left.map(|l| {
            let how = if l.autoclear {
                " (detaches itself when closed)"
            } else {
                ""
            };
            format!(
                "{} ({}) is still attached{how}{}",
                l.name,
                l.backing,
                cx.hung_note(&format!("detach {}", l.name))
            )
        })
        .collect()
    }
}

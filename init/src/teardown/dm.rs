//! Device-mapper devices: removed with DM_DEV_REMOVE (`dmsetup remove`),
//! those with nothing stacked on them first.

use super::blockdev;
use super::{Context, Left, Target, Words, OP_TIMEOUT, SYS};
use crate::timed::Outcome;
use rustix::io::Errno;
use std::path::Path;

const DM_CONTROL: &str = "/dev/mapper/control";

pub(super) struct Dm;

/// The devices not under the rescue system's root, holders last.
fn active(cx: &Context) -> Vec<blockdev::Dm> {
    blockdev::dms(Path::new(SYS))
        .into_iter()
        .filter(|d| !cx.protected.contains(&d.name))
        .collect()
}

fn key(dm: &blockdev::Dm) -> String {
    format!("remove {} ({})", dm.name, dm.dm_name)
}

impl Target for Dm {
    fn words(&self) -> &'static Words {
        &Words {
            done: "dm removed",
            one: "dm device",
            many: "dm devices",
        }
    }

    fn left(&self, cx: &Context) -> Left {
        Left::items(active(cx).into_iter().map(|d| d.name).collect())
    }

    fn release(&mut self, cx: &mut Context) -> usize {
        let mut n = 0;
        for dm in active(cx) {
            let key = key(&dm);
            let name = dm.dm_name.clone();
            let remove = move || {
                let fd = rustix::fs::open(
                    DM_CONTROL,
                    rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )?;
                crate::sys::dm_dev_remove(std::os::fd::AsFd::as_fd(&fd), &name)
            };
            match cx.op(&key, OP_TIMEOUT, remove) {
                Some(Outcome::Done) => {
                    crate::info!(
                        "teardown: device-mapper {} ({}) removed",
                        dm.name,
                        dm.dm_name
                    );
                    n += 1;
                }
                Some(Outcome::Failed(Errno::BUSY)) => {
                    crate::debug!("{} ({}) busy", dm.name, dm.dm_name)
                }
                Some(Outcome::Failed(Errno::NXIO)) => {}
                Some(Outcome::Failed(e)) => cx.give_up(&key, e),
                Some(Outcome::Broken(why)) => cx.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    fn report(&self, cx: &Context) -> Vec<String> {
        let left = active(cx).into_iter();
        left.map(|dm| {
            format!(
                "device-mapper {} ({}) is still active{}",
                dm.name,
                dm.dm_name,
                cx.hung_note(&key(&dm))
            )
        })
        .collect()
    }
}

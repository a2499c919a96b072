//! md arrays: stopped with `array_state` = clear, what `mdadm --stop`
//! does.

use super::blockdev;
use super::{Context, Left, Target, Words, OP_TIMEOUT, SYS};
use crate::timed::Outcome;
use rustix::io::Errno;
use std::path::Path;

pub(super) struct Md;

/// The arrays not stopped yet, and not under the rescue system's root.
fn running(cx: &Context) -> Vec<blockdev::Md> {
    let all = blockdev::mds(Path::new(SYS)).into_iter();
    all.filter(|m| m.state != "clear" && !cx.protected.contains(&m.name))
        .collect()
}

impl Target for Md {
    fn words(&self) -> &'static Words {
        &Words {
            done: "md stopped",
            one: "md array",
            many: "md arrays",
        }
    }

    fn left(&self, cx: &Context) -> Left {
        Left::items(
            running(cx)
                .into_iter()
                .map(|m| format!("{} {}", m.name, m.state))
                .collect(),
        )
    }

    fn release(&mut self, cx: &mut Context) -> usize {
        let mut n = 0;
        for md in running(cx) {
            let key = format!("stop {}", md.name);
            let state = Path::new(SYS)
                .join("block")
                .join(&md.name)
                .join("md/array_state");
            let stop = move || {
                std::fs::write(&state, "clear")
                    .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))
            };
            match cx.op(&key, OP_TIMEOUT, stop) {
                Some(Outcome::Done) => {
                    crate::info!("teardown: md array {} stopped (was {})", md.name, md.state);
                    n += 1;
                }
                Some(Outcome::Failed(Errno::BUSY)) => crate::debug!("{} busy", md.name),
                Some(Outcome::Failed(e)) => cx.give_up(&key, e),
                Some(Outcome::Broken(why)) => cx.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    fn report(&self, cx: &Context) -> Vec<String> {
        let left = running(cx).into_iter();
        left.map(|md| {
            format!(
                "md array {} is still {}{}",
                md.name,
                md.state,
                cx.hung_note(&format!("stop {}", md.name))
            )
        })
        .collect()
    }
}

//! Swap areas: turned off first, since a swap file keeps its filesystem
//! busy and read-write.

use super::swaps;
use super::{Context, Left, Target, Words};
use crate::timed::Outcome;
use std::ffi::CString;
use std::time::{Duration, Instant};

const PROC_SWAPS: &str = "/proc/swaps";
/// swapoff reads every swapped-out page back in: it gets longer.
const SWAPOFF_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) struct Swap;

impl Target for Swap {
    fn words(&self) -> &'static Words {
        &Words {
            done: "swap off",
            one: "swap",
            many: "swaps",
        }
    }

    fn left(&self, _cx: &Context) -> Left {
        Left::items(
            swaps::read(PROC_SWAPS)
                .into_iter()
                .map(|s| s.path)
                .collect(),
        )
    }

    fn release(&mut self, cx: &mut Context) -> usize {
        let mut n = 0;
        for s in swaps::read(PROC_SWAPS) {
            let key = format!("swapoff {}", s.path);
            if s.deleted() {
                if !cx.failed.contains(&key) {
                    cx.give_up(
                        &key,
                        "the swap file was deleted while active and cannot be named to swapoff",
                    );
                }
                continue;
            }
            let Ok(path) = CString::new(s.path.clone()) else {
                continue;
            };
            let t0 = Instant::now();
            match cx.op(&key, SWAPOFF_TIMEOUT, move || crate::sys::swapoff(&path)) {
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
                Some(Outcome::Failed(e)) => cx.give_up(&key, e),
                Some(Outcome::Broken(why)) => cx.give_up(&key, why),
                Some(Outcome::TimedOut) | None => {}
            }
        }
        n
    }

    fn report(&self, cx: &Context) -> Vec<String> {
        let left = swaps::read(PROC_SWAPS).into_iter();
        left.map(|s| {
            format!(
                "swap {} is still active{}",
                s.path,
                cx.hung_note(&format!("swapoff {}", s.path))
            )
        })
        .collect()
    }
}

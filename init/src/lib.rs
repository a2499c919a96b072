//! rescue-init: a PID 1 for rescue initramfs images.
//!
//! `main.rs` dispatches to `pid1` or an applet; each phase or concern
//! lives in a module of its own. Only `sys` may use `unsafe`: the
//! workspace denies it, and the one `allow` is on `mod sys` below.
//! Modules are `pub` only where `main.rs` (`applets`, `pid1`) or the fuzz
//! targets (the parsers of outside input) need them, so that the compiler
//! finds dead code.

#[macro_use]
pub(crate) mod log;

pub(crate) mod analyze;
pub mod applets;
pub mod bootcfg;
pub(crate) mod bootscripts;
pub mod cmdline;
pub mod config;
pub(crate) mod console;
pub(crate) mod events;
pub(crate) mod fsread;
pub mod handoff;
pub mod iso;
pub(crate) mod kexec;
pub mod kv;
pub(crate) mod line_error;
pub(crate) mod memfile;
pub(crate) mod modules;
pub(crate) mod mount;
pub mod mountinfo;
pub mod pid1;
pub(crate) mod preflight;
pub(crate) mod procs;
pub(crate) mod reap;
pub mod rear;
pub(crate) mod shutdown;
pub(crate) mod signals;
pub(crate) mod sort;
pub(crate) mod spawn;
pub(crate) mod supervise;
pub(crate) mod sync;
#[allow(unsafe_code)]
pub(crate) mod sys;
pub(crate) mod teardown;
#[cfg(test)]
mod test_rng;
pub(crate) mod timed;
pub(crate) mod timeline;
pub(crate) mod udev;
pub(crate) mod watchdog;

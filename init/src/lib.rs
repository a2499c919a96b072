//! rescue-init: a PID 1 for rescue initramfs images.
//!
//! `main.rs` reads as the boot sequence; each phase or concern lives in a
//! module of its own. Only `sys` may use `unsafe`.
#![deny(unsafe_code)]

#[macro_use]
pub mod log;

pub mod applets;
pub mod bootcfg;
pub mod bootscripts;
pub mod cmdline;
pub mod config;
pub mod console;
pub mod events;
pub mod handoff;
pub mod iso;
pub mod kexec;
pub mod kv;
pub mod line_error;
pub mod mount;
pub mod modules;
pub mod mountinfo;
pub mod pid1;
pub mod rear;
pub mod procs;
pub mod reap;
pub mod shutdown;
pub mod signals;
pub mod sort;
pub mod spawn;
pub mod supervise;
pub mod sync;
pub mod sys;
pub mod teardown;
pub mod udev;
#[cfg(test)]
mod test_rng;

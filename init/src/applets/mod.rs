//! The commands the binary is besides PID 1, one module each, named for
//! the applet. Every applet is `pub fn main(argv: &[String]) -> i32`:
//! `argv[0]` is the applet's name (as a program's own `argv[0]`, which
//! is how `reboot`, `poweroff` and `halt` share one), the rest its
//! arguments; it returns the exit status. `main.rs` lists them.

pub mod analyze;
pub mod handoff;
pub mod kexec;
pub mod modprobe;
pub mod reboot;
pub mod shutdown;

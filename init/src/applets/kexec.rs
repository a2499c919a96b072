//! `rescue-init kexec`: the kexec-tools flags people know, on a running
//! system. `-l` loads (always with kexec_file_load), `-e` executes the
//! loaded kernel cleanly, `-u` unloads, `-f` executes at once. With
//! `--iso` it boots a rescue ISO instead (`kexec/iso.rs`).
//!
//! A clean `-e` asks the system's own init to do it: rescue-init as PID 1
//! gets SIGRTMIN+6, systemd gets `systemctl kexec`; under any other init
//! this process syncs, remounts filesystems read-only where it can and
//! jumps itself.

pub(crate) mod iso;

use crate::kexec;
use crate::signals::Request;
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "usage: rescue-init kexec -l KERNEL [--initrd=FILE] [--append=STR | --command-line=STR | --reuse-cmdline] [-s]\n\
       rescue-init kexec --iso PATH [--entry LABEL] [--append-extra STR] [--list] [-e | --load-only]\n\
       rescue-init kexec -e | -u | -f\n\
  -l KERNEL           load KERNEL (kexec_file_load; -s is accepted and implied)\n\
  --initrd=FILE       the initrd to pass\n\
  --command-line=STR  the new kernel's command line\n\
  --append=STR        same as --command-line\n\
  --reuse-cmdline     use this kernel's command line (without BOOT_IMAGE=)\n\
  -e                  execute the loaded kernel after a clean shutdown\n\
  -f                  execute it at once (sync only, nothing stopped)\n\
  -u                  unload the loaded kernel";

#[derive(Debug, Default, PartialEq)]
struct Opts {
    load: Option<PathBuf>,
    initrd: Option<PathBuf>,
    cmdline: Option<String>,
    reuse: bool,
    exec: bool,
    force: bool,
    unload: bool,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "-l" | "--load" => o.load = Some(PathBuf::from(value(a)?)),
            "-e" | "--exec" => o.exec = true,
            "-f" | "--force" => o.force = true,
            "-u" | "--unload" => o.unload = true,
            "-s" | "--kexec-file-syscall" => {}
            "--reuse-cmdline" => o.reuse = true,
            "--initrd" | "--ramdisk" => o.initrd = Some(PathBuf::from(value(a)?)),
            "--append" | "--command-line" => o.cmdline = Some(value(a)?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => match other.split_once('=') {
                Some(("--initrd" | "--ramdisk", v)) => o.initrd = Some(PathBuf::from(v)),
                Some(("--append" | "--command-line", v)) => o.cmdline = Some(v.to_string()),
                _ => return Err(format!("unknown option {other:?}\n{USAGE}")),
            },
        }
    }
    let actions = [o.load.is_some(), o.exec, o.force, o.unload]
        .iter()
        .filter(|b| **b)
        .count();
    if actions == 0 {
        return Err(format!("nothing to do\n{USAGE}"));
    }
    if o.unload && actions > 1 {
        return Err("-u cannot be combined with -l, -e or -f".into());
    }
    if o.reuse && o.cmdline.is_some() {
        return Err("--reuse-cmdline and --command-line/--append exclude each other".into());
    }
    Ok(o)
}

pub fn main(argv: &[String]) -> i32 {
    let args = argv.get(1..).unwrap_or_default();
    if iso::wants(args) {
        return iso::main(args, &exec_cleanly);
    }
    match parse(args).and_then(|o| run(&o)) {
        Ok(()) => 0,
        Err(msg) => {
            eprintln!("rescue-init kexec: {msg}");
            1
        }
    }
}

fn run(o: &Opts) -> Result<(), String> {
    if o.unload {
        return kexec::unload().map_err(|e| format!("unload: {e}"));
    }
    if let Some(kernel) = &o.load {
        let cmdline = match (&o.cmdline, o.reuse) {
            (Some(c), _) => c.clone(),
            (None, true) => reuse_cmdline()?,
            (None, false) => String::new(),
        };
        let method =
            kexec::load(kernel, o.initrd.as_deref(), &cmdline).map_err(|e| e.to_string())?;
        eprintln!(
            "rescue-init kexec: loaded {} ({method:?})",
            kernel.display()
        );
    }
    if o.force {
        rustix::fs::sync();
        return Err(kexec::exec().to_string());
    }
    if o.exec {
        return exec_cleanly();
    }
    Ok(())
}

/// This kernel's command line without the boot loader's BOOT_IMAGE=.
fn reuse_cmdline() -> Result<String, String> {
    let line =
        std::fs::read_to_string("/proc/cmdline").map_err(|e| format!("/proc/cmdline: {e}"))?;
    Ok(line
        .split_whitespace()
        .filter(|w| !w.starts_with("BOOT_IMAGE="))
        .collect::<Vec<_>>()
        .join(" "))
}

fn exec_cleanly() -> Result<(), String> {
    if !kexec::loaded() {
        return Err("no kernel is loaded (use -l first)".into());
    }
    if pid1_is_us() {
        return crate::sys::kill_raw(1, Request::Kexec.signal())
            .map_err(|e| format!("signalling PID 1: {e}"));
    }
    if Path::new("/run/systemd/system").is_dir() {
        let status = Command::new("systemctl")
            .arg("kexec")
            .status()
            .map_err(|e| format!("systemctl kexec: {e}"))?;
        return if status.success() {
            Ok(())
        } else {
            Err(format!("systemctl kexec failed ({status})"))
        };
    }
    eprintln!("rescue-init kexec: PID 1 is neither rescue-init nor systemd: syncing and remounting read-only myself");
    rustix::fs::sync();
    let signals = crate::signals::Signals::take_over().map_err(|e| format!("signals: {e}"))?;
    let mut events = crate::events::Events::new(signals);
    for left in crate::teardown::release_all(true, &mut events) {
        eprintln!("rescue-init kexec: {left}");
    }
    rustix::fs::sync();
    Err(kexec::exec().to_string())
}

/// Whether PID 1 runs this very binary (the rescue image's /init).
fn pid1_is_us() -> bool {
    match (
        std::fs::metadata("/proc/1/exe"),
        std::fs::metadata("/proc/self/exe"),
    ) {
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            a.dev() == b.dev() && a.ino() == b.ino()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn kexec_tools_flags() {
        let o = parse(&args(&[
            "-s",
            "-l",
            "/boot/vmlinuz",
            "--initrd=/boot/initrd.img",
            "--append",
            "root=/dev/sda1 ro",
        ]))
        .unwrap();
        assert_eq!(o.load.as_deref(), Some(Path::new("/boot/vmlinuz")));
        assert_eq!(o.initrd.as_deref(), Some(Path::new("/boot/initrd.img")));
        assert_eq!(o.cmdline.as_deref(), Some("root=/dev/sda1 ro"));
        assert!(parse(&args(&["-e"])).unwrap().exec);
        assert!(parse(&args(&["-u"])).unwrap().unload);
    }

    #[test]
    fn bad_combinations_are_refused() {
        assert!(parse(&[]).is_err());
        assert!(parse(&args(&["-u", "-e"])).is_err());
        assert!(parse(&args(&["-l"])).unwrap_err().contains("needs a value"));
        assert!(parse(&args(&["-l", "k", "--reuse-cmdline", "--append=x"])).is_err());
        assert!(parse(&args(&["--bogus"]))
            .unwrap_err()
            .contains("unknown option"));
    }
}

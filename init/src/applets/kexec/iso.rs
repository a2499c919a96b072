//! The `--iso` options of `rescue-init kexec`, and the run from opening
//! the image to loading (and executing) the chosen entry.

use crate::bootcfg::entry::{BootEntry, Boots, Menu};
use crate::iso::menu::{self, Choice};
use crate::iso::{load, Error, Iso};
use std::fmt::Write as _;
use std::path::PathBuf;

pub const USAGE: &str = "usage: rescue-init kexec --iso PATH [--entry LABEL] [--append-extra STR] [--list | -e | --load-only]\n\
  --iso PATH          an ISO image: a file or a block device (e.g. /dev/sr0)\n\
  --entry LABEL       boot this entry (syslinux label, menu label or GRUB title/id)\n\
                      instead of the default (or the first Linux entry)\n\
  --append-extra STR  add STR to the entry's kernel command line\n\
  --list              print the boot entries, load nothing\n\
  -e                  load, then execute it after a clean shutdown\n\
  --load-only         load only (the default); `rescue-init kexec -e` executes";

/// The parsed options.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Opts {
    pub iso: PathBuf,
    pub entry: Option<String>,
    pub extra: String,
    pub list: bool,
    pub exec: bool,
}

/// Whether `rescue-init kexec` was given `--iso` (route to [`main`]).
pub(crate) fn wants(args: &[String]) -> bool {
    args.iter().any(|a| a == "--iso" || a.starts_with("--iso="))
}

pub fn parse(args: &[String]) -> Result<Opts, String> {
    let (mut o, mut iso, mut load_only) = (Opts::default(), None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or(format!("{name} needs a value"))
        };
        match name {
            "--iso" => iso = Some(PathBuf::from(value()?)),
            "--entry" => o.entry = Some(value()?),
            "--append-extra" => o.extra = value()?,
            "--list" => o.list = true,
            "-e" | "--exec" => o.exec = true,
            "--load-only" => load_only = true,
            "-s" | "--kexec-file-syscall" => {}
            "-h" | "--help" => return Err(USAGE.into()),
            _ => return Err(format!("unknown option {a:?} with --iso\n{USAGE}")),
        }
    }
    o.iso = iso.ok_or(format!("--iso needs a value\n{USAGE}"))?;
    if [o.list, o.exec, load_only].iter().filter(|b| **b).count() > 1 {
        return Err("--list, -e and --load-only exclude each other".into());
    }
    Ok(o)
}

/// Runs `rescue-init kexec --iso ...` (`args` after `kexec`); `exec`
/// does the clean execute `-e` asks for.
pub(crate) fn main(args: &[String], exec: &dyn Fn() -> Result<(), String>) -> i32 {
    match parse(args).and_then(|o| run(&o, exec)) {
        Ok(()) => 0,
        Err(msg) => {
            eprintln!("rescue-init kexec: {msg}");
            1
        }
    }
}

fn run(o: &Opts, exec: &dyn Fn() -> Result<(), String>) -> Result<(), String> {
    let iso = crate::iso::open(&o.iso).map_err(|e| e.to_string())?;
    let menu = menu::discover(&iso).map_err(|e| e.to_string())?;
    for note in &menu.notes {
        eprintln!("rescue-init kexec: note: {note}");
    }
    let choice = menu::choose(&menu, iso.name(), o.entry.as_deref());
    if o.list {
        let choice = choice.and_then(|c| files_readable(&iso, &menu.entries[c.index]).map(|_| c));
        print!("{}", listing(&menu, iso.name(), &choice, &o.extra));
        return Ok(());
    }
    let Choice { index, note } = choice.map_err(|e| e.to_string())?;
    if let Some(note) = note {
        eprintln!("rescue-init kexec: {}: {note}", iso.name());
    }
    let entry = &menu.entries[index];
    let cmdline = entry.cmdline(&o.extra);
    let loaded = load::load(&iso, entry, &cmdline).map_err(|e| e.to_string())?;
    eprintln!(
        "rescue-init kexec: {}",
        loaded_line(iso.name(), entry, &loaded)
    );
    eprintln!("rescue-init kexec: command line: {cmdline}");
    // The image may sit on a filesystem the shutdown is about to unmount
    // (systemd's `umount.target` fails on a busy /backup): let go of it.
    drop(iso);
    if o.exec {
        return exec();
    }
    Ok(())
}

/// Whether the kernel and initrds of `e` could be loaded, as the load
/// would find them: `--list` says "would boot" only then, else why not
/// (a link loop, an extent beyond the end of the image).
pub(crate) fn files_readable(iso: &Iso, e: &BootEntry) -> Result<(), Error> {
    let kernel = e.kernel().map(|k| ("kernel", k));
    let initrds = e.initrds.iter().map(|i| ("initrd", i.as_str()));
    for (what, path) in kernel.into_iter().chain(initrds) {
        iso.check(path).map_err(|source| Error::Missing {
            entry: e.to_string(),
            origin: e.origin.clone(),
            what,
            source: Box::new(source),
        })?;
    }
    Ok(())
}

fn loaded_line(file: &str, e: &BootEntry, l: &load::Loaded) -> String {
    let initrds = match e.initrds.is_empty() {
        true => "none".to_string(),
        false => e.initrds.join(" + "),
    };
    format!(
        "loaded entry {e} of {file}: kernel {} ({} bytes), initrd {initrds} ({} bytes), with {:?}",
        e.kernel().unwrap_or_default(),
        l.kernel_bytes,
        l.initrd_bytes,
        l.method
    )
}

/// What `--list` prints: every entry, `*` on the default, and the
/// entry that would be booted.
pub fn listing(menu: &Menu, file: &str, choice: &Result<Choice, Error>, extra: &str) -> String {
    let mut s = format!(
        "boot entries of {file} (from {}):\n",
        menu.configs.join(", ")
    );
    for (i, e) in menu.entries.iter().enumerate() {
        let mark = if menu.default == Some(i) { "*" } else { " " };
        entry_lines(&mut s, mark, e, extra);
    }
    let _ = match choice {
        Ok(c) => writeln!(
            s,
            "would boot: {}{}",
            menu.entries[c.index],
            c.note.as_ref().map_or(String::new(), |n| format!(" ({n})"))
        ),
        Err(e) => writeln!(s, "would boot: nothing: {e}"),
    };
    s
}

fn entry_lines(s: &mut String, mark: &str, e: &BootEntry, extra: &str) {
    let default = if mark == "*" { " [default]" } else { "" };
    let _ = writeln!(s, "{mark} {e}{default}  ({})", e.origin);
    let _ = match &e.boots {
        Boots::Linux(k) => writeln!(
            s,
            "    boots Linux: {k}\n    initrds: {}\n    args: {}",
            list_or_none(&e.initrds),
            e.cmdline(extra)
        ),
        Boots::Other(what) => writeln!(s, "    does not boot Linux: {what}"),
    };
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(" ")
    }
}

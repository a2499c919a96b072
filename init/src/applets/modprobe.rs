//! The `modprobe` applet. The kernel runs the program named in
//! `/proc/sys/kernel/modprobe` as `modprobe -q -- NAME` when it needs a
//! module (`fs-ext4`, `crypto-crc32c`, ...); people run it too.
//!
//! `modprobe [-q] [-n] [-v] [-a] [-b] [-D] [-d DIR] [-S RELEASE] [--] NAME [PARAM...]`
//! (`-a`: every argument is a module) and `modprobe -r [-n] [-v] NAME...`
//! (`crate::modules::remove`). Exit status 0 on success (a blacklisted alias counts as
//! success, as in kmod), 1 on failure, 2 on bad usage.

use crate::modules::{
    kernel_release, remove, Backend, Config, Index, KernelBackend, LoadError, Loader, Location,
    Step, MODULES_ROOT,
};
use kmodfmt::normalize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Default, PartialEq, Eq)]
struct Opts {
    quiet: bool,
    dry_run: bool,
    verbose: bool,
    all: bool,
    remove: bool,
    show_depends: bool,
    use_blacklist: bool,
    dirname: Option<PathBuf>,
    release: Option<String>,
    words: Vec<String>,
}

const USAGE: &str = "usage: modprobe [-q] [-n] [-v] [-a] [-b] [-D] [-d DIR] [-S RELEASE] [--] NAME [PARAM=VALUE...]\n\
       modprobe -r [-q] [-n] [-v] NAME...\n\
  -q, --quiet          say nothing about modules that cannot be found or loaded\n\
  -n, --dry-run        do everything but load\n\
  -v, --verbose        print the insmod steps\n\
  -a, --all            every NAME is a module (no parameters)\n\
  -b, --use-blacklist  apply the blacklist to names too, not only to aliases\n\
  -D, --show-depends   print the load steps (insmod PATH PARAMS) and stop\n\
  -d, --dirname DIR    modules are in DIR/lib/modules/RELEASE\n\
  -S, --set-version R  use RELEASE R instead of the running kernel's\n\
  -r, --remove         unload every NAME, then its dependencies nothing uses";

/// Options that take a value: (short, long).
const VALUED: [(char, &str); 2] = [('d', "dirname"), ('S', "set-version")];

fn parse_args(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            o.words.extend(it.by_ref().cloned());
        } else if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let short = VALUED.iter().find(|(_, l)| *l == name).map(|(s, _)| *s);
            match short {
                Some(s) => set_value(&mut o, s, inline.or_else(|| it.next().cloned()))?,
                None if inline.is_none() => set_flag(&mut o, long_flag(name)?)?,
                None => return Err(format!("option --{name} takes no value")),
            }
        } else if a.len() > 1 && a.starts_with('-') {
            short_options(&mut o, &a[1..], &mut it)?;
        } else {
            o.words.push(a.clone());
        }
    }
    Ok(o)
}

/// A bundle such as `-qv` or `-d/tmp` / `-d /tmp`.
fn short_options<'a>(
    o: &mut Opts,
    bundle: &str,
    rest: &mut impl Iterator<Item = &'a String>,
) -> Result<(), String> {
    for (i, c) in bundle.char_indices() {
        if VALUED.iter().any(|(s, _)| *s == c) {
            let attached = &bundle[i + c.len_utf8()..];
            let value = if attached.is_empty() {
                rest.next().cloned()
            } else {
                Some(attached.to_string())
            };
            return set_value(o, c, value);
        }
        set_flag(o, c)?;
    }
    Ok(())
}

fn long_flag(name: &str) -> Result<char, String> {
    Ok(match name {
        "quiet" => 'q',
        "dry-run" => 'n',
        "verbose" => 'v',
        "all" => 'a',
        "remove" => 'r',
        "show-depends" => 'D',
        "use-blacklist" => 'b',
        "syslog" => 's',
        "ignore-install" => 'i',
        "help" => 'h',
        _ => return Err(format!("unknown option --{name}")),
    })
}

fn set_flag(o: &mut Opts, c: char) -> Result<(), String> {
    match c {
        'q' => o.quiet = true,
        'n' => o.dry_run = true,
        'v' => o.verbose = true,
        'a' => o.all = true,
        'r' => o.remove = true,
        'D' => o.show_depends = true,
        'b' => o.use_blacklist = true,
        's' | 'i' => {} // no syslog of our own; no install commands to ignore
        'h' => return Err(String::new()),
        _ => return Err(format!("unknown option -{c}")),
    }
    Ok(())
}

fn set_value(o: &mut Opts, c: char, value: Option<String>) -> Result<(), String> {
    let v = value.ok_or_else(|| format!("option -{c} needs a value"))?;
    match c {
        'd' => o.dirname = Some(PathBuf::from(v)),
        _ => o.release = Some(v),
    }
    Ok(())
}

/// What the applet reads and where it reports; tests substitute all.
pub(crate) struct Env<B: Backend> {
    /// Where `etc/modprobe.d` is.
    pub config_root: PathBuf,
    pub cmdline: String,
    /// With `-q`, real load failures still go here (the kernel's helper
    /// has no terminal).
    pub kmsg: Option<PathBuf>,
    pub backend: B,
}

pub fn main(argv: &[String]) -> i32 {
    let env = Env {
        config_root: PathBuf::from("/"),
        cmdline: std::fs::read_to_string("/proc/cmdline").unwrap_or_default(),
        kmsg: Some(PathBuf::from("/dev/kmsg")),
        backend: KernelBackend::new(),
    };
    modprobe_with(
        argv.get(1..).unwrap_or_default(),
        env,
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    )
}

/// `modprobe ARGS...` (without the program name); returns the exit status.
pub(crate) fn modprobe_with<B: Backend>(
    args: &[String],
    env: Env<B>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let o = match parse_args(args) {
        Ok(o) if !o.words.is_empty() => o,
        Ok(_) => return usage(err, "no module named"),
        Err(msg) => return usage(err, &msg),
    };
    let dir = o
        .dirname
        .clone()
        .unwrap_or_else(|| PathBuf::from("/"))
        .join(MODULES_ROOT.trim_start_matches('/'));
    let dir = dir.join(o.release.clone().unwrap_or_else(kernel_release));
    let index = match Index::load(&dir) {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(err, "modprobe: {e}");
            return 1;
        }
    };
    let config = Config::load(&env.config_root, &env.cmdline);
    if o.verbose {
        for p in index.problems.iter().chain(&config.problems) {
            let _ = writeln!(err, "modprobe: warning: {p}");
        }
    }
    let mut run = Run {
        o: &o,
        kmsg: env.kmsg.as_deref(),
        loader: Loader::new(index, config, env.backend),
        out,
        err,
    };
    if o.remove {
        let failed = o.words.iter().filter(|n| !run.remove(n)).count();
        return i32::from(failed > 0);
    }
    let (names, params) = match o.all {
        true => (&o.words[..], String::new()),
        false => (&o.words[..1], o.words[1..].join(" ")),
    };
    let failed = names.iter().filter(|n| !run.one(n, &params)).count();
    i32::from(failed > 0)
}

fn usage(err: &mut dyn Write, msg: &str) -> i32 {
    if msg.is_empty() {
        let _ = writeln!(err, "{USAGE}");
    } else {
        let _ = writeln!(err, "modprobe: {msg}\n{USAGE}");
    }
    2
}

struct Run<'a, B: Backend> {
    o: &'a Opts,
    kmsg: Option<&'a Path>,
    loader: Loader<B>,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
}

impl<B: Backend> Run<'_, B> {
    /// Handles one module name; false on failure.
    fn one(&mut self, name: &str, params: &str) -> bool {
        if self.o.use_blacklist && self.loader.config.is_blacklisted(&normalize(name)) {
            return self.blacklisted(&format!("{name} is blacklisted"));
        }
        let plans = match self.loader.plan(name, params) {
            Ok(p) => p,
            Err(LoadError::NotFound { .. }) => {
                let dir = self.loader.index.dir().display().to_string();
                return self.complain(
                    false,
                    &format!("FATAL: module {name} not found in directory {dir}"),
                );
            }
            Err(e @ LoadError::Blacklisted { .. }) => return self.blacklisted(&e.to_string()),
            Err(e) => return self.complain(true, &e.to_string()),
        };
        let steps = plans.iter().flatten();
        if self.o.show_depends {
            return steps.map(|s| self.show(s)).fold(true, |a, b| a & b);
        }
        if self.o.dry_run || self.o.verbose {
            let pending: Vec<&Step> = steps.filter(|s| !self.loader.is_present(s)).collect();
            for s in pending {
                self.show(s);
            }
        }
        if self.o.dry_run {
            return true;
        }
        let result = self.loader.load_with(name, params);
        for w in self.loader.take_warnings() {
            self.complain(true, &format!("warning: {w}"));
        }
        match result {
            Ok(_) => true,
            Err(e) => self.complain(true, &format!("ERROR: could not insert {name}: {e}")),
        }
    }

    /// `-r NAME`: false on failure. `-v` and `-n` print an `rmmod` line
    /// per module, and with `-v` the dependencies left loaded.
    fn remove(&mut self, name: &str) -> bool {
        match remove(&mut self.loader, name, self.o.dry_run) {
            Ok(done) => {
                if self.o.verbose || self.o.dry_run {
                    for m in &done.modules {
                        let _ = writeln!(self.out, "rmmod {m}");
                    }
                }
                if self.o.verbose {
                    for k in &done.kept {
                        let _ = writeln!(self.err, "modprobe: kept {k}");
                    }
                }
                true
            }
            Err(e) => self.complain(true, &format!("ERROR: {e}")),
        }
    }

    /// Prints a step as kmod's `--show-depends` does.
    fn show(&mut self, s: &Step) -> bool {
        let line = match &s.location {
            Location::File(p) => format!("insmod {} {}", p.display(), s.params),
            Location::Builtin => format!("builtin {}", s.name),
            Location::Missing => {
                let dir = self.loader.index.dir().display().to_string();
                return self.complain(
                    true,
                    &format!("{}: named but not in {dir}/modules.dep", s.name),
                );
            }
        };
        let _ = writeln!(self.out, "{line}");
        true
    }

    fn blacklisted(&mut self, msg: &str) -> bool {
        if self.o.verbose {
            let _ = writeln!(self.err, "modprobe: {msg}; not loading it");
        }
        true
    }

    /// Reports a problem; with `-q` only real failures (`serious`) are
    /// written, to the kernel log. Returns false.
    fn complain(&mut self, serious: bool, msg: &str) -> bool {
        if !self.o.quiet {
            let _ = writeln!(self.err, "modprobe: {msg}");
        } else if let (true, Some(kmsg)) = (serious, self.kmsg) {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(kmsg) {
                let _ = f.write_all(format!("<27>modprobe: {msg}\n").as_bytes());
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Opts, String> {
        parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn kernel_helper_call_and_bundles() {
        let o = p(&["-q", "--", "fs-ext4"]).unwrap();
        assert!(o.quiet && o.words == ["fs-ext4"]);
        let o = p(&["-qnv", "-d/tmp/x", "ext4", "-S", "6.1", "a=1"]).unwrap();
        assert!(o.quiet && o.dry_run && o.verbose);
        assert_eq!(o.dirname, Some(PathBuf::from("/tmp/x")));
        assert_eq!(o.release.as_deref(), Some("6.1"));
        assert_eq!(
            o.words,
            ["ext4", "a=1"],
            "options may follow names, as with getopt"
        );
        let o = p(&[
            "--show-depends",
            "--dirname=/r",
            "--set-version",
            "v",
            "-a",
            "a",
            "b",
        ])
        .unwrap();
        assert!(o.show_depends && o.all && o.words == ["a", "b"]);
        assert_eq!(o.dirname, Some(PathBuf::from("/r")));
        let o = p(&["--", "-weird"]).unwrap();
        assert_eq!(o.words, ["-weird"]);
    }

    #[test]
    fn bad_options() {
        assert!(p(&["-x"]).unwrap_err().contains("unknown option -x"));
        assert!(p(&["--frob"]).unwrap_err().contains("--frob"));
        assert!(p(&["-d"]).unwrap_err().contains("needs a value"));
        assert!(p(&["--quiet=1"]).unwrap_err().contains("takes no value"));
        assert_eq!(p(&["-h"]).unwrap_err(), "");
    }
}

//! `rescue-init handoff check [FILE] [--load] [--host-cmdline PATH]`:
//! prints the plan and the validation results; exit status 0 when the
//! handoff would work. Without `--load` it only reads files; with it the
//! kernel is loaded for kexec and unloaded again (through a
//! [`KexecLoader`], which tests replace).
//!
//! `rescue-init handoff load [FILE] [--host-cmdline PATH]` loads the
//! plan's kernel and keeps it loaded, so that the reboot need not (see
//! `handoff/preload.rs`).

use crate::handoff::{build, read, validate, Fallback, Plan, DEFAULT_PATH, RECORDED_CMDLINE_PATH};
use crate::kexec;
use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;

/// Loads a plan's kernel for kexec and unloads it again (a dry run of the
/// real load). Any `Fn(&Plan) -> Result<(), E: Display>` is one.
pub(crate) trait KexecLoader {
    fn load_and_unload(&self, plan: &Plan) -> Result<(), String>;
}

impl<F, E> KexecLoader for F
where
    F: Fn(&Plan) -> Result<(), E>,
    E: fmt::Display,
{
    fn load_and_unload(&self, plan: &Plan) -> Result<(), String> {
        self(plan).map_err(|e| e.to_string())
    }
}

const USAGE: &str =
    "usage: rescue-init handoff check [FILE] [--load] [--host-cmdline PATH]\n       \
    rescue-init handoff load [FILE] [--host-cmdline PATH]\n  \
    FILE             the handoff file (default /run/rescue-init/handoff)\n  \
    --load           also load the kernel with kexec and unload it again\n  \
    load             load the plan's kernel and keep it: the reboot skips the load\n  \
    --host-cmdline   the recorded host command line (default /etc/rescue-init/host-cmdline)\n\
    Exit status: 0 the handoff would work, 1 it would not, 2 usage error.";

#[derive(Debug, PartialEq, Eq)]
struct Opts {
    file: PathBuf,
    recorded: PathBuf,
    load: bool,
}

/// `argv`: `handoff check ...` or `handoff load ...`.
pub fn main(argv: &[String]) -> i32 {
    match argv.get(1).map(String::as_str) {
        Some("check") => {}
        Some("load") => return load_main(&argv[2..]),
        _ => {
            eprintln!("{USAGE}");
            return 2;
        }
    }
    run(
        &argv[2..],
        Some(&load_and_unload),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    )
}

/// `--load`: really load the planned kernel, then unload it.
fn load_and_unload(plan: &Plan) -> Result<(), String> {
    let k = plan.kexec.as_ref().ok_or("the plan does not kexec")?;
    let initrd = k.initrd.as_ref().map(|(p, _)| p.as_path());
    let method = kexec::load(&k.kernel.0, initrd, &k.cmdline.0).map_err(|e| e.to_string())?;
    println!("loaded with {method:?}; /sys/kernel/kexec_loaded says 1; unloading");
    kexec::unload().map_err(|e| format!("unload: {e}"))
}

/// `handoff load`: the plan's kernel loaded and remembered.
fn load_main(args: &[String]) -> i32 {
    let opts = match parse_args(args) {
        Ok(o) if !o.load => o,
        Ok(_) => return usage_error("--load is for `handoff check`"),
        Err(msg) if msg.is_empty() => return usage_error(""),
        Err(msg) => return usage_error(&msg),
    };
    let plan = match read(&opts.file)
        .map_err(|e| e.to_string())
        .and_then(|f| build(&f, &opts.file, &opts.recorded).map_err(|e| e.to_string()))
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("handoff load: {e}");
            return 1;
        }
    };
    let Some(k) = &plan.kexec else {
        eprintln!("handoff load: ACTION={}: nothing to load", plan.action.0);
        return 1;
    };
    let v = validate(k);
    if !v.is_ok() {
        eprintln!(
            "handoff load: the plan does not pass its checks: {}",
            v.problems().join("; ")
        );
        return 1;
    }
    if crate::handoff::preload::still_loaded(k) {
        println!(
            "handoff load: {} is loaded already and unchanged",
            k.kernel.0.display()
        );
        return 0;
    }
    let initrd = k.initrd.as_ref().map(|(p, _)| p.as_path());
    match kexec::load(&k.kernel.0, initrd, &k.cmdline.0) {
        Ok(method) => {
            crate::handoff::preload::remember(k);
            println!("handoff load: {} loaded ({method:?}); the reboot kexecs it without loading it again unless the plan changes", k.kernel.0.display());
            0
        }
        Err(e) => {
            eprintln!("handoff load: {e}");
            1
        }
    }
}

fn usage_error(msg: &str) -> i32 {
    if !msg.is_empty() {
        eprintln!("handoff load: {msg}");
    }
    eprintln!("{USAGE}");
    2
}

fn parse_args(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        file: DEFAULT_PATH.into(),
        recorded: RECORDED_CMDLINE_PATH.into(),
        load: false,
    };
    let mut file = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--load" => o.load = true,
            "--host-cmdline" => o.recorded = it.next().ok_or("--host-cmdline needs a path")?.into(),
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s:?}")),
            s if file.is_none() => file = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument {s:?}")),
        }
    }
    o.file = file.unwrap_or(o.file);
    Ok(o)
}

fn run(
    args: &[String],
    loader: Option<&dyn KexecLoader>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let opts = match parse_args(args) {
        Ok(o) => o,
        Err(msg) if msg.is_empty() => {
            let _ = writeln!(out, "{USAGE}");
            return 0;
        }
        Err(msg) => {
            let _ = writeln!(err, "handoff check: {msg}\n{USAGE}");
            return 2;
        }
    };
    match report(&opts, loader, out) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            let _ = writeln!(err, "handoff check: {e}");
            1
        }
    }
}

/// Prints plan and checks; Ok(true) when the handoff would work.
fn report(opts: &Opts, loader: Option<&dyn KexecLoader>, out: &mut dyn Write) -> io::Result<bool> {
    let file = match read(&opts.file) {
        Ok(f) => f,
        Err(e) => {
            writeln!(out, "{e}\nresult: no usable handoff file")?;
            return Ok(false);
        }
    };
    let plan = match build(&file, &opts.file, &opts.recorded) {
        Ok(p) => p,
        Err(e) => {
            let fallback = file.fallback.map_or(Fallback::Reboot, |v| v.value);
            writeln!(
                out,
                "{e}\nresult: a kexec would FAIL (then FALLBACK={fallback})"
            )?;
            return Ok(false);
        }
    };
    write!(out, "{plan}")?;
    let Some(k) = &plan.kexec else {
        writeln!(out, "result: ACTION={}, nothing to kexec", plan.action.0)?;
        return Ok(true);
    };
    let v = validate(k);
    write!(out, "{v}")?;
    if !v.is_ok() {
        writeln!(
            out,
            "result: a kexec would FAIL (then FALLBACK={})",
            plan.fallback.0
        )?;
        return Ok(false);
    }
    if opts.load {
        let loaded = match loader {
            Some(l) => l.load_and_unload(&plan),
            None => Err("this build has no kexec loader".into()),
        };
        match loaded {
            Ok(()) => writeln!(
                out,
                "  ok   load: the kernel accepted the image (unloaded again)"
            )?,
            Err(e) => {
                writeln!(
                    out,
                    "  FAIL load: {e}\nresult: a kexec would FAIL (then FALLBACK={})",
                    plan.fallback.0
                )?;
                return Ok(false);
            }
        }
    }
    writeln!(out, "result: a kexec would work")?;
    Ok(true)
}

#[cfg(test)]
pub(crate) fn run_for_test(
    args: &[&str],
    loader: Option<&dyn KexecLoader>,
) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(&args, loader, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> Result<Opts, String> {
        parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments() {
        let d = opts(&[]).unwrap();
        assert_eq!(
            d,
            Opts {
                file: DEFAULT_PATH.into(),
                recorded: RECORDED_CMDLINE_PATH.into(),
                load: false
            }
        );
        let o = opts(&["/tmp/h", "--load", "--host-cmdline", "/tmp/c"]).unwrap();
        assert_eq!(
            o,
            Opts {
                file: "/tmp/h".into(),
                recorded: "/tmp/c".into(),
                load: true
            }
        );
        assert!(opts(&["--host-cmdline"])
            .unwrap_err()
            .contains("needs a path"));
        assert!(opts(&["--bogus"]).unwrap_err().contains("unknown option"));
        assert!(opts(&["a", "b"])
            .unwrap_err()
            .contains("unexpected argument"));
        assert_eq!(opts(&["-h"]).unwrap_err(), "");
    }

    #[test]
    fn usage_exit_codes() {
        assert_eq!(run_for_test(&["--bogus"], None).0, 2);
        let (code, out, _) = run_for_test(&["--help"], None);
        assert_eq!(code, 0);
        assert!(out.starts_with("usage: rescue-init handoff check"));
    }
}

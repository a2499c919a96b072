//! `mkimage build`'s command line: its options and their values.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::{once, unexpected, Arg, Command, OutputOpts, Parser, UsageError, BUILD_HELP};
use crate::image::{BuildSpec, Node};
use crate::modules::ModuleSpec;

/// `build`'s options as collected, before the checks at the end.
#[derive(Default)]
struct Collected {
    out: OutputOpts,
    spec: BuildSpec,
    init: Option<PathBuf>,
    config: Option<PathBuf>,
}

/// Parses build's options. With `--config FILE`, the manifest's settings
/// come first and the command line's after them: a value the command line
/// gives replaces the manifest's, and repeated options (`--rootfs`,
/// `--file`, `--mknod`, `--bin`, `--module`) add to the manifest's.
pub(super) fn parse_build(p: Parser) -> Result<Command, UsageError> {
    let args: Vec<OsString> = p.args.collect();
    let mut first = Parser::new(args.clone(), Vec::new());
    first.command = "build";
    let Some(c) = collect(&mut first)? else {
        return Ok(Command::Help(BUILD_HELP));
    };
    let Some(path) = &c.config else {
        return finish(&first, c);
    };
    let mut p = Parser::new(args, super::config::load(path)?);
    p.command = "build";
    match collect(&mut p)? {
        Some(c) => finish(&p, c),
        None => Ok(Command::Help(BUILD_HELP)),
    }
}

/// Reads every option; None for `--help`.
fn collect(p: &mut Parser) -> Result<Option<Collected>, UsageError> {
    let mut c = Collected::default();
    c.out.both = true;
    let spec = &mut c.spec;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Opt("help", _) => return Ok(None),
            Arg::Opt(name, shown) if c.out.take(p, name, &shown)? => {}
            Arg::Opt("config", shown) => {
                let path = p.value(&shown)?.into();
                once(p, &shown, &mut c.config, path)?;
            }
            Arg::Opt("init", shown) => c.init = Some(p.value(&shown)?.into()),
            Arg::Opt("rootfs", shown) => spec.rootfs.push(p.value(&shown)?.into()),
            Arg::Opt("file", shown) => {
                let v = p.value(&shown)?;
                spec.files.push(parse_file(p, &v)?);
            }
            Arg::Opt("mknod", shown) => {
                let v = p.value(&shown)?;
                spec.nodes.push(parse_node(p, &v)?);
            }
            Arg::Opt("bin", shown) => {
                let v = p.value(&shown)?;
                if v.is_empty() {
                    return Err(p.err(format!("{shown}: empty name")));
                }
                spec.bins.push(v);
            }
            Arg::Opt("allow-missing", _) => spec.allow_missing = true,
            Arg::Opt("record-cmdline", _) => spec.record_cmdline = Some("/proc/cmdline".into()),
            Arg::Opt("microcode", shown) => {
                let dir = p.value(&shown)?.into();
                once(p, &shown, &mut c.out.opts.microcode, dir)?;
            }
            Arg::Opt(name, shown) if module_option(p, &mut spec.modules, name, &shown)? => {}
            other => return Err(unexpected(p, other)),
        }
    }
    Ok(Some(c))
}

/// The checks once every option is read.
fn finish(p: &Parser, c: Collected) -> Result<Command, UsageError> {
    let Collected {
        out,
        mut spec,
        init,
        ..
    } = c;
    spec.init = init.ok_or_else(|| p.err("missing --init FILE".into()))?;
    spec.modules.kver = out.kver.clone();
    if out.opts.microcode.is_some() && out.opts.append_to.is_some() {
        // The early loader reads only an uncompressed archive at the start.
        return Err(p.err("--microcode must be the first segment: not with --append-to".into()));
    }
    let out = out.finish(p)?;
    Ok(Command::Build {
        spec: Box::new(spec),
        out,
    })
}

/// Takes a module or firmware option of build, if `name` is one.
fn module_option(
    p: &mut Parser,
    m: &mut ModuleSpec,
    name: &str,
    shown: &str,
) -> Result<bool, UsageError> {
    match name {
        "modules-dir" => {
            let dir = p.value(shown)?.into();
            once(p, shown, &mut m.dir, dir)?;
        }
        "firmware-dir" => {
            let dir = p.value(shown)?.into();
            once(p, shown, &mut m.firmware_dir, dir)?;
        }
        "module" => {
            let v = p.value(shown)?;
            if v.is_empty() {
                return Err(p.err(format!("{shown}: empty name")));
            }
            m.names.push(v);
        }
        "modules" => m.set = p.text(shown)?.parse().map_err(|e| p.err(e))?,
        "firmware" => m.firmware = p.text(shown)?.parse().map_err(|e| p.err(e))?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `SRC:DST`, split at the last colon.
fn parse_file(p: &Parser, v: &OsStr) -> Result<(PathBuf, OsString), UsageError> {
    let bytes = v.as_bytes();
    match bytes.iter().rposition(|&b| b == b':') {
        Some(i) if i > 0 && i + 1 < bytes.len() => Ok((
            PathBuf::from(OsStr::from_bytes(&bytes[..i])),
            OsStr::from_bytes(&bytes[i + 1..]).to_os_string(),
        )),
        _ => Err(p.err(format!(
            "--file {:?}: expected SRC:DST",
            v.to_string_lossy()
        ))),
    }
}

/// `PATH:c|b:MAJOR:MINOR:MODE`, split from the right.
fn parse_node(p: &Parser, v: &OsStr) -> Result<Node, UsageError> {
    let bad = |why: &str| p.err(format!("--mknod {:?}: {why}", v.to_string_lossy()));
    let parts: Vec<&[u8]> = v.as_bytes().rsplitn(5, |&b| b == b':').collect();
    let [mode, minor, major, kind, path] = parts[..] else {
        return Err(bad("expected PATH:c|b:MAJOR:MINOR:MODE"));
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let block = match kind {
        b"c" => false,
        b"b" => true,
        _ => return Err(bad("type must be c or b")),
    };
    let number = |b: &[u8]| {
        text(b)
            .parse::<u32>()
            .map_err(|_| bad("bad major or minor number"))
    };
    let perm = u32::from_str_radix(&text(mode), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| bad("MODE must be octal, at most 7777"))?;
    if path.is_empty() {
        return Err(bad("empty PATH"));
    }
    Ok(Node {
        path: OsStr::from_bytes(path).to_os_string(),
        block,
        major: number(major)?,
        minor: number(minor)?,
        perm,
    })
}

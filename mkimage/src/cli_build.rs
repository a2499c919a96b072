//! `mkimage build`'s command line: its options and their values.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::{once, unexpected, Arg, Command, OutputOpts, Parser, UsageError, BUILD_HELP};
use crate::image::{BuildSpec, Node};
use crate::modules::ModuleSpec;

pub(super) fn parse_build(mut p: Parser) -> Result<Command, UsageError> {
    p.command = "build";
    let mut out = OutputOpts {
        both: true,
        ..OutputOpts::default()
    };
    let mut spec = BuildSpec::default();
    let mut init = None;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Opt("help", _) => return Ok(Command::Help(BUILD_HELP)),
            Arg::Opt(name, shown) if out.take(&mut p, name, &shown)? => {}
            Arg::Opt("init", shown) => init = Some(p.value(&shown)?.into()),
            Arg::Opt("rootfs", shown) => spec.rootfs.push(p.value(&shown)?.into()),
            Arg::Opt("file", shown) => {
                let v = p.value(&shown)?;
                spec.files.push(parse_file(&p, &v)?);
            }
            Arg::Opt("mknod", shown) => {
                let v = p.value(&shown)?;
                spec.nodes.push(parse_node(&p, &v)?);
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
                once(&p, &shown, &mut out.opts.microcode, dir)?;
            }
            Arg::Opt(name, shown) if module_option(&mut p, &mut spec.modules, name, &shown)? => {}
            other => return Err(unexpected(&p, other)),
        }
    }
    spec.init = init.ok_or_else(|| p.err("missing --init FILE".into()))?;
    spec.modules.kver = out.kver.clone();
    if out.opts.microcode.is_some() && out.opts.append_to.is_some() {
        // The early loader reads only an uncompressed archive at the start.
        return Err(p.err("--microcode must be the first segment: not with --append-to".into()));
    }
    let out = out.finish(&p)?;
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

//! `mkimage build --config FILE`: the manifest's settings become the
//! options they name, read before the command line's.
//!
//! Every key is a long option of `build` without its dashes; options that
//! may be repeated take an array (or one string), flags take `true` or
//! `false`, `level` and `top` an integer. Relative paths are relative to
//! the manifest's directory, so a manifest means the same from anywhere.

use std::ffi::OsString;
use std::path::Path;

use super::UsageError;
use crate::manifest::{self, Setting, Value};

/// How a key's value is written and turned into option arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Type {
    Flag,
    Int,
    Text,
    /// A size: `"64M"`, `"none"` or an integer.
    Size,
    Path,
    Texts,
    Paths,
    /// `SRC:DST`, SRC a path.
    Files,
    /// A `NAME` or, with a `/`, a path.
    Names,
}

/// The keys a manifest may hold: the options of `build` but `--config`.
const KEYS: [(&str, Type); 25] = [
    ("output", Type::Path),
    ("init", Type::Path),
    ("rootfs", Type::Paths),
    ("file", Type::Files),
    ("mknod", Type::Texts),
    ("bin", Type::Names),
    ("allow-missing", Type::Flag),
    ("record-cmdline", Type::Flag),
    ("compress", Type::Text),
    ("level", Type::Int),
    ("kernel-config", Type::Path),
    ("kver", Type::Text),
    ("module", Type::Names),
    ("modules", Type::Text),
    ("modules-dir", Type::Path),
    ("firmware", Type::Text),
    ("firmware-dir", Type::Path),
    ("microcode", Type::Path),
    ("dedup", Type::Flag),
    ("append-to", Type::Path),
    ("quiet", Type::Flag),
    ("json", Type::Flag),
    ("warn-image-size", Type::Size),
    ("warn-file-size", Type::Size),
    ("top", Type::Int),
];

/// Reads the manifest at `path` into option arguments, each with its
/// `FILE:LINE`.
pub(super) fn load(path: &Path) -> Result<Vec<(OsString, String)>, UsageError> {
    let usage = |message: String| UsageError {
        message,
        command: "build",
    };
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| usage(format!("cannot read manifest {shown}: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| usage(format!("{shown}: not UTF-8 text (TOML must be)")))?;
    let settings =
        manifest::parse(&text).map_err(|e| usage(format!("{shown}:{}: {}", e.line, e.message)))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut args = Vec::new();
    for s in &settings {
        let at = format!("{shown}:{}", s.line);
        let more = arguments(s, base).map_err(|m| usage(format!("{at}: {m}")))?;
        args.extend(more.into_iter().map(|a| (a, at.clone())));
    }
    Ok(args)
}

/// The option arguments for one setting.
fn arguments(s: &Setting, base: &Path) -> Result<Vec<OsString>, String> {
    let Some(&(key, ty)) = KEYS.iter().find(|(k, _)| *k == s.key) else {
        return Err(unknown(&s.key));
    };
    let wrong = |want: &str| format!("{key} must be {want}, not {}", s.value.kind());
    let values: Vec<String> = match (&s.value, ty) {
        (Value::Bool(true), Type::Flag) => return Ok(vec![format!("--{key}").into()]),
        (Value::Bool(false), Type::Flag) => return Ok(Vec::new()),
        (_, Type::Flag) => return Err(wrong("true or false")),
        (Value::Int(n), Type::Int | Type::Size) => vec![n.to_string()],
        (_, Type::Int) => return Err(wrong("an integer")),
        (Value::Str(v), Type::Text | Type::Size | Type::Path) => vec![v.clone()],
        (_, Type::Text | Type::Path | Type::Size) => return Err(wrong("a string")),
        (Value::Str(v), _) => vec![v.clone()],
        (Value::List(items), _) => items.clone(),
        _ => return Err(wrong("a string or an array of strings")),
    };
    values
        .into_iter()
        .map(|v| {
            let v = resolve(ty, &v, base).ok_or_else(|| format!("{key}: empty value"))?;
            let mut arg = OsString::from(format!("--{key}="));
            arg.push(v);
            Ok(arg)
        })
        .collect()
}

/// `v` with its path part made relative to `base`; None if empty.
fn resolve(ty: Type, v: &str, base: &Path) -> Option<OsString> {
    if v.is_empty() {
        return None;
    }
    let join = |p: &str| -> OsString {
        if Path::new(p).is_absolute() {
            p.into()
        } else {
            base.join(p).into_os_string()
        }
    };
    Some(match ty {
        Type::Path | Type::Paths => join(v),
        Type::Names if v.contains('/') => join(v),
        // Split as `--file` splits: at the last colon.
        Type::Files => match v.rsplit_once(':') {
            Some((src, dst)) if !src.is_empty() => {
                let mut s = join(src);
                s.push(format!(":{dst}"));
                s
            }
            _ => v.into(),
        },
        _ => v.into(),
    })
}

fn unknown(key: &str) -> String {
    let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    format!(
        "unknown key {key:?}; the keys are the long options of 'mkimage build': {}",
        known.join(", ")
    )
}

#[cfg(test)]
#[path = "cli_config_tests.rs"]
mod tests;

//! `mkimage build --config FILE`: a TOML manifest whose keys are build's
//! long options without their dashes, read into the same `BuildArgs`
//! as the command line, then merged with it by `merge`.
//!
//! serde's `deny_unknown_fields` does not work with the flattened output
//! options, so the keys are checked here against build's options, which
//! also gives a "did you mean". Each key is deserialized on its own, so
//! that an error in its value names the key, its line and its column.

use std::ops::Range;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use serde::Deserialize;
use toml::de::{DeTable, Deserializer};
use toml::Spanned;

use super::args::{BuildArgs, Cli, OutputArgs};

/// An error in a manifest's text, at a line and column (from 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct Located {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// An error in a manifest file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ManifestError {
    #[error("cannot read manifest {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}: not UTF-8 text (TOML must be)", path.display())]
    NotText { path: PathBuf },
    #[error("{}:{at}", path.display())]
    At { path: PathBuf, at: Located },
}

/// Reads the manifest at `path`; its relative paths are made relative to
/// its directory, so that it means the same from anywhere.
pub(crate) fn load(path: &Path) -> Result<BuildArgs, ManifestError> {
    let bytes = std::fs::read(path).map_err(|cause| ManifestError::Read {
        path: path.to_path_buf(),
        cause,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| ManifestError::NotText {
        path: path.to_path_buf(),
    })?;
    let mut args = parse(&text).map_err(|at| ManifestError::At {
        path: path.to_path_buf(),
        at,
    })?;
    rebase(&mut args, path.parent().unwrap_or(Path::new(".")));
    Ok(args)
}

/// The options a manifest's text sets.
pub fn parse(text: &str) -> Result<BuildArgs, Located> {
    let located = |span: Option<Range<usize>>, message: String| {
        let (line, column) = position(text, span.map_or(0, |s| s.start));
        Located {
            line,
            column,
            message,
        }
    };
    let table = DeTable::parse(text).map_err(|e| located(e.span(), e.message().into()))?;
    let keys = keys();
    let mut args = BuildArgs::default();
    for (key, value) in table.get_ref() {
        let name: &str = key.get_ref();
        if value.get_ref().is_table() {
            let why = "tables are not used: write every key at the top level";
            return Err(located(Some(key.span()), format!("[{name}]: {why}")));
        }
        if !keys.iter().any(|k| k == name) {
            return Err(located(Some(key.span()), unknown(name, &keys)));
        }
        let mut one = DeTable::new();
        one.insert(key.clone(), value.clone());
        let de = Deserializer::from(Spanned::new(table.span(), one));
        let set = BuildArgs::deserialize(de)
            .map_err(|e| located(Some(value.span()), format!("{name}: {}", e.message())))?;
        args = merge(args, set);
    }
    Ok(args)
}

/// The keys a manifest may hold: build's long options but `--config`.
pub(crate) fn keys() -> Vec<String> {
    let cli = Cli::command();
    let build = cli.find_subcommand("build").into_iter();
    build
        .flat_map(|b| b.get_arguments())
        .filter_map(|a| a.get_long())
        .filter(|long| !matches!(*long, "config" | "help" | "version"))
        .map(str::to_string)
        .collect()
}

fn unknown(key: &str, keys: &[String]) -> String {
    let near = keys
        .iter()
        .map(|k| (strsim::jaro_winkler(key, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = near.map_or(String::new(), |(_, k)| format!(" (did you mean {k:?}?)"));
    format!(
        "unknown key {key:?}{hint}; the keys are the long options of 'mkimage build': {}",
        keys.join(", ")
    )
}

/// Line and column (from 1, in characters) of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

/// Makes the manifest's relative host paths relative to `base`.
fn rebase(a: &mut BuildArgs, base: &Path) {
    let join = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    };
    let out = &mut a.out;
    let once = [
        &mut a.init,
        &mut a.modules_dir,
        &mut a.firmware_dir,
        &mut a.microcode,
        &mut a.sysroot,
        &mut out.output,
        &mut out.kernel_config,
        &mut out.append_to,
    ];
    once.into_iter().flatten().for_each(join);
    a.rootfs.iter_mut().for_each(join);
    a.file.iter_mut().for_each(|f| join(&mut f.src));
    // A name with a '/' is a path; one without is looked up.
    for name in a.bin.iter_mut().chain(&mut a.module) {
        let path = Path::new(name.as_os_str());
        if path.is_relative() && name.as_encoded_bytes().contains(&b'/') {
            *name = base.join(path).into_os_string();
        }
    }
}

/// How a setting of the command line combines with the manifest's.
trait Merge {
    fn merge(self, cli: Self) -> Self;
}

/// A value given on the command line replaces the manifest's.
impl<T> Merge for Option<T> {
    fn merge(self, cli: Self) -> Self {
        cli.or(self)
    }
}

/// A repeatable option adds to the manifest's list.
impl<T> Merge for Vec<T> {
    fn merge(mut self, cli: Self) -> Self {
        self.extend(cli);
        self
    }
}

/// A flag can only be turned on.
impl Merge for bool {
    fn merge(self, cli: Self) -> Self {
        self || cli
    }
}

/// Builds `$ty` with each field of `$m` merged with that of `$c`. A
/// struct expression without `..`: a new option cannot be forgotten.
macro_rules! merged {
    ($ty:ident, $m:expr, $c:expr; $($field:ident),*) => {
        $ty { $($field: $m.$field.merge($c.$field)),* }
    };
}

impl Merge for OutputArgs {
    fn merge(self, c: Self) -> Self {
        merged!(OutputArgs, self, c;
            output, compress, level, kernel_config, kver, dedup, append_to, exclude, quiet, json, top,
            warn_image_size, warn_file_size)
    }
}

impl Merge for BuildArgs {
    fn merge(self, c: Self) -> Self {
        merged!(BuildArgs, self, c;
            config, init, rootfs, file, mknod, bin, record_cmdline, allow_missing, sysroot, module,
            modules, modules_dir, firmware, firmware_dir, microcode, out)
    }
}

/// The manifest's options `m` with the command line's `c` applied.
pub(crate) fn merge(m: BuildArgs, c: BuildArgs) -> BuildArgs {
    m.merge(c)
}

#[cfg(test)]
mod tests;

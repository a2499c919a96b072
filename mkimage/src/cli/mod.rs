//! The command line: clap reads it (`args`), `build --config` adds a
//! manifest ([`manifest`]), and the result becomes what the commands do
//! (`Command`), after the checks that span several options.

pub(crate) mod args;
pub(crate) mod generate;
mod help;
pub mod manifest;
pub(crate) mod values;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use crate::compress::kconfig::{Choice, KernelRef};
use crate::compress::{Compression, Method};
use crate::image::BuildSpec;
use crate::kmod::ModuleSpec;
use crate::report::limits::Limit;
use crate::tree::exclude::Exclude;
use args::{BuildArgs, Cli, Generated, OutputArgs, Sub};

/// Where and how to write an image. The compression is decided later,
/// from the target kernel's config when it is not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Output {
    pub path: PathBuf,
    pub choice: Choice,
    pub opts: WriteOpts,
}

/// How to write an image, besides its compression (build and pack).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WriteOpts {
    /// `--dedup`: identical files become hard links.
    pub dedup: bool,
    /// `--append-to`: an image whose bytes come first.
    pub append_to: Option<PathBuf>,
    /// `--quiet`: no summary line.
    pub quiet: bool,
    /// `--json`: the summary as JSON on stdout.
    pub json: bool,
    /// `--microcode` (build): the early microcode directory.
    pub microcode: Option<PathBuf>,
    /// `--warn-image-size`: when the image size gets a warning.
    pub warn_image: Limit,
    /// `--warn-file-size`: when a single file gets a warning.
    pub warn_file: Limit,
    /// `--top N`: directories in the summary's largest list.
    pub top: Option<usize>,
    /// `--exclude`: entries left out of the image.
    pub exclude: Exclude,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Build {
        spec: Box<BuildSpec>,
        out: Output,
    },
    Pack {
        dir: PathBuf,
        out: Output,
        keep_owners: bool,
    },
    List {
        file: PathBuf,
    },
    Extract {
        image: PathBuf,
        dir: PathBuf,
    },
    Generate {
        what: Generated,
        dir: Option<PathBuf>,
    },
}

/// A problem that only shows once the options are read together.
struct Problem(ErrorKind, String);

/// Parses the arguments after the program name. `--help` and
/// `--version` come back as clap errors of their kinds, which print
/// the text and exit 0 (`clap::Error::exit`).
pub(crate) fn parse<I, T>(args: I) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let program = std::iter::once(OsString::from("mkimage"));
    let cli = Cli::try_parse_from(program.chain(args.into_iter().map(Into::into)))?;
    let (name, result) = match cli.command {
        Sub::Build(b) => ("build", build(*b)),
        Sub::Pack(p) => (
            "pack",
            output(p.out, None, false).map(|(out, _)| Command::Pack {
                dir: p.dir,
                out,
                keep_owners: p.keep_owners,
            }),
        ),
        Sub::List(l) => return Ok(Command::List { file: l.file }),
        Sub::Extract(e) => {
            let (image, dir) = (e.image, e.dir);
            return Ok(Command::Extract { image, dir });
        }
        Sub::Generate(g) => {
            return Ok(Command::Generate {
                what: g.what,
                dir: g.dir,
            })
        }
    };
    result.map_err(|Problem(kind, message)| usage_error(name, kind, message))
}

/// A usage error of command `name`, formatted as clap's own (with the
/// command's usage line), so that every usage error looks the same.
fn usage_error(name: &str, kind: ErrorKind, message: String) -> clap::Error {
    let mut cli = Cli::command();
    cli.build();
    match cli.find_subcommand_mut(name) {
        Some(sub) => sub.error(kind, message),
        None => cli.error(kind, message),
    }
}

/// `build`: the manifest's options, if any, with the command line's on
/// top; then the checks.
fn build(cli: BuildArgs) -> Result<Command, Problem> {
    let args = match &cli.config {
        Some(path) => {
            let m = manifest::load(path)
                .map_err(|e| Problem(ErrorKind::InvalidValue, e.to_string()))?;
            manifest::merge(m, cli)
        }
        None => cli,
    };
    let missing = |what: &str| {
        Problem(
            ErrorKind::MissingRequiredArgument,
            format!("missing {what}"),
        )
    };
    let init = args.init.ok_or_else(|| missing("--init FILE"))?;
    if args.microcode.is_some() && args.out.append_to.is_some() {
        // The early loader reads only an uncompressed archive at the start.
        let why = "--microcode must be the first segment: not with --append-to";
        return Err(Problem(ErrorKind::ArgumentConflict, why.into()));
    }
    let (out, kver) = output(args.out, args.microcode, true)?;
    let modules = ModuleSpec {
        kver,
        dir: args.modules_dir,
        names: args.module,
        set: args.modules.unwrap_or_default(),
        firmware: args.firmware.unwrap_or_default(),
        firmware_dir: args.firmware_dir,
    };
    let spec = BuildSpec {
        init,
        rootfs: args.rootfs,
        files: args.file.into_iter().map(|f| (f.src, f.dst)).collect(),
        nodes: args.mknod.into_iter().map(|n| n.0).collect(),
        bins: args.bin,
        allow_missing: args.allow_missing,
        sysroot: args.sysroot,
        modules,
        record_cmdline: args.record_cmdline.then(|| "/proc/cmdline".into()),
    };
    Ok(Command::Build {
        spec: Box::new(spec),
        out,
    })
}

/// The output of build (`both`: `--kver` may come with `--kernel-config`,
/// then naming the modules only) or pack, and the `--kver` given.
fn output(
    o: OutputArgs,
    microcode: Option<PathBuf>,
    both: bool,
) -> Result<(Output, Option<String>), Problem> {
    let path = o
        .output
        .ok_or_else(|| Problem(ErrorKind::MissingRequiredArgument, "missing -o FILE".into()))?;
    let kver = o.kver.map(|v| v.0);
    let kernel = match (o.kernel_config, kver.clone()) {
        (Some(_), Some(_)) if !both => {
            let why = "give only one of --kernel-config and --kver";
            return Err(Problem(ErrorKind::ArgumentConflict, why.into()));
        }
        (Some(c), _) => Some(KernelRef::Config(c)),
        (None, Some(v)) => Some(KernelRef::Version(v)),
        (None, None) => None,
    };
    // Without a method or a kernel config, gzip is the default: the level
    // can be checked now. Otherwise it is checked once the method is known.
    let known = match (o.compress, &kernel) {
        (Some(m), _) => Some(m),
        (None, None) => Some(Method::Gzip),
        (None, Some(_)) => None,
    };
    if let Some(method) = known {
        Compression::new(method, o.level).map_err(|e| Problem(ErrorKind::InvalidValue, e))?;
    }
    let opts = WriteOpts {
        dedup: o.dedup,
        append_to: o.append_to,
        quiet: o.quiet,
        json: o.json,
        microcode,
        warn_image: o.warn_image_size.unwrap_or_default(),
        warn_file: o.warn_file_size.unwrap_or_default(),
        top: o.top,
        exclude: Exclude::new(&o.exclude),
    };
    let choice = Choice {
        method: o.compress,
        level: o.level,
        kernel,
    };
    Ok((Output { path, choice, opts }, kver))
}

#[cfg(test)]
mod tests;

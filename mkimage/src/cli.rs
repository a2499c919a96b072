//! Command line parsing: a small hand-written parser, no dependencies.
//!
//! Options take `--name VALUE`, `--name=VALUE`, `-o VALUE` or `-oVALUE`;
//! `--` ends the options.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

pub use crate::help::{BUILD_HELP, EXTRACT_HELP, LIST_HELP, MAIN_HELP, PACK_HELP};
use crate::image::BuildSpec;
use crate::kconfig::Choice;
use crate::limits::Limit;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where and how to write an image. The compression is decided later,
/// from the target kernel's config when it is not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub path: PathBuf,
    pub choice: Choice,
    pub opts: WriteOpts,
}

/// How to write an image, besides its compression (build and pack).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOpts {
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
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
    Help(&'static str),
    Version,
}

/// A usage error, with the command whose help to suggest.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub command: &'static str,
}

/// One parsed argument.
enum Arg {
    /// An option by its long name (`o` is `output`), as written.
    Opt(&'static str, String),
    Pos(OsString),
}

struct Parser {
    /// Arguments from a manifest, with their `FILE:LINE`; read first.
    queued: std::collections::VecDeque<(OsString, String)>,
    args: std::vec::IntoIter<OsString>,
    inline: Option<OsString>,
    only_positional: bool,
    command: &'static str,
    /// Where the current option comes from, if from a manifest.
    origin: Option<String>,
    /// Options given once that a manifest set: the command line may
    /// replace them.
    from_manifest: Vec<String>,
}

const SHORT: [(u8, &str); 3] = [(b'o', "output"), (b'h', "help"), (b'V', "version")];
const LONG: [&str; 29] = [
    "config",
    "warn-image-size",
    "warn-file-size",
    "top",
    "microcode",
    "quiet",
    "json",
    "dedup",
    "append-to",
    "output",
    "help",
    "version",
    "compress",
    "level",
    "kernel-config",
    "kver",
    "keep-owners",
    "init",
    "rootfs",
    "file",
    "mknod",
    "bin",
    "allow-missing",
    "record-cmdline",
    "modules-dir",
    "module",
    "modules",
    "firmware",
    "firmware-dir",
];

impl Parser {
    fn new(args: Vec<OsString>, queued: Vec<(OsString, String)>) -> Self {
        Parser {
            queued: queued.into(),
            args: args.into_iter(),
            inline: None,
            only_positional: false,
            command: "",
            origin: None,
            from_manifest: Vec::new(),
        }
    }

    /// An error; one about a manifest setting names its file and line.
    fn err(&self, message: String) -> UsageError {
        let message = match &self.origin {
            Some(at) => format!("{at}: {message}"),
            None => message,
        };
        UsageError {
            message,
            command: self.command,
        }
    }

    fn next(&mut self) -> Result<Option<Arg>, UsageError> {
        if let Some(v) = self.inline.take() {
            return Err(self.err(format!("unexpected value {:?}", v.to_string_lossy())));
        }
        if let Some((arg, origin)) = self.queued.pop_front() {
            // Manifest arguments are always `--key=value` or `--key`.
            self.origin = Some(origin);
            return self.option(arg.as_bytes()).map(Some);
        }
        self.origin = None;
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        let bytes = arg.as_bytes();
        if self.only_positional || bytes == b"-" || !bytes.starts_with(b"-") {
            return Ok(Some(Arg::Pos(arg)));
        }
        if bytes == b"--" {
            self.only_positional = true;
            return self.next();
        }
        self.option(bytes).map(Some)
    }

    fn option(&mut self, bytes: &[u8]) -> Result<Arg, UsageError> {
        let (name, shown, inline) = if let Some(long) = bytes.strip_prefix(b"--") {
            let eq = long.iter().position(|&b| b == b'=');
            let name = &long[..eq.unwrap_or(long.len())];
            let known = LONG.iter().find(|l| l.as_bytes() == name).copied();
            let dashes = if self.origin.is_some() { "" } else { "--" };
            let shown = format!("{dashes}{}", String::from_utf8_lossy(name));
            (known, shown, eq.map(|i| &long[i + 1..]))
        } else {
            let known = SHORT.iter().find(|(c, _)| *c == bytes[1]).map(|(_, l)| *l);
            let shown = format!("-{}", String::from_utf8_lossy(&bytes[1..2]));
            (
                known,
                shown,
                Some(&bytes[2..]).filter(|rest| !rest.is_empty()),
            )
        };
        let Some(name) = name else {
            return Err(self.err(format!("unknown option {shown}")));
        };
        self.inline = inline.map(|v| OsStr::from_bytes(v).to_os_string());
        Ok(Arg::Opt(name, shown))
    }

    fn value(&mut self, shown: &str) -> Result<OsString, UsageError> {
        match self.inline.take().or_else(|| self.args.next()) {
            Some(v) => Ok(v),
            None => Err(self.err(format!("{shown} needs a value"))),
        }
    }

    fn text(&mut self, shown: &str) -> Result<String, UsageError> {
        let v = self.value(shown)?;
        v.into_string()
            .map_err(|v| self.err(format!("{shown}: invalid value {:?}", v.to_string_lossy())))
    }
}

/// Sets an option that may be given only once; on the command line it
/// may replace the manifest's value.
fn once<T>(p: &mut Parser, shown: &str, slot: &mut Option<T>, value: T) -> Result<(), UsageError> {
    let name = shown.trim_start_matches('-').to_string();
    let replaces = p.origin.is_none() && p.from_manifest.contains(&name);
    if slot.is_some() && !replaces {
        return Err(p.err(format!("{shown} given twice")));
    }
    if p.origin.is_some() {
        p.from_manifest.push(name);
    }
    *slot = Some(value);
    Ok(())
}

fn unexpected(p: &Parser, arg: Arg) -> UsageError {
    match arg {
        Arg::Opt(_, shown) => p.err(format!("{shown} is not an option of this command")),
        Arg::Pos(v) => p.err(format!("unexpected argument {:?}", v.to_string_lossy())),
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Command, UsageError> {
    let mut p = Parser::new(args, Vec::new());
    match p.next()? {
        None => Err(p.err("missing command".into())),
        Some(Arg::Opt("help", _)) => Ok(Command::Help(MAIN_HELP)),
        Some(Arg::Opt("version", _)) => Ok(Command::Version),
        Some(Arg::Pos(cmd)) => match cmd.as_bytes() {
            b"build" => build::parse_build(p),
            b"pack" => parse_pack(p),
            b"list" => parse_list(p),
            b"extract" => parse_extract(p),
            b"help" => parse_help(p),
            _ => Err(p.err(format!("unknown command {:?}", cmd.to_string_lossy()))),
        },
        Some(other) => Err(unexpected(&p, other)),
    }
}

fn parse_help(mut p: Parser) -> Result<Command, UsageError> {
    let text = match p.next()? {
        None => MAIN_HELP,
        Some(Arg::Pos(cmd)) => match cmd.as_bytes() {
            b"build" => BUILD_HELP,
            b"pack" => PACK_HELP,
            b"list" => LIST_HELP,
            b"extract" => EXTRACT_HELP,
            _ => return Err(p.err(format!("unknown command {:?}", cmd.to_string_lossy()))),
        },
        Some(other) => return Err(unexpected(&p, other)),
    };
    Ok(Command::Help(text))
}

fn parse_pack(mut p: Parser) -> Result<Command, UsageError> {
    p.command = "pack";
    let mut out = OutputOpts::default();
    let mut dir = None;
    let mut keep_owners = false;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Opt("help", _) => return Ok(Command::Help(PACK_HELP)),
            Arg::Opt(name, shown) if out.take(&mut p, name, &shown)? => {}
            Arg::Opt("keep-owners", _) => keep_owners = true,
            Arg::Pos(v) if dir.is_none() => dir = Some(PathBuf::from(v)),
            other => return Err(unexpected(&p, other)),
        }
    }
    let dir = dir.ok_or_else(|| p.err("missing DIR".into()))?;
    let out = out.finish(&p)?;
    Ok(Command::Pack {
        dir,
        out,
        keep_owners,
    })
}

fn parse_list(mut p: Parser) -> Result<Command, UsageError> {
    p.command = "list";
    let mut file = None;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Opt("help", _) => return Ok(Command::Help(LIST_HELP)),
            Arg::Pos(v) if file.is_none() => file = Some(PathBuf::from(v)),
            other => return Err(unexpected(&p, other)),
        }
    }
    let file = file.ok_or_else(|| p.err("missing FILE".into()))?;
    Ok(Command::List { file })
}

fn parse_extract(mut p: Parser) -> Result<Command, UsageError> {
    p.command = "extract";
    let mut paths = Vec::new();
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Opt("help", _) => return Ok(Command::Help(EXTRACT_HELP)),
            Arg::Pos(v) if paths.len() < 2 => paths.push(PathBuf::from(v)),
            other => return Err(unexpected(&p, other)),
        }
    }
    let mut paths = paths.into_iter();
    let image = paths.next().ok_or_else(|| p.err("missing IMAGE".into()))?;
    let dir = paths.next().ok_or_else(|| p.err("missing DIR".into()))?;
    Ok(Command::Extract { image, dir })
}

#[path = "cli_build.rs"]
mod build;
#[path = "cli_output.rs"]
mod output;
use output::OutputOpts;
#[path = "cli_config.rs"]
mod config;

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;

//! The command line as clap reads it: every subcommand and option, with
//! its help. `build`'s options are also the keys of its manifest (serde
//! reads the same structs), so each option is spelled here once.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::{OsStringValueParser, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use serde::Deserialize;

use super::help;
use super::values::{self, FileArg, KernelVersion, NodeArg};
use crate::compress::Method;
use crate::kmod::firmware::FirmwareSet;
use crate::kmod::ModuleSet;
use crate::report::limits::Limit;

#[derive(Debug, Parser)]
#[command(
    name = "mkimage",
    version,
    about = help::ABOUT,
    long_about = help::LONG_ABOUT,
    after_help = help::AFTER_HELP,
    subcommand_required = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    #[command(
        about = help::BUILD_ABOUT,
        long_about = help::BUILD_LONG_ABOUT,
        after_long_help = concat_notes(help::BUILD_AFTER),
    )]
    Build(Box<BuildArgs>),
    #[command(
        about = help::PACK_ABOUT,
        long_about = help::PACK_LONG_ABOUT,
        after_long_help = help::OUTPUT_NOTES,
    )]
    Pack(PackArgs),
    #[command(about = help::LIST_ABOUT, long_about = help::LIST_LONG_ABOUT)]
    List(ListArgs),
    #[command(about = help::EXTRACT_ABOUT, long_about = help::EXTRACT_LONG_ABOUT)]
    Extract(ExtractArgs),
    /// Write the man page or a shell completion script (for packagers).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// `build`'s notes followed by those it shares with `pack`.
fn concat_notes(own: &'static str) -> String {
    format!("{own}\n{}", help::OUTPUT_NOTES)
}

/// The options of `build`; also the keys of its manifest.
#[derive(Debug, Default, Clone, Args, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuildArgs {
    /// Read options from a manifest (TOML; see below)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// The rescue-init binary (required)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, overrides_with = "init")]
    #[serde(default, deserialize_with = "values::one")]
    pub init: Option<PathBuf>,

    /// Overlay the contents of DIR (repeatable)
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    #[serde(default, deserialize_with = "values::list")]
    pub rootfs: Vec<PathBuf>,

    /// Copy file SRC to DST in the image (repeatable; DST ending in / keeps
    /// SRC's name)
    #[arg(long, value_name = "SRC:DST", value_hint = ValueHint::FilePath,
          value_parser = OsStringValueParser::new().try_map(FileArg::parse))]
    #[serde(default, deserialize_with = "values::list")]
    pub file: Vec<FileArg>,

    /// Add a device node, MODE in octal (repeatable)
    #[arg(long, value_name = "PATH:c|b:MAJ:MIN:MODE",
          value_parser = OsStringValueParser::new().try_map(NodeArg::parse))]
    #[serde(default, deserialize_with = "values::list")]
    pub mknod: Vec<NodeArg>,

    /// Add a program with its libraries (repeatable; a NAME without / is
    /// looked up in $PATH)
    #[arg(long, value_name = "NAME|PATH", value_hint = ValueHint::CommandName,
          value_parser = OsStringValueParser::new().try_map(values::name))]
    #[serde(default, deserialize_with = "values::list")]
    pub bin: Vec<OsString>,

    /// Store this host's /proc/cmdline as /etc/rescue-init/host-cmdline
    /// (the kexec handoff's last-resort command line)
    #[arg(long, overrides_with = "record_cmdline")]
    #[serde(default)]
    pub record_cmdline: bool,

    /// Only warn about a library or interpreter that is not found
    #[arg(long, overrides_with = "allow_missing")]
    #[serde(default)]
    pub allow_missing: bool,

    /// Take --bin programs and their libraries from the system whose root
    /// is DIR (another architecture's tree, e.g. its packages unpacked with
    /// dpkg-deb -x), at the paths that system gives them
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    #[serde(default)]
    pub sysroot: Option<PathBuf>,

    /// Add a kernel module with all it needs (repeatable)
    #[arg(long, value_name = "NAME|ALIAS|PATH",
          value_parser = OsStringValueParser::new().try_map(values::name))]
    #[serde(default, deserialize_with = "values::list")]
    pub module: Vec<OsString>,

    /// Also add the modules the running kernel has loaded, or all of them
    /// [default: none]
    #[arg(long, value_name = "SET", overrides_with = "modules",
          value_parser = choices::<ModuleSet>(&["loaded", "all", "none"]))]
    #[serde(default, deserialize_with = "values::one")]
    pub modules: Option<ModuleSet>,

    /// Where the modules are [default: /lib/modules/VERSION]
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    #[serde(default, deserialize_with = "values::one")]
    pub modules_dir: Option<PathBuf>,

    /// Add the firmware the modules name, the whole firmware directory, or
    /// none [default: needed]
    #[arg(long, value_name = "SET", overrides_with = "firmware",
          value_parser = choices::<FirmwareSet>(&["needed", "all", "none"]))]
    #[serde(default, deserialize_with = "values::one")]
    pub firmware: Option<FirmwareSet>,

    /// Where firmware is [default: /lib/firmware]
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    #[serde(default, deserialize_with = "values::one")]
    pub firmware_dir: Option<PathBuf>,

    /// Put an uncompressed early microcode archive first:
    /// DIR/intel-ucode/* (in name order) become
    /// kernel/x86/microcode/GenuineIntel.bin, DIR/amd-ucode/*.bin
    /// AuthenticAMD.bin (Debian's /lib/firmware layout; not with
    /// --append-to)
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    #[serde(default, deserialize_with = "values::one")]
    pub microcode: Option<PathBuf>,

    #[command(flatten)]
    #[serde(flatten)]
    pub out: OutputArgs,
}

/// The options of `pack`.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// The directory to pack
    #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: PathBuf,

    /// Keep the uid and gid of the files
    #[arg(long, overrides_with = "keep_owners")]
    pub keep_owners: bool,

    #[command(flatten)]
    pub out: OutputArgs,
}

/// Where and how `build` and `pack` write an image.
#[derive(Debug, Default, Clone, Args, Deserialize)]
#[command(next_help_heading = "Output")]
#[serde(rename_all = "kebab-case")]
pub struct OutputArgs {
    /// Image to write (atomically, mode 0600)
    #[arg(short, long, value_name = "FILE", value_hint = ValueHint::FilePath,
          overrides_with = "output")]
    #[serde(default, deserialize_with = "values::one")]
    pub output: Option<PathBuf>,

    /// zstd, gzip, xz, lz4 or none [default: see Compression below]
    #[arg(long, value_name = "METHOD", overrides_with = "compress",
          value_parser = choices::<Method>(&Method::ALL.map(Method::name)))]
    #[serde(default, deserialize_with = "values::one")]
    pub compress: Option<Method>,

    /// zstd 1-19 (default 3), gzip 0-9 (6), xz 0-9 (6); lz4 and none have
    /// no levels
    #[arg(long, value_name = "N", overrides_with = "level")]
    #[serde(default)]
    pub level: Option<u32>,

    /// The target kernel's .config
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    #[serde(default, deserialize_with = "values::one")]
    pub kernel_config: Option<PathBuf>,

    /// The target kernel's version: reads /boot/config-VERSION (build:
    /// unless --kernel-config; it also names the modules)
    #[arg(long, value_name = "VERSION")]
    #[serde(default, deserialize_with = "values::one")]
    pub kver: Option<KernelVersion>,

    /// Store identical regular files (same contents, mode, owner and
    /// mtime) once, as hard links of the first one by path
    #[arg(long, overrides_with = "dedup")]
    #[serde(default)]
    pub dedup: bool,

    /// Write IMAGE's bytes first (zero-padded to a multiple of 4), then the
    /// new segment; -o may be IMAGE itself
    #[arg(long, value_name = "IMAGE", value_hint = ValueHint::FilePath)]
    #[serde(default, deserialize_with = "values::one")]
    pub append_to: Option<PathBuf>,

    /// Leave out the entries GLOB matches: a GLOB without / their file
    /// name (as find -name), one with / their path in the image
    /// (repeatable; see Excluding below)
    #[arg(long, value_name = "GLOB")]
    #[serde(default, deserialize_with = "values::list")]
    pub exclude: Vec<String>,

    /// No summary or progress on stderr (warnings still)
    #[arg(long, overrides_with = "quiet")]
    #[serde(default)]
    pub quiet: bool,

    /// The summary as one JSON object on stdout: entries, bytes_in,
    /// bytes_out (of the new segment), ratio (bytes_out/bytes_in), seconds,
    /// compression, file_size, mb_per_s, largest ([{dir, bytes}]), warnings
    #[arg(long, overrides_with = "json")]
    #[serde(default)]
    pub json: bool,

    /// List the N directories with the most data (default 5, 0 for none)
    #[arg(long, value_name = "N", overrides_with = "top")]
    #[serde(default)]
    pub top: Option<usize>,

    /// Warn above SIZE (N, NK, NM, NG) instead of the boot limits below
    #[arg(long, value_name = "SIZE|none", overrides_with = "warn_image_size")]
    #[serde(default, deserialize_with = "values::size")]
    pub warn_image_size: Option<Limit>,

    /// Warn about a file above SIZE [default: 64M]
    #[arg(long, value_name = "SIZE|none", overrides_with = "warn_file_size")]
    #[serde(default, deserialize_with = "values::size")]
    pub warn_file_size: Option<Limit>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The image to list
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The image to unpack
    #[arg(value_name = "IMAGE", value_hint = ValueHint::FilePath)]
    pub image: PathBuf,
    /// Where to unpack it (made if missing)
    #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to write
    #[arg(value_enum)]
    pub what: Generated,
    /// The directory to write it to (as mkimage.1, mkimage.bash, _mkimage
    /// or mkimage.fish) instead of standard output
    #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

/// What `mkimage generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generated {
    /// The man page mkimage(1)
    Man,
    Bash,
    Zsh,
    Fish,
}

/// A value parser that offers `names` (for help and completions) and
/// turns the chosen one into a `T` by its `FromStr`.
fn choices<T>(names: &[&'static str]) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(names.iter().copied()).try_map(|s| s.parse::<T>())
}

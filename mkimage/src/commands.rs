//! What each command does: the parts of the library put together, and
//! what they say on stderr. `mkimage`'s `main` is [`run`].

use std::ffi::OsString;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::archive::progress::Progress;
use crate::archive::{dedup, microcode, prefix};
use crate::cli::{Command, Output};
use crate::compress::{kconfig, Compression};
use crate::inspect::{extract, list};
use crate::report::summary::Summary;
use crate::report::{largest, limits};
use crate::tree::{bins, Tree};
use crate::{archive, cli, image, kmod};

/// Runs the command in `args` (the arguments after the program name)
/// and returns the process's exit code: 0 when it succeeded (or its
/// output was a pipe closed early), 1 when it failed (with the error on
/// stderr), 2 for a usage error (with the usage); `--help` and
/// `--version` print their text and return 0.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cmd = match cli::parse(args) {
        Ok(cmd) => cmd,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    match execute(cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mkimage: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `mkimage list | head` is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|cause| match cause.downcast_ref::<list::ListError>() {
            Some(list::ListError::Output(io)) => io.kind() == io::ErrorKind::BrokenPipe,
            _ => false,
        })
}

fn execute(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Generate { what, dir } => {
            let written = cli::generate::generate(what, dir.as_deref(), &mut io::stdout().lock())
                .context("mkimage generate")?;
            if let Some(path) = written {
                eprintln!("mkimage: wrote {}", path.display());
            }
        }
        Command::Build { spec, out } => {
            let start = Instant::now();
            let epoch = epoch()?;
            let compression = compression(&out)?;
            let sys = kmod::System::from_host();
            let (tree, warnings) = image::build_tree(&spec, &host(&spec), &sys)
                .with_context(|| format!("building {}", out.path.display()))?;
            for w in warnings {
                eprintln!("mkimage: {w}");
            }
            write(exclude(tree, &out), &out, compression, epoch, start)?;
        }
        Command::Pack {
            dir,
            out,
            keep_owners,
        } => {
            let start = Instant::now();
            let epoch = epoch()?;
            let compression = compression(&out)?;
            let tree = image::pack_tree(&dir, keep_owners, &out.path)
                .with_context(|| format!("packing {}", dir.display()))?;
            write(exclude(tree, &out), &out, compression, epoch, start)?;
        }
        Command::List { file } => list(&file)?,
        Command::Extract { image, dir } => extract(&image, &dir)?,
    }
    Ok(())
}

/// `tree` without what `--exclude` leaves out.
fn exclude(mut tree: Tree, out: &Output) -> Tree {
    if !out.opts.exclude.is_empty() {
        let n = tree.exclude(&out.opts.exclude);
        if !out.opts.quiet {
            eprintln!("mkimage: --exclude: {n} entries left out (with what is below them)");
        }
    }
    tree
}

fn epoch() -> anyhow::Result<Option<u32>> {
    Ok(image::epoch_from(std::env::var_os("SOURCE_DATE_EPOCH"))?)
}

/// The compression for `out`; says on stderr which one and why.
fn compression(out: &Output) -> anyhow::Result<Compression> {
    let (compression, notes) = kconfig::resolve(&out.choice)?;
    for note in notes {
        eprintln!("mkimage: {note}");
    }
    Ok(compression)
}

fn write(
    tree: Tree,
    out: &Output,
    c: Compression,
    epoch: Option<u32>,
    start: Instant,
) -> anyhow::Result<()> {
    let context = || format!("writing {}", out.path.display());
    let mut entries = tree.into_entries().with_context(context)?;
    if out.opts.dedup {
        let n = dedup::dedup(&mut entries, |e| e.stored_mtime(epoch)).with_context(context)?;
        if !out.opts.quiet {
            eprintln!("mkimage: --dedup: {n} duplicate file(s) stored as hard links");
        }
    }
    let top = out.opts.top.unwrap_or(largest::DEFAULT_TOP);
    let largest = largest::largest(&entries, top);
    let mut warnings = limits::file_warnings(&entries, out.opts.warn_file);
    let before = prefixes(out, epoch).with_context(context)?;
    let mut progress = Progress::on_terminal(!out.opts.quiet);
    let mut stats = archive::write_image(entries, &out.path, c, epoch, &before, &mut progress)
        .with_context(context)?;
    stats.seconds = start.elapsed().as_secs_f64();
    let shown = out.path.display().to_string();
    warnings.extend(limits::image_warning(
        &shown,
        stats.total,
        out.opts.warn_image,
    ));
    for w in &warnings {
        eprintln!("mkimage: warning: {w}");
    }
    let summary = Summary {
        stats,
        largest,
        warnings,
    };
    if out.opts.json {
        println!("{}", summary.json());
    } else if !out.opts.quiet {
        for line in summary.lines(&shown) {
            eprintln!("mkimage: {line}");
        }
    }
    Ok(())
}

fn list(file: &std::path::Path) -> anyhow::Result<()> {
    let mut stdout = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let summary = list::list(file, &mut stdout)?;
    stdout.flush().map_err(list::ListError::Output)?;
    eprintln!(
        "mkimage: {}: {} entries in {} segment(s): {}",
        file.display(),
        summary.entries,
        summary.segments.len(),
        summary.segments.join(", ")
    );
    Ok(())
}

fn extract(image: &std::path::Path, dir: &std::path::Path) -> anyhow::Result<()> {
    let summary = extract::extract(image, dir)
        .with_context(|| format!("extracting {} into {}", image.display(), dir.display()))?;
    for w in &summary.warnings {
        eprintln!("mkimage: warning: {w}");
    }
    eprintln!(
        "mkimage: {}: {} entries from {} segment(s) extracted into {}",
        image.display(),
        summary.entries,
        summary.segments.len(),
        dir.display()
    );
    Ok(())
}

/// The segments before the new one: `--append-to`'s image, or the
/// `--microcode` archive.
fn prefixes(out: &Output, epoch: Option<u32>) -> anyhow::Result<Vec<prefix::Prefix>> {
    let mut before = Vec::new();
    if let Some(image) = &out.opts.append_to {
        before.push(prefix::Prefix::Image(image.clone()));
    }
    if let Some(dir) = &out.opts.microcode {
        let segment = microcode::segment(dir, epoch.unwrap_or(0))?;
        before.push(prefix::Prefix::Bytes(segment));
    }
    Ok(before)
}

/// Where `--bin` looks: this host, or `--sysroot`.
fn host(spec: &image::BuildSpec) -> bins::Host {
    match &spec.sysroot {
        Some(root) => bins::Host::in_root(root),
        None => bins::Host::from_env(),
    }
}

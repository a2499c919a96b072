//! mkimage: builds newc initramfs images for rescue-init.

mod archive;
mod bins;
mod cli;
mod compress;
mod cpio;
mod decompress;
mod elf;
mod firmware;
mod help;
mod image;
mod kconfig;
mod kmod_bin;
mod kmod_index;
mod ldconf;
mod ldso;
mod list;
mod lz4legacy;
mod moddb;
mod modinfo;
mod modout;
mod modules;
mod output;
#[cfg(test)]
mod testelf;
#[cfg(test)]
mod testmods;
mod threaded;
mod tree;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::cli::{Command, Output};
use crate::compress::Compression;
use crate::tree::Tree;

fn main() -> ExitCode {
    let cmd = match cli::parse(std::env::args_os().skip(1).collect()) {
        Ok(cmd) => cmd,
        Err(e) => {
            eprintln!("mkimage: {e}");
            let help = match e.command {
                "" => "mkimage --help".to_string(),
                c => format!("mkimage {c} --help"),
            };
            eprintln!("Try '{help}'.");
            return ExitCode::from(2);
        }
    };
    match run(cmd) {
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

fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Help(text) => print!("{text}"),
        Command::Version => println!("mkimage {}", cli::VERSION),
        Command::Build { spec, out } => {
            let start = Instant::now();
            let mtime = epoch()?;
            let compression = compression(&out)?;
            let sys = modules::System::from_host();
            let (tree, warnings) = image::build_tree(&spec, &bins::Host::from_env(), &sys)
                .with_context(|| format!("building {}", out.path.display()))?;
            for w in warnings {
                eprintln!("mkimage: {w}");
            }
            write(tree, &out, compression, mtime, start)?;
        }
        Command::Pack {
            dir,
            out,
            keep_owners,
        } => {
            let start = Instant::now();
            let mtime = epoch()?;
            let compression = compression(&out)?;
            let tree = image::pack_tree(&dir, keep_owners, &out.path)
                .with_context(|| format!("packing {}", dir.display()))?;
            write(tree, &out, compression, mtime, start)?;
        }
        Command::List { file } => list(&file)?,
    }
    Ok(())
}

fn epoch() -> anyhow::Result<u32> {
    Ok(image::mtime_from(std::env::var_os("SOURCE_DATE_EPOCH"))?)
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
    mtime: u32,
    start: Instant,
) -> anyhow::Result<()> {
    let context = || format!("writing {}", out.path.display());
    let entries = tree.into_entries().with_context(context)?;
    let mut stats = archive::write_image(entries, &out.path, c, mtime).with_context(context)?;
    stats.seconds = start.elapsed().as_secs_f64();
    eprintln!("mkimage: {}: {stats}", out.path.display());
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

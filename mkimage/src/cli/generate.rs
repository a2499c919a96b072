//! `mkimage generate man|bash|zsh|fish [DIR]`: the man page and the shell
//! completions, made from the clap definition that `--help` shows, so
//! they cannot drift from it.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Command, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;

use super::args::{Cli, Generated};

/// Writes `what` into `dir` (returning the file written) or, without a
/// directory, to `out`.
pub fn generate(
    what: Generated,
    dir: Option<&Path>,
    out: &mut dyn Write,
) -> io::Result<Option<PathBuf>> {
    let mut cmd = public(&Cli::command());
    cmd.build();
    let (name, text) = match what {
        Generated::Man => ("mkimage.1".to_string(), man_page(&cmd)?),
        Generated::Bash => completion(Shell::Bash, &mut cmd),
        Generated::Zsh => completion(Shell::Zsh, &mut cmd),
        Generated::Fish => completion(Shell::Fish, &mut cmd),
    };
    let Some(dir) = dir else {
        out.write_all(&text)?;
        return Ok(None);
    };
    let path = dir.join(name);
    fs::write(&path, text)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(Some(path))
}

/// A completion script and its usual file name.
fn completion(shell: Shell, cmd: &mut Command) -> (String, Vec<u8>) {
    let mut text = Vec::new();
    clap_complete::generate(shell, cmd, "mkimage", &mut text);
    (clap_complete::Generator::file_name(&shell, "mkimage"), text)
}

/// `cmd` without its hidden commands, which clap_complete would offer.
fn public(cmd: &Command) -> Command {
    let subs = cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned();
    let mut public = Command::new(cmd.get_name().to_string())
        .args(cmd.get_arguments().cloned())
        .subcommands(subs);
    if let Some(about) = cmd.get_about() {
        public = public.about(about.clone());
    }
    if let Some(about) = cmd.get_long_about() {
        public = public.long_about(about.clone());
    }
    match cmd.get_version() {
        Some(version) => public.version(version.to_string()),
        None => public,
    }
}

/// mkimage(1): the main page, then each command with its description,
/// synopsis, options and notes (for `build`, the manifest format).
fn man_page(cmd: &Command) -> io::Result<Vec<u8>> {
    let main = Man::new(cmd.clone());
    // The definition of \*(Aq that every rendering starts with, once.
    let mut page = b".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n".to_vec();
    section(&mut page, None, |w| main.render_title(w))?;
    section(&mut page, None, |w| main.render_name_section(w))?;
    section(&mut page, None, |w| main.render_synopsis_section(w))?;
    section(&mut page, None, |w| main.render_description_section(w))?;
    section(&mut page, None, |w| main.render_options_section(w))?;
    let commands = cmd.get_subcommands().filter(|s| s.get_name() != "help");
    for sub in commands {
        let title = format!("MKIMAGE {}", sub.get_name().to_uppercase());
        let options = format!("{title} OPTIONS");
        let sub = sub.clone().mut_args(|a| a.help_heading(options.clone()));
        let man = Man::new(sub.clone());
        section(&mut page, Some(&title), |w| {
            man.render_description_section(w)
        })?;
        section(&mut page, Some("Usage"), |w| man.render_synopsis_section(w))?;
        section(&mut page, None, |w| man.render_options_section(w))?;
        if sub.get_after_long_help().is_some() {
            let notes = format!("{title} NOTES");
            section(&mut page, Some(&notes), |w| man.render_extra_section(w))?;
        }
    }
    Ok(page)
}

/// Adds one of clap_mangen's sections, without the preamble that each
/// rendering repeats, and under `heading` instead of its own
/// (`.SH DESCRIPTION`, `.SH SYNOPSIS`, `.SH EXTRA`): every command's
/// would otherwise have the same name. "Usage" becomes a subsection.
fn section(
    page: &mut Vec<u8>,
    heading: Option<&str>,
    render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    let mut text = Vec::new();
    render(&mut text)?;
    let text = String::from_utf8_lossy(&text);
    let mut lines = text
        .lines()
        .skip_while(|l| l.starts_with(".ie \\n(.g") || l.starts_with(".el .ds Aq"));
    if let Some(heading) = heading {
        let macro_ = if heading == "Usage" { ".SS" } else { ".SH" };
        lines.next();
        writeln!(page, "{macro_} \"{heading}\"")?;
    }
    for line in lines {
        writeln!(page, "{line}")?;
    }
    Ok(())
}

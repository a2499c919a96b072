//! GRUB's default menu entry of the recovered system, from
//! `/boot/grub/grub.cfg`, `/boot/grub2/grub.cfg` or an EFI partition's
//! `grub.cfg`, with `grubenv` next to it (see [`crate::bootcfg::grub`]
//! for how the menu and its default are read). An unknown default falls
//! back to the first entry, as GRUB does. Files the config `source`s are
//! not read.

use super::files::{boot_path, list_in_root, pick_initrd, read_in_root};
use super::Detected;
use crate::bootcfg::grub::{parse, parse_grubenv, select, strip_device, Entry};
use crate::handoff::source::Source;
use std::path::Path;

const CONFIGS: &[&str] = &["/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"];

pub fn detect(root: &Path, notes: &mut Vec<String>) -> Option<Detected> {
    let efi = list_in_root(root, "/boot/efi/EFI")
        .into_iter()
        .map(|d| format!("/boot/efi/EFI/{d}/grub.cfg"));
    let configs: Vec<String> = CONFIGS.iter().map(|c| c.to_string()).chain(efi).collect();
    configs
        .iter()
        .find_map(|cfg| detect_config(root, cfg, notes))
}

fn detect_config(root: &Path, cfg: &str, notes: &mut Vec<String>) -> Option<Detected> {
    let (host, text) = match read_in_root(root, cfg) {
        Ok(found) => found?,
        Err(e) => {
            notes.push(e);
            return None;
        }
    };
    let dir = cfg.rsplit_once('/').map_or("", |(d, _)| d);
    let env = read_in_root(root, &format!("{dir}/grubenv"))
        .ok()
        .flatten()
        .map(|(_, t)| parse_grubenv(&t));
    let conf = parse(cfg, &text, env.unwrap_or_default(), None);
    if let Some(e) = conf.error {
        notes.push(format!("{}: {e}; not used", host.display()));
        return None;
    }
    if conf.items.is_empty() {
        let why = if conf.blscfg {
            "its entries come from blscfg (BLS)"
        } else {
            "no menu entries"
        };
        notes.push(format!("{}: {why}", host.display()));
        return None;
    }
    let default = conf.default.as_deref().unwrap_or("0");
    let (title, entry) = select(&conf.items, default)
        .or_else(|e| {
            notes.push(format!(
                "{}: default {default:?}: {e}; using the first entry, as GRUB does",
                host.display()
            ));
            select(&conf.items, "0")
        })
        .ok()?;
    let source = Source::Grub {
        path: host.clone(),
        entry: title,
    };
    to_detected(root, entry, source, notes)
        .map_err(|e| notes.push(format!("{}: {e}", host.display())))
        .ok()
}

fn to_detected(
    root: &Path,
    e: &Entry,
    source: Source,
    notes: &mut Vec<String>,
) -> Result<Detected, String> {
    let (path, args) = e
        .linux
        .as_ref()
        .ok_or_else(|| format!("entry {:?} has no linux command", e.title))?;
    let kernel = boot_path(root, "/boot", strip_device(path))?;
    let initrds: Vec<String> = e
        .initrds
        .iter()
        .map(|i| strip_device(i).to_string())
        .collect();
    let initrd = pick_initrd(root, "/boot", &initrds, notes)?;
    if let Some(dt) = &e.devicetree {
        notes.push(super::devicetree_note(&source, dt));
    }
    let args = join_args(args);
    Ok(Detected {
        kernel: (kernel, source.clone()),
        initrd: initrd.map(|i| (i, source.clone())),
        args: (!args.is_empty()).then_some((args, source)),
    })
}

/// The kernel command line GRUB builds from the `linux` arguments: words
/// joined by spaces, a word with spaces in double quotes.
fn join_args(args: &[String]) -> String {
    let quoted = args.iter().map(|a| {
        if a.contains(char::is_whitespace) {
            format!("\"{a}\"")
        } else {
            a.clone()
        }
    });
    quoted.collect::<Vec<_>>().join(" ")
}

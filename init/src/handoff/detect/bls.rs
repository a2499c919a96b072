//! The default Boot Loader Specification entry of the recovered system
//! (see [`crate::bootcfg::bls`] for the format and the choice), from
//! `/boot/loader` or `/efi/loader`, with GRUB's `saved_entry` and
//! variables from `grubenv`.

use super::files::{boot_path, list_in_root, pick_initrd, read_in_root};
use super::Detected;
use crate::bootcfg::bls::{choose, compare, expand, parse_default, parse_entry, Entry, ARCH};
use crate::bootcfg::grub::{parse_grubenv, Env};
use crate::handoff::source::Source;
use std::path::Path;

/// BLS directories inside ROOT, and the partition each belongs to.
const DIRS: &[(&str, &str)] = &[("/boot/loader", "/boot"), ("/efi/loader", "/efi")];
const GRUBENVS: &[&str] = &["/boot/grub2/grubenv", "/boot/grub/grubenv"];

pub fn detect(root: &Path, notes: &mut Vec<String>) -> Option<Detected> {
    DIRS.iter()
        .find_map(|(dir, base)| detect_dir(root, dir, base, notes))
}

fn detect_dir(root: &Path, dir: &str, base: &str, notes: &mut Vec<String>) -> Option<Detected> {
    let entries = load_entries(root, dir, notes);
    if entries.is_empty() {
        return None;
    }
    let pattern = read_in_root(root, &format!("{dir}/loader.conf"))
        .ok()
        .flatten()
        .and_then(|(_, t)| parse_default(&t));
    let env = grubenv(root);
    let (entry, why) = choose(
        &entries,
        pattern.as_deref(),
        env.get("saved_entry").map(String::as_str),
    )?;
    let path = root.join(format!("{dir}/entries/{}.conf", entry.id).trim_start_matches('/'));
    match to_detected(
        root,
        base,
        entry,
        &env,
        Source::Bls { path: path.clone() },
        notes,
    ) {
        Ok(d) => Some(d),
        Err(e) => {
            notes.push(format!("BLS entry {} ({why}): {e}", path.display()));
            None
        }
    }
}

/// The bootable entries in `dir/entries`, in BLS order.
fn load_entries(root: &Path, dir: &str, notes: &mut Vec<String>) -> Vec<Entry> {
    let mut entries = Vec::new();
    for name in list_in_root(root, &format!("{dir}/entries"))
        .iter()
        .filter(|n| n.ends_with(".conf"))
    {
        let text = match read_in_root(root, &format!("{dir}/entries/{name}")) {
            Ok(Some((_, t))) => t,
            Ok(None) => continue,
            Err(e) => {
                notes.push(format!("BLS entry {dir}/entries/{name}: {e}"));
                continue;
            }
        };
        let e = parse_entry(name, &text);
        match (&e.linux, e.architecture.as_deref()) {
            (None, _) => notes.push(format!(
                "BLS entry {dir}/entries/{name}: no linux line (EFI or UKI entry?), skipped"
            )),
            (Some(_), Some(a)) if !a.eq_ignore_ascii_case(ARCH) => notes.push(format!(
                "BLS entry {dir}/entries/{name}: architecture {a}, skipped (this machine is {ARCH})"
            )),
            _ => entries.push(e),
        }
    }
    crate::sort::sort_by(&mut entries, compare);
    entries
}

fn grubenv(root: &Path) -> Env {
    GRUBENVS
        .iter()
        .find_map(|p| read_in_root(root, p).ok().flatten())
        .map(|(_, t)| parse_grubenv(&t))
        .unwrap_or_default()
}

fn to_detected(
    root: &Path,
    base: &str,
    e: &Entry,
    env: &Env,
    source: Source,
    notes: &mut Vec<String>,
) -> Result<Detected, String> {
    let linux = e.linux.as_deref().unwrap_or_default();
    let kernel = boot_path(root, base, linux)?;
    let initrds: Vec<String> = expand(&e.initrds.join(" "), env)
        .0
        .split_whitespace()
        .map(String::from)
        .collect();
    let initrd = pick_initrd(root, base, &initrds, notes)?;
    if let Some(dt) = &e.devicetree {
        notes.push(super::devicetree_note(&source, dt));
    }
    let (options, unset) = expand(e.options.join(" ").trim(), env);
    let args = if !unset.is_empty() {
        notes.push(format!(
            "{source}: options use ${}, which grubenv does not set; not using them",
            unset.join(", $")
        ));
        None
    } else {
        Some(options.trim().to_string())
            .filter(|o| !o.is_empty())
            .map(|o| (o, source.clone()))
    };
    Ok(Detected {
        kernel: (kernel, source.clone()),
        initrd: initrd.map(|i| (i, source)),
        args,
    })
}

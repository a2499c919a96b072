//! Finding the ISO's boot loader configs, reading their entries, and
//! choosing the entry to boot.

use super::fs::Iso;
use super::{Error, IsoError};
use crate::bootcfg::entry::{BootEntry, Boots, Menu};
use crate::bootcfg::{grub, syslinux};

/// Where isolinux looks for its config, in its order.
const SYSLINUX_DIRS: &[&str] = &[
    "/boot/isolinux",
    "/isolinux",
    "/boot/syslinux",
    "/syslinux",
    "",
];
const SYSLINUX_NAMES: &[&str] = &["isolinux.cfg", "syslinux.cfg"];
const GRUB_CONFIGS: &[&str] = &["/boot/grub/grub.cfg", "/EFI/BOOT/grub.cfg"];
/// Configs larger than this are not configs.
const MAX_CONFIG: u64 = 1 << 20;

/// The entry to boot and, when it is not simply the one asked for or
/// the default, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub(crate) index: usize,
    pub(crate) note: Option<String>,
}

/// Every config path looked at, in order.
pub(crate) fn candidates() -> Vec<String> {
    let sys = SYSLINUX_DIRS
        .iter()
        .flat_map(|d| SYSLINUX_NAMES.iter().map(move |n| format!("{d}/{n}")));
    sys.chain(GRUB_CONFIGS.iter().map(|g| g.to_string()))
        .collect()
}

/// Reads the first syslinux config found and every GRUB config found.
/// Entries keep that order; the default is the first config's default.
pub fn discover(iso: &Iso) -> Result<Menu, Error> {
    let mut menu = Menu::default();
    let mut raw = |p: &str| {
        iso.read(p, MAX_CONFIG)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| e.to_string())
    };
    let mut read = crate::bootcfg::budget(&mut raw);
    let all = candidates();
    let (sys, grubs) = all.split_at(SYSLINUX_DIRS.len() * SYSLINUX_NAMES.len());
    for path in sys {
        if let Some(text) = try_read(iso, path, &mut menu.notes)? {
            merge(&mut menu, syslinux::parse(path, &text, &mut read));
            break;
        }
    }
    for path in grubs {
        if let Some(text) = try_read(iso, path, &mut menu.notes)? {
            merge(&mut menu, grub::menu(path, &text, &mut read));
        }
    }
    if menu.entries.is_empty() {
        let found = if menu.configs.is_empty() {
            "no boot loader config".into()
        } else {
            format!("no entries in {}", menu.configs.join(", "))
        };
        return Err(Error::NoEntries {
            file: iso.name().into(),
            found,
            looked: all.join(", "),
        });
    }
    Ok(menu)
}

/// The config at `path`, or None when there is none. A candidate that
/// cannot be a config (a directory, a link loop) is noted and skipped;
/// a damaged image is an error.
fn try_read(iso: &Iso, path: &str, notes: &mut Vec<String>) -> Result<Option<String>, IsoError> {
    match iso.read(path, MAX_CONFIG) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e @ IsoError::Path { .. }) => {
            notes.push(format!("{e}; skipped"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn merge(menu: &mut Menu, other: Menu) {
    if menu.default.is_none() {
        menu.default = other.default.map(|d| d + menu.entries.len());
    }
    menu.entries.extend(other.entries);
    menu.configs.extend(other.configs);
    menu.notes.extend(other.notes);
}

/// `--entry NAME` (label, title or GRUB id; exact, else ignoring case),
/// else the default if it boots Linux, else the first entry that does.
pub(crate) fn choose(menu: &Menu, file: &str, wanted: Option<&str>) -> Result<Choice, Error> {
    if let Some(name) = wanted {
        return named(menu, file, name);
    }
    let first_linux = menu.entries.iter().position(|e| e.kernel().is_some());
    let Some(first) = first_linux else {
        let entries = menu
            .entries
            .iter()
            .map(|e| format!("{e}: {}", other(e)))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::NoLinux {
            file: file.into(),
            entries,
        });
    };
    let note = match menu.default.map(|d| &menu.entries[d]) {
        Some(d) if d.kernel().is_some() => return Ok(Choice { index: menu.default.unwrap_or(first), note: None }),
        Some(d) => format!("the default entry {d} does not boot a Linux kernel ({}); using {}, the first entry that does", other(d), menu.entries[first]),
        None => format!("no usable default entry; using {}, the first entry that boots Linux", menu.entries[first]),
    };
    Ok(Choice {
        index: first,
        note: Some(note),
    })
}

fn named(menu: &Menu, file: &str, name: &str) -> Result<Choice, Error> {
    let exact = menu.entries.iter().position(|e| e.is_named(name, false));
    let index = exact.or_else(|| menu.entries.iter().position(|e| e.is_named(name, true)));
    let Some(index) = index else {
        let labels = menu
            .entries
            .iter()
            .map(|e| e.label.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::EntryNotFound {
            file: file.into(),
            name: name.into(),
            labels,
        });
    };
    let e = &menu.entries[index];
    if e.kernel().is_none() {
        return Err(Error::EntryNotLinux {
            file: file.into(),
            entry: e.to_string(),
            what: other(e),
        });
    }
    Ok(Choice { index, note: None })
}

fn other(e: &BootEntry) -> String {
    match &e.boots {
        Boots::Other(what) => what.clone(),
        Boots::Linux(k) => format!("linux {k}"),
    }
}

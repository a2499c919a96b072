//! A GRUB menu as the flat list of entries `kexec --iso` chooses from.

use super::{absolute, parse, strip_device, Entry, Env, Item};
use crate::bootcfg::entry::{BootEntry, Boots, Menu};
use crate::bootcfg::Reader;

/// The GRUB config of an ISO at `path` as a flat list of entries:
/// submenus flattened, every entry named also by its `N>M` number path,
/// its title path and its id path; `read` fetches sourced files.
pub fn menu(path: &str, text: &str, read: Reader<'_>) -> Menu {
    let mut conf = parse(path, text, Env::new(), Some(read));
    if let Some(e) = conf.error.take() {
        conf.notes.push(format!("{e}; config not used"));
        conf.items.clear();
        conf.default = None;
    }
    let mut entries = Vec::new();
    flatten(&conf.items, &Default::default(), &mut entries);
    let default = conf.default.unwrap_or_else(|| "0".into());
    let index = find_default(&entries, &default);
    if index.is_none() && !entries.is_empty() {
        conf.notes
            .push(format!("{path}: default {default:?} names no menu entry"));
    }
    Menu {
        entries,
        default: index,
        configs: vec![path.to_string()],
        notes: conf.notes,
    }
}

/// `above`: the number, title and id paths of the menu `items` are in.
fn flatten(items: &[Item], above: &[Vec<String>; 3], out: &mut Vec<BootEntry>) {
    for (i, item) in items.iter().enumerate() {
        let (title, id) = item.names();
        let keys = [
            i.to_string(),
            title.to_string(),
            id.unwrap_or(title).to_string(),
        ];
        let path: [Vec<String>; 3] =
            std::array::from_fn(|k| [above[k].clone(), vec![keys[k].clone()]].concat());
        match item {
            Item::Menu(m) => flatten(&m.items, &path, out),
            Item::Entry(e) => {
                let mut aliases: Vec<String> = path.iter().map(|p| p.join(">")).collect();
                aliases.push(keys[2].clone());
                aliases.dedup();
                out.push(boot_entry(e, aliases));
            }
        }
    }
}

fn boot_entry(e: &Entry, aliases: Vec<String>) -> BootEntry {
    // GRUB splits unquoted variables into words (`linux /k $args`);
    // the lexer does not say what was quoted, so every word is split.
    let split = |words: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        words
            .flat_map(|w| w.split_whitespace())
            .map(str::to_string)
            .collect()
    };
    let linux = e
        .linux
        .as_ref()
        .map(|(k, args)| split(&mut std::iter::once(k).chain(args)));
    let (boots, args) = match linux.as_deref() {
        Some([kernel, args @ ..]) => (Boots::Linux(absolute(strip_device(kernel))), args.to_vec()),
        _ => {
            let what = e.other.as_ref().map_or("no linux command".into(), |c| {
                format!("no linux command ({c})")
            });
            (Boots::Other(what), Vec::new())
        }
    };
    let initrds = split(&mut e.initrds.iter());
    BootEntry {
        label: e.title.clone(),
        title: None,
        origin: e.origin.clone(),
        boots,
        initrds: initrds.iter().map(|i| absolute(strip_device(i))).collect(),
        args,
        aliases,
    }
}

fn find_default(entries: &[BootEntry], d: &str) -> Option<usize> {
    let submenu = format!("{d}>");
    let exact = entries
        .iter()
        .position(|e| e.aliases.iter().any(|a| a == d));
    exact.or_else(|| {
        entries
            .iter()
            .position(|e| e.aliases.iter().any(|a| a.starts_with(&submenu)))
    })
}

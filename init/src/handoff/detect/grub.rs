//! GRUB's default menu entry from a generated `grub.cfg`.
//!
//! `menuentry`/`submenu` blocks (any nesting) become a menu tree; inside
//! an entry, the first `linux`/`linux16`/`linuxefi` and
//! `initrd`/`initrd16`/`initrdefi` commands count. `set default=...`
//! outside the menu picks the entry: a number, a title or an id, or a
//! `>`-separated path of them into submenus; `saved` and
//! `${saved_entry}` come from `grubenv` next to grub.cfg. `if` is not
//! evaluated: the last non-empty assignment wins, which for the
//! generated configs (`set default="${next_entry}"` ... `else set
//! default="0"`) is the permanent default, not a one-time `grub-reboot`.
//! An unknown default falls back to the first entry, as GRUB does.

use super::files::{boot_path, list_in_root, pick_initrd, read_in_root};
use super::Detected;
use crate::handoff::grubcfg::{lex, parse_grubenv, Cmd, Env};
use crate::handoff::source::Source;
use std::path::Path;

const CONFIGS: &[&str] = &["/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub title: String,
    pub id: Option<String>,
    /// The kernel path and its arguments.
    pub linux: Option<(String, Vec<String>)>,
    pub initrds: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Menu {
    pub title: String,
    pub id: Option<String>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Entry(Entry),
    Menu(Menu),
}

impl Item {
    fn names(&self) -> (&str, Option<&str>) {
        match self {
            Item::Entry(e) => (&e.title, e.id.as_deref()),
            Item::Menu(m) => (&m.title, m.id.as_deref()),
        }
    }
}

/// What a grub.cfg says: its menu and default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub items: Vec<Item>,
    pub default: Option<String>,
    /// The config calls `blscfg`: its entries are BLS files.
    pub blscfg: bool,
}

enum Frame {
    Menu(Menu),
    Entry(Entry),
    Other,
}

/// Parses grub.cfg text; `env` is grubenv's contents (`load_env`).
pub fn parse(text: &str, mut env: Env) -> Config {
    env.entry("menuentry_id_option".into())
        .or_insert_with(|| "--id".into());
    let mut stack = vec![Frame::Menu(Menu::default())];
    let mut blscfg = false;
    for cmd in lex(text) {
        let name = cmd.name().unwrap_or_default();
        if name == "}" {
            close(&mut stack);
        } else if cmd.opens_block() {
            stack.push(open(&name, &cmd, &env));
        } else if let Some(Frame::Entry(e)) = stack.last_mut() {
            entry_command(e, &name, &cmd, &env);
        } else if stack.len() == 1 {
            blscfg |= name == "blscfg";
            assign(&cmd, &mut env);
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    let items = match stack.pop() {
        Some(Frame::Menu(m)) => m.items,
        _ => Vec::new(),
    };
    let default = match env.remove("default") {
        Some(d) if d == "saved" => env.get("saved_entry").cloned(),
        d => d,
    };
    Config {
        items,
        default,
        blscfg,
    }
}

fn open(name: &str, cmd: &Cmd, env: &Env) -> Frame {
    let inner = cmd
        .words
        .get(1..cmd.words.len().saturating_sub(1))
        .unwrap_or_default();
    let args: Vec<String> = inner.iter().map(|w| w.expand(env)).collect();
    let (title, id) = title_and_id(&args);
    match name {
        "menuentry" => Frame::Entry(Entry {
            title,
            id,
            ..Entry::default()
        }),
        "submenu" => Frame::Menu(Menu {
            title,
            id,
            items: Vec::new(),
        }),
        _ => Frame::Other,
    }
}

/// The first plain argument is the title; `--id X` (what
/// `$menuentry_id_option` expands to) the id; other options are skipped.
/// Shared with the ISO boot menu reader.
pub(crate) fn title_and_id(args: &[String]) -> (String, Option<String>) {
    let (mut title, mut id) = (None, None);
    let mut it = args.iter().filter(|a| !a.is_empty());
    while let Some(a) = it.next() {
        match a.as_str() {
            "--id" => id = it.next().cloned(),
            "--class" | "--users" | "--hotkey" => {
                it.next();
            }
            _ if a.starts_with("--id=") => id = Some(a["--id=".len()..].to_string()),
            _ if a.starts_with("--") => {}
            _ if title.is_none() => title = Some(a.clone()),
            _ => {}
        }
    }
    (title.unwrap_or_default(), id)
}

fn close(stack: &mut Vec<Frame>) {
    if stack.len() < 2 {
        return;
    }
    let item = match stack.pop() {
        Some(Frame::Entry(e)) => Item::Entry(e),
        Some(Frame::Menu(m)) => Item::Menu(m),
        _ => return,
    };
    // Entries inside functions or other blocks are not part of the menu.
    if let Some(Frame::Menu(parent)) = stack.last_mut() {
        parent.items.push(item);
    }
}

fn entry_command(e: &mut Entry, name: &str, cmd: &Cmd, env: &Env) {
    let args: Vec<String> = cmd.words[1..].iter().map(|w| w.expand(env)).collect();
    match name {
        "linux" | "linux16" | "linuxefi" if e.linux.is_none() => {
            if let Some((path, rest)) = args.split_first() {
                e.linux = Some((
                    path.clone(),
                    rest.iter().filter(|a| !a.is_empty()).cloned().collect(),
                ));
            }
        }
        "initrd" | "initrd16" | "initrdefi" if e.initrds.is_empty() => {
            e.initrds = args.into_iter().filter(|a| !a.is_empty()).collect();
        }
        _ => {}
    }
}

/// `set NAME=VALUE ...` or `NAME=VALUE`; empty values are ignored.
fn assign(cmd: &Cmd, env: &mut Env) {
    let words: Vec<String> = cmd.words.iter().map(|w| w.expand(env)).collect();
    let pairs = match words.split_first() {
        Some((first, rest)) if first == "set" => rest,
        _ if words.len() == 1 => &words[..],
        _ => return,
    };
    for (k, v) in pairs.iter().filter_map(|w| w.split_once('=')) {
        let ident = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ident && !v.is_empty() {
            env.insert(k.to_string(), v.to_string());
        }
    }
}

/// Finds the entry `default` names; returns its title path (`A>B`).
pub fn select<'a>(items: &'a [Item], default: &str) -> Result<(String, &'a Entry), String> {
    let parts: Vec<&str> = default.split('>').map(str::trim).collect();
    let mut level = items;
    let mut titles: Vec<&str> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let item = find(level, part).ok_or_else(|| format!("no menu entry {part:?}"))?;
        titles.push(item.names().0);
        match item {
            Item::Entry(e) if i + 1 == parts.len() => return Ok((titles.join(">"), e)),
            Item::Entry(e) => return Err(format!("{:?} is an entry, not a submenu", e.title)),
            Item::Menu(m) => level = &m.items,
        }
    }
    // The default names a submenu: take its first entry.
    loop {
        match level.first() {
            Some(Item::Entry(e)) => {
                titles.push(&e.title);
                return Ok((titles.join(">"), e));
            }
            Some(Item::Menu(m)) => {
                titles.push(&m.title);
                level = &m.items;
            }
            None => return Err(format!("submenu {:?} is empty", titles.join(">"))),
        }
    }
}

fn find<'a>(level: &'a [Item], part: &str) -> Option<&'a Item> {
    if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
        return part.parse::<usize>().ok().and_then(|n| level.get(n));
    }
    level.iter().find(|it| {
        let (title, id) = it.names();
        title == part || id == Some(part)
    })
}

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
    let conf = parse(&text, env.unwrap_or_default());
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
    let args = join_args(args);
    Ok(Detected {
        kernel: (kernel, source.clone()),
        initrd: initrd.map(|i| (i, source.clone())),
        args: (!args.is_empty()).then_some((args, source)),
    })
}

/// `(hd0,gpt2)/vmlinuz` -> `/vmlinuz`.
fn strip_device(path: &str) -> &str {
    match path.strip_prefix('(').and_then(|p| p.split_once(')')) {
        Some((_, rest)) => rest,
        None => path,
    }
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

//! GRUB's `grub.cfg`, read as GRUB builds its menu, for an installed
//! system's default entry and for a rescue ISO's entries alike.
//!
//! `menuentry`/`submenu` blocks (any nesting) become a menu tree; inside
//! an entry, the first `linux`/`linux16`/`linuxefi` and
//! `initrd`/`initrd16`/`initrdefi` commands count. `set default=...`
//! picks the entry: a number, a title or an id, or a `>`-separated path
//! of them into submenus; `saved` and `${saved_entry}` come from
//! `grubenv`. `source` and `configfile` are read in place when the caller
//! can read files. GRUB's quoting and variables: `script.rs`.
//!
//! `if` is not evaluated. Commands in its branches count (the last
//! non-empty assignment wins, which for the generated configs,
//! `set default="${next_entry}"` ... `else set default="0"`, is the
//! permanent default, not a one-time `grub-reboot`), except an
//! assignment on the `then` or `else` line itself: those are one-line
//! tweaks whose condition decides (RHEL's `if [ "x$default" = ... ];
//! then default=...; fi`).

mod flat;
pub(crate) mod script;

pub use flat::menu;
use script::{lex, Cmd};
pub use script::{parse_grubenv, Env};

use super::Reader;

/// Files `source`d inside each other at most.
const MAX_DEPTH: usize = 8;
/// Blocks (`submenu`, `menuentry`, `if`...) inside each other at most:
/// generated configs use three; each level costs a copy of the path
/// above it when the menu is flattened, and the tree is dropped
/// recursively.
const MAX_NESTING: usize = 32;
/// Commands that say nothing about what an entry boots.
const NOISE: &[&str] = &[
    "echo",
    "insmod",
    "set",
    "load_video",
    "search",
    "gfxmode",
    "terminal_output",
    "if",
    "fi",
    "export",
    "}",
];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub title: String,
    pub id: Option<String>,
    /// The kernel path and its arguments.
    pub linux: Option<(String, Vec<String>)>,
    pub initrds: Vec<String>,
    /// `devicetree FILE` (arm64 boards).
    pub devicetree: Option<String>,
    /// `FILE:LINE` of the `menuentry`.
    pub origin: String,
    /// The first command that is neither `linux`, `initrd` nor setup
    /// (`chainloader ...`, `reboot`): what an entry without a kernel does.
    pub other: Option<String>,
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
    /// Files that could not be sourced.
    pub notes: Vec<String>,
    /// `FILE:LINE: why` when the config is beyond the limits (an
    /// expansion too long, blocks nested too deep): it is not used.
    pub error: Option<String>,
}

enum Frame {
    Menu(Menu),
    Entry(Entry),
    /// A function or another block: not run when the menu is built.
    Other,
}

struct Walker<'a> {
    read: Option<Reader<'a>>,
    env: Env,
    stack: Vec<Frame>,
    blscfg: bool,
    notes: Vec<String>,
    /// Files being read (the `source` chain).
    open: Vec<String>,
    error: Option<String>,
}

/// Parses the config at `path` (its text `text`); `env` is grubenv's
/// contents (`load_env`). `read` fetches the files `source` and
/// `configfile` name; without it they are not followed.
pub fn parse(path: &str, text: &str, mut env: Env, read: Option<Reader<'_>>) -> Config {
    env.entry("menuentry_id_option".into())
        .or_insert_with(|| "--id".into());
    let mut w = Walker {
        read,
        env,
        stack: vec![Frame::Menu(Menu::default())],
        blscfg: false,
        notes: Vec::new(),
        open: Vec::new(),
        error: None,
    };
    w.file(path, text);
    while w.stack.len() > 1 {
        w.close();
    }
    let items = match w.stack.pop() {
        Some(Frame::Menu(m)) if w.error.is_none() => m.items,
        _ => Vec::new(),
    };
    let default = match w.env.remove("default") {
        Some(d) if d == "saved" => w.env.get("saved_entry").cloned(),
        d => d,
    };
    Config {
        items,
        default,
        blscfg: w.blscfg,
        notes: w.notes,
        error: w.error,
    }
}

impl Walker<'_> {
    fn file(&mut self, path: &str, text: &str) {
        self.open.push(path.to_string());
        for cmd in lex(text) {
            if self.error.is_some() {
                break;
            }
            self.command(path, &cmd);
        }
        self.open.pop();
    }

    fn command(&mut self, path: &str, cmd: &Cmd) {
        let Some(mut words) = self.expand(path, cmd) else {
            return;
        };
        // `if c; then linux /k; fi`: a command follows the keyword.
        let branch = matches!(cmd.name().as_deref(), Some("then" | "else" | "do"));
        if branch {
            words.remove(0);
        }
        let name = words.first().cloned().unwrap_or_default();
        if name == "}" {
            self.close();
        } else if cmd.opens_block() {
            let inner = words
                .get(1..words.len().saturating_sub(1))
                .unwrap_or_default();
            let frame = self.open_block(&name, inner, format!("{path}:{}", cmd.line));
            if self.stack.len() > MAX_NESTING {
                self.error = Some(format!(
                    "{path}:{}: blocks nested more than {MAX_NESTING} deep",
                    cmd.line
                ));
                return;
            }
            self.stack.push(frame);
        } else if let Some(Frame::Entry(e)) = self.stack.last_mut() {
            entry_command(e, &words);
        } else if !matches!(self.stack.last(), Some(Frame::Menu(_))) {
            // Inside a function or another block: not run at load time.
        } else if matches!(name.as_str(), "source" | "configfile") {
            let origin = format!("{path}:{}", cmd.line);
            self.source(words.get(1).map_or("", String::as_str), &origin);
        } else if !branch {
            self.blscfg |= self.stack.len() == 1 && name == "blscfg";
            assign(&words, &mut self.env);
        }
    }

    /// The command's words expanded, or None (and the error set) when
    /// one would exceed [`script::MAX_EXPANDED`].
    fn expand(&mut self, path: &str, cmd: &Cmd) -> Option<Vec<String>> {
        let words: Option<Vec<String>> = cmd.words.iter().map(|w| w.expand(&self.env)).collect();
        if words.is_none() {
            self.error = Some(format!(
                "{path}:{}: a variable expands to more than {} bytes",
                cmd.line,
                script::MAX_EXPANDED
            ));
        }
        words
    }

    fn open_block(&mut self, name: &str, args: &[String], origin: String) -> Frame {
        if !matches!(self.stack.last(), Some(Frame::Menu(_))) {
            return Frame::Other;
        }
        let (title, id) = title_and_id(args);
        match name {
            "menuentry" => Frame::Entry(Entry {
                title,
                id,
                origin,
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

    fn close(&mut self) {
        if self.stack.len() < 2 {
            return;
        }
        let item = match self.stack.pop() {
            Some(Frame::Entry(e)) => Item::Entry(e),
            Some(Frame::Menu(m)) => Item::Menu(m),
            _ => return,
        };
        if let Some(Frame::Menu(parent)) = self.stack.last_mut() {
            parent.items.push(item);
        }
    }

    fn source(&mut self, file: &str, origin: &str) {
        let Some(read) = self.read.as_mut() else {
            return;
        };
        let path = absolute(strip_device(file));
        if self.open.len() >= MAX_DEPTH || self.open.contains(&path) {
            self.notes.push(format!(
                "{origin}: source {file}: nested too deeply or a loop; skipped"
            ));
            return;
        }
        match read(&path) {
            Ok(text) => self.file(&path, &text),
            Err(e) => self
                .notes
                .push(format!("{origin}: source {file}: {e}; skipped")),
        }
    }
}

/// The first plain argument is the title; `--id X` (what
/// `$menuentry_id_option` expands to) the id; other options are skipped.
fn title_and_id(args: &[String]) -> (String, Option<String>) {
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

fn entry_command(e: &mut Entry, words: &[String]) {
    let Some((name, args)) = words.split_first() else {
        return;
    };
    match name.as_str() {
        "linux" | "linux16" | "linuxefi" if e.linux.is_none() => {
            if let Some((path, rest)) = args.split_first() {
                e.linux = Some((
                    path.clone(),
                    rest.iter().filter(|a| !a.is_empty()).cloned().collect(),
                ));
            }
        }
        "initrd" | "initrd16" | "initrdefi" if e.initrds.is_empty() => {
            e.initrds = args.iter().filter(|a| !a.is_empty()).cloned().collect();
        }
        "devicetree" if e.devicetree.is_none() => e.devicetree = args.first().cloned(),
        n if e.other.is_none() && !NOISE.contains(&n) => e.other = Some(words.join(" ")),
        _ => {}
    }
}

/// `set NAME=VALUE ...` or `NAME=VALUE`; empty values are ignored.
fn assign(words: &[String], env: &mut Env) {
    let pairs = match words.split_first() {
        Some((first, rest)) if first == "set" => rest,
        _ if words.len() == 1 => words,
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

/// `(hd0,gpt2)/vmlinuz` -> `/vmlinuz`.
pub fn strip_device(path: &str) -> &str {
    match path.strip_prefix('(').and_then(|p| p.split_once(')')) {
        Some((_, rest)) => rest,
        None => path,
    }
}

/// A path GRUB reads relative to its root, as an absolute path.
pub(super) fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

//! GRUB configs on an ISO (`/boot/grub/grub.cfg`, `/EFI/BOOT/grub.cfg`):
//! `menuentry` blocks, nested `submenu`s flattened, with their first
//! `linux`/`linuxefi`/`linux16` and `initrd`/`initrdefi`/`initrd16`
//! commands; `set default=` (a number, title or `--id`, or a `>` path of
//! them); `source` and `configfile` read in place. GRUB's quoting and
//! variables come from the handoff's grub.cfg lexer. `if` is not
//! evaluated: the last non-empty `default` wins.

use super::entry::{BootEntry, Boots, Menu};
use super::grubcfg::{lex, Cmd, Env};
use super::syslinux::Reader;

const MAX_DEPTH: usize = 8;
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

struct Level {
    /// Index, title and id paths of this menu (`>`-joined by entries).
    path: [Vec<String>; 3],
    count: usize,
}

enum Frame {
    Menu(Level),
    Entry(BootEntry, Option<String>),
    Other,
}

struct Walker<'a> {
    read: Reader<'a>,
    env: Env,
    stack: Vec<Frame>,
    entries: Vec<BootEntry>,
    notes: Vec<String>,
    open: Vec<String>,
}

/// Parses the GRUB config at `path`; `read` fetches sourced files.
pub fn parse(path: &str, text: &str, read: Reader<'_>) -> Menu {
    let root = Frame::Menu(Level {
        path: Default::default(),
        count: 0,
    });
    let mut w = Walker {
        read,
        env: Env::new(),
        stack: vec![root],
        entries: Vec::new(),
        notes: Vec::new(),
        open: Vec::new(),
    };
    w.env.insert("menuentry_id_option".into(), "--id".into());
    w.file(path, text);
    let default = w.env.get("default").cloned().unwrap_or_else(|| "0".into());
    let index = find_default(&w.entries, &default);
    if index.is_none() && !w.entries.is_empty() {
        w.notes
            .push(format!("{path}: default {default:?} names no menu entry"));
    }
    Menu {
        entries: w.entries,
        default: index,
        configs: vec![path.to_string()],
        notes: w.notes,
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

impl Walker<'_> {
    fn file(&mut self, path: &str, text: &str) {
        self.open.push(path.to_string());
        for cmd in lex(text) {
            self.command(path, &cmd);
        }
        self.open.pop();
    }

    fn command(&mut self, path: &str, cmd: &Cmd) {
        let mut words: Vec<String> = cmd.words.iter().map(|w| w.expand(&self.env)).collect();
        if matches!(
            words.first().map(String::as_str),
            Some("then" | "else" | "do")
        ) {
            words.remove(0);
        }
        let name = words.first().cloned().unwrap_or_default();
        let origin = format!("{path}:{}", cmd.line);
        if name == "}" {
            self.close();
        } else if cmd.opens_block() {
            let inner = words
                .get(1..words.len().saturating_sub(1))
                .unwrap_or_default();
            self.open_block(&name, inner, origin);
        } else if let Some(Frame::Entry(e, other)) = self.stack.last_mut() {
            entry_command(e, other, &words);
        } else if !matches!(self.stack.last(), Some(Frame::Menu(_))) {
            // Inside a function or another block: not run at load time.
        } else if matches!(name.as_str(), "source" | "configfile") {
            self.source(words.get(1).map_or("", String::as_str), &origin);
        } else {
            self.assign(&words);
        }
    }

    fn open_block(&mut self, name: &str, args: &[String], origin: String) {
        let (title, id) = crate::handoff::title_and_id(args);
        let Some(Frame::Menu(parent)) = self.stack.last_mut() else {
            self.stack.push(Frame::Other);
            return;
        };
        let keys = [
            parent.count.to_string(),
            title.clone(),
            id.unwrap_or_else(|| title.clone()),
        ];
        let path: [Vec<String>; 3] =
            std::array::from_fn(|i| [parent.path[i].clone(), vec![keys[i].clone()]].concat());
        let frame = match name {
            "menuentry" => {
                parent.count += 1;
                let mut aliases: Vec<String> = path.iter().map(|p| p.join(">")).collect();
                aliases.push(keys[2].clone());
                aliases.dedup();
                let boots = Boots::Other(String::new());
                let e = BootEntry {
                    label: title,
                    title: None,
                    origin,
                    boots,
                    initrds: Vec::new(),
                    args: Vec::new(),
                    aliases,
                };
                Frame::Entry(e, None)
            }
            "submenu" => {
                parent.count += 1;
                Frame::Menu(Level { path, count: 0 })
            }
            _ => Frame::Other,
        };
        self.stack.push(frame);
    }

    fn close(&mut self) {
        if self.stack.len() < 2 {
            return;
        }
        if let Some(Frame::Entry(mut e, other)) = self.stack.pop() {
            if e.kernel().is_none() {
                let what = other.map_or("no linux command".into(), |c| {
                    format!("no linux command ({c})")
                });
                e.boots = Boots::Other(what);
            }
            self.entries.push(e);
        }
    }

    fn source(&mut self, file: &str, origin: &str) {
        let path = iso_path(file);
        if self.open.len() >= MAX_DEPTH || self.open.contains(&path) {
            self.notes.push(format!(
                "{origin}: source {file}: nested too deeply or a loop; skipped"
            ));
            return;
        }
        match (self.read)(&path) {
            Ok(text) => self.file(&path, &text),
            Err(e) => self
                .notes
                .push(format!("{origin}: source {file}: {e}; skipped")),
        }
    }

    /// `set NAME=VALUE ...` or `NAME=VALUE`; empty values are ignored.
    fn assign(&mut self, words: &[String]) {
        let pairs = match words.split_first() {
            Some((first, rest)) if first == "set" => rest,
            _ if words.len() == 1 => words,
            _ => return,
        };
        for (k, v) in pairs.iter().filter_map(|w| w.split_once('=')) {
            let ident = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if ident && !v.is_empty() {
                self.env.insert(k.to_string(), v.to_string());
            }
        }
    }
}

fn entry_command(e: &mut BootEntry, other: &mut Option<String>, words: &[String]) {
    let Some((name, args)) = words.split_first() else {
        return;
    };
    // GRUB splits unquoted variables into words (`linux /k $args`);
    // the lexer does not say what was quoted, so every word is split.
    let args: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
    match name.as_str() {
        "linux" | "linux16" | "linuxefi" if e.kernel().is_none() => {
            if let Some((path, rest)) = args.split_first() {
                e.boots = Boots::Linux(iso_path(path));
                e.args = rest.iter().map(|a| a.to_string()).collect();
            }
        }
        "initrd" | "initrd16" | "initrdefi" if e.initrds.is_empty() => {
            e.initrds = args.iter().map(|a| iso_path(a)).collect()
        }
        n if other.is_none() && !NOISE.contains(&n) => *other = Some(words.join(" ")),
        _ => {}
    }
}

/// `(cd0)/live/vmlinuz` -> `/live/vmlinuz`; relative -> absolute.
fn iso_path(p: &str) -> String {
    let p = match p.strip_prefix('(').and_then(|r| r.split_once(')')) {
        Some((_, rest)) => rest,
        None => p,
    };
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

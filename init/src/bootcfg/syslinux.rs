//! isolinux/syslinux configs: `label` blocks with `kernel`/`linux` (or
//! another boot type: `localboot`, `com32`, a `.c32` module ...),
//! `append` (where `initrd=` may list several files, comma-separated),
//! `initrd`, `menu label`, `menu default`; the global `default` and
//! `append`; `include` and `menu include`; `text help` blocks skipped.
//! Keywords ignore case. Relative paths are relative to the directory of
//! the main config, as isolinux makes that its working directory.

use super::entry::{split_args, BootEntry, Boots, Menu};
use super::Reader;

/// Nested includes followed.
const MAX_DEPTH: usize = 8;
/// Keywords that name what a label boots.
const BOOT_KEYWORDS: &[&str] = &[
    "kernel",
    "linux",
    "boot",
    "bss",
    "pxe",
    "fdimage",
    "comboot",
    "com32",
    "config",
    "localboot",
];
/// `kernel FILE` extensions that syslinux does not boot as Linux.
const NOT_LINUX: &[&str] = &[".c32", ".com", ".cbt", ".bs", ".bss", ".0", ".img", ".bin"];

#[derive(Debug, Default)]
struct Label {
    name: String,
    origin: String,
    title: Option<String>,
    /// The keyword and the rest of its line.
    boot: Option<(String, String)>,
    append: Option<String>,
    initrd: Option<String>,
}

struct Parser<'a> {
    read: Reader<'a>,
    base: String,
    labels: Vec<Label>,
    default: Option<String>,
    menu_default: Option<usize>,
    global_append: Option<String>,
    notes: Vec<String>,
    /// Files being read (the include chain).
    open: Vec<String>,
}

/// Parses the config at `path` (text `text`); `read` fetches includes.
pub fn parse(path: &str, text: &str, read: Reader<'_>) -> Menu {
    let base = path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let mut p = Parser {
        read,
        base,
        labels: Vec::new(),
        default: None,
        menu_default: None,
        global_append: None,
        notes: Vec::new(),
        open: Vec::new(),
    };
    p.file(path, text);
    let default = p.default_index(path);
    let entries = p.labels.iter().map(|l| p.entry(l)).collect();
    Menu {
        entries,
        default,
        configs: vec![path.to_string()],
        notes: p.notes,
    }
}

/// `word rest` with the rest trimmed.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    (&s[..end], s[end..].trim())
}

impl Parser<'_> {
    fn file(&mut self, path: &str, text: &str) {
        self.open.push(path.to_string());
        let mut in_text = false;
        for (n, line) in text.lines().enumerate() {
            let (kw, rest) = split_word(line);
            let kw = kw.to_ascii_lowercase();
            if in_text {
                in_text = kw != "endtext";
            } else if !kw.is_empty() && !kw.starts_with('#') {
                in_text = self.keyword(&kw, rest, &format!("{path}:{}", n + 1));
            }
        }
        self.open.pop();
    }

    /// Handles one line; returns whether a `text` block starts.
    fn keyword(&mut self, kw: &str, rest: &str, origin: &str) -> bool {
        match kw {
            "label" => self.labels.push(Label {
                name: rest.to_string(),
                origin: origin.to_string(),
                ..Label::default()
            }),
            "menu" => self.menu(rest, origin),
            "text" => return split_word(rest).0.eq_ignore_ascii_case("help"),
            "default" => self.default = Some(rest.to_string()),
            "include" => self.include(split_word(rest).0, origin),
            "append" => match self.labels.last_mut() {
                Some(l) => l.append = Some(rest.to_string()),
                None => self.global_append = Some(rest.to_string()),
            },
            "initrd" => self.set(|l| l.initrd = Some(rest.to_string())),
            kw if BOOT_KEYWORDS.contains(&kw) => {
                self.set(|l| l.boot = Some((kw.to_string(), rest.to_string())))
            }
            _ => {}
        }
        false
    }

    fn set(&mut self, f: impl FnOnce(&mut Label)) {
        if let Some(l) = self.labels.last_mut() {
            f(l);
        }
    }

    fn menu(&mut self, rest: &str, origin: &str) {
        let (sub, value) = split_word(rest);
        match sub.to_ascii_lowercase().as_str() {
            "label" => self.set(|l| l.title = Some(value.replace('^', ""))),
            "default" if !self.labels.is_empty() => {
                self.menu_default = self.menu_default.or(Some(self.labels.len() - 1))
            }
            "include" => self.include(split_word(value).0, origin),
            _ => {}
        }
    }

    fn include(&mut self, file: &str, origin: &str) {
        let path = resolve(&self.base, file);
        if self.open.len() >= MAX_DEPTH || self.open.contains(&path) {
            self.notes.push(format!(
                "{origin}: include {file}: nested too deeply or a loop; skipped"
            ));
            return;
        }
        match (self.read)(&path) {
            Ok(text) => self.file(&path, &text),
            Err(e) => self
                .notes
                .push(format!("{origin}: include {file}: {e}; skipped")),
        }
    }

    /// `menu default` wins, as in the menu; else the `default` label.
    fn default_index(&mut self, path: &str) -> Option<usize> {
        if self.menu_default.is_some() {
            return self.menu_default;
        }
        let name = self.default.as_deref()?;
        let found = self.labels.iter().position(|l| l.name == name);
        let module = name.to_ascii_lowercase().ends_with(".c32");
        if found.is_none() && !module {
            self.notes
                .push(format!("{path}: default {name:?} names no label"));
        }
        found
    }

    fn entry(&self, l: &Label) -> BootEntry {
        let (kw, spec) = l.boot.clone().unwrap_or_default();
        let (image, kargs) = split_word(&spec);
        let append = match l.append.as_deref().or(self.global_append.as_deref()) {
            Some("-") | None => "",
            Some(a) => a,
        };
        let args = split_args(&format!("{kargs} {append}"));
        let boots = match classify(&kw, image) {
            true => Boots::Linux(resolve(&self.base, image)),
            false if kw.is_empty() => Boots::Other("no kernel line".into()),
            false => Boots::Other(format!("{kw} {spec} {append}").trim().to_string()),
        };
        let initrd_arg = args.iter().rev().find_map(|a| a.strip_prefix("initrd="));
        let initrds = initrd_arg.or(l.initrd.as_deref()).unwrap_or("");
        let initrds = initrds
            .split(',')
            .filter(|i| !i.is_empty())
            .map(|i| resolve(&self.base, i))
            .collect();
        BootEntry {
            label: l.name.clone(),
            title: l.title.clone(),
            origin: l.origin.clone(),
            boots,
            initrds,
            args,
            aliases: Vec::new(),
        }
    }
}

/// Whether syslinux boots `image` given with `kw` as a Linux kernel.
fn classify(kw: &str, image: &str) -> bool {
    let lower = image.to_ascii_lowercase();
    match kw {
        "linux" => !image.is_empty(),
        "kernel" => !image.is_empty() && !NOT_LINUX.iter().any(|ext| lower.ends_with(ext)),
        _ => false,
    }
}

/// `file` relative to `base` (absolute paths stay), as an ISO path.
pub fn resolve(base: &str, file: &str) -> String {
    if file.starts_with('/') {
        file.to_string()
    } else {
        format!("{base}/{file}")
    }
}

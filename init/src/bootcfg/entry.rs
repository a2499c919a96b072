//! A boot entry as boot loader configs describe it, whichever boot
//! loader they are for, and the command line made from it: the menu
//! `kexec --iso` chooses from.

use std::fmt;

/// What an entry starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boots {
    /// A Linux kernel: its path in the ISO.
    Linux(String),
    /// Something else (a local disk, a COM32 module, a chain loader):
    /// the config's words for it.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootEntry {
    /// The syslinux label or the GRUB title (what `--entry` names).
    pub label: String,
    /// syslinux's `menu label`, without `^` hotkey marks.
    pub title: Option<String>,
    /// `CONFIG:LINE` of the entry.
    pub origin: String,
    pub boots: Boots,
    /// Paths in the ISO, in load order.
    pub initrds: Vec<String>,
    /// The kernel arguments as written (boot-loader tokens included).
    pub args: Vec<String>,
    /// Extra names `--entry` accepts (GRUB: `--id`, `N`, `A>B`).
    pub aliases: Vec<String>,
}

/// Tokens only the boot loader reads; the kernel must not get them.
const LOADER_ONLY: &[&str] = &["initrd=", "BOOT_IMAGE="];

impl BootEntry {
    pub fn kernel(&self) -> Option<&str> {
        match &self.boots {
            Boots::Linux(k) => Some(k),
            Boots::Other(_) => None,
        }
    }

    /// The arguments without boot-loader tokens, plus `extra`.
    pub fn cmdline(&self, extra: &str) -> String {
        let mut words: Vec<&str> = self
            .args
            .iter()
            .map(String::as_str)
            .filter(|a| !LOADER_ONLY.iter().any(|p| a.starts_with(p)))
            .collect();
        // A word the entry already has (`unattended` on ReaR's automatic
        // entry) is not repeated.
        for w in extra.split_whitespace() {
            if !words.contains(&w) {
                words.push(w);
            }
        }
        words.join(" ")
    }

    /// Whether `--entry NAME` means this entry, exactly or ignoring case.
    pub fn is_named(&self, name: &str, ignore_case: bool) -> bool {
        let mut names = std::iter::once(&self.label)
            .chain(&self.title)
            .chain(&self.aliases);
        names.any(|n| {
            if ignore_case {
                n.eq_ignore_ascii_case(name)
            } else {
                n == name
            }
        })
    }
}

impl fmt::Display for BootEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.title {
            Some(t) if *t != self.label => write!(f, "{} ({t:?})", self.label),
            _ => f.write_str(&self.label),
        }
    }
}

/// The entries of all configs found, and which one is the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Menu {
    pub entries: Vec<BootEntry>,
    pub default: Option<usize>,
    /// The configs read, in order.
    pub configs: Vec<String>,
    /// Things worth saying (a missing include, an unknown default).
    pub notes: Vec<String>,
}

/// Splits an argument string the way the kernel does: at blanks, with
/// double quotes keeping blanks inside a word.
pub fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new).push(c);
            }
            c if c.is_whitespace() && !quoted => out.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    out
}

//! modprobe configuration: `modprobe.d` files, the kernel command line
//! (`NAME.param=value`, `modprobe.blacklist=a,b`) and `modules-load.d`
//! lists of modules to load at boot.

use super::parse::{alias_words, parse_modules_load, softdep_words};
use crate::line_error::LineError;
use kmodfmt::glob::matches;
use kmodfmt::{check_name, normalize, normalize_alias, SoftDeps};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// modprobe.d directories under the root, most important first (a file
/// name in an earlier one hides the same name in later ones).
pub const MODPROBE_D_DIRS: [&str; 4] = [
    "etc/modprobe.d",
    "run/modprobe.d",
    "usr/local/lib/modprobe.d",
    "lib/modprobe.d",
];
/// modules-load.d directories, as above.
pub const MODULES_LOAD_D_DIRS: [&str; 4] = [
    "etc/modules-load.d",
    "run/modules-load.d",
    "usr/lib/modules-load.d",
    "lib/modules-load.d",
];

/// The rescue system's own module options. The watchdog core must not
/// stop a watchdog at the kexec whose driver asks for that on reboot
/// (i6300esb, iTCO_wdt): the kexec watchdog (`rescue.kexec-watchdog`) has
/// to keep running into the target. Nothing else in the rescue system
/// opens the watchdog, so a plain reboot or poweroff is not affected.
const BUILTIN_OPTIONS: [(&str, &str); 1] = [("watchdog", "stop_on_reboot=0")];

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// (module, parameters) in the order given: files, then command line.
    options: Vec<(String, String)>,
    blacklist: HashSet<String>,
    aliases: Vec<(String, String)>,
    softdeps: Vec<(String, SoftDeps)>,
    /// Rejected or unsupported lines.
    pub problems: Vec<LineError>,
}

impl Config {
    /// Reads `*.conf` in the modprobe.d directories under `root`, then
    /// applies the kernel command line `cmdline`.
    pub fn load(root: &Path, cmdline: &str) -> Config {
        let mut cfg = Config::default();
        // Before any file or the command line, which may override them
        // (the kernel takes a parameter's last value).
        for (module, opts) in BUILTIN_OPTIONS {
            cfg.options.push((module.to_string(), opts.to_string()));
        }
        let (files, problems) = conf_files(root, &MODPROBE_D_DIRS);
        cfg.problems.extend(problems);
        for path in files {
            match read_text(&path) {
                Ok(text) => cfg.apply_file(&path.display().to_string(), &text),
                Err(e) => cfg.problems.push(e),
            }
        }
        cfg.apply_cmdline(cmdline);
        cfg
    }

    /// Applies one modprobe.d file (`file` names it in errors).
    pub fn apply_file(&mut self, file: &str, text: &str) {
        for (n, line) in logical_lines(text) {
            if let Err(msg) = self.apply_line(&line) {
                self.problems.push(LineError {
                    file: file.to_string(),
                    line: n,
                    msg,
                });
            }
        }
    }

    fn apply_line(&mut self, line: &str) -> Result<(), String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["alias", rest @ ..] => self.aliases.push(alias_words(rest)?),
            ["options", name, opts @ ..] if !opts.is_empty() => {
                self.options.push((check_name(name)?, opts.join(" ")));
            }
            ["blacklist", name] => {
                self.blacklist.insert(check_name(name)?);
            }
            ["softdep", rest @ ..] => self.softdeps.push(softdep_words(rest)?),
            [cmd @ ("install" | "remove"), ..] => {
                return Err(format!("{cmd:?} commands are not supported; line ignored"));
            }
            [cmd, ..] if matches!(*cmd, "options" | "blacklist") => {
                return Err(format!("wrong number of words for {cmd:?} in {line:?}"));
            }
            [cmd, ..] => return Err(format!("unknown command {cmd:?}")),
            [] => {}
        }
        Ok(())
    }

    /// Applies `NAME.param[=value]` and `modprobe.blacklist=a,b` from a
    /// kernel command line. `rescue.*` keys are the init's own, not module
    /// options; malformed words are left to the init's config to report.
    pub fn apply_cmdline(&mut self, line: &str) {
        let (params, _) = crate::cmdline::parse(line);
        for p in params {
            if p.key == "modprobe.blacklist" {
                let names = p
                    .value
                    .as_deref()
                    .unwrap_or("")
                    .split(',')
                    .filter(|n| !n.is_empty());
                self.blacklist.extend(names.map(normalize));
                continue;
            }
            let Some((module, param)) = p.key.split_once('.') else {
                continue;
            };
            if module == "rescue" || module == "modprobe" || param.is_empty() {
                continue;
            }
            let Ok(module) = check_name(module) else {
                continue;
            };
            let opt = match p.value {
                None => param.to_string(),
                Some(v) if v.contains(char::is_whitespace) => format!("{param}=\"{v}\""),
                Some(v) => format!("{param}={v}"),
            };
            self.options.push((module, opt));
        }
    }

    /// The parameters for `name`, space separated ("" when none).
    pub fn options(&self, name: &str) -> String {
        let opts: Vec<&str> = self
            .options
            .iter()
            .filter(|(m, _)| m == name)
            .map(|(_, o)| o.as_str())
            .collect();
        opts.join(" ")
    }

    pub fn is_blacklisted(&self, name: &str) -> bool {
        self.blacklist.contains(name)
    }

    /// Modules that modprobe.d `alias` lines give for `key` (normalised).
    pub fn match_alias(&self, key: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, m) in self
            .aliases
            .iter()
            .filter(|(p, _)| matches(p.as_bytes(), key.as_bytes()))
        {
            if !out.contains(m) {
                out.push(m.clone());
            }
        }
        out
    }

    /// Soft dependencies modprobe.d adds for `name`.
    pub fn softdeps(&self, name: &str) -> SoftDeps {
        let mut all = SoftDeps::default();
        for (_, d) in self
            .softdeps
            .iter()
            .filter(|(p, _)| matches(p.as_bytes(), name.as_bytes()))
        {
            all.extend(d);
        }
        all
    }
}

/// Joins `\`-continued lines; skips blanks and `#` comments. Yields the
/// number of each logical line's first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (start, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        let (body, continued) = match raw.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (raw, false),
        };
        acc.push_str(body);
        acc.push(' ');
        if continued {
            pending = Some((start, acc));
            continue;
        }
        let t = acc.trim();
        if !t.is_empty() && !t.starts_with('#') {
            out.push((start, t.to_string()));
        }
    }
    out.extend(
        pending
            .map(|(n, s)| (n, s.trim().to_string()))
            .filter(|(_, s)| !s.is_empty() && !s.starts_with('#')),
    );
    out
}

/// `*.conf` files in `dirs` under `root`, sorted by file name; a name in
/// an earlier directory hides the same name in later ones.
pub fn conf_files(root: &Path, dirs: &[&str]) -> (Vec<PathBuf>, Vec<LineError>) {
    let mut by_name: BTreeMap<std::ffi::OsString, PathBuf> = BTreeMap::new();
    let mut problems = Vec::new();
    for dir in dirs {
        let dir = root.join(dir);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                let msg = format!("cannot list: {e}");
                problems.push(LineError {
                    file: dir.display().to_string(),
                    line: 0,
                    msg,
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(".conf") {
                by_name.entry(name).or_insert_with(|| entry.path());
            }
        }
    }
    (by_name.into_values().collect(), problems)
}

fn read_text(path: &Path) -> Result<String, LineError> {
    std::fs::read(path)
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .map_err(|e| LineError {
            file: path.display().to_string(),
            line: 0,
            msg: format!("cannot read: {e}"),
        })
}

/// The module names listed in the modules-load.d files under `root`, in
/// file-name order, each once.
pub fn modules_load_list(root: &Path) -> (Vec<String>, Vec<LineError>) {
    let (files, mut problems) = conf_files(root, &MODULES_LOAD_D_DIRS);
    let mut names: Vec<String> = Vec::new();
    for path in files {
        let text = match read_text(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let (list, errors) = parse_modules_load(&path.display().to_string(), &text);
        problems.extend(errors);
        for n in list {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    (names, problems)
}

/// `rescue.modules=a,b,c` split into normalised names.
pub fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(normalize_alias)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modprobe_d_lines() {
        let text =
            "# comment\noptions virtio-blk queue_depth=64 \\\n  poll_queues=2\nblacklist floppy\n\
                    alias my-disk virtio_blk\nsoftdep ext4 pre: crc32c\ninstall foo /bin/true\n\
                    frobnicate x\nblacklist\noptions lonely\n";
        let mut c = Config::default();
        c.apply_file("/etc/modprobe.d/x.conf", text);
        assert_eq!(c.options("virtio_blk"), "queue_depth=64 poll_queues=2");
        assert!(c.is_blacklisted("floppy"));
        assert_eq!(c.match_alias("my_disk"), ["virtio_blk"]);
        assert_eq!(c.softdeps("ext4").pre, ["crc32c"]);
        let lines: Vec<usize> = c.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [7, 8, 9, 10], "{:?}", c.problems);
        assert!(c.problems[0]
            .to_string()
            .contains("\"install\" commands are not supported"));
        assert!(c.problems[1]
            .to_string()
            .starts_with("/etc/modprobe.d/x.conf:8: unknown command"));
    }

    #[test]
    fn kernel_command_line() {
        let mut c = Config::default();
        c.apply_cmdline(
            "root=/dev/vda rescue.debug rescue.modules=a modprobe.blacklist=floppy,pc-speaker \
             virtio_blk.queue_depth=8 ext4.debug e1000e.msg=\"a b\" bad!.x=1",
        );
        assert!(c.is_blacklisted("floppy") && c.is_blacklisted("pc_speaker"));
        assert_eq!(c.options("virtio_blk"), "queue_depth=8");
        assert_eq!(c.options("ext4"), "debug");
        assert_eq!(c.options("e1000e"), "msg=\"a b\"");
        assert_eq!(c.options("rescue"), "");
        assert!(c.problems.is_empty());
    }

    /// The watchdog keeps running through the kexec unless the admin says
    /// otherwise, in a modprobe.d file or on the command line (later wins).
    #[test]
    fn watchdog_core_keeps_watching_by_default() {
        let root = std::env::temp_dir().join(format!("modcfg-wd-{}", std::process::id()));
        let c = Config::load(&root, "quiet");
        assert_eq!(c.options("watchdog"), "stop_on_reboot=0");
        let c = Config::load(&root, "watchdog.stop_on_reboot=1");
        assert_eq!(c.options("watchdog"), "stop_on_reboot=0 stop_on_reboot=1");
    }

    #[test]
    fn lists() {
        assert_eq!(split_list(" a,b-c,,d "), ["a", "b_c", "d"]);
        assert_eq!(
            logical_lines("a \\\nb\n#x\n\\\n"),
            [(1, "a  b".to_string())]
        );
    }
}

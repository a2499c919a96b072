//! The module index of one kernel: which `.ko` file a name is, what it
//! depends on, which aliases it answers to, what is built in.

use super::parse::{parse_alias, parse_builtin, parse_builtin_aliases, parse_dep, parse_softdep};
use crate::line_error::LineError;
use kmodfmt::glob::{is_pattern, matches};
use kmodfmt::{normalize_alias, SoftDeps};
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{}: not found: no module index in this image (modules.dep is written by depmod or mkimage); modules cannot be loaded", path.display())]
    MissingDep { path: PathBuf },
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
}

/// A module a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleRef {
    pub name: String,
    /// Built into the kernel: nothing to load.
    pub builtin: bool,
    /// Found through an alias, not by its own name (blacklists apply).
    pub via_alias: bool,
}

#[derive(Debug, Clone)]
struct ModFile {
    /// As written in modules.dep: relative to the index dir, or absolute.
    path: String,
    deps: Vec<String>,
}

/// Adds one index file's contents (file name for errors, data).
type Adder = fn(&mut Index, &str, &[u8]);

#[derive(Debug, Default)]
pub struct Index {
    dir: PathBuf,
    modules: HashMap<String, ModFile>,
    exact_aliases: HashMap<String, Vec<String>>,
    glob_aliases: Vec<(String, String)>,
    softdeps: HashMap<String, SoftDeps>,
    builtin: HashSet<String>,
    builtin_aliases: Vec<(String, String)>,
    /// Rejected lines and unreadable optional files (line 0).
    pub problems: Vec<LineError>,
}

impl Index {
    /// An index with no entries for the modules in `dir`.
    pub fn empty(dir: &Path) -> Self {
        Index {
            dir: dir.to_path_buf(),
            ..Default::default()
        }
    }

    /// Reads the index files in `dir` (`/lib/modules/RELEASE`). Only a
    /// missing or unreadable `modules.dep` is an error; everything else
    /// ends up in [`Index::problems`].
    pub fn load(dir: &Path) -> Result<Index, IndexError> {
        let mut index = Index::empty(dir);
        let dep_path = dir.join("modules.dep");
        let dep = std::fs::read(&dep_path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => IndexError::MissingDep {
                path: dep_path.clone(),
            },
            _ => IndexError::Read {
                path: dep_path.clone(),
                source,
            },
        })?;
        index.add_dep(
            &dep_path.display().to_string(),
            &String::from_utf8_lossy(&dep),
        );
        let optional: [(&str, Adder, bool); 4] = [
            (
                "modules.alias",
                |i, f, d| i.add_alias(f, &String::from_utf8_lossy(d)),
                true,
            ),
            (
                "modules.softdep",
                |i, f, d| i.add_softdep(f, &String::from_utf8_lossy(d)),
                false,
            ),
            (
                "modules.builtin",
                |i, f, d| i.add_builtin(f, &String::from_utf8_lossy(d)),
                false,
            ),
            ("modules.builtin.modinfo", Index::add_builtin_modinfo, false),
        ];
        for (name, add, needed) in optional {
            index.read_optional(name, needed, add);
        }
        Ok(index)
    }

    fn read_optional(&mut self, name: &str, needed: bool, add: Adder) {
        let path = self.dir.join(name);
        let file = path.display().to_string();
        match std::fs::read(&path) {
            Ok(data) => add(self, &file, &data),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !needed => {}
            Err(e) => {
                let msg = format!("cannot read: {e}; going on without it");
                self.problems.push(LineError { file, line: 0, msg });
            }
        }
    }

    /// Adds `modules.dep` text (`file` names it in errors).
    pub fn add_dep(&mut self, file: &str, text: &str) {
        let (entries, errors) = parse_dep(file, text);
        self.problems.extend(errors);
        let mut dep_paths: Vec<(String, String)> = Vec::new();
        for e in entries {
            if self.modules.contains_key(&e.name) {
                let msg = format!("module {} listed again; keeping the first entry", e.name);
                self.problems.push(LineError {
                    file: file.to_string(),
                    line: e.line,
                    msg,
                });
                continue;
            }
            let mut deps = Vec::with_capacity(e.deps.len());
            for p in e.deps {
                let Some(n) = kmodfmt::name_of_path(&p) else {
                    continue;
                };
                deps.push(n.clone());
                dep_paths.push((n, p));
            }
            self.modules.insert(e.name, ModFile { path: e.path, deps });
        }
        // A dependency without a line of its own still has a known path.
        for (name, path) in dep_paths {
            self.modules.entry(name).or_insert(ModFile {
                path,
                deps: Vec::new(),
            });
        }
    }

    /// Adds `modules.alias` text.
    pub fn add_alias(&mut self, file: &str, text: &str) {
        let (aliases, errors) = parse_alias(file, text);
        self.problems.extend(errors);
        for (pattern, module) in aliases {
            if is_pattern(pattern.as_bytes()) {
                self.glob_aliases.push((pattern, module));
            } else {
                self.exact_aliases.entry(pattern).or_default().push(module);
            }
        }
    }

    /// Adds `modules.softdep` text; several lines for a module add up.
    pub fn add_softdep(&mut self, file: &str, text: &str) {
        let (softdeps, errors) = parse_softdep(file, text);
        self.problems.extend(errors);
        for (module, deps) in softdeps {
            self.softdeps.entry(module).or_default().extend(&deps);
        }
    }

    /// Adds `modules.builtin` text.
    pub fn add_builtin(&mut self, file: &str, text: &str) {
        let (names, errors) = parse_builtin(file, text);
        self.problems.extend(errors);
        self.builtin.extend(names);
    }

    /// Adds `modules.builtin.modinfo` data: aliases of built-in code.
    pub fn add_builtin_modinfo(&mut self, file: &str, data: &[u8]) {
        let (aliases, errors) = parse_builtin_aliases(file, data);
        self.problems.extend(errors);
        self.builtin.extend(aliases.iter().map(|(_, m)| m.clone()));
        self.builtin_aliases.extend(aliases);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of loadable modules in `modules.dep`.
    pub fn len(&self) -> usize {
        self.modules.len()
    }

    /// The `.ko` file of a loadable module.
    pub fn path_of(&self, name: &str) -> Option<PathBuf> {
        self.modules.get(name).map(|m| self.dir.join(&m.path))
    }

    /// Direct dependencies, in the order to visit them (depmod lists the
    /// one to load first last).
    pub fn deps(&self, name: &str) -> impl Iterator<Item = &str> {
        self.modules
            .get(name)
            .into_iter()
            .flat_map(|m| m.deps.iter().rev().map(String::as_str))
    }

    pub fn softdeps(&self, name: &str) -> Option<&SoftDeps> {
        self.softdeps.get(name)
    }

    pub fn is_builtin(&self, name: &str) -> bool {
        self.builtin.contains(name) && !self.modules.contains_key(name)
    }

    /// Module names whose `modules.alias` patterns match `key` (already
    /// normalised), in file order, each once.
    pub fn match_alias(&self, key: &str) -> Vec<String> {
        let exact = self.exact_aliases.get(key).into_iter().flatten();
        let globbed = self
            .glob_aliases
            .iter()
            .filter(|(p, _)| matches(p.as_bytes(), key.as_bytes()))
            .map(|(_, m)| m);
        dedup(exact.chain(globbed))
    }

    /// Looks `query` up as kmod does, first hit wins: a module name in
    /// modules.dep, then modules.alias, then built-in aliases, then
    /// built-in names. Empty when nothing matches.
    pub fn resolve(&self, query: &str) -> Vec<ModuleRef> {
        let key = normalize_alias(query);
        if self.modules.contains_key(&key) {
            return vec![ModuleRef {
                name: key,
                builtin: false,
                via_alias: false,
            }];
        }
        let named = self.match_alias(&key);
        if !named.is_empty() {
            return named
                .into_iter()
                .map(|n| self.module_ref(n, true))
                .collect();
        }
        let builtin = dedup(
            self.builtin_aliases
                .iter()
                .filter(|(p, _)| matches(p.as_bytes(), key.as_bytes()))
                .map(|(_, m)| m),
        );
        if !builtin.is_empty() {
            return builtin
                .into_iter()
                .map(|name| ModuleRef {
                    name,
                    builtin: true,
                    via_alias: true,
                })
                .collect();
        }
        if self.builtin.contains(&key) {
            return vec![ModuleRef {
                name: key,
                builtin: true,
                via_alias: false,
            }];
        }
        Vec::new()
    }

    /// A reference to the module `name` (reached through an alias or not).
    pub fn module_ref(&self, name: String, via_alias: bool) -> ModuleRef {
        let builtin = self.is_builtin(&name);
        ModuleRef {
            name,
            builtin,
            via_alias,
        }
    }
}

fn dedup<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = HashSet::new();
    names.filter(|n| seen.insert(n.as_str())).cloned().collect()
}

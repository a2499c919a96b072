//! A modules directory of the host (`/lib/modules/VER`): its modules by
//! name and by alias, and what each one needs.
//!
//! `modules.dep`, `modules.alias` and `modules.softdep` are used when the
//! directory has them (depmod writes them). Debian's kernel packages ship
//! none of them: then the directory is scanned for module files, and each
//! module's `.modinfo` says what it depends on and which aliases it has.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use kmodfmt::glob::matches;
use kmodfmt::{normalize, normalize_alias, SoftDeps};

use crate::kmod::modinfo::{self, ModFile, ModinfoError};
use crate::tree::TreeError;

/// Directory levels followed at most while scanning.
const MAX_DEPTH: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum ModError {
    #[error("cannot read {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error(transparent)]
    Modinfo(#[from] ModinfoError),
    #[error("{}: line {line} is not 'MODULE: DEPENDENCIES'", path.display())]
    BadDep { path: PathBuf, line: usize },
    #[error("--module {what}: no module or alias of that name in {}", dir.display())]
    NotFound { what: String, dir: PathBuf },
    #[error("module {module} ({}) depends on {dep}, which is neither in {} nor built into the kernel", path.display(), dir.display())]
    MissingDep {
        module: String,
        path: PathBuf,
        dep: String,
        dir: PathBuf,
    },
    #[error("--module {}: not a module file (the name must end in .ko, .ko.xz, .ko.zst or .ko.gz)", path.display())]
    NotAModule { path: PathBuf },
    #[error("the running kernel's version is unknown (uname failed): give --kver")]
    NoRelease,
    #[error(transparent)]
    Tree(#[from] TreeError),
}

pub fn read_err(path: &Path) -> impl FnOnce(io::Error) -> ModError + '_ {
    move |cause| ModError::Read {
        path: path.to_path_buf(),
        cause,
    }
}

/// One module file, read.
#[derive(Debug, Clone)]
pub struct Module {
    /// The module name (`-` as `_`).
    pub name: String,
    /// The host file.
    pub src: PathBuf,
    /// Its path below the modules directory, as found
    /// (`kernel/fs/ext4/ext4.ko.xz`); `extra/NAME.ko` for a module file
    /// given from outside the directory.
    pub rel: String,
    pub file: ModFile,
}

impl Module {
    /// Its path below the image's modules directory: decompressed.
    pub fn image_rel(&self) -> String {
        kmodfmt::plain_path(&self.rel)
    }
}

/// What a name or alias stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Modules(Vec<String>),
    Builtin,
    Missing,
}

/// A modules directory.
#[derive(Debug)]
pub struct ModDb {
    pub dir: PathBuf,
    /// Module name to its path below `dir`.
    names: BTreeMap<String, String>,
    /// `modules.dep`, by module path.
    dep: Option<HashMap<String, Vec<String>>>,
    /// `modules.softdep`: its lines by module name.
    softdep: Option<HashMap<String, Vec<SoftDeps>>>,
    /// Normalized alias patterns with their module names: from
    /// `modules.alias`, or else made at the first alias lookup.
    aliases: Option<Vec<(String, String)>>,
    builtin: BTreeSet<String>,
    builtin_aliases: Vec<(String, String)>,
    /// Modules read so far, by name.
    files: HashMap<String, ModFile>,
    /// Things worth a warning (a module name found twice).
    pub notes: Vec<String>,
}

/// The contents of `dir/name`, or `None` if there is no such file.
fn optional(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, ModError> {
    let path = dir.join(name);
    match fs::read(&path) {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(read_err(&path)(e)),
    }
}

fn text(data: Vec<u8>) -> String {
    String::from_utf8_lossy(&data).into_owned()
}

impl ModDb {
    pub fn open(dir: &Path) -> Result<ModDb, ModError> {
        fs::read_dir(dir).map_err(read_err(dir))?;
        let mut db = ModDb {
            dir: dir.to_path_buf(),
            names: BTreeMap::new(),
            dep: None,
            softdep: None,
            aliases: None,
            builtin: BTreeSet::new(),
            builtin_aliases: Vec::new(),
            files: HashMap::new(),
            notes: Vec::new(),
        };
        match optional(dir, "modules.dep")? {
            Some(data) => db.use_dep(&text(data))?,
            None => db.scan()?,
        }
        db.read_optional_indexes()?;
        Ok(db)
    }

    fn use_dep(&mut self, text: &str) -> Result<(), ModError> {
        let (lines, bad) = kmodfmt::dep::parse(text);
        if let Some(b) = bad.first() {
            return Err(ModError::BadDep {
                path: self.dir.join("modules.dep"),
                line: b.line,
            });
        }
        let mut paths: Vec<String> = Vec::new();
        let mut dep = HashMap::new();
        for l in lines {
            paths.push(l.path.clone());
            dep.insert(l.path, l.deps);
        }
        self.add_names(paths);
        self.dep = Some(dep);
        Ok(())
    }

    fn read_optional_indexes(&mut self) -> Result<(), ModError> {
        if let Some(data) = optional(&self.dir, "modules.alias")? {
            let (pairs, _) = kmodfmt::alias::parse(&text(data));
            self.aliases = Some(normalized(pairs));
        }
        if let Some(data) = optional(&self.dir, "modules.softdep")? {
            let mut map: HashMap<String, Vec<SoftDeps>> = HashMap::new();
            for (module, deps) in kmodfmt::softdep::parse(&text(data)).0 {
                map.entry(module).or_default().push(deps);
            }
            self.softdep = Some(map);
        }
        if let Some(data) = optional(&self.dir, "modules.builtin")? {
            self.builtin = kmodfmt::builtin::names(&text(data)).0.into_iter().collect();
        }
        if let Some(data) = optional(&self.dir, "modules.builtin.modinfo")? {
            self.builtin_aliases = normalized(kmodfmt::builtin::aliases(&data).0);
        }
        Ok(())
    }

    /// Records module paths by name. A name found twice: the one below
    /// `updates/` wins, else the first in byte order, with a note.
    fn add_names(&mut self, mut paths: Vec<String>) {
        paths.sort_by_key(|p| (!p.starts_with("updates/"), p.clone()));
        for path in paths {
            let Some(name) = kmodfmt::name_of_path(&path) else {
                continue;
            };
            if let Some(kept) = self.names.get(&name) {
                self.notes.push(format!(
                    "warning: module {name} is both {kept} and {path} in {}; using {kept}",
                    self.dir.display()
                ));
                continue;
            }
            self.names.insert(name, path);
        }
    }

    /// Finds the module files below the directory, as depmod does:
    /// symlinks followed, `build` and `source` skipped.
    fn scan(&mut self) -> Result<(), ModError> {
        let mut found = Vec::new();
        let mut stack = vec![(self.dir.clone(), String::new(), 0)];
        while let Some((dir, prefix, depth)) = stack.pop() {
            for item in fs::read_dir(&dir).map_err(read_err(&dir))? {
                let item = item.map_err(read_err(&dir))?;
                let name = item.file_name().to_string_lossy().into_owned();
                let rel = format!("{prefix}{name}");
                let path = item.path();
                let Ok(meta) = fs::metadata(&path) else {
                    continue; // a dangling symlink
                };
                if meta.is_dir() && depth < MAX_DEPTH && name != "build" && name != "source" {
                    stack.push((path, format!("{rel}/"), depth + 1));
                } else if meta.is_file() && kmodfmt::split_file_name(&name).is_some() {
                    found.push(rel);
                }
            }
        }
        self.add_names(found);
        Ok(())
    }

    /// The contents of file `name` of the directory, if it has one.
    pub fn read_optional(&self, name: &str) -> Result<Option<Vec<u8>>, ModError> {
        optional(&self.dir, name)
    }

    /// Every module name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.names.keys()
    }

    pub fn has(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    pub fn is_builtin(&self, name: &str) -> bool {
        self.builtin.contains(&normalize(name))
    }

    /// What `what` stands for, looked up as kmod does: a module name,
    /// else the modules whose aliases match it, else a built-in module
    /// (by name or alias).
    pub fn find(&mut self, what: &str) -> Result<Found, ModError> {
        let name = normalize(what);
        if self.names.contains_key(&name) {
            return Ok(Found::Modules(vec![name]));
        }
        let key = normalize_alias(what);
        let mut matched: Vec<String> = Vec::new();
        for (pattern, module) in self.aliases()? {
            if matches(pattern.as_bytes(), key.as_bytes()) && !matched.contains(module) {
                matched.push(module.clone());
            }
        }
        matched.retain(|m| self.names.contains_key(m));
        if !matched.is_empty() {
            return Ok(Found::Modules(matched));
        }
        let builtin_alias = || {
            self.builtin_aliases
                .iter()
                .any(|(p, _)| matches(p.as_bytes(), key.as_bytes()))
        };
        if self.builtin.contains(&name) || builtin_alias() {
            return Ok(Found::Builtin);
        }
        Ok(Found::Missing)
    }

    /// The alias table, made from every module's `.modinfo` the first
    /// time if there is no `modules.alias`.
    fn aliases(&mut self) -> Result<&[(String, String)], ModError> {
        if self.aliases.is_none() {
            let mut pairs = Vec::new();
            for name in self.names.keys().cloned().collect::<Vec<_>>() {
                let file = self.file(&name)?;
                for alias in &file.info.aliases {
                    pairs.push((alias.clone(), name.clone()));
                }
            }
            self.aliases = Some(normalized(pairs));
        }
        Ok(self.aliases.as_deref().unwrap_or_default())
    }

    /// The module `name` (which [`ModDb::has`]), read once.
    fn file(&mut self, name: &str) -> Result<&ModFile, ModError> {
        if !self.files.contains_key(name) {
            let path = self.dir.join(&self.names[name]);
            let file = modinfo::read_module(&path)?;
            self.files.insert(name.to_string(), file);
        }
        Ok(&self.files[name])
    }

    /// The module `name` of the directory (which [`ModDb::has`]).
    pub fn module(&mut self, name: &str) -> Result<Module, ModError> {
        let file = self.file(name)?.clone();
        let rel = self.names[name].clone();
        Ok(Module {
            name: name.to_string(),
            src: self.dir.join(&rel),
            rel,
            file,
        })
    }

    /// A module given by its path: its place below the directory if it
    /// is inside, else `extra/`.
    pub fn module_at(&self, path: &Path) -> Result<Module, ModError> {
        let not_module = || ModError::NotAModule {
            path: path.to_path_buf(),
        };
        let file_name = path.file_name().ok_or_else(not_module)?.to_string_lossy();
        let (stem, _) = kmodfmt::split_file_name(&file_name).ok_or_else(not_module)?;
        let real = fs::canonicalize(path).map_err(read_err(path))?;
        let base = fs::canonicalize(&self.dir).map_err(read_err(&self.dir))?;
        let rel = match real.strip_prefix(&base) {
            Ok(inside) => inside.to_string_lossy().into_owned(),
            Err(_) => format!("extra/{file_name}"),
        };
        Ok(Module {
            name: normalize(stem),
            src: path.to_path_buf(),
            rel,
            file: modinfo::read_module(path)?,
        })
    }

    /// The `modules.dep` line of `m`, if the directory has one for it.
    pub fn dep_line(&self, m: &Module) -> Option<&[String]> {
        self.dep.as_ref()?.get(&m.rel).map(Vec::as_slice)
    }

    /// The names of the modules `m` needs: from `modules.dep` if it has
    /// a line for `m`, else from its `.modinfo`.
    pub fn deps(&self, m: &Module) -> Vec<String> {
        match self.dep_line(m) {
            Some(line) => line
                .iter()
                .filter_map(|p| kmodfmt::name_of_path(p))
                .collect(),
            None => m.file.info.depends.clone(),
        }
    }

    /// The soft dependencies of `m`, a line or `softdep=` string each:
    /// from `modules.softdep` if the directory has it, else its `.modinfo`.
    pub fn softdeps(&self, m: &Module) -> Vec<SoftDeps> {
        match &self.softdep {
            Some(map) => map.get(&m.name).cloned().unwrap_or_default(),
            None => (m.file.info.softdeps.iter())
                .map(|text| {
                    let mut s = SoftDeps::default();
                    s.add(text);
                    s
                })
                .collect(),
        }
    }

    /// All soft dependencies of `m` together.
    pub fn softdep(&self, m: &Module) -> SoftDeps {
        let mut all = SoftDeps::default();
        for s in self.softdeps(m) {
            all.extend(&s);
        }
        all
    }
}

fn normalized(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(alias, module)| (normalize_alias(&alias), module))
        .collect()
}

#[cfg(test)]
mod tests;

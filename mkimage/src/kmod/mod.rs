//! `build --module`, `--modules`: which kernel modules go into an image.
//!
//! The modules asked for (`--module NAME|ALIAS|PATH`, and those of
//! `--modules loaded|all`) come with everything they need: their
//! dependencies and their soft dependencies (`pre:` and `post:`, whose
//! names may be aliases, each standing for every module that has it),
//! and theirs in turn. Dependencies come from `modules.dep` when the
//! modules directory has a line for the module, else from its
//! `.modinfo`. A dependency that is neither there nor built into the
//! kernel is an error; a soft dependency that is missing is a warning,
//! as kmod ignores it.

pub(crate) mod bin_index;
pub(crate) mod firmware;
pub(crate) mod moddb;
pub(crate) mod modinfo;
pub(crate) mod modout;
#[cfg(test)]
pub(crate) mod testmods;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use kmodfmt::normalize;

use crate::tree::Tree;
use firmware::FirmwareSet;
use moddb::{read_err, Found, ModDb, ModError, Module};

/// `--modules`: a set of modules added to those of `--module`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ModuleSet {
    #[default]
    None,
    /// The modules the running kernel has loaded (`/proc/modules`).
    Loaded,
    /// Every module of the modules directory.
    All,
}

impl FromStr for ModuleSet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(ModuleSet::None),
            "loaded" => Ok(ModuleSet::Loaded),
            "all" => Ok(ModuleSet::All),
            _ => Err(format!("--modules {s:?}: expected loaded, all or none")),
        }
    }
}

/// The module and firmware options of `build`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleSpec {
    /// `--kver`: the target kernel's version.
    pub kver: Option<String>,
    /// `--modules-dir`, default `/lib/modules/VER`.
    pub dir: Option<PathBuf>,
    /// `--module`: names, aliases or paths of module files.
    pub names: Vec<OsString>,
    pub set: ModuleSet,
    pub firmware: FirmwareSet,
    /// `--firmware-dir`, default `/lib/firmware`.
    pub firmware_dir: Option<PathBuf>,
}

/// What the host says about its running kernel.
#[derive(Debug, Clone)]
pub struct System {
    /// `/proc/modules`.
    pub proc_modules: PathBuf,
    /// `uname -r`.
    pub release: Option<String>,
}

impl System {
    pub fn from_host() -> System {
        System {
            proc_modules: PathBuf::from("/proc/modules"),
            release: release(),
        }
    }
}

fn release() -> Option<String> {
    let uname = rustix::system::uname();
    uname.release().to_str().ok().map(str::to_string)
}

/// Adds the modules and firmware `spec` asks for; returns warnings.
pub fn add_modules(
    tree: &mut Tree,
    spec: &ModuleSpec,
    sys: &System,
) -> Result<Vec<String>, ModError> {
    let mut notes = Vec::new();
    let mut chosen = Vec::new();
    let mut kver = spec.kver.clone();
    if !spec.names.is_empty() || spec.set != ModuleSet::None {
        let (version, dir) = target(spec, sys, &mut notes)?;
        let mut db = ModDb::open(&dir)?;
        let modules = select(&mut db, spec, sys, &mut notes)?;
        notes.append(&mut db.notes);
        notes.extend(check_vermagic(modules.values(), &version));
        modout::add(tree, &db, &modules, &version)?;
        chosen = modules.into_values().collect();
        kver = Some(version);
    }
    let dir = spec
        .firmware_dir
        .clone()
        .unwrap_or_else(|| "/lib/firmware".into());
    let fw = firmware::Request {
        set: spec.firmware,
        dir: &dir,
        kver: kver.as_deref(),
        modules: &chosen,
    };
    notes.extend(firmware::add(tree, &fw)?);
    Ok(notes)
}

/// A warning if modules were built for another kernel release than
/// `version` (the first word of their `vermagic=`).
fn check_vermagic<'a>(modules: impl Iterator<Item = &'a Module>, version: &str) -> Option<String> {
    let other: Vec<(&str, &str)> = modules
        .filter_map(|m| {
            let release = m.file.info.vermagic.as_deref()?.split_whitespace().next()?;
            (release != version).then_some((m.name.as_str(), release))
        })
        .collect();
    let (name, release) = other.first()?;
    Some(format!(
        "warning: {} of the modules are built for another kernel than {version} \
         (as {name}, for {release}): is --kver right?",
        other.len()
    ))
}

/// The target kernel's version and modules directory: `--kver`, else
/// the name of `--modules-dir`, else the running kernel's.
fn target(
    spec: &ModuleSpec,
    sys: &System,
    notes: &mut Vec<String>,
) -> Result<(String, PathBuf), ModError> {
    let from_dir = spec
        .dir
        .as_ref()
        .and_then(|d| fs::canonicalize(d).ok())
        .and_then(|d| Some(d.file_name()?.to_string_lossy().into_owned()));
    let version = match (&spec.kver, from_dir) {
        (Some(v), _) => v.clone(),
        (None, Some(v)) => v,
        (None, None) => {
            let v = sys.release.clone().ok_or(ModError::NoRelease)?;
            notes.push(format!(
                "modules: for the running kernel, {v} (--kver to choose)"
            ));
            v
        }
    };
    if spec.set == ModuleSet::Loaded && sys.release.as_deref() != Some(&version) {
        notes.push(format!(
            "warning: --modules loaded: the loaded modules are those of the running kernel ({}), not {version}",
            sys.release.as_deref().unwrap_or("unknown")
        ));
    }
    let dir = spec
        .dir
        .clone()
        .unwrap_or_else(|| Path::new("/lib/modules").join(&version));
    Ok((version, dir))
}

/// Why a module is wanted, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Why {
    Asked,
    Loaded,
    /// A dependency of the module at the path.
    Dep(String, PathBuf),
    Softdep(String),
}

/// The modules to include, by name, with all they need.
pub fn select(
    db: &mut ModDb,
    spec: &ModuleSpec,
    sys: &System,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<String, Module>, ModError> {
    let mut chosen = BTreeMap::new();
    let mut todo: Vec<(String, Why)> = Vec::new();
    for given in &spec.names {
        if given.as_bytes().contains(&b'/') {
            let m = db.module_at(Path::new(given))?;
            chosen.entry(m.name.clone()).or_insert(m);
        } else {
            todo.push((given.to_string_lossy().into_owned(), Why::Asked));
        }
    }
    let pending: Vec<String> = chosen.keys().cloned().collect();
    for name in pending {
        queue_needs(db, &chosen[&name], &mut todo);
    }
    match spec.set {
        ModuleSet::None => {}
        ModuleSet::All => {
            let (complete, skipped) = complete_modules(db)?;
            notes.extend(skipped_warning(&skipped, &db.dir));
            todo.extend(complete.into_iter().map(|n| (n, Why::Asked)));
        }
        ModuleSet::Loaded => todo.extend(
            loaded(&sys.proc_modules)?
                .into_iter()
                .map(|n| (n, Why::Loaded)),
        ),
    }
    todo.reverse();
    while let Some((what, why)) = todo.pop() {
        for name in resolve(db, &what, &why, notes)? {
            if chosen.contains_key(&name) {
                continue;
            }
            let m = db.module(&name)?;
            let mut needs = Vec::new();
            queue_needs(db, &m, &mut needs);
            todo.extend(needs.into_iter().rev());
            chosen.insert(name, m);
        }
    }
    Ok(chosen)
}

/// A module left out, and why.
type Skipped = (String, String);

/// The modules of the directory whose dependencies are all there (in it
/// or built in), and the others with why: `--modules all` leaves those
/// out instead of failing on them.
fn complete_modules(db: &mut ModDb) -> Result<(Vec<String>, Vec<Skipped>), ModError> {
    let names: Vec<String> = db.names().cloned().collect();
    let mut memo = HashMap::new();
    let (mut complete, mut skipped) = (Vec::new(), Vec::new());
    for name in names {
        match missing_dep(db, &name, &mut memo)? {
            None => complete.push(name),
            Some(why) => skipped.push((name, why)),
        }
    }
    Ok((complete, skipped))
}

/// Why module `name` cannot load: the first dependency missing from its
/// dependencies, theirs, and so on; None if none is.
fn missing_dep(
    db: &mut ModDb,
    name: &str,
    memo: &mut HashMap<String, Option<String>>,
) -> Result<Option<String>, ModError> {
    if let Some(known) = memo.get(name) {
        return Ok(known.clone());
    }
    // In a dependency loop the module counts as complete so far.
    memo.insert(name.to_string(), None);
    let m = db.module(name)?;
    let mut why = None;
    for dep in db.deps(&m) {
        let dep_name = normalize(&dep);
        if db.has(&dep_name) {
            if let Some(deeper) = missing_dep(db, &dep_name, memo)? {
                why = Some(format!("needs {dep}, which {deeper}"));
                break;
            }
        } else if !db.is_builtin(&dep) {
            why = Some(format!("needs {dep}"));
            break;
        }
    }
    memo.insert(name.to_string(), why.clone());
    Ok(why)
}

/// One warning for every module `--modules all` left out.
fn skipped_warning(skipped: &[Skipped], dir: &Path) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let list: Vec<String> = skipped
        .iter()
        .map(|(m, why)| format!("{m} ({why})"))
        .collect();
    Some(format!(
        "warning: --modules all: left out {} module(s) whose dependencies are neither in {} nor built in: {}",
        skipped.len(),
        dir.display(),
        list.join(", ")
    ))
}

/// Queues what `m` needs: its dependencies, then its soft dependencies.
fn queue_needs(db: &ModDb, m: &Module, todo: &mut Vec<(String, Why)>) {
    for dep in db.deps(m) {
        todo.push((dep, Why::Dep(m.name.clone(), m.src.clone())));
    }
    for soft in db.softdep(m).all() {
        todo.push((soft.clone(), Why::Softdep(m.name.clone())));
    }
}

/// The module names `what` stands for; an error or a note if none.
fn resolve(
    db: &mut ModDb,
    what: &str,
    why: &Why,
    notes: &mut Vec<String>,
) -> Result<Vec<String>, ModError> {
    let dir = db.dir.clone();
    let found = match why {
        // Dependencies are module names, never aliases.
        Why::Dep(..) | Why::Loaded if db.has(&normalize(what)) => {
            Found::Modules(vec![normalize(what)])
        }
        Why::Dep(..) | Why::Loaded if db.is_builtin(what) => Found::Builtin,
        Why::Dep(..) | Why::Loaded => Found::Missing,
        _ => db.find(what)?,
    };
    match (found, why) {
        (Found::Modules(names), _) => return Ok(names),
        (Found::Builtin, Why::Asked) => {
            notes.push(format!("modules: {what} is built into the kernel"))
        }
        (Found::Builtin, _) => {}
        (Found::Missing, Why::Asked) => {
            return Err(ModError::NotFound {
                what: what.to_string(),
                dir,
            })
        }
        (Found::Missing, Why::Dep(module, path)) => {
            return Err(ModError::MissingDep {
                module: module.clone(),
                path: path.clone(),
                dep: what.to_string(),
                dir,
            });
        }
        (Found::Missing, Why::Softdep(module)) => notes.push(format!(
            "warning: module {module}: soft dependency {what} is neither in {} nor built in",
            dir.display()
        )),
        (Found::Missing, Why::Loaded) => notes.push(format!(
            "warning: loaded module {what} is not in {}",
            dir.display()
        )),
    }
    Ok(Vec::new())
}

/// The names of the modules listed in `/proc/modules`.
pub fn loaded(path: &Path) -> Result<Vec<String>, ModError> {
    let text = fs::read_to_string(path).map_err(read_err(path))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests;

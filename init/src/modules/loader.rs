//! From a name or alias to loaded modules: lookup, the load order
//! (dependencies first, `pre:` soft dependencies before and `post:` after,
//! each module once), and loading through a [`Backend`].

use super::backend::Backend;
use super::index::{Index, ModuleRef};
use super::Config;
use kmodfmt::normalize_alias;
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("module {query} not found in {} (no such module, alias or built-in)", dir.display())]
    NotFound { query: String, dir: PathBuf },
    #[error("{query}: only blacklisted modules match: {}", modules.join(", "))]
    Blacklisted { query: String, modules: Vec<String> },
    #[error("{name}: an alias names it, but it is not in {}/modules.dep", dir.display())]
    NotInIndex { name: String, dir: PathBuf },
    #[error("{name}: {}: compressed modules are not supported yet; store them uncompressed", path.display())]
    Compressed { name: String, path: PathBuf },
    #[error("{name}: cannot load {}: {}", path.display(), describe(source))]
    Load {
        name: String,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{name}: not retried: loading it failed earlier")]
    FailedBefore { name: String },
}

impl LoadError {
    /// Nothing to load for this query: not an error for coldplug.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            LoadError::NotFound { .. } | LoadError::Blacklisted { .. }
        )
    }
}

/// What `finit_module`'s errors usually mean (kmod's wording), with the
/// error itself. ENOENT from finit_module is not a missing file.
fn describe(e: &io::Error) -> String {
    let hint = match e.raw_os_error() {
        Some(libc::ENOEXEC) => "invalid module format (built for another kernel?)",
        Some(libc::ENOENT) => "unknown symbol in module, or unknown parameter (see dmesg)",
        Some(libc::EINVAL) => "invalid parameters or module (see dmesg)",
        Some(libc::ENOSYS) => "the kernel has no module support",
        Some(libc::EKEYREJECTED) => "module signature rejected",
        _ => return e.to_string(),
    };
    format!("{hint}: {e}")
}

/// Where a module in a plan comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Builtin,
    /// Named (by an alias or a dependency) but absent from the index.
    Missing,
}

/// One module of a load plan, in load order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub location: Location,
    pub params: String,
    /// Only reached through a soft dependency: failing is not fatal.
    pub soft: bool,
}

pub struct Loader<B: Backend> {
    pub index: Index,
    pub config: Config,
    pub backend: B,
    loaded: Vec<String>,
    present: HashSet<String>,
    failed: HashSet<String>,
    warnings: Vec<String>,
}

impl<B: Backend> Loader<B> {
    pub fn new(index: Index, config: Config, backend: B) -> Self {
        Loader {
            index,
            config,
            backend,
            loaded: Vec::new(),
            present: HashSet::new(),
            failed: HashSet::new(),
            warnings: Vec::new(),
        }
    }

    /// Modules this loader loaded, in order.
    pub fn loaded(&self) -> &[String] {
        &self.loaded
    }

    /// Soft-dependency failures since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// The modules `query` names: modprobe.d aliases first, then the
    /// index; modules found through an alias are dropped if blacklisted.
    pub fn resolve(&self, query: &str) -> Result<Vec<ModuleRef>, LoadError> {
        let key = normalize_alias(query);
        let from_config = self.config.match_alias(&key);
        let found: Vec<ModuleRef> = if from_config.is_empty() {
            self.index.resolve(query)
        } else {
            from_config
                .into_iter()
                .map(|n| self.index.module_ref(n, true))
                .collect()
        };
        if found.is_empty() {
            return Err(LoadError::NotFound {
                query: query.to_string(),
                dir: self.index.dir().to_path_buf(),
            });
        }
        let (blocked, allowed): (Vec<_>, Vec<_>) = found
            .into_iter()
            .partition(|m| m.via_alias && self.config.is_blacklisted(&m.name));
        if allowed.is_empty() {
            let modules = blocked.into_iter().map(|m| m.name).collect();
            return Err(LoadError::Blacklisted {
                query: query.to_string(),
                modules,
            });
        }
        Ok(allowed)
    }

    /// The load order for `query`, one plan per module it names; `extra`
    /// parameters go to those modules themselves.
    pub fn plan(&self, query: &str, extra: &str) -> Result<Vec<Vec<Step>>, LoadError> {
        let roots = self.resolve(query)?;
        Ok(roots
            .iter()
            .map(|r| Planner::new(self).run(&r.name, extra))
            .collect())
    }

    /// Loads `query` and what it needs; returns the modules loaded now.
    pub fn load(&mut self, query: &str) -> Result<Vec<String>, LoadError> {
        self.load_with(query, "")
    }

    /// As [`Loader::load`], with extra parameters for the module itself.
    /// Every module `query` names is tried; the first failure is returned.
    pub fn load_with(&mut self, query: &str, extra: &str) -> Result<Vec<String>, LoadError> {
        let mut newly = Vec::new();
        let mut first_err = None;
        for steps in self.plan(query, extra)? {
            match self.execute(&steps, &mut newly) {
                Ok(()) => {}
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(newly), Err)
    }

    /// True when the step needs no loading: built in or already loaded.
    pub fn is_present(&self, step: &Step) -> bool {
        step.location == Location::Builtin
            || self.present.contains(&step.name)
            || self.backend.is_loaded(&step.name)
    }

    fn execute(&mut self, steps: &[Step], newly: &mut Vec<String>) -> Result<(), LoadError> {
        for step in steps {
            if self.is_present(step) {
                self.present.insert(step.name.clone());
                continue;
            }
            match self.load_step(step) {
                Ok(true) => newly.push(step.name.clone()),
                Ok(false) => {}
                Err(LoadError::FailedBefore { .. }) if step.soft => {}
                Err(e) if step.soft => self.warnings.push(format!("soft dependency {e}")),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Loads one module; `Ok(false)` when the kernel had it already.
    fn load_step(&mut self, step: &Step) -> Result<bool, LoadError> {
        let name = step.name.clone();
        if self.failed.contains(&name) {
            return Err(LoadError::FailedBefore { name });
        }
        let result = self.try_load(step);
        match &result {
            Ok(now) => {
                self.present.insert(name.clone());
                if *now {
                    self.loaded.push(name);
                }
            }
            Err(_) => {
                self.failed.insert(name);
            }
        }
        result
    }

    fn try_load(&mut self, step: &Step) -> Result<bool, LoadError> {
        let name = step.name.clone();
        let path = match &step.location {
            Location::File(p) => p.clone(),
            Location::Builtin => return Ok(false),
            Location::Missing => {
                return Err(LoadError::NotInIndex {
                    name,
                    dir: self.index.dir().to_path_buf(),
                })
            }
        };
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        if kmodfmt::SUFFIXES[1..]
            .iter()
            .any(|s| file_name.ends_with(s))
        {
            return Err(LoadError::Compressed { name, path });
        }
        match self.backend.load(&path, &step.params) {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(false),
            Err(source) => Err(LoadError::Load { name, path, source }),
        }
    }
}

/// Depth-first walk that puts every module after what it needs.
struct Planner<'a, B: Backend> {
    loader: &'a Loader<B>,
    steps: Vec<Step>,
    pos: HashMap<String, usize>,
    visiting: HashSet<String>,
}

impl<'a, B: Backend> Planner<'a, B> {
    fn new(loader: &'a Loader<B>) -> Self {
        Planner {
            loader,
            steps: Vec::new(),
            pos: HashMap::new(),
            visiting: HashSet::new(),
        }
    }

    fn run(mut self, root: &str, extra: &str) -> Vec<Step> {
        self.visit(root, false);
        if let Some(&i) = self.pos.get(root) {
            let params = &mut self.steps[i].params;
            if !extra.is_empty() {
                let sep = if params.is_empty() { "" } else { " " };
                *params = format!("{params}{sep}{extra}");
            }
        }
        self.steps
    }

    fn visit(&mut self, name: &str, soft: bool) {
        if let Some(&i) = self.pos.get(name) {
            if !soft && self.steps[i].soft {
                self.harden(name);
            }
            return;
        }
        if !self.visiting.insert(name.to_string()) {
            return; // a dependency cycle: the kernel will say what is wrong
        }
        let index = &self.loader.index;
        let deps: Vec<String> = index.deps(name).map(str::to_string).collect();
        for d in &deps {
            self.visit(d, soft);
        }
        let mut soft_deps = index.softdeps(name).cloned().unwrap_or_default();
        soft_deps.extend(&self.loader.config.softdeps(name));
        self.visit_soft(&soft_deps.pre);
        self.pos.insert(name.to_string(), self.steps.len());
        self.steps.push(self.step(name, soft));
        self.visit_soft(&soft_deps.post);
    }

    /// Soft dependency names may be aliases; unknown ones are skipped.
    fn visit_soft(&mut self, names: &[String]) {
        for n in names {
            let key = normalize_alias(n);
            let mut found: Vec<String> = self.loader.config.match_alias(&key);
            if found.is_empty() {
                found = self
                    .loader
                    .index
                    .resolve(n)
                    .into_iter()
                    .map(|m| m.name)
                    .collect();
            }
            for m in found {
                self.visit(&m, true);
            }
        }
    }

    /// A module first reached softly turns out to be needed: so are its
    /// dependencies.
    fn harden(&mut self, name: &str) {
        let Some(&i) = self.pos.get(name) else { return };
        if !self.steps[i].soft {
            return;
        }
        self.steps[i].soft = false;
        let deps: Vec<String> = self.loader.index.deps(name).map(str::to_string).collect();
        for d in deps {
            self.harden(&d);
        }
    }

    fn step(&self, name: &str, soft: bool) -> Step {
        let index = &self.loader.index;
        let location = match index.path_of(name) {
            Some(p) => Location::File(p),
            None if index.is_builtin(name) => Location::Builtin,
            None => Location::Missing,
        };
        Step {
            name: name.to_string(),
            location,
            params: self.loader.config.options(name),
            soft,
        }
    }
}

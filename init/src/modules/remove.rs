//! `modprobe -r`: unload a module, then what it pulled in that nothing
//! uses any more — its dependencies and soft dependencies — in the reverse
//! of the order loading would have used, so users go before what they use.
//!
//! The module asked for must be loaded, not built in and unused: neither
//! a holder (`/sys/module/NAME/holders`) nor another reference (a mounted
//! filesystem, an open device). Its dependencies are only unloaded when
//! they are unused once the modules unloaded before them are gone; one
//! still in use is left alone (noted, not an error). `delete_module` is
//! never forced.

use super::backend::{Backend, Users};
use super::loader::{Loader, Location, Step};
use kmodfmt::normalize;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("module {name} is built into the kernel")]
    Builtin { name: String },
    #[error("module {name} is not loaded")]
    NotLoaded { name: String },
    #[error("module {name} is in use{}", by(.users))]
    InUse { name: String, users: Users },
    #[error("module {name}: cannot unload: {source}")]
    Unload { name: String, source: io::Error },
}

fn by(u: &Users) -> String {
    if u.holders.is_empty() {
        format!(" ({} references)", u.refcnt)
    } else {
        format!(" by {}", u.holders.join(", "))
    }
}

/// What one `modprobe -r NAME` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// Unloaded (or, in a dry run, to be unloaded), in order.
    pub modules: Vec<String>,
    /// Dependencies left loaded, and why.
    pub kept: Vec<String>,
}

/// Unloads the modules `query` names (a module name or an alias) and
/// their unused dependencies; with `dry_run` only says what it would do.
pub fn remove<B: Backend>(
    loader: &mut Loader<B>,
    query: &str,
    dry_run: bool,
) -> Result<Removed, RemoveError> {
    let mut names: Vec<String> = match loader.resolve(query) {
        Ok(found) => found.into_iter().map(|m| m.name).collect(),
        Err(_) => vec![normalize(query)],
    };
    // An alias naming several modules (crypto-crc32c): those loaded.
    if names.len() > 1 {
        let loaded: Vec<String> = names
            .iter()
            .filter(|n| loader.backend.is_loaded(n))
            .cloned()
            .collect();
        if !loaded.is_empty() {
            names = loaded;
        }
    }
    let mut done = Removed::default();
    for name in names {
        remove_one(loader, &name, dry_run, &mut done)?;
    }
    Ok(done)
}

fn remove_one<B: Backend>(
    loader: &mut Loader<B>,
    root: &str,
    dry_run: bool,
    done: &mut Removed,
) -> Result<(), RemoveError> {
    let steps = unload_order(loader, root);
    let name = root.to_string();
    if steps
        .iter()
        .any(|s| s.name == root && s.location == Location::Builtin)
    {
        return Err(RemoveError::Builtin { name });
    }
    if !loader.backend.is_loaded(root) {
        return Err(RemoveError::NotLoaded { name });
    }
    if let Some(users) = still_used(loader, root, &done.modules) {
        return Err(RemoveError::InUse { name, users });
    }
    for step in steps {
        let n = step.name;
        if n == root {
            unload(loader, root, dry_run)?;
            done.modules.push(n);
            continue;
        }
        if step.location == Location::Builtin
            || done.modules.contains(&n)
            || !loader.backend.is_loaded(&n)
        {
            continue;
        }
        if let Some(users) = still_used(loader, &n, &done.modules) {
            done.kept.push(format!("{n}: still in use{}", by(&users)));
            continue;
        }
        match unload(loader, &n, dry_run) {
            Ok(()) => done.modules.push(n),
            Err(e) => done.kept.push(e.to_string()),
        }
    }
    Ok(())
}

/// The load plan of `root`, reversed: users before what they use. A
/// module missing from the index (loaded from elsewhere) is just itself.
fn unload_order<B: Backend>(loader: &Loader<B>, root: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = match loader.plan(root, "") {
        Ok(plans) => plans.into_iter().flatten().collect(),
        Err(_) => Vec::new(),
    };
    if !steps.iter().any(|s| s.name == root) {
        let location = Location::Missing;
        steps.push(Step {
            name: root.to_string(),
            location,
            params: String::new(),
            soft: false,
        });
    }
    steps.reverse();
    steps
}

/// What keeps `name` loaded once `gone` are unloaded (each holder module
/// holds one reference), or `None` when nothing does.
fn still_used<B: Backend>(loader: &Loader<B>, name: &str, gone: &[String]) -> Option<Users> {
    let users = loader.backend.users(name);
    let (leaving, holders): (Vec<String>, Vec<String>) =
        users.holders.into_iter().partition(|h| gone.contains(h));
    let refcnt = users.refcnt.saturating_sub(leaving.len() as u32);
    (!holders.is_empty() || refcnt > 0).then_some(Users { holders, refcnt })
}

fn unload<B: Backend>(
    loader: &mut Loader<B>,
    name: &str,
    dry_run: bool,
) -> Result<(), RemoveError> {
    if dry_run {
        return Ok(());
    }
    loader
        .backend
        .remove(name)
        .map_err(|source| match source.raw_os_error() {
            Some(libc::EWOULDBLOCK | libc::EBUSY) => RemoveError::InUse {
                name: name.to_string(),
                users: loader.backend.users(name),
            },
            Some(libc::ENOENT) => RemoveError::NotLoaded {
                name: name.to_string(),
            },
            _ => RemoveError::Unload {
                name: name.to_string(),
                source,
            },
        })
}

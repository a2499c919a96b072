//! The image's modules directory, `/lib/modules/VER`: the chosen module
//! files (decompressed) at their paths, and kmod's indexes for exactly
//! them: `modules.dep`, `modules.alias`, `modules.softdep` and
//! `modules.order` (the source's, filtered), in text and, for kmod's
//! `modprobe`, the binary `modules.dep.bin` and `modules.alias.bin`;
//! `modules.builtin` and `modules.builtin.modinfo` copied whole, with
//! their `.bin` forms.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use kmodfmt::{plain_path, SoftDeps};

use crate::kmod::bin_index;
use crate::kmod::moddb::{ModDb, ModError, Module};
use crate::tree::{self, Entry, Kind, Tree};

/// Symlinks followed for one path at most, as the kernel's MAXSYMLINKS.
const MAX_HOPS: usize = 40;

/// Adds `modules` and their indexes below `lib/modules/VER`.
pub fn add(
    tree: &mut Tree,
    db: &ModDb,
    modules: &BTreeMap<String, Module>,
    kver: &str,
) -> Result<(), ModError> {
    let base = follow_links(tree, &format!("lib/modules/{kver}"));
    let order = source_order(db)?;
    let sorted = output_order(modules, &order);
    for m in &sorted {
        let entry = if m.file.compressed {
            Entry::unpacked(m.src.clone(), m.file.size, 0o644)
        } else {
            tree::file_entry(&m.src, Some(0o644))?
        };
        tree.insert(join(&base, &m.image_rel()), entry)?;
    }
    let lines = dep_lines(db, &sorted);
    let rank: HashMap<&str, u32> = (sorted.iter().enumerate())
        .map(|(i, m)| (m.name.as_str(), i as u32))
        .collect();
    let aliases: Vec<(String, String)> = sorted
        .iter()
        .flat_map(|m| {
            m.file
                .info
                .aliases
                .iter()
                .map(|a| (a.clone(), m.name.clone()))
        })
        .collect();
    let softdeps: Vec<(String, SoftDeps)> = sorted
        .iter()
        .flat_map(|m| db.softdeps(m).into_iter().map(|s| (m.name.clone(), s)))
        .collect();
    let mut files = vec![
        ("modules.dep", kmodfmt::dep::write(&lines).into_bytes()),
        ("modules.dep.bin", bin_index::dep_index(&lines)),
        (
            "modules.alias",
            kmodfmt::alias::write(&aliases).into_bytes(),
        ),
        (
            "modules.alias.bin",
            bin_index::alias_index(&aliases, |m| rank[m]),
        ),
        (
            "modules.softdep",
            kmodfmt::softdep::write(&softdeps).into_bytes(),
        ),
    ];
    if let Some(order) = order {
        let kept: HashSet<String> = sorted.iter().map(|m| m.image_rel()).collect();
        let order = order.iter().filter(|p| kept.contains(*p));
        files.push(("modules.order", kmodfmt::paths::write(order).into_bytes()));
    }
    files.extend(builtin_files(db)?);
    for (name, bytes) in files {
        tree.insert(join(&base, name), Entry::data(bytes, 0o644))?;
    }
    Ok(())
}

fn join(base: &[u8], rel: &str) -> Vec<u8> {
    [base, b"/", rel.as_bytes()].concat()
}

/// `modules.order` of the source directory, with decompressed paths.
fn source_order(db: &ModDb) -> Result<Option<Vec<String>>, ModError> {
    let Some(data) = db.read_optional("modules.order")? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&data);
    Ok(Some(
        kmodfmt::paths::parse(&text)
            .iter()
            .map(|p| plain_path(p))
            .collect(),
    ))
}

/// `modules.builtin` and `modules.builtin.modinfo` as they are, and
/// their binary indexes.
fn builtin_files(db: &ModDb) -> Result<Vec<(&'static str, Vec<u8>)>, ModError> {
    let mut files = Vec::new();
    if let Some(data) = db.read_optional("modules.builtin")? {
        let (names, _) = kmodfmt::builtin::names(&String::from_utf8_lossy(&data));
        files.push(("modules.builtin", data));
        files.push(("modules.builtin.bin", bin_index::builtin_index(&names)));
    }
    if let Some(data) = db.read_optional("modules.builtin.modinfo")? {
        let (aliases, _) = kmodfmt::builtin::aliases(&data);
        files.push(("modules.builtin.modinfo", data));
        files.push((
            "modules.builtin.alias.bin",
            bin_index::builtin_alias_index(&aliases),
        ));
    }
    Ok(files)
}

/// The modules in the order of `modules.order`, then the others by path.
fn output_order<'a>(
    modules: &'a BTreeMap<String, Module>,
    order: &Option<Vec<String>>,
) -> Vec<&'a Module> {
    let rank: HashMap<&str, usize> = order
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    let mut sorted: Vec<&Module> = modules.values().collect();
    sorted.sort_by_cached_key(|m| {
        let rel = m.image_rel();
        (rank.get(rel.as_str()).copied().unwrap_or(usize::MAX), rel)
    });
    sorted
}

/// The `modules.dep` lines: a module's line from the source's
/// `modules.dep` if it has one, else all it needs in depmod's order.
fn dep_lines(db: &ModDb, sorted: &[&Module]) -> Vec<(String, Vec<String>)> {
    let at: HashMap<&str, usize> = (sorted.iter().enumerate())
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let edges: Vec<Vec<usize>> = sorted
        .iter()
        .map(|m| {
            let mut deps: Vec<usize> = Vec::new();
            for d in db.deps(m) {
                match at.get(d.as_str()) {
                    Some(&i) if !deps.contains(&i) => deps.push(i),
                    _ => {} // built in, or listed twice
                }
            }
            deps
        })
        .collect();
    let rank = depmod_rank(&edges);
    let mut lines = Vec::with_capacity(sorted.len());
    for (i, m) in sorted.iter().enumerate() {
        let deps = match db.dep_line(m) {
            Some(line) => line.iter().map(|p| plain_path(p)).collect(),
            None => {
                let mut all = needs(&edges, i);
                all.sort_by_key(|&d| rank[d]);
                all.iter().map(|&d| sorted[d].image_rel()).collect()
            }
        };
        lines.push((m.image_rel(), deps));
    }
    lines
}

/// Every module that module `i` needs, directly or not.
fn needs(edges: &[Vec<usize>], i: usize) -> Vec<usize> {
    let mut seen = BTreeSet::new();
    let mut todo = edges[i].clone();
    while let Some(d) = todo.pop() {
        if d != i && seen.insert(d) {
            todo.extend(&edges[d]);
        }
    }
    seen.into_iter().collect()
}

/// Each module's place in depmod's topological order, where a module
/// comes before those it needs: modules that no other needs are the
/// roots, taken from the end of the list; a module whose last user has
/// been placed becomes a root. Modules in a cycle come last.
pub fn depmod_rank(edges: &[Vec<usize>]) -> Vec<usize> {
    let mut users = vec![0usize; edges.len()];
    for &d in edges.iter().flatten() {
        users[d] += 1;
    }
    let mut roots: Vec<usize> = (0..edges.len()).filter(|&i| users[i] == 0).collect();
    let mut rank = vec![usize::MAX; edges.len()];
    let mut placed = 0;
    while let Some(i) = roots.pop() {
        rank[i] = placed;
        placed += 1;
        for &d in &edges[i] {
            users[d] -= 1;
            if users[d] == 0 {
                roots.push(d);
            }
        }
    }
    rank
}

/// `path` with the symlinks of the tree on its way followed: a rootfs
/// with `lib -> usr/lib` gets its modules in `usr/lib/modules`.
pub fn follow_links(tree: &Tree, path: &str) -> Vec<u8> {
    let mut pending: VecDeque<Vec<u8>> = path.split('/').map(|p| p.as_bytes().to_vec()).collect();
    let mut done: Vec<Vec<u8>> = Vec::new();
    let mut hops = 0;
    while let Some(part) = pending.pop_front() {
        match &part[..] {
            b"" | b"." => continue,
            b".." => {
                done.pop();
                continue;
            }
            _ => done.push(part),
        }
        let Some(Entry {
            kind: Kind::Symlink { target },
            ..
        }) = tree.get(&done.join(&b'/'))
        else {
            continue;
        };
        if hops == MAX_HOPS {
            continue; // a loop: taken as it is
        }
        hops += 1;
        done.pop();
        if target.starts_with(b"/") {
            done.clear();
        }
        for p in target.split(|&b| b == b'/').rev() {
            pending.push_front(p.to_vec());
        }
    }
    done.join(&b'/')
}

#[cfg(test)]
mod tests;

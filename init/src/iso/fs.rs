//! The file tree of an ISO image: which names to use, directory listings,
//! path lookup and reading files.
//!
//! Names come from Rock Ridge when the primary volume has it (`SP` in the
//! root's `.` record), else from a Joliet volume when there is one, else
//! the plain ISO 9660 names (version `;1` and a trailing `.` dropped).
//! Lookup tries the exact name first, then ignores ASCII case, so
//! `isolinux/isolinux.cfg` finds `ISOLINUX/ISOLINUX.CFG;1`.

use super::medium::Medium;
use super::volume::{self, RawRecord, FLAG_MULTI_EXTENT, SECTOR};
use super::{susp, IsoError};
use std::collections::VecDeque;
use std::io::Write;

/// Directories larger than this are taken for corruption.
const MAX_DIR: u64 = 16 << 20;
/// Symbolic links followed in one lookup.
const MAX_LINKS: usize = 16;
const CHUNK: usize = 1 << 20;

/// Where names come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Rock Ridge, skipping this many bytes of each System Use area.
    RockRidge(u8),
    Joliet,
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink(String),
}

/// A file, directory or link in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub kind: Kind,
    /// Byte offset of the data.
    pub offset: u64,
    pub size: u64,
    /// Multi-extent or interleaved: refused when read.
    pub unsupported: Option<&'static str>,
}

/// An opened ISO image.
pub struct Iso {
    pub medium: Medium,
    pub names: Names,
    root: Node,
}

impl Iso {
    /// Reads the volume descriptors and picks the tree to use.
    pub fn new(medium: Medium) -> Result<Iso, IsoError> {
        let vols = volume::read_volumes(&medium)?;
        let root_node = |r: &RawRecord| Node {
            name: "/".into(),
            kind: Kind::Dir,
            offset: r.data_offset(),
            size: r.size,
            unsupported: None,
        };
        let root = root_node(&vols.primary);
        let mut iso = Iso {
            medium,
            names: Names::Plain,
            root,
        };
        if let Some(skip) = iso.rock_ridge()? {
            iso.names = Names::RockRidge(skip);
        } else if let Some(j) = &vols.joliet {
            iso.names = Names::Joliet;
            iso.root = root_node(j);
        }
        Ok(iso)
    }

    pub fn name(&self) -> &str {
        &self.medium.name
    }

    /// `Some(skip)` when the root's `.` record starts with `SP` and the
    /// entries show Rock Ridge.
    fn rock_ridge(&self) -> Result<Option<u8>, IsoError> {
        let records = self.records(&self.root)?;
        let Some(dot) = records.first() else {
            return Ok(None);
        };
        let s = susp::parse(&self.medium, &dot.system_use, dot.system_use_offset)?;
        Ok(s.sp_skip.filter(|_| s.rock_ridge))
    }

    fn records(&self, dir: &Node) -> Result<Vec<RawRecord>, IsoError> {
        if dir.size > MAX_DIR {
            let why = format!("directory {} claims {} bytes", dir.name, dir.size);
            return Err(self.medium.corrupt("directory", dir.offset, why));
        }
        let data = self.medium.read(dir.offset, dir.size as usize, &|| {
            format!("directory {}", dir.name)
        })?;
        volume::parse_dir(&self.medium, &data, dir.offset)
    }

    /// The entries of `dir`, without `.`, `..` and relocated directories.
    pub fn list(&self, dir: &Node) -> Result<Vec<Node>, IsoError> {
        let mut out = Vec::new();
        for r in self.records(dir)?.iter().filter(|r| !r.is_self_or_parent()) {
            if let Some(node) = self.node(r)? {
                out.push(node);
            }
        }
        Ok(out)
    }

    fn node(&self, r: &RawRecord) -> Result<Option<Node>, IsoError> {
        let plain = match self.names {
            Names::Joliet => joliet_name(&r.name),
            _ => plain_name(&r.name),
        };
        let mut node = Node {
            name: plain,
            kind: if r.is_dir() { Kind::Dir } else { Kind::File },
            offset: r.data_offset(),
            size: r.size,
            unsupported: unsupported(r),
        };
        let Names::RockRidge(skip) = self.names else {
            return Ok(Some(node));
        };
        let su = r.system_use.get(usize::from(skip)..).unwrap_or_default();
        let s = susp::parse(&self.medium, su, r.system_use_offset + u64::from(skip))?;
        if s.relocated {
            return Ok(None);
        }
        node.name = s.name.unwrap_or(node.name);
        if let Some(target) = s.symlink {
            node.kind = Kind::Symlink(target);
        } else if let Some(block) = s.child_link {
            self.relocated_dir(&mut node, block)?;
        }
        Ok(Some(node))
    }

    /// A `CL` entry: the directory's data is at `block`, whose first
    /// record (`.`) gives the size.
    fn relocated_dir(&self, node: &mut Node, block: u64) -> Result<(), IsoError> {
        let offset = block * SECTOR;
        let what = || format!("relocated directory {}", node.name);
        let first = self.medium.read(offset, SECTOR as usize, &what)?;
        let dot = volume::parse_record(&first, offset)
            .map_err(|why| self.medium.corrupt("directory record", offset, why))?;
        node.kind = Kind::Dir;
        node.offset = dot.data_offset();
        node.size = dot.size;
        Ok(())
    }

    /// Finds `path` (from the root; `.`, `..` and links resolved).
    pub fn lookup(&self, path: &str) -> Result<Node, IsoError> {
        let mut stack = vec![self.root.clone()];
        let mut todo: VecDeque<String> = components(path);
        let mut links = 0;
        while let Some(part) = todo.pop_front() {
            if part == ".." {
                stack.truncate((stack.len() - 1).max(1));
                continue;
            }
            let dir = stack.last().unwrap_or(&self.root);
            if dir.kind != Kind::Dir {
                return Err(self.path_error(path, format!("{} is not a directory", dir.name)));
            }
            let entries = self.list(dir)?;
            let found = find(&entries, &part).ok_or_else(|| IsoError::NotFound {
                file: self.medium.name.clone(),
                path: path.to_string(),
            })?;
            match &found.kind {
                Kind::Symlink(target) => {
                    links += 1;
                    self.follow(path, target, links, &mut stack, &mut todo)?;
                }
                _ => stack.push(found.clone()),
            }
        }
        Ok(stack.pop().unwrap_or_else(|| self.root.clone()))
    }

    /// Continues a lookup through a link to `target`: the rest of the
    /// path now starts with the target's components.
    fn follow(
        &self,
        path: &str,
        target: &str,
        links: usize,
        stack: &mut Vec<Node>,
        todo: &mut VecDeque<String>,
    ) -> Result<(), IsoError> {
        if links > MAX_LINKS {
            let why = format!("more than {MAX_LINKS} symbolic links (a loop?)");
            return Err(self.path_error(path, why));
        }
        if target.starts_with('/') {
            stack.truncate(1);
        }
        for c in components(target).into_iter().rev() {
            todo.push_front(c);
        }
        Ok(())
    }

    fn path_error(&self, path: &str, why: String) -> IsoError {
        IsoError::Path {
            file: self.medium.name.clone(),
            path: path.to_string(),
            why,
        }
    }

    /// Checks that `node` at `path` is a plain file that can be read.
    fn readable(&self, node: &Node, path: &str) -> Result<(), IsoError> {
        if node.kind != Kind::File {
            return Err(self.path_error(path, "not a regular file".into()));
        }
        if let Some(why) = node.unsupported {
            return Err(self.path_error(path, format!("{why}: not supported")));
        }
        self.medium
            .check(node.offset, node.size, &|| format!("file {path}"))
    }

    /// Whether the file at `path` could be read (found, a plain file,
    /// its extent inside the image), without reading it.
    pub fn check(&self, path: &str) -> Result<(), IsoError> {
        self.readable(&self.lookup(path)?, path)
    }

    /// Reads the file at `path`, refusing files over `max` bytes.
    pub fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, IsoError> {
        let node = self.lookup(path)?;
        self.readable(&node, path)?;
        if node.size > max {
            return Err(self.path_error(
                path,
                format!("{} bytes, more than the {max} expected", node.size),
            ));
        }
        self.medium
            .read(node.offset, node.size as usize, &|| format!("file {path}"))
    }

    /// Copies the file at `path` to `out`; returns its size.
    pub fn copy(&self, path: &str, out: &mut dyn Write) -> Result<u64, IsoError> {
        let node = self.lookup(path)?;
        self.readable(&node, path)?;
        let mut buf = vec![0; CHUNK.min(node.size as usize)];
        let mut done = 0;
        while done < node.size {
            let n = (node.size - done).min(CHUNK as u64) as usize;
            self.medium.read_into(node.offset + done, &mut buf[..n])?;
            out.write_all(&buf[..n])
                .map_err(|e| self.path_error(path, format!("copying: {e}")))?;
            done += n as u64;
        }
        Ok(done)
    }
}

/// Why the data of `r` cannot be read as one extent, if it cannot.
fn unsupported(r: &RawRecord) -> Option<&'static str> {
    if r.flags & FLAG_MULTI_EXTENT != 0 {
        Some("a multi-extent file (split into several extents, as for files over 4 GiB)")
    } else if r.interleaved {
        Some("an interleaved file")
    } else {
        None
    }
}

fn components(path: &str) -> VecDeque<String> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_string)
        .collect()
}

/// The exact name, else the first one equal ignoring ASCII case.
fn find<'a>(entries: &'a [Node], name: &str) -> Option<&'a Node> {
    entries
        .iter()
        .find(|e| e.name == name)
        .or_else(|| entries.iter().find(|e| e.name.eq_ignore_ascii_case(name)))
}

/// `KERNEL.;1` -> `KERNEL`, `ISOLINUX.CFG;1` -> `ISOLINUX.CFG`.
fn plain_name(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let s = s.split_once(';').map_or(&*s, |(n, _)| n);
    s.strip_suffix('.').unwrap_or(s).to_string()
}

/// UCS-2 big-endian, version dropped.
fn joliet_name(raw: &[u8]) -> String {
    let units = raw
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]));
    let s: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    s.split_once(';').map_or(s.as_str(), |(n, _)| n).to_string()
}

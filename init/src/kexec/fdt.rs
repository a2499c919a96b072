//! A flattened device tree (Devicetree Specification v0.4, chapter 5),
//! read into a tree and written back as version 17: the arm64 kexec hands
//! the next kernel the running tree with `/chosen` rewritten.
//!
//! Only what the blob says is trusted after it is checked: every offset
//! and length against the blob's size, names as UTF-8 without NUL, the
//! nesting depth bounded.

/// `FDT_MAGIC`, big-endian at offset 0.
const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
const HEADER_LEN: usize = 40;
/// Deeper than any real tree; bounds the recursion on garbage.
const MAX_DEPTH: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FdtError {
    #[error("not a flattened device tree: bad magic {0:#010x}")]
    Magic(u32),
    #[error("device tree version {0} is older than 16")]
    Version(u32),
    #[error("device tree truncated: {0}")]
    Truncated(&'static str),
    #[error("device tree structure block is malformed at offset {0}: {1}")]
    Structure(usize, &'static str),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// `name@unit`; empty for the root.
    pub name: String,
    pub props: Vec<(String, Vec<u8>)>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fdt {
    pub boot_cpuid: u32,
    /// The memory reservation block: (address, size).
    pub reserve: Vec<(u64, u64)>,
    pub root: Node,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    let hi = be32(b, at)? as u64;
    let lo = be32(b, at.checked_add(4)?)? as u64;
    Some(hi << 32 | lo)
}

/// The NUL-terminated string at `at`, as UTF-8.
fn cstr(b: &[u8], at: usize) -> Option<&str> {
    let rest = b.get(at..)?;
    let end = rest.iter().position(|&c| c == 0)?;
    std::str::from_utf8(&rest[..end]).ok()
}

fn align4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

impl Fdt {
    /// Parses a blob; garbage gives an error that says what is wrong.
    pub fn parse(blob: &[u8]) -> Result<Fdt, FdtError> {
        let h = |i: usize| be32(blob, i * 4).ok_or(FdtError::Truncated("header"));
        let magic = h(0)?;
        if magic != MAGIC {
            return Err(FdtError::Magic(magic));
        }
        let total = h(1)? as usize;
        let version = h(5)?;
        if version < 16 {
            return Err(FdtError::Version(version));
        }
        let blob = blob
            .get(..total)
            .ok_or(FdtError::Truncated("shorter than its totalsize"))?;
        let (off_struct, off_strings, off_rsv) = (h(2)? as usize, h(3)? as usize, h(4)? as usize);
        let strings = blob
            .get(off_strings..off_strings.saturating_add(h(8)? as usize))
            .ok_or(FdtError::Truncated("strings block"))?;
        let structure = blob
            .get(off_struct..off_struct.saturating_add(h(9)? as usize))
            .ok_or(FdtError::Truncated("structure block"))?;
        let reserve = parse_reserve(blob, off_rsv)?;
        let mut r = Reader {
            s: structure,
            strings,
            pos: 0,
        };
        r.skip_nops()?;
        if r.token()? != BEGIN_NODE {
            return Err(FdtError::Structure(0, "does not begin with a node"));
        }
        let root = r.node(0)?;
        r.skip_nops()?;
        if r.token()? != END {
            return Err(FdtError::Structure(r.pos, "no FDT_END after the root"));
        }
        Ok(Fdt {
            boot_cpuid: h(7)?,
            reserve,
            root,
        })
    }

    /// The blob, version 17: header, reservations, structure, strings.
    pub fn write(&self) -> Vec<u8> {
        let mut rsv = Vec::new();
        for &(a, s) in self.reserve.iter().chain([&(0, 0)]) {
            rsv.extend(a.to_be_bytes());
            rsv.extend(s.to_be_bytes());
        }
        let mut w = Writer::default();
        w.node(&self.root);
        w.word(END);
        let off_rsv = HEADER_LEN;
        let off_struct = off_rsv + rsv.len();
        let off_strings = off_struct + w.s.len();
        let total = off_strings + w.strings.len();
        let mut out = Vec::with_capacity(total);
        let header = [
            MAGIC,
            total as u32,
            off_struct as u32,
            off_strings as u32,
            off_rsv as u32,
            17,
            16,
            self.boot_cpuid,
            w.strings.len() as u32,
            w.s.len() as u32,
        ];
        for v in header {
            out.extend(v.to_be_bytes());
        }
        out.extend(rsv);
        out.extend(w.s);
        out.extend(w.strings);
        out
    }

    /// The child of the root called `name`, created if missing.
    pub fn child_mut(&mut self, name: &str) -> &mut Node {
        let kids = &mut self.root.children;
        let i = match kids.iter().position(|n| n.name == name) {
            Some(i) => i,
            None => {
                kids.push(Node {
                    name: name.into(),
                    ..Node::default()
                });
                kids.len() - 1
            }
        };
        &mut kids[i]
    }
}

impl Node {
    pub fn prop(&self, name: &str) -> Option<&[u8]> {
        self.props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Sets (replacing) a property.
    pub fn set(&mut self, name: &str, value: Vec<u8>) {
        match self.props.iter_mut().find(|(n, _)| n == name) {
            Some(p) => p.1 = value,
            None => self.props.push((name.into(), value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.props.retain(|(n, _)| n != name);
    }
}

fn parse_reserve(blob: &[u8], mut at: usize) -> Result<Vec<(u64, u64)>, FdtError> {
    let mut out = Vec::new();
    loop {
        let addr = be64(blob, at).ok_or(FdtError::Truncated("reservation block"))?;
        let size = be64(blob, at + 8).ok_or(FdtError::Truncated("reservation block"))?;
        if addr == 0 && size == 0 {
            return Ok(out);
        }
        out.push((addr, size));
        at += 16;
    }
}

struct Reader<'a> {
    s: &'a [u8],
    strings: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn token(&mut self) -> Result<u32, FdtError> {
        let t = be32(self.s, self.pos).ok_or(FdtError::Truncated("structure block"))?;
        self.pos += 4;
        Ok(t)
    }

    fn skip_nops(&mut self) -> Result<(), FdtError> {
        while be32(self.s, self.pos) == Some(NOP) {
            self.pos += 4;
        }
        Ok(())
    }

    /// A node whose FDT_BEGIN_NODE was just read.
    fn node(&mut self, depth: usize) -> Result<Node, FdtError> {
        if depth > MAX_DEPTH {
            return Err(FdtError::Structure(self.pos, "nodes nested too deep"));
        }
        let name = cstr(self.s, self.pos).ok_or(FdtError::Structure(self.pos, "bad node name"))?;
        let mut node = Node {
            name: name.into(),
            ..Node::default()
        };
        self.pos = align4(self.pos + name.len() + 1);
        loop {
            let at = self.pos;
            match self.token()? {
                PROP => node.props.push(self.prop()?),
                BEGIN_NODE => node.children.push(self.node(depth + 1)?),
                END_NODE => return Ok(node),
                NOP => {}
                _ => return Err(FdtError::Structure(at, "unknown token")),
            }
        }
    }

    fn prop(&mut self) -> Result<(String, Vec<u8>), FdtError> {
        let at = self.pos;
        let len = self.token()? as usize;
        let nameoff = self.token()? as usize;
        let name =
            cstr(self.strings, nameoff).ok_or(FdtError::Structure(at, "bad property name"))?;
        let value = self
            .s
            .get(self.pos..self.pos.saturating_add(len))
            .ok_or(FdtError::Structure(at, "property runs past the block"))?;
        self.pos = align4(self.pos + len);
        Ok((name.into(), value.to_vec()))
    }
}

#[derive(Default)]
struct Writer {
    s: Vec<u8>,
    strings: Vec<u8>,
}

impl Writer {
    fn word(&mut self, v: u32) {
        self.s.extend(v.to_be_bytes());
    }

    fn pad(&mut self) {
        self.s.resize(align4(self.s.len()), 0);
    }

    fn node(&mut self, n: &Node) {
        self.word(BEGIN_NODE);
        self.s.extend(n.name.as_bytes());
        self.s.push(0);
        self.pad();
        for (name, value) in &n.props {
            self.word(PROP);
            self.word(value.len() as u32);
            let off = self.string(name);
            self.word(off);
            self.s.extend(value);
            self.pad();
        }
        for c in &n.children {
            self.node(c);
        }
        self.word(END_NODE);
    }

    /// The offset of `name` in the strings block, added once.
    fn string(&mut self, name: &str) -> u32 {
        let needle: Vec<u8> = name.bytes().chain([0]).collect();
        let found = self.strings.windows(needle.len()).position(|w| w == needle);
        // Only at the start of a string: offset 0 or after a NUL.
        if let Some(i) = found.filter(|&i| i == 0 || self.strings[i - 1] == 0) {
            return i as u32;
        }
        let off = self.strings.len() as u32;
        self.strings.extend(needle);
        off
    }
}

#[cfg(test)]
#[path = "fdt_tests.rs"]
mod tests;

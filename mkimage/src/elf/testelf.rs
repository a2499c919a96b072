//! Test data: small ELF files made to order (program headers, an
//! interpreter and a dynamic section; no code).

/// What to put into a test ELF file.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    pub class64: bool,
    pub little: bool,
    pub machine: u16,
    pub interp: Option<&'a str>,
    pub needed: &'a [&'a str],
    pub runpath: Option<&'a str>,
    pub rpath: Option<&'a str>,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            class64: true,
            little: true,
            machine: 62,
            interp: None,
            needed: &[],
            runpath: None,
            rpath: None,
        }
    }
}

/// Writes numbers of one class and byte order.
struct Out {
    class64: bool,
    little: bool,
    bytes: Vec<u8>,
}

impl Out {
    fn n(&mut self, v: u64, size: usize) {
        let mut b = v.to_le_bytes()[..size].to_vec();
        if !self.little {
            b.reverse();
        }
        self.bytes.extend_from_slice(&b);
    }
    fn word(&mut self, v: u64) {
        self.n(v, if self.class64 { 8 } else { 4 });
    }
}

pub const BASE: u64 = 0x40_0000;

/// The string table and the dynamic entries that point into it.
fn dynamic(s: &Spec, strtab_addr: u64) -> (Vec<u8>, Vec<(u64, u64)>) {
    let mut strtab = vec![0u8];
    let mut entries = Vec::new();
    let mut add = |tag: u64, text: &str, entries: &mut Vec<(u64, u64)>| {
        entries.push((tag, strtab.len() as u64));
        strtab.extend_from_slice(text.as_bytes());
        strtab.push(0);
    };
    for n in s.needed {
        add(1, n, &mut entries);
    }
    if let Some(r) = s.runpath {
        add(29, r, &mut entries);
    }
    if let Some(r) = s.rpath {
        add(15, r, &mut entries);
    }
    entries.push((5, strtab_addr));
    entries.push((10, strtab.len() as u64));
    entries.push((0, 0));
    (strtab, entries)
}

/// An ET_DYN file as `s` says; everything in one PT_LOAD at [`BASE`].
pub fn build(s: &Spec) -> Vec<u8> {
    let (ehsize, phsize) = if s.class64 { (64u64, 56u64) } else { (52, 32) };
    let interp = s.interp.map(|i| format!("{i}\0")).unwrap_or_default();
    let phnum = if interp.is_empty() { 2 } else { 3 };
    let interp_off = ehsize + phnum * phsize;
    let strtab_off = interp_off + interp.len() as u64;
    let (strtab, entries) = dynamic(s, BASE + strtab_off);
    let dyn_off = strtab_off + strtab.len() as u64;
    let dyn_size = entries.len() as u64 * if s.class64 { 16 } else { 8 };
    let total = dyn_off + dyn_size;
    let mut o = Out {
        class64: s.class64,
        little: s.little,
        bytes: b"\x7fELF".to_vec(),
    };
    o.bytes
        .extend_from_slice(&[1 + u8::from(s.class64), 2 - u8::from(s.little), 1]);
    o.bytes.resize(16, 0);
    for (v, size) in [(3, 2), (u64::from(s.machine), 2), (1, 4)] {
        o.n(v, size);
    }
    o.word(BASE); // entry
    o.word(ehsize); // phoff
    o.word(0); // shoff
    for (v, size) in [
        (0, 4),
        (ehsize, 2),
        (phsize, 2),
        (phnum, 2),
        (0, 2),
        (0, 2),
        (0, 2),
    ] {
        o.n(v, size);
    }
    if !interp.is_empty() {
        phdr(&mut o, 3, interp_off, interp.len() as u64);
    }
    phdr(&mut o, 1, 0, total);
    phdr(&mut o, 2, dyn_off, dyn_size);
    o.bytes.extend_from_slice(interp.as_bytes());
    o.bytes.extend_from_slice(&strtab);
    for (tag, val) in entries {
        o.word(tag);
        o.word(val);
    }
    assert_eq!(o.bytes.len() as u64, total);
    o.bytes
}

fn phdr(o: &mut Out, kind: u32, off: u64, size: u64) {
    o.n(u64::from(kind), 4);
    if o.class64 {
        o.n(5, 4); // flags
    }
    o.word(off);
    o.word(BASE + off);
    o.word(BASE + off);
    o.word(size);
    o.word(size);
    if !o.class64 {
        o.n(5, 4);
    }
    o.word(8);
}

/// A kernel module (ET_REL) with a `.modinfo` section holding `modinfo`
/// (`key=value` strings) and a section name table; no code.
pub fn module(class64: bool, little: bool, modinfo: &[&str]) -> Vec<u8> {
    let (ehsize, shsize) = if class64 { (64u64, 64u64) } else { (52, 40) };
    let mut info = Vec::new();
    for s in modinfo {
        info.extend_from_slice(s.as_bytes());
        info.push(0);
    }
    let names = b"\0.modinfo\0.shstrtab\0";
    let info_off = ehsize;
    let names_off = info_off + info.len() as u64;
    let shoff = (names_off + names.len() as u64).next_multiple_of(8);
    let mut o = Out {
        class64,
        little,
        bytes: b"\x7fELF".to_vec(),
    };
    o.bytes
        .extend_from_slice(&[1 + u8::from(class64), 2 - u8::from(little), 1]);
    o.bytes.resize(16, 0);
    for (v, size) in [(1, 2), (62, 2), (1, 4)] {
        o.n(v, size);
    }
    o.word(0); // entry
    o.word(0); // phoff
    o.word(shoff);
    for (v, size) in [
        (0, 4),
        (ehsize, 2),
        (0, 2),
        (0, 2),
        (shsize, 2),
        (3, 2),
        (2, 2),
    ] {
        o.n(v, size);
    }
    o.bytes.extend_from_slice(&info);
    o.bytes.extend_from_slice(names);
    o.bytes.resize(shoff as usize, 0);
    shdr(&mut o, 0, 0, 0, 0);
    shdr(&mut o, 1, 1, info_off, info.len() as u64);
    shdr(&mut o, 10, 3, names_off, names.len() as u64);
    o.bytes
}

fn shdr(o: &mut Out, name: u64, kind: u64, off: u64, size: u64) {
    o.n(name, 4);
    o.n(kind, 4);
    o.word(0); // flags
    o.word(0); // addr
    o.word(off);
    o.word(size);
    o.n(0, 4); // link
    o.n(0, 4); // info
    o.word(1); // addralign
    o.word(0); // entsize
}

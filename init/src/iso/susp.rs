//! The System Use Sharing Protocol (SUSP) entries of a directory record,
//! and the Rock Ridge (RRIP) ones among them that matter for finding
//! files: `NM` (the real name), `SL` (a symbolic link), `CL`/`RE` (a deep
//! directory relocated by the ISO writer), and `CE` (the entries go on in
//! a continuation area elsewhere in the image).

use super::medium::Medium;
use super::volume::SECTOR;
use super::IsoError;

/// Continuation areas followed for one record before giving up.
const MAX_CONTINUATIONS: usize = 32;
/// `CE` areas are at most a block long.
const MAX_CE_LEN: u64 = SECTOR;

/// What the SUSP entries of one record say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Susp {
    /// `SP`: SUSP is in use; its value is the bytes to skip in every
    /// other record's System Use area.
    pub sp_skip: Option<u8>,
    /// `ER` or `PX` seen: Rock Ridge is in use.
    pub rock_ridge: bool,
    pub name: Option<String>,
    pub symlink: Option<String>,
    /// `CL`: a relocated directory's block.
    pub child_link: Option<u64>,
    /// `RE`: the relocated directory's own record; hidden from listings.
    pub relocated: bool,
}

#[derive(Default)]
struct Symlink {
    parts: Vec<String>,
    /// The last component continues in the next `SL` entry.
    continues: bool,
}

/// Parses `area` (at `offset`), following `CE` continuation areas.
pub fn parse(m: &Medium, area: &[u8], offset: u64) -> Result<Susp, IsoError> {
    let mut out = Susp::default();
    let (mut name, mut link) = (Vec::new(), None::<Symlink>);
    let mut next = Some((area.to_vec(), offset));
    let mut areas = 0;
    while let Some((bytes, at)) = next.take() {
        areas += 1;
        if areas > MAX_CONTINUATIONS + 1 {
            return Err(m.corrupt(
                "System Use continuation",
                at,
                format!("more than {MAX_CONTINUATIONS} continuation areas (a loop?)"),
            ));
        }
        let ce = walk(m, &bytes, at, &mut out, &mut name, &mut link)?;
        next = ce
            .map(|(off, len)| {
                m.read(off, len, &|| "a System Use continuation area".into())
                    .map(|b| (b, off))
            })
            .transpose()?;
    }
    if !name.is_empty() {
        out.name = Some(String::from_utf8_lossy(&name).into_owned());
    }
    out.symlink = link.map(|l| {
        if l.parts == [""] {
            "/".into()
        } else {
            l.parts.join("/")
        }
    });
    Ok(out)
}

/// Walks the entries of one area; returns its `CE` (offset, length).
fn walk(
    m: &Medium,
    b: &[u8],
    at: u64,
    out: &mut Susp,
    name: &mut Vec<u8>,
    link: &mut Option<Symlink>,
) -> Result<Option<(u64, usize)>, IsoError> {
    let mut ce = None;
    let mut pos = 0;
    while pos + 4 <= b.len() {
        let len = usize::from(b[pos + 2]);
        if len < 4 || pos + len > b.len() {
            if b[pos..].iter().all(|&x| x == 0) {
                break; // padding
            }
            return Err(m.corrupt(
                "System Use entry",
                at + pos as u64,
                format!("length {len} with {} bytes left", b.len() - pos),
            ));
        }
        let data = &b[pos + 4..pos + len];
        match &b[pos..pos + 2] {
            b"ST" => break,
            b"CE" => ce = Some(continuation(m, data, at + pos as u64)?),
            b"SP" if data.len() >= 3 && data[..2] == [0xBE, 0xEF] => out.sp_skip = Some(data[2]),
            b"ER" | b"PX" => out.rock_ridge = true,
            b"NM" => nm(data, name),
            b"SL" => sl(data, link.get_or_insert_with(Symlink::default)),
            b"CL" if data.len() >= 4 => {
                out.child_link = Some(u64::from(u32::from_le_bytes([
                    data[0], data[1], data[2], data[3],
                ])))
            }
            b"RE" => out.relocated = true,
            _ => {}
        }
        pos += len;
    }
    Ok(ce)
}

fn continuation(m: &Medium, d: &[u8], at: u64) -> Result<(u64, usize), IsoError> {
    if d.len() < 24 {
        return Err(m.corrupt("System Use entry", at, "CE entry shorter than 28 bytes"));
    }
    let le = |i: usize| u64::from(u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]));
    let (block, off, len) = (le(0), le(8), le(16));
    if len > MAX_CE_LEN || off >= SECTOR {
        return Err(m.corrupt(
            "System Use entry",
            at,
            format!("CE area of {len} bytes at offset {off} in its block"),
        ));
    }
    Ok((block * SECTOR + off, len as usize))
}

/// `NM`: flags (1 = continues, 2 = `.`, 4 = `..`), then name bytes.
fn nm(data: &[u8], name: &mut Vec<u8>) {
    if let Some((&flags, bytes)) = data.split_first() {
        if flags & 0x06 == 0 {
            name.extend_from_slice(bytes);
        }
    }
}

/// `SL`: flags, then components of (flags, length, bytes). Component
/// flags: 1 = continues in the next component, 2 = `.`, 4 = `..`, 8 = root.
fn sl(data: &[u8], link: &mut Symlink) {
    let mut c = data.get(1..).unwrap_or_default();
    while c.len() >= 2 {
        let (flags, len) = (c[0], usize::from(c[1]));
        let Some(bytes) = c.get(2..2 + len) else {
            break;
        };
        let text = match flags & 0x0E {
            0x02 => ".".into(),
            0x04 => "..".into(),
            0x08 => String::new(),
            _ => String::from_utf8_lossy(bytes).into_owned(),
        };
        match link.parts.last_mut() {
            Some(last) if link.continues => last.push_str(&text),
            _ => link.parts.push(text),
        }
        link.continues = flags & 0x01 != 0;
        c = &c[2 + len..];
    }
}

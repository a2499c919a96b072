//! ECMA-119 (ISO 9660) structures: the volume descriptor set from sector
//! 16 on, and the directory records that make up a directory's extent.

use super::medium::Medium;
use super::IsoError;

pub const SECTOR: u64 = 2048;
const FIRST_DESCRIPTOR: u64 = 16;
/// Descriptors read before giving up on finding the set terminator.
const MAX_DESCRIPTORS: u64 = 64;
const ROOT_RECORD: usize = 156;
const MIN_RECORD: usize = 34;

/// File flags of a directory record.
pub const FLAG_DIR: u8 = 0x02;
pub const FLAG_MULTI_EXTENT: u8 = 0x80;

/// The directory trees the image offers.
#[derive(Debug, Clone)]
pub struct Volumes {
    /// The primary volume's root (plain names, maybe Rock Ridge).
    pub primary: RawRecord,
    /// A Joliet supplementary volume's root (UCS-2 names).
    pub joliet: Option<RawRecord>,
}

/// One directory record, owned, with its place in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// Offset of the record itself (for messages).
    pub offset: u64,
    /// First logical block of the data (after any extended attributes).
    pub block: u64,
    pub size: u64,
    pub flags: u8,
    /// File unit size or interleave gap set: an interleaved file.
    pub interleaved: bool,
    pub name: Vec<u8>,
    /// The System Use area (SUSP entries, when there are any).
    pub system_use: Vec<u8>,
    /// Offset of the System Use area in the image.
    pub system_use_offset: u64,
}

impl RawRecord {
    pub fn is_dir(&self) -> bool {
        self.flags & FLAG_DIR != 0
    }

    /// `.` and `..` are named by the single bytes 0 and 1.
    pub fn is_self_or_parent(&self) -> bool {
        matches!(self.name.as_slice(), [0] | [1])
    }

    pub fn data_offset(&self) -> u64 {
        self.block * SECTOR
    }
}

/// Reads the volume descriptor set.
pub fn read_volumes(m: &Medium) -> Result<Volumes, IsoError> {
    let (mut primary, mut joliet) = (None, None);
    for n in FIRST_DESCRIPTOR..FIRST_DESCRIPTOR + MAX_DESCRIPTORS {
        let offset = n * SECTOR;
        if n == FIRST_DESCRIPTOR && m.size() < offset + SECTOR {
            return Err(IsoError::NotIso {
                file: m.name.clone(),
                offset,
                why: format!(
                    "{} bytes is too small to hold a volume descriptor",
                    m.size()
                ),
            });
        }
        let d = m.read(offset, SECTOR as usize, &|| {
            format!("volume descriptor {n}")
        })?;
        if &d[1..6] != b"CD001" {
            if n == FIRST_DESCRIPTOR {
                let why = "no \"CD001\" volume descriptor at sector 16".to_string();
                return Err(IsoError::NotIso {
                    file: m.name.clone(),
                    offset: offset + 1,
                    why,
                });
            }
            return Err(m.corrupt(
                "volume descriptor",
                offset + 1,
                "no \"CD001\" identifier (and no set terminator before it)",
            ));
        }
        match d[0] {
            255 => break,
            1 if primary.is_none() => primary = Some(primary_root(m, &d, offset)?),
            2 if joliet.is_none() && is_joliet(&d) => joliet = Some(root_record(m, &d, offset)?),
            _ => {}
        }
    }
    let primary = primary.ok_or_else(|| IsoError::NotIso {
        file: m.name.clone(),
        offset: FIRST_DESCRIPTOR * SECTOR,
        why: "no primary volume descriptor".into(),
    })?;
    Ok(Volumes { primary, joliet })
}

fn primary_root(m: &Medium, d: &[u8], offset: u64) -> Result<RawRecord, IsoError> {
    let block_size = u16::from_le_bytes([d[128], d[129]]);
    if u64::from(block_size) != SECTOR {
        let why = format!("logical block size {block_size}; only {SECTOR} is supported");
        return Err(m.corrupt("primary volume descriptor", offset + 128, why));
    }
    root_record(m, d, offset)
}

/// Joliet's escape sequences for UCS-2 levels 1 to 3.
fn is_joliet(d: &[u8]) -> bool {
    let esc = &d[88..120];
    [b"%/@", b"%/C", b"%/E"]
        .iter()
        .any(|s| esc.windows(3).any(|w| w == *s))
}

fn root_record(m: &Medium, d: &[u8], offset: u64) -> Result<RawRecord, IsoError> {
    let at = offset + ROOT_RECORD as u64;
    let rec = parse_record(&d[ROOT_RECORD..ROOT_RECORD + MIN_RECORD], at)
        .map_err(|why| m.corrupt("root directory record", at, why))?;
    if !rec.is_dir() {
        return Err(m.corrupt("root directory record", at, "not flagged as a directory"));
    }
    Ok(rec)
}

/// Parses the record at the start of `b`, which lies at `offset`.
pub fn parse_record(b: &[u8], offset: u64) -> Result<RawRecord, String> {
    let len = usize::from(*b.first().ok_or("empty record")?);
    if len < MIN_RECORD - 1 || len > b.len() {
        return Err(format!(
            "record length {len} (minimum 33, {} bytes left)",
            b.len()
        ));
    }
    let b = &b[..len];
    let name_len = usize::from(b[32]);
    let name_end = 33 + name_len;
    if name_end > len {
        return Err(format!(
            "name length {name_len} overruns the {len}-byte record"
        ));
    }
    let ear = u64::from(b[1]);
    let block = u64::from(u32::from_le_bytes([b[2], b[3], b[4], b[5]])) + ear;
    let size = u64::from(u32::from_le_bytes([b[10], b[11], b[12], b[13]]));
    // A pad byte follows an even-length name.
    let su_start = (name_end + usize::from(name_len % 2 == 0)).min(len);
    Ok(RawRecord {
        offset,
        block,
        size,
        flags: b[25],
        interleaved: b[26] != 0 || b[27] != 0,
        name: b[33..name_end].to_vec(),
        system_use: b[su_start..].to_vec(),
        system_use_offset: offset + su_start as u64,
    })
}

/// Splits a directory's extent (read from `offset`) into its records.
/// Records never cross a sector; a zero length byte skips to the next.
pub fn parse_dir(m: &Medium, data: &[u8], offset: u64) -> Result<Vec<RawRecord>, IsoError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        if data[pos] == 0 {
            pos = (pos / SECTOR as usize + 1) * SECTOR as usize;
            continue;
        }
        let at = offset + pos as u64;
        let sector_end = ((pos / SECTOR as usize + 1) * SECTOR as usize).min(data.len());
        let rec = parse_record(&data[pos..sector_end], at)
            .map_err(|why| m.corrupt("directory record", at, why))?;
        pos += usize::from(data[pos]);
        out.push(rec);
    }
    Ok(out)
}

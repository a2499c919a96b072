//! Turns a finished entry list into a compressed newc file.
//!
//! Inode numbers are renumbered from 1 in entry order. Files that were
//! hard links of each other in the input share one inode; every member
//! carries `nlink` = group size, and only the last member carries the data
//! (earlier ones have size 0). That is what GNU cpio writes for newc, and
//! what the kernel's init/initramfs.c needs: it creates the first member
//! (truncated, empty), links later members to it, and opens a linked
//! member without O_TRUNC before copying its data.

pub(crate) mod dedup;
pub(crate) mod error;
pub(crate) mod microcode;
pub(crate) mod output;
pub(crate) mod prefix;
pub(crate) mod progress;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::compress::decompress;
use crate::compress::threaded::Threaded;
use crate::compress::{self, Compression, Method};
use crate::cpio::{self, Header};
use crate::report::stats::Stats;
use crate::tree::{show, Entry, Kind};
use output::AtomicFile;
use prefix::Prefix;
use progress::Progress;

/// Buffer between the archive writer and the compression thread.
const BUFFER: usize = 1 << 20;

use error::ArchiveError;

/// An entry with its header numbers decided.
#[derive(Debug)]
struct Planned {
    name: Vec<u8>,
    entry: Entry,
    ino: u32,
    nlink: u32,
    /// False for hard link members before the last one.
    with_data: bool,
}

/// Sizes of hard link groups and the index of each group's last member.
fn link_groups(entries: &[(Vec<u8>, Entry)]) -> HashMap<(u64, u64), (u32, usize)> {
    let mut groups: HashMap<(u64, u64), (u32, usize)> = HashMap::new();
    for (i, (_, e)) in entries.iter().enumerate() {
        if let (Some(id), Kind::File { .. }) = (e.link_id, &e.kind) {
            let g = groups.entry(id).or_insert((0, i));
            *g = (g.0 + 1, i);
        }
    }
    groups
}

/// Link count of each directory: 2 plus its subdirectories.
fn dir_links(entries: &[(Vec<u8>, Entry)]) -> HashMap<&[u8], u32> {
    let mut links: HashMap<&[u8], u32> = HashMap::new();
    for (name, _) in entries.iter().filter(|(_, e)| e.is_dir()) {
        links.entry(name).or_insert(2);
        if let Some(cut) = name.iter().rposition(|&b| b == b'/') {
            *links.entry(&name[..cut]).or_insert(2) += 1;
        }
    }
    links
}

fn plan(entries: Vec<(Vec<u8>, Entry)>) -> Result<Vec<Planned>, ArchiveError> {
    let groups = link_groups(&entries);
    let nlinks: HashMap<Vec<u8>, u32> = dir_links(&entries)
        .into_iter()
        .map(|(k, v)| (k.to_vec(), v))
        .collect();
    let mut inos: HashMap<(u64, u64), u32> = HashMap::new();
    let mut next: u32 = 1;
    let mut planned = Vec::with_capacity(entries.len());
    for (i, (name, entry)) in entries.into_iter().enumerate() {
        check_size(&name, &entry)?;
        let group = entry.link_id.and_then(|id| Some((id, *groups.get(&id)?)));
        let (ino, nlink, with_data) = match group {
            Some((id, (count, last))) if count > 1 => {
                (*inos.entry(id).or_insert(next), count, i == last)
            }
            _ => (next, nlinks.get(&name).copied().unwrap_or(1), true),
        };
        if ino == next {
            next = next
                .checked_add(1)
                .ok_or_else(|| ArchiveError::TooManyEntries { name: name.clone() })?;
        }
        planned.push(Planned {
            name,
            entry,
            ino,
            nlink,
            with_data,
        });
    }
    Ok(planned)
}

fn check_size(name: &[u8], entry: &Entry) -> Result<(), ArchiveError> {
    match &entry.kind {
        Kind::File { src, size } | Kind::Unpacked { src, size } if *size > u64::from(u32::MAX) => {
            Err(ArchiveError::TooBig {
                path: src.clone(),
                size: *size,
            })
        }
        Kind::Data { bytes } if bytes.len() as u64 > u64::from(u32::MAX) => {
            Err(ArchiveError::TooBig {
                path: PathBuf::from(show(name)),
                size: bytes.len() as u64,
            })
        }
        _ => Ok(()),
    }
}

fn header(p: &Planned, epoch: Option<u32>) -> Header {
    let e = &p.entry;
    let (filesize, rdev) = match &e.kind {
        // check_size guarantees the size fits.
        Kind::File { size, .. } | Kind::Unpacked { size, .. } if p.with_data => {
            (*size as u32, (0, 0))
        }
        Kind::Data { bytes } => (bytes.len() as u32, (0, 0)),
        Kind::Symlink { target } => (target.len() as u32, (0, 0)),
        Kind::CharDev { major, minor } | Kind::BlockDev { major, minor } => (0, (*major, *minor)),
        _ => (0, (0, 0)),
    };
    Header {
        ino: p.ino,
        mode: e.mode(),
        uid: e.uid,
        gid: e.gid,
        nlink: p.nlink,
        mtime: e.stored_mtime(epoch),
        filesize,
        rdev_major: rdev.0,
        rdev_minor: rdev.1,
        name: p.name.clone(),
        ..Header::default()
    }
}

/// A source file reader (decompressing, for [`Kind::Unpacked`]) that
/// remembers whether reading failed, to tell read errors from write
/// errors after a copy.
struct Source {
    file: Box<dyn Read>,
    failed: bool,
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.file.read(buf);
        self.failed |= r.is_err();
        r
    }
}

type Sink = BufWriter<Threaded<BufWriter<File>>>;

/// Writes one entry; output errors are reported against `out`.
fn write_entry(
    w: &mut cpio::Writer<Sink>,
    p: &Planned,
    epoch: Option<u32>,
    out: &AtomicFile,
) -> Result<(), ArchiveError> {
    let write_err = |e| ArchiveError::from(out.write_err(e));
    w.header(&header(p, epoch)).map_err(write_err)?;
    match &p.entry.kind {
        Kind::File { src, size } if p.with_data => copy_file(w, src, *size, false, out),
        Kind::Unpacked { src, size } if p.with_data => copy_file(w, src, *size, true, out),
        Kind::Data { bytes } => w.bytes(bytes).map_err(write_err),
        Kind::Symlink { target } => w.bytes(target).map_err(write_err),
        _ => Ok(()),
    }
}

fn copy_file(
    w: &mut cpio::Writer<Sink>,
    src: &Path,
    size: u64,
    unpack: bool,
    out: &AtomicFile,
) -> Result<(), ArchiveError> {
    let read_err = |cause| ArchiveError::Read {
        path: src.to_path_buf(),
        cause,
    };
    let file: Box<dyn Read> = if unpack {
        decompress::open_stream(src).map_err(read_err)?
    } else {
        Box::new(File::open(src).map_err(read_err)?)
    };
    let mut source = Source {
        file,
        failed: false,
    };
    match w.data(&mut source, size) {
        Ok(()) => {}
        Err(e) if source.failed => return Err(read_err(e)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(changed(src, size)),
        Err(e) => return Err(out.write_err(e).into()),
    }
    // A file that grew would be cut silently; refuse it instead.
    match source.file.read(&mut [0u8; 1]) {
        Ok(0) => Ok(()),
        Ok(_) => Err(changed(src, size)),
        Err(e) => Err(read_err(e)),
    }
}

fn changed(path: &Path, expected: u64) -> ArchiveError {
    ArchiveError::Changed {
        path: path.to_path_buf(),
        expected,
    }
}

/// The bytes of data an entry writes (none for early hard link members).
fn data_bytes(p: &Planned) -> u64 {
    match p.with_data {
        true => crate::report::limits::data_size(&p.entry),
        false => 0,
    }
}

/// Writes `entries` (sorted, parents first) as a newc archive compressed
/// with `c` to `out`, atomically, after the segments `before`. Mtimes are those of
/// [`Entry::stored_mtime`] for `epoch`. `progress` counts the entries.
pub fn write_image(
    entries: Vec<(Vec<u8>, Entry)>,
    out: &Path,
    c: Compression,
    epoch: Option<u32>,
    before: &[Prefix],
    progress: &mut Progress,
) -> Result<Stats, ArchiveError> {
    let start = Instant::now();
    let planned = plan(entries)?;
    progress.start(planned.len(), planned.iter().map(data_bytes).sum());
    let (guard, mut file) = AtomicFile::create(out)?;
    let prefix_len = prefix::write(&mut file, before, &guard)?;
    let enc = compress::encoder(c, BufWriter::with_capacity(BUFFER, file))
        .map_err(|e| guard.write_err(e))?;
    // zstd, gzip and xz hand the data to worker threads of their own, which
    // already overlap with reading: another thread would only copy it.
    let threaded = match c.method {
        Method::Zstd | Method::Gzip | Method::Xz => Threaded::inline(enc),
        _ => Threaded::spawn(enc).map_err(|e| guard.write_err(e))?,
    };
    let mut w = cpio::Writer::new(BufWriter::with_capacity(BUFFER, threaded));
    for p in &planned {
        write_entry(&mut w, p, epoch, &guard)?;
        progress.step(data_bytes(p));
    }
    progress.finish();
    let (file, bytes_in) = finish(w).map_err(|e| guard.write_err(e))?;
    let total = file.metadata().map_err(|e| guard.write_err(e))?.len();
    guard.commit(file)?;
    Ok(Stats {
        entries: planned.len(),
        bytes_in,
        bytes_out: total - prefix_len,
        seconds: start.elapsed().as_secs_f64(),
        compression: c.method.name(),
        total,
    })
}

/// Ends the archive and the compression; returns the file and the
/// uncompressed size.
fn finish(w: cpio::Writer<Sink>) -> io::Result<(File, u64)> {
    let (buffered, size) = w.finish()?;
    let threaded = buffered.into_inner().map_err(|e| e.into_error())?;
    let file = threaded
        .finish()?
        .into_inner()
        .map_err(|e| e.into_error())?;
    Ok((file, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(src: &str, id: Option<(u64, u64)>) -> Entry {
        let mut e = Entry::dir(0o644);
        e.kind = Kind::File {
            src: PathBuf::from(src),
            size: 3,
        };
        e.link_id = id;
        e
    }

    #[test]
    fn hard_links_share_ino_and_data_goes_last() {
        let entries = vec![
            (b"a".to_vec(), file("/a", Some((1, 9)))),
            (b"b".to_vec(), file("/b", None)),
            (b"c".to_vec(), file("/c", Some((1, 9)))),
            (b"d".to_vec(), file("/d", Some((1, 10)))),
        ];
        let p = plan(entries).unwrap();
        let got: Vec<(u32, u32, bool)> = p.iter().map(|p| (p.ino, p.nlink, p.with_data)).collect();
        // "d" is alone in its group: a normal file.
        assert_eq!(
            got,
            [(1, 2, false), (2, 1, true), (1, 2, true), (3, 1, true)]
        );
        assert_eq!(header(&p[0], None).filesize, 0);
        assert_eq!(header(&p[2], None).filesize, 3);
    }

    #[test]
    fn directories_count_their_subdirectories() {
        let entries = vec![
            (b"d".to_vec(), Entry::dir(0o755)),
            (b"d/e".to_vec(), Entry::dir(0o755)),
            (b"d/f".to_vec(), Entry::dir(0o755)),
            (b"d/g".to_vec(), Entry::symlink(b"x")),
        ];
        let p = plan(entries).unwrap();
        let nlinks: Vec<u32> = p.iter().map(|p| p.nlink).collect();
        assert_eq!(nlinks, [4, 2, 2, 1]);
    }

    #[test]
    fn oversized_files_are_refused_by_path() {
        let mut e = file("/big", None);
        e.kind = Kind::File {
            src: PathBuf::from("/big"),
            size: 1 << 32,
        };
        let err = plan(vec![(b"big".to_vec(), e)]).unwrap_err();
        assert!(err.to_string().contains("/big"), "{err}");
    }
}

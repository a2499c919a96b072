//! Helpers shared by the integration tests of the `mkimage` binary.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub const MKIMAGE: &str = env!("CARGO_BIN_EXE_mkimage");

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("mkimage-test-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    /// Writes a file (and its parents) with `mode`.
    pub fn file(&self, rel: &str, data: &[u8], mode: u32) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    pub fn dir(&self, rel: &str, mode: u32) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    pub fn symlink(&self, target: &str, rel: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
    }

    /// Names in a directory, sorted.
    pub fn names_in(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs mkimage with `args` and the given environment changes.
pub fn mkimage_env<I, S>(args: I, env: &[(&str, Option<&str>)]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(MKIMAGE);
    cmd.args(args).env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().expect("run mkimage")
}

pub fn mkimage<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    mkimage_env(args, &[])
}

/// Runs mkimage and asserts success; returns stdout.
pub fn mkimage_ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = mkimage(args);
    assert!(out.status.success(), "mkimage failed: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a tool with `input` on stdin (in `dir`); asserts success.
pub fn tool(dir: &Path, prog: &str, args: &[&str], input: &[u8]) -> String {
    let mut child = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {prog}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{prog} {args:?} failed: {}",
        stderr(&out)
    );
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// The uncompressed cpio stream of a gzip or plain image.
pub fn uncompressed(image: &Path) -> Vec<u8> {
    let data = fs::read(image).unwrap();
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let mut gz = flate2::read::GzDecoder::new(&data[..]);
        std::io::Read::read_to_end(&mut gz, &mut out).unwrap();
        out
    } else {
        data
    }
}

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Creates a device node with mknod(1); false if not permitted.
pub fn mknod(path: &Path, kind: &str, major: u32, minor: u32) -> bool {
    Command::new("mknod")
        .arg(path)
        .args([kind, &major.to_string(), &minor.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

/// One entry for [`newc`]: name, full mode, nlink, ino and data.
pub struct Raw<'a> {
    pub name: &'a str,
    pub mode: u32,
    pub ino: u32,
    pub nlink: u32,
    pub data: &'a [u8],
}

impl<'a> Raw<'a> {
    pub fn file(name: &'a str, data: &'a [u8]) -> Raw<'a> {
        Raw {
            name,
            mode: 0o100644,
            ino: 0,
            nlink: 1,
            data,
        }
    }
    pub fn dir(name: &'a str) -> Raw<'a> {
        Raw {
            name,
            mode: 0o040755,
            ino: 0,
            nlink: 2,
            data: b"",
        }
    }
    pub fn symlink(name: &'a str, target: &'a str) -> Raw<'a> {
        Raw {
            name,
            mode: 0o120777,
            ino: 0,
            nlink: 1,
            data: target.as_bytes(),
        }
    }
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// An uncompressed newc archive, written by hand (for malformed input).
pub fn newc(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    let trailer = Raw {
        name: "TRAILER!!!",
        mode: 0,
        ino: 0,
        nlink: 1,
        data: b"",
    };
    for (i, e) in entries.iter().chain([&trailer]).enumerate() {
        let ino = if e.ino == 0 { i as u32 + 1 } else { e.ino };
        let fields = [
            ino,
            e.mode,
            0,
            0,
            e.nlink,
            0,
            e.data.len() as u32,
            0,
            0,
            0,
            0,
        ];
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        out.extend_from_slice(format!("{:08X}{:08X}", e.name.len() + 1, 0).as_bytes());
        out.extend_from_slice(e.name.as_bytes());
        out.push(0);
        pad4(&mut out);
        out.extend_from_slice(e.data);
        pad4(&mut out);
    }
    out
}

/// kmod's program `name`, if installed.
pub fn kmod_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d: PathBuf| d.join(name))
        .find(|p| p.is_file())
}

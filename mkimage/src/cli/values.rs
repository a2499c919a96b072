//! The values of options that need more than a type's `FromStr`, and how
//! the manifest's TOML values become option values.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use crate::image::Node;

/// `--file SRC:DST`, split at the last colon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileArg {
    pub src: PathBuf,
    pub dst: OsString,
}

impl FileArg {
    pub fn parse(v: OsString) -> Result<FileArg, String> {
        let bytes = v.as_bytes();
        match bytes.iter().rposition(|&b| b == b':') {
            Some(i) if i > 0 && i + 1 < bytes.len() => Ok(FileArg {
                src: PathBuf::from(OsStr::from_bytes(&bytes[..i])),
                dst: OsStr::from_bytes(&bytes[i + 1..]).to_os_string(),
            }),
            _ => Err("expected SRC:DST".into()),
        }
    }
}

impl FromStr for FileArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FileArg::parse(s.into())
    }
}

/// `--mknod PATH:c|b:MAJOR:MINOR:MODE`, split from the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeArg(pub Node);

impl NodeArg {
    pub fn parse(v: OsString) -> Result<NodeArg, String> {
        let bad = |why: &str| why.to_string();
        let parts: Vec<&[u8]> = v.as_bytes().rsplitn(5, |&b| b == b':').collect();
        let [mode, minor, major, kind, path] = parts[..] else {
            return Err(bad("expected PATH:c|b:MAJOR:MINOR:MODE"));
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let block = match kind {
            b"c" => false,
            b"b" => true,
            _ => return Err(bad("type must be c or b")),
        };
        let number = |b: &[u8]| {
            text(b)
                .parse::<u32>()
                .map_err(|_| bad("bad major or minor number"))
        };
        let perm = u32::from_str_radix(&text(mode), 8)
            .ok()
            .filter(|m| *m <= 0o7777)
            .ok_or_else(|| bad("MODE must be octal, at most 7777"))?;
        if path.is_empty() {
            return Err(bad("empty PATH"));
        }
        Ok(NodeArg(Node {
            path: OsStr::from_bytes(path).to_os_string(),
            block,
            major: number(major)?,
            minor: number(minor)?,
            perm,
        }))
    }
}

impl FromStr for NodeArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        NodeArg::parse(s.into())
    }
}

/// `--kver`: a kernel version, which names a directory, so never a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelVersion(pub String);

impl FromStr for KernelVersion {
    type Err = String;
    fn from_str(v: &str) -> Result<Self, String> {
        if v.is_empty() || v.contains('/') || v == "." || v == ".." {
            return Err(format!("not a kernel version: {v:?}"));
        }
        Ok(KernelVersion(v.to_string()))
    }
}

/// A `--bin` or `--module` name: not empty.
pub fn name(v: OsString) -> Result<OsString, String> {
    match v.is_empty() {
        true => Err("empty name".into()),
        false => Ok(v),
    }
}

/// A manifest string as the option's value.
fn parse<T, E>(s: &str) -> Result<T, E>
where
    T: FromStr,
    T::Err: fmt::Display,
    E: de::Error,
{
    if s.is_empty() {
        return Err(E::custom("empty value"));
    }
    s.parse().map_err(E::custom)
}

/// An option given once, from a TOML string.
pub fn one<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let s = String::deserialize(d)?;
    parse(&s).map(Some)
}

/// A repeatable option, from an array of strings or one string.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "needs a string or an array of strings")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    };
    items.iter().map(|s| parse(s)).collect()
}

/// A size limit, from a string (`"64M"`, `"none"`) or an integer.
pub fn size<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(
        untagged,
        expecting = "needs a size: a string such as \"64M\" or \"none\", or an integer"
    )]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Bytes(n) => parse(&n.to_string()).map(Some),
        Size::Text(s) => parse(&s).map(Some),
    }
}

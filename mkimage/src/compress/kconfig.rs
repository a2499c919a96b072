//! The target kernel's configuration, and the compression chosen from it.
//!
//! Policy: an explicit `--compress` is used as given (with a warning when
//! the kernel's config does not enable its decompressor). Otherwise zstd if
//! the config has `CONFIG_RD_ZSTD=y`, else gzip if it has `CONFIG_RD_GZIP=y`,
//! else xz, lz4 or none, whichever it has first. Without a config, gzip:
//! every kernel that unpacks a compressed initramfs has gzip, in practice.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::compress::{Compression, Method};

/// Where to find the target kernel's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelRef {
    /// `--kernel-config FILE`.
    Config(PathBuf),
    /// `--kver VER`: `/boot/config-VER`.
    Version(String),
}

impl KernelRef {
    pub fn path(&self) -> PathBuf {
        match self {
            KernelRef::Config(p) => p.clone(),
            KernelRef::Version(v) => PathBuf::from(format!("/boot/config-{v}")),
        }
    }
}

/// What the command line says about compression.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    pub method: Option<Method>,
    pub level: Option<u32>,
    pub kernel: Option<KernelRef>,
}

#[derive(Debug, thiserror::Error)]
pub enum KconfigError {
    #[error("cannot read kernel config {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("{} does not look like a kernel config (no CONFIG_ lines)", path.display())]
    NotAConfig { path: PathBuf },
    #[error("--level: {0}")]
    Level(String),
}

/// The parts of a kernel config that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelConfig {
    pub path: PathBuf,
    /// `CONFIG_BLK_DEV_INITRD=y`: the kernel unpacks an initramfs at all.
    pub initrd: bool,
    /// Methods whose `CONFIG_RD_*` is `y`.
    pub methods: Vec<Method>,
}

/// The config symbol that enables the decompressor for `m`.
pub fn symbol(m: Method) -> Option<&'static str> {
    match m {
        Method::None => None,
        Method::Gzip => Some("CONFIG_RD_GZIP"),
        Method::Zstd => Some("CONFIG_RD_ZSTD"),
        Method::Xz => Some("CONFIG_RD_XZ"),
        Method::Lz4 => Some("CONFIG_RD_LZ4"),
    }
}

impl KernelConfig {
    /// Parses the text of a `.config` file.
    pub fn parse(path: &Path, text: &str) -> Result<KernelConfig, KconfigError> {
        let enabled: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_suffix("=y"))
            .collect();
        if !text.lines().any(|l| l.contains("CONFIG_")) {
            return Err(KconfigError::NotAConfig {
                path: path.to_path_buf(),
            });
        }
        let on = |s: &str| enabled.contains(&s);
        let methods = Method::ALL
            .into_iter()
            .filter(|m| symbol(*m).is_some_and(on))
            .collect();
        Ok(KernelConfig {
            path: path.to_path_buf(),
            initrd: on("CONFIG_BLK_DEV_INITRD"),
            methods,
        })
    }

    pub fn read(r: &KernelRef) -> Result<KernelConfig, KconfigError> {
        let path = r.path();
        let text = fs::read(&path).map_err(|cause| KconfigError::Read {
            path: path.clone(),
            cause,
        })?;
        KernelConfig::parse(&path, &String::from_utf8_lossy(&text))
    }

    pub fn supports(&self, m: Method) -> bool {
        m == Method::None || self.methods.contains(&m)
    }
}

/// The compression to use, with the lines to show on stderr: which one
/// and why, and warnings.
pub fn resolve(choice: &Choice) -> Result<(Compression, Vec<String>), KconfigError> {
    let config = choice.kernel.as_ref().map(KernelConfig::read).transpose()?;
    let (method, mut notes) = pick(choice.method, config.as_ref());
    let compression = Compression::new(method, choice.level).map_err(KconfigError::Level)?;
    if let Some(c) = config.as_ref().filter(|c| !c.initrd) {
        notes.push(format!(
            "warning: CONFIG_BLK_DEV_INITRD is not set in {}: that kernel does not unpack an initramfs",
            c.path.display()
        ));
    }
    Ok((compression, notes))
}

/// The method and the notes about it.
pub fn pick(given: Option<Method>, config: Option<&KernelConfig>) -> (Method, Vec<String>) {
    match (given, config) {
        (Some(m), Some(c)) if !c.supports(m) => {
            let note = format!(
                "warning: {} is not set in {}: that kernel cannot unpack a {m} image",
                symbol(m).unwrap_or_default(),
                c.path.display()
            );
            (m, vec![note])
        }
        (Some(m), _) => (m, Vec::new()),
        (None, None) => (
            Method::Gzip,
            vec!["compression: gzip (target kernel unknown: no --kernel-config or --kver)".into()],
        ),
        (None, Some(c)) => {
            let m = Method::ALL
                .into_iter()
                .find(|m| c.supports(*m))
                .unwrap_or(Method::None);
            (m, vec![why(m, c)])
        }
    }
}

fn why(m: Method, c: &KernelConfig) -> String {
    let path = c.path.display();
    match (m, symbol(m)) {
        (Method::Zstd, Some(s)) => format!("compression: zstd ({s}=y in {path})"),
        (_, Some(s)) => format!("compression: {m} ({s}=y in {path}, CONFIG_RD_ZSTD is not)"),
        (_, None) => format!("compression: none (no CONFIG_RD_* decompressor is set in {path})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> KernelConfig {
        KernelConfig::parse(Path::new("/k/config"), text).unwrap()
    }

    #[test]
    fn parses_the_decompressors() {
        let c = config(
            "# comment\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_RD_GZIP=y\n\
             # CONFIG_RD_ZSTD is not set\nCONFIG_RD_XZ=m\nCONFIG_RD_LZ4=y\n",
        );
        assert!(c.initrd);
        assert_eq!(c.methods, [Method::Gzip, Method::Lz4]);
        assert!(c.supports(Method::None) && !c.supports(Method::Xz));
        assert!(KernelConfig::parse(Path::new("x"), "hello\n").is_err());
    }

    #[test]
    fn zstd_first_then_gzip() {
        let zstd = config("CONFIG_RD_GZIP=y\nCONFIG_RD_ZSTD=y\n");
        let (m, notes) = pick(None, Some(&zstd));
        assert_eq!(m, Method::Zstd);
        assert_eq!(notes, ["compression: zstd (CONFIG_RD_ZSTD=y in /k/config)"]);
        let gzip = config("CONFIG_RD_GZIP=y\n# CONFIG_RD_ZSTD is not set\n");
        let (m, notes) = pick(None, Some(&gzip));
        assert_eq!(m, Method::Gzip);
        assert!(notes[0].contains("CONFIG_RD_ZSTD is not"), "{notes:?}");
        assert_eq!(pick(None, Some(&config("CONFIG_RD_XZ=y"))).0, Method::Xz);
        assert_eq!(pick(None, Some(&config("CONFIG_X=y"))).0, Method::None);
        assert_eq!(pick(None, None).0, Method::Gzip);
    }

    #[test]
    fn explicit_choice_wins_with_a_warning() {
        let gzip = config("CONFIG_RD_GZIP=y\n");
        let (m, notes) = pick(Some(Method::Lz4), Some(&gzip));
        assert_eq!(m, Method::Lz4);
        assert!(
            notes[0].starts_with("warning: CONFIG_RD_LZ4 is not set"),
            "{notes:?}"
        );
        assert_eq!(
            pick(Some(Method::Gzip), Some(&gzip)),
            (Method::Gzip, vec![])
        );
        assert_eq!(pick(Some(Method::Xz), None), (Method::Xz, vec![]));
    }

    #[test]
    fn kver_names_the_boot_config() {
        let r = KernelRef::Version("6.1.0-13-amd64".into());
        assert_eq!(r.path(), Path::new("/boot/config-6.1.0-13-amd64"));
        let choice = Choice {
            kernel: Some(KernelRef::Version("no-such-version".into())),
            ..Choice::default()
        };
        let err = resolve(&choice).unwrap_err().to_string();
        assert!(err.contains("/boot/config-no-such-version"), "{err}");
    }
}

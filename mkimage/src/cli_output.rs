//! The output options that `build` and `pack` share.

use std::path::PathBuf;

use super::{once, Output, Parser, UsageError, WriteOpts};
use crate::compress::{Compression, Method};
use crate::kconfig::{Choice, KernelRef};
use crate::limits::Limit;

/// `--output`, `--compress`, `--level`, `--kernel-config` and `--kver`,
/// shared by build and pack.
#[derive(Default)]
pub(super) struct OutputOpts {
    pub(super) path: Option<PathBuf>,
    pub(super) choice: Choice,
    pub(super) config: Option<PathBuf>,
    pub(super) kver: Option<String>,
    /// Whether `--kver` may come with `--kernel-config` (build: the
    /// version then names the modules only).
    pub(super) both: bool,
    pub(super) opts: WriteOpts,
}

impl OutputOpts {
    /// Takes the option if it is one of ours.
    pub(super) fn take(
        &mut self,
        p: &mut Parser,
        name: &str,
        shown: &str,
    ) -> Result<bool, UsageError> {
        match name {
            "output" => self.path = Some(p.value(shown)?.into()),
            "dedup" => self.opts.dedup = true,
            "quiet" => self.opts.quiet = true,
            "json" => self.opts.json = true,
            "append-to" => {
                let path = p.value(shown)?.into();
                once(p, shown, &mut self.opts.append_to, path)?;
            }
            "warn-image-size" => self.opts.warn_image = limit(p, shown)?,
            "warn-file-size" => self.opts.warn_file = limit(p, shown)?,
            "top" => self.opts.top = Some(number(p, shown)?),
            "compress" => {
                let m = p.text(shown)?.parse().map_err(|e| p.err(e))?;
                self.choice.method = Some(m);
            }
            "level" => self.choice.level = Some(number(p, shown)?),
            "kernel-config" => {
                let path = p.value(shown)?.into();
                once(p, shown, &mut self.config, path)?;
            }
            "kver" => {
                let v = p.text(shown)?;
                if v.is_empty() || v.contains('/') || v == "." || v == ".." {
                    return Err(p.err(format!("{shown}: not a kernel version: {v:?}")));
                }
                once(p, shown, &mut self.kver, v)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn finish(mut self, p: &Parser) -> Result<Output, UsageError> {
        let path = self.path.ok_or_else(|| p.err("missing -o FILE".into()))?;
        self.choice.kernel = match (self.config, self.kver) {
            (Some(_), Some(_)) if !self.both => {
                return Err(p.err("give only one of --kernel-config and --kver".into()))
            }
            (Some(c), _) => Some(KernelRef::Config(c)),
            (None, Some(v)) => Some(KernelRef::Version(v)),
            (None, None) => None,
        };
        // Without a method or a kernel config, gzip is the default: the
        // level can be checked now. Otherwise it is checked once the
        // method is known.
        let known = match (&self.choice.method, &self.choice.kernel) {
            (Some(m), _) => Some(*m),
            (None, None) => Some(Method::Gzip),
            (None, Some(_)) => None,
        };
        if let Some(method) = known {
            Compression::new(method, self.choice.level).map_err(|e| p.err(e))?;
        }
        Ok(Output {
            path,
            choice: self.choice,
            opts: self.opts,
        })
    }
}

fn number<T: std::str::FromStr>(p: &mut Parser, shown: &str) -> Result<T, UsageError> {
    let text = p.text(shown)?;
    text.parse()
        .map_err(|_| p.err(format!("{shown}: not a number: {text:?}")))
}

fn limit(p: &mut Parser, shown: &str) -> Result<Limit, UsageError> {
    let text = p.text(shown)?;
    text.parse().map_err(|e| p.err(format!("{shown}: {e}")))
}

//! The handoff file's syntax and keys: [`crate::kv`] does the lines, this
//! checks the values. Every error names the file and the line.

use crate::kv;
use crate::line_error::LineError;
use std::fmt;

/// The keys the handoff file may set.
pub const KEYS: &[&str] = &["ROOT", "KERNEL", "INITRD", "CMDLINE", "ACTION", "FALLBACK"];

/// What to do with the recovered system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Kexec,
    Reboot,
    Poweroff,
    Shell,
}

/// What to do when the kexec cannot happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    Reboot,
    Shell,
    Poweroff,
}

impl Action {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "kexec" => Action::Kexec,
            "reboot" => Action::Reboot,
            "poweroff" => Action::Poweroff,
            "shell" => Action::Shell,
            _ => return None,
        })
    }
}

impl Fallback {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "reboot" => Fallback::Reboot,
            "shell" => Fallback::Shell,
            "poweroff" => Fallback::Poweroff,
            _ => return None,
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Kexec => "kexec",
            Action::Reboot => "reboot",
            Action::Poweroff => "poweroff",
            Action::Shell => "shell",
        })
    }
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fallback::Reboot => "reboot",
            Fallback::Shell => "shell",
            Fallback::Poweroff => "poweroff",
        })
    }
}

/// A value and the line that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value<T = String> {
    pub value: T,
    pub line: usize,
}

/// The handoff file as written: `None` for keys it does not set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HandoffFile {
    /// The name used in messages (normally the path).
    pub name: String,
    pub root: Option<Value>,
    pub kernel: Option<Value>,
    pub initrd: Option<Value>,
    pub cmdline: Option<Value>,
    pub action: Option<Value<Action>>,
    pub fallback: Option<Value<Fallback>>,
}

/// Parses a handoff file; `file_name` names it in errors. Unknown or
/// duplicate keys, bad quoting, lines without `=` and bad values are
/// errors naming the file and line.
pub fn parse(file_name: &str, text: &str) -> Result<HandoffFile, LineError> {
    let mut out = HandoffFile {
        name: file_name.to_string(),
        ..HandoffFile::default()
    };
    for e in kv::parse(file_name, text, KEYS)? {
        let err = |msg: String| LineError::new(file_name, e.line, msg);
        let line = e.line;
        match e.key.as_str() {
            "ROOT" => {
                out.root = Some(Value {
                    value: root(&e.value).map_err(err)?,
                    line,
                })
            }
            "KERNEL" | "INITRD" => {
                let v = Some(Value {
                    value: path(&e.key, &e.value).map_err(err)?,
                    line,
                });
                if e.key == "KERNEL" {
                    out.kernel = v;
                } else {
                    out.initrd = v;
                }
            }
            "CMDLINE" => {
                out.cmdline = Some(Value {
                    value: cmdline(&e.value).map_err(err)?,
                    line,
                })
            }
            "ACTION" => {
                out.action = Some(Value {
                    value: action(&e.value).map_err(err)?,
                    line,
                })
            }
            _ => {
                out.fallback = Some(Value {
                    value: fallback(&e.value).map_err(err)?,
                    line,
                })
            }
        }
    }
    Ok(out)
}

fn root(v: &str) -> Result<String, String> {
    if !v.starts_with('/') {
        return Err(format!("ROOT must be an absolute path, not {v:?}"));
    }
    no_nul("ROOT", v)
}

fn path(key: &str, v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Err(format!(
            "{key} is empty (remove the line to auto-detect it)"
        ));
    }
    no_nul(key, v)
}

fn cmdline(v: &str) -> Result<String, String> {
    if v.trim().is_empty() {
        return Err("CMDLINE is empty (remove the line to use the boot entry's)".into());
    }
    no_nul("CMDLINE", v)
}

fn no_nul(key: &str, v: &str) -> Result<String, String> {
    if v.contains('\0') {
        return Err(format!("{key} contains a NUL byte"));
    }
    Ok(v.to_string())
}

fn action(v: &str) -> Result<Action, String> {
    Action::parse(v)
        .ok_or_else(|| format!("bad ACTION {v:?} (use kexec, reboot, poweroff or shell)"))
}

fn fallback(v: &str) -> Result<Fallback, String> {
    Fallback::parse(v).ok_or_else(|| format!("bad FALLBACK {v:?} (use reboot, shell or poweroff)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../tests/fixtures/handoff/", $name))
        };
    }

    #[test]
    fn good_full_file() {
        let f = parse("/run/h", fixture!("good-full.handoff")).unwrap();
        assert_eq!(f.name, "/run/h");
        assert_eq!(
            f.root,
            Some(Value {
                value: "/mnt/local".into(),
                line: 4
            })
        );
        assert_eq!(f.kernel.unwrap().value, "/boot/vmlinuz-6.1.0-13-amd64");
        assert_eq!(f.initrd.unwrap().value, "/boot/initrd.img-6.1.0-13-amd64");
        let c = f.cmdline.unwrap();
        assert_eq!(
            c.value,
            "root=UUID=0b1c9e4e-3d2a-4f7e-9d3c-1f2e3d4c5b6a ro quiet console=\"ttyS0,115200\""
        );
        assert_eq!(c.line, 8);
        assert_eq!(
            f.action,
            Some(Value {
                value: Action::Kexec,
                line: 10
            })
        );
        assert_eq!(
            f.fallback,
            Some(Value {
                value: Fallback::Shell,
                line: 11
            })
        );
    }

    #[test]
    fn good_minimal_file_leaves_the_rest_unset() {
        let f = parse("h", fixture!("good-minimal.handoff")).unwrap();
        assert_eq!(f.root.unwrap().value, "/mnt/local");
        assert_eq!(
            (f.kernel, f.initrd, f.cmdline, f.action, f.fallback),
            (None, None, None, None, None)
        );
        let empty = parse("h", "# nothing\n\n").unwrap();
        assert_eq!(
            empty,
            HandoffFile {
                name: "h".into(),
                ..HandoffFile::default()
            }
        );
    }

    #[test]
    fn every_action_and_fallback() {
        for (s, a) in [
            ("kexec", Action::Kexec),
            ("reboot", Action::Reboot),
            ("poweroff", Action::Poweroff),
            ("shell", Action::Shell),
        ] {
            let f = parse("h", &format!("ACTION={s}\n")).unwrap();
            assert_eq!(f.action.unwrap().value, a);
            assert_eq!(a.to_string(), s);
        }
        for (s, b) in [
            ("reboot", Fallback::Reboot),
            ("shell", Fallback::Shell),
            ("poweroff", Fallback::Poweroff),
        ] {
            let f = parse("h", &format!("FALLBACK='{s}'\n")).unwrap();
            assert_eq!(f.fallback.unwrap().value, b);
            assert_eq!(b.to_string(), s);
        }
    }

    #[test]
    fn bad_files_name_file_and_line() {
        let cases = [
            (
                fixture!("bad-unknown-key.handoff"),
                3,
                "unknown key \"KERNAL\"",
            ),
            (
                fixture!("bad-duplicate-key.handoff"),
                4,
                "duplicate key \"KERNEL\" (first set on line 2)",
            ),
            (
                fixture!("bad-quote.handoff"),
                3,
                "unterminated double quote",
            ),
            (fixture!("bad-no-equals.handoff"), 2, "expected KEY=VALUE"),
            (fixture!("bad-action.handoff"), 3, "bad ACTION \"boot\""),
            (
                fixture!("bad-fallback.handoff"),
                2,
                "bad FALLBACK \"kexec\"",
            ),
            (
                fixture!("bad-root-relative.handoff"),
                1,
                "ROOT must be an absolute path",
            ),
            (fixture!("bad-empty-kernel.handoff"), 2, "KERNEL is empty"),
        ];
        for (text, line, msg) in cases {
            let e = parse("/run/rescue-init/handoff", text).unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(e.msg.contains(msg), "{e}");
            assert!(e
                .to_string()
                .starts_with(&format!("/run/rescue-init/handoff:{line}: ")));
        }
    }

    #[test]
    fn bad_values() {
        for bad in [
            "CMDLINE=",
            "CMDLINE='  '",
            "INITRD=''",
            "ACTION=Kexec",
            "FALLBACK=",
            "ROOT=mnt",
        ] {
            assert!(parse("h", bad).is_err(), "{bad} should fail");
        }
    }
}

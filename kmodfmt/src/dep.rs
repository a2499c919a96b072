//! `modules.dep`: `kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko ...`,
//! a module's path (relative to the modules directory, or absolute) and
//! every module it needs, direct or not, each listed before its own
//! dependencies: kmod loads them from the end of the line.

use crate::{each_line, name_of_path, BadLine};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepLine {
    /// The module's name, normalised.
    pub name: String,
    pub path: String,
    /// Dependency paths as listed.
    pub deps: Vec<String>,
    pub line: usize,
}

/// Every path must name a module file (`.ko`, plain or compressed).
pub fn parse(text: &str) -> (Vec<DepLine>, Vec<BadLine>) {
    each_line(text, |n, line| {
        let (path, deps) = line
            .split_once(':')
            .ok_or("expected 'MODULE.ko: DEPS...'")?;
        let path = path.trim_end();
        let name = module_path(path)?;
        let deps: Vec<String> = deps.split_whitespace().map(str::to_string).collect();
        for d in &deps {
            module_path(d)?;
        }
        Ok(DepLine {
            name,
            path: path.to_string(),
            deps,
            line: n,
        })
    })
}

fn module_path(s: &str) -> Result<String, String> {
    name_of_path(s).ok_or_else(|| format!("{s:?} is not a .ko path"))
}

/// The text for `(path, dependency paths)` lines.
pub fn write(lines: &[(String, Vec<String>)]) -> String {
    let mut out = String::new();
    for (path, deps) in lines {
        out.push_str(path);
        out.push(':');
        for d in deps {
            out.push(' ');
            out.push_str(d);
        }
        out.push('\n');
    }
    out
}

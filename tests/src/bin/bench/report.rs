//! Medians, Markdown tables, and where the reports go.

use anyhow::{Context, Result};
use rescue_tests::paths;
use std::path::PathBuf;
use std::process::Command;

/// Median (mean of the middle two for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn min_max(values: &[f64]) -> (f64, f64) {
    let v = values.iter().copied().filter(|x| !x.is_nan());
    let min = v.clone().fold(f64::INFINITY, f64::min);
    let max = v.fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// A Markdown table.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = line(&self.header);
        out += &line(
            &self
                .header
                .iter()
                .map(|_| "---".to_string())
                .collect::<Vec<_>>(),
        );
        for r in &self.rows {
            out += &line(r);
        }
        out
    }
}

/// `x` with `digits` decimals, or "n/a".
pub fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "n/a".into()
    }
}

/// Writes `target/bench/NAME.md` and prints the report to stdout.
pub fn publish(name: &str, text: &str) -> Result<PathBuf> {
    let path = paths::target_subdir("bench")?.join(format!("{name}.md"));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("{text}");
    eprintln!("bench: report written to {}", path.display());
    Ok(path)
}

/// First line of a command's output (stdout, else stderr), or "n/a".
pub fn first_line(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(out) => {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        }
        Err(_) => "n/a".into(),
    }
}

/// The machine line every report starts with.
pub fn machine() -> String {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let commit = first_line(
        "git",
        &[
            "-C",
            &paths::workspace_root().to_string_lossy(),
            "describe",
            "--always",
            "--dirty",
        ],
    );
    format!(
        "Machine: {nproc} cores (nproc), load average at start {}, kernel {}; rescue-init tree {commit}.\n",
        load.join(" "),
        first_line("uname", &["-r"]),
    )
}

/// The current 1-minute load average, for noting noise.
pub fn load1() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(median(&[f64::NAN, 5.0]), 5.0);
    }

    #[test]
    fn table_is_markdown() {
        let mut t = Table::new(&["a", "b"]);
        t.row(vec!["1".into(), "2".into()]);
        assert_eq!(t.markdown(), "| a | b |\n| --- | --- |\n| 1 | 2 |\n");
    }
}

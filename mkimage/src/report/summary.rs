//! What `build` and `pack` report at the end: the [`Stats`] line, the
//! largest directories and the size warnings, for people (stderr) or as
//! one JSON object (stdout, `--json`).

use std::fmt::Write;

use crate::report::largest::Dir;
use crate::report::limits::human;
use crate::report::stats::Stats;

/// The end-of-build report.
#[derive(Debug, Clone)]
pub struct Summary {
    pub stats: Stats,
    pub largest: Vec<Dir>,
    pub warnings: Vec<String>,
}

impl Summary {
    /// Uncompressed megabytes (10^6 bytes) per second of wall time.
    pub fn mb_per_s(&self) -> f64 {
        if self.stats.seconds > 0.0 {
            self.stats.bytes_in as f64 / 1e6 / self.stats.seconds
        } else {
            0.0
        }
    }

    /// The lines for stderr (without the `mkimage:` prefix): the numbers,
    /// then the largest directories with their share of the archive.
    pub fn lines(&self, image: &str) -> Vec<String> {
        let mut lines = vec![format!(
            "{image}: {}, {:.1} MB/s",
            self.stats,
            self.mb_per_s()
        )];
        if !self.largest.is_empty() {
            let mut line = String::from("largest:");
            for (i, d) in self.largest.iter().enumerate() {
                let share = 100.0 * d.bytes as f64 / self.stats.bytes_in.max(1) as f64;
                let sep = if i == 0 { " " } else { ", " };
                let _ = write!(line, "{sep}{} {} ({share:.1}%)", d.path, human(d.bytes));
            }
            lines.push(line);
        }
        lines
    }

    /// One JSON object (no trailing newline): the [`Stats`] fields, then
    /// `mb_per_s`, `largest` (`[{"dir":…,"bytes":…}]`) and `warnings`.
    pub fn json(&self) -> String {
        let stats = self.stats.json();
        let mut out = stats.trim_end_matches('}').to_string();
        let _ = write!(out, ",\"mb_per_s\":{:.1},\"largest\":[", self.mb_per_s());
        for (i, d) in self.largest.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(
                out,
                "{sep}{{\"dir\":{},\"bytes\":{}}}",
                quote(&d.path),
                d.bytes
            );
        }
        out.push_str("],\"warnings\":[");
        let warnings: Vec<String> = self.warnings.iter().map(|w| quote(w)).collect();
        out.push_str(&warnings.join(","));
        out.push_str("]}");
        out
    }
}

/// `s` as a JSON string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary {
            stats: Stats {
                entries: 3,
                bytes_in: 4_000_000,
                bytes_out: 1_000_000,
                seconds: 2.0,
                compression: "zstd",
                total: 1_000_000,
            },
            largest: vec![
                Dir {
                    path: "/usr/lib".into(),
                    bytes: 3_000_000,
                },
                Dir {
                    path: "/odd\"dir\n".into(),
                    bytes: 1_000,
                },
            ],
            warnings: vec!["big \\ file".into()],
        }
    }

    #[test]
    fn lines_give_rate_and_shares() {
        let lines = summary().lines("img");
        assert_eq!(
            lines[0],
            "img: 3 entries, 4000000 bytes in, 1000000 bytes out (25.0%), 2.00 s, 2.0 MB/s"
        );
        assert_eq!(
            lines[1],
            "largest: /usr/lib 2.9 MiB (75.0%), /odd\"dir\n 1000 B (0.0%)"
        );
        let mut none = summary();
        none.largest.clear();
        assert_eq!(none.lines("img").len(), 1);
    }

    #[test]
    fn json_has_largest_and_warnings_escaped() {
        let json = summary().json();
        assert!(json.starts_with("{\"entries\":3,"), "{json}");
        assert!(
            json.ends_with(
                ",\"file_size\":1000000,\"mb_per_s\":2.0,\"largest\":[{\"dir\":\"/usr/lib\",\"bytes\":3000000},{\"dir\":\"/odd\\\"dir\\n\",\"bytes\":1000}],\"warnings\":[\"big \\\\ file\"]}"
            ),
            "{json}"
        );
        assert_eq!(quote("\u{1}"), "\"\\u0001\"");
    }
}

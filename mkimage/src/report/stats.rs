//! The summary of a written image: a line for people, JSON for tools.

use std::fmt;

/// Numbers for the summary line.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub entries: usize,
    /// Uncompressed size of the new archive.
    pub bytes_in: u64,
    /// Compressed size of the new segment.
    pub bytes_out: u64,
    pub seconds: f64,
    pub compression: &'static str,
    /// Size of the whole output file (with `--append-to` and
    /// `--microcode` segments).
    pub total: u64,
}

impl Stats {
    /// `bytes_out` in percent of `bytes_in`.
    pub fn ratio(&self) -> f64 {
        if self.bytes_in == 0 {
            0.0
        } else {
            100.0 * self.bytes_out as f64 / self.bytes_in as f64
        }
    }

    /// One JSON object (no trailing newline).
    pub fn json(&self) -> String {
        format!(
            "{{\"entries\":{},\"bytes_in\":{},\"bytes_out\":{},\"ratio\":{:.4},\"seconds\":{:.3},\"compression\":\"{}\",\"file_size\":{}}}",
            self.entries,
            self.bytes_in,
            self.bytes_out,
            self.ratio() / 100.0,
            self.seconds,
            self.compression,
            self.total
        )
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.entries == 1 {
            "entry"
        } else {
            "entries"
        };
        write!(
            f,
            "{} {noun}, {} bytes in, {} bytes out ({:.1}%), {:.2} s",
            self.entries,
            self.bytes_in,
            self.bytes_out,
            self.ratio(),
            self.seconds
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> Stats {
        Stats {
            entries: 3,
            bytes_in: 1000,
            bytes_out: 250,
            seconds: 0.5,
            compression: "gzip",
            total: 250,
        }
    }

    #[test]
    fn stats_line() {
        assert_eq!(
            stats().to_string(),
            "3 entries, 1000 bytes in, 250 bytes out (25.0%), 0.50 s"
        );
    }

    #[test]
    fn stats_json() {
        assert_eq!(
            stats().json(),
            "{\"entries\":3,\"bytes_in\":1000,\"bytes_out\":250,\"ratio\":0.2500,\"seconds\":0.500,\"compression\":\"gzip\",\"file_size\":250}"
        );
    }
}

//! Reading a timeline back (`rescue-init analyze`): the spans PID 1 and
//! the marks others recorded (see `timeline.rs`), plus the kernel's own
//! milestones from its log, turned into a blame list, the critical chain,
//! an SVG chart (`plot.rs`) or JSON.

pub mod plot;

use crate::timeline::PHASE;
use std::fmt::Write as _;

/// One row of the chart: `start == end` for an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
    pub group: String,
    pub name: String,
}

impl Span {
    pub fn micros(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// Reads `START END GROUP NAME` lines; a line that is not one is an error
/// naming `file` and the line number.
pub fn parse(file: &str, text: &str) -> Result<Vec<Span>, crate::line_error::LineError> {
    let mut spans = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line
            .trim_start()
            .strip_prefix("timeline ")
            .unwrap_or(line.trim_start());
        if line.is_empty() {
            continue;
        }
        let mut f = line.splitn(4, ' ');
        let (start, end) = (
            f.next().and_then(|s| s.parse().ok()),
            f.next().and_then(|s| s.parse().ok()),
        );
        let (Some(start), Some(end), Some(group), Some(name)) = (start, end, f.next(), f.next())
        else {
            return Err(crate::line_error::LineError::new(
                file,
                i + 1,
                "expected START END GROUP NAME (microseconds, words)",
            ));
        };
        if end < start {
            return Err(crate::line_error::LineError::new(
                file,
                i + 1,
                "END is before START",
            ));
        }
        spans.push(Span {
            start,
            end,
            group: group.to_string(),
            name: name.to_string(),
        });
    }
    Ok(spans)
}

/// Marks of one group become spans, each lasting until the next mark of
/// the group or the end of the phase that contains it (ReaR's setup
/// scripts are marked where each starts).
pub fn close_marks(spans: &mut [Span], group: &str) {
    let idx: Vec<usize> = (0..spans.len())
        .filter(|&i| spans[i].group == group && spans[i].micros() == 0)
        .collect();
    for (k, &i) in idx.iter().enumerate() {
        let at = spans[i].start;
        let phase_end = spans
            .iter()
            .filter(|s| s.group == PHASE && s.start <= at && s.end > at)
            .map(|s| s.end)
            .min();
        let next = idx.get(k + 1).map(|&j| spans[j].start);
        if let Some(end) = next.or(phase_end) {
            spans[i].end = end.max(at);
        }
    }
}

/// The kernel's milestones from its log records (`/dev/kmsg` lines
/// `PRI,SEQ,USEC,FLAGS;TEXT`): the initramfs unpacked. (The kernel's
/// whole share, up to /init, PID 1 records itself.)
pub fn kernel_spans(kmsg: &str) -> Vec<Span> {
    let at = |needle: &str| {
        kmsg.lines()
            .find(|l| l.contains(needle))
            .and_then(|l| l.split(',').nth(2))
            .and_then(|u| u.parse::<u64>().ok())
    };
    let mut out = Vec::new();
    if let (Some(s), Some(e)) = (
        at("Trying to unpack rootfs image"),
        at("Freeing initrd memory"),
    ) {
        out.push(Span {
            start: s,
            end: e.max(s),
            group: "kernel".into(),
            name: "unpack the initramfs".into(),
        });
    }
    out
}

/// Longest first: `   1.234s group name`.
pub fn blame(spans: &[Span]) -> String {
    let mut rows: Vec<&Span> = spans.iter().filter(|s| s.micros() > 0).collect();
    crate::sort::sort_by(&mut rows, |a, b| b.micros().cmp(&a.micros()));
    let mut out = String::new();
    for s in rows {
        let _ = writeln!(out, "{:>9}  {:<10} {}", secs(s.micros()), s.group, s.name);
    }
    out
}

/// The top-level phases in order, each `@start +duration`, as
/// `systemd-analyze critical-chain` shows units.
pub fn critical_chain(spans: &[Span]) -> String {
    let mut rows: Vec<&Span> = spans.iter().filter(|s| s.group == PHASE).collect();
    crate::sort::sort_by(&mut rows, |a, b| a.start.cmp(&b.start));
    let mut out = String::new();
    for s in rows {
        let _ = writeln!(out, "{} @{} +{}", s.name, secs(s.start), secs(s.micros()));
    }
    out
}

/// `[{"group": ..., "name": ..., "start_us": ..., "end_us": ...}, ...]`.
pub fn json(spans: &[Span]) -> String {
    let rows: Vec<String> = spans
        .iter()
        .map(|s| {
            format!(
                "{{\"group\":{},\"name\":{},\"start_us\":{},\"end_us\":{}}}",
                quote(&s.group),
                quote(&s.name),
                s.start,
                s.end
            )
        })
        .collect();
    format!("[{}]\n", rows.join(",\n "))
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Microseconds as seconds with three decimals: `1.234s`.
pub fn secs(us: u64) -> String {
    format!("{}.{:03}s", us / 1_000_000, us % 1_000_000 / 1000)
}

#[cfg(test)]
mod tests;

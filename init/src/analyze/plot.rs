//! The timeline as an SVG chart in the spirit of `systemd-analyze plot`:
//! a time axis with a grid, one row per span in order of start, a bar
//! coloured by group with its name beside it, and a tooltip (`<title>`)
//! with the exact start, end and duration of each row.

use super::{secs, Span};
use std::fmt::Write as _;

const ROW: u64 = 18;
const TOP: u64 = 60;
const LEFT: u64 = 20;
/// Width of the time axis in pixels, whatever the total time.
const AXIS: u64 = 1200;
const LABELS: u64 = 520;

/// Bar colour per group; others are grey.
fn colour(group: &str) -> &'static str {
    match group {
        "phase" => "#4a7fb5",
        "kernel" => "#8c6bb1",
        "module" => "#74c476",
        "udev" => "#31a354",
        "script" => "#fd8d3c",
        "rear" | "rear-setup" => "#e6550d",
        "shutdown" | "handoff" => "#de2d26",
        "teardown" => "#fb6a4a",
        _ => "#969696",
    }
}

/// A grid step (in microseconds) that gives 5–20 lines over `total`.
fn grid_step(total: u64) -> u64 {
    let steps = [
        100_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000,
        60_000_000,
    ];
    steps
        .into_iter()
        .find(|s| total / s <= 20)
        .unwrap_or(120_000_000)
}

pub fn svg(spans: &[Span], title: &str) -> String {
    let mut rows: Vec<&Span> = spans.iter().collect();
    crate::sort::sort_by(&mut rows, |a, b| {
        a.start.cmp(&b.start).then(b.end.cmp(&a.end))
    });
    let t0 = rows.iter().map(|s| s.start).min().unwrap_or(0);
    let total = rows
        .iter()
        .map(|s| s.end)
        .max()
        .unwrap_or(0)
        .saturating_sub(t0)
        .max(1);
    let x = |t: u64| LEFT + (t.saturating_sub(t0)).saturating_mul(AXIS) / total;
    let height = TOP + ROW * rows.len() as u64 + 20;
    let width = LEFT + AXIS + LABELS;
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{LEFT}\" y=\"20\" font-size=\"15\">{}</text>\n<text x=\"{LEFT}\" y=\"38\">{} rows, {} in all</text>\n",
        escape(title),
        rows.len(),
        secs(total)
    );
    let step = grid_step(total);
    let mut t = 0;
    while t <= total {
        let gx = x(t0 + t);
        let _ = writeln!(
            out,
            "<line x1=\"{gx}\" y1=\"{}\" x2=\"{gx}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{gx}\" y=\"{}\" fill=\"#555\">{}</text>",
            TOP - 6,
            height - 20,
            TOP - 8,
            secs(t)
        );
        t += step;
    }
    for (i, s) in rows.iter().enumerate() {
        let y = TOP + ROW * i as u64;
        let (bx, bw) = (x(s.start), (x(s.end) - x(s.start)).max(2));
        let _ = writeln!(
            out,
            "<g><title>{}: {} → {} ({})</title><rect x=\"{bx}\" y=\"{}\" width=\"{bw}\" height=\"{}\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{}\">{} {}</text></g>",
            escape(&s.name),
            secs(s.start),
            secs(s.end),
            secs(s.micros()),
            y + 2,
            ROW - 4,
            colour(&s.group),
            bx + bw + 4,
            y + ROW - 5,
            escape(&s.name),
            if s.micros() > 0 { secs(s.micros()) } else { String::new() }
        );
    }
    out.push_str("</svg>\n");
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

//! Checks of what `rescue-init analyze` writes: the JSON rows, and the SVG
//! chart read with a real XML parser (roxmltree), one row (`<g>` with a
//! `<title>`) per span. `rsvg-convert` (Debian's librsvg2-bin) renders
//! the chart to PNG where it is installed, so that a person can look.

use anyhow::{bail, ensure, Context, Result};
use std::path::Path;
use std::process::Command;

/// One span as `analyze json` gives it.
#[derive(Debug, Clone)]
pub struct Row {
    pub group: String,
    pub name: String,
    pub start_us: u64,
    pub end_us: u64,
}

pub fn rows(json: &[u8]) -> Result<Vec<Row>> {
    let v: serde_json::Value = serde_json::from_slice(json).context("analyze json is not JSON")?;
    let arr = v.as_array().context("analyze json is not an array")?;
    arr.iter()
        .map(|r| {
            let s = |k: &str| {
                r[k].as_str()
                    .map(str::to_string)
                    .with_context(|| format!("row without {k}: {r}"))
            };
            let n = |k: &str| {
                r[k].as_u64()
                    .with_context(|| format!("row without {k}: {r}"))
            };
            Ok(Row {
                group: s("group")?,
                name: s("name")?,
                start_us: n("start_us")?,
                end_us: n("end_us")?,
            })
        })
        .collect()
}

/// The SVG parses, is an `<svg>`, and has one titled row per JSON row;
/// returns the rows' tooltips.
pub fn check_plot(svg: &[u8], rows: &[Row]) -> Result<Vec<String>> {
    let text = std::str::from_utf8(svg).context("the chart is not UTF-8")?;
    let doc = roxmltree::Document::parse(text).context("the chart is not well-formed XML")?;
    let root = doc.root_element();
    ensure!(
        root.tag_name().name() == "svg",
        "the chart's root is <{}>",
        root.tag_name().name()
    );
    let titles: Vec<String> = root
        .descendants()
        .filter(|n| n.tag_name().name() == "g")
        .filter_map(|g| {
            g.children()
                .find(|c| c.tag_name().name() == "title")
                .and_then(|t| t.text())
                .map(str::to_string)
        })
        .collect();
    if titles.len() != rows.len() {
        bail!(
            "the chart has {} rows, the JSON {}",
            titles.len(),
            rows.len()
        );
    }
    for r in rows {
        ensure!(
            titles
                .iter()
                .any(|t| t.starts_with(&format!("{}: ", r.name))),
            "no chart row for {:?}",
            r.name
        );
    }
    Ok(titles)
}

/// Renders `svg` to `png` with rsvg-convert; false when it is not there.
pub fn render_png(svg: &Path, png: &Path) -> Result<bool> {
    let out = match Command::new("rsvg-convert")
        .arg("-o")
        .arg(png)
        .arg(svg)
        .output()
    {
        Ok(o) => o,
        Err(_) => return Ok(false),
    };
    ensure!(
        out.status.success(),
        "rsvg-convert {}: {}",
        svg.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let head = std::fs::read(png)?;
    ensure!(head.starts_with(b"\x89PNG"), "rsvg-convert wrote no PNG");
    Ok(true)
}

//! `mkimage pack` against the usual shell pipelines, on a generated tree
//! and (if there) a copy of part of the host's `/usr/lib/x86_64-linux-gnu`.
//!
//! Every tool runs `reps` times per tree, the tools interleaved (and their
//! order rotated each round) so that load from other processes spreads over
//! all of them; the report gives the median wall-clock time, its range, the
//! median CPU time (user + sys of the tool and its children) and the output
//! size. The page cache is warmed first so that no tool pays for reading
//! the tree from disk.

use crate::gen;
use crate::report::{self, median, min_max, num, Table};
use anyhow::{bail, Context, Result};
use rescue_tests::paths;
use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const GZIP_REF: &str = "find | cpio | gzip";
const ZSTD_REF: &str = "find | cpio | zstd -T0";
const MK_GZIP: &str = "mkimage pack --compress gzip";
const MK_ZSTD: &str = "mkimage pack --compress zstd";

enum Kind {
    /// A bash pipeline run in the tree, its output redirected to the file.
    Shell(&'static str),
    /// `mkimage pack DIR -o OUT --compress METHOD`.
    Mkimage(&'static str),
}

struct Tool {
    name: &'static str,
    /// Programs that must be installed.
    needs: &'static [&'static str],
    kind: Kind,
    ext: &'static str,
}

fn tools() -> Vec<Tool> {
    let cpio = "find . | cpio -o -H newc --quiet";
    vec![
        Tool {
            name: GZIP_REF,
            needs: &["cpio", "gzip"],
            kind: Kind::Shell(leak(format!("{cpio} | gzip"))),
            ext: "gz",
        },
        Tool {
            name: "find | cpio | pigz",
            needs: &["cpio", "pigz"],
            kind: Kind::Shell(leak(format!("{cpio} | pigz"))),
            ext: "gz",
        },
        Tool {
            name: ZSTD_REF,
            needs: &["cpio", "zstd"],
            kind: Kind::Shell(leak(format!("{cpio} | zstd -T0 -q -c"))),
            ext: "zst",
        },
        Tool {
            name: "bsdtar --format newc | gzip",
            needs: &["bsdtar", "gzip"],
            kind: Kind::Shell("bsdtar --format newc -cf - . | gzip"),
            ext: "gz",
        },
        Tool {
            name: MK_GZIP,
            needs: &[],
            kind: Kind::Mkimage("gzip"),
            ext: "gz",
        },
        Tool {
            name: MK_ZSTD,
            needs: &[],
            kind: Kind::Mkimage("zstd"),
            ext: "zst",
        },
    ]
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", "command -v \"$1\" >/dev/null", "sh", program])
        .status()
        .is_ok_and(|s| s.success())
}

#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
    size: u64,
}

/// User + sys seconds of the waited-for children of this process.
fn children_cpu() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 16 and 17 (cutime, cstime); `rest` starts at field 3.
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(13) + ticks(14)) / 100.0
}

fn run_tool(tool: &Tool, mkimage: &Path, dir: &Path, out: &Path) -> Result<Sample> {
    let _ = fs::remove_file(out);
    let mut cmd = match tool.kind {
        Kind::Shell(pipeline) => {
            let mut c = Command::new("bash");
            c.arg("-c")
                .arg(format!("set -o pipefail; cd \"$1\" && {pipeline} > \"$2\""))
                .arg("bench")
                .arg(dir)
                .arg(out);
            c
        }
        Kind::Mkimage(method) => {
            let mut c = Command::new(mkimage);
            c.arg("pack")
                .arg(dir)
                .arg("-o")
                .arg(out)
                .args(["--compress", method]);
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let cpu0 = children_cpu();
    let t0 = Instant::now();
    let result = cmd
        .output()
        .with_context(|| format!("running {}", tool.name))?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = children_cpu() - cpu0;
    if !result.status.success() {
        bail!(
            "{} failed ({}): {}",
            tool.name,
            result.status,
            String::from_utf8_lossy(&result.stderr)
        );
    }
    let size = fs::metadata(out)
        .with_context(|| format!("{} wrote no {}", tool.name, out.display()))?
        .len();
    Ok(Sample { wall, cpu, size })
}

/// Entries in an image, read back with `mkimage list` (which also proves
/// that it decompresses).
fn entries(mkimage: &Path, image: &Path) -> Result<usize> {
    let out = Command::new(mkimage)
        .arg("list")
        .arg(image)
        .stderr(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!("mkimage list {} failed", image.display());
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().count())
}

/// Entries and bytes of regular files (each inode once) below `dir`;
/// reading every file also puts the tree in the page cache.
fn survey(dir: &Path) -> Result<(usize, u64)> {
    let mut seen = HashSet::new();
    let (mut n, mut bytes) = (0usize, 0u64);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let e = e?;
            let md = e.path().symlink_metadata()?;
            n += 1;
            if md.is_dir() {
                stack.push(e.path());
            } else if md.is_file() && seen.insert(md.ino()) {
                bytes += md.len();
                let _ = fs::read(e.path());
            }
        }
    }
    Ok((n, bytes))
}

/// A copy of the first `limit` bytes' worth of entries (in name order) of
/// /usr/lib/x86_64-linux-gnu; None when it does not exist.
fn real_tree(base: &Path, limit: u64) -> Result<Option<PathBuf>> {
    let src = Path::new("/usr/lib/x86_64-linux-gnu");
    if !src.is_dir() {
        return Ok(None);
    }
    let dir = base.join("usr-lib-subset");
    let stamp = base.join("usr-lib-subset.stamp");
    let want = format!("real v1 {} {limit}\n", src.display());
    if dir.is_dir() && fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return Ok(Some(dir));
    }
    let _ = fs::remove_file(&stamp);
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    eprintln!(
        "bench: copying part of {} to {} ...",
        src.display(),
        dir.display()
    );
    let dst = dir.join("usr/lib/x86_64-linux-gnu");
    fs::create_dir_all(&dst)?;
    let mut names: Vec<PathBuf> = fs::read_dir(src)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let mut total = 0u64;
    for p in names {
        if total >= limit {
            break;
        }
        let size = du(&p);
        if size > limit / 4 {
            continue; // one huge entry would make the tree one file
        }
        let ok = Command::new("cp")
            .arg("-a")
            .arg(&p)
            .arg(&dst)
            .status()?
            .success();
        if !ok {
            eprintln!("bench: cp -a {} failed; skipped", p.display());
            continue;
        }
        total += size;
    }
    fs::write(&stamp, want)?;
    Ok(Some(dir))
}

fn du(p: &Path) -> u64 {
    let Ok(md) = p.symlink_metadata() else {
        return 0;
    };
    if md.is_dir() {
        fs::read_dir(p).map_or(0, |rd| {
            rd.filter_map(|e| e.ok()).map(|e| du(&e.path())).sum()
        })
    } else if md.is_file() {
        md.len()
    } else {
        0
    }
}

fn cell(name: &str) -> String {
    name.replace('|', "\\|")
}

fn bench_tree(
    label: &str,
    dir: &Path,
    reps: usize,
    mkimage: &Path,
    out_dir: &Path,
) -> Result<String> {
    eprintln!("bench: surveying (and caching) {}", dir.display());
    let (n_entries, in_bytes) = survey(dir)?;
    let tools: Vec<Tool> = tools()
        .into_iter()
        .filter(|t| {
            let ok = t.needs.iter().all(|p| have(p));
            if !ok {
                eprintln!("bench: {} skipped: needs {}", t.name, t.needs.join(", "));
            }
            ok
        })
        .collect();
    let mut samples: Vec<Vec<Sample>> = tools.iter().map(|_| Vec::new()).collect();
    let mut loads = Vec::new();
    for rep in 0..reps {
        for k in 0..tools.len() {
            let i = (k + rep) % tools.len();
            let t = &tools[i];
            let out = out_dir.join(format!("{label}-{i}.{}", t.ext));
            let s = run_tool(t, mkimage, dir, &out)?;
            eprintln!(
                "bench: {label} round {}/{reps}: {:<30} {:7.2} s wall {:7.2} s CPU {:>12} bytes (load {})",
                rep + 1,
                t.name,
                s.wall,
                s.cpu,
                s.size,
                report::load1()
            );
            samples[i].push(s);
            loads.push(report::load1());
        }
    }
    let median_of = |name: &str, f: fn(&Sample) -> f64| -> f64 {
        tools
            .iter()
            .position(|t| t.name == name)
            .map_or(f64::NAN, |i| {
                median(&samples[i].iter().map(f).collect::<Vec<_>>())
            })
    };
    let gz_time = median_of(GZIP_REF, |s| s.wall);
    let mut table = Table::new(&[
        "tool",
        "time s (median)",
        "min–max s",
        "CPU s",
        "output MiB",
        "% of input",
        "time vs find\\|cpio\\|gzip",
        "entries",
    ]);
    for (i, t) in tools.iter().enumerate() {
        let walls: Vec<f64> = samples[i].iter().map(|s| s.wall).collect();
        let cpus: Vec<f64> = samples[i].iter().map(|s| s.cpu).collect();
        let size = samples[i].last().map_or(0, |s| s.size);
        let (lo, hi) = min_max(&walls);
        let out = out_dir.join(format!("{label}-{i}.{}", t.ext));
        let n = entries(mkimage, &out).map_or("unreadable".into(), |n| n.to_string());
        let _ = fs::remove_file(&out);
        table.row(vec![
            format!("`{}`", cell(t.name)),
            num(median(&walls), 2),
            format!("{}–{}", num(lo, 2), num(hi, 2)),
            num(median(&cpus), 2),
            num(size as f64 / 1048576.0, 1),
            num(100.0 * size as f64 / in_bytes as f64, 1),
            format!("{}×", num(median(&walls) / gz_time, 2)),
            n,
        ]);
    }
    let mut goals = Table::new(&["comparison", "time ratio", "size ratio", "goal", "met"]);
    for (ours, peer, time_goal) in [(MK_GZIP, GZIP_REF, 0.55), (MK_ZSTD, ZSTD_REF, 1.0)] {
        let tr = median_of(ours, |s| s.wall) / median_of(peer, |s| s.wall);
        let sr = median_of(ours, |s| s.size as f64) / median_of(peer, |s| s.size as f64);
        let met = tr <= time_goal && sr <= 1.0;
        goals.row(vec![
            format!("`{}` / `{}`", cell(ours), cell(peer)),
            format!("{}×", num(tr, 2)),
            format!("{}×", num(sr, 3)),
            format!("time ≤ {time_goal}×, size ≤ 1.0×"),
            if !tr.is_finite() || !sr.is_finite() {
                "n/a".into()
            } else if met {
                "yes".into()
            } else {
                "**no**".into()
            },
        ]);
    }
    Ok(format!(
        "### Tree: {label} ({n_entries} entries, {} MiB of file data, `{}`)\n\n{}\n{}\nLoad average (1 min) seen during the runs: {}.\n\n",
        num(in_bytes as f64 / 1048576.0, 1),
        dir.display(),
        table.markdown(),
        goals.markdown(),
        loads.join(", ")
    ))
}

pub fn run(reps: usize) -> Result<String> {
    let mkimage = paths::mkimage()?;
    let base = paths::target_subdir("bench/trees")?;
    let out_dir = paths::target_subdir("bench/out")?;
    let mut text = format!(
        "## mkimage pack against the shell pipelines\n\n{}\
         Each tool ran {reps} times per tree, the tools interleaved and their order rotated each round; \
         time is wall-clock (median, and min–max), CPU is user+sys of the tool and its children (median). \
         Default levels everywhere (gzip 6, zstd 3). `entries` is what `mkimage list` reads back \
         (the pipelines also store `.`). Tools: {}; {}; {}; {}; {}.\n\n",
        report::machine(),
        report::first_line("gzip", &["--version"]),
        report::first_line("pigz", &["--version"]),
        report::first_line("zstd", &["--version"]),
        report::first_line("cpio", &["--version"]),
        report::first_line("bsdtar", &["--version"]),
    );
    let params = gen::Params::default();
    let generated = gen::tree(&base, &params)?;
    text += &bench_tree("generated", &generated, reps, &mkimage, &out_dir)?;
    let limit_mb: u64 = std::env::var("BENCH_REAL_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let real = if limit_mb > 0 {
        real_tree(&base, limit_mb * 1024 * 1024)?
    } else {
        None
    };
    match real {
        Some(dir) => text += &bench_tree("usr-lib-subset", &dir, reps, &mkimage, &out_dir)?,
        None => text += "### Tree: host libraries\n\nSkipped: no /usr/lib/x86_64-linux-gnu (or BENCH_REAL_MB=0).\n\n",
    }
    Ok(text)
}

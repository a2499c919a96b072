//! `rescue-init analyze`: where the boot's (or the last handoff's) time
//! went, from the timeline PID 1 records (see `timeline.rs`).

use crate::analyze::{self, Span};
use std::io::Write;

pub const USAGE: &str = "usage: rescue-init analyze [blame | critical-chain | plot | json] [--handoff [FILE] | --file FILE]\n       \
    rescue-init analyze mark GROUP NAME...\n  \
    blame            spans, longest first (the default)\n  \
    critical-chain   the boot's phases in order, @start +duration\n  \
    plot             an SVG chart on stdout (rescue-init analyze plot > boot.svg)\n  \
    json             the spans as JSON\n  \
    --handoff [FILE] the timeline of the last handoff recorded in FILE\n                   \
    (default /var/log/rescue-init-kexec.log, in the recovered system)\n  \
    --file FILE      read FILE instead of /run/rescue-init/timeline\n  \
    mark GROUP NAME  add an instant to the timeline (ReaR's setup scripts do)";

/// The handoff record in the recovered system.
pub const HANDOFF_RECORD: &str = "/var/log/rescue-init-kexec.log";

pub fn main(argv: &[String]) -> i32 {
    let args = &argv[1..];
    if args.first().map(String::as_str) == Some("mark") {
        return mark(&args[1..]);
    }
    let mut what = "blame";
    let mut source: Option<(String, bool)> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "blame" | "critical-chain" | "plot" | "json" => what = a,
            "--json" => what = "json",
            "--handoff" => {
                source = Some((
                    it.clone()
                        .next()
                        .filter(|n| !n.starts_with('-'))
                        .cloned()
                        .unwrap_or(HANDOFF_RECORD.into()),
                    true,
                ))
            }
            "--file" => match it.next() {
                Some(f) => source = Some((f.clone(), false)),
                None => return usage("--file needs a FILE"),
            },
            "-h" | "--help" => return usage(""),
            other if source.as_ref().is_some_and(|(f, h)| *h && f == other) => {}
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let spans = match load(source) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rescue-init analyze: {e}");
            return 1;
        }
    };
    let text = match what {
        "critical-chain" => analyze::critical_chain(&spans),
        "plot" => analyze::plot::svg(&spans, "rescue-init timeline"),
        "json" => analyze::json(&spans),
        _ => analyze::blame(&spans),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    0
}

fn usage(why: &str) -> i32 {
    if !why.is_empty() {
        eprintln!("rescue-init analyze: {why}");
    }
    eprintln!("{USAGE}");
    2
}

fn load(source: Option<(String, bool)>) -> Result<Vec<Span>, String> {
    let (file, handoff) = source.unwrap_or((crate::timeline::PATH.to_string(), false));
    let text = crate::fsread::read_text(std::path::Path::new(&file), 16 << 20)
        .map_err(|e| format!("{file}: {e}"))?;
    let text = if handoff { last_handoff(&text) } else { text };
    let mut spans = analyze::parse(&file, &text).map_err(|e| e.to_string())?;
    if spans.is_empty() {
        return Err(format!("{file}: no timeline recorded there"));
    }
    if !handoff {
        spans.extend(analyze::kernel_spans(&read_kmsg()));
    }
    analyze::close_marks(&mut spans, "rear-setup");
    Ok(spans)
}

/// The `timeline` lines after the record's last handoff line.
fn last_handoff(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines
        .iter()
        .rposition(|l| !l.starts_with("  timeline "))
        .map_or(0, |i| i + 1);
    lines[from..].join("\n")
}

/// The kernel's log as /dev/kmsg gives it, one record per read.
fn read_kmsg() -> String {
    use rustix::fs::{open, Mode, OFlags};
    let Ok(fd) = open(
        "/dev/kmsg",
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return String::new();
    };
    let mut out = String::new();
    let mut buf = vec![0u8; 8192];
    loop {
        match rustix::io::read(&fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => out.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(rustix::io::Errno::PIPE) => continue,
            Err(_) => break,
        }
    }
    out
}

fn mark(args: &[String]) -> i32 {
    let [group, name @ ..] = args else {
        return usage("mark needs GROUP and NAME");
    };
    if name.is_empty() {
        return usage("mark needs GROUP and NAME");
    }
    if !std::path::Path::new(crate::timeline::PATH).exists() {
        return 0; // no timeline here (not booted by rescue-init): nothing to add to
    }
    crate::timeline::mark(group, &name.join(" "));
    0
}

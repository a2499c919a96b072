//! A progress bar on stderr while an archive is written, only when stderr
//! is a terminal: pipes, logs and CI output never see it.
//!
//! It costs a counter update per entry and a clock read per entry; the
//! line is redrawn at most every [`EVERY`], first after [`AFTER`] (a quick
//! build shows nothing), and erased at the end.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::report::limits::human;

/// No bar for work shorter than this.
pub const AFTER: Duration = Duration::from_millis(500);
/// Time between redraws.
pub const EVERY: Duration = Duration::from_millis(200);
const WIDTH: usize = 24;

/// Progress through the entries and data bytes of an archive.
pub struct Progress {
    out: Option<Box<dyn Write>>,
    entries: (usize, usize),
    bytes: (u64, u64),
    start: Instant,
    next_draw: Instant,
    drawn: bool,
}

impl Progress {
    /// A bar that draws nothing.
    #[cfg(test)]
    pub fn off() -> Self {
        Progress::with_output(None, Instant::now())
    }

    /// A bar on stderr if `wanted` and stderr is a terminal.
    pub fn on_terminal(wanted: bool) -> Self {
        let tty = wanted && io::stderr().is_terminal();
        let out: Option<Box<dyn Write>> = tty.then(|| Box::new(io::stderr()) as Box<dyn Write>);
        Progress::with_output(out, Instant::now())
    }

    fn with_output(out: Option<Box<dyn Write>>, start: Instant) -> Self {
        Progress {
            out,
            entries: (0, 0),
            bytes: (0, 0),
            start,
            next_draw: start + AFTER,
            drawn: false,
        }
    }

    /// Sets the totals to count towards.
    pub fn start(&mut self, entries: usize, bytes: u64) {
        self.entries = (0, entries);
        self.bytes = (0, bytes);
    }

    /// One more entry, with `bytes` of data, is written.
    pub fn step(&mut self, bytes: u64) {
        if self.out.is_some() {
            self.step_at(bytes, Instant::now());
        }
    }

    fn step_at(&mut self, bytes: u64, now: Instant) {
        self.entries.0 += 1;
        self.bytes.0 += bytes;
        if now >= self.next_draw {
            self.next_draw = now + EVERY;
            let line = self.line(now);
            self.draw(&line);
        }
    }

    /// The bar's text, e.g.
    /// `[######------]  50%  2/4 entries  1.0/2.0 MiB  3 s`.
    fn line(&self, now: Instant) -> String {
        let (done, total) = if self.bytes.1 > 0 {
            (self.bytes.0 as f64, self.bytes.1 as f64)
        } else {
            (self.entries.0 as f64, self.entries.1.max(1) as f64)
        };
        let frac = (done / total).clamp(0.0, 1.0);
        let full = (frac * WIDTH as f64) as usize;
        format!(
            "[{}{}] {:3.0}%  {}/{} entries  {}/{}  {} s",
            "#".repeat(full),
            "-".repeat(WIDTH - full),
            frac * 100.0,
            self.entries.0,
            self.entries.1,
            human(self.bytes.0),
            human(self.bytes.1),
            now.duration_since(self.start).as_secs()
        )
    }

    /// Rewrites the line in place; a failing terminal just loses its bar.
    fn draw(&mut self, line: &str) {
        if let Some(out) = &mut self.out {
            let ok = write!(out, "\rmkimage: {line}\x1b[K").and_then(|_| out.flush());
            self.drawn = ok.is_ok();
            if ok.is_err() {
                self.out = None;
            }
        }
    }

    /// Erases the bar, if one was drawn.
    pub fn finish(&mut self) {
        if let (true, Some(out)) = (self.drawn, &mut self.out) {
            let _ = write!(out, "\r\x1b[K").and_then(|_| out.flush());
        }
        self.drawn = false;
        self.out = None;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn draws_only_after_a_while_and_at_most_every_interval() {
        let sink = Shared::default();
        let t0 = Instant::now();
        let mut p = Progress::with_output(Some(Box::new(sink.clone())), t0);
        p.start(4, 2 << 20);
        p.step_at(1 << 20, t0 + Duration::from_millis(100));
        assert_eq!(sink.text(), "", "drawn before {AFTER:?}");
        p.step_at(0, t0 + Duration::from_millis(600));
        let first = sink.text();
        assert_eq!(
            first,
            "\rmkimage: [############------------]  50%  2/4 entries  1.0 MiB/2.0 MiB  0 s\x1b[K"
        );
        p.step_at(0, t0 + Duration::from_millis(700));
        assert_eq!(sink.text(), first, "redrawn within {EVERY:?}");
        p.step_at(1 << 20, t0 + Duration::from_millis(3000));
        assert!(sink
            .text()
            .ends_with("100%  4/4 entries  2.0 MiB/2.0 MiB  3 s\x1b[K"));
        p.finish();
        assert!(sink.text().ends_with("\r\x1b[K"));
    }

    #[test]
    fn off_and_quick_runs_write_nothing() {
        let mut p = Progress::off();
        p.start(1, 1);
        p.step(1);
        p.finish();
        let sink = Shared::default();
        let t0 = Instant::now();
        let mut p = Progress::with_output(Some(Box::new(sink.clone())), t0);
        p.start(1, 0);
        p.step_at(0, t0 + Duration::from_millis(10));
        drop(p);
        assert_eq!(sink.text(), "", "a bar never drawn is not erased either");
    }
}

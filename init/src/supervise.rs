//! Shells on the consoles (and, in ReaR mode, inittab's respawn daemons),
//! respawned when they exit. Restarts are rate
//! limited: after BURST starts within WINDOW each further start waits
//! THROTTLE; a shell that cannot be executed at all backs off
//! exponentially up to MAX_BACKOFF and says why, so a missing shell never
//! turns PID 1 into a busy loop.

use crate::console;
use crate::events::Events;
use crate::reap;
use crate::spawn::{self, Stdio3};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const BURST: usize = 10;
const WINDOW: Duration = Duration::from_secs(10);
const THROTTLE: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// SysV init's pause for an entry "respawning too fast".
const SERVICE_PAUSE: Duration = Duration::from_secs(300);

/// What a supervised slot runs.
enum Program {
    /// A login shell (argv[0] `-name`) on its terminal.
    Shell(String),
    /// A daemon with stdin from /dev/null; `name` is for the log.
    Service { name: String, argv: Vec<String> },
}

pub struct Shell {
    program: Program,
    /// The terminal, or `None` for PID 1's own stdio (container mode).
    tty: Option<PathBuf>,
    pid: Option<i32>,
    starts: VecDeque<Instant>,
    not_before: Option<Instant>,
    exec_failures: u32,
}

impl Shell {
    fn new(program: Program, tty: Option<PathBuf>) -> Shell {
        Shell {
            program,
            tty,
            pid: None,
            starts: VecDeque::new(),
            not_before: None,
            exec_failures: 0,
        }
    }

    fn name(&self) -> String {
        match (&self.program, &self.tty) {
            (Program::Service { name, .. }, _) => format!("service {name}"),
            (Program::Shell(_), Some(t)) => format!("shell on {}", t.display()),
            (Program::Shell(_), None) => "shell on stdio".into(),
        }
    }

    fn program_name(&self) -> &str {
        match &self.program {
            Program::Shell(s) => s,
            Program::Service { argv, .. } => argv.first().map_or("", String::as_str),
        }
    }
}

pub struct Supervisor {
    shells: Vec<Shell>,
}

impl Supervisor {
    pub fn new(shell: &str, ttys: Vec<Option<PathBuf>>) -> Self {
        let shells = ttys
            .into_iter()
            .map(|tty| Shell::new(Program::Shell(shell.to_string()), tty))
            .collect();
        Supervisor { shells }
    }

    /// Adds a daemon, respawned like the shells.
    pub fn add_service(&mut self, name: &str, argv: Vec<String>) {
        self.shells.push(Shell::new(
            Program::Service {
                name: name.to_string(),
                argv,
            },
            None,
        ));
    }

    /// Pids of the running shells (for shutdown).
    pub fn pids(&self) -> Vec<i32> {
        self.shells.iter().filter_map(|s| s.pid).collect()
    }

    /// Starts every shell that is due; returns how long until the next one
    /// is (None: nothing pending).
    pub fn start_due(&mut self, events: &mut Events) -> Option<Duration> {
        let now = Instant::now();
        let mut next: Option<Duration> = None;
        for sh in &mut self.shells {
            if sh.pid.is_some() {
                continue;
            }
            if sh.not_before.is_none_or(|t| t <= now) {
                start_shell(sh, events);
            }
            if let (None, Some(t)) = (sh.pid, sh.not_before) {
                let wait = t.saturating_duration_since(now);
                next = Some(next.map_or(wait, |n| n.min(wait)));
            }
        }
        next
    }

    /// Notes shells that have ended and schedules their restart.
    pub fn collect_exits(&mut self, events: &mut Events) {
        for sh in &mut self.shells {
            let Some(pid) = sh.pid else { continue };
            let Some(status) = events.take_exit(pid) else {
                continue;
            };
            sh.pid = None;
            let name = sh.name();
            let recent = sh.starts.iter().filter(|t| t.elapsed() < WINDOW).count();
            if recent >= BURST {
                // A person waits for a shell; a daemon that keeps dying
                // rests as long as SysV init lets it.
                let pause = if matches!(sh.program, Program::Service { .. }) {
                    SERVICE_PAUSE
                } else {
                    THROTTLE
                };
                crate::warn!(
                    "{name} (pid {pid}) {}; {recent} starts within {}s, next start in {}s",
                    reap::describe(status),
                    WINDOW.as_secs(),
                    pause.as_secs()
                );
                sh.not_before = Some(Instant::now() + pause);
            } else {
                crate::info!(
                    "{name} (pid {pid}) {}; restarting it",
                    reap::describe(status)
                );
            }
        }
    }
}

fn start_shell(sh: &mut Shell, events: &mut Events) {
    let term = sh.tty.as_deref().map_or("linux", console::term_for);
    let result = match (&sh.program, &sh.tty) {
        (Program::Shell(shell), Some(t)) => {
            spawn::shell_command(shell, term).and_then(|c| spawn::start(c, Stdio3::Terminal(t)))
        }
        (Program::Shell(shell), None) => {
            spawn::shell_command(shell, term).and_then(|c| spawn::start(c, Stdio3::Inherit))
        }
        (Program::Service { argv, .. }, _) => {
            spawn::command(argv, term).and_then(|c| spawn::start(c, Stdio3::Detached))
        }
    };
    let now = Instant::now();
    sh.starts.push_back(now);
    while sh.starts.len() > BURST {
        sh.starts.pop_front();
    }
    match result {
        Ok(pid) => {
            sh.pid = Some(pid);
            sh.exec_failures = 0;
            events.track(pid);
            crate::info!("{} started (pid {pid})", sh.name());
            crate::timeline::mark("login", &sh.name());
        }
        Err(e) => {
            sh.exec_failures += 1;
            let backoff = Duration::from_secs(1 << (sh.exec_failures - 1).min(6)).min(MAX_BACKOFF);
            sh.not_before = Some(now + backoff);
            let prog = sh.program_name();
            if matches!(sh.program, Program::Service { .. }) {
                crate::error!(
                    "{}: cannot start {prog}: {e}; retrying in {}s",
                    sh.name(),
                    backoff.as_secs()
                );
                return;
            }
            crate::error!(
                "{}: cannot start {prog}: {e}. No shell is available there; retrying in {}s \
                 (set rescue.shell=PATH or add a shell to the image). PID 1 keeps running; \
                 Ctrl-Alt-Del reboots.",
                sh.name(),
                backoff.as_secs()
            );
        }
    }
}

//! The processes left running, read from /proc, for messages that name
//! who is holding things up.

pub struct Proc {
    pub pid: u32,
    pub comm: String,
    /// `R`, `S`, `D` (uninterruptible: stuck in the kernel), ...
    pub state: char,
}

impl Proc {
    /// `pid 7 (dd)`, and for a process in uninterruptible sleep where in
    /// the kernel it waits (`/proc/PID/wchan`; neither read can block on
    /// the process's own locks).
    pub fn describe(&self) -> String {
        let mut s = format!("pid {} ({})", self.pid, self.comm);
        if self.state == 'D' {
            s.push_str(", uninterruptible");
            let wchan = std::fs::read_to_string(format!("/proc/{}/wchan", self.pid));
            if let Some(w) = wchan.ok().filter(|w| !w.is_empty() && w != "0") {
                s.push_str(&format!(" in {}", w.trim()));
            }
        }
        s
    }
}

/// Every process except PID 1 and kernel threads (children of kthreadd).
pub fn user_processes() -> Vec<Proc> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<Proc> = rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid > 2)
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (comm, state, ppid) = parse_stat(&stat)?;
            (ppid != 2).then_some(Proc { pid, comm, state })
        })
        .collect();
    crate::sort::sort_by_key(&mut out, |p| p.pid);
    out
}

/// The processes in uninterruptible sleep, described, comma-separated.
pub fn stuck_in_kernel() -> String {
    let stuck: Vec<String> = user_processes()
        .iter()
        .filter(|p| p.state == 'D')
        .map(Proc::describe)
        .collect();
    stuck.join(", ")
}

/// `pid (comm) state ppid ...`: comm may contain spaces and parentheses,
/// so it ends at the last `)`.
fn parse_stat(stat: &str) -> Option<(String, char, u32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, state, ppid))
}

#[cfg(test)]
mod tests {
    use super::parse_stat;

    #[test]
    fn comm_with_spaces_and_parens() {
        assert_eq!(
            parse_stat("42 (a (b) c) S 7 42 42 0"),
            Some(("a (b) c".into(), 'S', 7))
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S"), None);
        assert_eq!(parse_stat("9 (dd) D 1 9"), Some(("dd".into(), 'D', 1)));
    }
}

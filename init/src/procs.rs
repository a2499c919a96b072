//! The processes left running, read from /proc, for messages that name
//! who is holding things up.

pub struct Proc {
    pub pid: u32,
    pub comm: String,
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
            let (comm, ppid) = parse_stat(&stat)?;
            (ppid != 2).then_some(Proc { pid, comm })
        })
        .collect();
    crate::sort::sort_by_key(&mut out, |p| p.pid);
    out
}

/// `pid (comm) state ppid ...`: comm may contain spaces and parentheses,
/// so it ends at the last `)`.
fn parse_stat(stat: &str) -> Option<(String, u32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, ppid))
}

#[cfg(test)]
mod tests {
    use super::parse_stat;

    #[test]
    fn comm_with_spaces_and_parens() {
        assert_eq!(
            parse_stat("42 (a (b) c) S 7 42 42 0"),
            Some(("a (b) c".into(), 7))
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S"), None);
    }
}

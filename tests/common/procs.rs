//! Reading /proc: which processes a daemon started, as whom, in which root.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One process as /proc shows it.
#[derive(Debug, Clone)]
pub struct ProcInfo {
    pub pid: u32,
    pub ppid: u32,
    /// State letter from /proc/PID/stat (R, S, Z, …).
    pub state: char,
    /// Real, effective, saved and filesystem uid.
    pub uids: [u32; 4],
    /// Real, effective, saved and filesystem gid.
    pub gids: [u32; 4],
    /// Where /proc/PID/root points (the process's root directory), when readable.
    pub root: Option<PathBuf>,
    pub comm: String,
}

impl ProcInfo {
    /// True when no uid of the process is 0.
    pub fn is_unprivileged(&self) -> bool {
        self.uids.iter().all(|&u| u != 0)
    }

    /// True when the process is chrooted somewhere other than "/".
    pub fn is_chrooted(&self) -> bool {
        self.root
            .as_ref()
            .map(|r| r != &PathBuf::from("/"))
            .unwrap_or(false)
    }
}

fn ids(status: &str, key: &str) -> Option<[u32; 4]> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    let v: Vec<u32> = line[key.len()..]
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    Some([*v.first()?, *v.get(1)?, *v.get(2)?, *v.get(3)?])
}

/// The process `pid`, if it exists.
pub fn proc_info(pid: u32) -> Option<ProcInfo> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let mut rest = stat[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(ProcInfo {
        pid,
        ppid,
        state,
        uids: ids(&status, "Uid:")?,
        gids: ids(&status, "Gid:")?,
        root: fs::read_link(format!("/proc/{pid}/root")).ok(),
        comm,
    })
}

/// Every process on the machine (those that vanish while reading are skipped).
pub fn all_procs() -> Vec<ProcInfo> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(proc_info)
        .collect()
}

/// Every descendant of `pid` (children, their children, …), not `pid` itself.
pub fn descendants(pid: u32) -> Vec<ProcInfo> {
    let all = all_procs();
    let mut out: Vec<ProcInfo> = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for c in all.iter().filter(|c| c.ppid == p) {
            if !out.iter().any(|o| o.pid == c.pid) {
                frontier.push(c.pid);
                out.push(c.clone());
            }
        }
    }
    out
}

/// The uid of `user` from /etc/passwd.
pub fn passwd_uid(user: &str) -> Option<u32> {
    let text = fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.first() == Some(&user) {
            f.get(2)?.parse().ok()
        } else {
            None
        }
    })
}

/// True when the tests run as root (uid 0).
pub fn running_as_root() -> bool {
    proc_info(std::process::id())
        .map(|p| p.uids[1] == 0)
        .unwrap_or(false)
}

/// The children of a process, from /proc (the kernel's own list).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Waits until `pid` has exactly one child that is not `not`, and returns it.
pub fn wait_child_of(pid: u32, not: Option<u32>) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let kids: Vec<u32> = children(pid)
            .into_iter()
            .filter(|&k| Some(k) != not)
            .collect();
        if let [one] = kids.as_slice() {
            return *one;
        }
        assert!(
            Instant::now() < deadline,
            "no single child of {pid}: {kids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `pid` has a child that is not in `before`, and returns it: the process of a
/// session just started, when earlier ones may still be on their way out.
pub fn new_child_of(pid: u32, before: &[u32]) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(c) = children(pid).into_iter().find(|p| !before.contains(p)) {
            return c;
        }
        assert!(Instant::now() < deadline, "no new child of {pid}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A field of /proc/PID/status, trimmed (panics when missing).
pub fn status_field(pid: u32, name: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
}

/// Where /proc/PID/root points.
pub fn root_of(pid: u32) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/root")).unwrap()
}

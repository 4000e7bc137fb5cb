//! What /proc says: the server's process tree and its memory (PSS), the listener of a port,
//! and the limits that decide whether a run can work at all.

use std::collections::HashMap;
use std::fs;

/// Every process: pid -> parent pid.
fn parents() -> HashMap<u32, u32> {
    let mut map = HashMap::new();
    let Ok(dir) = fs::read_dir("/proc") else {
        return map;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let mut fields = stat[close + 1..].split_whitespace();
        let _state = fields.next();
        if let Some(ppid) = fields.next().and_then(|p| p.parse().ok()) {
            map.insert(pid, ppid);
        }
    }
    map
}

/// `pid` and all its descendants.
pub fn tree(pid: u32) -> Vec<u32> {
    let map = parents();
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(map.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// PSS of one process in KiB (smaps_rollup), None if it is gone or unreadable.
fn pss_kib(pid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    text.lines()
        .find(|l| l.starts_with("Pss:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

/// PSS summed over the tree of `pid`, in KiB, and the number of processes it covers.
/// Err when the server's own smaps_rollup cannot be read (not root, or it is gone).
pub fn tree_pss(pid: u32) -> Result<(u64, usize), String> {
    if pss_kib(pid).is_none() {
        return Err(format!(
            "cannot read /proc/{pid}/smaps_rollup (needs the same user or root)"
        ));
    }
    let procs = tree(pid);
    let mut total = 0;
    let mut n = 0;
    for p in procs {
        if let Some(k) = pss_kib(p) {
            total += k;
            n += 1;
        }
    }
    Ok((total, n))
}

/// The inodes of sockets listening on TCP `port` (IPv4 and IPv6).
fn listening_inodes(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" {
                continue;
            }
            let lport = f[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            if lport == Some(port) {
                out.push(f[9].to_string());
            }
        }
    }
    out
}

/// The process listening on `port`: of the processes holding the listening socket, the one
/// whose parent does not hold it too.
pub fn find_listener(port: u16) -> Option<u32> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let mut holders = Vec::new();
    for e in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path())
                .ok()
                .and_then(|t| t.to_str().map(|s| wanted.iter().any(|w| w == s)))
                .unwrap_or(false)
        });
        if holds {
            holders.push(pid);
        }
    }
    let map = parents();
    holders
        .iter()
        .copied()
        .find(|p| map.get(p).is_none_or(|pp| !holders.contains(pp)))
}

/// The soft limit on open files of this process.
pub fn nofile_soft() -> Option<u64> {
    let text = fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let v = line["Max open files".len()..].split_whitespace().next()?;
    if v == "unlimited" {
        Some(u64::MAX)
    } else {
        v.parse().ok()
    }
}

fn read_num(path: &str) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The kernel's pid_max.
pub fn pid_max() -> Option<u64> {
    read_num("/proc/sys/kernel/pid_max")
}

/// Processes alive now.
pub fn process_count() -> u64 {
    fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(|s| s.parse::<u32>().is_ok())
                })
                .count() as u64
        })
        .unwrap_or(0)
}

/// Sockets in TIME_WAIT (the `tw` of /proc/net/sockstat).
pub fn time_wait() -> Option<u64> {
    let text = fs::read_to_string("/proc/net/sockstat").ok()?;
    let line = text.lines().find(|l| l.starts_with("TCP:"))?;
    let mut it = line.split_whitespace();
    while let Some(w) = it.next() {
        if w == "tw" {
            return it.next()?.parse().ok();
        }
    }
    None
}

/// The local port range (how many client ports there are before TIME_WAIT runs out).
pub fn port_range() -> Option<(u64, u64)> {
    let text = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = text.split_whitespace().filter_map(|n| n.parse().ok());
    Some((it.next()?, it.next()?))
}

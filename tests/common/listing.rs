//! vsftpd's `ls -l` line format (reference §2.2), computed from a file's metadata, and a
//! parser for the lines the server sends.
//!
//! `<perms> <nlink:>4> <uid:<8> <gid:<8> <size:>8> <date> <name>[ -> target]`, numeric ids,
//! dates in GMT: `%b %d %H:%M` within the last 182 days and not in the future, else
//! `%b %d  %Y`.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// vsftpd's listing date for `mtime` seen at `now` (both Unix seconds, GMT).
pub fn vsftpd_date(mtime: i64, now: i64) -> String {
    let days = mtime.div_euclid(86_400);
    let secs = mtime.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mon = MONTHS[(m - 1) as usize];
    let recent = mtime <= now && now - mtime <= 182 * 86_400;
    if recent {
        format!("{mon} {d:02} {:02}:{:02}", secs / 3600, (secs % 3600) / 60)
    } else {
        format!("{mon} {d:02}  {y}")
    }
}

/// `drwxr-xr-x`-style permissions of a metadata.
pub fn perms_string(md: &fs::Metadata) -> String {
    let ft = md.file_type();
    let t = if ft.is_symlink() {
        'l'
    } else if ft.is_dir() {
        'd'
    } else if ft.is_fifo() {
        'p'
    } else if ft.is_socket() {
        's'
    } else if ft.is_block_device() {
        'b'
    } else if ft.is_char_device() {
        'c'
    } else {
        '-'
    };
    let mode = md.mode();
    let bit = |m: u32, c: char| if mode & m != 0 { c } else { '-' };
    let special = |x: bool, s: bool, lower: char, upper: char| match (s, x) {
        (true, true) => lower,
        (true, false) => upper,
        (false, true) => 'x',
        (false, false) => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(t);
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(special(mode & 0o100 != 0, mode & 0o4000 != 0, 's', 'S'));
    s.push(bit(0o040, 'r'));
    s.push(bit(0o020, 'w'));
    s.push(special(mode & 0o010 != 0, mode & 0o2000 != 0, 's', 'S'));
    s.push(bit(0o004, 'r'));
    s.push(bit(0o002, 'w'));
    s.push(special(mode & 0o001 != 0, mode & 0o1000 != 0, 't', 'T'));
    s
}

/// Seconds since the epoch, now.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The exact LIST line (without CRLF) vsftpd prints for `path`, shown as `name`, with
/// numeric owner and group.
pub fn expected_list_line(path: &Path, name: &str) -> String {
    let md = fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut line = format!(
        "{} {:>4} {:<8} {:<8} {:>8} {} {}",
        perms_string(&md),
        md.nlink(),
        md.uid(),
        md.gid(),
        md.size(),
        vsftpd_date(md.mtime(), now_secs()),
        name
    );
    if md.file_type().is_symlink() {
        let target = fs::read_link(path).unwrap();
        line.push_str(" -> ");
        line.push_str(&target.to_string_lossy());
    }
    line
}

/// One parsed LIST line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub perms: String,
    pub nlink: u64,
    pub owner: String,
    pub group: String,
    pub size: u64,
    pub date: String,
    pub name: String,
    pub target: Option<String>,
}

/// Parses a vsftpd LIST line (no CRLF) by hand; None when it does not have the shape.
pub fn parse_list_line(line: &str) -> Option<ListEntry> {
    let mut rest = line;
    let mut field = || -> Option<&str> {
        let trimmed = rest.trim_start_matches(' ');
        let end = trimmed.find(' ')?;
        let (f, r) = trimmed.split_at(end);
        rest = r;
        Some(f)
    };
    let perms = field()?.to_string();
    let nlink = field()?.parse().ok()?;
    let owner = field()?.to_string();
    let group = field()?.to_string();
    let size = field()?.parse().ok()?;
    let month = field()?.to_string();
    let day = field()?.to_string();
    let time_or_year = field()?.to_string();
    if perms.len() != 10
        || !"-dlpsbc".contains(&perms[..1])
        || !perms[1..].chars().all(|c| "rwxsStT-".contains(c))
        || !MONTHS.contains(&month.as_str())
        || day.len() != 2
        || !day.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let is_time = time_or_year.len() == 5 && time_or_year.as_bytes()[2] == b':';
    let is_year = time_or_year.len() == 4 && time_or_year.chars().all(|c| c.is_ascii_digit());
    if !is_time && !is_year {
        return None;
    }
    let date = if is_time {
        format!("{month} {day} {time_or_year}")
    } else {
        format!("{month} {day}  {time_or_year}")
    };
    let name_part = rest.strip_prefix(' ')?;
    let (name, target) = if perms.starts_with('l') {
        match name_part.split_once(" -> ") {
            Some((n, t)) => (n.to_string(), Some(t.to_string())),
            None => (name_part.to_string(), None),
        }
    } else {
        (name_part.to_string(), None)
    };
    Some(ListEntry {
        perms,
        nlink,
        owner,
        group,
        size,
        date,
        name,
        target,
    })
}

/// Splits listing bytes into lines; fails the test unless every line ends in CRLF.
#[track_caller]
pub fn crlf_lines(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    if text.is_empty() {
        return Vec::new();
    }
    assert!(
        text.ends_with("\r\n"),
        "listing does not end with CRLF: {text:?}"
    );
    let body = &text[..text.len() - 2];
    body.split("\r\n")
        .map(|l| {
            assert!(!l.contains('\n'), "bare LF in listing line {l:?}");
            l.to_string()
        })
        .collect()
}

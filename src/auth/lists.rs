//! The admin's list files — user lists (userlist_file, chroot_list_file) and the anonymous
//! e-mail lists — as vsftpd reads them: one entry per line, lines end at LF (a CR stays part of
//! the line), an entry matches only when equal byte for byte. Read again at each use, on the
//! privileged side or before any jail.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, Read};

use crate::limits;

/// Reads an admin-owned text file as vsftpd's `str_fileread` does: at most `max` bytes (a
/// longer file is cut, not refused), and a path that is not a regular file reads as empty.
/// `Err` only when the file cannot be opened or read.
pub fn read_bounded(path: &str, max: u64) -> io::Result<Vec<u8>> {
    // A FIFO or device is never opened (an open could block); vsftpd reads such a file as
    // empty.
    if !std::fs::metadata(path)?.is_file() {
        return Ok(Vec::new());
    }
    let file = File::open(path)?;
    if !file.metadata()?.is_file() {
        return Ok(Vec::new());
    }
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Does `list` hold `line` as one of its LF-separated lines (vsftpd `str_contains_line`)? The
/// text after the last LF is a line too; an LF at the very end does not start another one.
pub fn contains_line(list: &[u8], line: &[u8]) -> bool {
    if list.is_empty() {
        return false;
    }
    let body = list.strip_suffix(b"\n").unwrap_or(list);
    body.split(|&b| b == b'\n').any(|l| l == line)
}

/// Is `name` in the user list at `path`? `Err` when the file cannot be read.
pub fn lists_user(path: &str, name: &[u8]) -> io::Result<bool> {
    Ok(contains_line(
        &read_bounded(path, limits::MAX_USER_LIST_FILE)?,
        name,
    ))
}

/// What virtual_users_file says of one user.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct VirtualLookup {
    /// The user's crypt hash (the first line for the name wins).
    pub hash: Option<String>,
    /// The numbers (from 1) of the lines that are not `name:hash`.
    pub malformed: Vec<usize>,
}

/// Reads virtual_users_file's text (ours): `name:crypt-hash` per line, `#` comments and empty
/// lines ignored. A line longer than [`limits::MAX_VIRTUAL_USERS_LINE`], without a `:`, with
/// an empty name or hash, or with a control byte (a NUL included) is malformed.
pub fn virtual_user(text: &[u8], user: &[u8]) -> VirtualLookup {
    let mut found = VirtualLookup::default();
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() || line.first() == Some(&b'#') {
            continue;
        }
        let entry = (line.len() <= limits::MAX_VIRTUAL_USERS_LINE
            && !line.iter().any(|&b| b < 0x20 || b == 0x7f))
        .then(|| line.iter().position(|&b| b == b':'))
        .flatten()
        .map(|i| (&line[..i], &line[i + 1..]))
        .filter(|(name, hash)| !name.is_empty() && !hash.is_empty())
        .and_then(|(name, hash)| Some((name, std::str::from_utf8(hash).ok()?)));
        match entry {
            Some((name, hash)) if name == user && found.hash.is_none() => {
                found.hash = Some(hash.to_string())
            }
            Some(_) => {}
            None => found.malformed.push(n + 1),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_users_lines() {
        let text = b"# c\n\nalice:$6$x\nbob\nalice:$6$second\n:$6$y\ncarol:\nd\x00:z\nbob:$y$b";
        let a = virtual_user(text, b"alice");
        assert_eq!(a.hash.as_deref(), Some("$6$x"));
        assert_eq!(a.malformed, vec![4, 6, 7, 8]);
        assert_eq!(virtual_user(text, b"bob").hash.as_deref(), Some("$y$b"));
        assert_eq!(virtual_user(text, b"carol").hash, None);
        let long = [b"x:".to_vec(), vec![b'h'; limits::MAX_VIRTUAL_USERS_LINE]].concat();
        assert_eq!(virtual_user(&long, b"x").malformed, vec![1]);
    }

    #[test]
    fn lines_match_whole_and_exact() {
        let list = b"bad@example.com\nEvil@Example.com\r\n\nlast";
        assert!(contains_line(list, b"bad@example.com"));
        assert!(!contains_line(list, b"BAD@example.com"));
        assert!(!contains_line(list, b"bad@example"));
        assert!(!contains_line(list, b"Evil@Example.com"));
        assert!(contains_line(list, b"Evil@Example.com\r"));
        assert!(contains_line(list, b""));
        assert!(contains_line(list, b"last"));
        assert!(!contains_line(b"a\n", b""));
        assert!(contains_line(b"\n", b""));
        assert!(!contains_line(b"", b""));
    }
}

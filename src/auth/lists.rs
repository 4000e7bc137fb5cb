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

#[cfg(test)]
mod tests {
    use super::*;

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

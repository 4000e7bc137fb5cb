//! log_ftp_protocol: every command and every reply line, as vsftpd's `ftpcmdio.c` logs them.
//! A command is logged with its verb in capitals (`USER alice`), the password of PASS never:
//! vsftpd writes the literal `PASS <password>`. A reply is logged line by line, without its
//! CRLF. Pure functions; the lines go out through the session's log.

/// The text of a command line's log entry.
pub fn command_text(line: &[u8]) -> Vec<u8> {
    let mut end = line.len();
    while end > 0 && line.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    let line = line.get(..end).unwrap_or_default();
    let (verb, arg) = match line.iter().position(|&b| b == b' ') {
        Some(i) => (
            line.get(..i).unwrap_or_default(),
            line.get(i + 1..).unwrap_or_default(),
        ),
        None => (line, &b""[..]),
    };
    if verb.eq_ignore_ascii_case(b"PASS") {
        return b"PASS <password>".to_vec();
    }
    let mut out = verb.to_ascii_uppercase();
    if !arg.is_empty() {
        out.push(b' ');
        out.extend_from_slice(arg);
    }
    out
}

/// The lines of the reply bytes `sent` (one or more CRLF-terminated lines).
pub fn reply_lines(sent: &[u8]) -> impl Iterator<Item = &[u8]> {
    sent.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(command_text(b"user alice"), b"USER alice");
        assert_eq!(command_text(b"noop"), b"NOOP");
        assert_eq!(command_text(b"PASS s3cret"), b"PASS <password>");
        assert_eq!(command_text(b"pass s3cret word"), b"PASS <password>");
        assert_eq!(command_text(b"Pass"), b"PASS <password>");
        assert_eq!(command_text(b"RETR  two  spaces\r"), b"RETR  two  spaces");
        assert_eq!(command_text(b""), b"");
    }

    #[test]
    fn replies() {
        let lines: Vec<&[u8]> = reply_lines(b"211-Features:\r\n EPRT\r\n211 End\r\n").collect();
        assert_eq!(lines, [&b"211-Features:"[..], b" EPRT", b"211 End"]);
        assert_eq!(reply_lines(b"").count(), 0);
    }
}

//! vsftpd's own log format (vsftpd.log, and the text of its syslog lines), as vsftpd 3.0.5's
//! `logging.c` builds it, field by field:
//!
//! ```text
//! Thu Sep  8 00:39:49 2016 [pid 4242] [alice] OK DOWNLOAD: Client "192.0.2.7", "/pub/f", 1024 bytes, 512.00Kbyte/sec
//! `-------- date -------´ `- pid --´ `user´ `outcome + kind´      client      `- text ´ `- bytes -´ `---- rate ----´
//! ```
//!
//! - the date (`%a %b %e %H:%M:%S %Y`, local time) and `[pid N]` only in the file: a syslog
//!   line starts at `[user]` (the syslog header carries the time and the pid);
//! - `[user]` once the session has a name: the USER argument before login, then the login
//!   name (ftp_username for an anonymous login, the virtual name for a guest);
//! - `OK`/`FAIL` for everything but CONNECT and the protocol lines;
//! - `, anon password "…"` on an anonymous login;
//! - `, "text"` when there is one: the path (two paths, or path and mode, for RENAME and
//!   CHMOD), the command, the reply;
//! - `, N bytes` when N is not 0 and `, R.RRKbyte/sec` for a transfer (neither on the protocol
//!   lines).
//!
//! Pure functions: the bytes are made here and sanitised by the caller (`super::sanitize`).

/// What a line reports (vsftpd's `EVSFLogEntryType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Download,
    Upload,
    Mkdir,
    Login,
    Delete,
    Rename,
    Rmdir,
    Chmod,
    Connect,
    FtpCommand,
    FtpResponse,
}

impl Kind {
    /// The word in the line.
    fn word(self) -> &'static [u8] {
        match self {
            Kind::Download => b"DOWNLOAD",
            Kind::Upload => b"UPLOAD",
            Kind::Mkdir => b"MKDIR",
            Kind::Login => b"LOGIN",
            Kind::Delete => b"DELETE",
            Kind::Rename => b"RENAME",
            Kind::Rmdir => b"RMDIR",
            Kind::Chmod => b"CHMOD",
            Kind::Connect => b"CONNECT",
            Kind::FtpCommand => b"FTP command",
            Kind::FtpResponse => b"FTP response",
        }
    }

    /// Lines with an outcome (`OK`/`FAIL`).
    fn has_outcome(self) -> bool {
        !matches!(self, Kind::Connect | Kind::FtpCommand | Kind::FtpResponse)
    }

    fn is_protocol(self) -> bool {
        matches!(self, Kind::FtpCommand | Kind::FtpResponse)
    }

    /// Uploads and downloads: they carry a rate, and have an xferlog line too.
    pub fn is_transfer(self) -> bool {
        matches!(self, Kind::Download | Kind::Upload)
    }
}

/// One line's fields.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub kind: Kind,
    pub ok: bool,
    /// The session's name so far, if any.
    pub user: Option<&'a [u8]>,
    /// The client's address as vsftpd prints it (`::ffff:a.b.c.d` on an IPv6 listener).
    pub client: &'a str,
    /// An anonymous login's password (only on LOGIN lines).
    pub anon_password: Option<&'a [u8]>,
    /// The path, command or reply; empty: none.
    pub text: &'a [u8],
    pub bytes: u64,
    /// A transfer's rate in KiB per second.
    pub kbyte_rate: f64,
}

/// The file form's header: the date, already formatted, and the writer's pid.
pub struct Header<'a> {
    pub date: &'a [u8],
    pub pid: u32,
}

/// The line, without its newline; `header` for vsftpd.log, `None` for syslog.
pub fn line(e: &Entry<'_>, header: Option<&Header<'_>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + e.text.len());
    if let Some(h) = header {
        out.extend_from_slice(h.date);
        out.extend_from_slice(format!(" [pid {}] ", h.pid).as_bytes());
    }
    if let Some(user) = e.user.filter(|u| !u.is_empty()) {
        out.push(b'[');
        out.extend_from_slice(user);
        out.extend_from_slice(b"] ");
    }
    if e.kind.has_outcome() {
        out.extend_from_slice(if e.ok { b"OK " } else { b"FAIL " });
    }
    out.extend_from_slice(e.kind.word());
    out.extend_from_slice(b": Client \"");
    out.extend_from_slice(e.client.as_bytes());
    out.push(b'"');
    if let (Kind::Login, Some(pw)) = (e.kind, e.anon_password) {
        out.extend_from_slice(b", anon password \"");
        out.extend_from_slice(pw);
        out.push(b'"');
    }
    if !e.text.is_empty() {
        out.extend_from_slice(b", \"");
        out.extend_from_slice(e.text);
        out.push(b'"');
    }
    if !e.kind.is_protocol() {
        if e.bytes != 0 {
            out.extend_from_slice(format!(", {} bytes", e.bytes).as_bytes());
        }
        if e.kind.is_transfer() {
            out.extend_from_slice(format!(", {:.2}Kbyte/sec", e.kbyte_rate).as_bytes());
        }
    }
    out
}

/// vsftpd's rate: bytes over the seconds the transfer took (0.1 when the clock saw none),
/// in KiB per second.
pub fn kbyte_rate(bytes: u64, seconds: f64) -> f64 {
    let seconds = if seconds > 0.0 { seconds } else { 0.1 };
    // Precision lost above 2^53 bytes is far below the two decimals printed.
    #[allow(clippy::cast_precision_loss)]
    let bytes = bytes as f64;
    bytes / seconds / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: Kind, ok: bool) -> Entry<'static> {
        Entry {
            kind,
            ok,
            user: None,
            client: "192.0.2.7",
            anon_password: None,
            text: b"",
            bytes: 0,
            kbyte_rate: 0.0,
        }
    }

    fn file(e: &Entry<'_>, date: &str, pid: u32) -> String {
        let h = Header {
            date: date.as_bytes(),
            pid,
        };
        String::from_utf8(line(e, Some(&h))).unwrap()
    }

    // The lines of fail2ban's test log and of vsftpd's users' reports, rebuilt field by field.
    #[test]
    fn golden_lines() {
        let e = Entry {
            user: Some(b"anonymous"),
            client: "64.106.46.98",
            ..entry(Kind::Login, false)
        };
        assert_eq!(
            file(&e, "Fri Jan 19 12:20:33 2007", 27202),
            "Fri Jan 19 12:20:33 2007 [pid 27202] [anonymous] FAIL LOGIN: Client \"64.106.46.98\""
        );
        let e = Entry {
            client: "172.17.0.1",
            ..entry(Kind::Connect, true)
        };
        assert_eq!(
            file(&e, "Fri Nov  6 23:05:07 2020", 32),
            "Fri Nov  6 23:05:07 2020 [pid 32] CONNECT: Client \"172.17.0.1\""
        );
        let e = Entry {
            user: Some(b"ftp"),
            client: "172.17.0.1",
            anon_password: Some(b"ftp@example.com"),
            ..entry(Kind::Login, true)
        };
        assert_eq!(
            file(&e, "Fri Nov  6 23:05:07 2020", 31),
            "Fri Nov  6 23:05:07 2020 [pid 31] [ftp] OK LOGIN: Client \"172.17.0.1\", anon password \"ftp@example.com\""
        );
        let e = Entry {
            user: Some(b"guest"),
            client: "::ffff:192.0.2.1",
            text: b"User is not in the allow user list.",
            ..entry(Kind::Login, false)
        };
        assert_eq!(
            String::from_utf8(line(&e, None)).unwrap(),
            "[guest] FAIL LOGIN: Client \"::ffff:192.0.2.1\", \"User is not in the allow user list.\""
        );
    }

    #[test]
    fn transfers_and_file_operations() {
        let e = Entry {
            user: Some(b"alice"),
            text: b"/pub/file.iso",
            bytes: 1_048_576,
            kbyte_rate: kbyte_rate(1_048_576, 2.0),
            ..entry(Kind::Download, true)
        };
        assert_eq!(
            file(&e, "Mon Nov 24 10:00:01 2026", 7),
            "Mon Nov 24 10:00:01 2026 [pid 7] [alice] OK DOWNLOAD: Client \"192.0.2.7\", \"/pub/file.iso\", 1048576 bytes, 512.00Kbyte/sec"
        );
        // A transfer that moved nothing: no byte count, but a rate.
        let e = Entry {
            user: Some(b"alice"),
            text: b"/missing",
            ..entry(Kind::Download, false)
        };
        assert_eq!(
            String::from_utf8(line(&e, None)).unwrap(),
            "[alice] FAIL DOWNLOAD: Client \"192.0.2.7\", \"/missing\", 0.00Kbyte/sec"
        );
        for (kind, word) in [
            (Kind::Mkdir, "MKDIR"),
            (Kind::Rmdir, "RMDIR"),
            (Kind::Delete, "DELETE"),
        ] {
            let e = Entry {
                user: Some(b"bob"),
                text: b"/d",
                ..entry(kind, true)
            };
            assert_eq!(
                String::from_utf8(line(&e, None)).unwrap(),
                format!("[bob] OK {word}: Client \"192.0.2.7\", \"/d\"")
            );
        }
        let e = Entry {
            user: Some(b"bob"),
            text: b"/a /b",
            ..entry(Kind::Rename, true)
        };
        assert_eq!(
            String::from_utf8(line(&e, None)).unwrap(),
            "[bob] OK RENAME: Client \"192.0.2.7\", \"/a /b\""
        );
        let e = Entry {
            user: Some(b"bob"),
            text: b"/a 755",
            ..entry(Kind::Chmod, false)
        };
        assert_eq!(
            String::from_utf8(line(&e, None)).unwrap(),
            "[bob] FAIL CHMOD: Client \"192.0.2.7\", \"/a 755\""
        );
    }

    #[test]
    fn protocol_lines() {
        let e = Entry {
            text: b"USER alice",
            ..entry(Kind::FtpCommand, true)
        };
        assert_eq!(
            file(&e, "Thu Sep  8 00:39:49 2016", 1),
            "Thu Sep  8 00:39:49 2016 [pid 1] FTP command: Client \"192.0.2.7\", \"USER alice\""
        );
        let e = Entry {
            user: Some(b"alice"),
            text: b"331 Please specify the password.",
            bytes: 99,
            ..entry(Kind::FtpResponse, true)
        };
        assert_eq!(
            String::from_utf8(line(&e, None)).unwrap(),
            "[alice] FTP response: Client \"192.0.2.7\", \"331 Please specify the password.\""
        );
    }

    #[test]
    fn rates() {
        assert_eq!(format!("{:.2}", kbyte_rate(0, 0.0)), "0.00");
        assert_eq!(format!("{:.2}", kbyte_rate(1024, 0.0)), "10.00");
        assert_eq!(format!("{:.2}", kbyte_rate(1536, 1.0)), "1.50");
        assert_eq!(format!("{:.2}", kbyte_rate(1000, 3.0)), "0.33");
    }
}

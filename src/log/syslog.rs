//! syslog: the vsftpd-format lines (and, with log_die, the reasons a session dies) sent to the
//! local syslog socket as vsftpd's `openlog("vsftpd", LOG_PID, LOG_FTP)` + `syslog()` send
//! them through glibc: one datagram per line,
//!
//! ```text
//! <94>Dec  5 08:24:42 vsftpd[4242]: [alice] OK LOGIN: Client "192.0.2.7"
//! `PRI´`- timestamp ---´ `ident´`pid´ `- the line, without vsftpd.log's date and [pid] ---´
//! ```
//!
//! PRI is facility FTP (11) with LOG_INFO, or LOG_WARNING for a failed login and for the
//! daemon's own reports. There is no host name field (RFC 3164 allows none from a local
//! sender): with one, journald would take the host name for the identifier.
//!
//! Why not the `syslog` crate (the design card's first choice): it was evaluated (7.0) and
//! would work after chroot (it connects a datagram socket up front) and under seccomp (one
//! sendto per line), but its RFC 3164 timestamp is UTC, zero-padded (`Dec 05`) rather than
//! local and space-padded as glibc's and the RFC's, it parses a format description and
//! unwraps on every message, and it brings eight crates (time and its helpers, log, hostname)
//! into the daemon for what is one `format!` and one `send` here. The socket is std's
//! `UnixDatagram`, connected before the session's processes confine themselves, so nothing
//! inside a jail is ever opened and no socket(2) is needed afterwards.

use std::io::{self, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::Path;

/// LOG_FTP.
const FACILITY_FTP: u8 = 11 << 3;

/// The severities vsftpd uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Warning = 4,
    Info = 6,
}

/// The message as glibc's syslog(3) frames it for the local socket: `<PRI>` then the
/// timestamp (`%b %e %H:%M:%S`, local time), then `vsftpd[pid]: ` and the text.
pub fn datagram(severity: Severity, stamp: &[u8], pid: u32, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 + text.len());
    out.extend_from_slice(format!("<{}>", FACILITY_FTP | severity as u8).as_bytes());
    out.extend_from_slice(stamp);
    out.extend_from_slice(format!(" vsftpd[{pid}]: ").as_bytes());
    out.extend_from_slice(text);
    out
}

/// A connection to the local syslog socket, made before any jail.
pub enum Syslog {
    Datagram(UnixDatagram),
    /// A socket of the stream kind (some syslog daemons listen so): each message ends with a
    /// NUL byte, as glibc sends it there.
    Stream(UnixStream),
}

impl std::os::fd::AsFd for Syslog {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            Syslog::Datagram(s) => s.as_fd(),
            Syslog::Stream(s) => s.as_fd(),
        }
    }
}

impl Syslog {
    /// Connects to `path` (a datagram socket, else a stream one, as glibc tries).
    pub fn connect(path: &Path) -> io::Result<Syslog> {
        let sock = UnixDatagram::unbound()?;
        match sock.connect(path) {
            Ok(()) => Ok(Syslog::Datagram(sock)),
            Err(e) if e.raw_os_error() == Some(PROTOTYPE_ERRNO) => {
                UnixStream::connect(path).map(Syslog::Stream)
            }
            Err(e) => Err(e),
        }
    }

    /// Sends one message.
    pub fn send(&self, message: &[u8]) -> io::Result<()> {
        match self {
            Syslog::Datagram(s) => s.send(message).map(drop),
            Syslog::Stream(s) => {
                let mut framed = Vec::with_capacity(message.len() + 1);
                framed.extend_from_slice(message);
                framed.push(0);
                let mut w: &UnixStream = s;
                w.write_all(&framed)
            }
        }
    }
}

/// EPROTOTYPE: connecting a datagram socket to a stream socket's path. (Linux's number; the
/// daemon runs on Linux only.)
const PROTOTYPE_ERRNO: i32 = 91;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert_eq!(
            datagram(
                Severity::Info,
                b"Dec  5 08:24:42",
                4242,
                b"[alice] OK LOGIN: Client \"192.0.2.7\""
            ),
            b"<94>Dec  5 08:24:42 vsftpd[4242]: [alice] OK LOGIN: Client \"192.0.2.7\"".to_vec()
        );
        assert_eq!(
            datagram(Severity::Warning, b"Jan 15 00:00:00", 1, b"x"),
            b"<92>Jan 15 00:00:00 vsftpd[1]: x".to_vec()
        );
    }

    #[test]
    fn sends_to_a_datagram_socket() {
        let dir = std::env::temp_dir().join(format!("vsftpd-rs-syslog-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let path = dir.join("log.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        let s = Syslog::connect(&path).unwrap();
        s.send(b"<94>hello").unwrap();
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<94>hello");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(Syslog::connect(&dir.join("none")).is_err());
    }
}

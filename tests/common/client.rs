//! A small raw FTP client over std::net::TcpStream that keeps the exact reply bytes.
//!
//! Every read has a timeout, so a broken server fails the test instead of hanging it; a server
//! that closes the connection gives an `Err` from the `try_*` methods (the plain ones panic with
//! the context).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Read timeout on the control connection.
pub const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);
/// Read timeout on data connections.
pub const DATA_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest reply line we accept from a server (a hostile one must not exhaust the test).
const MAX_REPLY_LINE: usize = 64 * 1024;
/// Most lines in one multi-line reply.
const MAX_REPLY_LINES: usize = 100_000;

/// One complete FTP reply.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// Every line, without its line ending (lossy UTF-8).
    pub lines: Vec<String>,
    /// The exact bytes received, line endings included.
    pub raw: Vec<u8>,
}

impl Reply {
    /// The last line without its `NNN ` prefix: `Login successful.`.
    pub fn text(&self) -> &str {
        let last = self.line();
        last.get(4..).unwrap_or("")
    }

    /// The last line, complete: `230 Login successful.`.
    pub fn line(&self) -> &str {
        self.lines.last().map(String::as_str).unwrap_or("")
    }

    /// The raw bytes as (lossy) text.
    pub fn raw_str(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// True when the reply is exactly `line` + CRLF.
    pub fn is(&self, line: &str) -> bool {
        self.raw == format!("{line}\r\n").into_bytes()
    }

    /// Fails the test unless the reply is exactly `line` followed by CRLF.
    #[track_caller]
    pub fn assert_is(&self, line: &str) {
        assert!(
            self.is(line),
            "expected reply {:?}, got {:?}",
            format!("{line}\r\n"),
            self.raw_str()
        );
    }

    /// Fails the test unless the reply has this code.
    #[track_caller]
    pub fn assert_code(&self, code: u16) {
        assert_eq!(self.code, code, "unexpected reply {:?}", self.raw_str());
    }

    /// 1xx.
    pub fn is_preliminary(&self) -> bool {
        (100..200).contains(&self.code)
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reply({:?})", self.raw_str())
    }
}

/// The result of a command that uses a data connection.
#[derive(Debug)]
pub struct Transfer {
    /// The first reply (150 on success, or the error).
    pub start: Reply,
    /// Everything read from the data connection (empty when `start` was an error).
    pub data: Vec<u8>,
    /// The final reply (226), when `start` was preliminary and the server sent one.
    pub end: Option<Reply>,
    /// Why there is no final reply after a preliminary one (closed, timed out, …).
    pub end_error: Option<String>,
}

impl Transfer {
    /// The data as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// A raw FTP control connection.
pub struct FtpClient {
    stream: TcpStream,
    /// Bytes received and not yet consumed.
    pending: Vec<u8>,
    timeout: Duration,
}

fn closed_error(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("server closed the connection ({what})"),
    )
}

impl FtpClient {
    /// Connects and reads the greeting; panics on any I/O error.
    #[track_caller]
    pub fn connect(addr: SocketAddr) -> (FtpClient, Reply) {
        match Self::try_connect(addr) {
            Ok(pair) => pair,
            Err(e) => panic!("connecting to {addr}: {e}"),
        }
    }

    /// Connects (5 s timeout) and reads the greeting.
    pub fn try_connect(addr: SocketAddr) -> io::Result<(FtpClient, Reply)> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        Self::from_stream(stream)
    }

    /// Wraps an already connected stream and reads the greeting.
    pub fn from_stream(stream: TcpStream) -> io::Result<(FtpClient, Reply)> {
        let mut c = Self::wrap(stream)?;
        let greeting = c.read_reply()?;
        Ok((c, greeting))
    }

    /// Wraps an already connected stream without reading anything.
    pub fn wrap(stream: TcpStream) -> io::Result<FtpClient> {
        stream.set_read_timeout(Some(CONTROL_TIMEOUT))?;
        stream.set_write_timeout(Some(CONTROL_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(FtpClient {
            stream,
            pending: Vec::new(),
            timeout: CONTROL_TIMEOUT,
        })
    }

    /// Changes the control read timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        let _ = self.stream.set_read_timeout(Some(timeout));
    }

    /// The underlying stream (e.g. to clone it for a writer thread).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.stream.peer_addr().expect("peer_addr")
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("local_addr")
    }

    /// Sends bytes exactly as given.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Sends `line` + CRLF.
    pub fn send(&mut self, line: &str) -> io::Result<()> {
        self.send_raw(format!("{line}\r\n").as_bytes())
    }

    /// Sends `line` + CRLF and reads one complete reply; panics if the server closed.
    #[track_caller]
    pub fn cmd(&mut self, line: &str) -> Reply {
        match self.try_cmd(line) {
            Ok(r) => r,
            Err(e) => panic!("command {line:?}: {e}"),
        }
    }

    /// Sends `line` + CRLF and reads one complete reply.
    pub fn try_cmd(&mut self, line: &str) -> io::Result<Reply> {
        self.send(line)?;
        self.read_reply()
    }

    /// Sends raw bytes (`CRLF` appended) and reads one complete reply.
    pub fn cmd_bytes(&mut self, line: &[u8]) -> io::Result<Reply> {
        let mut buf = line.to_vec();
        buf.extend_from_slice(b"\r\n");
        self.send_raw(&buf)?;
        self.read_reply()
    }

    /// Reads more bytes into `pending`; Ok(false) on EOF.
    fn fill(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "no complete reply within {:?} (received so far: {:?})",
                            self.timeout,
                            String::from_utf8_lossy(&self.pending)
                        ),
                    ))
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads one line including its `\n`.
    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(pos) = self.pending.iter().position(|&b| b == b'\n') {
                let rest = self.pending.split_off(pos + 1);
                return Ok(std::mem::replace(&mut self.pending, rest));
            }
            if self.pending.len() > MAX_REPLY_LINE {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "reply line longer than 64 KiB",
                ));
            }
            if !self.fill()? {
                return Err(closed_error(&format!(
                    "partial line {:?}",
                    String::from_utf8_lossy(&self.pending)
                )));
            }
        }
    }

    /// Reads one complete reply, multi-line (`NNN-` … `NNN `) included.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let first = self.read_line()?;
        let code = parse_code(&first).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not an FTP reply: {:?}", String::from_utf8_lossy(&first)),
            )
        })?;
        let mut raw = first.clone();
        let mut lines = vec![strip_eol(&first)];
        if first.get(3) == Some(&b'-') {
            let end_prefix = format!("{code:03} ");
            loop {
                if lines.len() > MAX_REPLY_LINES {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "multi-line reply too long",
                    ));
                }
                let line = self.read_line()?;
                raw.extend_from_slice(&line);
                let done = line.starts_with(end_prefix.as_bytes());
                lines.push(strip_eol(&line));
                if done {
                    break;
                }
            }
        }
        Ok(Reply { code, lines, raw })
    }

    /// Waits until the server closes the connection; returns whatever bytes arrived first.
    /// A reset counts as closed. Err on timeout.
    pub fn wait_closed(&mut self, timeout: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut got = std::mem::take(&mut self.pending);
        let mut buf = [0u8; 16 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "connection still open after {timeout:?} (received {:?})",
                        String::from_utf8_lossy(&got)
                    ),
                ));
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.len() > MAX_REPLY_LINE {
                        got.drain(..got.len() - MAX_REPLY_LINE);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    break
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        let _ = self.stream.set_read_timeout(Some(self.timeout));
        Ok(got)
    }

    /// Fails the test unless the server closes the connection within 10 s; returns any bytes
    /// that arrived before the close.
    #[track_caller]
    pub fn assert_closed(&mut self) -> Vec<u8> {
        match self.wait_closed(Duration::from_secs(10)) {
            Ok(b) => b,
            Err(e) => panic!("expected the server to close the connection: {e}"),
        }
    }

    /// `USER anonymous` → `331 Please specify the password.`, `PASS` → `230 Login successful.`.
    #[track_caller]
    pub fn login_anonymous(&mut self) {
        self.cmd("USER anonymous")
            .assert_is("331 Please specify the password.");
        self.cmd("PASS test@example.com")
            .assert_is("230 Login successful.");
    }

    /// PASV; parses `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).`.
    #[track_caller]
    pub fn pasv(&mut self) -> SocketAddr {
        let r = self.cmd("PASV");
        match parse_pasv(&r) {
            Some(a) => a,
            None => panic!("bad PASV reply {:?}", r.raw_str()),
        }
    }

    /// EPSV; parses `229 Entering Extended Passive Mode (|||port|)`.
    #[track_caller]
    pub fn epsv(&mut self) -> u16 {
        let r = self.cmd("EPSV");
        match parse_epsv(&r) {
            Some(p) => p,
            None => panic!("bad EPSV reply {:?}", r.raw_str()),
        }
    }

    /// Opens a passive data connection: PASV on an IPv4 control connection (v4-mapped
    /// included), EPSV on IPv6.
    #[track_caller]
    pub fn open_data(&mut self) -> TcpStream {
        let peer = self.peer_addr();
        let v4 = match peer.ip() {
            IpAddr::V4(_) => true,
            IpAddr::V6(a) => a.to_ipv4_mapped().is_some(),
        };
        let addr = if v4 {
            self.pasv()
        } else {
            SocketAddr::new(peer.ip(), self.epsv())
        };
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connecting the data connection to {addr}: {e}"));
        s.set_read_timeout(Some(DATA_TIMEOUT)).unwrap();
        s
    }

    /// Opens a passive data connection, sends `cmd`, reads the data and both replies.
    #[track_caller]
    pub fn transfer(&mut self, cmd: &str) -> Transfer {
        self.transfer_bytes(cmd.as_bytes())
    }

    /// As [`FtpClient::transfer`], with a command line given as raw bytes (no CRLF).
    #[track_caller]
    pub fn transfer_bytes(&mut self, cmd: &[u8]) -> Transfer {
        let mut data = self.open_data();
        let start = match self.cmd_bytes(cmd) {
            Ok(r) => r,
            Err(e) => panic!("{:?}: {e}", String::from_utf8_lossy(cmd)),
        };
        if !start.is_preliminary() {
            return Transfer {
                start,
                data: Vec::new(),
                end: None,
                end_error: None,
            };
        }
        let mut bytes = Vec::new();
        if let Err(e) = data.read_to_end(&mut bytes) {
            panic!(
                "reading the data connection of {:?} after {} bytes: {e}",
                String::from_utf8_lossy(cmd),
                bytes.len()
            );
        }
        drop(data);
        let (end, end_error) = match self.read_reply() {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Transfer {
            start,
            data: bytes,
            end,
            end_error,
        }
    }

    /// Opens a passive data connection, sends `cmd` (STOR, APPE, STOU …), writes `data` and
    /// closes the data connection: (the first reply, the final reply if the upload started).
    #[track_caller]
    pub fn upload(&mut self, cmd: &str, data: &[u8]) -> (Reply, Option<Reply>) {
        let mut conn = self.open_data();
        let start = self.cmd(cmd);
        if !start.is_preliminary() {
            return (start, None);
        }
        conn.write_all(data)
            .unwrap_or_else(|e| panic!("{cmd}: writing the data connection: {e}"));
        drop(conn);
        let end = self
            .read_reply()
            .unwrap_or_else(|e| panic!("{cmd}: no final reply: {e}"));
        (start, Some(end))
    }

    /// TYPE I, then RETR `name` over PASV/EPSV: (the 150 reply, the bytes, the 226 reply).
    /// Panics unless the transfer starts (1xx) and a final reply arrives.
    #[track_caller]
    pub fn retr(&mut self, name: &str) -> (Reply, Vec<u8>, Reply) {
        self.cmd("TYPE I")
            .assert_is("200 Switching to Binary mode.");
        let t = self.transfer(&format!("RETR {name}"));
        assert!(
            t.start.is_preliminary(),
            "RETR {name}: {:?}",
            t.start.raw_str()
        );
        let end = match t.end {
            Some(r) => r,
            None => panic!(
                "RETR {name}: no final reply after {} bytes of data: {}",
                t.data.len(),
                t.end_error.unwrap_or_default()
            ),
        };
        (t.start, t.data, end)
    }

    /// LIST `arg` ("" for none); asserts vsftpd's 150 and 226 texts; returns the bytes.
    #[track_caller]
    pub fn list(&mut self, arg: &str) -> Vec<u8> {
        self.listing("LIST", arg)
    }

    /// NLST `arg` ("" for none); asserts vsftpd's 150 and 226 texts; returns the bytes.
    #[track_caller]
    pub fn nlst(&mut self, arg: &str) -> Vec<u8> {
        self.listing("NLST", arg)
    }

    #[track_caller]
    fn listing(&mut self, verb: &str, arg: &str) -> Vec<u8> {
        let line = if arg.is_empty() {
            verb.to_string()
        } else {
            format!("{verb} {arg}")
        };
        let t = self.transfer(&line);
        t.start.assert_is("150 Here comes the directory listing.");
        match &t.end {
            Some(end) => end.assert_is("226 Directory send OK."),
            None => panic!(
                "{line}: no final reply after {} bytes of data: {}",
                t.data.len(),
                t.end_error.as_deref().unwrap_or_default()
            ),
        }
        t.data
    }

    /// Closes both directions now.
    pub fn shutdown(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

fn parse_code(line: &[u8]) -> Option<u16> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    match line.get(3) {
        Some(b' ') | Some(b'-') | Some(b'\r') | Some(b'\n') => {}
        _ => return None,
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn strip_eol(line: &[u8]) -> String {
    let mut l = line;
    if let Some(x) = l.strip_suffix(b"\n") {
        l = x;
    }
    if let Some(x) = l.strip_suffix(b"\r") {
        l = x;
    }
    String::from_utf8_lossy(l).into_owned()
}

/// Parses a 227 reply's `(h1,h2,h3,h4,p1,p2)`.
pub fn parse_pasv(r: &Reply) -> Option<SocketAddr> {
    if r.code != 227 {
        return None;
    }
    let text = r.line();
    let open = text.find('(')?;
    let close = text[open..].find(')')? + open;
    let nums: Vec<u8> = text[open + 1..close]
        .split(',')
        .map(|n| n.trim().parse::<u8>())
        .collect::<Result<_, _>>()
        .ok()?;
    if nums.len() != 6 {
        return None;
    }
    let ip = Ipv4Addr::new(nums[0], nums[1], nums[2], nums[3]);
    let port = u16::from(nums[4]) * 256 + u16::from(nums[5]);
    Some(SocketAddr::new(IpAddr::V4(ip), port))
}

/// Parses a 229 reply's `(|||port|)`.
pub fn parse_epsv(r: &Reply) -> Option<u16> {
    if r.code != 229 {
        return None;
    }
    let text = r.line();
    let start = text.find("(|||")? + 4;
    let end = text[start..].find("|)")? + start;
    text[start..end].parse().ok()
}

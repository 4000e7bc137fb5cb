//! The control connection: bounded line reads and replies.

use std::collections::VecDeque;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::data::transfer::{AbortWatch, ControlEvent};
use crate::limits::{MAX_COMMAND_LINE, MAX_PENDING_COMMANDS, PARTIAL_LINE_RECHECK};
use crate::log::SessionLog;
use crate::proto::command::{parse, Command};
use crate::proto::line::{LineError, LineReader};
use crate::proto::reply;
use crate::sys::net;
use crate::tls::{self, ControlTls, Secure};

/// How a read of the next command ended, other than with a line.
pub enum Ended {
    /// The client closed the connection (or it broke).
    Closed,
    /// The line was longer than the limit; the reply has been sent.
    TooLong,
    /// No command within idle_session_timeout; the reply has been sent.
    Timeout,
}

pub struct Control {
    /// The client's socket (its addresses; the connection itself unless `tls` or `relay`).
    stream: TcpStream,
    /// After AUTH TLS, in the process that did the handshake.
    tls: Option<Box<ControlTls>>,
    /// After an encrypted login (two-process model): plain text to and from the relay.
    relay: Option<UnixStream>,
    /// What AUTH, PBSZ and PROT set.
    pub secure: Secure,
    reader: LineReader,
    exact: bool,
    /// Commands read during a transfer (while looking for ABOR), answered after it.
    pending: VecDeque<Vec<u8>>,
    /// While watching for ABOR: how far the control connection is worth looking at.
    watch: Watch,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// The session's log, as this process writes it: every command and reply with
    /// log_ftp_protocol, and the session's operations (`crate::log`).
    pub log: SessionLog,
}

/// The state of the ABOR watch during one transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Watch {
    /// Poll the control connection and read each complete line.
    On,
    /// A line has begun but not ended: look again at this instant (polling would only report
    /// the same bytes again and again).
    PartialUntil(Instant),
    /// Not any more during this transfer: the client closed, sent an endless line, or queued
    /// too many commands; they are dealt with after the transfer.
    Off,
}

impl Control {
    /// `peer`: the client's address (behind a balancer, from its PROXY header, not the
    /// connection's peer).
    pub fn new(stream: TcpStream, peer: SocketAddr) -> std::io::Result<Control> {
        let local = stream.local_addr()?;
        let _ = stream.set_nodelay(true);
        // As vsftpd: urgent data (Telnet synch, ABOR sent with MSG_OOB) arrives inline.
        let _ = net::set_oob_inline(stream.as_fd());
        Ok(Control {
            stream,
            tls: None,
            relay: None,
            secure: Secure::default(),
            reader: LineReader::new(),
            exact: false,
            pending: VecDeque::new(),
            watch: Watch::Off,
            log: SessionLog::disabled(peer.ip()),
            peer,
            local,
        })
    }

    /// The idle timeout: a read that waits longer ends the session with `421 Timeout.`.
    pub fn set_idle_timeout(&self, secs: u32) {
        let t = (secs > 0).then(|| Duration::from_secs(u64::from(secs)));
        let _ = self.stream.set_read_timeout(t);
        if let Some(r) = &self.relay {
            let _ = r.set_read_timeout(t);
        }
    }

    /// AUTH TLS (or implicit FTPS, `reply` false): the handshake on the control connection.
    /// `Err` is the reason it failed; the session must end.
    pub fn start_tls(
        &mut self,
        config: std::sync::Arc<rustls::ServerConfig>,
        c: &crate::config::Config,
        reply: bool,
    ) -> Result<(), String> {
        if reply && self.reply(reply::AUTH_OK).is_err() {
            return Err("connection lost".into());
        }
        // Whatever came in clear after AUTH must never pass for encrypted commands (the
        // STARTTLS command injection of CVE-2011-0411): it is dropped, not read as the
        // first commands of the TLS session.
        let _ = self.reader.take_buffered();
        self.pending.clear();
        let mut sock = self.stream.try_clone().map_err(|e| e.to_string())?;
        // A client that never speaks TLS gets as long as it would have for a command.
        let timeout = self.stream.read_timeout().ok().flatten();
        let conn = tls::accept(config, &mut sock, timeout)?;
        tls::debug(c, "control connection", &conn);
        self.tls = Some(Box::new(rustls::StreamOwned::new(conn, sock)));
        self.secure.control = true;
        Ok(())
    }

    /// The encrypted connection and the bytes read past the last command, for the relay;
    /// `None` when the connection is not encrypted here.
    pub fn take_tls(&mut self) -> Option<(ControlTls, Vec<u8>)> {
        let tls = self.tls.take()?;
        Some((*tls, self.reader.take_buffered()))
    }

    /// From now on the control connection is the relay's socket pair (see `crate::tls::relay`).
    pub fn use_relay(&mut self, pipe: UnixStream, secure: Secure) {
        // The idle timeout, for reads and for writes to a relay that does not take them.
        let t = self.stream.read_timeout().ok().flatten();
        let _ = pipe.set_read_timeout(t);
        let _ = pipe.set_write_timeout(t);
        self.relay = Some(pipe);
        self.secure = secure;
    }

    /// The fd that carries the client's commands in this process.
    fn command_fd(&self) -> BorrowedFd<'_> {
        match &self.relay {
            Some(r) => r.as_fd(),
            None => self.stream.as_fd(),
        }
    }

    /// Sends raw reply bytes; a write failure means the client is gone.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Ended> {
        self.log.reply(bytes);
        let sent = if let Some(r) = &mut self.relay {
            r.write_all(bytes)
        } else if let Some(t) = &mut self.tls {
            t.write_all(bytes).and_then(|()| t.flush())
        } else {
            self.stream.write_all(bytes)
        };
        sent.map_err(|_| Ended::Closed)
    }

    /// Sends one single-line reply from the reply table.
    pub fn reply(&mut self, r: reply::Reply) -> Result<(), Ended> {
        self.send(&reply::encode(r))
    }

    /// Reads no byte beyond the current line (peek, then consume through the LF), so that a
    /// process that hands the connection on leaves the client's next commands unread.
    pub fn set_exact_reads(&mut self, exact: bool) {
        self.exact = exact;
    }

    /// Reads the next command line (first those read while a transfer was running).
    pub fn read_line(&mut self) -> Result<Vec<u8>, Ended> {
        if let Some(line) = self.pending.pop_front() {
            return Ok(line);
        }
        self.read_line_now(self.exact)
    }

    /// Reads one line from the connection; `exact`: no byte past its LF.
    fn read_line_now(&mut self, exact: bool) -> Result<Vec<u8>, Ended> {
        let result = if let Some(r) = &mut self.relay {
            self.reader.read_line(r)
        } else if let Some(t) = &mut self.tls {
            self.reader.read_line(&mut **t)
        } else if exact {
            self.reader.read_line(&mut ExactLines(&self.stream))
        } else {
            self.reader.read_line(&mut self.stream)
        };
        match result {
            Ok(line) => {
                self.log.command(&line);
                Ok(line)
            }
            Err(LineError::TooLong) => {
                let _ = self.reply(reply::LINE_TOO_LONG);
                Err(Ended::TooLong)
            }
            Err(LineError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                let _ = self.reply(reply::IDLE_TIMEOUT);
                Err(Ended::Timeout)
            }
            Err(_) => Err(Ended::Closed),
        }
    }

    /// Closes politely: flush what we wrote, then shut down both directions.
    pub fn shutdown(&mut self) {
        if let Some(t) = &mut self.tls {
            tls::close(t);
        }
        if let Some(r) = &self.relay {
            // The relay closes the client's connection (with close_notify) when it sees this.
            let _ = r.shutdown(std::net::Shutdown::Both);
            return;
        }
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

impl Control {
    /// A line read during a transfer: ABOR ends it, anything else waits for its end.
    fn watched_line(&mut self, line: Vec<u8>) -> ControlEvent {
        if matches!(parse(&line), Command::Abor) {
            return ControlEvent::Abor;
        }
        self.pending.push_back(line);
        if self.pending.len() >= MAX_PENDING_COMMANDS {
            self.watch = Watch::Off;
        }
        // More lines may be decrypted already, where poll cannot see them.
        if self.reader.has_buffered() {
            self.watch = Watch::Off;
        }
        ControlEvent::Nothing
    }
}

impl AbortWatch for Control {
    fn start_watch(&mut self) {
        // Bytes already buffered by the line reader belong before anything still on the
        // socket; a pipelining client's commands are then simply answered after the transfer.
        // The same for plain text rustls has decrypted but no line has taken yet.
        let tls_buffered = self.tls.as_mut().is_some_and(|t| {
            t.conn
                .process_new_packets()
                .is_ok_and(|s| s.plaintext_bytes_to_read() > 0)
        });
        self.watch = if self.reader.has_buffered() || !self.pending.is_empty() || tls_buffered {
            Watch::Off
        } else {
            Watch::On
        };
    }

    fn watch_fd(&self) -> Option<BorrowedFd<'_>> {
        match self.watch {
            Watch::On => Some(self.command_fd()),
            Watch::PartialUntil(t) if Instant::now() >= t => Some(self.command_fd()),
            _ => None,
        }
    }

    fn recheck_in(&self) -> Option<Duration> {
        match self.watch {
            // Once the instant has passed the fd is polled again (watch_fd), so no timer.
            Watch::PartialUntil(t) => {
                Some(t.saturating_duration_since(Instant::now())).filter(|d| !d.is_zero())
            }
            _ => None,
        }
    }

    fn check_control(&mut self, urgent: bool) -> ControlEvent {
        if self.watch == Watch::Off {
            return ControlEvent::Nothing;
        }
        if self.tls.is_some() {
            // Encrypted, in the process that holds the TLS state (one-process model, or AUTH
            // after a login in clear): the socket is readable, so a record came; its line is
            // read (a line cut across records waits, at most the idle timeout, for the rest).
            return match self.read_line_now(false) {
                Ok(line) => self.watched_line(line),
                Err(_) => ControlEvent::Lost,
            };
        }
        let mut peek = vec![0u8; MAX_COMMAND_LINE];
        let n = match net::peek_now(self.command_fd(), &mut peek) {
            Ok(0) => return ControlEvent::Lost,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
            Err(_) => return ControlEvent::Lost,
        };
        let has_line = peek.get(..n).is_some_and(|p| p.contains(&b'\n'));
        // A read (and so a peek) stops at the urgent mark: "ABOR\r" of an ABOR line sent with
        // MSG_OOB, "IAC IP IAC" before the DM byte. With urgent data pending the line goes on
        // past the mark, so it is read now, waiting (at most the idle timeout) for its end.
        let read_now = has_line || (urgent && n > 0);
        if !read_now {
            self.watch = if n >= MAX_COMMAND_LINE {
                Watch::Off
            } else {
                Watch::PartialUntil(Instant::now() + PARTIAL_LINE_RECHECK)
            };
            return ControlEvent::Nothing;
        }
        self.watch = Watch::On;
        // Exact reads: nothing past the line's LF is taken from the socket.
        match self.read_line_now(true) {
            Ok(line) => self.watched_line(line),
            // Too long (500 sent), closed, or the idle timeout (421 sent): the session ends.
            Err(_) => ControlEvent::Lost,
        }
    }
}

/// A reader that never returns bytes past the first LF it sees.
struct ExactLines<'a>(&'a TcpStream);

impl std::io::Read for ExactLines<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.peek(buf)?;
        let Some(peeked) = buf.get(..n) else {
            return Ok(0);
        };
        let take = peeked.iter().position(|&b| b == b'\n').map_or(n, |i| i + 1);
        let mut stream = self.0;
        let limited = buf.get_mut(..take).unwrap_or_default();
        std::io::Read::read(&mut stream, limited)
    }
}

//! The control connection: bounded line reads and replies.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::proto::line::{LineError, LineReader};
use crate::proto::reply;

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
    stream: TcpStream,
    reader: LineReader,
    exact: bool,
    pub peer: SocketAddr,
    pub local: SocketAddr,
}

impl Control {
    pub fn new(stream: TcpStream) -> std::io::Result<Control> {
        let peer = stream.peer_addr()?;
        let local = stream.local_addr()?;
        let _ = stream.set_nodelay(true);
        Ok(Control {
            stream,
            reader: LineReader::new(),
            exact: false,
            peer,
            local,
        })
    }

    /// The idle timeout: a read that waits longer ends the session with `421 Timeout.`.
    pub fn set_idle_timeout(&self, secs: u32) {
        let t = (secs > 0).then(|| Duration::from_secs(u64::from(secs)));
        let _ = self.stream.set_read_timeout(t);
    }

    /// Sends raw reply bytes; a write failure means the client is gone.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Ended> {
        self.stream.write_all(bytes).map_err(|_| Ended::Closed)
    }

    /// Sends one single-line reply from the reply table.
    pub fn reply(&mut self, r: (u16, &str)) -> Result<(), Ended> {
        self.send(&reply::line(r.0, r.1.as_bytes()))
    }

    /// Sends one single-line reply with built text.
    pub fn reply_text(&mut self, code: u16, text: &[u8]) -> Result<(), Ended> {
        self.send(&reply::line(code, text))
    }

    /// Reads no byte beyond the current line (peek, then consume through the LF), so that a
    /// process that hands the connection on leaves the client's next commands unread.
    pub fn set_exact_reads(&mut self, exact: bool) {
        self.exact = exact;
    }

    /// Reads the next command line.
    pub fn read_line(&mut self) -> Result<Vec<u8>, Ended> {
        let result = if self.exact {
            self.reader.read_line(&mut ExactLines(&self.stream))
        } else {
            self.reader.read_line(&mut self.stream)
        };
        match result {
            Ok(line) => Ok(line),
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
    pub fn shutdown(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
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

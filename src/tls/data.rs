//! A data connection, plain or encrypted (PROT P). The transfer loop drives it non-blocking
//! ([`DataConn::try_write`], [`DataConn::try_read`]: `WouldBlock` means "poll the socket");
//! listings write to it as a blocking [`Write`].
//!
//! An encrypted download cannot use sendfile(2): the bytes pass through rustls in user space.
//! (kTLS would let the kernel encrypt, but needs the `tls` module, which the kernels this
//! was measured on do not offer.)

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use rustls::ServerConnection;

/// How an encrypted data connection ends (strict_ssl_read_eof, strict_ssl_write_shutdown).
#[derive(Clone, Copy, Debug, Default)]
pub struct Endings {
    /// An upload must end with the client's close_notify, not just a closed socket.
    pub strict_read_eof: bool,
    /// After a download, wait for the client's close_notify too.
    pub strict_write_shutdown: bool,
}

pub enum DataConn {
    Plain(TcpStream),
    Tls(Box<TlsData>),
}

pub struct TlsData {
    conn: ServerConnection,
    sock: TcpStream,
    endings: Endings,
    /// The socket said end-of-file.
    eof: bool,
}

impl DataConn {
    pub fn tls(conn: ServerConnection, sock: TcpStream, endings: Endings) -> DataConn {
        DataConn::Tls(Box::new(TlsData {
            conn,
            sock,
            endings,
            eof: false,
        }))
    }

    /// The TCP socket underneath.
    pub fn socket(&self) -> &TcpStream {
        match self {
            DataConn::Plain(s) => s,
            DataConn::Tls(t) => &t.sock,
        }
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket().as_fd()
    }

    /// Plain: sendfile may be used.
    pub fn is_plain(&self) -> bool {
        matches!(self, DataConn::Plain(_))
    }

    /// Writes some of `data` without blocking.
    pub fn try_write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            DataConn::Plain(s) => s.write(data),
            DataConn::Tls(t) => t.try_write(data),
        }
    }

    /// Reads some bytes without blocking; 0 is the end of the upload.
    pub fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            DataConn::Plain(s) => s.read(buf),
            DataConn::Tls(t) => t.try_read(buf),
        }
    }

    /// Before the socket is closed: an encrypted connection sends close_notify (and, with
    /// strict_ssl_write_shutdown after a download, waits for the client's). The socket is
    /// blocking again here.
    pub fn finish(&mut self, download: bool) -> io::Result<()> {
        match self {
            DataConn::Plain(_) => Ok(()),
            DataConn::Tls(t) => t.finish(download),
        }
    }
}

impl TlsData {
    /// Sends queued TLS records; `WouldBlock` when the socket is full.
    fn flush_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.sock) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn try_write(&mut self, data: &[u8]) -> io::Result<usize> {
        // Records already made go first: rustls holds at most its buffer limit.
        self.flush_tls()?;
        let n = self.conn.writer().write(data)?;
        match self.flush_tls() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if n == 0 && !data.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    /// Fills as much of `buf` as the socket has ready (one record is only 16 KiB: an upload
    /// written to its file a record at a time costs four times the system calls).
    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0usize;
        loop {
            let Some(room) = buf.get_mut(filled..) else {
                return Ok(filled);
            };
            if room.is_empty() {
                return Ok(filled);
            }
            match self.conn.reader().read(room) {
                // The client's close_notify: the end of the upload.
                Ok(0) => return Ok(filled),
                Ok(n) => {
                    filled += n;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The socket closed without close_notify: a truncation attack to a strict
                // reader, the usual end of an upload to a lenient one.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return self.unexpected_eof(filled);
                }
                Err(_) if filled > 0 => return Ok(filled),
                Err(e) => return Err(e),
            }
            if self.eof {
                return self.unexpected_eof(filled);
            }
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) if filled > 0 => return Ok(filled),
                Err(e) => return Err(e),
            }
            if let Err(e) = self.conn.process_new_packets() {
                let _ = self.flush_tls();
                if filled > 0 {
                    return Ok(filled);
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            // A key update or the like may want an answer; it waits if the socket is full.
            let _ = self.flush_tls();
        }
    }

    /// The socket ended without close_notify: the bytes before it count; then the end, or
    /// with strict_ssl_read_eof an error.
    fn unexpected_eof(&self, filled: usize) -> io::Result<usize> {
        if filled > 0 || !self.endings.strict_read_eof {
            Ok(filled)
        } else {
            Err(io::ErrorKind::UnexpectedEof.into())
        }
    }

    fn finish(&mut self, download: bool) -> io::Result<()> {
        let _ = self.sock.set_nonblocking(false);
        self.conn.send_close_notify();
        self.flush_tls()?;
        if download && self.endings.strict_write_shutdown {
            // The client's close_notify, within the write timeout the socket already has.
            let limit = self
                .sock
                .write_timeout()
                .ok()
                .flatten()
                .unwrap_or(Duration::from_secs(300));
            let _ = self.sock.set_read_timeout(Some(limit));
            let until = Instant::now() + limit;
            let mut sink = [0u8; 4096];
            loop {
                match self.try_read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
                if Instant::now() >= until {
                    return Err(io::ErrorKind::TimedOut.into());
                }
            }
        }
        Ok(())
    }
}

/// Blocking writes, for listings.
impl Write for DataConn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            DataConn::Plain(s) => s.write(buf),
            DataConn::Tls(t) => {
                let n = t.conn.writer().write(buf)?;
                t.flush_tls()?;
                if n == 0 && !buf.is_empty() {
                    // The buffer limit was reached and flushing made room: try again.
                    let n = t.conn.writer().write(buf)?;
                    t.flush_tls()?;
                    return Ok(n);
                }
                Ok(n)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            DataConn::Plain(s) => s.flush(),
            DataConn::Tls(t) => t.flush_tls(),
        }
    }
}

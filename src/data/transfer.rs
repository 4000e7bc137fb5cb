//! Sending a file over a data connection: sendfile(2) in binary mode, a read/write loop when
//! use_sendfile=NO or the kernel declines, LF to CRLF conversion in ASCII mode
//! ([`super::ascii`]).
//!
//! The data socket is non-blocking for the whole transfer, and every wait is one poll(2) on it
//! and on the control connection. That gives, without signals or threads:
//! - ABOR (plain, or sent as urgent data) ends the transfer within one chunk;
//! - data_connection_timeout: no byte moved for that long ends the session, as vsftpd's alarm;
//! - the rate limit (anon_max_rate) as vsftpd computes it: after each chunk, if the chunk went
//!   faster than the limit, pause until it would not have (the pause, too, watches for ABOR).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use super::ascii::ToAscii;
use crate::limits::{DATA_BUFFER, MIN_TRANS_CHUNK, SENDFILE_CHUNK, UPLOAD_BUFFER, UPLOAD_PIPE};
use crate::sys::net::{self, PollFd};
use crate::tls::data::DataConn;

/// Why a transfer stopped early; each maps to vsftpd's reply.
#[derive(Debug, PartialEq, Eq)]
pub enum TransferError {
    /// 451 Failure reading local file. (also when the file shrank under us)
    Read,
    /// 426 Failure writing network stream.
    Write,
    /// The client sent ABOR: 426 Failure writing network stream., then 226 ABOR successful.
    Aborted,
    /// No progress for data_connection_timeout: 421 Data timeout. Reconnect. Sorry. and the
    /// session ends.
    DataTimeout,
    /// The control connection closed, broke or timed out (any reply already sent): the
    /// session ends.
    ControlLost,
    /// An upload could not read the data connection: 426 Failure reading network stream.
    NetRead,
    /// An upload could not write its file (disk full, quota): 451 Failure writing to local
    /// file.
    LocalWrite,
}

/// What a look at the control connection found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlEvent {
    /// Nothing that concerns the transfer (a command kept for later, or half a line).
    Nothing,
    /// The client sent ABOR.
    Abor,
    /// The control connection is gone.
    Lost,
}

/// What the transfer loop needs from the control connection: a look for ABOR.
pub trait AbortWatch {
    /// A transfer begins.
    fn start_watch(&mut self);
    /// The fd to poll for readable or urgent data, while it is worth polling.
    fn watch_fd(&self) -> Option<BorrowedFd<'_>>;
    /// When `watch_fd` is None for a while only: how soon to ask again.
    fn recheck_in(&self) -> Option<Duration>;
    /// The control connection looked readable (`urgent`: urgent data is pending): did the
    /// client send ABOR? Other commands are kept for after the transfer.
    fn check_control(&mut self, urgent: bool) -> ControlEvent;
}

/// A control connection that is never looked at (tests, and callers with nothing to watch).
pub struct NoWatch;

impl AbortWatch for NoWatch {
    fn start_watch(&mut self) {}
    fn watch_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    fn recheck_in(&self) -> Option<Duration> {
        None
    }
    fn check_control(&mut self, _urgent: bool) -> ControlEvent {
        ControlEvent::Nothing
    }
}

/// How a download is sent.
#[derive(Clone, Copy, Debug)]
pub struct SendOptions {
    pub use_sendfile: bool,
    /// Convert LF to CRLF (TYPE A with ascii_download_enable).
    pub ascii: bool,
    /// Bytes per second; 0 for no limit.
    pub rate_max: u64,
    /// trans_chunk_size (0: automatic).
    pub trans_chunk_size: u32,
    /// data_connection_timeout; None for none.
    pub data_timeout: Option<Duration>,
}

impl SendOptions {
    /// Bytes per step: with a rate limit, vsftpd's chunk (trans_chunk_size within
    /// [4096, 65536], else 65536); without one, large sendfile steps.
    fn chunk(&self, sendfile: bool) -> usize {
        if self.rate_max == 0 {
            return if sendfile {
                SENDFILE_CHUNK
            } else {
                DATA_BUFFER
            };
        }
        let t = usize::try_from(self.trans_chunk_size).unwrap_or(usize::MAX);
        if t > 0 && t < DATA_BUFFER {
            t.max(MIN_TRANS_CHUNK)
        } else {
            DATA_BUFFER
        }
    }
}

/// How an upload is received.
#[derive(Clone, Copy, Debug)]
pub struct RecvOptions {
    /// Convert CRLF to LF (TYPE A with ascii_upload_enable).
    pub ascii: bool,
    /// Bytes per second; 0 for no limit.
    pub rate_max: u64,
    /// data_connection_timeout; None for none.
    pub data_timeout: Option<Duration>,
}

/// The state of one transfer: the sockets, the progress clock and the rate-limit mark.
struct Pump<'a> {
    /// Waiting for the data socket means: readable (an upload) rather than writable.
    receiving: bool,
    sock: &'a mut DataConn,
    watch: &'a mut dyn AbortWatch,
    opts: SendOptions,
    last_progress: Instant,
    rate_mark: Instant,
}

impl Pump<'_> {
    /// Waits until the data socket can take bytes, watching the control connection and the
    /// data timeout meanwhile.
    fn wait_writable(&mut self) -> Result<(), TransferError> {
        self.wait(None)
    }

    /// Waits for the data socket (`pause` None) or for `pause` to pass; either way ABOR and
    /// (when waiting for the socket) the data timeout end the wait.
    fn wait(&mut self, pause: Option<Instant>) -> Result<(), TransferError> {
        loop {
            let now = Instant::now();
            let mut timeout: Option<Duration> = None;
            let mut shorten = |d: Duration| {
                timeout = Some(timeout.map_or(d, |t| t.min(d)));
            };
            match pause {
                Some(until) => {
                    if now >= until {
                        return Ok(());
                    }
                    shorten(until - now);
                }
                None => {
                    if let Some(limit) = self.opts.data_timeout {
                        let idle = now.saturating_duration_since(self.last_progress);
                        if idle >= limit {
                            return Err(TransferError::DataTimeout);
                        }
                        shorten(limit - idle);
                    }
                }
            }
            if let Some(d) = self.watch.recheck_in() {
                shorten(d);
            }
            let (data_ready, ctrl_ready) = {
                let mut fds = Vec::with_capacity(2);
                if pause.is_none() {
                    fds.push(PollFd {
                        fd: self.sock.fd(),
                        read: self.receiving,
                        write: !self.receiving,
                        urgent: false,
                    });
                }
                let ctrl = self.watch.watch_fd();
                if let Some(fd) = ctrl {
                    fds.push(PollFd {
                        fd,
                        read: true,
                        write: false,
                        urgent: true,
                    });
                }
                // Round up, so that a wait never ends a hair early and spins.
                let ms = timeout.map_or(-1, |d| {
                    i32::try_from(d.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
                });
                let ready = net::poll(&fds, ms).map_err(|_| TransferError::Write)?;
                let mut it = ready.iter();
                let data = if pause.is_none() {
                    it.next().is_some_and(|r| r.write || r.read || r.hangup)
                } else {
                    false
                };
                let c = if ctrl.is_some() {
                    it.next()
                        .filter(|r| r.read || r.urgent || r.hangup)
                        .map(|r| r.urgent)
                } else {
                    None
                };
                (data, c)
            };
            if let Some(urgent) = ctrl_ready {
                match self.watch.check_control(urgent) {
                    ControlEvent::Nothing => {}
                    ControlEvent::Abor => return Err(TransferError::Aborted),
                    ControlEvent::Lost => return Err(TransferError::ControlLost),
                }
            }
            if data_ready {
                return Ok(());
            }
        }
    }

    /// `n` bytes went out: note the progress and, with a rate limit, pause as vsftpd does.
    fn sent(&mut self, n: usize) -> Result<(), TransferError> {
        let now = Instant::now();
        self.last_progress = now;
        if self.opts.rate_max == 0 || n == 0 {
            return Ok(());
        }
        let mut elapsed = now.saturating_duration_since(self.rate_mark);
        if elapsed.is_zero() {
            // As vsftpd: a chunk that took no measurable time counts as 10 ms.
            elapsed = Duration::from_millis(10);
        }
        // The time these bytes should have taken at the limit; any shortfall is slept off.
        let due = Duration::from_secs_f64(n as f64 / self.opts.rate_max as f64);
        if due > elapsed {
            self.wait(Some(now + (due - elapsed)))?;
        }
        self.rate_mark = Instant::now();
        self.last_progress = self.rate_mark;
        Ok(())
    }

    /// One read of an upload's data socket: the bytes it got (0: the end of the upload), or
    /// None to read again, after waiting for the socket when it had nothing.
    fn received(&mut self, read: io::Result<usize>) -> Result<Option<usize>, TransferError> {
        match read {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(None).map(|()| None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(_) => Err(TransferError::NetRead),
        }
    }

    /// Writes all of `data`, waiting whenever the socket is full.
    fn write_all(&mut self, mut data: &[u8]) -> Result<(), TransferError> {
        while !data.is_empty() {
            match self.sock.try_write(data) {
                Ok(0) => return Err(TransferError::Write),
                Ok(n) => {
                    data = data.get(n..).unwrap_or_default();
                    self.last_progress = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait_writable()?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(TransferError::Write),
            }
        }
        Ok(())
    }
}

/// Sends `file` from its current offset: in binary mode `len` bytes (fewer, because the file
/// shrank, is a read failure); in ASCII mode up to the end of the file, converted. Returns the
/// bytes put on the wire.
pub fn send_file(
    file: &mut File,
    sock: &mut DataConn,
    len: u64,
    opts: SendOptions,
    watch: &mut dyn AbortWatch,
) -> Result<u64, TransferError> {
    watch.start_watch();
    sock.socket()
        .set_nonblocking(true)
        .map_err(|_| TransferError::Write)?;
    let now = Instant::now();
    let mut pump = Pump {
        receiving: false,
        sock,
        watch,
        opts,
        last_progress: now,
        rate_mark: now,
    };
    let result = if opts.ascii {
        send_ascii(file, &mut pump)
    } else {
        send_binary(file, &mut pump, len)
    };
    let _ = pump.sock.socket().set_nonblocking(false);
    // A client that aborts often closes the data connection and sends ABOR together: when
    // the ABOR is already here, the failed write was the abort (426, then 226).
    if result == Err(TransferError::Write)
        && pump.watch.watch_fd().is_some()
        && pump.watch.check_control(false) == ControlEvent::Abor
    {
        return Err(TransferError::Aborted);
    }
    result
}

fn send_binary(file: &mut File, pump: &mut Pump<'_>, len: u64) -> Result<u64, TransferError> {
    let mut sent = 0u64;
    // Under PROT P the bytes must pass through rustls: no sendfile.
    if pump.opts.use_sendfile && pump.sock.is_plain() {
        let chunk = pump.opts.chunk(true);
        let mut sendfile_works = true;
        while sent < len && sendfile_works {
            let want = usize::try_from(len - sent).unwrap_or(usize::MAX).min(chunk);
            let mut step = 0usize;
            // One chunk, which a full socket may split into several calls.
            while step < want {
                match net::sendfile(pump.sock.fd(), file.as_fd(), want - step) {
                    Ok(0) => return Err(TransferError::Read),
                    Ok(n) => {
                        step += n;
                        pump.last_progress = Instant::now();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => pump.wait_writable()?,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e)
                        if step == 0
                            && sent == 0
                            && matches!(e.raw_os_error(), Some(c) if c == net::EINVAL || c == net::ENOSYS) =>
                    {
                        sendfile_works = false;
                        break;
                    }
                    Err(e) if e.raw_os_error() == Some(net::EIO) => {
                        return Err(TransferError::Read)
                    }
                    Err(_) => return Err(TransferError::Write),
                }
            }
            sent += step as u64;
            pump.sent(step)?;
        }
        if sent == len {
            return Ok(sent);
        }
    }
    let mut buf = vec![0u8; pump.opts.chunk(false)];
    while sent < len {
        let want = usize::try_from(len - sent)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let chunk = buf.get_mut(..want).ok_or(TransferError::Read)?;
        let n = read_some(file, chunk)?;
        if n == 0 {
            return Err(TransferError::Read);
        }
        pump.write_all(chunk.get(..n).ok_or(TransferError::Read)?)?;
        sent += n as u64;
        pump.sent(n)?;
    }
    Ok(sent)
}

fn send_ascii(file: &mut File, pump: &mut Pump<'_>) -> Result<u64, TransferError> {
    let mut buf = vec![0u8; pump.opts.chunk(false)];
    let mut out = Vec::with_capacity(buf.len() * 2);
    let mut conv = ToAscii::new();
    let mut sent = 0u64;
    loop {
        let n = read_some(file, &mut buf)?;
        if n == 0 {
            return Ok(sent);
        }
        out.clear();
        conv.convert(buf.get(..n).ok_or(TransferError::Read)?, &mut out);
        pump.write_all(&out)?;
        sent += out.len() as u64;
        pump.sent(out.len())?;
    }
}

/// Receives an upload into `file` from its current offset until the client closes the data
/// connection; in ASCII mode CRLF becomes LF. Returns the bytes written to the file.
pub fn receive_file(
    file: &mut File,
    sock: &mut DataConn,
    opts: RecvOptions,
    watch: &mut dyn AbortWatch,
) -> Result<u64, TransferError> {
    watch.start_watch();
    sock.socket()
        .set_nonblocking(true)
        .map_err(|_| TransferError::NetRead)?;
    let now = Instant::now();
    let mut pump = Pump {
        receiving: true,
        sock,
        watch,
        opts: SendOptions {
            use_sendfile: false,
            ascii: opts.ascii,
            rate_max: opts.rate_max,
            trans_chunk_size: 0,
            data_timeout: opts.data_timeout,
        },
        last_progress: now,
        rate_mark: now,
    };
    let result = receive_loop(file, &mut pump, opts.ascii);
    let _ = pump.sock.socket().set_nonblocking(false);
    result
}

fn receive_loop(file: &mut File, pump: &mut Pump<'_>, ascii: bool) -> Result<u64, TransferError> {
    let mut written = 0u64;
    // Under PROT P the bytes must pass through rustls.
    if !ascii && pump.opts.rate_max == 0 && pump.sock.is_plain() {
        match splice_loop(file, pump)? {
            Spliced::All(n) => return Ok(n),
            Spliced::Declined(n) => written = n,
        }
    }
    // With a rate limit, vsftpd's chunk; without, large reads: fewer system calls per byte.
    let size = if pump.opts.rate_max == 0 {
        UPLOAD_BUFFER
    } else {
        DATA_BUFFER
    };
    let mut buf = vec![0u8; size];
    let mut out = Vec::new();
    let mut conv = FromAscii::default();
    loop {
        let read = pump.sock.try_read(&mut buf);
        let n = match pump.received(read)? {
            Some(0) => break,
            Some(n) => n,
            None => continue,
        };
        let got = buf.get(..n).ok_or(TransferError::NetRead)?;
        let data = if ascii {
            out.clear();
            conv.convert(got, &mut out);
            &out[..]
        } else {
            got
        };
        file.write_all(data)
            .map_err(|_| TransferError::LocalWrite)?;
        written += data.len() as u64;
        pump.sent(n)?;
    }
    if ascii {
        out.clear();
        conv.finish(&mut out);
        file.write_all(&out)
            .map_err(|_| TransferError::LocalWrite)?;
        written += out.len() as u64;
    }
    Ok(written)
}

/// How far [`splice_loop`] got.
enum Spliced {
    /// The whole upload, this many bytes.
    All(u64),
    /// This many bytes, all in the file; the rest must be copied through the process.
    Declined(u64),
}

/// A binary upload without a rate limit: socket to pipe to file with splice(2), so the bytes
/// never cross into this process (the copy through a buffer was the largest cost of a STOR:
/// docs/PERFORMANCE.md). Where the kernel cannot (no pipe to be had, a file system without
/// splice support), the caller goes on with the copying loop.
fn splice_loop(file: &mut File, pump: &mut Pump<'_>) -> Result<Spliced, TransferError> {
    let Ok((pipe_out, pipe_in)) = net::splice_pipe(UPLOAD_PIPE) else {
        return Ok(Spliced::Declined(0));
    };
    let mut written = 0u64;
    loop {
        let read = net::splice(pump.sock.fd(), pipe_in.as_fd(), UPLOAD_BUFFER);
        let n = match pump.received(read)? {
            Some(0) => return Ok(Spliced::All(written)),
            Some(n) => n,
            None => continue,
        };
        // The pipe is emptied before the socket is read again, so it never fills.
        let mut left = n;
        while left > 0 {
            match net::splice(pipe_out.as_fd(), file.as_fd(), left) {
                Ok(0) => return Err(TransferError::LocalWrite),
                Ok(m) => left = left.saturating_sub(m),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if written == 0 && left == n && net::splice_unsupported(&e) => {
                    // The file system takes no splice: what the pipe holds goes by hand.
                    let mut buf = vec![0u8; left];
                    let mut pipe = File::from(pipe_out);
                    pipe.read_exact(&mut buf)
                        .map_err(|_| TransferError::NetRead)?;
                    file.write_all(&buf)
                        .map_err(|_| TransferError::LocalWrite)?;
                    pump.sent(n)?;
                    return Ok(Spliced::Declined(n as u64));
                }
                Err(_) => return Err(TransferError::LocalWrite),
            }
        }
        written += n as u64;
        pump.sent(n)?;
    }
}

/// ASCII-mode uploads (TYPE A with ascii_upload_enable): every CR that comes right before an
/// LF goes (CRLF becomes LF); a lone CR stays. A CR at the end of one read waits for the next
/// byte to know which it is.
#[derive(Debug, Default)]
struct FromAscii {
    held_cr: bool,
}

impl FromAscii {
    fn convert(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + 1);
        for &b in input {
            if self.held_cr {
                self.held_cr = false;
                if b != b'\n' {
                    out.push(b'\r');
                }
            }
            if b == b'\r' {
                self.held_cr = true;
            } else {
                out.push(b);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.held_cr) {
            out.push(b'\r');
        }
    }
}

fn read_some(file: &mut File, buf: &mut [u8]) -> Result<usize, TransferError> {
    loop {
        match file.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(TransferError::Read),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    fn opts() -> SendOptions {
        SendOptions {
            use_sendfile: true,
            ascii: false,
            rate_max: 0,
            trans_chunk_size: 0,
            data_timeout: Some(Duration::from_secs(10)),
        }
    }

    #[test]
    fn ascii_uploads_lose_the_cr_of_crlf_only() {
        for chunk in [1, 2, 3, 64] {
            let input = b"a\r\nb\rc\r\r\nd\r";
            let mut c = FromAscii::default();
            let mut out = Vec::new();
            for part in input.chunks(chunk) {
                c.convert(part, &mut out);
            }
            c.finish(&mut out);
            assert_eq!(out, b"a\nb\rc\r\nd\r", "chunk {chunk}");
        }
    }

    #[test]
    fn chunk_sizes_follow_vsftpd() {
        let mut o = opts();
        assert_eq!(o.chunk(true), SENDFILE_CHUNK);
        o.rate_max = 1000;
        assert_eq!(o.chunk(true), DATA_BUFFER);
        o.trans_chunk_size = 100;
        assert_eq!(o.chunk(false), MIN_TRANS_CHUNK);
        o.trans_chunk_size = 8192;
        assert_eq!(o.chunk(true), 8192);
        o.trans_chunk_size = 1 << 20;
        assert_eq!(o.chunk(true), DATA_BUFFER);
    }

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    fn temp_file(contents: &[u8]) -> File {
        let path = std::env::temp_dir().join(format!(
            "vsftpd-rs-transfer-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, contents).unwrap();
        let f = File::open(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        f
    }

    #[test]
    fn every_path_sends_the_same_bytes() {
        let contents: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for use_sendfile in [true, false] {
            let mut f = temp_file(&contents);
            let (tx, mut rx) = pair();
            let reader = std::thread::spawn(move || {
                let mut got = Vec::new();
                rx.read_to_end(&mut got).unwrap();
                got
            });
            let o = SendOptions {
                use_sendfile,
                ..opts()
            };
            let mut tx = DataConn::Plain(tx);
            let n = send_file(&mut f, &mut tx, contents.len() as u64, o, &mut NoWatch).unwrap();
            drop(tx);
            assert_eq!(n, contents.len() as u64);
            assert_eq!(reader.join().unwrap(), contents, "sendfile={use_sendfile}");
        }
    }

    #[test]
    fn a_short_file_is_a_read_failure() {
        for use_sendfile in [true, false] {
            let mut f = temp_file(b"12345");
            let (tx, _rx) = pair();
            let o = SendOptions {
                use_sendfile,
                ..opts()
            };
            assert_eq!(
                send_file(&mut f, &mut DataConn::Plain(tx), 10, o, &mut NoWatch),
                Err(TransferError::Read)
            );
        }
    }

    #[test]
    fn a_stalled_reader_times_out() {
        let contents = vec![7u8; 8 << 20];
        let mut f = temp_file(&contents);
        let (tx, _rx) = pair();
        let o = SendOptions {
            data_timeout: Some(Duration::from_millis(300)),
            ..opts()
        };
        let t = Instant::now();
        assert_eq!(
            send_file(
                &mut f,
                &mut DataConn::Plain(tx),
                contents.len() as u64,
                o,
                &mut NoWatch
            ),
            Err(TransferError::DataTimeout)
        );
        assert!(t.elapsed() >= Duration::from_millis(300));
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn ascii_mode_converts_to_the_end_of_the_file() {
        let mut f = temp_file(b"a\nb\r\nc");
        let (tx, mut rx) = pair();
        let o = SendOptions {
            ascii: true,
            ..opts()
        };
        let mut tx = DataConn::Plain(tx);
        let n = send_file(&mut f, &mut tx, 0, o, &mut NoWatch).unwrap();
        drop(tx);
        let mut got = Vec::new();
        rx.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"a\r\nb\r\nc");
        assert_eq!(n, 7);
    }
}

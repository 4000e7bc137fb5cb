//! The bounded control-line reader (vsftpd: `ftpcmdio.c` `control_getline` + `netstr.c`).
//!
//! A line ends at LF. The reader keeps one fixed buffer of [`MAX_COMMAND_LINE`] bytes: it reads as
//! much as the socket gives into it and scans, so a client pipelining ten commands costs one
//! `read(2)`, and a client that never sends LF costs at most [`MAX_COMMAND_LINE`] bytes before
//! [`LineError::TooLong`] (the session then replies `500 Input line too long.` and ends, as
//! vsftpd since 2.2.2).
//!
//! What the returned line looks like:
//! - no LF, and no trailing CR (all trailing CRs go, as vsftpd's loop strips them);
//! - Telnet bytes kept as they came, as vsftpd: it decodes no Telnet at all, so `IAC DO ECHO NOOP`
//!   is an unknown command and `IAC IAC` stays two 0xFF bytes (of a file name, say). The one
//!   sequence that matters, RFC 959's abort `IAC IP IAC DM ABOR`, is vsftpd's second spelling of
//!   ABOR ([`super::command::parse`]); its DM byte is TCP urgent data, so the session sets
//!   SO_OOBINLINE on the control socket, as vsftpd does, or the urgent byte would be lost from
//!   the stream;
//! - NUL bytes become LF: RFC 959 sends an LF inside a path name as NUL, and vsftpd maps it back
//!   the same way. No C string is ever cut short by a client's NUL.
//!
//! The limit counts the network bytes of the line including its LF: a line of exactly [`MAX_COMMAND_LINE`] bytes with its LF is accepted, one byte more is not.
//! EOF in the middle of a line discards the partial line ([`LineError::Eof`]).
//!
//! The raw bytes of a line are zeroed in the buffer once consumed (PASS lines included); the
//! returned `Vec` is the caller's to wipe.

use std::io::{self, Read};

use crate::limits::MAX_COMMAND_LINE;

/// Why no line was returned.
#[derive(Debug)]
pub enum LineError {
    /// The peer closed the connection (a partial line, if any, is discarded).
    Eof,
    /// No LF within [`MAX_COMMAND_LINE`] bytes: reply `500 Input line too long.` and end.
    TooLong,
    /// A read error other than EINTR (which is retried).
    Io(io::Error),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::Eof => f.write_str("control connection closed"),
            LineError::TooLong => f.write_str("control line too long"),
            LineError::Io(e) => write!(f, "control connection read: {e}"),
        }
    }
}

impl std::error::Error for LineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LineError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Reads control lines from a byte stream; see the module documentation.
pub struct LineReader {
    buf: Box<[u8]>,
    /// Unconsumed raw bytes are `buf[start..end]`.
    start: usize,
    end: usize,
}

impl Default for LineReader {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LineReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the buffer contents: they may hold a password.
        f.debug_struct("LineReader")
            .field("buffered", &(self.end - self.start))
            .finish()
    }
}

impl LineReader {
    /// A reader with an empty buffer of [`MAX_COMMAND_LINE`] bytes.
    pub fn new() -> Self {
        LineReader {
            buf: vec![0u8; MAX_COMMAND_LINE].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// True when bytes after the last returned line are already buffered (a pipelining client);
    /// the next [`read_line`](Self::read_line) may then return without a syscall.
    pub fn has_buffered(&self) -> bool {
        self.start < self.end
    }

    /// The raw bytes read but not yet consumed (a pipelining client's next commands), for a
    /// process that hands the connection on.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self
            .buf
            .get(self.start..self.end)
            .unwrap_or_default()
            .to_vec();
        self.start = 0;
        self.end = 0;
        rest
    }

    /// Returns the next line; see the module documentation for what is stripped and mapped.
    pub fn read_line<R: Read + ?Sized>(&mut self, r: &mut R) -> Result<Vec<u8>, LineError> {
        let mut line: Vec<u8> = Vec::new();
        // Raw bytes consumed for this line so far, LF included.
        let mut raw = 0usize;
        loop {
            let chunk_start = self.start;
            let done = self.scan(&mut line, &mut raw);
            // Wipe what this line consumed from the buffer (it may be a password).
            if let Some(used) = self.buf.get_mut(chunk_start..self.start) {
                used.fill(0);
            }
            match done {
                Scan::Line => {
                    finish_line(&mut line);
                    return Ok(line);
                }
                Scan::TooLong => return Err(LineError::TooLong),
                Scan::NeedMore => {}
            }
            self.start = 0;
            self.end = 0;
            let n = loop {
                match r.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(LineError::Io(e)),
                }
            };
            if n == 0 {
                line.fill(0);
                return Err(LineError::Eof);
            }
            self.end = n.min(self.buf.len());
        }
    }

    /// Consumes buffered raw bytes into `line` until a line ends, the limit is hit, or the buffer
    /// is empty.
    fn scan(&mut self, line: &mut Vec<u8>, raw: &mut usize) -> Scan {
        let Some(avail) = self.buf.get(self.start..self.end) else {
            return Scan::NeedMore;
        };
        let room = MAX_COMMAND_LINE.saturating_sub(*raw);
        let plain = avail
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(avail.len());
        if plain >= room {
            // Not even the LF would fit in the limit.
            self.start += room;
            return Scan::TooLong;
        }
        if let Some(data) = avail.get(..plain) {
            line.extend_from_slice(data);
        }
        self.start += plain;
        *raw += plain;
        if plain == avail.len() {
            return Scan::NeedMore;
        }
        // The LF.
        self.start += 1;
        *raw += 1;
        Scan::Line
    }
}

enum Scan {
    Line,
    TooLong,
    NeedMore,
}

/// NUL -> LF (RFC 959 path convention, as vsftpd), then strip every trailing CR.
fn finish_line(line: &mut Vec<u8>) {
    for b in line.iter_mut() {
        if *b == 0 {
            *b = b'\n';
        }
    }
    while line.last() == Some(&b'\r') {
        line.pop();
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    /// A reader that hands out its data in fixed-size pieces, with an EINTR between pieces.
    struct Chunked {
        data: Vec<u8>,
        pos: usize,
        chunk: usize,
        interrupt: bool,
        reads: usize,
    }

    impl Chunked {
        fn new(data: &[u8], chunk: usize) -> Self {
            Chunked {
                data: data.to_vec(),
                pos: 0,
                chunk,
                interrupt: false,
                reads: 0,
            }
        }
    }

    impl Read for Chunked {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.interrupt {
                self.interrupt = false;
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            self.interrupt = true;
            self.reads += 1;
            let n = self.chunk.min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn lines(data: &[u8], chunk: usize) -> (Vec<Vec<u8>>, LineError) {
        let mut r = Chunked::new(data, chunk);
        let mut lr = LineReader::new();
        let mut out = Vec::new();
        loop {
            match lr.read_line(&mut r) {
                Ok(l) => out.push(l),
                Err(e) => return (out, e),
            }
        }
    }

    #[test]
    fn splits_crlf_and_lf_lines() {
        for chunk in [1, 2, 3, 7, 4096] {
            let (ls, e) = lines(b"USER ftp\r\nPASS x\nNOOP\r\r\n\r\nQUIT", chunk);
            assert_eq!(
                ls,
                vec![
                    b"USER ftp".to_vec(),
                    b"PASS x".to_vec(),
                    b"NOOP".to_vec(),
                    b"".to_vec()
                ],
                "chunk {chunk}"
            );
            // The unterminated "QUIT" is discarded at EOF.
            assert!(matches!(e, LineError::Eof));
        }
    }

    #[test]
    fn keeps_inner_cr_and_maps_nul_to_lf() {
        let (ls, _) = lines(b"RETR a\rb\0c\r\n", 4096);
        assert_eq!(ls, vec![b"RETR a\rb\nc".to_vec()]);
    }

    #[test]
    fn pipelined_lines_come_from_one_read() {
        let mut r = Chunked::new(b"NOOP\r\nNOOP\r\nSYST\r\n", 4096);
        let mut lr = LineReader::new();
        assert!(!lr.has_buffered());
        assert_eq!(lr.read_line(&mut r).unwrap(), b"NOOP");
        assert!(lr.has_buffered());
        assert_eq!(lr.read_line(&mut r).unwrap(), b"NOOP");
        assert_eq!(lr.read_line(&mut r).unwrap(), b"SYST");
        assert!(!lr.has_buffered());
        assert_eq!(r.reads, 1);
    }

    #[test]
    fn keeps_telnet_bytes_as_vsftpd() {
        for chunk in [1, 2, 5, 4096] {
            let (ls, _) = lines(
                b"\xff\xf4\xff\xf2ABOR\r\n\xff\xfd\x01NOOP\r\nSIZE a\xff\xffb\r\n",
                chunk,
            );
            assert_eq!(
                ls,
                vec![
                    b"\xff\xf4\xff\xf2ABOR".to_vec(),
                    b"\xff\xfd\x01NOOP".to_vec(),
                    b"SIZE a\xff\xffb".to_vec()
                ],
                "chunk {chunk}"
            );
        }
        // A lone IAC before the LF: the LF still ends the line.
        let (ls, _) = lines(b"RETR \xffa\xff\n", 4096);
        assert_eq!(ls, vec![b"RETR \xffa\xff".to_vec()]);
    }

    #[test]
    fn line_at_limit_is_accepted_one_more_is_too_long() {
        let mut ok = vec![b'a'; MAX_COMMAND_LINE - 1];
        ok.push(b'\n');
        ok.extend_from_slice(b"NOOP\n");
        for chunk in [1, 1000, 4096] {
            let (ls, _) = lines(&ok, chunk);
            assert_eq!(ls.len(), 2);
            assert_eq!(ls[0].len(), MAX_COMMAND_LINE - 1);
        }
        let mut bad = vec![b'a'; MAX_COMMAND_LINE];
        bad.push(b'\n');
        for chunk in [1, 1000, 4096] {
            let (ls, e) = lines(&bad, chunk);
            assert!(ls.is_empty());
            assert!(matches!(e, LineError::TooLong), "chunk {chunk}");
        }
    }

    #[test]
    fn endless_line_is_too_long_without_unbounded_reads() {
        struct Endless(usize);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0 += buf.len();
                buf.fill(b'x');
                Ok(buf.len())
            }
        }
        let mut r = Endless(0);
        let mut lr = LineReader::new();
        assert!(matches!(lr.read_line(&mut r), Err(LineError::TooLong)));
        assert!(r.0 <= MAX_COMMAND_LINE);
    }

    #[test]
    fn io_errors_are_reported() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::from(io::ErrorKind::ConnectionReset))
            }
        }
        let mut lr = LineReader::new();
        match lr.read_line(&mut Broken) {
            Err(LineError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn consumed_bytes_are_wiped() {
        let mut r = Chunked::new(b"PASS secret\r\nNOOP\r\n", 4096);
        let mut lr = LineReader::new();
        assert_eq!(lr.read_line(&mut r).unwrap(), b"PASS secret");
        assert!(!lr.buf.windows(6).any(|w| w == b"secret"));
        assert!(format!("{lr:?}").contains("buffered"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: every byte value, in many arrangements.
        let mut seed = 0x1234_5678u32;
        for _ in 0..300 {
            let mut data = Vec::new();
            for _ in 0..(seed % 9000) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                data.push((seed >> 16) as u8);
            }
            let chunk = 1 + (seed as usize % 5000);
            let (ls, _) = lines(&data, chunk);
            for l in ls {
                assert!(l.len() < MAX_COMMAND_LINE);
                assert!(!l.contains(&0));
            }
        }
    }
}

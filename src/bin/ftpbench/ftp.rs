//! A small blocking FTP client: control connection, login, passive data connections,
//! downloads verified byte for byte against the deterministic pattern, and uploads of it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

/// Every socket operation gives up after this long: the tool never hangs on a dead server.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest reply line we accept (a hostile or broken server cannot make us grow).
const MAX_LINE: u64 = 8192;
/// The longest multi-line reply, in lines.
const MAX_REPLY_LINES: usize = 1000;
/// The pattern repeats with this period: byte i is `(i * 31 + 7) % 251`.
pub const PATTERN_PERIOD: usize = 251;
/// Size of the receive buffer.
pub const BUF_SIZE: usize = 256 * 1024;

/// Why a run failed. A wrong byte or size is [`Fail::Verify`] (exit 1); everything else is
/// [`Fail::Refused`] or [`Fail::Other`] (exit 2).
#[derive(Debug)]
pub enum Fail {
    Verify(String),
    /// The server greeted with 421 (max_clients, max_per_ip or their peers' equivalents): a
    /// session the session figures count apart from other errors.
    Refused(String),
    Other(String),
}

impl Fail {
    pub fn msg(&self) -> &str {
        match self {
            Fail::Verify(m) | Fail::Refused(m) | Fail::Other(m) => m,
        }
    }
}

pub type Res<T> = Result<T, Fail>;

fn io_fail(what: &str) -> impl FnOnce(io::Error) -> Fail + '_ {
    move |e| Fail::Other(format!("{what}: {e}"))
}

/// The pattern byte at offset `i`.
pub fn pattern_byte(i: u64) -> u8 {
    // (i mod 251) * 31 + 7 < 251 * 32: no overflow for any i.
    (((i % PATTERN_PERIOD as u64) * 31 + 7) % PATTERN_PERIOD as u64) as u8
}

/// `len` bytes of the pattern starting at offset 0.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len as u64).map(pattern_byte).collect()
}

/// Checks a received stream against the pattern, chunk by chunk, with one `memcmp` per chunk.
pub struct Verifier {
    /// The pattern from offset 0, long enough for any chunk starting at any phase.
    reference: Vec<u8>,
}

impl Verifier {
    pub fn new() -> Verifier {
        Verifier {
            reference: pattern(BUF_SIZE + PATTERN_PERIOD),
        }
    }

    /// The pattern's `len` bytes (at most [`BUF_SIZE`]) from stream offset `off`: what an
    /// upload sends, without generating anything per chunk.
    pub fn pattern_at(&self, off: u64, len: usize) -> &[u8] {
        let phase = (off % PATTERN_PERIOD as u64) as usize;
        &self.reference[phase..phase + len.min(BUF_SIZE)]
    }

    /// The offset of the first wrong byte of `data`, which starts at stream offset `off`.
    pub fn check(&self, off: u64, data: &[u8]) -> Option<u64> {
        let phase = (off % PATTERN_PERIOD as u64) as usize;
        let mut pos = 0usize;
        while pos < data.len() {
            let n = (data.len() - pos).min(BUF_SIZE);
            let want = &self.reference[phase + (pos % PATTERN_PERIOD)..][..n];
            let got = &data[pos..pos + n];
            if want != got {
                let i = want.iter().zip(got).position(|(a, b)| a != b).unwrap_or(0);
                return Some(off + (pos + i) as u64);
            }
            pos += n;
        }
        None
    }
}

/// A parsed reply: the code and the full text (all lines).
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
}

/// How an upload ended, when the control connection kept working.
pub enum Stored {
    /// 150/125, every byte sent, then 226 (or 250).
    Done,
    /// The server refused the STOR itself (a 4xx/5xx reply before any data): its reply line.
    Refused(String),
}

/// FTPS (`--tls`): explicit AUTH TLS, PBSZ 0, PROT P; every data connection resumes the
/// control connection's TLS session (rustls' client cache), as require_ssl_reuse wants.
pub type Tls = Option<Arc<ClientConfig>>;

/// A control or data connection, in clear or encrypted.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    /// The end of an upload: close_notify, which a strict server (strict_ssl_read_eof)
    /// requires before it takes the upload as complete.
    /// What the server sent meanwhile (TLS 1.3 session tickets) is read up to its own
    /// close_notify: a socket closed with unread bytes is reset, which can cut the upload.
    fn close(&mut self) -> io::Result<()> {
        if let Stream::Tls(t) = self {
            t.conn.send_close_notify();
            t.flush()?;
            let mut sink = [0u8; 4096];
            loop {
                match t.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            // A server that closes without close_notify has still sent everything.
            Stream::Tls(t) => match t.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(t) => t.flush(),
        }
    }
}

/// The client configuration for `--tls`. The server's certificate is not checked: this is a
/// measuring tool for servers on this machine or the bench network, not a client to trust.
pub fn tls_config() -> Result<Arc<ClientConfig>, String> {
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let c = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer(provider)))
        .with_no_client_auth();
    Ok(Arc::new(c))
}

#[derive(Debug)]
struct AnyServer(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn encrypt(cfg: &Arc<ClientConfig>, peer: IpAddr, sock: TcpStream) -> Res<Stream> {
    let conn = ClientConnection::new(Arc::clone(cfg), ServerName::IpAddress(peer.into()))
        .map_err(|e| Fail::Other(format!("TLS: {e}")))?;
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, sock))))
}

/// One control connection.
pub struct Ctrl {
    reader: BufReader<Stream>,
    peer: IpAddr,
    pub epsv: bool,
    tls: Tls,
}

impl Ctrl {
    /// Connects and reads the greeting, which must be 220.
    pub fn connect(addr: SocketAddr, epsv: bool, tls: &Tls) -> Res<Ctrl> {
        let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .map_err(|e| Fail::Other(format!("connect {addr}: {e}")))?;
        s.set_read_timeout(Some(IO_TIMEOUT))
            .map_err(io_fail("set timeout"))?;
        s.set_write_timeout(Some(IO_TIMEOUT))
            .map_err(io_fail("set timeout"))?;
        let _ = s.set_nodelay(true);
        let mut c = Ctrl {
            reader: BufReader::new(Stream::Plain(s)),
            peer: addr.ip(),
            epsv,
            tls: tls.clone(),
        };
        let g = c.reply()?;
        if g.code == 421 {
            return Err(Fail::Refused(format!("greeting: {}", g.first_line())));
        }
        if g.code != 220 {
            return Err(Fail::Other(format!("greeting: {}", g.first_line())));
        }
        let Some(cfg) = tls else { return Ok(c) };
        // A session cache of its own: a ticket of another session's control connection would
        // not resume on this one's data connections (the server keys tickets per session).
        let mut own = (**cfg).clone();
        own.resumption = rustls::client::Resumption::in_memory_sessions(8);
        let cfg = &Arc::new(own);
        c.expect("AUTH TLS", &[234])?;
        // Nothing follows 234 before the handshake: the buffer is empty.
        let Stream::Plain(s) = c.reader.into_inner() else {
            return Err(Fail::Other("AUTH TLS twice".into()));
        };
        let mut stream = encrypt(cfg, addr.ip(), s)?;
        stream
            .flush()
            .map_err(|e| Fail::Other(format!("TLS handshake: {e}")))?;
        Ok(Ctrl {
            reader: BufReader::new(stream),
            peer: addr.ip(),
            epsv,
            tls: Some(Arc::clone(cfg)),
        })
    }

    fn send(&mut self, line: &str) -> Res<()> {
        let mut out = Vec::with_capacity(line.len() + 2);
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
        self.reader
            .get_mut()
            .write_all(&out)
            .map_err(|e| Fail::Other(format!("sending {}: {e}", verb(line))))
    }

    fn line(&mut self) -> Res<String> {
        let mut buf = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut buf)
            .map_err(io_fail("reading a reply"))?;
        if n == 0 {
            return Err(Fail::Other(
                "the server closed the control connection".into(),
            ));
        }
        if buf.last() != Some(&b'\n') {
            return Err(Fail::Other("reply line too long or cut".into()));
        }
        Ok(String::from_utf8_lossy(&buf).trim_end().to_string())
    }

    /// Reads one (possibly multi-line) reply.
    pub fn reply(&mut self) -> Res<Reply> {
        let first = self.line()?;
        let code = parse_code(&first)
            .ok_or_else(|| Fail::Other(format!("not an FTP reply: {first:?}")))?;
        let mut text = first.clone();
        if first.as_bytes().get(3) == Some(&b'-') {
            let end = format!("{code} ");
            let mut lines = 0;
            loop {
                let l = self.line()?;
                text.push('\n');
                text.push_str(&l);
                if l.starts_with(&end) || l == end.trim_end() {
                    break;
                }
                lines += 1;
                if lines > MAX_REPLY_LINES {
                    return Err(Fail::Other("multi-line reply too long".into()));
                }
            }
        }
        Ok(Reply { code, text })
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, line: &str) -> Res<Reply> {
        self.send(line)?;
        self.reply()
    }

    /// Sends a command and fails unless the reply code is one of `ok`.
    pub fn expect(&mut self, line: &str, ok: &[u16]) -> Res<Reply> {
        let r = self.cmd(line)?;
        if ok.contains(&r.code) {
            Ok(r)
        } else {
            Err(Fail::Other(format!("{}: {}", verb(line), r.first_line())))
        }
    }

    /// USER and PASS (PASS only when USER asks for it).
    pub fn login(&mut self, user: &str, pass: &str) -> Res<()> {
        let r = self.expect(&format!("USER {user}"), &[230, 331])?;
        if r.code == 331 {
            self.expect(&format!("PASS {pass}"), &[230])?;
        }
        if self.tls.is_some() {
            self.expect("PBSZ 0", &[200])?;
            self.expect("PROT P", &[200])?;
        }
        Ok(())
    }

    /// PASV (or EPSV) and the connection to the port it names. The address is always the
    /// control connection's peer (as curl does by default).
    pub fn open_data(&mut self) -> Res<Stream> {
        let port = if self.epsv {
            let r = self.expect("EPSV", &[229])?;
            parse_epsv(&r.text)
        } else {
            let r = self.expect("PASV", &[227])?;
            parse_pasv(&r.text)
        }
        .ok_or_else(|| Fail::Other("unparsable passive reply".into()))?;
        let addr = SocketAddr::new(self.peer, port);
        let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .map_err(|e| Fail::Other(format!("data connect {addr}: {e}")))?;
        s.set_read_timeout(Some(IO_TIMEOUT))
            .map_err(io_fail("set timeout"))?;
        s.set_write_timeout(Some(IO_TIMEOUT))
            .map_err(io_fail("set timeout"))?;
        // The handshake happens at the first read or write, after the server's 150.
        match &self.tls {
            Some(cfg) => encrypt(cfg, self.peer, s),
            None => Ok(Stream::Plain(s)),
        }
    }

    /// Opens a data connection, sends `cmd` and expects 150/125. The caller reads the data,
    /// then calls [`Ctrl::finish`].
    fn start_transfer(&mut self, cmd: &str) -> Res<Stream> {
        let data = self.open_data()?;
        self.expect(cmd, &[150, 125])?;
        Ok(data)
    }

    /// Reads the end-of-transfer reply, which must be 226 (or 250).
    fn finish(&mut self, cmd: &str) -> Res<()> {
        let r = self.reply()?;
        if r.code == 226 || r.code == 250 {
            Ok(())
        } else {
            Err(Fail::Other(format!(
                "{} ended: {}",
                verb(cmd),
                r.first_line()
            )))
        }
    }

    /// RETR `name`, which must be `size` bytes of the pattern. Returns the bytes received.
    pub fn retr(&mut self, name: &str, size: u64, v: &Verifier, buf: &mut [u8]) -> Res<u64> {
        match self.try_retr(name, size, v, buf)? {
            Ok(n) => Ok(n),
            Err(line) => Err(Fail::Other(format!("RETR: {line}"))),
        }
    }

    /// [`Ctrl::retr`], except that a refused RETR (a 4xx/5xx reply before any data) is
    /// `Ok(Err(reply line))`.
    pub fn try_retr(
        &mut self,
        name: &str,
        size: u64,
        v: &Verifier,
        buf: &mut [u8],
    ) -> Res<Result<u64, String>> {
        let cmd = format!("RETR {name}");
        let mut data = self.open_data()?;
        let r = self.cmd(&cmd)?;
        if r.code >= 400 {
            return Ok(Err(r.first_line().to_string()));
        }
        if r.code != 150 && r.code != 125 {
            return Err(Fail::Other(format!("RETR: {}", r.first_line())));
        }
        let mut off = 0u64;
        loop {
            let n = match data.read(buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fail::Other(format!("reading {name}: {e}"))),
            };
            if off + n as u64 > size {
                return Err(Fail::Verify(format!(
                    "{name}: more than the expected {size} bytes"
                )));
            }
            if let Some(at) = v.check(off, &buf[..n]) {
                return Err(Fail::Verify(format!(
                    "{name}: wrong byte at offset {at} (not the --pattern byte {})",
                    pattern_byte(at)
                )));
            }
            off += n as u64;
        }
        drop(data);
        if off != size {
            return Err(Fail::Verify(format!(
                "{name}: {off} bytes received, {size} expected"
            )));
        }
        self.finish(&cmd)?;
        Ok(Ok(off))
    }

    /// STOR `name`: `size` bytes of the pattern over a fresh passive connection, closed after
    /// the last byte; done when the server's 226 (or 250) arrives, i.e. once it has written
    /// every byte to its file.
    pub fn stor(&mut self, name: &str, size: u64, v: &Verifier) -> Res<Stored> {
        let cmd = format!("STOR {name}");
        let mut data = self.open_data()?;
        let r = self.cmd(&cmd)?;
        if r.code >= 400 {
            return Ok(Stored::Refused(r.first_line().to_string()));
        }
        if r.code != 150 && r.code != 125 {
            return Err(Fail::Other(format!("STOR: {}", r.first_line())));
        }
        let mut off = 0u64;
        while off < size {
            let n = (size - off).min(BUF_SIZE as u64) as usize;
            let chunk = v.pattern_at(off, n);
            if let Err(e) = data.write_all(chunk) {
                // The server's reason, when it gave one (disk full, quota, ...).
                let why = match self.reply() {
                    Ok(r) => format!("; the server: {}", r.first_line()),
                    Err(_) => String::new(),
                };
                return Err(Fail::Other(format!(
                    "sending {name} at offset {off}: {e}{why}"
                )));
            }
            off += n as u64;
        }
        // The end of the file is the end of the connection.
        data.close()
            .map_err(|e| Fail::Other(format!("closing {name}: {e}")))?;
        drop(data);
        self.finish(&cmd)?;
        Ok(Stored::Done)
    }

    /// A listing command (`LIST dir`, `MLSD dir`): the raw bytes received.
    pub fn listing(&mut self, cmd: &str) -> Res<Vec<u8>> {
        let mut data = self.start_transfer(cmd)?;
        let mut out = Vec::new();
        data.read_to_end(&mut out)
            .map_err(|e| Fail::Other(format!("reading {}: {e}", verb(cmd))))?;
        drop(data);
        self.finish(cmd)?;
        Ok(out)
    }
}

/// The verb of a command line, for messages (never the password).
fn verb(line: &str) -> &str {
    line.split(' ').next().unwrap_or(line)
}

fn parse_code(line: &str) -> Option<u16> {
    let head = line.get(..3)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match line.as_bytes().get(3) {
        None | Some(b' ') | Some(b'-') => head.parse().ok(),
        _ => None,
    }
}

/// `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).`: the port.
pub fn parse_pasv(text: &str) -> Option<u16> {
    let start = text.find('(')? + 1;
    let inner: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .collect();
    let nums: Vec<u16> = inner.split(',').filter_map(|n| n.parse().ok()).collect();
    if nums.len() != 6 || nums[4] > 255 || nums[5] > 255 {
        return None;
    }
    Some(nums[4] * 256 + nums[5])
}

/// `229 Entering Extended Passive Mode (|||port|)`: the port.
pub fn parse_epsv(text: &str) -> Option<u16> {
    let start = text.find("(|||")? + 4;
    let rest = &text[start..];
    let end = rest.find('|')?;
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_period_and_check() {
        let v = Verifier::new();
        let p = pattern(10_000);
        assert_eq!(p[0], 7);
        assert_eq!(p[1], 38);
        assert_eq!(p[251], 7);
        assert_eq!(v.check(0, &p), None);
        assert_eq!(v.check(1000, &p[1000..5000]), None);
        let mut q = p[300..900].to_vec();
        q[17] ^= 1;
        assert_eq!(v.check(300, &q), Some(317));
    }

    #[test]
    fn passive_replies() {
        assert_eq!(
            parse_pasv("227 Entering Passive Mode (127,0,0,1,200,10)."),
            Some(200 * 256 + 10)
        );
        assert_eq!(parse_pasv("227 nonsense"), None);
        assert_eq!(
            parse_epsv("229 Entering Extended Passive Mode (|||40001|)"),
            Some(40001)
        );
        assert_eq!(parse_code("230-hi"), Some(230));
        assert_eq!(parse_code("23x hi"), None);
    }
}

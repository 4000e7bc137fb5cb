//! proxy_protocol_enable: the client behind a load balancer (issue #20).
//!
//! The balancer's connection arrives with a PROXY protocol header (`crate::proto::proxy`) in
//! front of the client's bytes. The listener only checks, without reading a byte, that the
//! peer is a proxy_protocol_trusted balancer; the forked connection process reads the header
//! (bounded, within accept_timeout, never a byte past it), so that a stalled or hostile sender
//! holds up nothing but its own process. Its address is the client's from then on: the logs,
//! PAM_RHOST and the data connection checks all take it from here.
//!
//! max_per_ip needs that address, which the listener learns only after the fork: the child
//! asks it over a socket pair made for the purpose ([`Admission`]), and the listener answers
//! from its one count of sessions per address ([`Admissions`]), so two children of one client
//! can never both be counted as the first.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::proto::proxy::{self, Header, Parsed};
use crate::proto::reply;

/// How many bytes one look at the connection takes in: a version 1 line, or a version 2
/// header's fixed part and addresses, in one read.
const PEEK: usize = 256;
/// Longest admission request: an IPv6 address in text.
const MAX_REQUEST: usize = 64;

/// Whether `peer` may send a header at all (checked by the listener, before the fork).
pub fn trusted(config: &Config, peer: IpAddr) -> bool {
    let list = config.proxy_protocol_trusted.as_deref().unwrap_or("");
    // The value was validated when the configuration was loaded.
    proxy::Trusted::parse(list).is_ok_and(|t| t.contains(peer))
}

/// Logs a connection refused before its session began.
pub fn refused(peer: IpAddr, why: &str) {
    crate::log::report(&format!(
        "PROXY protocol: refused the connection from {peer}: {why}"
    ));
}

/// Reads the header on a fresh connection from the balancer `peer`. `Ok(Some(client))`: serve
/// the session for `client`; `Ok(None)`: a LOCAL header (the balancer's health check), close
/// quietly; `Err`: why the connection is refused (to be logged; no greeting is sent).
pub fn read_header(
    stream: &TcpStream,
    peer: SocketAddr,
    timeout_secs: u32,
) -> Result<Option<SocketAddr>, String> {
    let deadline =
        (timeout_secs > 0).then(|| Instant::now() + Duration::from_secs(u64::from(timeout_secs)));
    let mut seen: Vec<u8> = Vec::new();
    let mut window = [0u8; PEEK];
    loop {
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("no PROXY protocol header within accept_timeout".into());
            }
            stream
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
        }
        let n = match stream.peek(&mut window) {
            Ok(0) => return Err("closed before a PROXY protocol header".into()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("no PROXY protocol header within accept_timeout".into())
            }
            Err(e) => return Err(format!("reading the PROXY protocol header: {e}")),
        };
        let fresh = window.get(..n).unwrap_or_default();
        let mut candidate = seen.clone();
        candidate.extend_from_slice(fresh);
        let consume = match proxy::parse(&candidate) {
            Parsed::Complete(header, len) => {
                // Only the header's own bytes; the client's first command stays unread.
                let take = len.saturating_sub(seen.len());
                let mut rest = vec![0u8; take];
                let mut s = stream;
                s.read_exact(&mut rest).map_err(|e| e.to_string())?;
                let _ = stream.set_read_timeout(None);
                return Ok(match header {
                    Header::Proxied { source, .. } => Some(source),
                    Header::Unknown => Some(peer),
                    Header::Local => None,
                });
            }
            Parsed::Invalid(why) => return Err(why.to_string()),
            // Every byte seen belongs to the header: take them in, wait for the rest.
            Parsed::Incomplete => n,
        };
        let mut taken = vec![0u8; consume];
        let mut s = stream;
        s.read_exact(&mut taken).map_err(|e| e.to_string())?;
        seen.extend_from_slice(&taken);
    }
}

/// The child's end: asks the listener whether one more session from `client` fits max_per_ip.
pub struct Admission(pub UnixStream);

impl Admission {
    /// True if the listener counted the session; false if the address has its max_per_ip
    /// (the client has been told with vsftpd's 421) or the listener is gone.
    pub fn admit(mut self, stream: &TcpStream, client: IpAddr) -> bool {
        let asked = self.0.write_all(client.to_string().as_bytes());
        let mut answer = [0u8; 1];
        let admitted =
            asked.is_ok() && matches!(self.0.read(&mut answer), Ok(1)) && answer == *b"Y";
        if !admitted && answer == *b"N" {
            let mut s = stream;
            let _ = s.write_all(&reply::encode(reply::TOO_MANY_FROM_IP));
        }
        admitted
    }
}

/// The listener's end: children that will ask, by pid.
#[derive(Default)]
pub struct Admissions {
    waiting: Vec<(i32, UnixStream)>,
}

impl Admissions {
    /// A pair for the next child: the listener keeps one end (after [`Admissions::add`]),
    /// the child takes the other.
    pub fn pair() -> std::io::Result<(UnixStream, Admission)> {
        let (ours, theirs) = UnixStream::pair()?;
        ours.set_nonblocking(true)?;
        Ok((ours, Admission(theirs)))
    }

    pub fn add(&mut self, pid: i32, ours: UnixStream) {
        self.waiting.push((pid, ours));
    }

    /// The ends to poll for a request (and to close in a new child).
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        self.waiting.iter().map(|(_, s)| s.as_fd()).collect()
    }

    /// Answers every child whose end is ready (`ready` in the order of [`Admissions::fds`]):
    /// `admit(pid, ip)` counts the session and says whether it fits. A child that closed or
    /// sent something that is not an address is forgotten (its session is no client's yet).
    pub fn answer(&mut self, ready: &[bool], mut admit: impl FnMut(i32, IpAddr) -> bool) {
        let mut keep = Vec::with_capacity(self.waiting.len());
        for ((pid, mut sock), &r) in self
            .waiting
            .drain(..)
            .zip(ready.iter().chain(std::iter::repeat(&false)))
        {
            if !r {
                keep.push((pid, sock));
                continue;
            }
            let mut buf = [0u8; MAX_REQUEST];
            let ip = match sock.read(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    keep.push((pid, sock));
                    continue;
                }
                Ok(n) => buf
                    .get(..n)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .and_then(|s| s.parse::<IpAddr>().ok()),
                Err(_) => None,
            };
            if let Some(ip) = ip {
                let yes = admit(pid, crate::data::passive::canonical_ip(ip));
                let _ = sock.write_all(if yes { b"Y" } else { b"N" });
            }
        }
        self.waiting = keep;
    }
}

/// A connection process behind a balancer: the header, the admission, then the session as
/// [`super::serve_connection`] serves it, for the client the header names.
pub fn serve(
    settings: &crate::config::Settings,
    prepared: &crate::jail::Prepared,
    stream: TcpStream,
    balancer: SocketAddr,
    clients: u32,
    admission: Option<Admission>,
) -> i32 {
    let client = match read_header(&stream, balancer, settings.config.accept_timeout) {
        Ok(Some(client)) => client,
        Ok(None) => return 0,
        Err(why) => {
            refused(balancer.ip(), &why);
            return 0;
        }
    };
    if let Some(a) = admission {
        if !a.admit(&stream, crate::data::passive::canonical_ip(client.ip())) {
            return 0;
        }
    }
    super::serve_connection(settings, prepared, stream, client, clients)
}

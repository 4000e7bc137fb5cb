//! Passive data connections (PASV, EPSV): a listening socket on the control connection's local
//! address, one accept, and the check that the connection comes from the control peer
//! (pasv_promiscuous=NO).

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use super::active::{ActivePolicy, ConnectError};
use crate::privsep::privops;
use crate::sys::net::{self, ListenSpec, PollFd};

/// The port range vsftpd would use: 0 for either bound means the full unprivileged range.
pub fn port_range(min: u32, max: u32) -> (u16, u16) {
    let lo = if min == 0 {
        1024
    } else {
        u16::try_from(min).unwrap_or(u16::MAX)
    };
    let hi = if max == 0 {
        u16::MAX
    } else {
        u16::try_from(max).unwrap_or(u16::MAX)
    };
    (lo.min(hi), hi.max(lo))
}

/// Binds a passive listener on `local_ip` with a port in `[lo, hi]`.
pub fn listen(local_ip: IpAddr, lo: u16, hi: u16) -> io::Result<TcpListener> {
    let span = u64::from(hi - lo) + 1;
    // A random starting point: a port a client can guess is one an attacker can connect to
    // first, and sessions that all started at one port would stack their TIME_WAIT
    // connections on it (each bind then checks them all).
    let start = crate::sys::random::u64() % span;
    let attempts = span.min(128);
    let mut last_err = io::Error::from(io::ErrorKind::AddrInUse);
    for i in 0..attempts {
        let off = (start + i) % span;
        let port = lo.saturating_add(u16::try_from(off).unwrap_or(0));
        let spec = ListenSpec {
            addr: SocketAddr::new(local_ip, port),
            dual_stack: true,
            backlog: 1,
            nonblocking: true,
        };
        match net::listen(&spec) {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last_err = e,
            Err(e) => return Err(e),
        }
    }
    Err(last_err)
}

/// Why a data connection could not be had.
#[derive(Debug)]
pub enum AcceptError {
    /// Nothing connected within accept_timeout.
    Timeout,
    /// A connection from an address other than the control peer's (dropped at once).
    BadIp,
    /// No PASV/EPSV came first.
    NotListening,
    Io(io::Error),
}

/// An address as vsftpd compares it: an IPv4 client on a dual-stack socket is its IPv4 address.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Waits up to `timeout` for a connection on `listener`; returns it in blocking mode, with the
/// peer's address. Whether that peer may be served is the caller's check
/// (`privsep::privops::accept_pasv` makes it).
pub fn accept(
    listener: &TcpListener,
    timeout: Duration,
) -> Result<(TcpStream, SocketAddr), AcceptError> {
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                stream.set_nonblocking(false).map_err(AcceptError::Io)?;
                return Ok((stream, peer));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(AcceptError::Io(e)),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(AcceptError::Timeout);
        }
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1);
        net::poll(
            &[PollFd {
                fd: listener.as_fd(),
                read: true,
                write: false,
                urgent: false,
            }],
            ms,
        )
        .map_err(AcceptError::Io)?;
    }
}

/// Where a session's data connections come from, passive and active: its own sockets
/// (one-process model) or the privileged helper (two-process model, where the confined process
/// may not call socket(2)).
pub trait PassiveSource {
    /// Opens a new passive listener (dropping any previous one); returns its port.
    fn listen(&mut self) -> io::Result<u16>;
    /// Is a passive listener waiting for the next transfer?
    fn is_listening(&self) -> bool;
    /// Takes the client's connection on the pending listener.
    fn accept(&mut self) -> Result<TcpStream, AcceptError>;
    /// Drops the pending passive listener, if any (PORT/EPRT replace PASV, as in vsftpd).
    fn stop_listening(&mut self);
    /// Connects to a PORT/EPRT target, after checking it against the policy (whoever
    /// connects checks: the helper does not trust the session's own check).
    fn connect(&mut self, target: SocketAddr) -> Result<TcpStream, ConnectError>;
    /// chown_uploads: gives an anonymous upload to chown_username (the helper does it, with
    /// its own checks; the one-process model does what its privileges allow).
    fn chown_upload(&mut self, file: std::os::fd::BorrowedFd<'_>) -> io::Result<()>;
}

/// The settings a passive listener obeys.
#[derive(Clone, Copy, Debug)]
pub struct PassivePolicy {
    pub local_ip: IpAddr,
    pub control_peer: IpAddr,
    pub min_port: u16,
    pub max_port: u16,
    pub promiscuous: bool,
    pub accept_timeout: Duration,
    /// Where active (PORT/EPRT) connections may go, and how they are made.
    pub active: ActivePolicy,
}

impl PassivePolicy {
    pub fn from_config(
        c: &crate::config::Config,
        local_ip: IpAddr,
        control_peer: IpAddr,
    ) -> PassivePolicy {
        let (min_port, max_port) = port_range(c.pasv_min_port, c.pasv_max_port);
        PassivePolicy {
            local_ip,
            control_peer,
            min_port,
            max_port,
            promiscuous: c.pasv_promiscuous,
            accept_timeout: Duration::from_secs(u64::from(c.accept_timeout.max(1))),
            active: ActivePolicy::from_config(c, local_ip, control_peer),
        }
    }
}

/// Data connections made by the session process itself (the one-process model), under the
/// same checks the helper makes.
pub struct LocalPassive {
    policy: PassivePolicy,
    listener: Option<TcpListener>,
    chown: Option<privops::ChownUpload>,
}

impl LocalPassive {
    pub fn new(policy: PassivePolicy, chown: Option<privops::ChownUpload>) -> LocalPassive {
        LocalPassive {
            policy,
            listener: None,
            chown,
        }
    }
}

impl PassiveSource for LocalPassive {
    fn listen(&mut self) -> io::Result<u16> {
        self.listener = None;
        let l = privops::listen_pasv(&self.policy)?;
        let port = l.local_addr()?.port();
        self.listener = Some(l);
        Ok(port)
    }

    fn is_listening(&self) -> bool {
        self.listener.is_some()
    }

    fn accept(&mut self) -> Result<TcpStream, AcceptError> {
        let l = self.listener.take().ok_or(AcceptError::NotListening)?;
        privops::accept_pasv(&l, &self.policy)
    }

    fn stop_listening(&mut self) {
        self.listener = None;
    }

    fn connect(&mut self, target: SocketAddr) -> Result<TcpStream, ConnectError> {
        self.listener = None;
        privops::connect_port(&self.policy.active, target)
    }

    fn chown_upload(&mut self, file: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
        match &self.chown {
            Some(how) => privops::chown_upload(how, file),
            None => Err(io::Error::from(io::ErrorKind::PermissionDenied)),
        }
    }
}

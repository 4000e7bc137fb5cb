//! Active data connections (PORT, EPRT; issue #5): where the server may connect to
//! (port_promiscuous=NO: only the control connection's peer, never a port below 1024), and
//! the connect itself — from the control connection's local address, from ftp_data_port with
//! connect_from_port_20=YES (SO_REUSEADDR, as vsftpd), within connect_timeout.
//!
//! The rule for the target is the privileged side's (`privsep::privops::port_target_allowed`):
//! the session asks it when the command arrives (to answer `500 Illegal …`), and whoever
//! connects — the helper in the two-process model — asks it again before connecting: the
//! helper trusts nothing the child says.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::sys::net;

/// The settings an active connection obeys.
#[derive(Clone, Copy, Debug)]
pub struct ActivePolicy {
    /// The control connection's local address: the data connection's source.
    pub local_ip: IpAddr,
    /// The control connection's peer: the only allowed target unless promiscuous.
    pub control_peer: IpAddr,
    /// port_promiscuous: any target host and port.
    pub promiscuous: bool,
    /// connect_from_port_20: the source port is `data_port` instead of an ephemeral one.
    pub from_data_port: bool,
    /// ftp_data_port.
    pub data_port: u16,
    /// connect_timeout (0 in the config: None, no bound but the kernel's, as vsftpd).
    pub connect_timeout: Option<Duration>,
}

/// Why an active connection was not made.
#[derive(Debug)]
pub enum ConnectError {
    /// The target is not the control peer, or its port is below 1024 (port_promiscuous=NO).
    NotAllowed,
    /// Nothing answered within connect_timeout.
    Timeout,
    Io(io::Error),
}

/// Ports below this are "reserved" (IPPORT_RESERVED): never a PORT/EPRT target.
pub const FIRST_UNRESERVED_PORT: u16 = 1024;

impl ActivePolicy {
    pub fn from_config(
        c: &crate::config::Config,
        local_ip: IpAddr,
        control_peer: IpAddr,
    ) -> ActivePolicy {
        ActivePolicy {
            local_ip,
            control_peer,
            promiscuous: c.port_promiscuous,
            from_data_port: c.connect_from_port_20,
            data_port: u16::try_from(c.ftp_data_port).unwrap_or(20),
            connect_timeout: (c.connect_timeout > 0)
                .then(|| Duration::from_secs(u64::from(c.connect_timeout))),
        }
    }

    /// The local address to bind before connecting.
    pub fn source(&self) -> SocketAddr {
        let port = if self.from_data_port {
            self.data_port
        } else {
            0
        };
        SocketAddr::new(self.local_ip, port)
    }
}

/// `target` in the address family of `local` (an IPv4 target from an IPv6 socket becomes
/// v4-mapped, a v4-mapped target from an IPv4 socket plain IPv4); None when they cannot meet.
pub fn same_family(local: IpAddr, target: SocketAddr) -> Option<SocketAddr> {
    match (local, target.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => Some(target),
        (IpAddr::V6(_), IpAddr::V4(v4)) => Some(SocketAddr::new(
            IpAddr::V6(v4.to_ipv6_mapped()),
            target.port(),
        )),
        (IpAddr::V4(_), IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| SocketAddr::new(IpAddr::V4(v4), target.port())),
    }
}

/// Connects to `target` as the policy says. Whether the target is allowed at all is the
/// caller's check (`privsep::privops::connect_port` makes it, then calls this).
pub fn connect(policy: &ActivePolicy, target: SocketAddr) -> Result<TcpStream, ConnectError> {
    let Some(to) = same_family(policy.local_ip, target) else {
        return Err(ConnectError::Io(io::Error::from(
            io::ErrorKind::AddrNotAvailable,
        )));
    };
    match net::connect_from(policy.source(), to, policy.connect_timeout) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(ConnectError::Timeout),
        Err(e) => Err(ConnectError::Io(e)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A policy on 127.0.0.1 towards `peer`, for the tests here and the privileged checks'.
    pub(crate) fn policy(peer: &str, promiscuous: bool) -> ActivePolicy {
        ActivePolicy {
            local_ip: "127.0.0.1".parse().unwrap(),
            control_peer: peer.parse().unwrap(),
            promiscuous,
            from_data_port: false,
            data_port: 20,
            connect_timeout: Some(Duration::from_secs(1)),
        }
    }

    #[test]
    fn families_meet() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let t4: SocketAddr = "127.0.0.1:2000".parse().unwrap();
        let t6: SocketAddr = "[::ffff:127.0.0.1]:2000".parse().unwrap();
        assert_eq!(same_family(v4, t4), Some(t4));
        assert_eq!(same_family(v6, t4), Some(t6));
        assert_eq!(same_family(v4, t6), Some(t4));
        assert_eq!(same_family(v4, "[::1]:2000".parse().unwrap()), None);
    }

    #[test]
    fn source_port() {
        let mut p = policy("127.0.0.1", false);
        assert_eq!(p.source().port(), 0);
        p.from_data_port = true;
        p.data_port = 2020;
        assert_eq!(p.source(), "127.0.0.1:2020".parse().unwrap());
    }
}

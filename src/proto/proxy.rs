//! HAProxy's PROXY protocol, versions 1 (text) and 2 (binary), as a load balancer puts it in
//! front of a control connection (proxy_protocol_enable): who the client really is.
//!
//! Written from the protocol's public specification (haproxy's `proxy-protocol.txt`). Only the
//! receiving side exists here: [`parse`] looks at the bytes read so far and says whether they
//! are a complete header (and how long), need more, or can never become one. The caller
//! (`crate::daemon::proxy`) reads no byte past the header: what follows is the client's.
//!
//! Bounds: a version 1 line is at most [`MAX_PROXY_V1`] bytes with its CRLF (the
//! specification's own limit); a version 2 header at most [`MAX_PROXY_V2`] bytes, TLVs
//! included, whatever its length field says. Anything that does not match the format exactly
//! is refused, as the specification asks: no lenient reading of addresses or ports.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::limits::{MAX_PROXY_V1, MAX_PROXY_V2};

/// The twelve bytes that open every version 2 header.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Version 2's fixed part: signature, version and command, family, length.
const V2_FIXED: usize = 16;

/// What a complete header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    /// A proxied TCP connection: the client's address and the address it connected to.
    Proxied {
        source: SocketAddr,
        destination: SocketAddr,
    },
    /// v1 `UNKNOWN`, or v2 PROXY with an address family we do not carry (unspecified, AF_UNIX):
    /// the specification says to use the connection's own endpoints.
    Unknown,
    /// v2 LOCAL: the balancer's own connection (a health check), not a client's.
    Local,
}

/// Why bytes are not a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Neither `PROXY ` nor the version 2 signature.
    NotProxy,
    /// A version 1 line longer than [`MAX_PROXY_V1`] without its CRLF.
    V1TooLong,
    /// A version 1 line that does not match the format.
    V1Malformed,
    /// A version 2 header with a version other than 2, a command other than LOCAL or PROXY, an
    /// unknown family or transport, or a datagram transport.
    V2Unsupported,
    /// A version 2 length shorter than its addresses or above [`MAX_PROXY_V2`].
    V2BadLength,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Invalid::NotProxy => "not a PROXY protocol header",
            Invalid::V1TooLong => "PROXY v1 line without CRLF in its first 107 bytes",
            Invalid::V1Malformed => "malformed PROXY v1 line",
            Invalid::V2Unsupported => "unsupported PROXY v2 version, command or family",
            Invalid::V2BadLength => "PROXY v2 header of a wrong length",
        })
    }
}

/// The outcome of [`parse`] on the bytes read so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A complete header of this many bytes; the bytes after it are not the header's.
    Complete(Header, usize),
    /// Every byte so far fits a header that is not complete yet: read more (no byte that
    /// could follow the header has been seen).
    Incomplete,
    /// These bytes can never begin a header.
    Invalid(Invalid),
}

/// Looks at the first bytes of a connection. Never reads past the end of the header, and
/// decides [`Parsed::Invalid`] as soon as the bytes seen rule a header out.
pub fn parse(data: &[u8]) -> Parsed {
    const V1: &[u8] = b"PROXY ";
    let sig_len = data.len().min(V2_SIGNATURE.len());
    let v1_len = data.len().min(V1.len());
    if data.get(..sig_len) == V2_SIGNATURE.get(..sig_len) && !data.is_empty() {
        parse_v2(data)
    } else if data.get(..v1_len) == V1.get(..v1_len) {
        parse_v1(data)
    } else {
        Parsed::Invalid(Invalid::NotProxy)
    }
}

fn parse_v1(data: &[u8]) -> Parsed {
    let window = data.get(..data.len().min(MAX_PROXY_V1)).unwrap_or_default();
    let Some(cr) = window.windows(2).position(|w| w == b"\r\n") else {
        // A lone LF ends nothing (the specification refuses it), but it can never be part of
        // a valid line either.
        return if window.contains(&b'\n') {
            Parsed::Invalid(Invalid::V1Malformed)
        } else if window.len() >= MAX_PROXY_V1 {
            Parsed::Invalid(Invalid::V1TooLong)
        } else {
            Parsed::Incomplete
        };
    };
    let line = window.get(..cr).unwrap_or_default();
    match v1_fields(line) {
        Some(h) => Parsed::Complete(h, cr + 2),
        None => Parsed::Invalid(Invalid::V1Malformed),
    }
}

/// `PROXY <proto> <src> <dst> <sport> <dport>` without its CRLF.
fn v1_fields(line: &[u8]) -> Option<Header> {
    let text = std::str::from_utf8(line).ok()?;
    let rest = text.strip_prefix("PROXY ")?;
    if rest == "UNKNOWN" || rest.starts_with("UNKNOWN ") {
        // The receiver ignores the rest of the line (specification, 2.1); a lone CR or LF
        // inside it is still nothing a sender would write (and a lone LF is refused before
        // the CRLF arrives, so it must be after it too).
        return (!rest.contains(['\r', '\n'])).then_some(Header::Unknown);
    }
    let mut f = rest.split(' ');
    let (proto, src, dst, sport, dport) = (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
    if f.next().is_some() {
        return None;
    }
    let (src, dst) = match proto {
        "TCP4" => (IpAddr::V4(v1_ipv4(src)?), IpAddr::V4(v1_ipv4(dst)?)),
        "TCP6" => (IpAddr::V6(v1_ipv6(src)?), IpAddr::V6(v1_ipv6(dst)?)),
        _ => return None,
    };
    Some(Header::Proxied {
        source: SocketAddr::new(src, v1_number(sport)?),
        destination: SocketAddr::new(dst, v1_number(dport)?),
    })
}

/// A decimal 0..=65535 without a leading zero.
fn v1_number(s: &str) -> Option<u16> {
    let ok = !s.is_empty()
        && s.len() <= 5
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// Exactly four decimal numbers 0..=255, no leading zeros, one dot between.
fn v1_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut octets {
        let n = v1_number(parts.next()?)?;
        *o = u8::try_from(n).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

/// Hexadecimal groups and colons; a trailing dotted quad too, as inet_ntop writes an IPv4
/// client of an IPv6 socket (`::ffff:192.0.2.7`, what HAProxy sends then). No zone.
fn v1_ipv6(s: &str) -> Option<Ipv6Addr> {
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    {
        return None;
    }
    s.parse().ok()
}

fn parse_v2(data: &[u8]) -> Parsed {
    let Some(fixed) = data.get(..V2_FIXED) else {
        // Only the signature's prefix so far; ver_cmd and family are checked when they come.
        return match (data.get(12), data.get(13)) {
            (Some(&vc), _) if !v2_version_command_ok(vc) => Parsed::Invalid(Invalid::V2Unsupported),
            (_, Some(&fam)) if v2_family(fam).is_none() => Parsed::Invalid(Invalid::V2Unsupported),
            _ => Parsed::Incomplete,
        };
    };
    let (vc, fam) = (fixed.get(12).copied(), fixed.get(13).copied());
    let (Some(vc), Some(fam)) = (vc, fam) else {
        return Parsed::Invalid(Invalid::V2BadLength);
    };
    if !v2_version_command_ok(vc) {
        return Parsed::Invalid(Invalid::V2Unsupported);
    }
    let Some(family) = v2_family(fam) else {
        return Parsed::Invalid(Invalid::V2Unsupported);
    };
    let len = match (fixed.get(14), fixed.get(15)) {
        (Some(&hi), Some(&lo)) => usize::from(u16::from_be_bytes([hi, lo])),
        _ => return Parsed::Invalid(Invalid::V2BadLength),
    };
    let total = V2_FIXED + len;
    let local = vc & 0x0f == 0;
    // LOCAL ignores the address block (specification, 2.2), but not its length.
    if total > MAX_PROXY_V2 || (!local && len < family.address_len()) {
        return Parsed::Invalid(Invalid::V2BadLength);
    }
    let Some(block) = data.get(V2_FIXED..total) else {
        return Parsed::Incomplete;
    };
    if local {
        return Parsed::Complete(Header::Local, total);
    }
    let header = match family {
        V2Family::Unspecified | V2Family::Unix => Header::Unknown,
        V2Family::Tcp4 => {
            let a = |i: usize| block.get(i).copied().unwrap_or(0);
            let src = Ipv4Addr::new(a(0), a(1), a(2), a(3));
            let dst = Ipv4Addr::new(a(4), a(5), a(6), a(7));
            Header::Proxied {
                source: SocketAddr::new(IpAddr::V4(src), be16(block, 8)),
                destination: SocketAddr::new(IpAddr::V4(dst), be16(block, 10)),
            }
        }
        V2Family::Tcp6 => {
            let ip = |at: usize| {
                let mut o = [0u8; 16];
                if let Some(b) = block.get(at..at + 16) {
                    o.copy_from_slice(b);
                }
                Ipv6Addr::from(o)
            };
            Header::Proxied {
                source: SocketAddr::new(IpAddr::V6(ip(0)), be16(block, 32)),
                destination: SocketAddr::new(IpAddr::V6(ip(16)), be16(block, 34)),
            }
        }
    };
    Parsed::Complete(header, total)
}

fn be16(b: &[u8], at: usize) -> u16 {
    match (b.get(at), b.get(at + 1)) {
        (Some(&hi), Some(&lo)) => u16::from_be_bytes([hi, lo]),
        _ => 0,
    }
}

/// Version 2, command LOCAL (0) or PROXY (1).
fn v2_version_command_ok(vc: u8) -> bool {
    vc >> 4 == 2 && vc & 0x0f <= 1
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum V2Family {
    Unspecified,
    Tcp4,
    Tcp6,
    Unix,
}

impl V2Family {
    fn address_len(self) -> usize {
        match self {
            V2Family::Unspecified => 0,
            V2Family::Tcp4 => 12,
            V2Family::Tcp6 => 36,
            V2Family::Unix => 216,
        }
    }
}

/// The family and transport byte; datagram transports are no control connection.
fn v2_family(b: u8) -> Option<V2Family> {
    match b {
        0x00 => Some(V2Family::Unspecified),
        0x11 => Some(V2Family::Tcp4),
        0x21 => Some(V2Family::Tcp6),
        0x31 => Some(V2Family::Unix),
        _ => None,
    }
}

/// A version 1 line for a proxied connection (`UNKNOWN` when the families differ); for
/// tests, the fuzz round trip and the benchmark's direct mode.
pub fn encode_v1(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let line = match (source, destination) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => format!(
            "PROXY TCP4 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        ),
        (SocketAddr::V6(s), SocketAddr::V6(d)) => format!(
            "PROXY TCP6 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        ),
        _ => "PROXY UNKNOWN\r\n".to_string(),
    };
    line.into_bytes()
}

/// A version 2 header: PROXY with the two addresses (unspecified family when they differ),
/// or LOCAL (`None`); `tlvs` are appended as they are.
pub fn encode_v2(addrs: Option<(SocketAddr, SocketAddr)>, tlvs: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    let mut block = Vec::new();
    let (vc, fam) = match addrs {
        None => (0x20, 0x00),
        Some((SocketAddr::V4(s), SocketAddr::V4(d))) => {
            block.extend_from_slice(&s.ip().octets());
            block.extend_from_slice(&d.ip().octets());
            block.extend_from_slice(&s.port().to_be_bytes());
            block.extend_from_slice(&d.port().to_be_bytes());
            (0x21, 0x11)
        }
        Some((SocketAddr::V6(s), SocketAddr::V6(d))) => {
            block.extend_from_slice(&s.ip().octets());
            block.extend_from_slice(&d.ip().octets());
            block.extend_from_slice(&s.port().to_be_bytes());
            block.extend_from_slice(&d.port().to_be_bytes());
            (0x21, 0x21)
        }
        Some(_) => (0x21, 0x00),
    };
    block.extend_from_slice(tlvs);
    let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
    out.push(vc);
    out.push(fam);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(block.get(..usize::from(len)).unwrap_or_default());
    out
}

/// proxy_protocol_trusted: the peers allowed to send a header, as addresses and CIDR blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trusted(Vec<(IpAddr, u8)>);

impl Trusted {
    /// `a.b.c.d`, `a.b.c.d/n`, `x::y`, `x::y/n`, separated by commas (blanks around them
    /// allowed). An error names the entry that is wrong.
    pub fn parse(list: &str) -> Result<Trusted, String> {
        let mut out = Vec::new();
        for entry in list.split(',').map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            let (ip, bits) = match entry.split_once('/') {
                Some((ip, bits)) => (ip, Some(bits)),
                None => (entry, None),
            };
            let bad = || {
                format!("'{entry}' is not an address or CIDR block (such as 10.0.0.0/8 or 2001:db8::/32)")
            };
            let ip: IpAddr = ip.parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) if !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()) => {
                    b.parse::<u8>().ok().filter(|&n| n <= max).ok_or_else(bad)?
                }
                Some(_) => return Err(bad()),
            };
            out.push((ip, bits));
        }
        Ok(Trusted(out))
    }

    /// Whether `peer` (an IPv4 peer of an IPv6 listener as its IPv4 address) is listed.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = canonical(peer);
        self.0
            .iter()
            .any(|&(net, bits)| match (canonical(net), peer) {
                (IpAddr::V4(n), IpAddr::V4(p)) => prefix_eq(&n.octets(), &p.octets(), bits),
                (IpAddr::V6(n), IpAddr::V6(p)) => prefix_eq(&n.octets(), &p.octets(), bits),
                _ => false,
            })
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The first `bits` bits of `a` and `b` agree.
fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let mut left = usize::from(bits);
    for (x, y) in a.iter().zip(b) {
        if left == 0 {
            return true;
        }
        let take = left.min(8);
        let mask = 0xffu8 << (8 - take);
        if x & mask != y & mask {
            return false;
        }
        left -= take;
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn v1_tcp4_and_tcp6() {
        let h = b"PROXY TCP4 192.0.2.7 10.0.0.1 56324 21\r\nUSER x\r\n";
        assert_eq!(
            parse(h),
            Parsed::Complete(
                Header::Proxied {
                    source: sa("192.0.2.7:56324"),
                    destination: sa("10.0.0.1:21")
                },
                40
            )
        );
        let h = b"PROXY TCP6 2001:db8::7 ::1 1 65535\r\n";
        assert!(matches!(
            parse(h),
            Parsed::Complete(Header::Proxied { .. }, 36)
        ));
        assert_eq!(
            parse(b"PROXY UNKNOWN\r\n"),
            Parsed::Complete(Header::Unknown, 15)
        );
        assert_eq!(
            parse(b"PROXY UNKNOWN ffff::1 ::2 1 2\r\n"),
            Parsed::Complete(Header::Unknown, 31)
        );
    }

    #[test]
    fn v1_refuses_anything_inexact() {
        for bad in [
            &b"PROXY TCP4 192.0.2.07 10.0.0.1 1 21\r\n"[..],
            b"PROXY TCP4 192.0.2.7 10.0.0.1 01 21\r\n",
            b"PROXY TCP4 192.0.2.7 10.0.0.1 65536 21\r\n",
            b"PROXY TCP4 192.0.2.7  10.0.0.1 1 21\r\n",
            b"PROXY TCP4 ::1 ::1 1 21\r\n",
            b"PROXY TCP6 fe80::1%lo ::1 1 21\r\n",
            b"PROXY TCP4 1.2.3.4 1.2.3.4 1 21 extra\r\n",
            b"PROXY TCP4 1.2.3.4 1.2.3.4 1 21\n",
            b"PROXY UDP4 1.2.3.4 1.2.3.4 1 21\r\n",
            b"PROXY TCP4 256.2.3.4 1.2.3.4 1 21\r\n",
        ] {
            assert!(
                matches!(parse(bad), Parsed::Invalid(_)),
                "{}",
                bad.escape_ascii()
            );
        }
        assert_eq!(parse(b"USER ftp\r\n"), Parsed::Invalid(Invalid::NotProxy));
        assert_eq!(parse(b"PROX"), Parsed::Incomplete);
        assert_eq!(parse(b"PROXY TCP4 1.2.3.4"), Parsed::Incomplete);
        let long = [b"PROXY UNKNOWN ".as_slice(), &[b'x'; 200]].concat();
        assert_eq!(parse(&long), Parsed::Invalid(Invalid::V1TooLong));
        // 107 bytes with the CRLF is the longest line; one more is refused.
        let mut max = b"PROXY UNKNOWN ".to_vec();
        max.resize(105, b'f');
        max.extend_from_slice(b"\r\n");
        assert_eq!(parse(&max), Parsed::Complete(Header::Unknown, 107));
        let mut over = b"PROXY UNKNOWN ".to_vec();
        over.resize(106, b'f');
        over.extend_from_slice(b"\r\n");
        assert_eq!(parse(&over), Parsed::Invalid(Invalid::V1TooLong));
    }

    #[test]
    fn v2_round_trip_and_bounds() {
        let (s, d) = (sa("192.0.2.7:40000"), sa("10.0.0.1:21"));
        let h = encode_v2(Some((s, d)), &[]);
        assert_eq!(h.len(), 28);
        assert_eq!(
            parse(&h),
            Parsed::Complete(
                Header::Proxied {
                    source: s,
                    destination: d
                },
                28
            )
        );
        for cut in 0..h.len() {
            assert_eq!(parse(&h[..cut]), Parsed::Incomplete, "{cut}");
        }
        let (s6, d6) = (sa("[2001:db8::7]:1"), sa("[::1]:21"));
        let h = encode_v2(Some((s6, d6)), b"\x04\x00\x01x");
        assert!(
            matches!(parse(&h), Parsed::Complete(Header::Proxied { source, .. }, 56) if source == s6)
        );
        assert_eq!(
            parse(&encode_v2(None, &[])),
            Parsed::Complete(Header::Local, 16)
        );
        let mut bad = encode_v2(Some((s, d)), &[]);
        bad[12] = 0x31;
        assert_eq!(parse(&bad), Parsed::Invalid(Invalid::V2Unsupported));
        bad[12] = 0x22;
        assert_eq!(parse(&bad[..13]), Parsed::Invalid(Invalid::V2Unsupported));
        let mut udp = encode_v2(Some((s, d)), &[]);
        udp[13] = 0x12;
        assert_eq!(parse(&udp), Parsed::Invalid(Invalid::V2Unsupported));
        let mut short = encode_v2(Some((s, d)), &[]);
        short[15] = 11;
        assert_eq!(parse(&short), Parsed::Invalid(Invalid::V2BadLength));
        let mut huge = encode_v2(Some((s, d)), &[]);
        huge[14] = 0xff;
        assert_eq!(parse(&huge[..16]), Parsed::Invalid(Invalid::V2BadLength));
    }

    #[test]
    fn trusted_lists() {
        let t = Trusted::parse("127.0.0.0/8, ::1,10.1.2.3, 2001:db8::/32").unwrap();
        for ok in [
            "127.1.2.3",
            "::1",
            "10.1.2.3",
            "::ffff:127.0.0.1",
            "2001:db8:1::9",
        ] {
            assert!(t.contains(ok.parse().unwrap()), "{ok}");
        }
        for no in ["128.0.0.1", "10.1.2.4", "::2", "2001:db9::1"] {
            assert!(!t.contains(no.parse().unwrap()), "{no}");
        }
        assert!(Trusted::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(!Trusted::parse("")
            .unwrap()
            .contains("127.0.0.1".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "host.example",
            "::1/129",
            "1.2.3.4/+8",
        ] {
            let e = Trusted::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}

//! PORT, EPRT and EPSV arguments (issue #5): total functions from the client's bytes to an
//! address or a reason, without I/O, so they can be fuzzed. Whether an address is *allowed*
//! (the control peer, no port below 1024) is decided by the session and again by the helper.
//!
//! - PORT (RFC 959): `h1,h2,h3,h4,p1,p2`, six decimal numbers 0..=255 of one to three digits
//!   each (vsftpd's parse_uchar_string_sep); anything else is `500 Illegal PORT command.`.
//! - EPRT (RFC 2428): `<d>proto<d>address<d>port<d>`, where the delimiter `<d>` is the first
//!   byte (printable ASCII 33..=126 other than letters, digits, `.`, `:` and `%`; vsftpd takes
//!   only `|`, and clients send `|`). proto 1 is an
//!   IPv4 dotted quad, 2 an IPv6 address (a `%scope` suffix is ignored, as vsftpd does); the
//!   port is decimal 0..=65535.
//! - EPSV (RFC 2428): empty, `ALL` (any case), or a protocol number.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

/// The value of 1..=`max_digits` ASCII digits, or None (empty, a non-digit, too long).
fn decimal(field: &[u8], max_digits: usize) -> Option<u32> {
    if field.is_empty() || field.len() > max_digits {
        return None;
    }
    field.iter().try_fold(0u32, |acc, &b| {
        if b.is_ascii_digit() {
            Some(acc * 10 + u32::from(b - b'0'))
        } else {
            None
        }
    })
}

/// One PORT/dotted-quad byte: one to three digits, at most 255.
fn octet(field: &[u8]) -> Option<u8> {
    decimal(field, 3).and_then(|v| u8::try_from(v).ok())
}

/// `N.N.N.N`, exactly four octets.
fn dotted_quad(s: &[u8]) -> Option<Ipv4Addr> {
    let mut it = s.split(|&b| b == b'.');
    let mut o = [0u8; 4];
    for slot in o.iter_mut() {
        *slot = octet(it.next()?)?;
    }
    if it.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(o))
}

/// PORT's argument `h1,h2,h3,h4,p1,p2`.
pub fn parse_port(arg: &[u8]) -> Option<SocketAddrV4> {
    let mut it = arg.split(|&b| b == b',');
    let mut v = [0u8; 6];
    for slot in v.iter_mut() {
        *slot = octet(it.next()?)?;
    }
    if it.next().is_some() {
        return None;
    }
    let [a, b, c, d, p1, p2] = v;
    Some(SocketAddrV4::new(
        Ipv4Addr::new(a, b, c, d),
        u16::from_be_bytes([p1, p2]),
    ))
}

/// Why an EPRT argument is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EprtError {
    /// The protocol field is not 1 or 2: `500 Bad EPRT protocol.`
    BadProtocol,
    /// Anything else malformed: `500 Bad EPRT command.`
    Illegal,
}

/// May `d` delimit EPRT's fields? RFC 2428: printable ASCII (33..=126); we also exclude what
/// the fields themselves contain (digits, letters, `.`, `:`, `%`), so a field can never be
/// cut by its own delimiter and "1|1.2.3.4|…" stays a malformed command, as in vsftpd.
fn is_delimiter(d: u8) -> bool {
    (33..=126).contains(&d) && !d.is_ascii_alphanumeric() && !matches!(d, b'.' | b':' | b'%')
}

/// The delimiter and the fields of an EPRT argument: `<d>proto<d>addr<d>port<d>` and nothing
/// after the last delimiter.
fn eprt_fields(arg: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (&d, rest) = arg.split_first()?;
    if !is_delimiter(d) {
        return None;
    }
    let mut it = rest.split(move |&b| b == d);
    let proto = it.next()?;
    let addr = it.next()?;
    let port = it.next()?;
    // After the closing delimiter: exactly one (empty) piece.
    if it.next()? != b"" || it.next().is_some() {
        return None;
    }
    Some((proto, addr, port))
}

/// The protocol number of an EPRT argument (1 or 2), read before anything else is checked, as
/// vsftpd does: `Err(BadProtocol)` for any other value, `Err(Illegal)` when the argument does
/// not even start like EPRT's. The session uses it to refuse protocol 2 on an IPv4 control
/// connection before looking at the address.
pub fn eprt_protocol(arg: &[u8]) -> Result<u8, EprtError> {
    let (&d, rest) = arg.split_first().ok_or(EprtError::Illegal)?;
    if !is_delimiter(d) {
        return Err(EprtError::Illegal);
    }
    let proto = rest.split(|&b| b == d).next().unwrap_or_default();
    match decimal(proto, 5) {
        Some(1) => Ok(1),
        Some(2) => Ok(2),
        _ => Err(EprtError::BadProtocol),
    }
}

/// EPRT's argument, e.g. `|1|1.2.3.4|5282|` or `|2|::1|5282|`.
pub fn parse_eprt(arg: &[u8]) -> Result<SocketAddr, EprtError> {
    let proto = eprt_protocol(arg)?;
    let (_, addr, port) = eprt_fields(arg).ok_or(EprtError::Illegal)?;
    let port = decimal(port, 5)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or(EprtError::Illegal)?;
    let ip = if proto == 1 {
        IpAddr::V4(dotted_quad(addr).ok_or(EprtError::Illegal)?)
    } else {
        // A scope id ("fe80::1%eth0") is dropped, as vsftpd does.
        let host = addr.split(|&b| b == b'%').next().unwrap_or_default();
        let text = std::str::from_utf8(host).map_err(|_| EprtError::Illegal)?;
        if text.is_empty()
            || !text
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(EprtError::Illegal);
        }
        IpAddr::V6(text.parse::<Ipv6Addr>().map_err(|_| EprtError::Illegal)?)
    };
    Ok(SocketAddr::new(ip, port))
}

/// What EPSV asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpsvArg {
    /// No argument: any protocol.
    Any,
    /// `EPSV ALL`: from now on only EPSV sets up data connections.
    All,
    /// A protocol number (1 = IPv4, 2 = IPv6; others are refused by the session).
    Family(u8),
    /// Not a number, nor ALL.
    Bad,
}

/// EPSV's argument.
pub fn parse_epsv_arg(arg: &[u8]) -> EpsvArg {
    if arg.is_empty() {
        return EpsvArg::Any;
    }
    if arg.eq_ignore_ascii_case(b"ALL") {
        return EpsvArg::All;
    }
    match decimal(arg, 3).and_then(|v| u8::try_from(v).ok()) {
        Some(n) => EpsvArg::Family(n),
        None => EpsvArg::Bad,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn v4(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    #[test]
    fn port_good() {
        assert_eq!(parse_port(b"127,0,0,1,4,1"), Some(v4("127.0.0.1:1025")));
        assert_eq!(parse_port(b"0,0,0,0,0,0"), Some(v4("0.0.0.0:0")));
        assert_eq!(
            parse_port(b"255,255,255,255,255,255"),
            Some(v4("255.255.255.255:65535"))
        );
        assert_eq!(parse_port(b"010,001,0,9,000,20"), Some(v4("10.1.0.9:20")));
    }

    #[test]
    fn port_bad() {
        for bad in [
            &b""[..],
            b",",
            b"127,0,0,1,4",
            b"127,0,0,1,4,1,",
            b"127,0,0,1,4,1,7",
            b"127,0,0,1,4,256",
            b"256,0,0,1,4,1",
            b"127,0,0,1,4,-1",
            b"127,0,0,1,4,+1",
            b"127,0,0,1,4, 1",
            b"127,0,0,1,4,1 ",
            b" 127,0,0,1,4,1",
            b"127,0,0,1,,1",
            b"127,0,0,1,4,0001",
            b"127.0.0.1,4,1",
            b"127,0,0,1,4,1\0",
            b"\xff\xfe,0,0,1,4,1",
            b"99999999999999999999,0,0,1,4,1",
            b"a,b,c,d,e,f",
        ] {
            assert_eq!(parse_port(bad), None, "{}", bad.escape_ascii());
        }
    }

    #[test]
    fn eprt_good() {
        assert_eq!(
            parse_eprt(b"|1|132.235.1.2|6275|"),
            Ok("132.235.1.2:6275".parse().unwrap())
        );
        assert_eq!(
            parse_eprt(b"|2|::1|5282|"),
            Ok("[::1]:5282".parse().unwrap())
        );
        assert_eq!(
            parse_eprt(b"|2|1080::8:800:200C:417A|5282|"),
            Ok("[1080::8:800:200C:417A]:5282".parse().unwrap())
        );
        assert_eq!(
            parse_eprt(b"|2|fe80::1%eth0|65535|"),
            Ok("[fe80::1]:65535".parse().unwrap())
        );
        assert_eq!(
            parse_eprt(b"|2|::ffff:127.0.0.1|2000|"),
            Ok("[::ffff:127.0.0.1]:2000".parse().unwrap())
        );
        // Any printable delimiter (RFC 2428).
        assert_eq!(
            parse_eprt(b"!1!10.0.0.1!1025!"),
            Ok("10.0.0.1:1025".parse().unwrap())
        );
        assert_eq!(parse_eprt(b"#2#::1#0#"), Ok("[::1]:0".parse().unwrap()));
    }

    #[test]
    fn eprt_bad_protocol() {
        for bad in [
            &b"|3|1.2.3.4|1025|"[..],
            b"|0|1.2.3.4|1025|",
            b"||1.2.3.4|1025|",
            b"|x|1.2.3.4|1025|",
            b"|-1|1.2.3.4|1025|",
            b"|99999999999|1.2.3.4|1025|",
            b"|",
        ] {
            assert_eq!(
                parse_eprt(bad),
                Err(EprtError::BadProtocol),
                "{}",
                bad.escape_ascii()
            );
        }
        assert_eq!(eprt_protocol(b"|2|garbage|"), Ok(2));
        assert_eq!(eprt_protocol(b"|1|"), Ok(1));
    }

    #[test]
    fn eprt_illegal() {
        for bad in [
            &b""[..],
            b" |1|1.2.3.4|1025|",
            b"\x7f1\x7f1.2.3.4\x7f1025\x7f",
            b"|1|1.2.3.4|1025",
            b"|1|1.2.3.4|1025||",
            b"|1|1.2.3.4|1025|x",
            b"|1|1.2.3.4||",
            b"|1|1.2.3.4|65536|",
            b"|1|1.2.3.4|-1|",
            b"|1|1.2.3.4| 1025|",
            b"|1|1.2.3|1025|",
            b"|1|1.2.3.4.5|1025|",
            b"|1|::1|1025|",
            b"|2|1.2.3.4|1025|",
            b"|2||1025|",
            b"|2|%eth0|1025|",
            b"|2|::1::1|1025|",
            b"|2|[::1]|1025|",
            b"|2|\xff::1|1025|",
            b"|1|1.2.3.4",
            b"|1",
            b"1|1.2.3.4|1025|",
            b"a1a1.2.3.4a1025a",
            b".1.1.2.3.4.1025.",
            b":2:::1:1025:",
        ] {
            assert_eq!(
                parse_eprt(bad),
                Err(EprtError::Illegal),
                "{}",
                bad.escape_ascii()
            );
        }
    }

    #[test]
    fn epsv_args() {
        assert_eq!(parse_epsv_arg(b""), EpsvArg::Any);
        assert_eq!(parse_epsv_arg(b"ALL"), EpsvArg::All);
        assert_eq!(parse_epsv_arg(b"aLl"), EpsvArg::All);
        assert_eq!(parse_epsv_arg(b"1"), EpsvArg::Family(1));
        assert_eq!(parse_epsv_arg(b"2"), EpsvArg::Family(2));
        assert_eq!(parse_epsv_arg(b"7"), EpsvArg::Family(7));
        assert_eq!(parse_epsv_arg(b"255"), EpsvArg::Family(255));
        for bad in [&b"256"[..], b"ALL ", b"-1", b"1 ", b"x", b"\0", b"99999"] {
            assert_eq!(parse_epsv_arg(bad), EpsvArg::Bad, "{}", bad.escape_ascii());
        }
    }

    /// xorshift64*: deterministic, so a failure reproduces.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    /// Hostile input: random bytes biased towards the grammar's alphabet never panic, and
    /// whatever parses round-trips through its canonical text.
    #[test]
    fn hostile_input_never_panics() {
        let alphabet = b"0123456789,.|:%abcdefABCDEF!# -+\0\xff";
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for _ in 0..200_000 {
            let len = (rng.next() % 40) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                .collect();
            if let Some(a) = parse_port(&buf) {
                let o = a.ip().octets();
                let p = a.port().to_be_bytes();
                let text = format!("{},{},{},{},{},{}", o[0], o[1], o[2], o[3], p[0], p[1]);
                assert_eq!(parse_port(text.as_bytes()), Some(a));
            }
            if let Ok(a) = parse_eprt(&buf) {
                let fam = if a.is_ipv4() { 1 } else { 2 };
                let text = format!("|{fam}|{}|{}|", a.ip(), a.port());
                assert_eq!(parse_eprt(text.as_bytes()), Ok(a));
            }
            let _ = parse_epsv_arg(&buf);
            let _ = eprt_protocol(&buf);
        }
        // Long input is handled without trouble.
        let long = vec![b'1'; 1 << 16];
        assert_eq!(parse_port(&long), None);
        assert!(parse_eprt(&long).is_err());
        assert_eq!(parse_epsv_arg(&long), EpsvArg::Bad);
    }
}

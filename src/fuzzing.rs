//! Fuzz entry points: one `pub fn(&[u8])` per parser that reads untrusted bytes, each asserting
//! the parser's invariants (and a round trip where there is one). A violated invariant panics:
//! that is the finding.
//!
//! The same functions run in two harnesses:
//! - `fuzz/` (cargo-fuzz, nightly, by hand): one libFuzzer target per function, see
//!   fuzz/README.md;
//! - `tests/fuzz_corpus.rs` (stable, part of `cargo test`): every committed seed of
//!   fuzz/corpus/<target>/ plus a bounded number of deterministic mutations of them.
//!
//! The targets:
//! - [`command_line`]: the pre- and post-login command parsers are total, agree with each other,
//!   split the line exactly at its first space, and `parse(render(parse(line))) == parse(line)`;
//!   the argument, echoed in a reply, reads back as one line (no forged reply line);
//! - [`line_reader`]: the [`LineReader`], fed the input in arbitrary chunks, returns exactly what
//!   a byte-at-a-time model of its documented rules returns, and never a line of
//!   [`MAX_COMMAND_LINE`] bytes or more;
//! - [`addresses`]: PORT/EPRT/EPSV arguments never panic, a parsed PORT address formatted back
//!   as `h1,h2,h3,h4,p1,p2` parses to the same address, an EPRT one formatted as `|1|a|p|` or
//!   `|2|a|p|` (or with the client's own delimiter and protocol field) too, and an EPSV
//!   argument formatted back gives the same argument;
//! - [`conf_text`]: vsftpd.conf text (key=value and TOML) never panics, errors name a line of
//!   the text and print no raw control character (TOML parser messages may hold a line
//!   break), and the effective settings, written as `--print-config` does, load again and
//!   print the same;
//! - [`privsep_messages`]: every decoder of the helper protocol re-encodes what it accepts to
//!   the same bytes, at most one (decoder, fd count) accepts any datagram, and messages built
//!   from the input survive encode/decode;
//! - [`proxy_header`]: the PROXY protocol parser decides on the shortest prefix it can: every
//!   prefix of a complete header is incomplete, nothing past the header is looked at, an
//!   invalid start stays invalid whatever follows, nothing incomplete is longer than the
//!   bounds; a parsed address written back as a v1 line or a v2 header parses to the same.
//!
//! Not for the daemon itself: nothing outside the fuzz harnesses calls these.
#![forbid(unsafe_code)]

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use crate::config::{Layout, Loader, Origin};
use crate::limits::MAX_COMMAND_LINE;
use crate::privsep::msg::{
    self, Decode, Encode, Failure, PostLoginReply, PostLoginRequest, PostLoginStart, PreLoginReply,
    PreLoginRequest, Username,
};
use crate::proto::command::{self, Command, PreLoginCommand, SiteCommand};
use crate::proto::line::{LineError, LineReader};
use crate::proto::reply;

// ---- command_line ---------------------------------------------------------------------------

/// The command parsers on one control line (as the line reader would return it, but of any
/// length and content).
pub fn command_line(data: &[u8]) {
    let post = command::parse(data);
    let pre = command::parse_prelogin(data);
    let verb = command::raw_verb(data);

    // Empty exactly for the empty line.
    assert_eq!(data.is_empty(), post == Command::Empty, "{post:?}");
    assert_eq!(data.is_empty(), pre == PreLoginCommand::Empty, "{pre:?}");

    // The verb as typed: the bytes before the first space, uppercased.
    let space = data.iter().position(|&b| b == b' ');
    let typed = space.map_or(data, |i| data.get(..i).unwrap_or_default());
    assert_eq!(verb, typed.to_ascii_uppercase());
    let arg = space.map_or(&[][..], |i| data.get(i + 1..).unwrap_or_default());

    // The argument is everything after the first space, untouched.
    if let Some(a) = post_arg(&post) {
        assert_eq!(a, arg, "{post:?}");
    }
    if let Some(a) = pre_arg(&pre) {
        assert_eq!(a, arg, "{pre:?}");
    }
    if let Command::Site(site) = &post {
        check_site(site, arg);
    }

    // A known command comes from its verb or one of its aliases.
    if !matches!(post, Command::Empty | Command::Unknown) {
        let name = post.verb_name().as_bytes();
        let alias: &[&[u8]] = match &post {
            Command::Pwd => &[b"XPWD"],
            Command::Cwd(_) => &[b"XCWD"],
            Command::Cdup => &[b"XCUP"],
            Command::Mkd(_) => &[b"XMKD"],
            Command::Rmd(_) => &[b"XRMD"],
            Command::Pasv => &[b"P@SW"],
            Command::Http => &[b"GET", b"POST", b"HEAD", b"OPTIONS", b"CONNECT"],
            _ => &[],
        };
        assert!(
            verb == name || alias.contains(&verb.as_slice()),
            "verb {:?} parsed as {post:?}",
            verb.escape_ascii().to_string()
        );
    }

    // Before login, the same verbs mean the same; everything else is Other.
    assert!(same_before_and_after(&pre, &post), "{pre:?} vs {post:?}");

    // No password is ever printed.
    if let Command::Pass(_) = post {
        assert_eq!(format!("{post:?}"), "Pass(<password>)");
    }
    if let PreLoginCommand::Pass(_) = pre {
        assert_eq!(format!("{pre:?}"), "Pass(<password>)");
    }

    // Client bytes echoed in a reply (a path in 257, a name in 550) cannot forge a line.
    reply_round_trip(arg);

    // Round trip: the canonical line of the command parses to the same command.
    let line = render_command(&post);
    assert_eq!(command::parse(&line), post, "{}", line.escape_ascii());
    let line = render_prelogin(&pre);
    assert_eq!(
        command::parse_prelogin(&line),
        pre,
        "{}",
        line.escape_ascii()
    );
}

/// A reply carrying `text`, read back by a client that handles Telnet and the NUL convention
/// as our own line reader does: one line, `550 ` and the text (CR, LF and NUL all read back as
/// LF), and nothing after it. In a multi-line reply, no body line can pass for the last line.
fn reply_round_trip(text: &[u8]) {
    let wire = reply::line(550, text);
    if wire.len() > MAX_COMMAND_LINE {
        return;
    }
    let mut input = wire.as_slice();
    let mut reader = LineReader::new();
    let mut want = b"550 ".to_vec();
    want.extend(
        text.iter()
            .map(|&b| if b == b'\r' || b == 0 { b'\n' } else { b }),
    );
    match reader.read_line(&mut input) {
        // The reader keeps Telnet bytes (as vsftpd reads commands); a client undoubles IAC.
        Ok(line) => assert_eq!(undouble_iac(&line), want),
        Err(e) => panic!("reply does not read back: {e}"),
    }
    assert!(matches!(reader.read_line(&mut input), Err(LineError::Eof)));

    let wire = reply::multi_text(213, b"Status follows:", text, b"End of status");
    let lines: Vec<&[u8]> = wire.split(|&b| b == b'\n').collect();
    assert_eq!(lines.last(), Some(&&b""[..]), "ends with LF");
    let lines = lines
        .get(..lines.len().saturating_sub(1))
        .unwrap_or_default();
    assert_eq!(lines.first(), Some(&&b"213-Status follows:\r"[..]));
    assert_eq!(lines.last(), Some(&&b"213 End of status\r"[..]));
    for body in lines
        .get(1..lines.len().saturating_sub(1))
        .unwrap_or_default()
    {
        assert!(
            !body.first().is_some_and(u8::is_ascii_digit),
            "{}",
            body.escape_ascii()
        );
        assert_eq!(body.iter().position(|&b| b == b'\r'), Some(body.len() - 1));
    }
}

fn check_site(site: &SiteCommand, arg: &[u8]) {
    let (sub, rest) = match arg.iter().position(|&b| b == b' ') {
        Some(i) => (
            arg.get(..i).unwrap_or_default(),
            arg.get(i + 1..).unwrap_or_default(),
        ),
        None => (arg, &[][..]),
    };
    match site {
        SiteCommand::Chmod { mode, path } => {
            assert!(sub.eq_ignore_ascii_case(b"CHMOD"));
            assert!(!mode.contains(&b' '));
            let mut joined = mode.clone();
            if rest.len() > mode.len() {
                joined.push(b' ');
                joined.extend_from_slice(path);
            }
            assert_eq!(joined, rest);
        }
        SiteCommand::Umask(r) => {
            assert!(sub.eq_ignore_ascii_case(b"UMASK"));
            assert_eq!(r.as_slice(), rest);
        }
        SiteCommand::Help => assert!(sub.eq_ignore_ascii_case(b"HELP")),
        SiteCommand::Unknown => {
            for known in [&b"CHMOD"[..], b"UMASK", b"HELP"] {
                assert!(!sub.eq_ignore_ascii_case(known));
            }
        }
    }
}

/// The raw argument a post-login command carries, if it carries one.
fn post_arg(c: &Command) -> Option<&[u8]> {
    Some(match c {
        Command::User(a)
        | Command::Opts(a)
        | Command::Cwd(a)
        | Command::Type(a)
        | Command::Mode(a)
        | Command::Stru(a)
        | Command::Rest(a)
        | Command::Size(a)
        | Command::Mdtm(a)
        | Command::Stat(a)
        | Command::List(a)
        | Command::Nlst(a)
        | Command::Retr(a)
        | Command::Stor(a)
        | Command::Stou(a)
        | Command::Appe(a)
        | Command::Dele(a)
        | Command::Mkd(a)
        | Command::Rmd(a)
        | Command::Rnfr(a)
        | Command::Rnto(a)
        | Command::Port(a)
        | Command::Eprt(a)
        | Command::Epsv(a)
        | Command::Auth(a)
        | Command::Pbsz(a)
        | Command::Prot(a)
        | Command::Mlsd(a)
        | Command::Mlst(a) => a,
        Command::Pass(p) => p.as_bytes(),
        _ => return None,
    })
}

fn pre_arg(c: &PreLoginCommand) -> Option<&[u8]> {
    Some(match c {
        PreLoginCommand::User(a)
        | PreLoginCommand::Opts(a)
        | PreLoginCommand::Auth(a)
        | PreLoginCommand::Pbsz(a)
        | PreLoginCommand::Prot(a) => a,
        PreLoginCommand::Pass(p) => p.as_bytes(),
        _ => return None,
    })
}

fn same_before_and_after(pre: &PreLoginCommand, post: &Command) -> bool {
    match (pre, post) {
        (PreLoginCommand::User(a), Command::User(b))
        | (PreLoginCommand::Opts(a), Command::Opts(b))
        | (PreLoginCommand::Auth(a), Command::Auth(b))
        | (PreLoginCommand::Pbsz(a), Command::Pbsz(b))
        | (PreLoginCommand::Prot(a), Command::Prot(b)) => a == b,
        (PreLoginCommand::Pass(a), Command::Pass(b)) => a == b,
        (PreLoginCommand::Quit, Command::Quit)
        | (PreLoginCommand::Feat, Command::Feat)
        | (PreLoginCommand::Http, Command::Http)
        | (PreLoginCommand::Empty, Command::Empty) => true,
        (PreLoginCommand::Other, other) => !matches!(
            other,
            Command::User(_)
                | Command::Pass(_)
                | Command::Quit
                | Command::Feat
                | Command::Opts(_)
                | Command::Auth(_)
                | Command::Pbsz(_)
                | Command::Prot(_)
                | Command::Http
                | Command::Empty
        ),
        _ => false,
    }
}

fn with_arg(verb: &str, arg: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(verb.len() + 1 + arg.len());
    line.extend_from_slice(verb.as_bytes());
    line.push(b' ');
    line.extend_from_slice(arg);
    line
}

/// The canonical control line of a post-login command.
fn render_command(c: &Command) -> Vec<u8> {
    match c {
        Command::Site(site) => match site {
            SiteCommand::Chmod { mode, path } => {
                let mut line = with_arg("SITE CHMOD", mode);
                line.push(b' ');
                line.extend_from_slice(path);
                line
            }
            SiteCommand::Umask(r) => with_arg("SITE UMASK", r),
            SiteCommand::Help => b"SITE HELP".to_vec(),
            SiteCommand::Unknown => b"SITE".to_vec(),
        },
        Command::Http => b"GET".to_vec(),
        Command::Empty => Vec::new(),
        Command::Unknown => b"UNKNOWN".to_vec(),
        other => match post_arg(other) {
            Some(arg) => with_arg(other.verb_name(), arg),
            None => other.verb_name().as_bytes().to_vec(),
        },
    }
}

/// The canonical control line of a pre-login command.
fn render_prelogin(c: &PreLoginCommand) -> Vec<u8> {
    match c {
        PreLoginCommand::Http => b"POST".to_vec(),
        PreLoginCommand::Empty => Vec::new(),
        PreLoginCommand::Other => b"LIST".to_vec(),
        other => match pre_arg(other) {
            Some(arg) => with_arg(other.verb_name(), arg),
            None => other.verb_name().as_bytes().to_vec(),
        },
    }
}

// ---- line_reader ----------------------------------------------------------------------------

/// A stream that hands out its bytes in pieces whose sizes cycle through `sizes`, with an
/// EINTR before every other piece (the reader must retry it).
struct Pieces<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    next: usize,
    interrupt: bool,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.interrupt {
            self.interrupt = false;
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        self.interrupt = self.next % 2 == 1;
        let size = self
            .sizes
            .get(self.next % self.sizes.len().max(1))
            .copied()
            .unwrap_or(1);
        self.next = self.next.wrapping_add(1);
        let n = size.max(1).min(buf.len()).min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(head);
        }
        self.data = tail;
        Ok(n)
    }
}

/// How the model's stream ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Eof,
    TooLong,
}

/// A Telnet client's reading of a reply line: every `IAC IAC` is one 0xFF byte.
fn undouble_iac(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut iac = false;
    for &b in line {
        if b == 0xff && !iac {
            iac = true;
            continue;
        }
        if iac && b != 0xff {
            out.push(0xff);
        }
        iac = false;
        out.push(b);
    }
    if iac {
        out.push(0xff);
    }
    out
}

/// The line reader's documented rules, one byte at a time, written independently of its
/// buffer handling: the lines it must return and how it must stop.
fn model_lines(stream: &[u8]) -> (Vec<Vec<u8>>, End) {
    let mut lines = Vec::new();
    let mut line = Vec::new();
    let mut raw = 0usize;
    for &b in stream {
        raw += 1;
        if b == b'\n' {
            if raw > MAX_COMMAND_LINE {
                return (lines, End::TooLong);
            }
            lines.push(finish(std::mem::take(&mut line)));
            raw = 0;
            continue;
        }
        line.push(b);
        // Any byte but the final LF that reaches the limit leaves no room for the LF.
        if raw >= MAX_COMMAND_LINE {
            return (lines, End::TooLong);
        }
    }
    (lines, End::Eof)
}

fn finish(mut line: Vec<u8>) -> Vec<u8> {
    for b in &mut line {
        if *b == 0 {
            *b = b'\n';
        }
    }
    while line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}

/// The control-line reader. The first two bytes choose how the rest is cut into reads (from
/// one byte at a time to whole buffers); the rest is the stream.
pub fn line_reader(data: &[u8]) {
    let (shape, stream) = match data {
        [a, b, rest @ ..] => ([*a, *b], rest),
        _ => ([0, 0], data),
    };
    let base = usize::from(shape[0]) + 1;
    let sizes = match shape[1] % 4 {
        0 => vec![MAX_COMMAND_LINE],
        1 => vec![1],
        2 => vec![base, 1, base * 16, 7],
        _ => vec![base * 3, MAX_COMMAND_LINE - 1, 2],
    };
    let mut input = Pieces {
        data: stream,
        sizes,
        next: 0,
        interrupt: false,
    };
    let mut reader = LineReader::new();
    let mut got = Vec::new();
    let end = loop {
        match reader.read_line(&mut input) {
            Ok(line) => {
                assert!(
                    line.len() < MAX_COMMAND_LINE,
                    "line of {} bytes",
                    line.len()
                );
                assert!(!line.contains(&0), "NUL in a line");
                assert_ne!(line.last(), Some(&b'\r'), "trailing CR");
                got.push(line);
                // Bounded: every line consumes at least its LF.
                assert!(got.len() <= stream.len());
            }
            Err(LineError::Eof) => break End::Eof,
            Err(LineError::TooLong) => break End::TooLong,
            Err(LineError::Io(e)) => panic!("unexpected I/O error: {e}"),
        }
    };
    let (want, want_end) = model_lines(stream);
    assert_eq!(end, want_end);
    assert_eq!(got, want);
}

// ---- addresses ------------------------------------------------------------------------------

/// PORT, EPRT and EPSV arguments (the bytes after the verb's space).
pub fn addresses(data: &[u8]) {
    use crate::proto::addr::{self, EpsvArg};

    if let Some(a) = addr::parse_port(data) {
        // Six fields of one to three digits (vsftpd's parse_uchar_string_sep), nothing else.
        let fields: Vec<&[u8]> = data.split(|&b| b == b',').collect();
        assert_eq!(fields.len(), 6);
        for f in fields {
            assert!((1..=3).contains(&f.len()) && f.iter().all(u8::is_ascii_digit));
        }
        let [h1, h2, h3, h4] = a.ip().octets();
        let [p1, p2] = a.port().to_be_bytes();
        let again = format!("{h1},{h2},{h3},{h4},{p1},{p2}");
        assert_eq!(addr::parse_port(again.as_bytes()), Some(a), "{again}");
    }

    if let Ok(a) = addr::parse_eprt(data) {
        // Canonical form, with `|` and the protocol number the address family implies.
        let again = match a {
            SocketAddr::V4(v4) => format!("|1|{}|{}|", v4.ip(), v4.port()),
            SocketAddr::V6(v6) => format!("|2|{}|{}|", v6.ip(), v6.port()),
        };
        assert_eq!(addr::parse_eprt(again.as_bytes()), Ok(a), "{again}");
        // `<d>proto<d>addr<d>port<d>`: a dotted quad of one to three digits per octet for
        // protocol 1, a port of one to five digits.
        if let Some((&d, rest)) = data.split_first() {
            let fields: Vec<&[u8]> = rest.split(|&b| b == d).collect();
            assert_eq!(fields.len(), 4, "{}", data.escape_ascii());
            let address = fields.get(1).copied().unwrap_or_default();
            let port = fields.get(2).copied().unwrap_or_default();
            assert!((1..=5).contains(&port.len()) && port.iter().all(u8::is_ascii_digit));
            if a.is_ipv4() {
                let octets: Vec<&[u8]> = address.split(|&b| b == b'.').collect();
                assert_eq!(octets.len(), 4);
                for o in octets {
                    assert!((1..=3).contains(&o.len()) && o.iter().all(u8::is_ascii_digit));
                }
            }
        }
        // The client's own delimiter and protocol field, with the address and port rewritten.
        if let Some((&d, rest)) = data.split_first() {
            let proto = rest.split(|&b| b == d).next().unwrap_or_default();
            let mut line = vec![d];
            line.extend_from_slice(proto);
            line.push(d);
            line.extend_from_slice(a.ip().to_string().as_bytes());
            line.push(d);
            line.extend_from_slice(a.port().to_string().as_bytes());
            line.push(d);
            let ambiguous = a.ip().to_string().as_bytes().contains(&d)
                || a.port().to_string().as_bytes().contains(&d);
            if !ambiguous {
                assert_eq!(addr::parse_eprt(&line), Ok(a), "{}", line.escape_ascii());
            }
        }
    }

    let epsv = addr::parse_epsv_arg(data);
    let again = match epsv {
        EpsvArg::Any => {
            assert!(data.is_empty());
            String::new()
        }
        EpsvArg::All => "all".to_string(),
        EpsvArg::Family(n) => n.to_string(),
        EpsvArg::Bad => return,
    };
    assert_eq!(addr::parse_epsv_arg(again.as_bytes()), epsv, "{again}");
}

// ---- conf_text ------------------------------------------------------------------------------

/// vsftpd.conf text, read both as key=value (`fuzz.conf`) and as TOML (`fuzz.toml`), with the
/// upstream layout's defaults.
pub fn conf_text(data: &[u8]) {
    for name in ["fuzz.conf", "fuzz.toml"] {
        let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
        match load(name, data) {
            Err(e) => {
                let shown = e.to_string();
                assert!(!shown.is_empty());
                // TOML parser messages span lines ("invalid string\nexpected ..."): the
                // one control character they may hold, until apply_toml flattens them.
                let allowed = |c: char| name.ends_with(".toml") && c == '\n';
                assert!(
                    !shown.chars().any(|c| c.is_control() && !allowed(c)),
                    "{name}: control character in {shown:?}"
                );
                if let Some(line) = e.line() {
                    assert!(
                        (1..=lines).contains(&line),
                        "{name}: line {line} of {lines}"
                    );
                }
                let _ = e.oops_text();
            }
            Ok(settings) => {
                for w in &settings.warnings {
                    assert!(!w.chars().any(char::is_control), "{name}: {w:?}");
                }
                conf_round_trip(&settings);
            }
        }
    }
}

fn load(name: &str, text: &[u8]) -> Result<crate::config::Settings, crate::config::ConfigError> {
    let mut loader = Loader::new(Layout::Upstream);
    loader.load_text(name, text)?;
    loader.finish()
}

/// `--print-config`'s assignments, without their `# origin` comments, loaded as key=value
/// text: must load, and must print the same assignments again. (Not the same values: the
/// printout escapes control characters and cuts long values, which a second printout keeps,
/// and key=value cannot hold the blanks around a TOML string.)
fn conf_round_trip(settings: &crate::config::Settings) {
    let printed = assignments(settings);
    let again = match load("printed.conf", printed.join("\n").as_bytes()) {
        Ok(again) => again,
        Err(e) => panic!(
            "the printed settings do not load: {e}\n{}",
            printed.join("\n")
        ),
    };
    let reprinted = assignments(&again);
    assert_eq!(printed.len(), reprinted.len());
    for (a, b) in printed.iter().zip(&reprinted) {
        // Compare only plain values: an escaped one (a tab became `\t`) changes length, and
        // blanks around a value (possible in TOML strings) are trimmed by key=value.
        let value = a.split_once('=').map_or("", |(_, v)| v);
        if !a.contains('\\') && value.trim_ascii() == value {
            assert_eq!(a, b);
        }
    }
    // The printout names every tunable, so every value now comes from the printed file.
    for t in crate::config::tunables() {
        match again.origin(t.name) {
            Some(Origin::File { path, .. }) => assert_eq!(path.to_str(), Some("printed.conf")),
            other => panic!("{}: origin {other:?} after loading the printout", t.name),
        }
    }
}

fn assignments(settings: &crate::config::Settings) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(e) = settings.write_effective(&mut out) {
        panic!("write_effective into a Vec: {e}");
    }
    let text = String::from_utf8_lossy(&out);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| match l.rsplit_once("    # ") {
            Some((assignment, _note)) => assignment.trim_end().to_string(),
            None => panic!("no origin comment in {l:?}"),
        })
        .collect()
}

// ---- privsep_messages -----------------------------------------------------------------------

/// Which decoder broke the round-trip property in [`decode_all_round_trip`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundTripFailure(pub &'static str);

impl std::fmt::Display for RoundTripFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: decode(encode(x)) != x", self.0)
    }
}

fn round_trip<M: Encode + Decode + PartialEq>(
    name: &'static str,
    bytes: &[u8],
    fds: usize,
) -> Result<(), RoundTripFailure> {
    if let Ok(msg) = M::decode(bytes, fds) {
        let mut again = msg.encode();
        let ok = again.len() <= msg::MAX_MESSAGE
            && again.as_slice() == bytes
            && M::decode(&again, msg.fd_count()).as_ref() == Ok(&msg);
        crate::proto::password::wipe(&mut again);
        if !ok {
            return Err(RoundTripFailure(name));
        }
    }
    Ok(())
}

/// Runs every decoder on arbitrary bytes with every plausible fd count (0..=2); whatever
/// decodes must re-encode to the same bytes and decode to the same value. For the fuzz
/// target: it returns the failing decoder instead of panicking, and the target asserts.
/// (The encoding is canonical, so "same bytes" holds for every accepted input.)
pub fn decode_all_round_trip(bytes: &[u8]) -> Result<(), RoundTripFailure> {
    for fds in 0..=2 {
        round_trip::<PreLoginRequest>("PreLoginRequest", bytes, fds)?;
        round_trip::<PreLoginReply>("PreLoginReply", bytes, fds)?;
        round_trip::<PostLoginRequest>("PostLoginRequest", bytes, fds)?;
        round_trip::<PostLoginReply>("PostLoginReply", bytes, fds)?;
        round_trip::<PostLoginStart>("PostLoginStart", bytes, fds)?;
    }
    Ok(())
}

/// The helper protocol: the input as a datagram for every decoder, then as the fields of
/// messages to encode and decode.
pub fn privsep_messages(data: &[u8]) {
    if let Err(e) = decode_all_round_trip(data) {
        panic!("{e}");
    }
    // Tags are unique across directions and phases, and every message has a fixed fd count:
    // no datagram is valid for two decoders or two fd counts.
    let mut accepted = 0;
    for fds in 0..=2 {
        accepted += usize::from(PreLoginRequest::decode(data, fds).is_ok());
        accepted += usize::from(PreLoginReply::decode(data, fds).is_ok());
        accepted += usize::from(PostLoginRequest::decode(data, fds).is_ok());
        accepted += usize::from(PostLoginReply::decode(data, fds).is_ok());
        accepted += usize::from(PostLoginStart::decode(data, fds).is_ok());
    }
    assert!(accepted <= 1, "{accepted} decoders accept {data:?}");

    // Messages built from the input.
    let (head, rest) = data.split_first().unwrap_or((&0, &[]));
    let split = usize::from(*head).min(rest.len());
    let (user, password) = rest.split_at(split);
    let password = || crate::proto::Password::new(password.to_vec());
    if !password().exceeds_limit() {
        check_message(PostLoginStart::Anonymous {
            password: password(),
        });
        if let Ok(user) = Username::new(user.to_vec()) {
            check_message(PreLoginRequest::Login {
                user,
                password: password(),
            });
        }
    }
    check_message(PreLoginReply::LoginOk);
    check_message(PreLoginReply::LoginFailed);
    check_message(PostLoginRequest::PasvListen);
    check_message(PostLoginRequest::PasvAccept);
    check_message(PostLoginRequest::PortConnect {
        addr: addr_from(rest),
    });
    let port = u16::from_be_bytes([
        rest.first().copied().unwrap_or(0),
        rest.get(1).copied().unwrap_or(0),
    ]);
    check_message(PostLoginReply::PasvListening { port });
    check_message(PostLoginReply::DataSocket);
    for why in [
        Failure::BindFailed,
        Failure::AcceptTimeout,
        Failure::BadPeerAddress,
        Failure::ConnectFailed,
        Failure::NotAllowed,
    ] {
        check_message(PostLoginReply::Failed(why));
    }
}

fn addr_from(bytes: &[u8]) -> SocketAddr {
    let mut b = [0u8; 27];
    for (d, s) in b.iter_mut().zip(bytes) {
        *d = *s;
    }
    let [fam, rest @ ..] = b;
    let [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, p0, p1, f0, f1, f2, f3, s0, s1, s2, s3] =
        rest;
    let port = u16::from_be_bytes([p0, p1]);
    if fam % 2 == 0 {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(a0, a1, a2, a3)), port)
    } else {
        let ip = Ipv6Addr::from([
            a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
        ]);
        SocketAddr::V6(SocketAddrV6::new(
            ip,
            port,
            u32::from_be_bytes([f0, f1, f2, f3]),
            u32::from_be_bytes([s0, s1, s2, s3]),
        ))
    }
}

fn check_message<M: Encode + Decode + PartialEq + std::fmt::Debug>(m: M) {
    let bytes = m.encode();
    assert!(
        bytes.len() <= msg::MAX_MESSAGE,
        "{m:?}: {} bytes",
        bytes.len()
    );
    assert!(m.fd_count() <= M::MAX_FDS && M::MAX_FDS <= msg::MAX_MESSAGE_FDS);
    assert_eq!(M::decode(&bytes, m.fd_count()).as_ref(), Ok(&m));
    if let Err(e) = decode_all_round_trip(&bytes) {
        panic!("{m:?}: {e}");
    }
    // The wrong number of fds, a missing byte or an extra byte is refused.
    assert!(M::decode(&bytes, m.fd_count() + 1).is_err(), "{m:?}");
    if let Some((_, short)) = bytes.split_last() {
        assert!(M::decode(short, m.fd_count()).is_err(), "{m:?}");
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(M::decode(&long, m.fd_count()).is_err(), "{m:?}");
}

// ---- proxy_header ---------------------------------------------------------------------------

/// The first bytes of a connection behind a balancer, as `daemon::proxy` reads them.
pub fn proxy_header(data: &[u8]) {
    use crate::limits::{MAX_PROXY_V1, MAX_PROXY_V2};
    use crate::proto::proxy::{self, Header, Parsed};

    let outcome = proxy::parse(data);
    match outcome {
        Parsed::Complete(header, len) => {
            assert!(len <= data.len() && len <= MAX_PROXY_V2, "{len}");
            let own = data.get(..len).unwrap_or_default();
            // The decision needs nothing past the header, and no shorter prefix decides.
            assert_eq!(proxy::parse(own), outcome);
            for cut in 0..len {
                let prefix = data.get(..cut).unwrap_or_default();
                assert_eq!(proxy::parse(prefix), Parsed::Incomplete, "prefix of {cut}");
            }
            if own.first() == Some(&b'P') {
                assert!(len <= MAX_PROXY_V1, "{len}");
            }
            if let Header::Proxied {
                source,
                destination,
            } = header
            {
                assert_eq!(source.is_ipv4(), destination.is_ipv4());
                let v1 = proxy::encode_v1(source, destination);
                assert_eq!(proxy::parse(&v1), Parsed::Complete(header, v1.len()));
                let v2 = proxy::encode_v2(Some((source, destination)), &[]);
                assert_eq!(proxy::parse(&v2), Parsed::Complete(header, v2.len()));
            }
        }
        Parsed::Invalid(_) => {
            for tail in [&b"\r\n"[..], b"\0", b" TCP4 1.2.3.4 1.2.3.4 1 2\r\n"] {
                let longer = [data, tail].concat();
                assert_eq!(proxy::parse(&longer), outcome);
            }
        }
        Parsed::Incomplete => assert!(data.len() < MAX_PROXY_V2, "{}", data.len()),
    }
    // Addresses made from the bytes survive both encodings.
    let (a, b) = (
        addr_from(data),
        addr_from(data.get(27..).unwrap_or_default()),
    );
    let b = SocketAddr::new(
        if a.is_ipv4() == b.is_ipv4() {
            b.ip()
        } else {
            a.ip()
        },
        b.port(),
    );
    let plain = |s: SocketAddr| SocketAddr::new(s.ip(), s.port());
    let expect = Header::Proxied {
        source: plain(a),
        destination: plain(b),
    };
    let v1 = proxy::encode_v1(a, b);
    assert_eq!(proxy::parse(&v1), Parsed::Complete(expect, v1.len()));
    let v2 = proxy::encode_v2(
        Some((a, b)),
        data.get(..data.len().min(64)).unwrap_or_default(),
    );
    assert_eq!(proxy::parse(&v2), Parsed::Complete(expect, v2.len()));
}

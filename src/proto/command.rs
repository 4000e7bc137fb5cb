//! Control lines parsed once into enums (vsftpd: `ftpcmdio.c` `vsf_cmdio_get_cmd_and_arg`, and the
//! dispatch chains of `prelogin.c` / `postlogin.c`).
//!
//! A line splits at its first space: the verb is the bytes before it, ASCII-uppercased (vsftpd
//! accepts `list`); the argument is everything after it, as raw bytes (file names need not be
//! UTF-8), possibly empty and possibly starting with more spaces. A line without a space is all
//! verb. vsftpd compares the whole uppercased verb, so `LIST2` or `NOOPX` are unknown.
//!
//! Two enums: [`PreLoginCommand`] knows only what vsftpd's `prelogin.c` knows, so no post-login
//! handler can be reached before login; [`Command`] is every verb vsftpd 3.0.5 implements after
//! login, plus MLSD/MLST (ours). X-aliases (XPWD, XCWD, XCUP, XMKD, XRMD) and `P@SW` map to their
//! base variant; [`raw_verb`] gives the verb as typed for `cmds_allowed`/`cmds_denied` (vsftpd
//! compares those lists with the typed verb, so denying `PWD` does not deny `XPWD`).
//!
//! Both parsers are total: any byte string gives a value, never a panic.
//! - An empty line is `Empty`: vsftpd ignores it without a reply ("to avoid NAT device bugs")
//!   and does not count it as an unknown command before login. A line of spaces is not empty
//!   (vsftpd 3.0.3 answers it `530 Please login with USER and PASS.` / `500 Unknown command.`;
//!   checked against Debian's build).
//! - USER and PASS arguments are kept whole even beyond [`MAX_USERNAME`] / [`crate::limits::MAX_PASSWORD`]; the
//!   handler refuses them (`530 Login incorrect.`, as vsftpd's privileged side does) — see
//!   [`user_too_long`] and [`Password::exceeds_limit`].
//! - GET, POST, HEAD, OPTIONS, CONNECT are `Http` (vsftpd 3.0.4+: `500 HTTP protocol commands not
//!   allowed.` and the connection closes), before and after login.

pub use super::password::Password;
use crate::limits::MAX_USERNAME;

/// True when a USER argument is longer than [`MAX_USERNAME`]: the login must fail.
pub fn user_too_long(user: &[u8]) -> bool {
    user.len() > MAX_USERNAME
}

/// What the client may say before login (vsftpd `prelogin.c`). Which of these are honoured
/// depends on the configuration (AUTH/PBSZ/PROT only with ssl_enable; otherwise the handler
/// replies as to [`PreLoginCommand::Other`]).
#[derive(Debug, PartialEq, Eq)]
pub enum PreLoginCommand {
    User(Vec<u8>),
    Pass(Password),
    Quit,
    Feat,
    Opts(Vec<u8>),
    Auth(Vec<u8>),
    Pbsz(Vec<u8>),
    Prot(Vec<u8>),
    /// GET POST HEAD OPTIONS CONNECT: `500 HTTP protocol commands not allowed.`, then close.
    Http,
    /// An empty line: no reply, not counted.
    Empty,
    /// Anything else: `530 Please login with USER and PASS.`, counted towards
    /// [`crate::limits::MAX_PRELOGIN_UNKNOWN`].
    Other,
}

/// A SITE sub-command (vsftpd `handle_site`): the argument splits at its first space into the
/// sub-command (uppercased) and its arguments.
#[derive(Debug, PartialEq, Eq)]
pub enum SiteCommand {
    /// `SITE CHMOD <mode> <path>`: the arguments split at their first space, so the path may
    /// contain spaces. Either part may be empty: the handler then replies
    /// `500 SITE CHMOD needs 2 arguments.`
    Chmod {
        mode: Vec<u8>,
        path: Vec<u8>,
    },
    /// `SITE UMASK [<octal>]`: empty reports the current umask.
    Umask(Vec<u8>),
    Help,
    /// `500 Unknown SITE command.`
    Unknown,
}

/// Every command understood after login; arguments are raw bytes unless noted.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    User(Vec<u8>),
    Pass(Password),
    Quit,
    Syst,
    Feat,
    Opts(Vec<u8>),
    Help,
    Noop,
    /// PWD, XPWD.
    Pwd,
    /// CWD, XCWD.
    Cwd(Vec<u8>),
    /// CDUP, XCUP.
    Cdup,
    Type(Vec<u8>),
    Mode(Vec<u8>),
    Stru(Vec<u8>),
    Allo,
    Rest(Vec<u8>),
    Size(Vec<u8>),
    Mdtm(Vec<u8>),
    /// Empty argument: server status (211); otherwise a listing over the control channel (213).
    Stat(Vec<u8>),
    List(Vec<u8>),
    Nlst(Vec<u8>),
    Retr(Vec<u8>),
    Stor(Vec<u8>),
    Stou(Vec<u8>),
    Appe(Vec<u8>),
    Dele(Vec<u8>),
    /// MKD, XMKD.
    Mkd(Vec<u8>),
    /// RMD, XRMD.
    Rmd(Vec<u8>),
    Rnfr(Vec<u8>),
    Rnto(Vec<u8>),
    Site(SiteCommand),
    Port(Vec<u8>),
    Eprt(Vec<u8>),
    /// PASV and vsftpd's alias P@SW.
    Pasv,
    Epsv(Vec<u8>),
    Abor,
    Acct,
    Smnt,
    Rein,
    Auth(Vec<u8>),
    Pbsz(Vec<u8>),
    Prot(Vec<u8>),
    /// Ours (RFC 3659); vsftpd answers `500 Unknown command.`
    Mlsd(Vec<u8>),
    /// Ours (RFC 3659).
    Mlst(Vec<u8>),
    /// Ours (the MFMT draft that goes with RFC 3659): `MFMT YYYYMMDDHHMMSS path`.
    Mfmt(Vec<u8>),
    /// GET POST HEAD OPTIONS CONNECT: `500 HTTP protocol commands not allowed.`, then close.
    Http,
    /// Empty line: no reply.
    Empty,
    /// `500 Unknown command.`
    Unknown,
}

impl Command {
    /// True for the commands vsftpd refuses with `550 Permission denied.` when write_enable=NO:
    /// STOR STOU APPE DELE MKD RMD RNFR RNTO. (Anonymous sessions have further switches:
    /// anon_upload_enable for STOR/STOU, anon_mkdir_write_enable for MKD, anon_other_write_enable
    /// for the rest.) SITE is not here: without write_enable/chmod_enable vsftpd answers SITE CHMOD
    /// with `500 Unknown SITE command.`, and the MDTM set-form is checked by its handler.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Command::Stor(_)
                | Command::Stou(_)
                | Command::Appe(_)
                | Command::Dele(_)
                | Command::Mkd(_)
                | Command::Rmd(_)
                | Command::Rnfr(_)
                | Command::Rnto(_)
        )
    }

    /// The canonical verb, for logs and metrics (aliases give their base name; see [`raw_verb`]
    /// for the verb as typed).
    pub fn verb_name(&self) -> &'static str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Quit => "QUIT",
            Command::Syst => "SYST",
            Command::Feat => "FEAT",
            Command::Opts(_) => "OPTS",
            Command::Help => "HELP",
            Command::Noop => "NOOP",
            Command::Pwd => "PWD",
            Command::Cwd(_) => "CWD",
            Command::Cdup => "CDUP",
            Command::Type(_) => "TYPE",
            Command::Mode(_) => "MODE",
            Command::Stru(_) => "STRU",
            Command::Allo => "ALLO",
            Command::Rest(_) => "REST",
            Command::Size(_) => "SIZE",
            Command::Mdtm(_) => "MDTM",
            Command::Stat(_) => "STAT",
            Command::List(_) => "LIST",
            Command::Nlst(_) => "NLST",
            Command::Retr(_) => "RETR",
            Command::Stor(_) => "STOR",
            Command::Stou(_) => "STOU",
            Command::Appe(_) => "APPE",
            Command::Dele(_) => "DELE",
            Command::Mkd(_) => "MKD",
            Command::Rmd(_) => "RMD",
            Command::Rnfr(_) => "RNFR",
            Command::Rnto(_) => "RNTO",
            Command::Site(_) => "SITE",
            Command::Port(_) => "PORT",
            Command::Eprt(_) => "EPRT",
            Command::Pasv => "PASV",
            Command::Epsv(_) => "EPSV",
            Command::Abor => "ABOR",
            Command::Acct => "ACCT",
            Command::Smnt => "SMNT",
            Command::Rein => "REIN",
            Command::Auth(_) => "AUTH",
            Command::Pbsz(_) => "PBSZ",
            Command::Prot(_) => "PROT",
            Command::Mlsd(_) => "MLSD",
            Command::Mlst(_) => "MLST",
            Command::Mfmt(_) => "MFMT",
            Command::Http => "HTTP",
            Command::Empty => "",
            Command::Unknown => "UNKNOWN",
        }
    }
}

impl PreLoginCommand {
    /// The canonical verb, for logs.
    pub fn verb_name(&self) -> &'static str {
        match self {
            PreLoginCommand::User(_) => "USER",
            PreLoginCommand::Pass(_) => "PASS",
            PreLoginCommand::Quit => "QUIT",
            PreLoginCommand::Feat => "FEAT",
            PreLoginCommand::Opts(_) => "OPTS",
            PreLoginCommand::Auth(_) => "AUTH",
            PreLoginCommand::Pbsz(_) => "PBSZ",
            PreLoginCommand::Prot(_) => "PROT",
            PreLoginCommand::Http => "HTTP",
            PreLoginCommand::Empty => "",
            PreLoginCommand::Other => "UNKNOWN",
        }
    }
}

/// Longest verb we know ("OPTIONS", "CONNECT"); longer verbs are unknown without looking further.
const VERB_MAX: usize = 8;

/// Splits a line at its first space: (verb as typed, argument).
fn split_line(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b' ') {
        Some(i) => {
            let (verb, rest) = line.split_at(i);
            (verb, rest.get(1..).unwrap_or_default())
        }
        None => (line, &[]),
    }
}

/// The verb uppercased into a fixed buffer, or None if it is longer than any verb we know.
fn upper_verb(verb: &[u8]) -> Option<([u8; VERB_MAX], usize)> {
    if verb.len() > VERB_MAX {
        return None;
    }
    let mut buf = [0u8; VERB_MAX];
    for (d, s) in buf.iter_mut().zip(verb) {
        *d = s.to_ascii_uppercase();
    }
    Some((buf, verb.len()))
}

/// The verb as typed, ASCII-uppercased (what vsftpd compares `cmds_allowed`/`cmds_denied` and
/// logs with). Bounded by the line's length.
pub fn raw_verb(line: &[u8]) -> Vec<u8> {
    split_line(line).0.to_ascii_uppercase()
}

fn is_http(verb: &[u8]) -> bool {
    matches!(verb, b"GET" | b"POST" | b"HEAD" | b"OPTIONS" | b"CONNECT")
}

/// Parses a line read before login.
pub fn parse_prelogin(line: &[u8]) -> PreLoginCommand {
    if line.is_empty() {
        return PreLoginCommand::Empty;
    }
    let (verb, arg) = split_line(line);
    let Some((buf, len)) = upper_verb(verb) else {
        return PreLoginCommand::Other;
    };
    let v = buf.get(..len).unwrap_or_default();
    match v {
        b"USER" => PreLoginCommand::User(arg.to_vec()),
        b"PASS" => PreLoginCommand::Pass(Password::new(arg.to_vec())),
        b"QUIT" => PreLoginCommand::Quit,
        b"FEAT" => PreLoginCommand::Feat,
        b"OPTS" => PreLoginCommand::Opts(arg.to_vec()),
        b"AUTH" => PreLoginCommand::Auth(arg.to_vec()),
        b"PBSZ" => PreLoginCommand::Pbsz(arg.to_vec()),
        b"PROT" => PreLoginCommand::Prot(arg.to_vec()),
        v if is_http(v) => PreLoginCommand::Http,
        _ => PreLoginCommand::Other,
    }
}

/// Parses a line read after login.
pub fn parse(line: &[u8]) -> Command {
    if line.is_empty() {
        return Command::Empty;
    }
    let (verb, arg) = split_line(line);
    let Some((buf, len)) = upper_verb(verb) else {
        return Command::Unknown;
    };
    let v = buf.get(..len).unwrap_or_default();
    let a = || arg.to_vec();
    match v {
        b"USER" => Command::User(a()),
        b"PASS" => Command::Pass(Password::new(a())),
        b"QUIT" => Command::Quit,
        b"SYST" => Command::Syst,
        b"FEAT" => Command::Feat,
        b"OPTS" => Command::Opts(a()),
        b"HELP" => Command::Help,
        b"NOOP" => Command::Noop,
        b"PWD" | b"XPWD" => Command::Pwd,
        b"CWD" | b"XCWD" => Command::Cwd(a()),
        b"CDUP" | b"XCUP" => Command::Cdup,
        b"TYPE" => Command::Type(a()),
        b"MODE" => Command::Mode(a()),
        b"STRU" => Command::Stru(a()),
        b"ALLO" => Command::Allo,
        b"REST" => Command::Rest(a()),
        b"SIZE" => Command::Size(a()),
        b"MDTM" => Command::Mdtm(a()),
        b"STAT" => Command::Stat(a()),
        b"LIST" => Command::List(a()),
        b"NLST" => Command::Nlst(a()),
        b"RETR" => Command::Retr(a()),
        b"STOR" => Command::Stor(a()),
        b"STOU" => Command::Stou(a()),
        b"APPE" => Command::Appe(a()),
        b"DELE" => Command::Dele(a()),
        b"MKD" | b"XMKD" => Command::Mkd(a()),
        b"RMD" | b"XRMD" => Command::Rmd(a()),
        b"RNFR" => Command::Rnfr(a()),
        b"RNTO" => Command::Rnto(a()),
        b"SITE" => Command::Site(parse_site(arg)),
        b"PORT" => Command::Port(a()),
        b"EPRT" => Command::Eprt(a()),
        b"PASV" | b"P@SW" => Command::Pasv,
        b"EPSV" => Command::Epsv(a()),
        // RFC 959's abort, Telnet IP and Synch before the verb: vsftpd decodes no Telnet and
        // knows this one spelling of it (any other Telnet bytes make the verb unknown).
        b"ABOR" | b"\xff\xf4\xff\xf2ABOR" => Command::Abor,
        b"ACCT" => Command::Acct,
        b"SMNT" => Command::Smnt,
        b"REIN" => Command::Rein,
        b"AUTH" => Command::Auth(a()),
        b"PBSZ" => Command::Pbsz(a()),
        b"PROT" => Command::Prot(a()),
        b"MFMT" => Command::Mfmt(a()),
        b"MLSD" => Command::Mlsd(a()),
        b"MLST" => Command::Mlst(a()),
        v if is_http(v) => Command::Http,
        _ => Command::Unknown,
    }
}

/// Parses the argument of SITE (vsftpd `handle_site`, `handle_site_chmod`).
pub fn parse_site(arg: &[u8]) -> SiteCommand {
    let (sub, rest) = split_line(arg);
    if sub.eq_ignore_ascii_case(b"CHMOD") {
        let (mode, path) = split_line(rest);
        SiteCommand::Chmod {
            mode: mode.to_vec(),
            path: path.to_vec(),
        }
    } else if sub.eq_ignore_ascii_case(b"UMASK") {
        SiteCommand::Umask(rest.to_vec())
    } else if sub.eq_ignore_ascii_case(b"HELP") {
        SiteCommand::Help
    } else {
        SiteCommand::Unknown
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
    use crate::limits::MAX_PASSWORD;

    #[test]
    fn verbs_are_case_insensitive_and_args_raw() {
        assert_eq!(parse(b"list"), Command::List(vec![]));
        assert_eq!(parse(b"LiSt -la /pub"), Command::List(b"-la /pub".to_vec()));
        assert_eq!(
            parse(b"RETR  two  spaces "),
            Command::Retr(b" two  spaces ".to_vec())
        );
        assert_eq!(
            parse(b"RETR \xff\xfe\x80"),
            Command::Retr(b"\xff\xfe\x80".to_vec())
        );
        assert_eq!(parse(b"CWD"), Command::Cwd(vec![]));
        assert_eq!(parse(b"CWD "), Command::Cwd(vec![]));
    }

    #[test]
    fn aliases() {
        assert_eq!(parse(b"XPWD"), Command::Pwd);
        assert_eq!(parse(b"xcwd a"), Command::Cwd(b"a".to_vec()));
        assert_eq!(parse(b"XCUP"), Command::Cdup);
        assert_eq!(parse(b"XMKD d"), Command::Mkd(b"d".to_vec()));
        assert_eq!(parse(b"XRMD d"), Command::Rmd(b"d".to_vec()));
        assert_eq!(parse(b"P@SW"), Command::Pasv);
        assert_eq!(raw_verb(b"xpwd"), b"XPWD");
        assert_eq!(raw_verb(b"stor a b"), b"STOR");
    }

    #[test]
    fn every_post_login_verb_parses() {
        let verbs: &[&str] = &[
            "USER", "PASS", "QUIT", "SYST", "FEAT", "OPTS", "HELP", "NOOP", "PWD", "XPWD", "CWD",
            "XCWD", "CDUP", "XCUP", "TYPE", "MODE", "STRU", "ALLO", "REST", "SIZE", "MDTM", "STAT",
            "LIST", "NLST", "RETR", "STOR", "STOU", "APPE", "DELE", "MKD", "XMKD", "RMD", "XRMD",
            "RNFR", "RNTO", "SITE", "PORT", "EPRT", "PASV", "P@SW", "EPSV", "ABOR", "ACCT", "SMNT",
            "REIN", "AUTH", "PBSZ", "PROT", "MLSD", "MLST",
        ];
        for v in verbs {
            let c = parse(v.as_bytes());
            assert_ne!(c, Command::Unknown, "{v}");
            let name = c.verb_name();
            let alias = matches!((*v, name), ("XCUP", "CDUP") | ("P@SW", "PASV"));
            assert!(
                *v == name || v.strip_prefix('X') == Some(name) || alias,
                "{v} {name}"
            );
        }
    }

    #[test]
    fn write_commands() {
        for l in [
            "STOR a", "STOU", "APPE a", "DELE a", "MKD a", "XMKD a", "RMD a", "XRMD a", "RNFR a",
            "RNTO a",
        ] {
            assert!(parse(l.as_bytes()).is_write(), "{l}");
        }
        for l in [
            "RETR a",
            "SITE CHMOD 1 a",
            "MDTM 20200101000000 a",
            "LIST",
            "CWD a",
        ] {
            assert!(!parse(l.as_bytes()).is_write(), "{l}");
        }
    }

    #[test]
    fn unknown_and_empty() {
        assert_eq!(parse(b""), Command::Empty);
        assert_eq!(parse(b" "), Command::Unknown);
        assert_eq!(parse(b"  "), Command::Unknown);
        assert_eq!(parse(b" x"), Command::Unknown);
        assert_eq!(parse(b"NOOPX"), Command::Unknown);
        assert_eq!(parse(b"HASH"), Command::Unknown);
        assert_eq!(parse(b"ABORTABORT"), Command::Unknown);
        assert_eq!(parse(&[b'A'; 5000]), Command::Unknown);
        assert_eq!(parse(b"\xff\xf4ABOR"), Command::Unknown);
        assert_eq!(parse(b"\xff\xfd\x01NOOP"), Command::Unknown);
        assert_eq!(parse(b"\xff\xf4\xff\xf2NOOP"), Command::Unknown);
        assert_eq!(parse(b"\xff\xf4\xff\xf2abor x"), Command::Abor);
        assert_eq!(parse_prelogin(b""), PreLoginCommand::Empty);
        assert_eq!(parse_prelogin(b" "), PreLoginCommand::Other);
        assert_eq!(parse_prelogin(b"LIST"), PreLoginCommand::Other);
        assert_eq!(parse_prelogin(b"SYST"), PreLoginCommand::Other);
    }

    #[test]
    fn http_verbs() {
        for l in [
            &b"GET / HTTP/1.1"[..],
            b"POST /x HTTP/1.0",
            b"head /",
            b"OPTIONS * HTTP/1.1",
            b"CONNECT host:21 HTTP/1.1",
        ] {
            assert_eq!(parse_prelogin(l), PreLoginCommand::Http);
            assert_eq!(parse(l), Command::Http);
        }
        assert_eq!(parse_prelogin(b"GETX"), PreLoginCommand::Other);
    }

    #[test]
    fn prelogin_commands() {
        assert_eq!(
            parse_prelogin(b"user anonymous"),
            PreLoginCommand::User(b"anonymous".to_vec())
        );
        assert_eq!(
            parse_prelogin(b"PASS a b c"),
            PreLoginCommand::Pass(Password::new(b"a b c".to_vec()))
        );
        assert_eq!(parse_prelogin(b"QUIT"), PreLoginCommand::Quit);
        assert_eq!(parse_prelogin(b"feat"), PreLoginCommand::Feat);
        assert_eq!(
            parse_prelogin(b"OPTS UTF8 ON"),
            PreLoginCommand::Opts(b"UTF8 ON".to_vec())
        );
        assert_eq!(
            parse_prelogin(b"AUTH TLS"),
            PreLoginCommand::Auth(b"TLS".to_vec())
        );
        assert_eq!(
            parse_prelogin(b"PBSZ 0"),
            PreLoginCommand::Pbsz(b"0".to_vec())
        );
        assert_eq!(
            parse_prelogin(b"PROT P"),
            PreLoginCommand::Prot(b"P".to_vec())
        );
        assert_eq!(parse_prelogin(b"PASS").verb_name(), "PASS");
    }

    #[test]
    fn long_credentials_parse_and_are_flagged() {
        let user = vec![b'u'; MAX_USERNAME + 1];
        let mut line = b"USER ".to_vec();
        line.extend_from_slice(&user);
        assert_eq!(parse_prelogin(&line), PreLoginCommand::User(user.clone()));
        assert!(user_too_long(&user));
        assert!(!user_too_long(&user[1..]));
        let pw = Password::new(vec![b'p'; MAX_PASSWORD + 1]);
        assert!(pw.exceeds_limit());
        assert!(!Password::new(vec![b'p'; MAX_PASSWORD]).exceeds_limit());
    }

    #[test]
    fn password_is_never_printed() {
        let c = parse(b"PASS hunter2");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("<password>"));
        match c {
            Command::Pass(p) => {
                assert_eq!(p.as_bytes(), b"hunter2");
                assert_eq!(p.to_string(), "<password>");
                assert_eq!(p.len(), 7);
                assert!(!p.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let p = parse_prelogin(b"PASS hunter2");
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn site() {
        assert_eq!(
            parse(b"SITE chmod 755 my file"),
            Command::Site(SiteCommand::Chmod {
                mode: b"755".to_vec(),
                path: b"my file".to_vec()
            })
        );
        assert_eq!(
            parse(b"SITE CHMOD"),
            Command::Site(SiteCommand::Chmod {
                mode: vec![],
                path: vec![]
            })
        );
        assert_eq!(
            parse(b"site umask 022"),
            Command::Site(SiteCommand::Umask(b"022".to_vec()))
        );
        assert_eq!(
            parse(b"SITE UMASK"),
            Command::Site(SiteCommand::Umask(vec![]))
        );
        assert_eq!(parse(b"SITE HELP"), Command::Site(SiteCommand::Help));
        assert_eq!(parse(b"SITE EXEC ls"), Command::Site(SiteCommand::Unknown));
        assert_eq!(parse(b"SITE"), Command::Site(SiteCommand::Unknown));
    }

    #[test]
    fn arbitrary_lines_never_panic() {
        let mut seed = 7u32;
        for _ in 0..2000 {
            let mut line = Vec::new();
            for _ in 0..(seed % 40) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let b = (seed >> 16) as u8;
                // Bias towards spaces and letters so real verbs come up.
                line.push(match b % 4 {
                    0 => b' ',
                    1 => b"SITECHMODUSERPASLTV"[(b as usize) % 19],
                    _ => b,
                });
            }
            let _ = parse(&line).verb_name();
            let _ = parse_prelogin(&line).verb_name();
            let _ = raw_verb(&line);
        }
    }
}

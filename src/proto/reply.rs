//! Every reply code and every fixed reply text, once, with the one encoder (vsftpd: `ftpcodes.h`,
//! the literal strings of `prelogin.c`, `postlogin.c`, `ftpdataio.c`, `features.c`, `opts.c`,
//! `ssl.c`, and `ftpcmdio.c` `ftp_write_str_common`).
//!
//! Handlers never write reply text inline: they send a [`Reply`] constant (`encode(LOGIN_OK)`;
//! a `Reply` is a `(code, text)` pair), or call a builder here for replies that carry values
//! (`pwd(b"/pub")`, `pasv(..)`).
//!
//! # What the encoder does to text
//! A reply line is `CODE<sep>TEXT\r\n`. Text may carry client bytes (a path in PWD/MKD/RETR, a
//! file name in STOU), so [`line`](fn@line) and [`hyphen`] rewrite it as vsftpd does, and a
//! little more:
//! - 0xFF (Telnet IAC) is doubled, as vsftpd;
//! - LF becomes NUL, as vsftpd (RFC 959: an LF inside a path name is sent as NUL; the line reader
//!   maps NUL back to LF, so the name survives the round trip);
//! - CR also becomes NUL (ours; vsftpd sends it raw): a lone CR could end the line for a lenient
//!   client and let a file name forge a reply.
//!
//! Multi-line bodies ([`multi`]) are written as given (no IAC doubling, as vsftpd's
//! `vsf_cmdio_write_raw`), except that CR and LF inside a body line become NUL, and a body line
//! that starts with a digit gets a leading space so it cannot be taken for the final line.

use std::net::Ipv4Addr;

/// Reply codes, named as vsftpd's `ftpcodes.h` (several names share a number).
pub mod code {
    pub const DATACONN: u16 = 150;
    pub const NOOPOK: u16 = 200;
    pub const TYPEOK: u16 = 200;
    pub const PORTOK: u16 = 200;
    pub const EPRTOK: u16 = 200;
    pub const UMASKOK: u16 = 200;
    pub const CHMODOK: u16 = 200;
    pub const EPSVALLOK: u16 = 200;
    pub const STRUOK: u16 = 200;
    pub const MODEOK: u16 = 200;
    pub const PBSZOK: u16 = 200;
    pub const PROTOK: u16 = 200;
    pub const OPTSOK: u16 = 200;
    pub const ALLOOK: u16 = 202;
    pub const FEAT: u16 = 211;
    pub const STATOK: u16 = 211;
    pub const SIZEOK: u16 = 213;
    pub const MDTMOK: u16 = 213;
    pub const STATFILE_OK: u16 = 213;
    pub const SITEHELP: u16 = 214;
    pub const HELP: u16 = 214;
    pub const SYSTOK: u16 = 215;
    pub const GREET: u16 = 220;
    pub const GOODBYE: u16 = 221;
    pub const ABOR_NOCONN: u16 = 225;
    pub const TRANSFEROK: u16 = 226;
    pub const ABOROK: u16 = 226;
    pub const PASVOK: u16 = 227;
    pub const EPSVOK: u16 = 229;
    pub const LOGINOK: u16 = 230;
    pub const AUTHOK: u16 = 234;
    pub const CWDOK: u16 = 250;
    pub const RMDIROK: u16 = 250;
    pub const DELEOK: u16 = 250;
    pub const RENAMEOK: u16 = 250;
    /// Ours: MLST (RFC 3659 uses 250).
    pub const MLSTOK: u16 = 250;
    pub const PWDOK: u16 = 257;
    pub const MKDIROK: u16 = 257;
    pub const GIVEPWORD: u16 = 331;
    pub const RESTOK: u16 = 350;
    pub const RNFROK: u16 = 350;
    pub const IDLE_TIMEOUT: u16 = 421;
    pub const DATA_TIMEOUT: u16 = 421;
    pub const TOO_MANY_USERS: u16 = 421;
    pub const IP_LIMIT: u16 = 421;
    pub const IP_DENY: u16 = 421;
    pub const TLS_FAIL: u16 = 421;
    pub const BADSENDCONN: u16 = 425;
    pub const BADSENDNET: u16 = 426;
    pub const FILETMPFAIL: u16 = 450;
    pub const BADSENDFILE: u16 = 451;
    pub const BADCMD: u16 = 500;
    pub const BADOPTS: u16 = 501;
    pub const COMMANDNOTIMPL: u16 = 502;
    pub const NEEDUSER: u16 = 503;
    pub const NEEDRNFR: u16 = 503;
    pub const BADPBSZ: u16 = 503;
    pub const BADPROT: u16 = 503;
    pub const BADSTRU: u16 = 504;
    pub const BADMODE: u16 = 504;
    pub const BADAUTH: u16 = 504;
    pub const NOSUCHPROT: u16 = 504;
    pub const NEEDENCRYPT: u16 = 522;
    pub const EPSVBAD: u16 = 522;
    pub const DATATLSBAD: u16 = 522;
    pub const LOGINERR: u16 = 530;
    pub const NOHANDLEPROT: u16 = 536;
    pub const FILEFAIL: u16 = 550;
    pub const NOPERM: u16 = 550;
    pub const UPLOADFAIL: u16 = 553;
}

/// A fixed reply: a code and vsftpd's exact text. Send it with [`encode`] (or
/// `line(r.0, r.1.as_bytes())`).
pub type Reply = (u16, &'static str);

/// `CODE TEXT\r\n` for a fixed reply.
pub fn encode(r: Reply) -> Vec<u8> {
    line(r.0, r.1.as_bytes())
}

/// `CODE-TEXT\r\n` for a fixed reply, as the first line of a multi-line reply.
pub fn encode_hyphen(r: Reply) -> Vec<u8> {
    hyphen(r.0, r.1.as_bytes())
}

macro_rules! replies {
    ($($(#[$doc:meta])* $name:ident = ($code:expr, $text:expr);)*) => {
        $($(#[$doc])* pub const $name: Reply = ($code, $text);)*
        /// Every fixed reply, for tests and documentation.
        pub const ALL: &[(&str, Reply)] = &[$((stringify!($name), $name)),*];
    };
}

replies! {
    // ---- Connection limits and timeouts (prelogin.c check_limits, ftpcmdio.c, postlogin.c) ----
    TOO_MANY_USERS = (code::TOO_MANY_USERS, "There are too many connected users, please try later.");
    TOO_MANY_FROM_IP = (code::IP_LIMIT, "There are too many connections from your internet address.");
    /// tcp_wrappers denial.
    SERVICE_UNAVAILABLE = (code::IP_DENY, "Service not available.");
    IDLE_TIMEOUT = (code::IDLE_TIMEOUT, "Timeout.");
    DATA_TIMEOUT = (code::DATA_TIMEOUT, "Data timeout. Reconnect. Sorry.");
    LINE_TOO_LONG = (code::BADCMD, "Input line too long.");

    // ---- Before login (prelogin.c) ----
    PLEASE_LOGIN = (code::LOGINERR, "Please login with USER and PASS.");
    /// vsftpd 3.0.4+: sent instead of PLEASE_LOGIN when an unknown pre-login command exceeds
    /// limits::MAX_PRELOGIN_UNKNOWN; then the connection closes. (Text as in the 3.0.4+ binary.)
    TOO_MANY_ERRORS = (code::BADCMD, "Too many errors.");
    HTTP_NOT_ALLOWED = (code::BADCMD, "HTTP protocol commands not allowed.");
    GIVE_PASSWORD = (code::GIVEPWORD, "Please specify the password.");
    LOGIN_WITH_USER_FIRST = (code::NEEDUSER, "Login with USER first.");
    LOGIN_OK = (code::LOGINOK, "Login successful.");
    LOGIN_INCORRECT = (code::LOGINERR, "Login incorrect.");
    ANON_ONLY = (code::LOGINERR, "This FTP server is anonymous only.");
    /// userlist denial before the password prompt (530, unlike the 550 PERMISSION_DENIED).
    USERLIST_DENIED = (code::LOGINERR, "Permission denied.");
    ANON_MAY_NOT_ENCRYPT = (code::LOGINERR, "Anonymous sessions may not use encryption.");
    NON_ANON_MUST_ENCRYPT = (code::LOGINERR, "Non-anonymous sessions must use encryption.");
    ANON_MUST_ENCRYPT = (code::LOGINERR, "Anonymous sessions must use encryption.");
    GOODBYE = (code::GOODBYE, "Goodbye.");

    // ---- USER/PASS after login ----
    CANT_CHANGE_FROM_GUEST = (code::LOGINERR, "Can't change from guest user.");
    ANY_PASSWORD = (code::GIVEPWORD, "Any password will do.");
    CANT_CHANGE_USER = (code::LOGINERR, "Can't change to another user.");
    ALREADY_LOGGED_IN = (code::LOGINOK, "Already logged in.");

    // ---- General ----
    UNKNOWN_COMMAND = (code::BADCMD, "Unknown command.");
    /// write_enable, cmds_allowed/denied, deny_file, dirlist_enable, ... refusals.
    PERMISSION_DENIED = (code::NOPERM, "Permission denied.");
    SYST = (code::SYSTOK, "UNIX Type: L8");
    NOOP = (code::NOOPOK, "NOOP ok.");
    ALLO_IGNORED = (code::ALLOOK, "ALLO command ignored.");
    REIN_NOT_IMPLEMENTED = (code::COMMANDNOTIMPL, "REIN not implemented.");
    ACCT_NOT_IMPLEMENTED = (code::COMMANDNOTIMPL, "ACCT not implemented.");
    SMNT_NOT_IMPLEMENTED = (code::COMMANDNOTIMPL, "SMNT not implemented.");
    HELP_HEADER = (code::HELP, "The following commands are recognized.");
    HELP_OK = (code::HELP, "Help OK.");

    // ---- FEAT / OPTS (features.c, opts.c) ----
    FEAT_HEADER = (code::FEAT, "Features:");
    FEAT_END = (code::FEAT, "End");
    UTF8_ALWAYS = (code::OPTSOK, "Always in UTF8 mode.");
    OPTS_NOT_UNDERSTOOD = (code::BADOPTS, "Option not understood.");

    // ---- TYPE / MODE / STRU ----
    TYPE_BINARY = (code::TYPEOK, "Switching to Binary mode.");
    TYPE_ASCII = (code::TYPEOK, "Switching to ASCII mode.");
    TYPE_BAD = (code::BADCMD, "Unrecognised TYPE command.");
    MODE_OK = (code::MODEOK, "Mode set to S.");
    MODE_BAD = (code::BADMODE, "Bad MODE command.");
    STRU_OK = (code::STRUOK, "Structure set to F.");
    STRU_BAD = (code::BADSTRU, "Bad STRU command.");

    // ---- Directories ----
    CWD_OK = (code::CWDOK, "Directory successfully changed.");
    CWD_FAIL = (code::FILEFAIL, "Failed to change directory.");
    MKD_FAILED = (code::FILEFAIL, "Create directory operation failed.");
    RMD_OK = (code::RMDIROK, "Remove directory operation successful.");
    RMD_FAILED = (code::FILEFAIL, "Remove directory operation failed.");

    // ---- Files ----
    DELE_OK = (code::DELEOK, "Delete operation successful.");
    DELE_FAILED = (code::FILEFAIL, "Delete operation failed.");
    RNFR_OK = (code::RNFROK, "Ready for RNTO.");
    RNFR_FAILED = (code::FILEFAIL, "RNFR command failed.");
    RNFR_FIRST = (code::NEEDRNFR, "RNFR required first.");
    RENAME_OK = (code::RENAMEOK, "Rename successful.");
    RENAME_FAILED = (code::FILEFAIL, "Rename failed.");
    SIZE_FAILED = (code::FILEFAIL, "Could not get file size.");
    MDTM_FAILED = (code::FILEFAIL, "Could not get file modification time.");
    MDTM_SET_OK = (code::MDTMOK, "File modification time set.");
    MDTM_SET_FAILED = (code::FILEFAIL, "Could not set file modification time.");
    /// MFMT (ours) without `YYYYMMDDHHMMSS path`.
    MFMT_SYNTAX = (501, "Bad MFMT syntax: MFMT YYYYMMDDHHMMSS path.");

    // ---- SITE ----
    SITE_HELP_CHMOD = (code::SITEHELP, "CHMOD UMASK HELP");
    SITE_HELP = (code::SITEHELP, "UMASK HELP");
    SITE_UNKNOWN = (code::BADCMD, "Unknown SITE command.");
    CHMOD_NEEDS_TWO_ARGS = (code::BADCMD, "SITE CHMOD needs 2 arguments.");
    CHMOD_OK = (code::CHMODOK, "SITE CHMOD command ok.");
    CHMOD_FAILED = (code::FILEFAIL, "SITE CHMOD command failed.");

    // ---- Data connections (postlogin.c, ftpdataio.c) ----
    USE_PORT_OR_PASV = (code::BADSENDCONN, "Use PORT or PASV first.");
    FAILED_TO_ESTABLISH = (code::BADSENDCONN, "Failed to establish connection.");
    BAD_IP_CONNECTING = (code::BADSENDCONN, "Security: Bad IP connecting.");
    /// PASV/EPSV could not get a listening socket. vsftpd ends the session with `500 OOPS:
    /// vsf_sysutil_bind` there; we keep the session and reuse vsftpd's 425 text.
    PASV_FAILED = (code::BADSENDCONN, "Failed to establish connection.");
    PORT_OK = (code::PORTOK, "PORT command successful. Consider using PASV.");
    PORT_ILLEGAL = (code::BADCMD, "Illegal PORT command.");
    EPRT_OK = (code::EPRTOK, "EPRT command successful. Consider using EPSV.");
    EPRT_BAD_PROTOCOL = (code::BADCMD, "Bad EPRT protocol.");
    EPRT_BAD = (code::BADCMD, "Bad EPRT command.");
    EPRT_ILLEGAL = (code::BADCMD, "Illegal EPRT command.");
    EPSV_ALL_OK = (code::EPSVALLOK, "EPSV ALL ok.");
    EPSV_BAD_PROTOCOL = (code::EPSVBAD, "Bad network protocol.");
    NO_ASCII_RESUME = (code::FILEFAIL, "No support for resume of ASCII transfer.");
    OPEN_FAILED = (code::FILEFAIL, "Failed to open file.");
    CREATE_FAILED = (code::UPLOADFAIL, "Could not create file.");
    OK_TO_SEND = (code::DATACONN, "Ok to send data.");
    TRANSFER_OK = (code::TRANSFEROK, "Transfer complete.");
    /// RETR: the file could not be read.
    READ_FAILED = (code::BADSENDFILE, "Failure reading local file.");
    /// STOR/APPE/STOU: the file could not be written.
    LOCAL_WRITE_FAILED = (code::BADSENDFILE, "Failure writing to local file.");
    /// RETR, LIST, NLST: the data connection broke while sending.
    WRITE_FAILED = (code::BADSENDNET, "Failure writing network stream.");
    /// STOR/APPE/STOU: the data connection broke while receiving.
    NETWORK_READ_FAILED = (code::BADSENDNET, "Failure reading network stream.");
    NO_TRANSFER_TO_ABOR = (code::ABOR_NOCONN, "No transfer to ABOR.");
    ABOR_OK = (code::ABOROK, "ABOR successful.");

    // ---- Listings and STAT ----
    LIST_OPENING = (code::DATACONN, "Here comes the directory listing.");
    LIST_OK = (code::TRANSFEROK, "Directory send OK.");
    /// LIST/NLST of a directory that could not be opened (or, for anonymous with
    /// anon_world_readable_only, is not world-readable): vsftpd still sends 150 and this 226.
    LIST_OPEN_FAILED = (code::TRANSFEROK, "Transfer done (but failed to open directory).");
    STAT_FILE_HEADER = (code::STATFILE_OK, "Status follows:");
    STAT_FILE_END = (code::STATFILE_OK, "End of status");
    STAT_HEADER = (code::STATOK, "FTP server status:");
    STAT_END = (code::STATOK, "End of status");
    /// Ours (MLST, RFC 3659 7.2): the final line.
    MLST_END = (code::MLSTOK, "End");
    /// Ours: MLSD of something that is not a directory, cannot be opened, or (anonymous with
    /// anon_world_readable_only) is not world-readable. Sent before any data connection.
    MLSD_OPEN_FAILED = (code::FILEFAIL, "Failed to open directory.");
    /// Ours: MLST of a path that does not exist or may not be shown.
    MLST_FAILED = (code::FILEFAIL, "Could not get file information.");

    // ---- TLS (ssl.c, ftpdataio.c) ----
    AUTH_OK = (code::AUTHOK, "Proceed with negotiation.");
    AUTH_UNKNOWN = (code::BADAUTH, "Unknown AUTH type.");
    PBSZ_OK = (code::PBSZOK, "PBSZ set to 0.");
    PBSZ_NEEDS_SECURE = (code::BADPBSZ, "PBSZ needs a secure connection.");
    PROT_NEEDS_SECURE = (code::BADPROT, "PROT needs a secure connection.");
    PROT_CLEAR = (code::PROTOK, "PROT now Clear.");
    PROT_PRIVATE = (code::PROTOK, "PROT now Private.");
    PROT_NOT_SUPPORTED = (code::NOHANDLEPROT, "PROT not supported.");
    PROT_NOT_RECOGNIZED = (code::NOSUCHPROT, "PROT not recognized.");
    DATA_MUST_ENCRYPT = (code::NEEDENCRYPT, "Data connections must be encrypted.");
    SSL_REUSE_REQUIRED = (code::DATATLSBAD, "SSL connection failed: session reuse required");
    SSL_FAILED = (code::DATATLSBAD, "SSL connection failed");
}

/// Our default greeting text (DESIGN: ours names itself unless ftpd_banner is set).
pub const GREETING_TEXT: &str = concat!("(vsFTPd-rs ", env!("CARGO_PKG_VERSION"), ")");

/// The fixed body of HELP, exactly as vsftpd 3.0.5 (each line starts with a space).
pub const HELP_BODY: [&str; 4] = [
    " ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD",
    " MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR",
    " RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD",
    " XPWD XRMD",
];

/// The MLST feature line we advertise in FEAT (with its leading space).
pub const FEAT_MLST: &str =
    " MLST type*;size*;modify*;perm*;unique*;UNIX.mode*;UNIX.owner*;UNIX.group*;";

// ------------------------------------------------------------------------------------------------
// The encoder.

/// Writes the code as decimal digits (always 3 for real codes).
fn push_code(out: &mut Vec<u8>, code: u16) {
    out.extend_from_slice(code.to_string().as_bytes());
}

/// Reply text rewritten for the wire: IAC doubled, CR and LF to NUL (see the module docs).
fn push_text(out: &mut Vec<u8>, text: &[u8]) {
    for &b in text {
        match b {
            0xFF => out.extend_from_slice(&[0xFF, 0xFF]),
            b'\r' | b'\n' => out.push(0),
            _ => out.push(b),
        }
    }
}

/// A body line of a multi-line reply: CR/LF to NUL, a leading digit guarded by a space.
fn push_body(out: &mut Vec<u8>, text: &[u8]) {
    if text.first().is_some_and(u8::is_ascii_digit) {
        out.push(b' ');
    }
    for &b in text {
        out.push(if b == b'\r' || b == b'\n' { 0 } else { b });
    }
    out.extend_from_slice(b"\r\n");
}

fn with_sep(code: u16, sep: u8, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 8);
    push_code(&mut out, code);
    out.push(sep);
    push_text(&mut out, text);
    out.extend_from_slice(b"\r\n");
    out
}

/// `CODE TEXT\r\n`, the single (or final) line of a reply.
pub fn line(code: u16, text: &[u8]) -> Vec<u8> {
    with_sep(code, b' ', text)
}

/// `CODE-TEXT\r\n`, the first line of a multi-line reply.
pub fn hyphen(code: u16, text: &[u8]) -> Vec<u8> {
    with_sep(code, b'-', text)
}

/// A whole multi-line reply: `CODE-first`, each body line as given (see the module docs), then
/// `CODE last`.
pub fn multi(code: u16, first: &[u8], body: &[&[u8]], last: &[u8]) -> Vec<u8> {
    let mut out = hyphen(code, first);
    for b in body {
        push_body(&mut out, b);
    }
    out.extend_from_slice(&line(code, last));
    out
}

/// Splits raw body text (e.g. a listing sent over the control channel by STAT) at LF (a CR before
/// it goes too) and writes each piece as a body line. For `STAT <path>`: `multi_text(213,
/// b"Status follows:", &listing, b"End of status")`.
pub fn multi_text(code: u16, first: &[u8], body: &[u8], last: &[u8]) -> Vec<u8> {
    let mut out = hyphen(code, first);
    push_body_text(&mut out, body);
    out.extend_from_slice(&line(code, last));
    out
}

fn push_body_text(out: &mut Vec<u8>, body: &[u8]) {
    if body.is_empty() {
        return;
    }
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    for l in body.split(|&b| b == b'\n') {
        push_body(out, l.strip_suffix(b"\r").unwrap_or(l));
    }
}

// ------------------------------------------------------------------------------------------------
// Builders for replies that carry values.

/// The greeting: `220 (vsFTPd-rs X.Y.Z)`, or `220 <ftpd_banner>`.
pub fn greeting(ftpd_banner: Option<&[u8]>) -> Vec<u8> {
    line(code::GREET, ftpd_banner.unwrap_or(GREETING_TEXT.as_bytes()))
}

/// A banner_file greeting (vsftpd `vsf_banner_write` then an empty `220 `): every line of the file
/// as `220-line`, then `220 `. A CR before each LF is dropped (a CRLF file gives clean lines).
pub fn greeting_banner_file(contents: &[u8]) -> Vec<u8> {
    let mut out = message_lines(code::GREET, contents);
    out.extend_from_slice(&line(code::GREET, b""));
    out
}

/// A message file (banner_file, message_file on CWD, the login message) as `CODE-line` lines, to
/// be followed by the command's own final line. Empty input gives nothing.
pub fn message_lines(code: u16, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if contents.is_empty() {
        return out;
    }
    let body = contents.strip_suffix(b"\n").unwrap_or(contents);
    for l in body.split(|&b| b == b'\n') {
        out.extend_from_slice(&hyphen(code, l.strip_suffix(b"\r").unwrap_or(l)));
    }
    out
}

/// `500 OOPS: <message>`, vsftpd's fatal-error line (the session ends after it).
pub fn oops(message: &[u8]) -> Vec<u8> {
    let mut text = b"OOPS: ".to_vec();
    text.extend_from_slice(message);
    line(code::BADCMD, &text)
}

/// The start of vsftpd's `500 OOPS:` text when a file the session needs before the greeting
/// cannot be opened (main.c, `die2`): the file's path follows without a space.
pub const OOPS_BANNED_EMAIL_FILE: &str = "cannot open anon e-mail list file:";
/// As [`OOPS_BANNED_EMAIL_FILE`], for banner_file.
pub const OOPS_BANNER_FILE: &str = "cannot open banner file:";
/// As [`OOPS_BANNED_EMAIL_FILE`], for email_password_file.
pub const OOPS_EMAIL_PASSWORD_FILE: &str = "cannot open email passwords file:";
/// As [`OOPS_BANNED_EMAIL_FILE`], for userlist_file with userlist_enable.
pub const OOPS_USER_LIST_FILE: &str = "cannot read user list file:";
/// A jail the user can write to (vsftpd's text up to the closing parenthesis; then, beyond
/// vsftpd, the two ways out).
pub const OOPS_WRITABLE_CHROOT: &str =
    "vsftpd: refusing to run with writable root inside chroot() \
     (set allow_writeable_chroot=YES, or make the root read-only and give the user a writable \
     subdirectory)";

/// `421 Negotiation failed: <error>` (TLS handshake failure on AUTH).
pub fn tls_negotiation_failed(error: &[u8]) -> Vec<u8> {
    let mut text = b"Negotiation failed: ".to_vec();
    text.extend_from_slice(error);
    line(code::TLS_FAIL, &text)
}

/// Doubles every `"` (RFC 959 quoting of a path inside a 257 reply).
fn quote_path(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + 2);
    out.push(b'"');
    for &b in path {
        out.push(b);
        if b == b'"' {
            out.push(b'"');
        }
    }
    out.push(b'"');
    out
}

/// `257 "<path>" is the current directory` (no period, as vsftpd 3.0.3+).
pub fn pwd(path: &[u8]) -> Vec<u8> {
    let mut text = quote_path(path);
    text.extend_from_slice(b" is the current directory");
    line(code::PWDOK, &text)
}

/// `257 "<path>" created`; `path` as vsftpd builds it ([`super::path::prepend_cwd`]).
pub fn mkd_created(path: &[u8]) -> Vec<u8> {
    let mut text = quote_path(path);
    text.extend_from_slice(b" created");
    line(code::MKDIROK, &text)
}

/// `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).` — `Ipv4Addr::UNSPECIFIED` gives vsftpd's
/// `0,0,0,0` (an IPv6 control connection that is not v4-mapped).
pub fn pasv(addr: Ipv4Addr, port: u16) -> Vec<u8> {
    let [a, b, c, d] = addr.octets();
    let [p1, p2] = port.to_be_bytes();
    let text = format!("Entering Passive Mode ({a},{b},{c},{d},{p1},{p2}).");
    line(code::PASVOK, text.as_bytes())
}

/// `229 Entering Extended Passive Mode (|||port|)` (no period, as vsftpd 3.0.3+).
pub fn epsv(port: u16) -> Vec<u8> {
    let text = format!("Entering Extended Passive Mode (|||{port}|)");
    line(code::EPSVOK, text.as_bytes())
}

/// `150 Opening BINARY mode data connection for <name> (<size> bytes).` (ASCII when the transfer
/// converts line ends). `name` is the argument as the client gave it.
pub fn retr_opening(ascii: bool, name: &[u8], size: u64) -> Vec<u8> {
    let mut text = Vec::with_capacity(name.len() + 64);
    text.extend_from_slice(b"Opening ");
    text.extend_from_slice(if ascii { b"ASCII" } else { b"BINARY" });
    text.extend_from_slice(b" mode data connection for ");
    text.extend_from_slice(name);
    text.extend_from_slice(format!(" ({size} bytes).").as_bytes());
    line(code::DATACONN, &text)
}

/// `213 Modify=YYYYMMDDHHMMSS; path` (MFMT, as its draft says).
pub fn mfmt_ok(timestamp: &[u8], path: &[u8]) -> Vec<u8> {
    let mut text = b"Modify=".to_vec();
    text.extend_from_slice(timestamp);
    text.extend_from_slice(b"; ");
    text.extend_from_slice(path);
    line(code::MDTMOK, &text)
}

/// `150 FILE: <name>` (STOU).
pub fn stou_file(name: &[u8]) -> Vec<u8> {
    let mut text = b"FILE: ".to_vec();
    text.extend_from_slice(name);
    line(code::DATACONN, &text)
}

/// `350 Restart position accepted (<n>).`
pub fn rest_ok(offset: u64) -> Vec<u8> {
    line(
        code::RESTOK,
        format!("Restart position accepted ({offset}).").as_bytes(),
    )
}

/// `213 <size>`.
pub fn size(size: u64) -> Vec<u8> {
    line(code::SIZEOK, size.to_string().as_bytes())
}

/// `213 YYYYMMDDHHMMSS` (the timestamp as formatted by the caller).
pub fn mdtm(timestamp: &[u8]) -> Vec<u8> {
    line(code::MDTMOK, timestamp)
}

/// vsftpd's `vsf_sysutil_uint_to_octal`: `0` for zero, else `0` followed by octal digits.
fn octal(mask: u32) -> String {
    if mask == 0 {
        "0".to_owned()
    } else {
        format!("0{mask:o}")
    }
}

/// `200 Your current UMASK is 022`.
pub fn umask_current(mask: u32) -> Vec<u8> {
    line(
        code::UMASKOK,
        format!("Your current UMASK is {}", octal(mask)).as_bytes(),
    )
}

/// `200 UMASK set to 022`.
pub fn umask_set(mask: u32) -> Vec<u8> {
    line(
        code::UMASKOK,
        format!("UMASK set to {}", octal(mask)).as_bytes(),
    )
}

/// FEAT as vsftpd 3.0.5 with ssl_enable=NO, port_enable=YES, pasv_enable=YES, plus our MLST line.
pub fn feat() -> Vec<u8> {
    feat_with(true, true, false)
}

/// FEAT with vsftpd's conditions: EPRT only with port_enable; EPSV and PASV only with
/// pasv_enable. Lines in alphabetical order, ours (MLST) where the order puts it. The TLS lines
/// (AUTH TLS, PBSZ, PROT) come with FTPS. (Debian's 3.0.3 build leaves out ` UTF8` unless its
/// own utf8_filesystem=YES; upstream and RHEL always send it, as we do.)
/// `mfmt`: list our MFMT (only where times may be set: write_enable and mdtm_write), so that
/// clients such as rclone use it.
pub fn feat_with(port_enable: bool, pasv_enable: bool, mfmt: bool) -> Vec<u8> {
    feat_full(port_enable, pasv_enable, mfmt, false)
}

/// FEAT; with `tls` (ssl_enable=YES) also AUTH TLS, PBSZ and PROT. vsftpd 3.0.5 lists AUTH TLS
/// only with ssl_tlsv1=YES (a bug Red Hat patched); ours lists it whenever FTPS is on.
pub fn feat_full(port_enable: bool, pasv_enable: bool, mfmt: bool, tls: bool) -> Vec<u8> {
    let mut body: Vec<&[u8]> = Vec::with_capacity(14);
    if tls {
        body.push(b" AUTH TLS");
    }
    if port_enable {
        body.push(b" EPRT");
    }
    if pasv_enable {
        body.push(b" EPSV");
    }
    body.push(b" MDTM");
    if mfmt {
        body.push(b" MFMT");
    }
    body.push(FEAT_MLST.as_bytes());
    if pasv_enable {
        body.push(b" PASV");
    }
    if tls {
        body.push(b" PBSZ");
        body.push(b" PROT");
    }
    body.push(b" REST STREAM");
    body.push(b" SIZE");
    body.push(b" TVFS");
    body.push(b" UTF8");
    multi(
        code::FEAT,
        FEAT_HEADER.1.as_bytes(),
        &body,
        FEAT_END.1.as_bytes(),
    )
}

/// HELP, exactly as vsftpd.
pub fn help() -> Vec<u8> {
    let body: Vec<&[u8]> = HELP_BODY.iter().map(|l| l.as_bytes()).collect();
    multi(
        code::HELP,
        HELP_HEADER.1.as_bytes(),
        &body,
        HELP_OK.1.as_bytes(),
    )
}

/// What STAT without an argument reports (vsftpd `handle_stat`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerStatus {
    /// The client's address as vsftpd prints it (e.g. `192.0.2.7`, `::ffff:192.0.2.7`).
    pub remote_ip: Vec<u8>,
    /// The login name as given to USER.
    pub user: Vec<u8>,
    pub ascii: bool,
    /// Bytes per second; 0 for none.
    pub rate_max: u64,
    /// idle_session_timeout; 0 for none.
    pub idle_timeout: u64,
    pub control_tls: bool,
    pub data_tls: bool,
    /// Sessions counted at this session's start (standalone mode); 0 leaves the line out.
    pub num_clients: u64,
}

/// STAT without an argument: `211-FTP server status:` … `211 End of status`, the body as vsftpd
/// (five-space indented lines) but naming vsFTPd-rs.
pub fn server_status(s: &ServerStatus) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = Vec::with_capacity(9);
    let mut l = b"     Connected to ".to_vec();
    l.extend_from_slice(&s.remote_ip);
    lines.push(l);
    let mut l = b"     Logged in as ".to_vec();
    l.extend_from_slice(&s.user);
    lines.push(l);
    lines.push(if s.ascii {
        b"     TYPE: ASCII".to_vec()
    } else {
        b"     TYPE: BINARY".to_vec()
    });
    lines.push(if s.rate_max == 0 {
        b"     No session bandwidth limit".to_vec()
    } else {
        format!("     Session bandwidth limit in byte/s is {}", s.rate_max).into_bytes()
    });
    lines.push(if s.idle_timeout == 0 {
        b"     No session timeout".to_vec()
    } else {
        format!("     Session timeout in seconds is {}", s.idle_timeout).into_bytes()
    });
    lines.push(if s.control_tls {
        b"     Control connection is encrypted".to_vec()
    } else {
        b"     Control connection is plain text".to_vec()
    });
    lines.push(if s.data_tls {
        b"     Data connections will be encrypted".to_vec()
    } else {
        b"     Data connections will be plain text".to_vec()
    });
    if s.num_clients > 0 {
        lines.push(
            format!(
                "     At session startup, client count was {}",
                s.num_clients
            )
            .into_bytes(),
        );
    }
    lines.push(
        concat!(
            "     vsFTPd-rs ",
            env!("CARGO_PKG_VERSION"),
            " - secure, fast, stable"
        )
        .as_bytes()
        .to_vec(),
    );
    let body: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    multi(
        code::STATOK,
        STAT_HEADER.1.as_bytes(),
        &body,
        STAT_END.1.as_bytes(),
    )
}

/// OPTS MLST (ours, RFC 3659 7.9): `200 MLST OPTS type;size;` (`200 MLST OPTS` for none).
pub fn mlst_opts(facts: &[u8]) -> Vec<u8> {
    let mut text = b"MLST OPTS".to_vec();
    if !facts.is_empty() {
        text.push(b' ');
        text.extend_from_slice(facts);
    }
    line(code::OPTSOK, &text)
}

/// MLST (ours, RFC 3659 7.2): `250-Listing <path>`, one space-led fact line, `250 End`.
/// `facts` is `type=file;size=3;... name` as built by the listing code.
pub fn mlst(path: &[u8], facts: &[u8]) -> Vec<u8> {
    let mut first = b"Listing ".to_vec();
    first.extend_from_slice(path);
    let mut fact_line = b" ".to_vec();
    fact_line.extend_from_slice(facts);
    multi(
        code::MLSTOK,
        &first,
        &[fact_line.as_slice()],
        MLST_END.1.as_bytes(),
    )
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

    #[test]
    fn fixed_replies() {
        assert_eq!(encode(LOGIN_OK), b"230 Login successful.\r\n");
        assert_eq!(
            encode(PLEASE_LOGIN),
            b"530 Please login with USER and PASS.\r\n"
        );
        assert_eq!(encode(UNKNOWN_COMMAND), b"500 Unknown command.\r\n");
        assert_eq!(encode(LINE_TOO_LONG), b"500 Input line too long.\r\n");
        assert_eq!(encode(SYST), b"215 UNIX Type: L8\r\n");
        assert_eq!(encode(GOODBYE), b"221 Goodbye.\r\n");
        assert_eq!(
            encode(HTTP_NOT_ALLOWED),
            b"500 HTTP protocol commands not allowed.\r\n"
        );
        assert_eq!(
            encode_hyphen(LIST_OPENING),
            b"150-Here comes the directory listing.\r\n"
        );
        assert_eq!(
            encode(LIST_OPEN_FAILED),
            b"226 Transfer done (but failed to open directory).\r\n"
        );
    }

    #[test]
    fn every_fixed_reply_is_one_clean_line() {
        assert!(ALL.len() > 90);
        for (name, r) in ALL {
            assert!((100..600).contains(&r.0), "{name}");
            assert!(!r.1.contains(['\r', '\n']), "{name}");
            let enc = encode(*r);
            assert!(enc.ends_with(b"\r\n"));
            assert_eq!(enc.iter().filter(|&&b| b == b'\n').count(), 1, "{name}");
        }
    }

    #[test]
    fn client_bytes_cannot_forge_a_line() {
        let evil = b"/x\r\n230 Login successful.\r\n\xff";
        let r = pwd(evil);
        assert_eq!(
            r,
            b"257 \"/x\x00\x00230 Login successful.\x00\x00\xff\xff\" is the current directory\r\n"
        );
        assert_eq!(r.iter().filter(|&&b| b == b'\n').count(), 1);
        let r = retr_opening(false, b"a\nb", 3);
        assert_eq!(
            r,
            b"150 Opening BINARY mode data connection for a\0b (3 bytes).\r\n"
        );
    }

    #[test]
    fn pwd_and_mkd_quote() {
        assert_eq!(pwd(b"/"), b"257 \"/\" is the current directory\r\n");
        assert_eq!(
            pwd(b"/a\"b"),
            b"257 \"/a\"\"b\" is the current directory\r\n"
        );
        assert_eq!(mkd_created(b"/pub/new"), b"257 \"/pub/new\" created\r\n");
    }

    #[test]
    fn builders() {
        assert_eq!(
            pasv(Ipv4Addr::new(192, 0, 2, 7), 50_000),
            b"227 Entering Passive Mode (192,0,2,7,195,80).\r\n"
        );
        assert_eq!(
            pasv(Ipv4Addr::UNSPECIFIED, 21),
            b"227 Entering Passive Mode (0,0,0,0,0,21).\r\n"
        );
        assert_eq!(
            epsv(50_000),
            b"229 Entering Extended Passive Mode (|||50000|)\r\n"
        );
        assert_eq!(
            retr_opening(true, b"f.txt", 0),
            b"150 Opening ASCII mode data connection for f.txt (0 bytes).\r\n"
        );
        assert_eq!(stou_file(b"x.1"), b"150 FILE: x.1\r\n");
        assert_eq!(rest_ok(123), b"350 Restart position accepted (123).\r\n");
        assert_eq!(size(42), b"213 42\r\n");
        assert_eq!(size(0), b"213 0\r\n");
        assert_eq!(size(u64::MAX), b"213 18446744073709551615\r\n");
        assert_eq!(mdtm(b"20240102030405"), b"213 20240102030405\r\n");
        assert_eq!(umask_current(0o22), b"200 Your current UMASK is 022\r\n");
        assert_eq!(umask_set(0), b"200 UMASK set to 0\r\n");
        assert_eq!(umask_set(0o077), b"200 UMASK set to 077\r\n");
        assert_eq!(oops(b"child died"), b"500 OOPS: child died\r\n");
        assert_eq!(
            tls_negotiation_failed(b"x"),
            b"421 Negotiation failed: x\r\n"
        );
        assert_eq!(
            greeting(None),
            format!("220 {GREETING_TEXT}\r\n").into_bytes()
        );
        assert!(GREETING_TEXT.starts_with("(vsFTPd-rs "));
        assert_eq!(greeting(Some(b"Welcome")), b"220 Welcome\r\n");
    }

    #[test]
    fn banner_file_and_messages() {
        assert_eq!(
            greeting_banner_file(b"Hello\r\nWorld\n"),
            b"220-Hello\r\n220-World\r\n220 \r\n"
        );
        assert_eq!(greeting_banner_file(b""), b"220 \r\n");
        assert_eq!(message_lines(250, b"a\n\nb"), b"250-a\r\n250-\r\n250-b\r\n");
    }

    #[test]
    fn feat_bytes() {
        assert_eq!(
            feat(),
            b"211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n MLST type*;size*;modify*;perm*;unique*;UNIX.mode*;UNIX.owner*;UNIX.group*;\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n"
        );
        assert_eq!(
            feat_with(false, false, false),
            b"211-Features:\r\n MDTM\r\n MLST type*;size*;modify*;perm*;unique*;UNIX.mode*;UNIX.owner*;UNIX.group*;\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n"
        );
    }

    #[test]
    fn help_bytes() {
        assert_eq!(
            help(),
            b"214-The following commands are recognized.\r\n ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD\r\n MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR\r\n RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD\r\n XPWD XRMD\r\n214 Help OK.\r\n"
        );
    }

    #[test]
    fn multi_guards_body_lines() {
        let r = multi(211, b"head", &[b"226 fake", b" ok", b"a\r\nb"], b"tail");
        assert_eq!(r, b"211-head\r\n 226 fake\r\n ok\r\na\0\0b\r\n211 tail\r\n");
        let r = multi_text(
            213,
            b"Status follows:",
            b"-rw 1\r\n5 x\r\n",
            b"End of status",
        );
        assert_eq!(
            r,
            b"213-Status follows:\r\n-rw 1\r\n 5 x\r\n213 End of status\r\n"
        );
        assert_eq!(multi_text(213, b"S", b"", b"E"), b"213-S\r\n213 E\r\n");
    }

    #[test]
    fn server_status_body() {
        let s = ServerStatus {
            remote_ip: b"192.0.2.7".to_vec(),
            user: b"ftp".to_vec(),
            ascii: false,
            rate_max: 0,
            idle_timeout: 300,
            control_tls: false,
            data_tls: false,
            num_clients: 1,
        };
        let r = String::from_utf8(server_status(&s)).unwrap();
        assert!(r.starts_with(
            "211-FTP server status:\r\n     Connected to 192.0.2.7\r\n     Logged in as ftp\r\n     TYPE: BINARY\r\n     No session bandwidth limit\r\n     Session timeout in seconds is 300\r\n     Control connection is plain text\r\n     Data connections will be plain text\r\n     At session startup, client count was 1\r\n     vsFTPd-rs "
        ));
        assert!(r.ends_with(" - secure, fast, stable\r\n211 End of status\r\n"));
    }

    #[test]
    fn mlst_reply() {
        assert_eq!(
            mlst(b"/a", b"type=file;size=1; a"),
            b"250-Listing /a\r\n type=file;size=1; a\r\n250 End\r\n"
        );
    }
}

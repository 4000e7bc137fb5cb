//! The logs admins and their tools already read: vsftpd.log, wu-ftpd's xferlog, syslog, and
//! the protocol log — each exactly as vsftpd writes it (reference: vsftpd 3.0.5 `logging.c`).
//!
//! Who gets what (vsftpd's `vsf_log_init`), decided once per session from the configuration:
//!
//! | log | written when | what |
//! |---|---|---|
//! | xferlog_file | (xferlog_enable or dual_log_enable) and (xferlog_std_format or dual_log_enable) | one wu-ftpd line per upload or download ([`xferlog`]) |
//! | vsftpd_log_file | (xferlog_enable or dual_log_enable) and (not xferlog_std_format or dual_log_enable), and not syslog_enable | CONNECT, logins, transfers, MKDIR, RMDIR, DELETE, RENAME, CHMOD, with log_ftp_protocol every command and reply ([`vsftpd_log`]) |
//! | syslog (syslog_socket) | syslog_enable | the same lines, without the date and `[pid N]` ([`syslog`]) |
//!
//! Beyond vsftpd: `vsftpd_log_file=-` writes those lines to standard error (containers, the
//! journal); the daemon's own reports — a seccomp trap, a helper protocol violation, a failed
//! fork, a reload — go to syslog with syslog_enable, else to vsftpd.log when there is one, and
//! always to standard error ([`report`], [`note`]); with log_die (Red Hat) the reason a
//! session dies (`500 OOPS: …`) goes to syslog too ([`die`]).
//!
//! How the lines get out of the jails (DESIGN.md "Processes"): the log files are opened and
//! the syslog socket connected by root, once per session, before the session forks its
//! protocol processes, which confine themselves and inherit them ([`SessionLog::open`]). So a
//! file that logrotate replaced (`create`) is used by the next session without a restart, and
//! one it cut (`copytruncate`) is written at its new end (O_APPEND). A file is created mode
//! 0600; each line is one write(2) under vsftpd's fcntl lock (not with no_log_lock), so the
//! lines of sessions never mix. A file that cannot be opened stops the daemon at start-up
//! ([`check_targets`]) and refuses the session later, as vsftpd does; nothing is lost in
//! silence. The helper logs logins (it decides them); the post-login process logs its
//! transfers and file operations; each process logs its own protocol lines.
//!
//! No client byte can forge a line: every line is sanitised as a whole before it is written
//! ([`sanitize`]): bytes below 0x20 and 0x7f become `?` (with wc_logs_enable, Red Hat's
//! option: invalid UTF-8 and every non-printable character too).
#![forbid(unsafe_code)]

pub mod protocol;
pub mod syslog;
pub mod vsftpd_log;
pub mod xferlog;

use std::cell::{Cell, RefCell};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::rc::Rc;
use std::time::{Instant, SystemTime};

use crate::config::Config;
pub use syslog::Severity;
use syslog::Syslog;
pub use vsftpd_log::Kind;
pub use xferlog::Access;

/// `vsftpd_log_file=-`: standard error instead of a file.
pub const STDERR_PATH: &str = "-";

/// Replaces what could forge or garble a line: bytes below 0x20 and 0x7f become `?`, as
/// vsftpd's `str_replace_unprintable`; with `wide` (wc_logs_enable) the line is read as UTF-8
/// and each invalid byte and each control or line-separator character becomes `?` as well.
pub fn sanitize(line: &mut Vec<u8>, wide: bool) {
    if !wide {
        for b in line.iter_mut() {
            if *b < 0x20 || *b == 0x7f {
                *b = b'?';
            }
        }
        return;
    }
    let mut out = Vec::with_capacity(line.len());
    let mut rest: &[u8] = line;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, 0),
            Err(e) => {
                let ok = rest.get(..e.valid_up_to()).unwrap_or_default();
                let bad = e
                    .error_len()
                    .unwrap_or(rest.len().saturating_sub(e.valid_up_to()));
                (std::str::from_utf8(ok).unwrap_or_default(), bad.max(1))
            }
        };
        for c in valid.chars() {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                out.push(b'?');
            } else {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        let consumed = (valid.len() + bad).min(rest.len());
        if bad > 0 {
            out.push(b'?');
        }
        rest = rest.get(consumed..).unwrap_or_default();
    }
    *line = out;
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// vsftpd.log's and xferlog's date, `%a %b %e %H:%M:%S %Y` (`Thu Sep  8 00:39:49 2016`), of
/// `secs` in a zone `utc_offset` seconds east of UTC.
pub fn log_date(secs: i64, utc_offset: i64) -> Vec<u8> {
    let (year, _, _, _, _, _) = crate::data::listing::civil_time(secs, utc_offset);
    let days = secs.div_euclid(86_400) + (secs.rem_euclid(86_400) + utc_offset).div_euclid(86_400);
    let weekday = usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0);
    let mut out = DAYS
        .get(weekday)
        .copied()
        .unwrap_or("???")
        .as_bytes()
        .to_vec();
    out.push(b' ');
    out.extend_from_slice(&syslog_stamp(secs, utc_offset));
    out.extend_from_slice(format!(" {year}").as_bytes());
    out
}

/// syslog's timestamp, `%b %e %H:%M:%S` (`Sep  8 00:39:49`), as glibc's syslog(3) writes it.
pub fn syslog_stamp(secs: i64, utc_offset: i64) -> Vec<u8> {
    let (_, month, day, h, m, s) = crate::data::listing::civil_time(secs, utc_offset);
    let name = usize::try_from(month.saturating_sub(1))
        .ok()
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("???");
    format!("{name} {day:>2} {h:02}:{m:02}:{s:02}").into_bytes()
}

/// Now, in seconds since the epoch, and the local zone's offset then. (The zone was loaded
/// before any chroot: `crate::sys::time`.)
fn clock() -> (i64, i64) {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    (secs, crate::sys::time::utc_offset_at(secs))
}

/// Which logs a configuration asks for (vsftpd's `vsf_log_init`).
struct Plan<'a> {
    xferlog: Option<&'a str>,
    vsftpd_log: Option<&'a str>,
    syslog: bool,
}

impl Plan<'_> {
    fn of(c: &Config) -> Plan<'_> {
        let any = c.xferlog_enable || c.dual_log_enable;
        Plan {
            xferlog: (any && (c.dual_log_enable || c.xferlog_std_format))
                .then(|| c.str_or_default("xferlog_file", &c.xferlog_file)),
            vsftpd_log: (any && (c.dual_log_enable || !c.xferlog_std_format) && !c.syslog_enable)
                .then(|| c.str_or_default("vsftpd_log_file", &c.vsftpd_log_file)),
            syslog: c.syslog_enable,
        }
    }
}

/// syslog_socket (ours): where the syslog daemon listens.
fn syslog_path(c: &Config) -> &Path {
    Path::new(c.str_or_default("syslog_socket", &c.syslog_socket))
}

/// Opens (creating, mode 0600) a log file for appending, as vsftpd's
/// `vsf_sysutil_create_or_open_file_append`. Close-on-exec, as every fd std opens.
fn open_append(path: &str) -> std::io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
}

/// Where vsftpd-format lines go in a file's form.
enum Sink {
    File(File),
    Stderr,
}

/// Appends one line (sanitised here, newline added) with one write: under vsftpd's lock for
/// a file unless `lock` is off. A write that fails is not retried (vsftpd: "maybe the disk
/// filled"); a lock that cannot be had does not stop the line.
fn write_line(sink: &Sink, mut line: Vec<u8>, lock: bool, wide: bool) {
    sanitize(&mut line, wide);
    line.push(b'\n');
    match sink {
        Sink::File(f) => {
            let locked = lock && crate::sys::logfile::lock(f.as_fd()).is_ok();
            let mut w: &File = f;
            let _ = w.write_all(&line);
            if locked {
                let _ = crate::sys::logfile::unlock(f.as_fd());
            }
        }
        Sink::Stderr => {
            let _ = std::io::stderr().lock().write_all(&line);
        }
    }
}

/// A session's open logs, shared by its processes (each holds its own copy of the fds from
/// the fork).
struct Outputs {
    xferlog: Option<Sink>,
    vsftpd_log: Option<Sink>,
    /// Connected when syslog_enable or log_die asks for it.
    syslog: Option<Syslog>,
    /// syslog_enable: the vsftpd-format lines go to syslog.
    syslog_lines: bool,
    log_die: bool,
    protocol: bool,
    lock: bool,
    wide: bool,
    /// The two ends of the socket pair that carries a confined process's standard error to
    /// its helper: (helper's end, child's end).
    relay: Option<(UnixDatagram, UnixDatagram)>,
    /// This process closed its copies of the files (and of the syslog socket): see
    /// [`SessionLog::release_unneeded`].
    files_released: Cell<bool>,
    syslog_released: Cell<bool>,
}

impl Outputs {
    fn xferlog(&self) -> Option<&Sink> {
        self.xferlog.as_ref().filter(|_| !self.files_released.get())
    }

    fn vsftpd_log(&self) -> Option<&Sink> {
        self.vsftpd_log
            .as_ref()
            .filter(|s| matches!(s, Sink::Stderr) || !self.files_released.get())
    }

    fn syslog(&self) -> Option<&Syslog> {
        self.syslog.as_ref().filter(|_| !self.syslog_released.get())
    }

    fn none() -> Outputs {
        Outputs {
            xferlog: None,
            vsftpd_log: None,
            syslog: None,
            syslog_lines: false,
            log_die: false,
            protocol: false,
            lock: false,
            wide: false,
            relay: None,
            files_released: Cell::new(false),
            syslog_released: Cell::new(false),
        }
    }

    /// Sends a syslog message; `Err` when the syslog daemon did not take it.
    fn to_syslog(&self, severity: Severity, text: &[u8], secs: i64, offset: i64) -> bool {
        let Some(s) = self.syslog() else {
            return false;
        };
        let mut text = text.to_vec();
        sanitize(&mut text, self.wide);
        let stamp = syslog_stamp(secs, offset);
        s.send(&syslog::datagram(
            severity,
            &stamp,
            std::process::id(),
            &text,
        ))
        .is_ok()
    }

    /// A free-text report (`text` without date and pid): syslog with syslog_enable, else
    /// vsftpd.log; and standard error, unless vsftpd.log is standard error already.
    fn report(&self, severity: Severity, text: &str) {
        let (secs, offset) = clock();
        let sent = self.syslog_lines && self.to_syslog(severity, text.as_bytes(), secs, offset);
        match (self.vsftpd_log(), sent) {
            (Some(Sink::Stderr), false) => write_line(
                &Sink::Stderr,
                dated(text.as_bytes(), secs, offset),
                false,
                self.wide,
            ),
            (Some(sink), false) => {
                write_line(
                    sink,
                    dated(text.as_bytes(), secs, offset),
                    self.lock,
                    self.wide,
                );
                say(text);
            }
            _ => say(text),
        }
    }
}

/// `date [pid N] text`: a report in vsftpd.log's form.
fn dated(text: &[u8], secs: i64, offset: i64) -> Vec<u8> {
    let mut line = log_date(secs, offset);
    line.extend_from_slice(format!(" [pid {}] ", std::process::id()).as_bytes());
    line.extend_from_slice(text);
    line
}

/// Standard error, as `daemon::say` writes it (this module sits below the daemon).
fn say(text: &str) {
    let mut line = format!("vsftpd: {text}").into_bytes();
    sanitize(&mut line, false);
    line.push(b'\n');
    let _ = std::io::stderr().lock().write_all(&line);
}

/// An operation whose line is written when it ends (vsftpd's `vsf_log_start_entry`): if the
/// command ends first, it is logged as failed.
#[derive(Clone)]
struct Pending {
    kind: Kind,
    text: Vec<u8>,
    ascii: bool,
    started: Instant,
    started_secs: i64,
}

/// One session's log, as each of its processes sees it: the open logs, the client, and the
/// name the session goes by so far.
#[derive(Clone)]
pub struct SessionLog {
    out: Rc<Outputs>,
    client: Rc<str>,
    user: Option<Vec<u8>>,
    anon_password: Option<Vec<u8>>,
    access: Access,
    pending: Option<Pending>,
}

impl SessionLog {
    /// A log that writes nothing (tests, and the paths that need none).
    pub fn disabled(peer: IpAddr) -> SessionLog {
        SessionLog::with(Outputs::none(), peer)
    }

    fn with(out: Outputs, peer: IpAddr) -> SessionLog {
        SessionLog {
            out: Rc::new(out),
            // vsftpd's remote_ip_str: inet_ntop of the peer, `::ffff:a.b.c.d` for an IPv4
            // client of an IPv6 listener.
            client: Rc::from(peer.to_string()),
            user: None,
            anon_password: None,
            access: Access::Real,
            pending: None,
        }
    }

    /// Opens what `config` asks for, for the session with `peer`; run by root (or the
    /// launching user) before the session forks or confines anything. `Err` is vsftpd's
    /// `500 OOPS:` text for a log file that cannot be opened. A syslog socket that cannot be
    /// reached is reported, and the lines go to standard error instead.
    pub fn open(config: &Config, peer: IpAddr) -> Result<SessionLog, String> {
        let plan = Plan::of(config);
        let xferlog = match plan.xferlog {
            Some(p) => {
                Some(Sink::File(open_append(p).map_err(|_| {
                    format!("failed to open xferlog log file:{p}")
                })?))
            }
            None => None,
        };
        let mut vsftpd_log = match plan.vsftpd_log {
            Some(STDERR_PATH) => Some(Sink::Stderr),
            Some(p) => {
                Some(Sink::File(open_append(p).map_err(|_| {
                    format!("failed to open vsftpd log file:{p}")
                })?))
            }
            None => None,
        };
        let mut syslog = None;
        if plan.syslog || config.log_die {
            let path = syslog_path(config);
            match Syslog::connect(path) {
                Ok(s) => syslog = Some(s),
                Err(e) => {
                    say(&format!(
                        "cannot reach the syslog socket {}: {e}; this session logs to standard error",
                        path.display()
                    ));
                    if plan.syslog {
                        vsftpd_log = Some(Sink::Stderr);
                    }
                }
            }
        }
        // Only where a report would reach a log: else the children's standard error stays
        // the daemon's, as it is.
        let reported = vsftpd_log.is_some() || (plan.syslog && syslog.is_some());
        let relay = if config.run_as_launching_user || !reported {
            None
        } else {
            UnixDatagram::pair()
                .and_then(|(helper, child)| {
                    helper.set_nonblocking(true)?;
                    // A child that fills the relay loses lines; it never blocks on them.
                    child.set_nonblocking(true)?;
                    Ok((helper, child))
                })
                .ok()
        };
        let out = Outputs {
            xferlog,
            vsftpd_log,
            syslog_lines: plan.syslog && syslog.is_some(),
            syslog,
            log_die: config.log_die,
            protocol: config.log_ftp_protocol,
            lock: !config.no_log_lock,
            wide: config.wc_logs_enable,
            relay,
            files_released: Cell::new(false),
            syslog_released: Cell::new(false),
        };
        Ok(SessionLog::with(out, peer))
    }

    /// Makes this session's logs the target of [`report`], [`note`] and [`die`] in this
    /// process and in the processes it forks.
    pub fn install_reporter(&self) {
        REPORTER.with(|r| *r.borrow_mut() = Reporter::Session(Rc::clone(&self.out)));
    }

    /// With log_ftp_protocol: every command and reply is logged.
    pub fn protocol(&self) -> bool {
        self.out.protocol
    }

    fn entry<'a>(&'a self, kind: Kind, ok: bool, text: &'a [u8]) -> vsftpd_log::Entry<'a> {
        vsftpd_log::Entry {
            kind,
            ok,
            user: self.user.as_deref(),
            client: &self.client,
            anon_password: None,
            text,
            bytes: 0,
            kbyte_rate: 0.0,
        }
    }

    /// Writes a vsftpd-format line where it goes, and for a transfer its xferlog line.
    fn emit(&self, e: &vsftpd_log::Entry<'_>, transfer: Option<&xferlog::Transfer<'_>>) {
        let out = &self.out;
        let (secs, offset) = clock();
        let date = log_date(secs, offset);
        if let (Some(sink), Some(t)) = (out.xferlog(), transfer) {
            write_line(sink, xferlog::line(t, &date), out.lock, out.wide);
        }
        let file_form = || {
            let header = vsftpd_log::Header {
                date: &date,
                pid: std::process::id(),
            };
            vsftpd_log::line(e, Some(&header))
        };
        if let Some(sink) = out.vsftpd_log() {
            write_line(sink, file_form(), out.lock, out.wide);
        }
        if out.syslog_lines {
            let severity = if e.kind == Kind::Login && !e.ok {
                Severity::Warning
            } else {
                Severity::Info
            };
            if !out.to_syslog(severity, &vsftpd_log::line(e, None), secs, offset) {
                // Not taken (the syslog daemon went away): not lost.
                write_line(&Sink::Stderr, file_form(), false, out.wide);
            }
        }
    }

    /// `CONNECT: Client "…"`, when the connection is accepted.
    pub fn connected(&self) {
        self.emit(&self.entry(Kind::Connect, true, b""), None);
    }

    /// A login's outcome, as decided: `user` is the name it was asked for (refused) or goes by
    /// (accepted: ftp_username for an anonymous login); `anon_password` that of an accepted
    /// anonymous login; `why` the text Red Hat's userlist_log adds, else empty.
    pub fn login(&self, ok: bool, user: &[u8], anon_password: Option<&[u8]>, why: &[u8]) {
        let pw = anon_password.map(anon_password_text);
        let e = vsftpd_log::Entry {
            user: Some(user),
            anon_password: pw.as_deref(),
            ..self.entry(Kind::Login, ok, why)
        };
        self.emit(&e, None);
    }

    /// The name later lines carry (`[user]`): USER's argument before login; `None` forgets it.
    pub fn set_user(&mut self, user: Option<&[u8]>) {
        self.user = user.map(<[u8]>::to_vec);
    }

    /// Who the session is after login: the name, the xferlog access mode and, for an
    /// anonymous login, its password (the user of its xferlog lines).
    pub fn logged_in(&mut self, user: &[u8], access: Access, anon_password: Option<&[u8]>) {
        self.user = Some(user.to_vec());
        self.access = access;
        self.anon_password = anon_password.map(anon_password_text);
    }

    /// log_ftp_protocol: a command line as read.
    pub fn command(&self, line: &[u8]) {
        if self.out.protocol {
            let text = protocol::command_text(line);
            self.emit(&self.entry(Kind::FtpCommand, true, &text), None);
        }
    }

    /// log_ftp_protocol: reply bytes as sent, line by line.
    pub fn reply(&self, sent: &[u8]) {
        if self.out.protocol {
            for l in protocol::reply_lines(sent) {
                self.emit(&self.entry(Kind::FtpResponse, true, l), None);
            }
        }
    }

    /// Starts an operation on `text` (its path as the client named it, joined to the working
    /// directory): logged by [`done`](Self::done), or as failed by
    /// [`end_command`](Self::end_command). `ascii`: TYPE A (xferlog's transfer type).
    pub fn start(&mut self, kind: Kind, text: Vec<u8>, ascii: bool) {
        let (started_secs, _) = clock();
        self.pending = Some(Pending {
            kind,
            text,
            ascii,
            started: Instant::now(),
            started_secs,
        });
    }

    /// Replaces the started operation's text (STOU: the name it created).
    pub fn retext(&mut self, text: Vec<u8>) {
        if let Some(p) = self.pending.as_mut() {
            p.text = text;
        }
    }

    /// Ends the started operation: OK or FAIL, with the bytes a transfer moved.
    pub fn done(&mut self, ok: bool, bytes: u64) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let e = vsftpd_log::Entry {
            bytes,
            kbyte_rate: vsftpd_log::kbyte_rate(bytes, p.started.elapsed().as_secs_f64()),
            ..self.entry(p.kind, ok, &p.text)
        };
        if !p.kind.is_transfer() {
            return self.emit(&e, None);
        }
        let (now, _) = clock();
        let user = match (self.access, &self.anon_password) {
            (Access::Anonymous, Some(pw)) => pw.as_slice(),
            _ => self.user.as_deref().unwrap_or_default(),
        };
        let t = xferlog::Transfer {
            seconds: u64::try_from(now.saturating_sub(p.started_secs)).unwrap_or(0),
            client: &self.client,
            bytes,
            path: &p.text,
            ascii: p.ascii,
            upload: p.kind == Kind::Upload,
            access: self.access,
            user,
            complete: ok,
        };
        self.emit(&e, Some(&t));
    }

    /// Forgets the started operation: it is not logged (an RNFR that worked waits for RNTO).
    pub fn cancel(&mut self) {
        self.pending = None;
    }

    /// After every command: an operation it started and did not end has failed.
    pub fn end_command(&mut self) {
        if self.pending.is_some() {
            self.done(false, 0);
        }
    }

    /// In the pre-login process, before it confines itself: without log_ftp_protocol it writes
    /// no line (the helper logs the logins), so it closes its copies of the log files, and of
    /// the syslog socket unless log_die needs it. The process that parses an unauthenticated
    /// client's bytes then holds no fd it could forge a log line with.
    pub fn release_unneeded(&self) {
        let out = &self.out;
        if out.protocol {
            return;
        }
        let mut fds = Vec::new();
        for sink in [&out.xferlog, &out.vsftpd_log].into_iter().flatten() {
            if let Sink::File(f) = sink {
                fds.push(f.as_fd());
            }
        }
        if !out.log_die {
            if let Some(s) = &out.syslog {
                fds.push(s.as_fd());
            }
        }
        // The objects stay (the helper's copies of them live on in this process's memory):
        // the flags keep anything here from writing to the closed fds.
        crate::sys::process::close_inherited(&fds);
        out.files_released.set(true);
        out.syslog_released.set(!out.log_die);
    }

    /// In a confined process, before it confines itself: its standard error goes to the
    /// helper ([`relay_stderr`](Self::relay_stderr)), which logs it.
    pub fn redirect_stderr(&self) {
        if let Some((_, child)) = &self.out.relay {
            let _ = crate::sys::logfile::redirect_stderr(child.as_fd());
        }
    }

    /// In the helper, once its children have ended: what they wrote to standard error (a
    /// seccomp trap's report, a panic) is reported, a bounded number of lines.
    pub fn relay_stderr(&self) {
        let Some((helper, _)) = &self.out.relay else {
            return;
        };
        let mut buf = vec![0u8; 4096];
        for _ in 0..crate::limits::MAX_RELAYED_REPORTS {
            let Ok(n) = helper.recv(&mut buf) else {
                return;
            };
            let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
            for l in text.lines().filter(|l| !l.trim().is_empty()) {
                let l = l.strip_prefix("vsftpd: ").unwrap_or(l);
                report(&format!("session process: {l}"));
            }
        }
    }
}

/// An anonymous password as vsftpd logs it: `?` for none, spaces as `_` (they would split
/// xferlog's fields).
fn anon_password_text(pw: &[u8]) -> Vec<u8> {
    if pw.is_empty() {
        return b"?".to_vec();
    }
    pw.iter()
        .map(|&b| if b == b' ' { b'_' } else { b })
        .collect()
}

/// Where [`report`], [`note`] and [`die`] write in this process.
enum Reporter {
    /// Standard error only (nothing installed yet).
    None,
    /// The listener: the configured logs, opened for each report (reports are rare, and so a
    /// rotated file is never held).
    Daemon(Box<Config>),
    /// A session: its open logs.
    Session(Rc<Outputs>),
}

thread_local! {
    // The daemon is single-threaded: this is the process's reporter.
    static REPORTER: RefCell<Reporter> = const { RefCell::new(Reporter::None) };
}

/// The listener's reporter: `config`'s logs (start-up, and each reload).
pub fn install_daemon_reporter(config: &Config) {
    REPORTER.with(|r| *r.borrow_mut() = Reporter::Daemon(Box::new(config.clone())));
}

fn report_with(severity: Severity, text: &str) {
    REPORTER.with(|r| match &*r.borrow() {
        Reporter::None => say(text),
        Reporter::Session(out) => out.report(severity, text),
        Reporter::Daemon(config) => daemon_outputs(config).report(severity, text),
    });
}

/// The listener's logs for one report: opened now, closed after.
fn daemon_outputs(c: &Config) -> Outputs {
    let plan = Plan::of(c);
    let vsftpd_log = match plan.vsftpd_log {
        Some(STDERR_PATH) => Some(Sink::Stderr),
        Some(p) => open_append(p).ok().map(Sink::File),
        None => None,
    };
    let syslog = (plan.syslog || c.log_die)
        .then(|| Syslog::connect(syslog_path(c)).ok())
        .flatten();
    Outputs {
        vsftpd_log,
        syslog_lines: plan.syslog && syslog.is_some(),
        syslog,
        log_die: c.log_die,
        lock: !c.no_log_lock,
        wide: c.wc_logs_enable,
        ..Outputs::none()
    }
}

/// Something went wrong that the admin must see: `ERROR: text` in the log (syslog, warning),
/// `vsftpd: text` on standard error.
pub fn report(text: &str) {
    report_with(Severity::Warning, &format!("ERROR: {text}"));
}

/// Something the admin may want to know (a reload): as [`report`], at the info level and
/// without `ERROR:`.
pub fn note(text: &str) {
    report_with(Severity::Info, text);
}

/// With log_die (Red Hat): the reason a session dies, which its client reads as
/// `500 OOPS: text`, goes to syslog as `ERROR: text`.
pub fn die(text: &str) {
    REPORTER.with(|r| {
        let send = |out: &Outputs| {
            if out.log_die {
                let (secs, offset) = clock();
                let _ = out.to_syslog(
                    Severity::Warning,
                    format!("ERROR: {text}").as_bytes(),
                    secs,
                    offset,
                );
            }
        };
        match &*r.borrow() {
            Reporter::None => {}
            Reporter::Session(out) => send(out),
            Reporter::Daemon(config) => send(&daemon_outputs(config)),
        }
    });
}

/// At start-up: every log file the configuration names can be opened (each is created, mode
/// 0600, as the first session would), and the syslog socket answers when syslog_enable or
/// log_die needs it. `Err` says which and why; the daemon does not start.
pub fn check_targets(c: &Config) -> Result<(), String> {
    let plan = Plan::of(c);
    if let Some(p) = plan.xferlog {
        open_append(p).map_err(|e| format!("failed to open xferlog log file:{p}: {e}"))?;
    }
    if let Some(p) = plan.vsftpd_log.filter(|p| *p != STDERR_PATH) {
        open_append(p).map_err(|e| format!("failed to open vsftpd log file:{p}: {e}"))?;
    }
    if plan.syslog || c.log_die {
        let path = syslog_path(c);
        Syslog::connect(path).map_err(|e| {
            let why = if plan.syslog {
                "syslog_enable=YES"
            } else {
                "log_die=YES"
            };
            format!(
                "{why}, but the syslog socket {} cannot be reached: {e} (start the syslog daemon, or name its socket with syslog_socket)",
                path.display()
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitised_bytes() {
        let mut l = b"a\nb\rc\x1b[31m\x7fd\x00e\xc3\xa9\x85".to_vec();
        sanitize(&mut l, false);
        assert_eq!(l, b"a?b?c?[31m?d?e\xc3\xa9\x85".to_vec());
        // Read as UTF-8: é stays, the C1 control U+0085 (NEL), a lone byte and a line
        // separator become `?`.
        let mut l = "x\u{85}y\u{2028}é".as_bytes().to_vec();
        l.extend_from_slice(b"\xff\n");
        sanitize(&mut l, true);
        assert_eq!(String::from_utf8(l).unwrap(), "x?y?é??");
    }

    #[test]
    fn a_forged_line_stays_one_line() {
        let name = b"x\"\n Fri Jan 19 12:20:33 2007 [pid 1] [a] FAIL LOGIN: Client \"6.6.6.6\"";
        let e = vsftpd_log::Entry {
            kind: Kind::Upload,
            ok: true,
            user: Some(b"bob"),
            client: "192.0.2.7",
            anon_password: None,
            text: name,
            bytes: 1,
            kbyte_rate: 1.0,
        };
        let mut l = vsftpd_log::line(&e, None);
        sanitize(&mut l, false);
        assert!(!l.contains(&b'\n'));
        assert!(l.starts_with(b"[bob] OK UPLOAD: Client \"192.0.2.7\""));
    }

    #[test]
    fn dates() {
        // 2016-09-08 00:39:49 UTC was a Thursday.
        assert_eq!(
            log_date(1_473_295_189, 0),
            b"Thu Sep  8 00:39:49 2016".to_vec()
        );
        assert_eq!(syslog_stamp(1_473_295_189, 0), b"Sep  8 00:39:49".to_vec());
        // An hour east of UTC it was already 01:39; a day's edge moves the weekday.
        assert_eq!(
            log_date(1_473_295_189, 3600),
            b"Thu Sep  8 01:39:49 2016".to_vec()
        );
        assert_eq!(
            log_date(1_473_292_800, -1),
            b"Wed Sep  7 23:59:59 2016".to_vec()
        );
        assert_eq!(log_date(0, 0), b"Thu Jan  1 00:00:00 1970".to_vec());
        assert_eq!(
            log_date(1_800_000_000, 0),
            b"Fri Jan 15 08:00:00 2027".to_vec()
        );
        assert_eq!(syslog_stamp(1_766_000_000, 0), b"Dec 17 19:33:20".to_vec());
    }

    #[test]
    fn anonymous_passwords() {
        assert_eq!(anon_password_text(b""), b"?");
        assert_eq!(anon_password_text(b"a b@c"), b"a_b@c");
    }

    #[test]
    fn plans() {
        let mut c = Config::defaults(crate::config::Layout::Upstream);
        let p = Plan::of(&c);
        assert!(p.xferlog.is_none() && p.vsftpd_log.is_none() && !p.syslog);
        c.xferlog_enable = true;
        let p = Plan::of(&c);
        assert_eq!(
            (p.xferlog, p.vsftpd_log),
            (None, Some("/var/log/vsftpd.log"))
        );
        c.xferlog_std_format = true;
        let p = Plan::of(&c);
        assert_eq!((p.xferlog, p.vsftpd_log), (Some("/var/log/xferlog"), None));
        c.dual_log_enable = true;
        let p = Plan::of(&c);
        assert_eq!(
            (p.xferlog, p.vsftpd_log),
            (Some("/var/log/xferlog"), Some("/var/log/vsftpd.log"))
        );
        c.syslog_enable = true;
        let p = Plan::of(&c);
        assert_eq!(
            (p.xferlog, p.vsftpd_log, p.syslog),
            (Some("/var/log/xferlog"), None, true)
        );
        // dual_log_enable alone is enough (vsftpd).
        let mut c = Config::defaults(crate::config::Layout::Upstream);
        c.dual_log_enable = true;
        assert!(Plan::of(&c).xferlog.is_some());
    }
}

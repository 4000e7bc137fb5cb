//! After login: the command loop of a logged-in session, dispatched by `match` on the parsed
//! command. Handlers never see the raw line.

use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::control::{Control, Ended};
use crate::auth::Login;
use crate::config::Settings;
use crate::data::listing::{self, ListContext, ListKind, ListOutcome};
use crate::data::passive::{self, AcceptError, PassiveSource};
use crate::data::transfer::{self, TransferError};
use crate::proto::command::{parse, Command};
use crate::proto::reply::{self, ServerStatus};
use crate::sys::fs::{self as sysfs, OpenKind};

/// Listings are written through a buffer of this size (a 10,000-entry directory in a few
/// writes instead of one per line).
const LIST_BUFFER: usize = 64 * 1024;

/// The reply to OPTS, before and after login alike.
pub fn opts_reply(arg: &[u8]) -> (u16, &'static str) {
    if arg.eq_ignore_ascii_case(b"UTF8 ON") {
        reply::UTF8_ALWAYS
    } else {
        reply::OPTS_NOT_UNDERSTOOD
    }
}

pub struct Session<'a> {
    settings: &'a Settings,
    ctrl: Control,
    root: OwnedFd,
    cwd: Vec<u8>,
    ascii: bool,
    /// After EPSV ALL (RFC 2428) only EPSV may set up data connections.
    epsv_all: bool,
    passive: Box<dyn PassiveSource + 'a>,
    rest: u64,
    login: Login,
}

impl<'a> Session<'a> {
    pub fn new(
        settings: &'a Settings,
        ctrl: Control,
        root: OwnedFd,
        login: Login,
        passive: Box<dyn PassiveSource + 'a>,
    ) -> Self {
        Session {
            settings,
            ctrl,
            root,
            cwd: b"/".to_vec(),
            ascii: false,
            epsv_all: false,
            passive,
            rest: 0,
            login,
        }
    }

    pub fn run(&mut self) {
        while let Ok(line) = self.ctrl.read_line() {
            match self.dispatch(parse(&line)) {
                Ok(true) => {}
                Ok(false) | Err(_) => break,
            }
        }
        self.ctrl.shutdown();
    }

    /// Handles one command; `Ok(false)` ends the session (QUIT).
    fn dispatch(&mut self, cmd: Command) -> Result<bool, Ended> {
        let c = &self.settings.config;
        // REST applies to the very next command only.
        let rest = std::mem::take(&mut self.rest);
        match cmd {
            Command::Empty => {}
            Command::Quit => {
                let _ = self.ctrl.reply(reply::GOODBYE);
                return Ok(false);
            }
            // An anonymous session is vsftpd's "guest" here.
            Command::User(_) => self.ctrl.reply(reply::CANT_CHANGE_FROM_GUEST)?,
            Command::Http => {
                let _ = self.ctrl.reply(reply::HTTP_NOT_ALLOWED);
                return Ok(false);
            }
            Command::Pass(_) => self.ctrl.reply(reply::ALREADY_LOGGED_IN)?,
            Command::Syst => self.ctrl.reply(reply::SYST)?,
            Command::Feat => self.ctrl.send(&reply::feat())?,
            Command::Opts(arg) => self.ctrl.reply(opts_reply(&arg))?,
            Command::Noop => self.ctrl.reply(reply::NOOP)?,
            Command::Pwd => {
                let r = reply::pwd(&self.cwd);
                self.ctrl.send(&r)?;
            }
            Command::Cwd(arg) => self.cwd(&arg)?,
            Command::Cdup => self.cwd(b"..")?,
            Command::Type(arg) => self.type_(&arg)?,
            Command::Mode(arg) => {
                if arg.eq_ignore_ascii_case(b"S") {
                    self.ctrl.reply(reply::MODE_OK)?
                } else {
                    self.ctrl.reply(reply::MODE_BAD)?
                }
            }
            Command::Stru(arg) => {
                if arg.eq_ignore_ascii_case(b"F") {
                    self.ctrl.reply(reply::STRU_OK)?
                } else {
                    self.ctrl.reply(reply::STRU_BAD)?
                }
            }
            Command::Allo => self.ctrl.reply(reply::ALLO_IGNORED)?,
            Command::Acct => self.ctrl.reply(reply::ACCT_NOT_IMPLEMENTED)?,
            Command::Smnt => self.ctrl.reply(reply::SMNT_NOT_IMPLEMENTED)?,
            Command::Rein => self.ctrl.reply(reply::REIN_NOT_IMPLEMENTED)?,
            Command::Abor => self.ctrl.reply(reply::NO_TRANSFER_TO_ABOR)?,
            Command::Pasv => self.pasv(false)?,
            Command::Epsv(arg) => self.epsv(&arg)?,
            Command::List(arg) => self.list(&arg, true)?,
            Command::Nlst(arg) => self.list(&arg, false)?,
            Command::Retr(arg) => self.retr(&arg, rest)?,
            Command::Size(arg) => self.size(&arg)?,
            Command::Help => self.ctrl.send(&reply::help())?,
            Command::Mdtm(arg) => self.mdtm(&arg)?,
            Command::Stat(arg) if arg.is_empty() => self.stat_server()?,
            Command::Stat(arg) => self.stat_path(&arg)?,
            Command::Site(_) => self.site()?,
            Command::Rest(arg) => self.rest_cmd(&arg)?,
            cmd if cmd.is_write() && !c.write_enable => {
                self.ctrl.reply(reply::PERMISSION_DENIED)?
            }
            _ => self.ctrl.reply(reply::UNKNOWN_COMMAND)?,
        }
        Ok(true)
    }

    /// The path as the kernel should resolve it: the argument joined to the cwd, `..` and all.
    /// The kernel walks it beneath the root (RESOLVE_IN_ROOT), so a component that does not
    /// exist fails as it would with vsftpd's chdir/open, and nothing can climb out of the root.
    fn resolve(&self, arg: &[u8]) -> Vec<u8> {
        if arg.first() == Some(&b'/') {
            return arg.to_vec();
        }
        let mut p = Vec::with_capacity(self.cwd.len() + 1 + arg.len());
        p.extend_from_slice(&self.cwd);
        if p.last() != Some(&b'/') {
            p.push(b'/');
        }
        p.extend_from_slice(arg);
        p
    }

    fn cwd(&mut self, arg: &[u8]) -> Result<(), Ended> {
        let path = self.resolve(arg);
        match sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Directory) {
            Ok(_) => {
                // What PWD shows: the lexical form, never above "/".
                self.cwd = listing::normalize_path(&self.cwd, arg);
                self.ctrl.reply(reply::CWD_OK)
            }
            Err(_) => self.ctrl.reply(reply::CWD_FAIL),
        }
    }

    fn type_(&mut self, arg: &[u8]) -> Result<(), Ended> {
        let upper = arg.to_ascii_uppercase();
        match upper.as_slice() {
            b"I" | b"L8" | b"L 8" => {
                self.ascii = false;
                self.ctrl.reply(reply::TYPE_BINARY)
            }
            b"A" | b"A N" => {
                self.ascii = true;
                self.ctrl.reply(reply::TYPE_ASCII)
            }
            _ => self.ctrl.reply(reply::TYPE_BAD),
        }
    }

    /// The address to put in a 227 reply: pasv_address, or the control connection's own
    /// (IPv4) address.
    fn pasv_reply_ip(&self) -> Ipv4Addr {
        if let Some(a) = self.settings.config.pasv_address.as_deref() {
            if let Ok(ip) = a.parse::<Ipv4Addr>() {
                return ip;
            }
        }
        match passive::canonical_ip(self.ctrl.local.ip()) {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        }
    }

    fn open_pasv(&mut self) -> Option<u16> {
        self.passive.listen().ok()
    }

    fn pasv(&mut self, _extended: bool) -> Result<(), Ended> {
        if !self.settings.config.pasv_enable || self.epsv_all {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let Some(port) = self.open_pasv() else {
            return self.ctrl.reply(reply::PASV_FAILED);
        };
        let r = reply::pasv(self.pasv_reply_ip(), port);
        self.ctrl.send(&r)
    }

    fn epsv(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.settings.config.pasv_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        if arg.eq_ignore_ascii_case(b"ALL") {
            self.epsv_all = true;
            return self.ctrl.reply(reply::EPSV_ALL_OK);
        }
        let family_ok = match arg {
            b"" => true,
            b"1" => passive::canonical_ip(self.ctrl.local.ip()).is_ipv4(),
            b"2" => passive::canonical_ip(self.ctrl.local.ip()).is_ipv6(),
            _ => false,
        };
        if !family_ok {
            return self.ctrl.reply(reply::EPSV_BAD_PROTOCOL);
        }
        let Some(port) = self.open_pasv() else {
            return self.ctrl.reply(reply::PASV_FAILED);
        };
        let r = reply::epsv(port);
        self.ctrl.send(&r)
    }

    /// Takes the data connection the client was told about, or sends the reply that says
    /// why there is none.
    fn data_connection(&mut self) -> Result<Option<TcpStream>, Ended> {
        if !self.passive.is_listening() {
            self.ctrl.reply(reply::USE_PORT_OR_PASV)?;
            return Ok(None);
        }
        match self.passive.accept() {
            Ok(s) => {
                let d = u64::from(self.settings.config.data_connection_timeout);
                if d > 0 {
                    let _ = s.set_write_timeout(Some(Duration::from_secs(d)));
                }
                Ok(Some(s))
            }
            Err(AcceptError::BadIp) => {
                self.ctrl.reply(reply::BAD_IP_CONNECTING)?;
                Ok(None)
            }
            Err(AcceptError::NotListening) => {
                self.ctrl.reply(reply::USE_PORT_OR_PASV)?;
                Ok(None)
            }
            Err(_) => {
                self.ctrl.reply(reply::FAILED_TO_ESTABLISH)?;
                Ok(None)
            }
        }
    }

    fn list(&mut self, arg: &[u8], long: bool) -> Result<(), Ended> {
        if !self.settings.config.dirlist_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let Some(mut data) = self.data_connection()? else {
            return Ok(());
        };
        self.ctrl.reply(reply::LIST_OPENING)?;
        let ctx = self.list_context();
        let mut out = std::io::BufWriter::with_capacity(LIST_BUFFER, &mut data);
        let outcome = listing::list(self.root.as_fd(), &self.cwd, arg, long, &ctx, &mut out)
            .and_then(|o| out.flush().map(|()| o));
        drop(out);
        drop(data);
        match outcome {
            Ok(ListOutcome::Listed) => self.ctrl.reply(reply::LIST_OK),
            Ok(ListOutcome::NotOpened) => self.ctrl.reply(reply::LIST_OPEN_FAILED),
            Err(_) => self.ctrl.reply(reply::WRITE_FAILED),
        }
    }

    fn list_context(&self) -> ListContext<'_> {
        let c = &self.settings.config;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        ListContext {
            now,
            utc_offset: 0,
            hide_ids: c.hide_ids,
            force_dot_files: c.force_dot_files,
            recurse_allowed: c.ls_recurse_enable,
            world_readable_only: self.world_readable_only(),
            ..ListContext::default()
        }
    }

    fn retr(&mut self, arg: &[u8], rest: u64) -> Result<(), Ended> {
        if !self.settings.config.download_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let path = self.resolve(arg);
        let opened = sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Read)
            .and_then(|fd| sysfs::fstat(fd.as_fd()).map(|st| (fd, st)));
        let (fd, st) = match opened {
            Ok((fd, st)) if st.is_regular() && self.may_read(st.mode) => (fd, st),
            _ => return self.ctrl.reply(reply::OPEN_FAILED),
        };
        let mut file = File::from(fd);
        if rest > 0 {
            if self.ascii {
                return self.ctrl.reply(reply::NO_ASCII_RESUME);
            }
            if crate::sys::net::seek_to(file.as_fd(), rest).is_err() {
                return self.ctrl.reply(reply::OPEN_FAILED);
            }
        }
        let Some(mut data) = self.data_connection()? else {
            return Ok(());
        };
        let opening = reply::retr_opening(false, arg, st.size);
        self.ctrl.send(&opening)?;
        let len = st.size.saturating_sub(rest);
        let result =
            transfer::send_file(&mut file, &mut data, len, self.settings.config.use_sendfile);
        drop(data);
        match result {
            Ok(_) => self.ctrl.reply(reply::TRANSFER_OK),
            Err(TransferError::Read) => self.ctrl.reply(reply::READ_FAILED),
            Err(TransferError::Write) => self.ctrl.reply(reply::WRITE_FAILED),
        }
    }

    /// anon_world_readable_only: an anonymous session gets only what "other" may read, even
    /// when its process could read more (vsftpd's default).
    fn world_readable_only(&self) -> bool {
        matches!(self.login, Login::Anonymous { .. })
            && self.settings.config.anon_world_readable_only
    }

    fn may_read(&self, mode: u32) -> bool {
        !self.world_readable_only() || mode & 0o004 != 0
    }

    fn size(&mut self, arg: &[u8]) -> Result<(), Ended> {
        let path = self.resolve(arg);
        let st = sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Path)
            .and_then(|fd| sysfs::fstat(fd.as_fd()));
        match st {
            Ok(st) if st.is_regular() => self.ctrl.reply_text(213, st.size.to_string().as_bytes()),
            _ => self.ctrl.reply(reply::SIZE_FAILED),
        }
    }

    /// MDTM: `213 YYYYMMDDHHMMSS` (GMT) for a regular file. vsftpd stats the whole argument
    /// first and, when writes are not allowed, answers from that stat even for the set-form
    /// (`MDTM 20200101000000 file`): there is no file of that whole name, so it answers
    /// `550 Could not get file modification time.` An anonymous session may set times only
    /// with anon_other_write_enable=YES, which the configuration refuses until #8; so here the
    /// whole argument is always the path, exactly as vsftpd's read branch.
    fn mdtm(&mut self, arg: &[u8]) -> Result<(), Ended> {
        let path = self.resolve(arg);
        let st = sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Path)
            .and_then(|fd| sysfs::fstat(fd.as_fd()));
        match st {
            Ok(st) if st.is_regular() => {
                let stamp = listing::mdtm_timestamp(st.mtime, self.list_context().utc_offset);
                self.ctrl.send(&reply::mdtm(&stamp))
            }
            _ => self.ctrl.reply(reply::MDTM_FAILED),
        }
    }

    /// STAT without an argument: vsftpd's `211-FTP server status:` body. Allowed even with
    /// dirlist_enable=NO, as vsftpd.
    fn stat_server(&mut self) -> Result<(), Ended> {
        let c = &self.settings.config;
        let (user, rate_max) = match self.login {
            // vsftpd replaces the USER name of an anonymous login with ftp_username.
            Login::Anonymous { .. } => (
                c.ftp_username
                    .as_deref()
                    .unwrap_or("ftp")
                    .as_bytes()
                    .to_vec(),
                u64::from(c.anon_max_rate),
            ),
        };
        let status = ServerStatus {
            remote_ip: self.ctrl.peer.ip().to_string().into_bytes(),
            user,
            ascii: self.ascii,
            rate_max,
            idle_timeout: u64::from(c.idle_session_timeout),
            control_tls: false,
            data_tls: false,
            // The session does not know the listener's count at its start: the line is left out.
            num_clients: 0,
        };
        self.ctrl.send(&reply::server_status(&status))
    }

    /// `STAT <path>`: the listing (`ls -la` style) over the control channel between
    /// `213-Status follows:` and `213 End of status`. A directory that cannot be opened (or is
    /// not world-readable for anonymous) gives an empty body, as vsftpd.
    fn stat_path(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.settings.config.dirlist_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let ctx = self.list_context();
        let mut body = Vec::new();
        // The listing goes to memory, so an error can only come from reading the directory:
        // send what was listed, and the end line as vsftpd does.
        let _ = listing::list_with(
            self.root.as_fd(),
            &self.cwd,
            arg,
            ListKind::Stat,
            &ctx,
            &mut body,
        );
        let r = reply::multi_text(
            reply::STAT_FILE_HEADER.0,
            reply::STAT_FILE_HEADER.1.as_bytes(),
            &body,
            reply::STAT_FILE_END.1.as_bytes(),
        );
        self.ctrl.send(&r)
    }

    /// SITE: vsftpd runs `handle_site` (SITE HELP: `214 UMASK HELP`, or `214 CHMOD UMASK HELP`
    /// with write_enable and chmod_enable; others `500 Unknown SITE command.`) only for
    /// non-anonymous sessions. An anonymous SITE of any kind, HELP included, falls through to
    /// its `550 Permission denied.` list.
    fn site(&mut self) -> Result<(), Ended> {
        match self.login {
            Login::Anonymous { .. } => self.ctrl.reply(reply::PERMISSION_DENIED),
        }
    }

    fn rest_cmd(&mut self, arg: &[u8]) -> Result<(), Ended> {
        let digits: Vec<u8> = arg.iter().copied().take_while(u8::is_ascii_digit).collect();
        let value = std::str::from_utf8(&digits)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        self.rest = value;
        self.ctrl.send(&reply::rest_ok(value))
    }
}

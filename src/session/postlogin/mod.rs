//! After login: the command loop of a logged-in session, dispatched by `match` on the parsed
//! command. Handlers never see the raw line; they live beside this file, one concern each.

use std::os::fd::{AsFd, OwnedFd};

mod active;
mod dirlist;
mod info;
mod messages;
mod names;
#[cfg(debug_assertions)]
mod selftest;
mod write;
mod xfer;

use super::control::{Control, Ended};
use crate::auth::Login;
use crate::config::Settings;
use crate::data::listing;
use crate::data::passive::PassiveSource;
use crate::data::realpath::real_path;
use crate::proto::command::{parse, raw_verb, Command};
use crate::proto::path::{prepend_cwd, resolve_tilde};
use crate::proto::reply;
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
    /// The login directory, for `~` (vsftpd: the initial login directory).
    home: Vec<u8>,
    ascii: bool,
    /// After EPSV ALL (RFC 2428) only EPSV may set up data connections.
    epsv_all: bool,
    /// Where PORT/EPRT asked the next data connection to go (cleared by PASV/EPSV).
    port_target: Option<std::net::SocketAddr>,
    passive: Box<dyn PassiveSource + 'a>,
    rest: u64,
    login: Login,
    /// Sessions at this session's start, this one included (standalone mode; 0 in inetd mode).
    clients: u32,
    /// The facts MLSD and MLST send, as OPTS MLST chose them.
    mlst_facts: crate::data::mlsx::Facts,
    /// Directories whose message_file this session has shown (dirmessage_enable).
    visited: messages::Visited,
    /// The path RNFR named, until the next RNTO (vsftpd keeps it across other commands).
    rnfr: Option<Vec<u8>>,
    /// The umask of what this session creates (anon_umask or local_umask; SITE UMASK).
    umask: u32,
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
            home: b"/".to_vec(),
            // vsftpd starts every session in ASCII mode (RFC 959's default TYPE).
            ascii: true,
            epsv_all: false,
            port_target: None,
            passive,
            rest: 0,
            login,
            visited: messages::Visited::default(),
            mlst_facts: crate::data::mlsx::Facts::ALL,
            clients: 0,
            rnfr: None,
            umask: 0,
        }
    }

    pub fn set_client_count(&mut self, clients: u32) {
        self.clients = clients;
    }

    /// Where the session starts (a local user's home, when not jailed there), as PWD shows it.
    /// It is also the login directory that `~` stands for.
    /// As vsftpd's getcwd(), the directory's real path (a home reached through a symlink
    /// shows where it leads).
    pub fn set_cwd(&mut self, cwd: Vec<u8>) {
        let cwd = real_path(self.root.as_fd(), b"/", &cwd).unwrap_or(cwd);
        self.home = cwd.clone();
        self.cwd = cwd;
    }

    pub fn run(&mut self) {
        self.umask = self.initial_umask();
        sysfs::set_umask(self.umask);
        while let Ok(line) = self.ctrl.read_line() {
            if !self.command_allowed(&line) {
                if self.ctrl.reply(reply::PERMISSION_DENIED).is_err() {
                    break;
                }
                continue;
            }
            #[cfg(debug_assertions)]
            if let Some(done) = self.selftest(&line) {
                if done.is_err() {
                    break;
                }
                continue;
            }
            let go_on = matches!(self.dispatch(parse(&line)), Ok(true));
            // An operation the command started and did not end has failed (vsftpd).
            self.ctrl.log.end_command();
            if !go_on {
                break;
            }
        }
        self.ctrl.shutdown();
    }

    /// cmds_allowed and cmds_denied, against the verb as typed (vsftpd: so denying PWD does
    /// not deny XPWD); `550 Permission denied.` for the others.
    fn command_allowed(&self, line: &[u8]) -> bool {
        let c = &self.settings.config;
        let verb = raw_verb(line);
        let listed = |list: &Option<String>| {
            list.as_deref().is_some_and(|l| {
                l.split(',')
                    .any(|v| v.trim().as_bytes().eq_ignore_ascii_case(&verb))
            })
        };
        if verb.is_empty() {
            return true;
        }
        (c.cmds_allowed.is_none() || listed(&c.cmds_allowed)) && !listed(&c.cmds_denied)
    }

    /// Handles one command; `Ok(false)` ends the session (QUIT).
    fn dispatch(&mut self, cmd: Command) -> Result<bool, Ended> {
        let c = &self.settings.config;
        // REST applies to the very next command only.
        match cmd {
            Command::Empty => {}
            Command::Quit => {
                let _ = self.ctrl.reply(reply::GOODBYE);
                return Ok(false);
            }
            // An anonymous session is vsftpd's "guest" here.
            Command::User(_) if !matches!(self.login, Login::Local { .. }) => {
                self.ctrl.reply(reply::CANT_CHANGE_FROM_GUEST)?
            }
            Command::User(_) => self.ctrl.reply(reply::CANT_CHANGE_USER)?,
            Command::Http => {
                let _ = self.ctrl.reply(reply::HTTP_NOT_ALLOWED);
                return Ok(false);
            }
            Command::Pass(_) => self.ctrl.reply(reply::ALREADY_LOGGED_IN)?,
            Command::Syst => self.ctrl.reply(reply::SYST)?,
            Command::Feat => self.ctrl.send(&reply::feat_full(
                c.port_enable,
                c.pasv_enable,
                c.write_enable && c.mdtm_write,
                c.ssl_enable,
            ))?,
            // After a login in clear this process holds the connection and can encrypt it
            // (vsftpd takes AUTH after login too); after an encrypted one it is refused.
            Command::Auth(arg) if c.ssl_enable => {
                crate::session::secure::auth(&mut self.ctrl, c, &arg)?
            }
            Command::Pbsz(_) if c.ssl_enable => crate::session::secure::pbsz(&mut self.ctrl)?,
            Command::Prot(arg) if c.ssl_enable => {
                crate::session::secure::prot(&mut self.ctrl, &arg)?
            }
            Command::Opts(arg) => self.opts(&arg)?,
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
            Command::Abor => self.abor()?,
            Command::Port(arg) => self.port(&arg)?,
            Command::Eprt(arg) => self.eprt(&arg)?,
            Command::Mlsd(arg) => self.mlsd(&arg)?,
            Command::Mlst(arg) => self.mlst(&arg)?,
            Command::Pasv => self.pasv(false)?,
            Command::Epsv(arg) => self.epsv(&arg)?,
            Command::List(arg) => self.list(&arg, true)?,
            Command::Nlst(arg) => self.list(&arg, false)?,
            Command::Retr(arg) => {
                // REST holds until a transfer uses it (vsftpd), not just for the next command.
                let rest = std::mem::take(&mut self.rest);
                self.retr(&arg, rest)?
            }
            Command::Stor(arg) => {
                let rest = std::mem::take(&mut self.rest);
                self.upload(&arg, write::Upload::Stor, rest)?
            }
            Command::Appe(arg) => self.upload(&arg, write::Upload::Appe, 0)?,
            Command::Stou(arg) => self.upload(&arg, write::Upload::Stou, 0)?,
            Command::Dele(arg) => self.dele(&arg)?,
            Command::Mkd(arg) => self.mkd(&arg)?,
            Command::Rmd(arg) => self.rmd(&arg)?,
            Command::Rnfr(arg) => self.rnfr(&arg)?,
            Command::Rnto(arg) => self.rnto(&arg)?,
            Command::Mfmt(arg) => self.mfmt(&arg)?,
            Command::Size(arg) => self.size(&arg)?,
            Command::Help => self.ctrl.send(&reply::help())?,
            Command::Mdtm(arg) => match self.mdtm_set(&arg) {
                Some(done) => done?,
                None => self.mdtm(&arg)?,
            },
            Command::Stat(arg) if arg.is_empty() => self.stat_server()?,
            Command::Stat(arg) => self.stat_path(&arg)?,
            Command::Site(sub) => self.site(sub)?,
            Command::Rest(arg) => self.rest_cmd(&arg)?,
            // vsftpd answers these after login even without TLS, only to refuse them.
            Command::Pbsz(_) | Command::Prot(_) if !c.ssl_enable => {
                self.ctrl.reply(reply::PERMISSION_DENIED)?
            }
            _ => self.ctrl.reply(reply::UNKNOWN_COMMAND)?,
        }
        Ok(true)
    }

    /// A path argument as the kernel should resolve it beneath the root: `~` and `~/x` stand
    /// for the login directory (vsftpd resolves them in every path argument), and a relative
    /// path is joined to the cwd.
    fn arg_path(&self, arg: &[u8]) -> Vec<u8> {
        prepend_cwd(&self.cwd, &self.expand_tilde(arg))
    }

    /// `~` and `~/x`: the login directory; with tilde_user_enable also `~name` and `~name/x`:
    /// that user's home from the root's own /etc/passwd (vsftpd: only where the jail has
    /// one). Anything else, or an unknown name, is left as it is.
    fn expand_tilde(&self, arg: &[u8]) -> Vec<u8> {
        match arg {
            [b'~', first, ..] if *first != b'/' && self.settings.config.tilde_user_enable => {
                let end = arg.iter().position(|&b| b == b'/').unwrap_or(arg.len());
                let (name, rest) = arg.split_at(end);
                match crate::fs::userdb::home_of(self.root.as_fd(), &name[1..]) {
                    Some(mut home) => {
                        home.extend_from_slice(rest);
                        home
                    }
                    None => arg.to_vec(),
                }
            }
            _ => resolve_tilde(arg, &self.home),
        }
    }

    fn cwd(&mut self, arg: &[u8]) -> Result<(), Ended> {
        // vsftpd's chdir("") fails.
        if arg.is_empty() {
            return self.ctrl.reply(reply::CWD_FAIL);
        }
        let arg = &self.expand_tilde(arg);
        let path = prepend_cwd(&self.cwd, arg);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        match sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Directory) {
            Ok(_) => {
                // What PWD shows: the real path, as vsftpd's getcwd() (through a symlink, the
                // directory it leads to, so its message is not shown again under that name);
                // the lexical form only if the walk fails where the kernel's succeeded.
                self.cwd = real_path(self.root.as_fd(), &self.cwd, arg)
                    .unwrap_or_else(|| listing::normalize_path(&self.cwd, arg));
                self.dir_message()?;
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

    /// anon_world_readable_only: an anonymous session gets only what "other" may read, even
    /// when its process could read more (vsftpd's default).
    fn world_readable_only(&self) -> bool {
        self.login.has_anonymous_rights() && self.settings.config.anon_world_readable_only
    }

    fn may_read(&self, mode: u32) -> bool {
        !self.world_readable_only() || mode & 0o004 != 0
    }
}

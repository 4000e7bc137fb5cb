//! Facts about files and the session: SIZE, MDTM, STAT without argument, SITE.

use std::os::fd::AsFd;

use super::Session;
use crate::auth::Login;
use crate::data::listing::{self};
use crate::proto::command::SiteCommand;
use crate::proto::reply::{self, ServerStatus};
use crate::session::control::Ended;
use crate::sys::fs::{self as sysfs, OpenKind};

impl Session<'_> {
    pub(super) fn size(&mut self, arg: &[u8]) -> Result<(), Ended> {
        let path = self.arg_path(arg);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let st = sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Path)
            .and_then(|fd| sysfs::fstat(fd.as_fd()));
        match st {
            Ok(st) if st.is_regular() => self.ctrl.send(&reply::size(st.size)),
            _ => self.ctrl.reply(reply::SIZE_FAILED),
        }
    }

    /// MDTM: `213 YYYYMMDDHHMMSS` (GMT) for a regular file. vsftpd stats the whole argument
    /// first and, when writes are not allowed, answers from that stat even for the set-form
    /// (`MDTM 20200101000000 file`): there is no file of that whole name, so it answers
    /// `550 Could not get file modification time.` An anonymous session may set times only
    /// with anon_other_write_enable=YES, which the configuration refuses until #8; so here the
    /// whole argument is always the path, exactly as vsftpd's read branch.
    pub(super) fn mdtm(&mut self, arg: &[u8]) -> Result<(), Ended> {
        let path = self.arg_path(arg);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let st = sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Path)
            .and_then(|fd| sysfs::fstat(fd.as_fd()));
        match st {
            Ok(st) if st.is_regular() => {
                let stamp =
                    listing::mdtm_timestamp(st.mtime, self.list_context().offset_at(st.mtime));
                self.ctrl.send(&reply::mdtm(&stamp))
            }
            _ => self.ctrl.reply(reply::MDTM_FAILED),
        }
    }

    /// STAT without an argument: vsftpd's `211-FTP server status:` body. Allowed even with
    /// dirlist_enable=NO, as vsftpd.
    pub(super) fn stat_server(&mut self) -> Result<(), Ended> {
        let c = &self.settings.config;
        let (user, rate_max) = match &self.login {
            // vsftpd replaces the USER name of an anonymous login with ftp_username.
            Login::Anonymous { .. } => (
                crate::jail::ftp_username(c).as_bytes().to_vec(),
                u64::from(c.anon_max_rate),
            ),
            Login::Local { account, .. } | Login::Guest { account, .. } => {
                (account.name.as_bytes().to_vec(), self.rate_max())
            }
        };
        let status = ServerStatus {
            remote_ip: self.ctrl.peer.ip().to_string().into_bytes(),
            user,
            ascii: self.ascii,
            rate_max,
            idle_timeout: u64::from(c.idle_session_timeout),
            control_tls: self.ctrl.secure.control,
            data_tls: self.ctrl.secure.data,
            num_clients: u64::from(self.clients),
        };
        self.ctrl.send(&reply::server_status(&status))
    }

    /// SITE: vsftpd runs `handle_site` (SITE HELP: `214 UMASK HELP`, or `214 CHMOD UMASK HELP`
    /// with write_enable and chmod_enable; others `500 Unknown SITE command.`) only for
    /// non-anonymous sessions. An anonymous SITE of any kind, HELP included, falls through to
    /// its `550 Permission denied.` list.
    pub(super) fn site(&mut self, sub: SiteCommand) -> Result<(), Ended> {
        if self.login.has_anonymous_rights() {
            self.ctrl.reply(reply::PERMISSION_DENIED)
        } else {
            self.site_local(sub)
        }
    }
}

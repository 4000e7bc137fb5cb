//! LIST, NLST, STAT with a path, MLSD and MLST: directory listings, and OPTS (MLST's fact
//! selection).

use std::io::Write;
use std::os::fd::AsFd;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Session, LIST_BUFFER};
use crate::data::listing::{self, HideFn, IdNames, ListContext, ListKind, ListOutcome};
use crate::data::mlsx::{self, Facts, MlsxContext};
use crate::fs::userdb::UserDb;
use crate::proto::path::{normalize_path, prepend_cwd, resolve_tilde};
use crate::proto::reply;
use crate::session::control::Ended;

impl Session<'_> {
    pub(super) fn list(&mut self, arg: &[u8], long: bool) -> Result<(), Ended> {
        if !self.settings.config.dirlist_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        // vsftpd: no PORT/PASV (425) comes first, then deny_file on the path (550), then 150.
        if self.data_ready() && self.list_arg_denied(arg) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let Some(data) = self.data_connection()? else {
            return Ok(());
        };
        self.ctrl.reply(reply::LIST_OPENING)?;
        let Some(mut data) = self.secure_data(data)? else {
            return Ok(());
        };
        let names = self.userdb();
        let hide = self.hide_pattern().map(|p| move |n: &[u8]| p.hides(n));
        let mut ctx = self.list_context();
        ctx.names = names.as_ref().map(|n| n as &dyn IdNames);
        ctx.hidden = hide.as_ref().map(|f| f as &HideFn);
        let mut out = std::io::BufWriter::with_capacity(LIST_BUFFER, &mut data);
        let outcome = listing::list(self.root.as_fd(), &self.cwd, arg, long, &ctx, &mut out)
            .and_then(|o| out.flush().map(|()| o));
        drop(out);
        let outcome = outcome.and_then(|o| data.finish(true).map(|()| o));
        drop(data);
        match outcome {
            Ok(ListOutcome::Listed) => self.ctrl.reply(reply::LIST_OK),
            Ok(ListOutcome::NotOpened) => self.ctrl.reply(reply::LIST_OPEN_FAILED),
            Err(_) => self.ctrl.reply(reply::WRITE_FAILED),
        }
    }

    /// Has the client set up a data connection (PORT/EPRT or PASV/EPSV)?
    fn data_ready(&self) -> bool {
        self.port_target.is_some() || self.passive.is_listening()
    }

    /// deny_file on a LIST/NLST/STAT argument: the path-or-filter after the options, `~`
    /// resolved, as vsftpd's `handle_dir_common`.
    fn list_arg_denied(&self, arg: &[u8]) -> bool {
        let (_, filter) = listing::parse_list_arg(arg);
        if filter.is_empty() {
            return false;
        }
        let home = self.list_context().home.to_vec();
        self.denied(&prepend_cwd(&self.cwd, &resolve_tilde(&filter, &home)))
    }

    /// text_userdb_names (unless hide_ids wins): the session root's own user database.
    fn userdb(&self) -> Option<UserDb> {
        let c = &self.settings.config;
        (c.text_userdb_names && !c.hide_ids).then(|| UserDb::load(self.root.as_fd()))
    }

    /// The listing settings without owner names or hide_file (those are added per listing by
    /// the callers here); also used for MDTM's time offset.
    pub(super) fn list_context(&self) -> ListContext<'_> {
        let c = &self.settings.config;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        ListContext {
            now,
            utc_offset: if c.use_localtime {
                crate::sys::time::utc_offset_at(now)
            } else {
                0
            },
            localtime: c.use_localtime,
            hide_ids: c.hide_ids,
            force_dot_files: c.force_dot_files,
            recurse_allowed: c.ls_recurse_enable,
            world_readable_only: self.world_readable_only(),
            home: &self.home,
            ..ListContext::default()
        }
    }

    /// `STAT <path>`: the listing (`ls -la` style) over the control channel between
    /// `213-Status follows:` and `213 End of status`. A directory that cannot be opened (or is
    /// not world-readable for anonymous) gives an empty body, as vsftpd; a path refused by
    /// deny_file gets `550 Permission denied.`, as vsftpd.
    pub(super) fn stat_path(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.settings.config.dirlist_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        if self.list_arg_denied(arg) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let names = self.userdb();
        let hide = self.hide_pattern().map(|p| move |n: &[u8]| p.hides(n));
        let mut ctx = self.list_context();
        ctx.names = names.as_ref().map(|n| n as &dyn IdNames);
        ctx.hidden = hide.as_ref().map(|f| f as &HideFn);
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

    /// OPTS, before and after login alike; after login also `OPTS MLST <facts>`.
    pub(super) fn opts(&mut self, arg: &[u8]) -> Result<(), Ended> {
        let (word, rest) = match arg.iter().position(|&b| b == b' ') {
            Some(i) => (
                arg.get(..i).unwrap_or_default(),
                arg.get(i + 1..).unwrap_or_default(),
            ),
            None => (arg, &[][..]),
        };
        if word.eq_ignore_ascii_case(b"MLST") {
            let facts = Facts::parse(rest);
            self.mlst_facts = facts;
            return self.ctrl.send(&reply::mlst_opts(&facts.list()));
        }
        self.ctrl.reply(super::opts_reply(arg))
    }

    fn mlsx_context(&self) -> MlsxContext<'static> {
        let c = &self.settings.config;
        MlsxContext {
            facts: self.mlst_facts,
            world_readable_only: self.world_readable_only(),
            euid: crate::sys::process::geteuid(),
            download_enable: c.download_enable,
            dirlist_enable: c.dirlist_enable,
            hidden: None,
            hide_ids: c.hide_ids,
        }
    }

    /// The argument of MLSD/MLST with `~` resolved against the login directory.
    fn mlsx_arg(&self, arg: &[u8]) -> Vec<u8> {
        let arg = if arg.is_empty() { &b"."[..] } else { arg };
        self.expand_tilde(arg)
    }

    /// MLSD (RFC 3659 7): the directory's entries with their facts over the data connection,
    /// `150 Here comes the directory listing.` / `226 Directory send OK.` as LIST. Refusals come
    /// before any data connection: dirlist_enable=NO or deny_file `550 Permission denied.`; not
    /// a (readable) directory `550 Failed to open directory.`
    pub(super) fn mlsd(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.settings.config.dirlist_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        if !self.data_ready() {
            return self.ctrl.reply(reply::USE_PORT_OR_PASV);
        }
        let arg = self.mlsx_arg(arg);
        let path = prepend_cwd(&self.cwd, &arg);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let mctx = self.mlsx_context();
        let Ok(dir) = mlsx::open_listable(self.root.as_fd(), &path, &mctx) else {
            return self.ctrl.reply(reply::MLSD_OPEN_FAILED);
        };
        let Some(data) = self.data_connection()? else {
            return Ok(());
        };
        self.ctrl.reply(reply::LIST_OPENING)?;
        let Some(mut data) = self.secure_data(data)? else {
            return Ok(());
        };
        let hide = self.hide_pattern().map(|p| move |n: &[u8]| p.hides(n));
        let mut mctx: MlsxContext<'_> = mctx;
        mctx.hidden = hide.as_ref().map(|f| f as &HideFn);
        let mctx_ref = &mctx;
        let mut out = std::io::BufWriter::with_capacity(LIST_BUFFER, &mut data);
        let result = mlsx::write_mlsd(self.root.as_fd(), dir.as_fd(), &path, mctx_ref, &mut out)
            .and_then(|()| out.flush());
        drop(out);
        let result = result.and_then(|()| data.finish(true));
        drop(data);
        match result {
            Ok(()) => self.ctrl.reply(reply::LIST_OK),
            Err(_) => self.ctrl.reply(reply::WRITE_FAILED),
        }
    }

    /// MLST (RFC 3659 7): `250-Listing <path>`, ` <facts> <path>`, `250 End` on the control
    /// connection, `<path>` absolute. dirlist_enable=NO or deny_file: `550 Permission
    /// denied.`; missing (or not world-readable for anonymous with anon_world_readable_only):
    /// `550 Could not get file information.`
    pub(super) fn mlst(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.settings.config.dirlist_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let arg = self.mlsx_arg(arg);
        let path = prepend_cwd(&self.cwd, &arg);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let display = normalize_path(&self.cwd, &arg);
        let mctx = self.mlsx_context();
        match mlsx::mlst_line(self.root.as_fd(), &path, &display, &mctx) {
            Ok(facts) => {
                let r = reply::mlst(&display, &facts);
                self.ctrl.send(&r)
            }
            Err(_) => self.ctrl.reply(reply::MLST_FAILED),
        }
    }
}

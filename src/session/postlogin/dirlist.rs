//! LIST, NLST, STAT with a path (and, with issue #4, MLSD and MLST): directory listings.

use std::io::Write;
use std::os::fd::AsFd;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Session, LIST_BUFFER};
use crate::data::listing::{self, ListContext, ListKind, ListOutcome};
use crate::proto::reply::{self};
use crate::session::control::Ended;

impl Session<'_> {
    pub(super) fn list(&mut self, arg: &[u8], long: bool) -> Result<(), Ended> {
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

    pub(super) fn list_context(&self) -> ListContext<'_> {
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

    /// `STAT <path>`: the listing (`ls -la` style) over the control channel between
    /// `213-Status follows:` and `213 End of status`. A directory that cannot be opened (or is
    /// not world-readable for anonymous) gives an empty body, as vsftpd.
    pub(super) fn stat_path(&mut self, arg: &[u8]) -> Result<(), Ended> {
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

    /// OPTS, before and after login alike (OPTS MLST comes with MLSD, issue #4).
    pub(super) fn opts(&mut self, arg: &[u8]) -> Result<(), Ended> {
        self.ctrl.reply(super::opts_reply(arg))
    }

    pub(super) fn mlsd(&mut self, _arg: &[u8]) -> Result<(), Ended> {
        self.ctrl.reply(reply::UNKNOWN_COMMAND)
    }

    pub(super) fn mlst(&mut self, _arg: &[u8]) -> Result<(), Ended> {
        self.ctrl.reply(reply::UNKNOWN_COMMAND)
    }
}

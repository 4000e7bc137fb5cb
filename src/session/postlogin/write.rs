//! Writes (issue #8): STOR, APPE, STOU and REST+STOR; DELE, MKD, RMD, RNFR/RNTO; SITE CHMOD
//! and UMASK; MDTM's set form and MFMT. Every path is resolved beneath the session root
//! (`sys::fs`), so no write can leave it, jail or not.
//!
//! Who may write is vsftpd's rule: write_enable, and for an anonymous session also
//! anon_upload_enable (STOR, STOU), anon_mkdir_write_enable (MKD) or anon_other_write_enable
//! (everything else); otherwise `550 Permission denied.` and nothing changes on disk.
//! Beyond vsftpd: REST+STOR cuts the old tail where the new data ends, so a resumed upload is
//! the file the client sent; STOU names are always race-free (O_EXCL), as Red Hat's
//! better_stou.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::fd::AsFd;
use std::time::Duration;

use super::Session;
use crate::data::listing;
use crate::data::transfer::{self, RecvOptions};
use crate::fs::pattern::NamePattern;
use crate::log::Kind;
use crate::proto::command::SiteCommand;
use crate::proto::path::prepend_cwd;
use crate::proto::reply;
use crate::session::control::Ended;
use crate::sys::fs::{self as sysfs, OpenKind, WriteHow};

/// The switch that lets an anonymous session make a kind of write (vsftpd postlogin.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WriteClass {
    /// STOR, STOU: anon_upload_enable.
    Upload,
    /// MKD: anon_mkdir_write_enable.
    Mkdir,
    /// APPE, DELE, RMD, RNFR, RNTO, MDTM's set form, MFMT: anon_other_write_enable.
    Other,
}

/// The three ways to upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Upload {
    Stor,
    Appe,
    Stou,
}

/// How many names STOU tries (`name`, `name.1` … `name.999`), as vsftpd.
const STOU_TRIES: u32 = 1000;

impl Session<'_> {
    pub(super) fn may_write(&self, class: WriteClass) -> bool {
        let c = &self.settings.config;
        c.write_enable
            && (!self.login.has_anonymous_rights()
                || match class {
                    WriteClass::Upload => c.anon_upload_enable,
                    WriteClass::Mkdir => c.anon_mkdir_write_enable,
                    WriteClass::Other => c.anon_other_write_enable,
                })
    }

    /// The umask a session starts with: anon_umask or local_umask.
    pub(super) fn initial_umask(&self) -> u32 {
        if self.login.has_anonymous_rights() {
            self.settings.config.anon_umask
        } else {
            self.settings.config.local_umask
        }
    }

    /// upload_file (Debian): when set, only file names it matches may be uploaded.
    fn upload_allowed(&self, path: &[u8]) -> bool {
        name_allowed(self.settings.config.upload_file.as_deref(), path)
    }

    /// STOR, APPE and STOU; `rest` is the REST offset for STOR.
    pub(super) fn upload(&mut self, arg: &[u8], how: Upload, rest: u64) -> Result<(), Ended> {
        let class = match how {
            Upload::Stor | Upload::Stou => WriteClass::Upload,
            Upload::Appe => WriteClass::Other,
        };
        if !self.may_write(class) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        if self.port_target.is_none() && !self.passive.is_listening() {
            return self.ctrl.reply(reply::USE_PORT_OR_PASV);
        }
        let c = &self.settings.config;
        // Unlike a download, an upload may resume in ASCII mode (vsftpd).
        let ascii = self.ascii && c.ascii_upload_enable;
        let base: &[u8] = if how == Upload::Stou && arg.is_empty() {
            b"STOU"
        } else {
            arg
        };
        let path = self.arg_path(base);
        // Logged from here on, either way (vsftpd).
        self.ctrl.log.start(Kind::Upload, path.clone(), self.ascii);
        if self.denied(&path) || !self.upload_allowed(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let mode = c.file_open_mode;
        // With anonymous rights an upload may not replace a file unless
        // anon_other_write_enable lets it (vsftpd creates such uploads exclusively).
        let stor = if self.login.has_anonymous_rights() && !c.anon_other_write_enable {
            WriteHow::CreateNew
        } else {
            WriteHow::CreateOrOpen
        };
        let opened = match how {
            Upload::Stor => sysfs::open_for_write(self.root.as_fd(), &path, stor, mode)
                .map(|fd| (fd, path, base.to_vec())),
            Upload::Appe => sysfs::open_for_write(self.root.as_fd(), &path, WriteHow::Append, mode)
                .map(|fd| (fd, path, base.to_vec())),
            Upload::Stou => self.create_unique(base, arg.is_empty()),
        };
        let Ok((fd, path, name)) = opened else {
            return self.ctrl.reply(reply::CREATE_FAILED);
        };
        if how == Upload::Stou {
            // Beyond vsftpd, which logs the name asked for: the file STOU made.
            self.ctrl.log.retext(path.clone());
        }
        let mut file = File::from(fd);
        if c.lock_upload_files && sysfs::lock_whole(file.as_fd(), true).is_err() {
            return self.ctrl.reply(reply::CREATE_FAILED);
        }
        // Emptied only now, under the lock (a locked reader never sees it cut), and not for a
        // resume or an append.
        let positioned = match (how, rest) {
            // Not a file just created: on ext4 a truncation to 0 makes the close write the
            // whole upload back before the 226 (docs/PERFORMANCE.md, STOR).
            (Upload::Stor, 0) => match sysfs::fstat(file.as_fd()) {
                Ok(st) if st.size == 0 => Ok(()),
                _ => sysfs::truncate(file.as_fd(), 0),
            },
            (Upload::Stor, offset) => file.seek(SeekFrom::Start(offset)).map(drop),
            _ => Ok(()),
        };
        if positioned.is_err() {
            return self.ctrl.reply(reply::CREATE_FAILED);
        }
        if c.chown_uploads && self.login.has_anonymous_rights() && how != Upload::Appe {
            // chown_upload_mode while the file is still ours; then the helper gives it away
            // (it checks it is a regular file this session's user owns). A failure leaves the
            // file as it is, as vsftpd.
            let _ = sysfs::fchmod(file.as_fd(), c.chown_upload_mode);
            let _ = self.passive.chown_upload(file.as_fd());
        }
        let Some(data) = self.data_connection()? else {
            self.discard_failed_upload(&path);
            return Ok(());
        };
        match how {
            Upload::Stou => self.ctrl.send(&reply::stou_file(&name))?,
            _ => self.ctrl.reply(reply::OK_TO_SEND)?,
        }
        let Some(mut data) = self.secure_data(data)? else {
            self.discard_failed_upload(&path);
            return Ok(());
        };
        let opts = RecvOptions {
            ascii,
            rate_max: self.rate_max(),
            data_timeout: (c.data_connection_timeout > 0)
                .then(|| Duration::from_secs(u64::from(c.data_connection_timeout))),
        };
        // Where the new data begins, to count it when the transfer fails.
        let before = match how {
            Upload::Appe => sysfs::fstat(file.as_fd()).map_or(0, |st| st.size),
            _ => rest,
        };
        let result = transfer::receive_file(&mut file, &mut data, opts, &mut self.ctrl);
        if result.is_ok() {
            // Our close_notify answers the client's; it is not part of the upload.
            let _ = data.finish(false);
        }
        drop(data);
        let bytes = match (&result, how) {
            (Ok(n), _) => *n,
            (Err(_), Upload::Appe) => sysfs::fstat(file.as_fd()).map_or(0, |st| st.size),
            (Err(_), _) => file.stream_position().unwrap_or(0),
        }
        .saturating_sub(if result.is_ok() { 0 } else { before });
        let result = match result {
            // Beyond vsftpd: a resumed upload ends where the new data ends.
            Ok(written) if how == Upload::Stor && rest > 0 => {
                sysfs::truncate(file.as_fd(), rest.saturating_add(written))
                    .map_err(|_| transfer::TransferError::LocalWrite)
            }
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        drop(file);
        if result.is_err() {
            self.discard_failed_upload(&path);
        }
        self.ctrl.log.done(result.is_ok(), bytes);
        self.transfer_end(result, true)
    }

    /// delete_failed_uploads: a failed upload leaves nothing behind.
    fn discard_failed_upload(&self, path: &[u8]) {
        if self.settings.config.delete_failed_uploads {
            let _ = sysfs::unlink_in_root(self.root.as_fd(), path);
        }
    }

    /// STOU: the first of `base`, `base.1` … that does not exist yet (without a name given,
    /// `STOU.1`, `STOU.2` …: vsftpd always numbers those), created exclusively (so two
    /// sessions can never get the same name). Returns the fd, the path and the name as the
    /// client sees it.
    fn create_unique(
        &self,
        base: &[u8],
        numbered: bool,
    ) -> std::io::Result<(std::os::fd::OwnedFd, Vec<u8>, Vec<u8>)> {
        let mode = self.settings.config.file_open_mode;
        let mut last = std::io::Error::from(std::io::ErrorKind::AlreadyExists);
        for n in u32::from(numbered)..STOU_TRIES {
            let mut name = base.to_vec();
            if n > 0 {
                name.extend_from_slice(format!(".{n}").as_bytes());
            }
            let path = self.arg_path(&name);
            if self.denied(&path) {
                return Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
            }
            match sysfs::open_for_write(self.root.as_fd(), &path, WriteHow::CreateNew, mode) {
                Ok(fd) => return Ok((fd, path, name)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// A write that names one path: the permission and deny_file checks, then `op`; logged
    /// as `kind` once the permission to write is there (vsftpd).
    fn simple_write(
        &mut self,
        class: WriteClass,
        kind: Kind,
        arg: &[u8],
        op: impl FnOnce(&Self, &[u8]) -> std::io::Result<()>,
        ok: reply::Reply,
        failed: reply::Reply,
    ) -> Result<(), Ended> {
        if !self.may_write(class) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        self.ctrl.log.start(kind, self.arg_path(arg), false);
        if arg.is_empty() {
            // No name is no file (vsftpd's calls on ""), never the working directory.
            return self.ctrl.reply(failed);
        }
        let path = self.arg_path(arg);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        match op(self, &path) {
            Ok(()) => {
                self.ctrl.log.done(true, 0);
                self.ctrl.reply(ok)
            }
            Err(_) => self.ctrl.reply(failed),
        }
    }

    pub(super) fn dele(&mut self, arg: &[u8]) -> Result<(), Ended> {
        self.simple_write(
            WriteClass::Other,
            Kind::Delete,
            arg,
            |s, p| sysfs::unlink_in_root(s.root.as_fd(), p),
            reply::DELE_OK,
            reply::DELE_FAILED,
        )
    }

    pub(super) fn rmd(&mut self, arg: &[u8]) -> Result<(), Ended> {
        self.simple_write(
            WriteClass::Other,
            Kind::Rmdir,
            arg,
            |s, p| sysfs::rmdir_in_root(s.root.as_fd(), p),
            reply::RMD_OK,
            reply::RMD_FAILED,
        )
    }

    /// MKD: `257 "<path>" created`, the path as the client named it joined to the cwd, not
    /// normalised (vsftpd).
    pub(super) fn mkd(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.may_write(WriteClass::Mkdir) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let path = self.arg_path(arg);
        self.ctrl.log.start(Kind::Mkdir, path.clone(), false);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        match sysfs::mkdir_in_root(self.root.as_fd(), &path, 0o777) {
            Ok(()) => {
                self.ctrl.log.done(true, 0);
                let shown = prepend_cwd(&self.cwd, arg);
                self.ctrl.send(&reply::mkd_created(&shown))
            }
            Err(_) => self.ctrl.reply(reply::MKD_FAILED),
        }
    }

    /// RNFR: the source must exist; it is kept until the next RNTO (or RNFR), as vsftpd.
    pub(super) fn rnfr(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.may_write(WriteClass::Other) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        self.rnfr = None;
        // A refused or failed RNFR is a failed RENAME in the log; one that works is logged
        // with its RNTO (vsftpd).
        self.ctrl.log.start(Kind::Rename, self.arg_path(arg), false);
        if arg.is_empty() {
            return self.ctrl.reply(reply::RNFR_FAILED);
        }
        let path = self.arg_path(arg);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        match sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Path) {
            Ok(_) => {
                self.ctrl.log.cancel();
                self.rnfr = Some(path);
                self.ctrl.reply(reply::RNFR_OK)
            }
            Err(_) => self.ctrl.reply(reply::RNFR_FAILED),
        }
    }

    pub(super) fn rnto(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.may_write(WriteClass::Other) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let Some(from) = self.rnfr.take() else {
            return self.ctrl.reply(reply::RNFR_FIRST);
        };
        let to = self.arg_path(arg);
        let mut text = from.clone();
        text.push(b' ');
        text.extend_from_slice(&to);
        self.ctrl.log.start(Kind::Rename, text, false);
        if arg.is_empty() {
            return self.ctrl.reply(reply::RENAME_FAILED);
        }
        if self.denied(&to) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        match sysfs::rename_in_root(self.root.as_fd(), &from, &to) {
            Ok(()) => {
                self.ctrl.log.done(true, 0);
                self.ctrl.reply(reply::RENAME_OK)
            }
            Err(_) => self.ctrl.reply(reply::RENAME_FAILED),
        }
    }

    /// SITE for a local session (vsftpd `handle_site`): CHMOD with write_enable and
    /// chmod_enable, UMASK, HELP; anything else `500 Unknown SITE command.`
    pub(super) fn site_local(&mut self, sub: SiteCommand) -> Result<(), Ended> {
        let c = &self.settings.config;
        let chmod = c.write_enable && c.chmod_enable;
        match sub {
            SiteCommand::Chmod { mode, path } if chmod => self.site_chmod(&mode, &path),
            SiteCommand::Umask(arg) => self.site_umask(&arg),
            SiteCommand::Help if chmod => self.ctrl.reply(reply::SITE_HELP_CHMOD),
            SiteCommand::Help => self.ctrl.reply(reply::SITE_HELP),
            _ => self.ctrl.reply(reply::SITE_UNKNOWN),
        }
    }

    /// SITE CHMOD: an octal mode of up to four digits. vsftpd reads a mode that is not octal as
    /// 0 and applies it; here it fails the command instead (nothing changes).
    fn site_chmod(&mut self, mode: &[u8], arg: &[u8]) -> Result<(), Ended> {
        if mode.is_empty() || arg.is_empty() {
            return self.ctrl.reply(reply::CHMOD_NEEDS_TWO_ARGS);
        }
        let path = self.arg_path(arg);
        // `path mode`, the mode as the client wrote it (vsftpd).
        let mut text = path.clone();
        text.push(b' ');
        text.extend_from_slice(mode);
        self.ctrl.log.start(Kind::Chmod, text, false);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let Some(mode) = parse_octal(mode, 0o7777) else {
            return self.ctrl.reply(reply::CHMOD_FAILED);
        };
        match sysfs::chmod_in_root(self.root.as_fd(), &path, mode) {
            Ok(()) => {
                self.ctrl.log.done(true, 0);
                self.ctrl.reply(reply::CHMOD_OK)
            }
            Err(_) => self.ctrl.reply(reply::CHMOD_FAILED),
        }
    }

    /// SITE UMASK: without an argument the current umask; with an octal one (at most 0777) it
    /// becomes the umask of what this session creates. Anything else leaves it as it is.
    fn site_umask(&mut self, arg: &[u8]) -> Result<(), Ended> {
        match parse_octal(arg, 0o777) {
            Some(mask) if !arg.is_empty() => {
                self.umask = mask;
                sysfs::set_umask(mask);
                self.ctrl.send(&reply::umask_set(mask))
            }
            _ => self.ctrl.send(&reply::umask_current(self.umask)),
        }
    }

    /// MDTM's set form, `MDTM YYYYMMDDHHMMSS path` (vsftpd, with mdtm_write and the rights to
    /// write): `None` when `arg` is not that form or setting is not allowed, so that the
    /// caller answers as to a plain MDTM.
    pub(super) fn mdtm_set(&mut self, arg: &[u8]) -> Option<Result<(), Ended>> {
        let (stamp, name) = split_timestamp(arg)?;
        if !(self.settings.config.mdtm_write && self.may_write(WriteClass::Other)) {
            return None;
        }
        let path = self.arg_path(name);
        if self.denied(&path) {
            return Some(self.ctrl.reply(reply::PERMISSION_DENIED));
        }
        let set = listing::parse_mdtm_timestamp(stamp)
            .map(|t| t - self.local_time_offset(t))
            .ok_or(())
            .and_then(|t| self.set_file_mtime(&path, t).map_err(drop));
        Some(match set {
            Ok(()) => self.ctrl.reply(reply::MDTM_SET_OK),
            Err(()) => self.ctrl.reply(reply::MDTM_SET_FAILED),
        })
    }

    /// MFMT (ours, beyond vsftpd): `MFMT YYYYMMDDHHMMSS path`, the time in UTC; answered
    /// `213 Modify=YYYYMMDDHHMMSS; path`. Allowed where MDTM's set form is.
    pub(super) fn mfmt(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !(self.settings.config.mdtm_write && self.may_write(WriteClass::Other)) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let Some((stamp, name)) = split_timestamp(arg) else {
            return self.ctrl.reply(reply::MFMT_SYNTAX);
        };
        let Some(t) = listing::parse_mdtm_timestamp(stamp) else {
            return self.ctrl.reply(reply::MFMT_SYNTAX);
        };
        let path = self.arg_path(name);
        if self.denied(&path) {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        match self.set_file_mtime(&path, t) {
            Ok(()) => self.ctrl.send(&reply::mfmt_ok(stamp, name)),
            Err(_) => self.ctrl.reply(reply::MDTM_SET_FAILED),
        }
    }

    /// Sets the time of a regular file; anything else is refused (vsftpd sets times on files
    /// only).
    fn set_file_mtime(&self, path: &[u8], t: i64) -> std::io::Result<()> {
        let fd = sysfs::open_in_root(self.root.as_fd(), path, OpenKind::Path)?;
        if !sysfs::fstat(fd.as_fd())?.is_regular() {
            return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
        }
        sysfs::set_mtime_in_root(self.root.as_fd(), path, t)
    }

    /// With use_localtime, timestamps are the server's local time (as vsftpd reads and writes
    /// them); the offset to take off at time `t`.
    fn local_time_offset(&self, t: i64) -> i64 {
        self.list_context().offset_at(t)
    }
}

/// download_file / upload_file (Debian): when `pattern` is set, the last component of `path`
/// must match it.
pub(super) fn name_allowed(pattern: Option<&str>, path: &[u8]) -> bool {
    match NamePattern::new(pattern) {
        Some(p) => p.matches(path.rsplit(|&b| b == b'/').next().unwrap_or(path)),
        None => true,
    }
}

/// `YYYYMMDDHHMMSS name`: the 14 digits and the name after one space.
fn split_timestamp(arg: &[u8]) -> Option<(&[u8], &[u8])> {
    let (stamp, rest) = arg.split_at_checked(14)?;
    let name = rest.strip_prefix(b" ")?;
    (stamp.iter().all(u8::is_ascii_digit) && !name.is_empty()).then_some((stamp, name))
}

/// An octal number of at most `max`, nothing but octal digits (at most 4 of them).
fn parse_octal(text: &[u8], max: u32) -> Option<u32> {
    if text.is_empty() || text.len() > 4 {
        return None;
    }
    let v = text.iter().try_fold(0u32, |acc, &d| {
        (b'0'..=b'7')
            .contains(&d)
            .then(|| acc * 8 + u32::from(d - b'0'))
    })?;
    (v <= max).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_modes() {
        assert_eq!(parse_octal(b"755", 0o7777), Some(0o755));
        assert_eq!(parse_octal(b"0644", 0o7777), Some(0o644));
        assert_eq!(parse_octal(b"4755", 0o7777), Some(0o4755));
        assert_eq!(parse_octal(b"4755", 0o777), None);
        for bad in [&b""[..], b"8", b"75x", b"-1", b"07777x", b"12345", b" 755"] {
            assert_eq!(parse_octal(bad, 0o7777), None, "{bad:?}");
        }
    }

    #[test]
    fn set_form() {
        assert_eq!(
            split_timestamp(b"20240102030405 a b"),
            Some((&b"20240102030405"[..], &b"a b"[..]))
        );
        assert_eq!(split_timestamp(b"20240102030405"), None);
        assert_eq!(split_timestamp(b"20240102030405 "), None);
        assert_eq!(split_timestamp(b"2024010203040x a"), None);
        assert_eq!(split_timestamp(b"file.txt"), None);
    }
}

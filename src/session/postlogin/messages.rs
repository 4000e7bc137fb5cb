//! dirmessage_enable / message_file (issue #4): the lines shown on entering a directory, as
//! vsftpd's banner.c `vsf_banner_dir_changed`:
//! - message_file is opened relative to the directory just entered (an absolute name is taken
//!   from the session root), beneath the session root; a file that is missing, unreadable or not
//!   a regular file shows nothing; at most `limits::MAX_DIR_MESSAGE` bytes of it are shown;
//! - each line goes out as `CODE-line` before the command's own reply (250 for CWD/CDUP, 230
//!   for the directory a session starts in);
//! - a directory's message is shown once per session: the first `limits::MAX_VISITED_DIRS`
//!   directories entered are remembered (visited or not, with or without a message file); past
//!   that, the others show theirs on every visit, as vsftpd.

use std::io::Read;
use std::os::fd::AsFd;

use super::Session;
use crate::limits;
use crate::proto::path::prepend_cwd;
use crate::proto::reply;
use crate::session::control::Ended;
use crate::sys::fs::{self as sysfs, OpenKind};

/// The directories whose message a session has shown, at most `limits::MAX_VISITED_DIRS`.
#[derive(Debug, Default)]
pub struct Visited(Vec<Vec<u8>>);

impl Visited {
    /// Records `dir`; `true` when its message should be shown (not seen before).
    pub fn first_visit(&mut self, dir: &[u8]) -> bool {
        if self.0.iter().any(|d| d == dir) {
            return false;
        }
        if self.0.len() < limits::MAX_VISITED_DIRS {
            self.0.push(dir.to_vec());
        }
        true
    }
}

impl Session<'_> {
    /// Sends the message file of the directory just entered, before the 250 reply.
    pub(super) fn dir_message(&mut self) -> Result<(), Ended> {
        self.dir_message_with(reply::code::CWDOK)
    }

    /// The reply to a successful login: the start directory's message as `230-` lines, then
    /// `230 Login successful.` (vsftpd postlogin.c `process_post_login`). The caller sends this
    /// instead of a bare LOGIN_OK.
    pub fn login_reply(&mut self) -> Result<(), Ended> {
        self.dir_message_with(reply::code::LOGINOK)?;
        self.ctrl.reply(reply::LOGIN_OK)
    }

    fn dir_message_with(&mut self, code: u16) -> Result<(), Ended> {
        let c = &self.settings.config;
        if !c.dirmessage_enable {
            return Ok(());
        }
        if !self.visited.first_visit(&self.cwd) {
            return Ok(());
        }
        let Some(name) = c.message_file.as_deref().filter(|n| !n.is_empty()) else {
            return Ok(());
        };
        let text = self.read_message(name.as_bytes());
        if text.is_empty() {
            return Ok(());
        }
        self.ctrl.send(&reply::message_lines(code, &text))
    }

    /// The message file's first `MAX_DIR_MESSAGE` bytes; empty when there is nothing to show.
    fn read_message(&self, name: &[u8]) -> Vec<u8> {
        let path = prepend_cwd(&self.cwd, name);
        let Ok(fd) = sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Read) else {
            return Vec::new();
        };
        match sysfs::fstat(fd.as_fd()) {
            Ok(st) if st.is_regular() => {}
            _ => return Vec::new(),
        }
        let mut text = Vec::new();
        if std::fs::File::from(fd)
            .take(limits::MAX_DIR_MESSAGE)
            .read_to_end(&mut text)
            .is_err()
        {
            return Vec::new();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visited_remembers_a_bounded_number() {
        let mut v = Visited::default();
        assert!(v.first_visit(b"/"));
        assert!(!v.first_visit(b"/"));
        for i in 1..limits::MAX_VISITED_DIRS {
            assert!(v.first_visit(format!("/d{i}").as_bytes()));
        }
        // Full: a new directory shows its message every time.
        assert!(v.first_visit(b"/new"));
        assert!(v.first_visit(b"/new"));
        assert!(!v.first_visit(b"/d1"));
    }
}

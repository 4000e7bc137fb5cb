//! The admin's anonymous e-mail lists (deny_email_enable + banned_email_file,
//! secure_email_list_enable + email_password_file) as files: how they are read, and the check
//! that they open before the greeting. The decision itself is the helper's
//! (`privsep::privops`).
//!
//! vsftpd's rules, kept exactly: a list is one password per line, lines end at LF (a CR stays
//! part of the line), a password matches a line only when they are equal byte for byte (case
//! matters); an empty file (or one that is not a regular file) is no list at all, so it refuses
//! nobody and lets everyone in; an empty password never passes secure_email_list_enable. A list
//! that cannot be opened refuses the login here: vsftpd ends the session before the greeting in
//! that case (see [`check_lists`]), and nothing must get in if the file goes away later.
//!
//! The files are read again at every login, in the privileged helper (two-process model: not
//! chrooted) or in the session before its jail (one-process model).
#![forbid(unsafe_code)]

use std::io;

pub use super::lists::read_bounded;

use crate::config::Config;
use crate::limits;
use crate::proto::reply;

/// An e-mail list file, read again at each use.
pub fn read_list(path: Option<&str>) -> io::Result<Vec<u8>> {
    match path {
        Some(p) => read_bounded(p, limits::MAX_EMAIL_LIST_FILE),
        None => Err(io::Error::from(io::ErrorKind::NotFound)),
    }
}

/// The check vsftpd makes when a session starts, before the greeting: every list the
/// configuration enables must open. `Err` carries the `500 OOPS:` text (vsftpd main.c), in
/// vsftpd's order: the banned list first, then (after banner_file) the password list — hence
/// the two halves.
pub fn check_lists(config: &Config) -> (Result<(), String>, Result<(), String>) {
    let banned = if config.deny_email_enable {
        read_list(config.banned_email_file.as_deref())
            .map(drop)
            .map_err(|_| {
                format!(
                    "{}{}",
                    reply::OOPS_BANNED_EMAIL_FILE,
                    config.banned_email_file.as_deref().unwrap_or("")
                )
            })
    } else {
        Ok(())
    };
    let secure = if config.secure_email_list_enable {
        read_list(config.email_password_file.as_deref())
            .map(drop)
            .map_err(|_| {
                format!(
                    "{}{}",
                    reply::OOPS_EMAIL_PASSWORD_FILE,
                    config.email_password_file.as_deref().unwrap_or("")
                )
            })
    } else {
        Ok(())
    };
    (banned, secure)
}

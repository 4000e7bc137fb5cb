//! Who may log in, decided in one place: the one-process session asks it directly, and in the
//! two-process model the privileged helper asks it again for every request of its unprivileged
//! child, so the child cannot decide anything alone.
#![forbid(unsafe_code)]

pub mod anonymous;

use crate::config::Config;
use crate::limits;

/// Who logged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    /// An anonymous user, with the password they gave (their e-mail address, by convention).
    Anonymous { password: Vec<u8> },
}

impl Login {
    /// The name shown in logs.
    pub fn user_name(&self) -> &str {
        match self {
            Login::Anonymous { .. } => "anonymous",
        }
    }
}

/// Is this USER argument one of vsftpd's anonymous names (any case)?
pub fn is_anonymous_name(user: &[u8]) -> bool {
    user.eq_ignore_ascii_case(b"anonymous") || user.eq_ignore_ascii_case(b"ftp")
}

/// The shape checks vsftpd's privileged side makes before anything else looks at a login:
/// bounded lengths and no control bytes (no NUL can cut a C string short later on).
pub fn plausible(user: &[u8], password: &[u8]) -> bool {
    !user.is_empty()
        && user.len() <= limits::MAX_USERNAME
        && password.len() <= limits::MAX_PASSWORD
        && !user.iter().any(|&b| b < 0x20 || b == 0x7f)
        && !password.contains(&0)
}

/// Decides a login. Local users (PAM) are not supported yet: they always fail.
pub fn decide(config: &Config, user: &[u8], password: &[u8]) -> Option<Login> {
    if !plausible(user, password) {
        return None;
    }
    if config.anonymous_enable && is_anonymous_name(user) {
        // deny_email_enable / secure_email_list_enable, read from their files at each login.
        if !anonymous::password_allowed(config, password) {
            return None;
        }
        return Some(Login::Anonymous {
            password: password.to_vec(),
        });
    }
    None
}

/// The login an accepted request stands for, rebuilt by the child from what it sent (it holds
/// no decision of its own: it asks only after the helper said yes).
pub fn decide_shape(user: &[u8], password: &[u8]) -> Option<Login> {
    is_anonymous_name(user).then(|| Login::Anonymous {
        password: password.to_vec(),
    })
}

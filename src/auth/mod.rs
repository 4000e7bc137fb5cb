//! Who logged in, as the rest of the session sees it. The decision itself is made on the
//! privileged side (`privsep::privops::decide_login`), for both process models: in the
//! two-process model the helper decides every request of its unprivileged child, so the child
//! cannot decide anything alone.
#![forbid(unsafe_code)]

pub mod anonymous;
pub mod lists;

use crate::proto::Password;
use crate::sys::creds::Account;

/// Who logged in. Not `Clone`, and its `Debug` never shows the password.
#[derive(Debug)]
pub enum Login {
    /// An anonymous user, with the password they gave (their e-mail address, by convention).
    Anonymous { password: Password },
    /// A system account that PAM let in (local_enable), with its groups (initgroups' list,
    /// looked up before any chroot).
    Local { account: Account, groups: Vec<u32> },
}

impl Login {
    /// The name shown in logs and STAT.
    pub fn user_name(&self) -> &str {
        match self {
            Login::Anonymous { .. } => "anonymous",
            Login::Local { account, .. } => &account.name,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, Login::Anonymous { .. })
    }
}

/// Is this USER argument one of vsftpd's anonymous names (any case)?
pub fn is_anonymous_name(user: &[u8]) -> bool {
    user.eq_ignore_ascii_case(b"anonymous") || user.eq_ignore_ascii_case(b"ftp")
}

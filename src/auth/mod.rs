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
    /// A virtual user, `name` (guest_enable through PAM, or a line of virtual_users_file),
    /// served as the system account guest_username (`account`). Without
    /// virtual_use_local_privs (`local_privs`) it has an anonymous session's rights, as in
    /// vsftpd.
    Guest {
        name: String,
        account: Account,
        groups: Vec<u32>,
        local_privs: bool,
    },
}

impl Login {
    /// The name shown in logs and STAT.
    pub fn user_name(&self) -> &str {
        match self {
            Login::Anonymous { .. } => "anonymous",
            Login::Local { account, .. } => &account.name,
            Login::Guest { name, .. } => name,
        }
    }

    /// How the logs name this login: the name its lines carry (an anonymous login goes by
    /// ftp_username, as in vsftpd; a guest by its virtual name), xferlog's access mode, and an
    /// anonymous login's password.
    pub fn log_identity<'a>(
        &'a self,
        config: &'a crate::config::Config,
    ) -> (&'a [u8], crate::log::Access, Option<&'a [u8]>) {
        use crate::log::Access;
        match self {
            Login::Anonymous { password } => (
                config
                    .str_or_default("ftp_username", &config.ftp_username)
                    .as_bytes(),
                Access::Anonymous,
                Some(password.as_bytes()),
            ),
            Login::Local { account, .. } => (account.name.as_bytes(), Access::Real, None),
            Login::Guest { name, .. } => (name.as_bytes(), Access::Guest, None),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, Login::Anonymous { .. })
    }

    /// Anonymous rights: the anon_* switches, anon_umask, anon_max_rate,
    /// anon_world_readable_only, chown_uploads, no SITE. vsftpd gives them to guests without
    /// virtual_use_local_privs as well.
    pub fn has_anonymous_rights(&self) -> bool {
        matches!(
            self,
            Login::Anonymous { .. }
                | Login::Guest {
                    local_privs: false,
                    ..
                }
        )
    }
}

/// Is this USER argument one of vsftpd's anonymous names (any case)?
pub fn is_anonymous_name(user: &[u8]) -> bool {
    user.eq_ignore_ascii_case(b"anonymous") || user.eq_ignore_ascii_case(b"ftp")
}

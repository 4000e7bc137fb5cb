//! The switch from "a connection" to "a session of this user, in this root".
//!
//! As root (run_as_launching_user=NO) the process chroots into the anonymous root and becomes
//! ftp_username for good, with no_new_privs; as an ordinary user it stays who it is. In both
//! cases every path is then resolved beneath the returned root fd (RESOLVE_IN_ROOT), so even
//! without chroot nothing outside the root can be named.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use super::prelogin::Login;
use crate::config::Settings;
use crate::sys::{creds, fs, process};

/// Enters the session's identity and root; `Err` carries vsftpd's `500 OOPS:` text.
pub fn enter(settings: &Settings, login: &Login) -> Result<OwnedFd, String> {
    let c = &settings.config;
    match login {
        Login::Anonymous { .. } => {
            let ftp_user = c.ftp_username.as_deref().unwrap_or("ftp");
            let account = creds::lookup_user(ftp_user).ok().flatten();
            let root_dir: PathBuf = match (&c.anon_root, &account) {
                (Some(dir), _) => PathBuf::from(dir),
                (None, Some(acct)) => acct.home.clone(),
                (None, None) => {
                    return Err(format!(
                        "cannot locate user specified in 'ftp_username':{ftp_user}"
                    ))
                }
            };
            if c.run_as_launching_user {
                return open_root(&root_dir);
            }
            let Some(acct) = account else {
                return Err(format!(
                    "cannot locate user specified in 'ftp_username':{ftp_user}"
                ));
            };
            creds::chroot(&root_dir)
                .map_err(|_| format!("cannot change directory:{}", root_dir.display()))?;
            creds::become_user(acct.uid, acct.gid)
                .map_err(|e| format!("cannot switch to user {ftp_user}: {e}"))?;
            process::set_no_new_privs().map_err(|e| format!("prctl PR_SET_NO_NEW_PRIVS: {e}"))?;
            open_root(Path::new("/"))
        }
    }
}

fn open_root(dir: &Path) -> Result<OwnedFd, String> {
    fs::open_dir(dir).map_err(|_| format!("cannot change directory:{}", dir.display()))
}

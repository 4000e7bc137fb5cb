//! The session root of the one-process model (run_as_launching_user=YES): the process stays
//! who it is, and every path is resolved beneath the returned root fd (RESOLVE_IN_ROOT), so even
//! without chroot nothing outside the root can be named. The privileged model (chroot, a new
//! identity, seccomp) is `privsep::model`.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::auth::Login;
use crate::config::Settings;
use crate::sys::{creds, fs};

/// Opens the session's root; `Err` carries vsftpd's `500 OOPS:` text.
pub fn enter(settings: &Settings, login: &Login) -> Result<OwnedFd, String> {
    let c = &settings.config;
    match login {
        Login::Anonymous { .. } => {
            let root_dir: PathBuf = match &c.anon_root {
                Some(dir) => PathBuf::from(dir),
                None => {
                    let ftp_user = c.ftp_username.as_deref().unwrap_or("ftp");
                    match creds::lookup_user(ftp_user).ok().flatten() {
                        Some(acct) => acct.home,
                        None => {
                            return Err(format!(
                                "cannot locate user specified in 'ftp_username':{ftp_user}"
                            ))
                        }
                    }
                }
            };
            open_root(&root_dir)
        }
    }
}

fn open_root(dir: &Path) -> Result<OwnedFd, String> {
    fs::open_dir(dir).map_err(|_| format!("cannot change directory:{}", dir.display()))
}

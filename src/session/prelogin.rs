//! Before login: USER, PASS, QUIT, FEAT, OPTS (and, once FTPS lands, AUTH/PBSZ/PROT); anything
//! else is refused without being looked at further.

use super::control::{Control, Ended};
use crate::auth::{self, is_anonymous_name, Login};
use crate::config::Settings;
use crate::limits;
use crate::privsep::privops;
use crate::proto::command::{parse_prelogin, PreLoginCommand};
use crate::proto::reply;
use crate::proto::Password;

/// Asks whoever decides logins: the session itself (one-process model) or the privileged
/// helper over the channel (two-process model).
pub trait Authenticator {
    /// `Ok(Some(login))` on success, `Ok(None)` for "530 Login incorrect.", `Err` when the
    /// session must end (the helper is gone or refused to talk).
    fn authenticate(&mut self, user: &[u8], password: Password) -> Result<Option<Login>, Ended>;
}

/// The one-process model: the session asks the privileged side's rules directly.
pub struct LocalAuth<'a>(pub &'a Settings);

impl Authenticator for LocalAuth<'_> {
    fn authenticate(&mut self, user: &[u8], password: Password) -> Result<Option<Login>, Ended> {
        Ok(privops::decide_login(&self.0.config, user, password))
    }
}

/// What vsftpd reads for a session before it greets the client (main.c), while the process can
/// still see the files (before any chroot): the banned e-mail list must open, then banner_file
/// (its text is returned; an empty or non-regular file gives none), then the e-mail password
/// list. `Err` is the `500 OOPS:` text to send instead of the greeting; the session then ends.
pub fn session_files(settings: &Settings) -> Result<Option<Vec<u8>>, String> {
    let c = &settings.config;
    let (banned, secure) = auth::anonymous::check_lists(c);
    banned?;
    let banner = match c.banner_file.as_deref() {
        Some(path) => match auth::anonymous::read_bounded(path, limits::MAX_BANNER_FILE) {
            Ok(text) => Some(text).filter(|t| !t.is_empty()),
            Err(_) => return Err(format!("{}{path}", reply::OOPS_BANNER_FILE)),
        },
        None => None,
    };
    secure?;
    Ok(banner)
}

/// The password vsftpd makes up for an anonymous login with no_anon_password=YES (what the
/// e-mail lists are checked against).
const NO_ANON_PASSWORD: &[u8] = b"<no password>";

/// Runs the pre-login loop until a login succeeds; `Err` when the session must end.
///
/// Every refused login (`530 Login incorrect.`) counts; at max_login_fails the session ends
/// right after that reply, as vsftpd's `check_login_fails` (with 0, the first failure ends it).
pub fn run(
    settings: &Settings,
    ctrl: &mut Control,
    auth: &mut dyn Authenticator,
) -> Result<Login, Ended> {
    let c = &settings.config;
    let mut user: Option<Vec<u8>> = None;
    let mut unknown = 0u32;
    let mut fails = 0u32;
    // vsftpd: `++login_fails >= max_login_fails` after the 530 reply.
    let mut failed = |ctrl: &mut Control| -> Result<(), Ended> {
        ctrl.reply(reply::LOGIN_INCORRECT)?;
        fails = fails.saturating_add(1);
        if fails >= c.max_login_fails {
            return Err(Ended::Closed);
        }
        Ok(())
    };
    loop {
        let line = ctrl.read_line()?;
        match parse_prelogin(&line) {
            PreLoginCommand::User(name) => {
                user = None;
                let anon = is_anonymous_name(&name);
                if name.len() > limits::MAX_USERNAME {
                    ctrl.reply(reply::LOGIN_INCORRECT)?;
                } else if anon && c.anonymous_enable {
                    if c.no_anon_password {
                        let password = Password::new(NO_ANON_PASSWORD.to_vec());
                        match auth.authenticate(&name, password)? {
                            Some(login) => return Ok(login),
                            None => failed(ctrl)?,
                        }
                        continue;
                    }
                    user = Some(name);
                    ctrl.reply(reply::GIVE_PASSWORD)?;
                } else if !c.local_enable {
                    ctrl.reply(reply::ANON_ONLY)?;
                } else {
                    // Local users come with PAM (planned); until then every password fails.
                    user = Some(name);
                    ctrl.reply(reply::GIVE_PASSWORD)?;
                }
            }
            PreLoginCommand::Pass(password) => {
                let Some(name) = user.take() else {
                    ctrl.reply(reply::LOGIN_WITH_USER_FIRST)?;
                    continue;
                };
                if !password.exceeds_limit() {
                    if let Some(login) = auth.authenticate(&name, password)? {
                        return Ok(login);
                    }
                }
                failed(ctrl)?;
            }
            PreLoginCommand::Quit => {
                let _ = ctrl.reply(reply::GOODBYE);
                return Err(Ended::Closed);
            }
            PreLoginCommand::Feat => ctrl.send(&reply::feat_with(c.port_enable, c.pasv_enable))?,
            PreLoginCommand::Opts(arg) => ctrl.reply(super::postlogin::opts_reply(&arg))?,
            PreLoginCommand::Http => {
                let _ = ctrl.reply(reply::HTTP_NOT_ALLOWED);
                return Err(Ended::Closed);
            }
            // vsftpd answers nothing to an empty line.
            PreLoginCommand::Empty => {}
            _ => {
                ctrl.reply(reply::PLEASE_LOGIN)?;
                unknown += 1;
                if unknown >= limits::MAX_PRELOGIN_UNKNOWN {
                    return Err(Ended::Closed);
                }
            }
        }
    }
}

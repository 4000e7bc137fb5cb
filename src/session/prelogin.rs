//! Before login: USER, PASS, QUIT, FEAT, OPTS (and, once FTPS lands, AUTH/PBSZ/PROT); anything
//! else is refused without being looked at further.

use super::control::{Control, Ended};
use crate::auth::{self, is_anonymous_name, Login};
use crate::config::Settings;
use crate::limits;
use crate::proto::command::{parse_prelogin, PreLoginCommand};
use crate::proto::reply;

/// Asks whoever decides logins: the session itself (one-process model) or the privileged
/// helper over the channel (two-process model).
pub trait Authenticator {
    /// `Ok(Some(login))` on success, `Ok(None)` for "530 Login incorrect.", `Err` when the
    /// session must end (the helper is gone or refused to talk).
    fn authenticate(&mut self, user: &[u8], password: &[u8]) -> Result<Option<Login>, Ended>;
}

/// The one-process model: decide here.
pub struct LocalAuth<'a>(pub &'a Settings);

impl Authenticator for LocalAuth<'_> {
    fn authenticate(&mut self, user: &[u8], password: &[u8]) -> Result<Option<Login>, Ended> {
        Ok(auth::decide(&self.0.config, user, password))
    }
}

/// Runs the pre-login loop until a login succeeds; `Err` when the session must end.
pub fn run(
    settings: &Settings,
    ctrl: &mut Control,
    auth: &mut dyn Authenticator,
) -> Result<Login, Ended> {
    let c = &settings.config;
    let mut user: Option<Vec<u8>> = None;
    let mut unknown = 0u32;
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
                        match auth.authenticate(&name, b"")? {
                            Some(login) => return Ok(login),
                            None => ctrl.reply(reply::LOGIN_INCORRECT)?,
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
                if password.as_bytes().len() <= limits::MAX_PASSWORD {
                    if let Some(login) = auth.authenticate(&name, password.as_bytes())? {
                        return Ok(login);
                    }
                }
                ctrl.reply(reply::LOGIN_INCORRECT)?;
            }
            PreLoginCommand::Quit => {
                let _ = ctrl.reply(reply::GOODBYE);
                return Err(Ended::Closed);
            }
            PreLoginCommand::Feat => ctrl.send(&reply::feat())?,
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

//! Before login: USER, PASS, QUIT, FEAT, OPTS (and, once FTPS lands, AUTH/PBSZ/PROT); anything
//! else is refused without being looked at further.

use super::control::{Control, Ended};
use crate::config::Settings;
use crate::limits;
use crate::proto::command::{parse_prelogin, PreLoginCommand};
use crate::proto::reply;

/// Who logged in.
#[derive(Clone, Debug)]
pub enum Login {
    /// An anonymous user, with the password they gave (their e-mail address, by convention).
    Anonymous { password: Vec<u8> },
}

impl Login {
    /// The name shown in logs and used for identity decisions.
    pub fn user_name(&self) -> &str {
        match self {
            Login::Anonymous { .. } => "anonymous",
        }
    }
}

/// Is this USER argument one of vsftpd's anonymous names (any case)?
fn is_anonymous_name(user: &[u8]) -> bool {
    user.eq_ignore_ascii_case(b"anonymous") || user.eq_ignore_ascii_case(b"ftp")
}

/// Runs the pre-login loop until a login succeeds; `Err` when the session must end.
pub fn run(settings: &Settings, ctrl: &mut Control) -> Result<Login, Ended> {
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
                        return Ok(Login::Anonymous {
                            password: Vec::new(),
                        });
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
                if is_anonymous_name(&name)
                    && c.anonymous_enable
                    && password.as_bytes().len() <= limits::MAX_PASSWORD
                {
                    return Ok(Login::Anonymous {
                        password: password.as_bytes().to_vec(),
                    });
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

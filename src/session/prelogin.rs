//! Before login: USER, PASS, QUIT, FEAT, OPTS and, with ssl_enable, AUTH/PBSZ/PROT; anything
//! else is refused without being looked at further.

use super::control::{Control, Ended};
use crate::auth::{self, is_anonymous_name, Login};
use crate::config::{Config, Settings};
use crate::limits;
use crate::log::SessionLog;
use crate::privsep::privops::{self, Refusal};
use crate::proto::command::{parse_prelogin, PreLoginCommand};
use crate::proto::reply;
use crate::proto::Password;

/// A login this process serves, with its own settings when user_config_dir has a file for it.
pub type LoggedIn = (Login, Option<Box<Settings>>);

/// What became of a login attempt.
pub enum Outcome {
    /// Accepted; this process goes on to serve it (one-process model), with the login's own
    /// settings when user_config_dir has a file for it.
    LoggedIn(Login, Option<Box<Settings>>),
    /// Accepted; another process serves it (two-process model): stop reading.
    HandedOver,
    /// `530 Login incorrect.`
    Refused,
}

/// Asks whoever decides logins: the session itself (one-process model) or the privileged
/// helper over the channel (two-process model).
pub trait Authenticator {
    /// `Err` when the session must end (the helper is gone or refused to talk).
    fn authenticate(&mut self, user: &[u8], password: Password) -> Result<Outcome, Ended>;

    /// With userlist_enable: may `user` be asked for a password? `Err` as above.
    fn user_allowed(&mut self, user: &[u8]) -> Result<bool, Ended>;
}

/// The one-process model: the session asks the privileged side's rules directly, with the
/// same delays. (A PAM session is not kept here: session_support needs the two-process model.)
pub struct LocalAuth<'a> {
    pub settings: &'a Settings,
    pub peer: std::net::IpAddr,
    /// The session's log (a copy: the control connection holds the other).
    pub log: SessionLog,
}

impl Authenticator for LocalAuth<'_> {
    fn authenticate(&mut self, user: &[u8], password: Password) -> Result<Outcome, Ended> {
        let c = &self.settings.config;
        let ctx = privops::LoginContext {
            config: c,
            peer: self.peer,
        };
        match crate::privsep::helper::accept(self.settings, &ctx, user, password) {
            Ok(accepted) => {
                let (name, _, anon_password) = accepted.login.log_identity(c);
                self.log.login(true, name, anon_password, b"");
                privops::login_delay(c.delay_successful_login);
                Ok(Outcome::LoggedIn(
                    accepted.login,
                    accepted.settings.map(Box::new),
                ))
            }
            Err(refusal) => {
                log_refusal(c, &self.log, user, &refusal);
                privops::login_delay(c.delay_failed_login);
                Ok(Outcome::Refused)
            }
        }
    }

    fn user_allowed(&mut self, user: &[u8]) -> Result<bool, Ended> {
        let allowed = privops::userlist_allows(&self.settings.config, user);
        if !allowed {
            log_refusal(&self.settings.config, &self.log, user, &Refusal::UserList);
            privops::login_delay(self.settings.config.delay_failed_login);
        }
        Ok(allowed)
    }
}

/// A refused login in the logs: a failed one as vsftpd's `FAIL LOGIN` (what fail2ban counts);
/// with userlist_log one the user list refused, with Red Hat's reason; one whose account cannot
/// be served is not a failed password, and is reported as such, so that nothing bans a valid
/// user for it. The reason for a failure goes to standard error.
pub fn log_refusal(c: &Config, log: &SessionLog, user: &[u8], r: &Refusal) {
    match r {
        Refusal::Unavailable(why) => crate::log::note(&format!(
            "login refused, the account cannot be served: {why}"
        )),
        Refusal::UserList if c.userlist_log => log.login(false, user, None, userlist_why(c)),
        Refusal::Credentials(why) => {
            crate::daemon::say(&format!("login refused: {why}"));
            log.login(false, user, None, b"");
        }
        Refusal::UserList => {}
    }
}

/// Red Hat's reason for a login the user list refused (userlist_log).
fn userlist_why(c: &Config) -> &'static [u8] {
    if c.userlist_deny {
        b"User is in the deny user list."
    } else {
        b"User is not in the allow user list."
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
    if c.userlist_enable {
        let file = c.str_or_default("userlist_file", &c.userlist_file);
        auth::lists::read_bounded(file, limits::MAX_USER_LIST_FILE)
            .map_err(|_| format!("{}{file}", reply::OOPS_USER_LIST_FILE))?;
    }
    Ok(banner)
}

/// The password vsftpd makes up for an anonymous login with no_anon_password=YES (what the
/// e-mail lists are checked against).
const NO_ANON_PASSWORD: &[u8] = b"<no password>";

/// Runs the pre-login loop until a login succeeds: `Some((login, its own settings))` to serve
/// here, `None` when another process serves it; `Err` when the session must end.
///
/// Every refused login (`530 Login incorrect.`) counts; at max_login_fails the session ends
/// right after that reply, as vsftpd's `check_login_fails` (with 0, the first failure ends it).
pub fn run(
    settings: &Settings,
    ctrl: &mut Control,
    auth: &mut dyn Authenticator,
) -> Result<Option<LoggedIn>, Ended> {
    let c = &settings.config;
    let mut user: Option<Vec<u8>> = None;
    let mut unknown = 0u32;
    let mut fails = 0u32;
    // vsftpd: `++login_fails >= max_login_fails` after the 530 reply (a refusal by the user
    // list counts too).
    let mut failed_with = |ctrl: &mut Control, why: reply::Reply| -> Result<(), Ended> {
        ctrl.reply(why)?;
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
                // Later lines carry the name asked for (vsftpd's user_str).
                ctrl.log.set_user(Some(&name));
                let anon = is_anonymous_name(&name) && c.anonymous_enable;
                if name.len() > limits::MAX_USERNAME {
                    ctrl.reply(reply::LOGIN_INCORRECT)?;
                } else if !anon && !c.local_enable && c.virtual_users_file.is_none() {
                    ctrl.reply(reply::ANON_ONLY)?;
                } else if let Some(r) = super::secure::login_refusal(c, anon, ctrl.secure.control) {
                    ctrl.log.set_user(None);
                    ctrl.reply(r)?;
                } else if c.userlist_enable && !auth.user_allowed(&name)? {
                    // Refused before any password is asked for (vsftpd's user list).
                    ctrl.log.set_user(None);
                    failed_with(ctrl, reply::USERLIST_DENIED)?;
                } else if anon && c.no_anon_password {
                    let password = Password::new(NO_ANON_PASSWORD.to_vec());
                    match auth.authenticate(&name, password)? {
                        Outcome::LoggedIn(login, own) => return Ok(Some((login, own))),
                        Outcome::HandedOver => return Ok(None),
                        Outcome::Refused => failed_with(ctrl, reply::LOGIN_INCORRECT)?,
                    }
                } else {
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
                    match auth.authenticate(&name, password)? {
                        Outcome::LoggedIn(login, own) => return Ok(Some((login, own))),
                        Outcome::HandedOver => return Ok(None),
                        Outcome::Refused => {}
                    }
                }
                failed_with(ctrl, reply::LOGIN_INCORRECT)?;
            }
            PreLoginCommand::Quit => {
                let _ = ctrl.reply(reply::GOODBYE);
                return Err(Ended::Closed);
            }
            PreLoginCommand::Feat => ctrl.send(&reply::feat_full(
                c.port_enable,
                c.pasv_enable,
                c.write_enable && c.mdtm_write,
                c.ssl_enable,
            ))?,
            PreLoginCommand::Auth(arg) if c.ssl_enable => super::secure::auth(ctrl, c, &arg)?,
            PreLoginCommand::Pbsz(_) if c.ssl_enable => super::secure::pbsz(ctrl)?,
            PreLoginCommand::Prot(arg) if c.ssl_enable => super::secure::prot(ctrl, &arg)?,
            PreLoginCommand::Opts(arg) => ctrl.reply(super::postlogin::opts_reply(&arg))?,
            PreLoginCommand::Http => {
                let _ = ctrl.reply(reply::HTTP_NOT_ALLOWED);
                return Err(Ended::Closed);
            }
            // vsftpd answers nothing to an empty line.
            PreLoginCommand::Empty => {}
            // vsftpd 3.0.5: the first MAX_PRELOGIN_UNKNOWN get their 530; the next one is
            // answered `500 Too many errors.` and ends the session.
            _ => {
                unknown = unknown.saturating_add(1);
                if unknown > limits::MAX_PRELOGIN_UNKNOWN {
                    let _ = ctrl.reply(reply::TOO_MANY_ERRORS);
                    return Err(Ended::Closed);
                }
                ctrl.reply(reply::PLEASE_LOGIN)?;
            }
        }
    }
}

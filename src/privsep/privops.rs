//! Every check the privileged side makes on a request, in one file to audit (vsftpd's privops.c:
//! "Look for suitable paranoia in this file"): who may log in, where an active data connection
//! may go, where a passive one may come from, and what the helper keeps after login.
//!
//! The helper applies these to every request of its unprivileged child, whatever the child
//! checked already; the one-process model (run_as_launching_user) asks the same functions, so a
//! rule lives in one place. Nothing here trusts a byte of its arguments: the user name, the
//! password and the target address come from the network.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};

use crate::auth::lists::{self, contains_line};
use crate::auth::{anonymous, is_anonymous_name, Login};
use crate::config::Config;
use crate::data::active::{self, ActivePolicy, ConnectError};
use crate::data::passive::{self, canonical_ip, AcceptError, PassivePolicy};
use crate::limits;
use crate::proto::Password;
use crate::sys::creds::{self, Capability};
use crate::sys::net;
use crate::sys::pam::{Pam, PamError};

// ---- Logins ---------------------------------------------------------------------------------

/// What a login decision needs besides the name and password.
pub struct LoginContext<'a> {
    pub config: &'a Config,
    /// The client's address: PAM_RHOST (or its name, with reverse_lookup_enable).
    pub peer: IpAddr,
}

/// A login the privileged side granted.
pub struct Granted {
    pub login: Login,
    /// The PAM handle of a local login with session_support: its session stays open until the
    /// session ends, so the helper keeps it (and root, to close it).
    pub pam: Option<Pam>,
}

/// Why a login was refused. The client hears `530 Login incorrect.` for every one of these
/// but [`Refusal::UserList`] (`530 Permission denied.`); the reason is for the log.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong name or password, a refused PAM stack, a locked or expired account.
    Credentials(String),
    /// userlist_enable refuses the name.
    UserList,
    /// The account is fine but cannot be served (its home is missing, say): not a failed
    /// password, and logged as such, so that no log watcher bans a valid user for it.
    Unavailable(String),
}

/// The shape checks made before anything else looks at a login (vsftpd's handle_login): bounded
/// lengths and no control bytes in the name, no NUL in the password, so nothing can cut a C
/// string short or forge a log line later on.
pub fn plausible(user: &[u8], password: &Password) -> bool {
    !user.is_empty()
        && user.len() <= limits::MAX_USERNAME
        && !password.exceeds_limit()
        && !user.iter().any(|&b| b < 0x20 || b == 0x7f)
        && !password.as_bytes().contains(&0)
}

/// Waits a login delay (delay_failed_login, delay_successful_login), in whole seconds.
pub fn login_delay(secs: u32) {
    if secs > 0 {
        std::thread::sleep(std::time::Duration::from_secs(u64::from(secs)));
    }
}

/// May `user` go on to the password (userlist_enable, userlist_deny, userlist_file, read
/// again each time)? An unreadable list lets nobody in.
pub fn userlist_allows(config: &Config, user: &[u8]) -> bool {
    if !config.userlist_enable {
        return true;
    }
    let file = config.str_or_default("userlist_file", &config.userlist_file);
    match lists::lists_user(file, user) {
        Ok(listed) => listed != config.userlist_deny,
        Err(_) => false,
    }
}

/// Decides a login from the name, the password and the configuration alone: the child's
/// word counts for nothing. Anonymous names with anonymous_enable are anonymous logins; any
/// other name, with local_enable, goes through the PAM stack pam_service_name.
pub fn decide_login(
    ctx: &LoginContext<'_>,
    user: &[u8],
    password: Password,
) -> Result<Granted, Refusal> {
    let config = ctx.config;
    if !plausible(user, &password) {
        return Err(Refusal::Credentials(
            "malformed user name or password".into(),
        ));
    }
    if !userlist_allows(config, user) {
        return Err(Refusal::UserList);
    }
    if config.anonymous_enable && is_anonymous_name(user) {
        if !anonymous_password_allowed(config, &password) {
            return Err(Refusal::Credentials("anonymous password refused".into()));
        }
        return Ok(Granted {
            login: Login::Anonymous { password },
            pam: None,
        });
    }
    if let Some(file) = config.virtual_users_file.as_deref() {
        if let Some(hash) = virtual_user_hash(file, user) {
            return virtual_login(config, user, &password, &hash);
        }
    }
    if !config.local_enable {
        return Err(Refusal::Credentials("local logins are disabled".into()));
    }
    local_login(ctx, user, &password)
}

/// The hash of `user` in virtual_users_file, read again at every login so that an edit needs
/// no restart; each malformed line is logged and skipped. A file that cannot be read lists
/// nobody (and says so).
fn virtual_user_hash(file: &str, user: &[u8]) -> Option<String> {
    let text = match lists::read_bounded(file, limits::MAX_VIRTUAL_USERS_FILE) {
        Ok(t) => t,
        Err(e) => {
            crate::daemon::say(&format!("virtual_users_file {file}: {e}"));
            return None;
        }
    };
    let found = lists::virtual_user(&text, user);
    for n in found.malformed {
        crate::daemon::say(&format!(
            "virtual_users_file {file}:{n}: not a name:hash line; skipped"
        ));
    }
    found.hash
}

/// A virtual user of virtual_users_file: the password checked against the hash with the
/// system's crypt(3), then a guest login as guest_username.
fn virtual_login(
    config: &Config,
    user: &[u8],
    password: &Password,
    hash: &str,
) -> Result<Granted, Refusal> {
    let name = String::from_utf8(user.to_vec())
        .map_err(|_| Refusal::Credentials("user name is not UTF-8".into()))?;
    match crate::sys::crypt::verify(password.as_bytes(), hash) {
        Some(true) => {}
        Some(false) => return Err(Refusal::Credentials(format!("wrong password for {name}"))),
        None => {
            return Err(Refusal::Credentials(format!(
                "virtual_users_file: the hash of {name} is not one this system's crypt(3) knows"
            )))
        }
    }
    Ok(Granted {
        login: guest(config, name)?,
        pam: None,
    })
}

/// The guest login of virtual user `name`: guest_username's account and groups.
fn guest(config: &Config, name: String) -> Result<Login, Refusal> {
    let guest_name = config.str_or_default("guest_username", &config.guest_username);
    let account = match creds::lookup_user(guest_name) {
        Ok(Some(a)) => a,
        _ => {
            return Err(Refusal::Unavailable(format!(
                "guest_username {guest_name} does not exist"
            )))
        }
    };
    let groups = creds::groups_of(&account.name, account.gid)
        .map_err(|e| Refusal::Unavailable(format!("groups of {guest_name}: {e}")))?;
    Ok(Login::Guest {
        name,
        account,
        groups,
        local_privs: config.virtual_use_local_privs,
    })
}

/// A system account through PAM, as vsftpd does it: PAM_RHOST, PAM_TTY "ftp" (fail2ban's
/// pattern for PAM failures expects both) and PAM_RUSER, then authenticate, account
/// management (locked and expired accounts stop here), credentials, and with session_support
/// a session.
fn local_login(
    ctx: &LoginContext<'_>,
    user: &[u8],
    password: &Password,
) -> Result<Granted, Refusal> {
    let config = ctx.config;
    let pam_err = |what: &str, e: PamError| Refusal::Credentials(format!("{what}: {e}"));
    let service = config.str_or_default("pam_service_name", &config.pam_service_name);
    let mut pam = Pam::start(service, user).map_err(|e| pam_err("pam_start", e))?;
    let rhost = if config.reverse_lookup_enable {
        net::host_name(ctx.peer).unwrap_or_else(|| canonical_ip(ctx.peer).to_string())
    } else {
        canonical_ip(ctx.peer).to_string()
    };
    pam.set_rhost(&rhost).map_err(|e| pam_err("PAM_RHOST", e))?;
    pam.set_tty("ftp").map_err(|e| pam_err("PAM_TTY", e))?;
    pam.set_ruser(user).map_err(|e| pam_err("PAM_RUSER", e))?;
    pam.authenticate(password.as_bytes())
        .map_err(|e| pam_err("authentication", e))?;
    pam.acct_mgmt().map_err(|e| pam_err("account", e))?;
    // A module may have mapped the name; the account is the one PAM ended with.
    let name = pam.user().unwrap_or_else(|| user.to_vec());
    let name = String::from_utf8(name)
        .map_err(|_| Refusal::Credentials("user name is not UTF-8".into()))?;
    let login = if config.guest_enable {
        // Virtual users (pam_userdb, pam_pwdfile) have no account of their own.
        guest(config, name)?
    } else {
        let account = match creds::lookup_user(&name) {
            Ok(Some(a)) => a,
            _ => return Err(Refusal::Credentials(format!("no account {name}"))),
        };
        let groups = creds::groups_of(&account.name, account.gid)
            .map_err(|e| Refusal::Unavailable(format!("groups of {name}: {e}")))?;
        Login::Local { account, groups }
    };
    pam.establish_cred()
        .map_err(|e| pam_err("credentials", e))?;
    let keep = if config.session_support && !login.has_anonymous_rights() {
        pam.open_session().map_err(|e| pam_err("session", e))?;
        Some(pam)
    } else {
        None
    };
    Ok(Granted { login, pam: keep })
}

/// The anonymous password (by convention an e-mail address) against the admin's lists, read
/// again at every login: deny_email_enable + banned_email_file refuse the listed passwords,
/// secure_email_list_enable + email_password_file accept only the listed ones (vsftpd
/// `handle_anonymous_login`). An empty list file is no list: it refuses nobody. A list that
/// cannot be read refuses the login: nothing gets in if the file goes away.
fn anonymous_password_allowed(config: &Config, password: &Password) -> bool {
    let password = password.as_bytes();
    if config.deny_email_enable {
        match anonymous::read_list(config.banned_email_file.as_deref()) {
            Ok(banned) if !contains_line(&banned, password) => {}
            _ => return false,
        }
    }
    if config.secure_email_list_enable {
        match anonymous::read_list(config.email_password_file.as_deref()) {
            Ok(allowed) if allowed.is_empty() => {}
            Ok(allowed) if !password.is_empty() && contains_line(&allowed, password) => {}
            _ => return false,
        }
    }
    true
}

// ---- Data connections -----------------------------------------------------------------------

/// May the server connect to `target` (PORT/EPRT)? Only the control peer's address, v4-mapped
/// forms compared as IPv4, and never a reserved port, unless port_promiscuous: otherwise the
/// server becomes a bounce for attacks on other hosts and services (vsftpd's PORT check and
/// `vsf_privop_get_ftp_port_sock`).
pub fn port_target_allowed(policy: &ActivePolicy, target: SocketAddr) -> bool {
    policy.promiscuous
        || (canonical_ip(target.ip()) == canonical_ip(policy.control_peer)
            && target.port() >= active::FIRST_UNRESERVED_PORT)
}

/// Checks a PORT/EPRT target and connects to it (from ftp_data_port with connect_from_port_20).
pub fn connect_port(policy: &ActivePolicy, target: SocketAddr) -> Result<TcpStream, ConnectError> {
    if !port_target_allowed(policy, target) {
        return Err(ConnectError::NotAllowed);
    }
    active::connect(policy, target)
}

/// May a passive data connection from `peer` be used? Only from the control peer, unless
/// pasv_promiscuous: anyone else who guessed the port would get the data
/// (`vsf_privop_accept_pasv`).
pub fn pasv_peer_allowed(policy: &PassivePolicy, peer: IpAddr) -> bool {
    policy.promiscuous || canonical_ip(peer) == canonical_ip(policy.control_peer)
}

/// Opens a passive listener on the control connection's local address, in the configured range.
pub fn listen_pasv(policy: &PassivePolicy) -> io::Result<TcpListener> {
    passive::listen(policy.local_ip, policy.min_port, policy.max_port)
}

/// Takes the client's data connection on `listener`, within accept_timeout; one from another
/// address is dropped at once and fails the transfer.
pub fn accept_pasv(
    listener: &TcpListener,
    policy: &PassivePolicy,
) -> Result<TcpStream, AcceptError> {
    let (stream, peer) = passive::accept(listener, policy.accept_timeout)?;
    if !pasv_peer_allowed(policy, peer.ip()) {
        return Err(AcceptError::BadIp);
    }
    Ok(stream)
}

// ---- Anonymous uploads given away -----------------------------------------------------------

/// chown_uploads: who anonymous uploads go to, looked up before the helper leaves root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChownUpload {
    /// The anonymous session's user: only its own files are given away.
    pub from_uid: u32,
    /// chown_username's uid and group.
    pub to_uid: u32,
    pub to_gid: u32,
}

/// Gives the uploaded file `fd` to chown_username after checking it as vsftpd's
/// `vsf_privop_do_file_chown` does: a regular file (fstat, not a path that could have been
/// swapped), owned by the anonymous user. Anything else is refused (EPERM). The session sets
/// chown_upload_mode itself first, while the file is still its own (the helper has
/// CAP_CHOWN, not CAP_FOWNER).
pub fn chown_upload(how: &ChownUpload, fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
    let st = crate::sys::fs::fstat(fd)?;
    if !st.is_regular() || st.uid != how.from_uid {
        return Err(io::Error::from(io::ErrorKind::PermissionDenied));
    }
    crate::sys::fs::fchown(fd, how.to_uid, how.to_gid)
}

// ---- The helper after login -----------------------------------------------------------------

/// What the helper keeps once the post-login process runs (vsftpd's "the parent process
/// dynamically calculates the level of privileges it requires"). Its remaining duties are the
/// data sockets (no privilege, except a source port below 1024), and later giving anonymous
/// uploads away (CAP_CHOWN): everything else goes, root included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AfterLogin {
    /// The capabilities its duties need; all others are dropped from every set.
    pub capabilities: Vec<Capability>,
}

/// The least privilege the helper of this login needs.
pub fn after_login(config: &Config, login: &Login) -> AfterLogin {
    let mut capabilities = Vec::new();
    // connect_from_port_20 binds ftp_data_port, 20 by default: a reserved port. An
    // unprivileged ftp_data_port needs nothing, and PORT may be off altogether.
    if config.port_enable
        && config.connect_from_port_20
        && config.ftp_data_port < u32::from(active::FIRST_UNRESERVED_PORT)
    {
        capabilities.push(Capability::NetBindService);
    }
    if config.chown_uploads && login.has_anonymous_rights() {
        capabilities.push(Capability::Chown);
    }
    AfterLogin { capabilities }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Layout, Settings};

    fn config() -> Config {
        Settings::defaults(Layout::Upstream).config
    }

    fn anon() -> Login {
        Login::Anonymous {
            password: Password::new(b"a@b".to_vec()),
        }
    }

    #[test]
    fn logins_are_decided_here() {
        let mut c = config();
        c.anonymous_enable = true;
        let pw = |p: &[u8]| Password::new(p.to_vec());
        let ok = |c: &Config, u: &[u8], p: Password| {
            let ctx = LoginContext {
                config: c,
                peer: "127.0.0.1".parse().unwrap(),
            };
            decide_login(&ctx, u, p).is_ok()
        };
        assert!(ok(&c, b"anonymous", pw(b"a@b")));
        assert!(ok(&c, b"FTP", pw(b"")));
        assert!(!ok(&c, b"joe", pw(b"secret")));
        assert!(!ok(&c, b"anon\x01ymous", pw(b"x")));
        assert!(!ok(&c, b"anonymous", pw(b"a\0b")));
        let long = vec![b'p'; limits::MAX_PASSWORD + 1];
        assert!(!ok(&c, b"anonymous", Password::new(long)));
        assert!(!ok(&c, &[b'u'; limits::MAX_USERNAME + 1], pw(b"x")));
        c.userlist_enable = true;
        c.userlist_file = Some("/nonexistent/user_list".into());
        assert!(
            !ok(&c, b"anonymous", pw(b"a@b")),
            "an unreadable user list lets nobody in"
        );
        c.userlist_enable = false;
        c.anonymous_enable = false;
        assert!(!ok(&c, b"anonymous", pw(b"a@b")));
    }

    use crate::data::active::tests::policy as active_policy;

    #[test]
    fn only_the_control_peer_and_unreserved_ports() {
        let allows = |p: &ActivePolicy, t: &str| port_target_allowed(p, t.parse().unwrap());
        let p = active_policy("127.0.0.1", false);
        assert!(allows(&p, "127.0.0.1:1024"));
        assert!(allows(&p, "127.0.0.1:65535"));
        assert!(allows(&p, "[::ffff:127.0.0.1]:2000"));
        assert!(!allows(&p, "127.0.0.1:1023"));
        assert!(!allows(&p, "127.0.0.1:20"));
        assert!(!allows(&p, "127.0.0.2:2000"));
        assert!(!allows(&p, "[::1]:2000"));
        let mapped = active_policy("::ffff:127.0.0.1", false);
        assert!(allows(&mapped, "127.0.0.1:2000"));
        let v6 = active_policy("::1", false);
        assert!(allows(&v6, "[::1]:2000"));
        assert!(!allows(&v6, "127.0.0.1:2000"));
        let any = active_policy("127.0.0.1", true);
        assert!(allows(&any, "10.9.8.7:21"));
    }

    #[test]
    fn connects_only_where_allowed() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = l.local_addr().unwrap();
        let p = active_policy("127.0.0.1", false);
        let s = connect_port(&p, target).unwrap();
        let (_, from) = l.accept().unwrap();
        assert_eq!(s.local_addr().unwrap(), from);
        assert!(matches!(
            connect_port(&p, "127.0.0.2:4000".parse().unwrap()),
            Err(ConnectError::NotAllowed)
        ));
    }

    #[test]
    fn passive_peers() {
        let c = config();
        let mut p = PassivePolicy::from_config(
            &c,
            "127.0.0.1".parse().unwrap(),
            "127.0.0.1".parse().unwrap(),
        );
        assert!(pasv_peer_allowed(&p, "127.0.0.1".parse().unwrap()));
        assert!(pasv_peer_allowed(&p, "::ffff:127.0.0.1".parse().unwrap()));
        assert!(!pasv_peer_allowed(&p, "127.0.0.2".parse().unwrap()));
        p.promiscuous = true;
        assert!(pasv_peer_allowed(&p, "127.0.0.2".parse().unwrap()));
    }

    #[test]
    fn least_privilege_after_login() {
        let mut c = config();
        assert_eq!(after_login(&c, &anon()).capabilities, vec![]);
        c.connect_from_port_20 = true;
        assert_eq!(
            after_login(&c, &anon()).capabilities,
            vec![Capability::NetBindService]
        );
        c.ftp_data_port = 2020;
        assert_eq!(after_login(&c, &anon()).capabilities, vec![]);
        c.ftp_data_port = 20;
        c.port_enable = false;
        assert_eq!(after_login(&c, &anon()).capabilities, vec![]);
        c.port_enable = true;
        c.chown_uploads = true;
        assert_eq!(
            after_login(&c, &anon()).capabilities,
            vec![Capability::NetBindService, Capability::Chown]
        );
    }
}

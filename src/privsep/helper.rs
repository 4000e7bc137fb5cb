//! The privileged half of a session: it forks the unprivileged protocol processes, decides
//! logins and makes the sockets they may not make, and after login keeps only what those
//! duties need. It never parses FTP: it reads typed requests from its child, checks each one
//! again (`super::privops`), and acts only then. Anything unexpected — a malformed or
//! out-of-phase message, a message carrying fds, a request the configuration does not allow —
//! ends the session (vsftpd's twoprocess.c and postprivparent.c, in spirit).
//!
//! ```text
//! helper (root until login; then nopriv_user, chrooted, the capabilities its duties need)
//!   |-- pre-login process (jail::children): reads commands, asks the helper to log in
//!   `-- post-login process (jail::children): serves the session, asks for data sockets
//! ```
//!
//! The serve loops take a channel and return, so tests drive them in-process with a fake child.

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

use super::channel::{Channel, ChannelError};
use super::msg::PreLoginRequest;
use super::msg::{Failure, PostLoginReply, PostLoginRequest, PostLoginStart, PreLoginReply};
use super::privops::{self, AfterLogin, Refusal};
use crate::auth::Login;
use crate::config::Settings;
use crate::data::active::ConnectError;
use crate::data::passive::{AcceptError, PassivePolicy};
use crate::jail::children::{self, send_oops};
use crate::jail::{self, Confinement, Phase, Placement, Prepared};
use crate::log::{self, SessionLog};
use crate::sys::creds;
use crate::sys::pam::Pam;
use crate::sys::process::{self, Fork};
use crate::sys::signal;

/// How a helper loop ended.
#[derive(Debug)]
pub enum Ended {
    /// The child closed its end: the session is over.
    Closed,
    /// The child broke the protocol; the session must end now.
    Violation(String),
}

fn ended(e: ChannelError) -> Ended {
    match e {
        ChannelError::Closed => Ended::Closed,
        other => Ended::Violation(other.to_string()),
    }
}

/// One session's fixed facts.
struct Session<'a> {
    settings: &'a Settings,
    prepared: &'a Prepared,
    local: IpAddr,
    /// The client (behind a balancer: from its PROXY header).
    peer: SocketAddr,
    clients: u32,
    log: &'a SessionLog,
}

/// Runs one session in the two-process model; this process becomes its helper.
pub fn run(
    settings: &Settings,
    prepared: &Prepared,
    stream: TcpStream,
    client: SocketAddr,
    clients: u32,
    log: &SessionLog,
) -> i32 {
    let c = &settings.config;
    let nopriv = match prepared.nopriv(c) {
        Ok(a) => a,
        Err(msg) => return send_oops(&stream, &msg),
    };
    let secure_dir = jail::secure_chroot_dir(c);
    if !secure_dir.is_dir() {
        return send_oops(
            &stream,
            &format!(
                "vsftpd: not found: directory given in 'secure_chroot_dir':{}",
                secure_dir.display()
            ),
        );
    }
    // The client's address is `client`: behind a balancer, not the connection's peer.
    let (local, peer) = match stream.local_addr() {
        Ok(l) => (l, client),
        _ => return 0,
    };
    let (helper_ch, child_ch) = match Channel::pair() {
        Ok(p) => p,
        Err(e) => return send_oops(&stream, &format!("socketpair: {e}")),
    };
    // FTPS: the pre-login process stays on as the relay of an encrypted control connection
    // (crate::tls::relay); the post-login process then talks to it over this pair.
    let (relay_pre, relay_post) = match c.ssl_enable.then(UnixStream::pair).transpose() {
        Ok(pair) => pair.unzip(),
        Err(e) => return send_oops(&stream, &format!("socketpair: {e}")),
    };
    let pre = Confinement {
        root: secure_dir,
        account: &nopriv,
        groups: &[],
        phase: Phase::PreLogin,
        refuse_writable_root: false,
    };
    let pre_pid = match process::fork() {
        Ok(Fork::Child) => {
            drop(helper_ch);
            drop(relay_post);
            process::exit_now(children::prelogin_process(
                settings,
                prepared,
                (stream, peer),
                &child_ch,
                &pre,
                log.clone(),
                relay_pre,
            ));
        }
        Ok(Fork::Parent(pid)) => pid,
        Err(e) => {
            log::report(&format!("session helper: fork failed: {e}"));
            return send_oops(&stream, &format!("fork: {e}"));
        }
    };
    drop(child_ch);
    drop(relay_pre);
    let relay = relay_post.is_some();
    let session = Session {
        settings,
        prepared,
        local: local.ip(),
        peer,
        clients,
        log,
    };
    // Where every login is anonymous the post-login identity and root are known now: that
    // process is started (and confines itself) while the client logs in, and waits.
    let (stream, early) = if c.anonymous_enable && !c.local_enable {
        match fork_postlogin(&session, stream, None, relay_post.as_ref()) {
            (stream, Ok(child)) => (stream, Some(child)),
            (stream, Err(_)) => (stream, None),
        }
    } else {
        (stream, None)
    };
    let accepted = match serve_prelogin(settings, peer.ip(), &helper_ch, log) {
        Ok(accepted) => accepted,
        Err(end) => {
            if let Some((pid, _, _)) = early {
                kill_and_reap(pid);
            }
            finish_child(pre_pid, &end);
            return i32::from(matches!(end, Ended::Violation(_)));
        }
    };
    // The pre-login process has nothing left to do; it must not linger beside the next one.
    // It is reaped once the post-login process runs: its exit (tearing down its address
    // space) need not delay the client's 230.
    if !relay {
        let _ = process::kill(pre_pid, signal::SIGKILL);
    }
    drop(helper_ch);
    let Accepted {
        login,
        pam,
        placement,
        settings: own_settings,
    } = accepted;
    // From here on, the login's own settings (user_config_dir), for both processes.
    let settings = own_settings.as_ref().unwrap_or(settings);
    let session = Session {
        settings,
        ..session
    };
    let keep = privops::after_login(&settings.config, &login);
    let anonymous_rights = login.has_anonymous_rights();
    let (pid, ch, child_uid) = match (early, login) {
        (Some((pid, ch, uid)), Login::Anonymous { password }) => {
            if ch
                .send(&PostLoginStart::Anonymous { password }, &[])
                .is_err()
            {
                // It died before the login: nothing was said to the client on its behalf.
                let _ = process::wait_child(pid);
                kill_and_reap(pre_pid);
                return 1;
            }
            (pid, ch, uid)
        }
        (early, login) => {
            if let Some((pid, _, _)) = early {
                // Only anonymous logins are served early; anything else gets its own.
                kill_and_reap(pid);
            }
            match fork_postlogin(
                &session,
                stream,
                Some((login, placement)),
                relay_post.as_ref(),
            ) {
                (_, Ok(child)) => child,
                (stream, Err(msg)) => {
                    kill_and_reap(pre_pid);
                    return send_oops(&stream, &msg);
                }
            }
        }
    };
    // Only the post-login process may hold it: the relay ends when that process does, and
    // is reaped after it (it still forwards the last reply).
    drop(relay_post);
    if !relay {
        let _ = process::wait_child(pre_pid);
    }
    let pid = (pid, relay.then_some(pre_pid));
    // Looked up now, while NSS still works (the helper is jailed after the drop).
    let chown = jail::chown_target(settings, anonymous_rights, child_uid);
    if pam.is_some() {
        // A PAM session is open (session_support, a local login): only root can close it
        // (its modules may write utmp and wtmp), so root stays, as in vsftpd.
        let code = serve_after_login(&session, pid, &ch, chown.as_ref());
        if let Some(mut pam) = pam {
            let _ = pam.close_session();
            let _ = pam.delete_cred();
        }
        return code;
    }
    drop(pam);
    if let Err(why) = drop_privileges(settings, &nopriv, child_uid, &keep) {
        // Serving on with more privilege than the session needs is not an option.
        log::report(&format!(
            "session helper: cannot drop privileges after login: {why}"
        ));
        kill_and_reap(pid.0);
        return 1;
    }
    serve_after_login(&session, pid, &ch, chown.as_ref())
}

/// Forks the post-login process, for `login`, or (`None`) to wait, confined, until the helper
/// sends it the login ([`PostLoginStart`]). Gives the stream back to the caller (the child has
/// its own copy), and the child's pid, channel and uid, or the `500 OOPS:` text.
fn fork_postlogin(
    s: &Session<'_>,
    stream: TcpStream,
    login: Option<(Login, Option<Placement>)>,
    relay: Option<&UnixStream>,
) -> (TcpStream, Result<(i32, Channel, u32), String>) {
    let c = &s.settings.config;
    let (login, placed) = match login {
        Some((login, Some(placed))) => (Some(login), Ok(placed)),
        Some((login, None)) => {
            let placed = Placement::for_login(c, s.prepared, &login, true);
            (Some(login), placed)
        }
        // Started early only where every login is anonymous.
        None => (None, Placement::anonymous(c, s.prepared, true)),
    };
    let placed = match placed {
        Ok(p) => p,
        Err(msg) => return (stream, Err(msg)),
    };
    let Some(account) = placed.account.clone() else {
        return (stream, Err("no account for the session".into()));
    };
    let (helper_ch, child_ch) = match Channel::pair() {
        Ok(p) => p,
        Err(e) => return (stream, Err(format!("socketpair: {e}"))),
    };
    let post = Confinement {
        root: &placed.root,
        account: &account,
        groups: &placed.groups,
        phase: Phase::PostLogin,
        refuse_writable_root: placed.jailed && !c.allow_writeable_chroot,
    };
    match process::fork() {
        Ok(Fork::Child) => {
            drop(helper_ch);
            process::exit_now(children::postlogin_process(
                s.settings,
                s.prepared,
                s.clients,
                (stream, relay.and_then(|r| r.try_clone().ok())),
                s.peer,
                login,
                &placed.cwd,
                child_ch,
                &post,
                s.log.clone(),
            ));
        }
        Ok(Fork::Parent(pid)) => (stream, Ok((pid, helper_ch, account.uid))),
        Err(e) => {
            log::report(&format!("session helper: fork failed: {e}"));
            (stream, Err(format!("fork: {e}")))
        }
    }
}

/// After login the helper keeps only what its remaining duties need: it becomes nopriv_user,
/// chrooted to secure_chroot_dir (it opens no file again), with the capabilities `keep`
/// names and no other, and not dumpable (a process of the same uid can neither ptrace it nor
/// read its memory). vsftpd's parent does the same after login.
///
/// One difference: its real uid becomes its child's (`child_uid`). The kernel lets a process
/// signal another only when their real or effective uids meet, and a dying parent's
/// parent-death signal is checked the same way: without it the post-login process would
/// outlive a helper that was killed, and a helper that caught its child breaking the protocol
/// could not end it. It gives nothing else: the helper could only become a user its child
/// already is, and its child cannot ptrace it (not dumpable) nor signal anyone (seccomp).
fn drop_privileges(
    settings: &Settings,
    nopriv: &creds::Account,
    child_uid: u32,
    keep: &AfterLogin,
) -> Result<(), String> {
    creds::drop_bounding_set().map_err(|e| format!("bounding set: {e}"))?;
    let dir = jail::secure_chroot_dir(&settings.config);
    creds::chroot(dir).map_err(|e| format!("chroot {}: {e}", dir.display()))?;
    creds::become_user_keeping(child_uid, nopriv.uid, nopriv.gid, &keep.capabilities)
        .map_err(|e| format!("switch to {}: {e}", nopriv.name))?;
    creds::set_not_dumpable().map_err(|e| format!("PR_SET_DUMPABLE: {e}"))?;
    Ok(())
}

/// Ends a child that must not run on, and reaps it.
fn kill_and_reap(pid: i32) {
    let _ = process::kill(pid, signal::SIGKILL);
    let _ = process::wait_child(pid);
}

/// Reaps a child, killing it first if it broke the protocol.
fn finish_child(pid: i32, end: &Ended) {
    if let Ended::Violation(why) = end {
        log::report(&format!(
            "privilege separation: ending the session: protocol violation from pid {pid}: {why}"
        ));
        if process::kill(pid, signal::SIGKILL).is_err() {
            // Not ours to signal: it dies with this process (its parent-death signal).
            return;
        }
    }
    let _ = process::wait_child(pid);
}

/// The helper's part after login: the post-login process's requests, until it ends.
fn serve_after_login(
    s: &Session<'_>,
    (pid, relay): (i32, Option<i32>),
    ch: &Channel,
    chown: Option<&privops::ChownUpload>,
) -> i32 {
    let policy = PassivePolicy::from_config(&s.settings.config, s.local, s.peer.ip());
    let code = match serve_postlogin(s.settings, &policy, chown, ch) {
        Ok(()) => {
            let _ = process::wait_child(pid);
            0
        }
        Err(e) => {
            finish_child(pid, &e);
            1
        }
    };
    if let Some(relay) = relay {
        let _ = process::wait_child(relay);
    }
    code
}

/// What the pre-login phase ends with: the login, the PAM handle to keep (session_support)
/// and, for a local login, where it was placed (checked reachable by the user).
pub struct Accepted {
    pub login: Login,
    pub pam: Option<Pam>,
    pub placement: Option<Placement>,
    /// The login's own settings, when user_config_dir has a file for it.
    pub settings: Option<Settings>,
}

/// Before login: answers the child's questions about user names and logins until a login
/// succeeds (`Ok`) or the child goes away. Every refusal waits delay_failed_login first, every
/// success delay_successful_login, here on the privileged side where the child cannot skip
/// them; after max_login_fails refusals the session ends, whatever the child counts.
pub fn serve_prelogin(
    settings: &Settings,
    peer: IpAddr,
    ch: &Channel,
    log: &SessionLog,
) -> Result<Accepted, Ended> {
    let c = &settings.config;
    let ctx = privops::LoginContext { config: c, peer };
    let mut fails = 0u32;
    loop {
        let (req, _fds) = ch.recv::<PreLoginRequest>().map_err(ended)?;
        let (refusal, user) = match req {
            PreLoginRequest::CheckUser { user } => {
                if privops::userlist_allows(c, user.as_bytes()) {
                    ch.send(&PreLoginReply::UserOk, &[]).map_err(ended)?;
                    continue;
                }
                (Refusal::UserList, user)
            }
            PreLoginRequest::Login { user, password } => {
                match accept(settings, &ctx, user.as_bytes(), password) {
                    Ok(accepted) => {
                        let (name, _, anon_password) = accepted.login.log_identity(c);
                        log.login(true, name, anon_password, b"");
                        privops::login_delay(c.delay_successful_login);
                        ch.send(&PreLoginReply::LoginOk, &[]).map_err(ended)?;
                        return Ok(accepted);
                    }
                    Err(refusal) => (refusal, user),
                }
            }
        };
        crate::session::prelogin::log_refusal(c, log, user.as_bytes(), &refusal);
        privops::login_delay(c.delay_failed_login);
        let reply = match refusal {
            Refusal::UserList => PreLoginReply::UserDenied,
            _ => PreLoginReply::LoginFailed,
        };
        ch.send(&reply, &[]).map_err(ended)?;
        fails = fails.saturating_add(1);
        if fails >= c.max_login_fails.max(1) {
            return Err(Ended::Closed);
        }
    }
}

/// A login decision, and for a local login its placement, checked as the user (the
/// one-process model asks it too).
pub fn accept(
    settings: &Settings,
    ctx: &privops::LoginContext<'_>,
    user: &[u8],
    password: crate::proto::Password,
) -> Result<Accepted, Refusal> {
    let granted = privops::decide_login(ctx, user, password)?;
    let own_settings = match (&granted.login, settings.config.user_config_dir.as_deref()) {
        (Login::Anonymous { .. }, _) | (_, None) => None,
        (login, Some(dir)) => Some(settings.for_user(dir, login.user_name()).map_err(|e| {
            Refusal::Unavailable(format!("{}: per-user settings: {e}", login.user_name()))
        })?),
    };
    let settings = own_settings.as_ref().unwrap_or(settings);
    let placement = match &granted.login {
        Login::Anonymous { .. } => None,
        login => {
            let c = &settings.config;
            let placed = match login {
                Login::Guest {
                    name,
                    account,
                    groups,
                    ..
                } => Placement::guest(c, name, account, groups),
                Login::Local { account, groups } => Placement::local(c, account, groups),
                Login::Anonymous { .. } => Err("not a local login".into()),
            };
            let why = |e: String| Refusal::Unavailable(format!("{}: {e}", login.user_name()));
            let placed = placed.map_err(why)?;
            placed.check_reachable().map_err(why)?;
            Some(placed)
        }
    };
    Ok(Accepted {
        login: granted.login,
        pam: granted.pam,
        placement,
        settings: own_settings,
    })
}

/// After login: makes the sockets the confined child may not make itself, and with
/// chown_uploads gives its uploads away, until it goes away.
pub fn serve_postlogin(
    settings: &Settings,
    policy: &PassivePolicy,
    chown: Option<&privops::ChownUpload>,
    ch: &Channel,
) -> Result<(), Ended> {
    let mut listener: Option<TcpListener> = None;
    loop {
        let (req, fds) = match ch.recv::<PostLoginRequest>() {
            Ok(x) => x,
            Err(ChannelError::Closed) => return Ok(()),
            Err(e) => return Err(ended(e)),
        };
        let reply = match req {
            PostLoginRequest::ChownUpload => {
                let done = match (chown, fds.first()) {
                    (Some(how), Some(fd)) => privops::chown_upload(how, fd.as_fd()).is_ok(),
                    _ => false,
                };
                let r = if done {
                    PostLoginReply::Done
                } else {
                    PostLoginReply::Failed(Failure::NotAllowed)
                };
                ch.send(&r, &[]).map_err(ended)?;
                continue;
            }
            PostLoginRequest::PasvListen => {
                listener = None;
                if !settings.config.pasv_enable {
                    Err(Failure::NotAllowed)
                } else {
                    match privops::listen_pasv(policy)
                        .and_then(|l| l.local_addr().map(|a| (l, a.port())))
                    {
                        Ok((l, port)) => {
                            listener = Some(l);
                            ch.send(&PostLoginReply::PasvListening { port }, &[])
                                .map_err(ended)?;
                            continue;
                        }
                        Err(_) => Err(Failure::BindFailed),
                    }
                }
            }
            PostLoginRequest::PasvAccept => match listener.take() {
                None => Err(Failure::NotAllowed),
                Some(l) => privops::accept_pasv(&l, policy).map_err(|e| match e {
                    AcceptError::BadIp => Failure::BadPeerAddress,
                    AcceptError::Timeout | AcceptError::NotListening | AcceptError::Io(_) => {
                        Failure::AcceptTimeout
                    }
                }),
            },
            PostLoginRequest::PortConnect { addr } => {
                listener = None;
                if !settings.config.port_enable {
                    Err(Failure::NotAllowed)
                } else {
                    privops::connect_port(&policy.active, addr).map_err(|e| match e {
                        ConnectError::NotAllowed => Failure::NotAllowed,
                        ConnectError::Timeout | ConnectError::Io(_) => Failure::ConnectFailed,
                    })
                }
            }
        };
        send_socket(ch, reply)?;
    }
}

/// Sends a data socket, or why there is none.
fn send_socket(ch: &Channel, reply: Result<TcpStream, Failure>) -> Result<(), Ended> {
    match reply {
        Ok(stream) => ch.send(&PostLoginReply::DataSocket, &[stream.as_fd()]),
        Err(why) => ch.send(&PostLoginReply::Failed(why), &[]),
    }
    .map_err(ended)
}

//! The two-process model, per connection (DESIGN.md "Processes"):
//!
//! ```text
//! session helper (this process, root)   -- decides logins, makes data sockets, never parses FTP
//!   |-- pre-login process: nopriv_user, chrooted to secure_chroot_dir, no capabilities,
//!   |   no_new_privs, seccomp; reads the client's commands and asks the helper to log in
//!   `-- post-login process (after a login): ftp_username, chrooted to the anonymous root, no
//!       capabilities, no_new_privs, cannot fork, dies with the helper, seccomp (no socket(2))
//! ```
//!
//! The helper keeps the control connection only until the post-login process has it, so the
//! client sees the connection close when the protocol process ends.

use std::net::TcpStream;
use std::path::{Path, PathBuf};

use super::channel::Channel;
use super::client::{HelperAuth, HelperPassive};
use super::helper::{self, Ended};
use super::msg::{PostLoginStart, Secret};
use crate::auth::Login;
use crate::config::Settings;
use crate::daemon::say;
use crate::data::passive::PassivePolicy;
use crate::proto::reply;
use crate::session::control::Control;
use crate::session::{postlogin, prelogin};
use crate::sys::creds::{self, Account};
use crate::sys::process::{self, Fork};
use crate::sys::{fs, seccomp, signal};

/// Where a confined process goes, who it becomes and which system calls it keeps.
struct Confinement<'a> {
    root: &'a Path,
    account: &'a Account,
    can_fork: bool,
    phase: Phase,
}

#[derive(Clone, Copy)]
enum Phase {
    PreLogin,
    PostLogin,
}

/// What every session of one configuration needs that does not depend on the client,
/// worked out before the fork: by the listener at start-up and on each reload (inetd mode:
/// once, for its one session). Done per session, looking up two accounts through NSS, loading
/// the time zone twice, compiling the seccomp program twice and emptying the bounding set
/// twice made up about half of a session's system calls (docs/PERFORMANCE.md).
pub struct Prepared {
    /// nopriv_user and ftp_username; `None` when the lookup failed, so that each session
    /// looks again and fails with vsftpd's OOPS if the account is still missing.
    nopriv: Option<Account>,
    ftp: Option<Account>,
    /// The two seccomp filters, when seccomp_sandbox is on and they compiled.
    pre_filter: Option<seccomp::Compiled>,
    post_filter: Option<seccomp::Compiled>,
}

impl Prepared {
    pub fn new(settings: &Settings) -> Prepared {
        let c = &settings.config;
        // Before any chroot, and inherited by every fork (see sys::time).
        crate::sys::time::init_local_time();
        if process::geteuid() == 0 && !c.run_as_launching_user {
            // The daemon never executes a program, so the listener needs no bounding set
            // either; a failure here is reported by the session that retries it in `confine`.
            let _ = creds::drop_bounding_set();
        }
        let lookup = |name: &str| creds::lookup_user(name).ok().flatten();
        Prepared {
            nopriv: lookup(nopriv_name(settings)),
            ftp: lookup(ftp_name(settings)),
            pre_filter: c
                .seccomp_sandbox
                .then(|| seccomp::pre_login_filter().compile().ok())
                .flatten(),
            post_filter: c
                .seccomp_sandbox
                .then(|| seccomp::post_login_filter().compile().ok())
                .flatten(),
        }
    }

    fn account(cached: &Option<Account>, name: &str) -> Option<Account> {
        match cached {
            Some(a) if a.name == name => Some(a.clone()),
            _ => creds::lookup_user(name).ok().flatten(),
        }
    }
}

fn nopriv_name(settings: &Settings) -> &str {
    settings.config.nopriv_user.as_deref().unwrap_or("nobody")
}

fn ftp_name(settings: &Settings) -> &str {
    settings.config.ftp_username.as_deref().unwrap_or("ftp")
}

/// Runs one session in the two-process model; this process becomes its helper.
pub fn run(settings: &Settings, prepared: &Prepared, stream: TcpStream, clients: u32) -> i32 {
    let c = &settings.config;
    let nopriv_name = nopriv_name(settings);
    let Some(nopriv) = Prepared::account(&prepared.nopriv, nopriv_name) else {
        return send_oops(
            &stream,
            &format!("cannot locate user specified in 'nopriv_user':{nopriv_name}"),
        );
    };
    let secure_dir = PathBuf::from(c.secure_chroot_dir.as_deref().unwrap_or("/usr/share/empty"));
    if !secure_dir.is_dir() {
        return send_oops(
            &stream,
            &format!(
                "vsftpd: not found: directory given in 'secure_chroot_dir':{}",
                secure_dir.display()
            ),
        );
    }
    let (local, peer) = match (stream.local_addr(), stream.peer_addr()) {
        (Ok(l), Ok(p)) => (l, p),
        _ => return 0,
    };
    let (helper_ch, child_ch) = match Channel::pair() {
        Ok(p) => p,
        Err(e) => return send_oops(&stream, &format!("socketpair: {e}")),
    };
    let pre = Confinement {
        root: &secure_dir,
        account: &nopriv,
        can_fork: false,
        phase: Phase::PreLogin,
    };
    let pre_pid = match process::fork() {
        Ok(Fork::Child) => {
            drop(helper_ch);
            process::exit_now(prelogin_process(
                settings, prepared, stream, &child_ch, &pre,
            ));
        }
        Ok(Fork::Parent(pid)) => pid,
        Err(e) => return send_oops(&stream, &format!("fork: {e}")),
    };
    drop(child_ch);
    let session = Session {
        settings,
        prepared,
        local: local.ip(),
        peer: peer.ip(),
        clients,
    };
    // Where every login is anonymous the post-login identity and root are known now: that
    // process is started (and confines itself) while the client logs in, and waits.
    let (stream, early) = if c.anonymous_enable && !c.local_enable {
        match fork_postlogin(&session, stream, None) {
            (stream, Ok(child)) => (stream, Some(child)),
            (stream, Err(_)) => (stream, None),
        }
    } else {
        (stream, None)
    };
    let login = match helper::serve_prelogin(settings, &helper_ch) {
        Ok(login) => login,
        Err(end) => {
            if let Some((pid, _)) = early {
                let _ = process::kill(pid, signal::SIGKILL);
                let _ = process::wait_child(pid);
            }
            finish_child(pre_pid, &end);
            return i32::from(matches!(end, Ended::Violation(_)));
        }
    };
    // The pre-login process has nothing left to do; it must not linger beside the next one.
    // It is reaped once the post-login process runs: its exit (tearing down its address
    // space) need not delay the client's 230.
    let _ = process::kill(pre_pid, signal::SIGKILL);
    drop(helper_ch);
    let reap_pre = || {
        let _ = process::wait_child(pre_pid);
    };
    let Some((pid, ch)) = early else {
        let code = start_postlogin(&session, stream, login, &reap_pre);
        return code;
    };
    let Login::Anonymous { password } = login;
    let start = Secret::new(password).map(|password| PostLoginStart::Anonymous { password });
    let Ok(start) = start else {
        // Cannot happen (the password came through a Secret), but must not be served blind.
        let _ = process::kill(pid, signal::SIGKILL);
        let _ = process::wait_child(pid);
        reap_pre();
        return send_oops(&stream, "internal error: password");
    };
    if ch.send(&start, &[]).is_err() {
        // It died before the login: nothing was said to the client on its behalf.
        let _ = process::wait_child(pid);
        reap_pre();
        return 1;
    }
    drop(stream);
    reap_pre();
    serve_postlogin(&session, pid, &ch)
}

/// One session's fixed facts, for the post-login half.
struct Session<'a> {
    settings: &'a Settings,
    prepared: &'a Prepared,
    local: std::net::IpAddr,
    peer: std::net::IpAddr,
    clients: u32,
}

/// vsftpd's way to die in front of the client: `500 OOPS: <why>`, then the session ends.
fn send_oops(stream: &TcpStream, msg: &str) -> i32 {
    use std::io::Write;
    let mut s = stream;
    let _ = s.write_all(&reply::oops(msg.as_bytes()));
    1
}

fn finish_child(pid: i32, end: &Ended) {
    if let Ended::Violation(why) = end {
        say(&format!(
            "privilege separation: ending the session: protocol violation from pid {pid}: {why}"
        ));
        let _ = process::kill(pid, signal::SIGKILL);
    }
    let _ = process::wait_child(pid);
}

/// Starts the post-login process for `login` and serves it; `reap_pre` reaps the killed
/// pre-login process once the fork is done.
fn start_postlogin(s: &Session<'_>, stream: TcpStream, login: Login, reap_pre: &dyn Fn()) -> i32 {
    let (stream, child) = fork_postlogin(s, stream, Some(login));
    reap_pre();
    match child {
        Ok((pid, ch)) => {
            drop(stream);
            serve_postlogin(s, pid, &ch)
        }
        Err(msg) => send_oops(&stream, &msg),
    }
}

/// Forks the post-login process, for `login`, or (`None`) to wait, confined, until the helper
/// sends it the login ([`PostLoginStart`]). Gives the stream back to the caller, and the child's
/// pid and channel, or the `500 OOPS:` text.
fn fork_postlogin(
    s: &Session<'_>,
    stream: TcpStream,
    login: Option<Login>,
) -> (TcpStream, Result<(i32, Channel), String>) {
    let settings = s.settings;
    let ftp_name = ftp_name(settings);
    let Some(account) = Prepared::account(&s.prepared.ftp, ftp_name) else {
        let msg = format!("cannot locate user specified in 'ftp_username':{ftp_name}");
        return (stream, Err(msg));
    };
    let root = settings
        .config
        .anon_root
        .as_deref()
        .map(PathBuf::from)
        .unwrap_or_else(|| account.home.clone());
    let (helper_ch, child_ch) = match Channel::pair() {
        Ok(p) => p,
        Err(e) => return (stream, Err(format!("socketpair: {e}"))),
    };
    let post = Confinement {
        root: &root,
        account: &account,
        can_fork: false,
        phase: Phase::PostLogin,
    };
    match process::fork() {
        Ok(Fork::Child) => {
            drop(helper_ch);
            process::exit_now(postlogin_process(s, stream, login, child_ch, &post));
        }
        Ok(Fork::Parent(pid)) => (stream, Ok((pid, helper_ch))),
        Err(e) => (stream, Err(format!("fork: {e}"))),
    }
}

/// The helper's part after login: the post-login process's requests, until it ends.
fn serve_postlogin(s: &Session<'_>, pid: i32, ch: &Channel) -> i32 {
    let policy = PassivePolicy::from_config(&s.settings.config, s.local, s.peer);
    match helper::serve_postlogin(s.settings, &policy, ch) {
        Ok(()) => {
            let _ = process::wait_child(pid);
            0
        }
        Err(e) => {
            finish_child(pid, &e);
            1
        }
    }
}

/// Chroot, drop every capability and privilege, and (with seccomp_sandbox) load the filter.
fn confine(settings: &Settings, prepared: &Prepared, how: &Confinement<'_>) -> Result<(), String> {
    // Done already when the listener prepared (then this returns at once), but a process
    // must never depend on that for its confinement.
    crate::sys::time::init_local_time();
    process::set_parent_death_signal(signal::SIGKILL)
        .map_err(|e| format!("prctl PR_SET_PDEATHSIG: {e}"))?;
    creds::chroot(how.root)
        .map_err(|_| format!("cannot change directory:{}", how.root.display()))?;
    creds::drop_bounding_set().map_err(|e| format!("cannot drop capabilities: {e}"))?;
    creds::become_user(how.account.uid, how.account.gid)
        .map_err(|e| format!("cannot switch to user {}: {e}", how.account.name))?;
    if !how.can_fork {
        creds::forbid_fork().map_err(|e| format!("setrlimit RLIMIT_NPROC: {e}"))?;
    }
    process::set_no_new_privs().map_err(|e| format!("prctl PR_SET_NO_NEW_PRIVS: {e}"))?;
    if settings.config.seccomp_sandbox {
        let (compiled, filter): (_, fn() -> seccomp::Filter) = match how.phase {
            Phase::PreLogin => (&prepared.pre_filter, seccomp::pre_login_filter),
            Phase::PostLogin => (&prepared.post_filter, seccomp::post_login_filter),
        };
        match compiled {
            Some(compiled) => compiled.install(),
            None => filter().install(),
        }
        .map_err(|e| format!("seccomp filter: {e}"))?;
    }
    Ok(())
}

fn prelogin_process(
    settings: &Settings,
    prepared: &Prepared,
    stream: TcpStream,
    ch: &Channel,
    how: &Confinement<'_>,
) -> i32 {
    let banner = match crate::session::prelogin::session_files(settings) {
        Ok(banner) => banner,
        Err(msg) => return send_oops(&stream, &msg),
    };
    if let Err(msg) = confine(settings, prepared, how) {
        return send_oops(&stream, &msg);
    }
    let mut ctrl = match Control::new(stream) {
        Ok(c) => c,
        Err(_) => return 0,
    };
    // Read no byte past the end of each line: what follows a successful PASS belongs to the
    // post-login process, which reads the same connection.
    ctrl.set_exact_reads(true);
    ctrl.set_idle_timeout(settings.config.idle_session_timeout);
    if crate::session::greet(settings, &mut ctrl, banner.as_deref()).is_err() {
        return 0;
    }
    let mut auth = HelperAuth { channel: ch };
    match prelogin::run(settings, &mut ctrl, &mut auth) {
        Ok(_) => 0,
        Err(_) => {
            ctrl.shutdown();
            0
        }
    }
}

fn postlogin_process(
    s: &Session<'_>,
    stream: TcpStream,
    login: Option<Login>,
    ch: Channel,
    how: &Confinement<'_>,
) -> i32 {
    let settings = s.settings;
    let confined = confine(settings, s.prepared, how);
    // Started before the login: nothing goes to the client until the helper says who logged
    // in; a failure to confine is reported then, where the client expects the 230.
    let login = match login {
        Some(login) => login,
        None => match ch.recv::<PostLoginStart>() {
            Ok((PostLoginStart::Anonymous { password }, _)) => Login::Anonymous {
                password: password.expose().to_vec(),
            },
            Err(_) => return 0,
        },
    };
    if let Err(msg) = confined {
        return send_oops(&stream, &msg);
    }
    process::keep_freed_memory(crate::limits::KEPT_FREE_MEMORY);
    let root = match fs::open_dir(Path::new("/")) {
        Ok(r) => r,
        Err(e) => {
            return send_oops(&stream, &format!("open root: {e}"));
        }
    };
    let ctrl = match Control::new(stream) {
        Ok(c) => c,
        Err(_) => return 0,
    };
    ctrl.set_idle_timeout(settings.config.idle_session_timeout);
    let passive = Box::new(HelperPassive::new(ch));
    let mut session = postlogin::Session::new(settings, ctrl, root, login, passive);
    session.set_client_count(s.clients);
    if session.login_reply().is_err() {
        return 0;
    }
    session.run();
    0
}

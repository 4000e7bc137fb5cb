//! How an unprivileged session process starts: who it becomes, where it is jailed, and what it
//! keeps (DESIGN.md "Processes"). This is the children's side of the privileged wall: the
//! helper (`privsep`) forks them, and each confines itself here before it reads a byte from
//! the client. The one-process model (run_as_launching_user) takes its root from here too, so
//! both models place a login the same way.
//!
//! ```text
//! pre-login process    nopriv_user, chrooted to secure_chroot_dir
//! post-login process   ftp_username, chrooted to anon_root or that account's home
//! both                 no capabilities, empty bounding set, no_new_privs, cannot fork,
//!                      killed with the helper, seccomp (after login: no socket(2))
//! ```
#![forbid(unsafe_code)]

pub mod children;
pub mod client;

use std::path::{Path, PathBuf};

use crate::auth::Login;
use crate::config::{Config, Settings};
use crate::sys::creds::{self, Account};
use crate::sys::process;
use crate::sys::{seccomp, signal};

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
            nopriv: lookup(nopriv_user(c)),
            ftp: lookup(ftp_username(c)),
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

    /// nopriv_user's account (the pre-login process, and the helper after login), or
    /// vsftpd's OOPS text.
    pub fn nopriv(&self, config: &Config) -> Result<Account, String> {
        let name = nopriv_user(config);
        cached_or_lookup(&self.nopriv, name)
            .ok_or_else(|| format!("cannot locate user specified in 'nopriv_user':{name}"))
    }

    fn ftp(&self, config: &Config) -> Result<Account, String> {
        cached_or_lookup(&self.ftp, ftp_username(config)).ok_or_else(|| ftp_missing(config))
    }
}

fn cached_or_lookup(cached: &Option<Account>, name: &str) -> Option<Account> {
    match cached {
        Some(a) if a.name == name => Some(a.clone()),
        _ => creds::lookup_user(name).ok().flatten(),
    }
}

fn ftp_missing(config: &Config) -> String {
    format!(
        "cannot locate user specified in 'ftp_username':{}",
        ftp_username(config)
    )
}

/// nopriv_user; an empty value (vsftpd's "(none)") means the table's default.
pub fn nopriv_user(config: &Config) -> &str {
    config.str_or_default("nopriv_user", &config.nopriv_user)
}

/// ftp_username; an empty value means the table's default.
pub fn ftp_username(config: &Config) -> &str {
    config.str_or_default("ftp_username", &config.ftp_username)
}

/// secure_chroot_dir; an empty value means the table's default.
pub fn secure_chroot_dir(config: &Config) -> &Path {
    Path::new(config.str_or_default("secure_chroot_dir", &config.secure_chroot_dir))
}

/// Where a login's session lives: the account it runs as (two-process model) and its root.
pub struct Placement {
    pub account: Option<Account>,
    pub root: PathBuf,
}

impl Placement {
    /// Places `login`. With `need_account` the account must exist (the post-login process
    /// becomes it); without it, only the root is needed (one-process model). `Err` carries
    /// vsftpd's `500 OOPS:` text.
    pub fn for_login(
        config: &Config,
        prepared: &Prepared,
        login: &Login,
        need_account: bool,
    ) -> Result<Placement, String> {
        match login {
            Login::Anonymous { .. } => Placement::anonymous(config, prepared, need_account),
        }
    }

    /// An anonymous session: ftp_username, in anon_root or else that account's home.
    pub fn anonymous(
        config: &Config,
        prepared: &Prepared,
        need_account: bool,
    ) -> Result<Placement, String> {
        let account = match (&config.anon_root, need_account) {
            (Some(_), false) => None,
            _ => Some(prepared.ftp(config)?),
        };
        let root = match (&config.anon_root, &account) {
            (Some(dir), _) => PathBuf::from(dir),
            (None, Some(a)) => a.home.clone(),
            (None, None) => return Err(ftp_missing(config)),
        };
        Ok(Placement { account, root })
    }
}

/// Where a confined process goes, who it becomes and which system calls it keeps.
pub struct Confinement<'a> {
    pub root: &'a Path,
    pub account: &'a Account,
    pub phase: Phase,
}

#[derive(Clone, Copy)]
pub enum Phase {
    PreLogin,
    PostLogin,
}

/// Chroot, drop every capability and privilege, and (with seccomp_sandbox) load the filter.
/// Runs as root in a freshly forked child; afterwards nothing of root is left.
pub fn confine(
    settings: &Settings,
    prepared: &Prepared,
    how: &Confinement<'_>,
) -> Result<(), String> {
    let helper = process::getppid();
    // Done already when the listener prepared (then this returns at once), but a process
    // must never depend on that for its confinement.
    crate::sys::time::init_local_time();
    creds::chroot(how.root)
        .map_err(|_| format!("cannot change directory:{}", how.root.display()))?;
    creds::drop_bounding_set().map_err(|e| format!("cannot drop capabilities: {e}"))?;
    creds::become_user(how.account.uid, how.account.gid)
        .map_err(|e| format!("cannot switch to user {}: {e}", how.account.name))?;
    // After the switch: the kernel clears the parent-death signal on a change of
    // credentials. If the helper died in between, no signal will come: stop here.
    process::set_parent_death_signal(signal::SIGKILL)
        .map_err(|e| format!("prctl PR_SET_PDEATHSIG: {e}"))?;
    if process::getppid() != helper {
        return Err("the session helper is gone".into());
    }
    creds::forbid_fork().map_err(|e| format!("setrlimit RLIMIT_NPROC: {e}"))?;
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

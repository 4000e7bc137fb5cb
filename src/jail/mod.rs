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

use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::auth::{lists, Login};
use crate::config::{Config, Settings};
use crate::proto::reply;
use crate::sys::creds::{self, Account};
use crate::sys::{fs, landlock, process, seccomp, signal};

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
    /// landlock_enable, and the kernel has a Landlock this daemon can use: decided once here,
    /// so that a session either gets it or (no Landlock) runs with seccomp alone, as the
    /// start-up note said; it never finds out by failing.
    landlock: bool,
    /// FTPS: the certificate and key, read here by root before anything is confined (or why
    /// they could not be; start-up has already refused to run then).
    tls: Result<Option<crate::tls::Tls>, String>,
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
            landlock: c.landlock_enable && landlock::usable(),
            tls: crate::tls::load(settings),
        }
    }

    /// The TLS configuration sessions start from, when FTPS is on and its files loaded.
    pub fn tls(&self) -> Option<&crate::tls::Tls> {
        self.tls.as_ref().ok().and_then(Option::as_ref)
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

/// Where a login's session lives: the account it runs as (two-process model), the root it is
/// jailed in (`/` when it is not jailed) and the directory it starts in, inside that root.
pub struct Placement {
    pub account: Option<Account>,
    /// Supplementary groups of a local login.
    pub groups: Vec<u32>,
    pub root: PathBuf,
    /// Where the session starts, as the client sees it (PWD).
    pub cwd: Vec<u8>,
    /// The root is a jail: it must not be writable by the user unless allow_writeable_chroot.
    pub jailed: bool,
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
            Login::Local { account, groups } => Placement::local(config, account, groups),
            Login::Guest {
                name,
                account,
                groups,
                ..
            } => Placement::guest(config, name, account, groups),
        }
    }

    /// A virtual user: guest_username's account, placed as a local user would be with the
    /// virtual name standing for user_sub_token (`/home/virtual/$USER` gives each virtual
    /// user a home), and always jailed, as vsftpd jails every guest.
    pub fn guest(
        config: &Config,
        name: &str,
        account: &Account,
        groups: &[u32],
    ) -> Result<Placement, String> {
        let mut placed = Placement::local_named(config, name.as_bytes(), account, groups, true)?;
        placed.groups = groups.to_vec();
        Ok(placed)
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
        Ok(Placement {
            account,
            groups: Vec::new(),
            root,
            cwd: b"/".to_vec(),
            jailed: true,
        })
    }

    /// A local user (vsftpd's rules): the session starts in local_root, or else the home
    /// directory (user_sub_token replaced by the name in both). It is jailed there when
    /// chroot_local_user says so, unless chroot_list_enable lists the user — or, with
    /// chroot_local_user=NO, only when the list names the user. With passwd_chroot_enable a
    /// `/./` in the home directory marks where the jail begins; the session starts below it.
    pub fn local(config: &Config, account: &Account, groups: &[u32]) -> Result<Placement, String> {
        Placement::local_named(config, account.name.as_bytes(), account, groups, false)
    }

    /// [`Placement::local`] for the login `name` (a virtual user's, for a guest), jailed
    /// whatever the chroot options say with `always_jail`.
    fn local_named(
        config: &Config,
        name: &[u8],
        account: &Account,
        groups: &[u32],
        always_jail: bool,
    ) -> Result<Placement, String> {
        let sub = |path: &[u8]| match config.user_sub_token.as_deref() {
            Some(token) if !token.is_empty() => replace_all(path, token.as_bytes(), name),
            _ => path.to_vec(),
        };
        let home = sub(account.home.as_os_str().as_bytes());
        let start = match &config.local_root {
            Some(dir) => sub(dir.as_bytes()),
            None => home.clone(),
        };
        let listed = if config.chroot_list_enable && !always_jail {
            let file = config.str_or_default("chroot_list_file", &config.chroot_list_file);
            lists::lists_user(file, name)
                .map_err(|_| format!("cannot read chroot() list file:{file}"))?
        } else {
            false
        };
        let jailed = always_jail || config.chroot_local_user != listed;
        let split = |p: &[u8]| {
            p.windows(3)
                .position(|w| w == b"/./")
                .map(|i| (p[..i].to_vec(), p[i + 2..].to_vec()))
        };
        let (root, cwd) = match (
            jailed,
            config.passwd_chroot_enable && config.local_root.is_none(),
        ) {
            (false, _) => (b"/".to_vec(), start),
            (true, true) => split(&home).unwrap_or((start, b"/".to_vec())),
            (true, false) => (start, b"/".to_vec()),
        };
        let root = if root.is_empty() { b"/".to_vec() } else { root };
        Ok(Placement {
            account: Some(account.clone()),
            groups: groups.to_vec(),
            root: PathBuf::from(std::ffi::OsStr::from_bytes(&root)),
            cwd: crate::proto::path::normalize_path(b"/", &cwd),
            jailed,
        })
    }

    /// Can the account reach its root and its start directory? Checked as the user, in a
    /// short-lived child (so the check has exactly the user's ids and groups), before the
    /// login is answered: a missing or closed home refuses the login and the client may try
    /// another user, instead of vsftpd's dead session. `Err` says why, for the log.
    pub fn check_reachable(&self) -> Result<(), String> {
        let start = self.root.join(std::ffi::OsStr::from_bytes(
            self.cwd.strip_prefix(b"/").unwrap_or(&self.cwd),
        ));
        let account = self.account.as_ref();
        let code = process::run_in_child(|| {
            if let Some(a) = account {
                if process::geteuid() == 0
                    && creds::become_user_in_groups(a.uid, a.gid, &self.groups).is_err()
                {
                    return 3;
                }
            }
            if fs::open_dir(&self.root).is_err() {
                return 1;
            }
            if fs::open_dir(&start).is_err() {
                return 2;
            }
            0
        })
        .map_err(|e| format!("cannot check the home directory: {e}"))?;
        match code {
            0 => Ok(()),
            1 => Err(format!("cannot enter {}", self.root.display())),
            2 => Err(format!("cannot enter {}", start.display())),
            _ => Err("cannot switch to the user to check the home directory".into()),
        }
    }
}

/// `path` with every `token` replaced by `with` (user_sub_token).
fn replace_all(path: &[u8], token: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + with.len());
    let mut rest = path;
    while let Some(i) = rest.windows(token.len()).position(|w| w == token) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(with);
        rest = &rest[i + token.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// With chown_uploads, for a login with anonymous rights: whose uploads (`from_uid`) go to
/// chown_username, resolved through NSS now, before any jail.
pub fn chown_target(
    settings: &Settings,
    anonymous_rights: bool,
    from_uid: u32,
) -> Option<crate::privsep::privops::ChownUpload> {
    let c = &settings.config;
    if !c.chown_uploads || !anonymous_rights {
        return None;
    }
    let to = creds::lookup_user(c.str_or_default("chown_username", &c.chown_username))
        .ok()
        .flatten()?;
    Some(crate::privsep::privops::ChownUpload {
        from_uid,
        to_uid: to.uid,
        to_gid: to.gid,
    })
}

/// Where a confined process goes, who it becomes and which system calls it keeps.
pub struct Confinement<'a> {
    pub root: &'a Path,
    pub account: &'a Account,
    /// Supplementary groups (a local user's); empty: the account's group only.
    pub groups: &'a [u32],
    pub phase: Phase,
    /// Refuse a root the account can write to (vsftpd's rule for a jail, unless
    /// allow_writeable_chroot).
    pub refuse_writable_root: bool,
}

#[derive(Clone, Copy)]
pub enum Phase {
    PreLogin,
    PostLogin,
}

/// Chroot, drop every capability and privilege, after login take away the file rights FTP
/// never needs (landlock_enable), and (with seccomp_sandbox) load the filter.
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
    let switched = if how.groups.is_empty() {
        creds::become_user(how.account.uid, how.account.gid)
    } else {
        creds::become_user_in_groups(how.account.uid, how.account.gid, how.groups)
    };
    switched.map_err(|e| format!("cannot switch to user {}: {e}", how.account.name))?;
    if how.refuse_writable_root {
        // As the user: a jail it can write to is one it can plant files in that the
        // privileged side might trust (vsftpd 2.3.5's rule). Beyond vsftpd, the text says
        // how to get out.
        let root = fs::open_dir(Path::new("/")).map_err(|e| format!("open root: {e}"))?;
        if fs::writable(root.as_fd()) {
            return Err(reply::OOPS_WRITABLE_CHROOT.to_string());
        }
    }
    // After the switch: the kernel clears the parent-death signal on a change of
    // credentials. If the helper died in between, no signal will come: stop here.
    process::set_parent_death_signal(signal::SIGKILL)
        .map_err(|e| format!("prctl PR_SET_PDEATHSIG: {e}"))?;
    if process::getppid() != helper {
        return Err("the session helper is gone".into());
    }
    creds::confined_limits().map_err(|e| format!("setrlimit: {e}"))?;
    process::set_no_new_privs().map_err(|e| format!("prctl PR_SET_NO_NEW_PRIVS: {e}"))?;
    // After no_new_privs (Landlock requires it) and before seccomp (whose filters do not
    // allow the Landlock calls). After login only: before it the process has no file system
    // calls at all.
    if prepared.landlock && matches!(how.phase, Phase::PostLogin) {
        landlock::deny_exec_and_special_files().map_err(|e| format!("landlock: {e}"))?;
    }
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

//! What every session of a configuration will need from this machine, checked once: by `-t`
//! and at start-up, instead of by each session's `500 OOPS:` (the sessions keep their own
//! checks: a file can still disappear later).
//!
//! The parser has already said that each value is well formed; here the question is whether
//! the machine agrees — the directories exist, the accounts exist, the files named can be
//! read, the listening port is free. Each problem names the option, where its value came from,
//! and what to do about it. A check that is added later (say, the FTPS certificate paths) is
//! one more function called from [`check`].
#![forbid(unsafe_code)]

use std::io::ErrorKind;
use std::path::Path;

use crate::config::{find_tunable, Config, Origin, Settings, State};
use crate::sys::creds;

/// What [`check`] found.
#[derive(Debug, Default)]
pub struct Report {
    /// Problems every session would fail on: `-t` exits 1, the daemon does not start.
    pub errors: Vec<String>,
    /// Worth telling the admin, but sessions can run.
    pub warnings: Vec<String>,
}

/// How far to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `-t`: everything, the listening port included (tried, then let go).
    CheckOnly,
    /// Start-up: everything but the port, which the listener binds for real next.
    Startup,
}

/// Runs every check against `settings`.
pub fn check(settings: &Settings, mode: Mode) -> Report {
    let mut r = Report::default();
    let c = &settings.config;
    let ctx = Ctx { settings, c };
    ctx.accounts_and_dirs(&mut r);
    ctx.files(&mut r);
    ctx.who_can_log_in(&mut r);
    if mode == Mode::CheckOnly && (c.listen || c.listen_ipv6) {
        ctx.port(&mut r);
    }
    r
}

struct Ctx<'a> {
    settings: &'a Settings,
    c: &'a Config,
}

impl Ctx<'_> {
    /// `FILE:LINE: OPTION=VALUE: problem; fix` (or `OPTION=VALUE (default): ...`).
    fn problem(&self, option: &str, value: &str, what: &str) -> String {
        match self.settings.origin(option) {
            Some(Origin::Default) | None => format!("{option}={value} (default): {what}"),
            Some(origin) => format!("{origin}: {option}={value}: {what}"),
        }
    }

    fn str_of<'b>(&'b self, name: &str, field: &'b Option<String>) -> &'b str {
        self.c.str_or_default(name, field)
    }

    /// The two-process model's accounts and jails, and the roots sessions start in.
    fn accounts_and_dirs(&self, r: &mut Report) {
        let c = self.c;
        let two_process = !c.run_as_launching_user;
        if two_process {
            let dir = self.str_of("secure_chroot_dir", &c.secure_chroot_dir);
            if let Some(what) = not_a_dir(dir) {
                r.errors.push(self.problem(
                    "secure_chroot_dir",
                    dir,
                    &format!(
                        "{what}; every session starts jailed there: create it, empty and \
                         owned by root (mkdir -p {dir}), or name another empty directory"
                    ),
                ));
            }
            let name = self.str_of("nopriv_user", &c.nopriv_user);
            self.account(
                r,
                "nopriv_user",
                name,
                "or name an existing unprivileged account such as nobody",
            );
        }
        if c.anonymous_enable {
            let name = self.str_of("ftp_username", &c.ftp_username);
            let unset_root = c.anon_root.is_none();
            // The account's home is the root unless anon_root names one; the two-process
            // model runs anonymous sessions as the account either way.
            let account = if two_process || unset_root {
                self.account(r, "ftp_username", name, "or set anonymous_enable=NO")
            } else {
                None
            };
            match (&c.anon_root, account) {
                // A relative anon_root is not checked: it is below the account's home.
                (Some(root), _) if !root.starts_with('/') => {}
                (Some(root), _) => {
                    if let Some(what) = not_a_dir(root) {
                        r.errors.push(self.problem(
                            "anon_root",
                            root,
                            &format!("{what}; anonymous sessions are jailed there: create it, or name the directory to serve"),
                        ));
                    }
                }
                (None, Some(a)) => {
                    let home = a.home.to_string_lossy();
                    if let Some(what) = not_a_dir(&home) {
                        r.errors.push(self.problem(
                            "ftp_username",
                            name,
                            &format!("the account's home directory {home}: {what}; anonymous sessions are jailed there: create it, or set anon_root to the directory to serve"),
                        ));
                    }
                }
                (None, None) => {}
            }
            if c.chown_uploads && c.anon_upload_enable {
                let name = self.str_of("chown_username", &c.chown_username);
                self.account(r, "chown_username", name, "or set chown_uploads=NO");
            }
        }
        // Virtual users (guest_enable through PAM, or virtual_users_file) run as
        // guest_username.
        let guests = (c.local_enable && c.guest_enable) || c.virtual_users_file.is_some();
        if guests && two_process {
            let name = self.str_of("guest_username", &c.guest_username);
            self.account(
                r,
                "guest_username",
                name,
                "or turn virtual users off (guest_enable=NO, virtual_users_file=)",
            );
        }
        if c.local_enable {
            // A local_root with user_sub_token differs per user; a relative one is below each
            // home. Only one that is the same for everyone can be checked here.
            if let Some(root) = &c.local_root {
                let per_user = c
                    .user_sub_token
                    .as_deref()
                    .is_some_and(|t| !t.is_empty() && root.contains(t));
                if root.starts_with('/') && !per_user {
                    if let Some(what) = not_a_dir(root) {
                        r.errors.push(self.problem(
                            "local_root",
                            root,
                            &format!("{what}; local users start there: create it, or unset local_root to start them in their home directories"),
                        ));
                    }
                }
            }
        }
    }

    /// An account that must exist; `Some` when it does.
    fn account(
        &self,
        r: &mut Report,
        option: &str,
        name: &str,
        alternative: &str,
    ) -> Option<creds::Account> {
        match creds::lookup_user(name) {
            Ok(Some(a)) => Some(a),
            Ok(None) => {
                r.errors.push(self.problem(
                    option,
                    name,
                    &format!(
                        "no such user: create a system account (useradd --system \
                         --no-create-home --shell /usr/sbin/nologin {name}), {alternative}"
                    ),
                ));
                None
            }
            Err(e) => {
                r.errors
                    .push(self.problem(option, name, &format!("cannot look the user up: {e}")));
                None
            }
        }
    }

    /// Files a session opens (banner, lists): each must be a readable file, or the option
    /// that asks for it must be off.
    fn files(&self, r: &mut Report) {
        let c = self.c;
        let mut want = |option: &'static str, path: &str, off: &str| {
            if let Some(what) = not_readable(path) {
                r.errors.push(self.problem(
                    option,
                    path,
                    &format!("{what}; sessions read it: create it, {off}"),
                ));
            }
        };
        if let Some(path) = &c.banner_file {
            want("banner_file", path, "or unset banner_file (banner_file=)");
        }
        if c.userlist_enable {
            let path = self.str_of("userlist_file", &c.userlist_file);
            want("userlist_file", path, "or set userlist_enable=NO");
        }
        if c.local_enable && c.chroot_list_enable {
            let path = self.str_of("chroot_list_file", &c.chroot_list_file);
            want("chroot_list_file", path, "or set chroot_list_enable=NO");
        }
        if c.anonymous_enable && c.deny_email_enable {
            let path = self.str_of("banned_email_file", &c.banned_email_file);
            want("banned_email_file", path, "or set deny_email_enable=NO");
        }
        if c.anonymous_enable && c.secure_email_list_enable {
            let path = self.str_of("email_password_file", &c.email_password_file);
            want(
                "email_password_file",
                path,
                "or set secure_email_list_enable=NO",
            );
        }
        if let Some(path) = &c.virtual_users_file {
            want(
                "virtual_users_file",
                path,
                "or unset virtual_users_file (virtual_users_file=)",
            );
        }
        if let Some(dir) = &c.user_config_dir {
            if let Some(what) = not_a_dir(dir) {
                r.errors.push(self.problem(
                    "user_config_dir",
                    dir,
                    &format!("{what}: create it, or unset user_config_dir (user_config_dir=)"),
                ));
            }
        }
    }

    /// A configuration that parses, yet lets nobody in.
    fn who_can_log_in(&self, r: &mut Report) {
        let c = self.c;
        // A side whose switch is not implemented yet is accepted but refuses every login.
        let works = |name: &str| find_tunable(name).is_some_and(|t| t.state == State::Implemented);
        let anonymous = c.anonymous_enable && works("anonymous_enable");
        let local = c.local_enable && works("local_enable");
        if !anonymous && !local {
            // Both off is refused by the parser already (vsftpd's rule): here, a side that is
            // on but cannot work yet.
            if c.anonymous_enable || c.local_enable {
                r.warnings.push(
                    "nobody can log in: the enabled side (anonymous_enable or local_enable) is \
                     not supported yet (see docs/TUNABLES.md)"
                        .to_string(),
                );
            }
            return;
        }
        // userlist_deny=NO lets in only the names listed: an empty list lets in nobody, the
        // anonymous names included (vsftpd checks every USER against the list).
        if c.userlist_enable && !c.userlist_deny {
            let path = self.str_of("userlist_file", &c.userlist_file);
            let listed = crate::auth::lists::read_bounded(path, crate::limits::MAX_USER_LIST_FILE)
                .map(|t| t.split(|&b| b == b'\n').any(|l| !l.trim_ascii().is_empty()));
            if listed.is_ok_and(|any| !any) {
                r.warnings.push(self.problem(
                    "userlist_file",
                    path,
                    "nobody can log in: with userlist_enable=YES and userlist_deny=NO only the \
                     users listed there may log in, and it lists none; add the users (ftp and \
                     anonymous for anonymous logins), or set userlist_deny=YES",
                ));
            }
        }
    }

    /// Standalone: can the listener bind? A port in use may be this configuration's own
    /// running daemon (`-t` before a reload), so that is a warning; an address this machine
    /// does not have, or a port it may not bind, is an error.
    fn port(&self, r: &mut Report) {
        let c = self.c;
        let specs = match super::standalone::listen_specs(self.settings) {
            Ok(s) => s,
            Err(msg) => {
                r.errors.push(msg);
                return;
            }
        };
        let port = c.listen_port.to_string();
        for spec in &specs {
            match crate::sys::net::listen(spec) {
                Ok(l) => drop(l),
                Err(e) if e.kind() == ErrorKind::AddrInUse => r.warnings.push(self.problem(
                    "listen_port",
                    &port,
                    &format!(
                        "{} is in use (by this configuration's running daemon, or another \
                         server: stop it, or choose another listen_port)",
                        spec.addr
                    ),
                )),
                Err(e) => r.errors.push(bind_problem(self.settings, spec.addr, &e)),
            }
        }
    }
}

/// The listener's bind failure, with the options to look at.
pub fn bind_problem(settings: &Settings, addr: std::net::SocketAddr, e: &std::io::Error) -> String {
    let c = &settings.config;
    let fix = match e.kind() {
        ErrorKind::AddrInUse => {
            "another server listens there: stop it, or choose another listen_port".to_string()
        }
        ErrorKind::AddrNotAvailable => {
            let option = if addr.is_ipv6() { "listen_address6" } else { "listen_address" };
            format!("this machine has no such address: fix {option}, or unset it to listen on every address")
        }
        ErrorKind::PermissionDenied => {
            "ports below 1024 need root (or CAP_NET_BIND_SERVICE): start as root, or choose a listen_port of 1024 or more".to_string()
        }
        _ => "check listen_port and the listen addresses".to_string(),
    };
    let ctx = Ctx { settings, c };
    ctx.problem(
        "listen_port",
        &c.listen_port.to_string(),
        &format!("could not bind listening socket to {addr}: {e}; {fix}"),
    )
}

/// Why `path` is not a directory one can enter, if it is not.
fn not_a_dir(path: &str) -> Option<String> {
    match std::fs::metadata(Path::new(path)) {
        Ok(md) if md.is_dir() => None,
        Ok(_) => Some("not a directory".to_string()),
        Err(e) if e.kind() == ErrorKind::NotFound => Some("no such directory".to_string()),
        Err(e) => Some(format!("cannot reach it: {e}")),
    }
}

/// Why a session could not read the file at `path`, if it could not. Sessions read
/// anything but a regular file as empty, as vsftpd does (a FIFO or device is never opened:
/// an open could block), so only a regular file is opened here.
fn not_readable(path: &str) -> Option<String> {
    match std::fs::metadata(Path::new(path)) {
        Ok(md) if !md.is_file() => None,
        Ok(_) => std::fs::File::open(path)
            .err()
            .map(|e| format!("cannot be read: {e}")),
        Err(e) if e.kind() == ErrorKind::NotFound => Some("no such file".to_string()),
        Err(e) => Some(format!("cannot reach it: {e}")),
    }
}

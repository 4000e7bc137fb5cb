//! One FTP session: the greeting, the pre-login loop (its own command type, so no post-login
//! handler is reachable before login), the switch to the session's identity and root, and the
//! post-login loop.
//!
//! [`run`] is the one-process model (run_as_launching_user=YES): the session process stays who
//! it is and serves the login's root (placed by `crate::jail`, as in the two-process model)
//! beneath a root fd. In the two-process model `crate::jail::children` runs the same loops in
//! confined processes.
#![forbid(unsafe_code)]

pub mod control;
pub mod postlogin;
pub mod prelogin;
pub mod secure;

use std::net::TcpStream;

use crate::config::Settings;
use crate::data::passive::{LocalPassive, PassivePolicy};
use crate::jail::{Placement, Prepared};
use crate::proto::reply;
use control::{Control, Ended};

/// Serves one connection to its end; returns the process exit code.
pub fn run(
    settings: &Settings,
    prepared: &Prepared,
    stream: TcpStream,
    client: std::net::SocketAddr,
    clients: u32,
    log: crate::log::SessionLog,
) -> i32 {
    let mut ctrl = match Control::new(stream, client) {
        Ok(c) => c,
        Err(_) => return 0,
    };
    ctrl.log = log;
    ctrl.set_idle_timeout(settings.config.idle_session_timeout);
    crate::sys::time::init_local_time();
    crate::sys::process::keep_freed_memory(crate::limits::KEPT_FREE_MEMORY);
    let banner = match prelogin::session_files(settings) {
        Ok(banner) => banner,
        Err(msg) => {
            crate::log::die(&msg);
            let _ = ctrl.send(&reply::oops(msg.as_bytes()));
            ctrl.shutdown();
            return 1;
        }
    };
    if !implicit_tls(settings, &mut ctrl) {
        return 0;
    }
    if greet(settings, &mut ctrl, banner.as_deref()).is_err() {
        return 0;
    }
    let mut auth = prelogin::LocalAuth {
        settings,
        peer: ctrl.peer.ip(),
        log: ctrl.log.clone(),
    };
    let (login, own_settings) = match prelogin::run(settings, &mut ctrl, &mut auth) {
        Ok(Some(accepted)) => accepted,
        Ok(None) | Err(_) => {
            ctrl.shutdown();
            return 0;
        }
    };
    let settings: &Settings = own_settings.as_deref().unwrap_or(settings);
    let (name, access, anon_password) = login.log_identity(&settings.config);
    ctrl.log.logged_in(name, access, anon_password);
    let (root, cwd) = match open_root(settings, prepared, &login) {
        Ok(placed) => placed,
        Err(msg) => {
            crate::log::die(&msg);
            let _ = ctrl.send(&reply::oops(msg.as_bytes()));
            ctrl.shutdown();
            return 1;
        }
    };
    let policy = PassivePolicy::from_config(&settings.config, ctrl.local.ip(), ctrl.peer.ip());
    let chown = crate::jail::chown_target(
        settings,
        login.has_anonymous_rights(),
        crate::sys::process::geteuid(),
    );
    let passive = Box::new(LocalPassive::new(policy, chown));
    let mut session = postlogin::Session::new(settings, ctrl, root, login, passive);
    session.set_client_count(clients);
    session.set_cwd(cwd);
    if session.login_reply().is_err() {
        return 0;
    }
    session.run();
    0
}

/// The login's root, opened as the fd every path is resolved beneath (RESOLVE_IN_ROOT): even
/// without chroot nothing outside it can be named; and the directory to start in. `Err`
/// carries vsftpd's `500 OOPS:` text.
fn open_root(
    settings: &Settings,
    prepared: &Prepared,
    login: &crate::auth::Login,
) -> Result<(std::os::fd::OwnedFd, Vec<u8>), String> {
    let placed = Placement::for_login(&settings.config, prepared, login, false)?;
    let root = crate::sys::fs::open_dir(&placed.root)
        .map_err(|_| format!("cannot change directory:{}", placed.root.display()))?;
    Ok((root, placed.cwd))
}

/// implicit_ssl: the handshake before the greeting. False when it failed (the session ends;
/// the client hears nothing it could read).
pub fn implicit_tls(settings: &Settings, ctrl: &mut Control) -> bool {
    let c = &settings.config;
    if !(c.ssl_enable && c.implicit_ssl) {
        return true;
    }
    let Some(config) = crate::tls::session_config() else {
        return false;
    };
    match ctrl.start_tls(config, c, false) {
        Ok(()) => true,
        Err(why) => {
            crate::log::note(&format!("implicit TLS handshake failed: {why}"));
            false
        }
    }
}

/// The 220 greeting: banner_file's text (read before any chroot, see `load_banner`),
/// ftpd_banner, or our name.
pub fn greet(settings: &Settings, ctrl: &mut Control, banner: Option<&[u8]>) -> Result<(), Ended> {
    if let Some(text) = banner {
        return ctrl.send(&reply::greeting_banner_file(text));
    }
    ctrl.send(&reply::greeting(
        settings.config.ftpd_banner.as_deref().map(str::as_bytes),
    ))
}

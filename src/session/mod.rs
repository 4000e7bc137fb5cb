//! One FTP session: the greeting, the pre-login loop (its own command type, so no post-login
//! handler is reachable before login), the switch to the session's identity and root, and the
//! post-login loop.
//!
//! This is the one-process model (run_as_launching_user=YES, and the first stage of the
//! privilege-separated model that issue #3 completes): the session process itself chroots and
//! drops to ftp_username after login when it runs as root.
#![forbid(unsafe_code)]

pub mod control;
pub mod identity;
pub mod postlogin;
pub mod prelogin;

use std::net::TcpStream;

use crate::config::Settings;
use crate::data::passive::{LocalPassive, PassivePolicy};
use crate::proto::reply;
use control::{Control, Ended};

/// Serves one connection to its end; returns the process exit code.
pub fn run(settings: &Settings, stream: TcpStream, clients: u32) -> i32 {
    let mut ctrl = match Control::new(stream) {
        Ok(c) => c,
        Err(_) => return 0,
    };
    ctrl.set_idle_timeout(settings.config.idle_session_timeout);
    crate::sys::time::init_local_time();
    crate::sys::process::keep_freed_memory(crate::limits::KEPT_FREE_MEMORY);
    let banner = match prelogin::session_files(settings) {
        Ok(banner) => banner,
        Err(msg) => {
            let _ = ctrl.send(&reply::oops(msg.as_bytes()));
            ctrl.shutdown();
            return 1;
        }
    };
    if greet(settings, &mut ctrl, banner.as_deref()).is_err() {
        return 0;
    }
    let login = match prelogin::run(settings, &mut ctrl, &mut prelogin::LocalAuth(settings)) {
        Ok(login) => login,
        Err(_) => {
            ctrl.shutdown();
            return 0;
        }
    };
    let root = match identity::enter(settings, &login) {
        Ok(root) => root,
        Err(msg) => {
            let _ = ctrl.send(&reply::oops(msg.as_bytes()));
            ctrl.shutdown();
            return 1;
        }
    };
    let policy = PassivePolicy::from_config(&settings.config, ctrl.local.ip(), ctrl.peer.ip());
    let passive = Box::new(LocalPassive::new(policy));
    let mut session = postlogin::Session::new(settings, ctrl, root, login, passive);
    session.set_client_count(clients);
    if session.login_reply().is_err() {
        return 0;
    }
    session.run();
    0
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

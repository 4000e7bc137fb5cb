//! The bodies of the two-process model's children, from the fork to the end of the session:
//! each confines itself (`super::confine`) before it reads a byte from the client, then runs
//! the protocol loop with the helper on the other end of its channel.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::client::{HelperAuth, HelperPassive};
use super::{confine, Confinement, Prepared};
use crate::auth::Login;
use crate::config::Settings;
use crate::log::SessionLog;
use crate::privsep::channel::Channel;
use crate::privsep::msg::PostLoginStart;
use crate::proto::reply;
use crate::session::control::Control;
use crate::session::{postlogin, prelogin};
use crate::sys::fs;

/// vsftpd's way to die in front of the client: `500 OOPS: <why>`, then the session ends.
pub fn send_oops(stream: &TcpStream, msg: &str) -> i32 {
    use std::io::Write;
    crate::log::die(msg);
    let mut s = stream;
    let _ = s.write_all(&reply::oops(msg.as_bytes()));
    1
}

/// The pre-login process: greets the client and asks the helper about each login.
pub fn prelogin_process(
    settings: &Settings,
    prepared: &Prepared,
    (stream, client): (TcpStream, SocketAddr),
    ch: &Channel,
    how: &Confinement<'_>,
    log: SessionLog,
    relay: Option<UnixStream>,
) -> i32 {
    log.redirect_stderr();
    log.release_unneeded();
    let banner = match prelogin::session_files(settings) {
        Ok(banner) => banner,
        Err(msg) => return send_oops(&stream, &msg),
    };
    if let Err(msg) = confine(settings, prepared, how) {
        return send_oops(&stream, &msg);
    }
    let mut ctrl = match Control::new(stream, client) {
        Ok(c) => c,
        Err(_) => return 0,
    };
    ctrl.log = log;
    // Read no byte past the end of each line: what follows a successful PASS belongs to the
    // post-login process, which reads the same connection.
    ctrl.set_exact_reads(true);
    ctrl.set_idle_timeout(settings.config.idle_session_timeout);
    if !crate::session::implicit_tls(settings, &mut ctrl) {
        return 0;
    }
    if crate::session::greet(settings, &mut ctrl, banner.as_deref()).is_err() {
        return 0;
    }
    let mut auth = HelperAuth { channel: ch };
    match prelogin::run(settings, &mut ctrl, &mut auth) {
        Ok(_) => match (relay, ctrl.take_tls()) {
            // The login was encrypted: this process carries the connection on.
            (Some(pipe), Some((tls, pending))) => {
                let idle = settings.config.idle_session_timeout;
                let stall = (idle > 0).then(|| Duration::from_secs(u64::from(idle)));
                crate::tls::relay::run(tls, &pending, pipe, ctrl.secure, stall)
            }
            // In clear: the post-login process reads the socket itself.
            (Some(mut pipe), None) => {
                let _ = pipe.write_all(&[0]);
                0
            }
            (None, _) => 0,
        },
        Err(_) => {
            ctrl.shutdown();
            0
        }
    }
}

/// The post-login process: serves the session as the login's account, in its jail, starting
/// in `cwd`. Started
/// with the `login` the helper accepted, or (`None`) before the login, to wait confined for
/// the helper's [`PostLoginStart`].
#[allow(clippy::too_many_arguments)]
pub fn postlogin_process(
    settings: &Settings,
    prepared: &Prepared,
    clients: u32,
    (stream, relay): (TcpStream, Option<UnixStream>),
    client: SocketAddr,
    login: Option<Login>,
    cwd: &[u8],
    ch: Channel,
    how: &Confinement<'_>,
    mut log: SessionLog,
) -> i32 {
    log.redirect_stderr();
    let confined = confine(settings, prepared, how);
    // Started before the login: nothing goes to the client until the helper says who logged
    // in; a failure to confine is reported then, where the client expects the 230.
    let login = match login {
        Some(login) => login,
        None => match ch.recv::<PostLoginStart>() {
            Ok((PostLoginStart::Anonymous { password }, _)) => Login::Anonymous { password },
            Err(_) => return 0,
        },
    };
    if let Err(msg) = confined {
        return send_oops(&stream, &msg);
    }
    let (name, access, anon_password) = login.log_identity(&settings.config);
    log.logged_in(name, access, anon_password);
    crate::sys::process::keep_freed_memory(crate::limits::KEPT_FREE_MEMORY);
    let root = match fs::open_dir(Path::new("/")) {
        Ok(r) => r,
        Err(e) => {
            return send_oops(&stream, &format!("open root: {e}"));
        }
    };
    let mut ctrl = match Control::new(stream, client) {
        Ok(c) => c,
        Err(_) => return 0,
    };
    ctrl.log = log;
    ctrl.set_idle_timeout(settings.config.idle_session_timeout);
    if let Some(mut pipe) = relay {
        // The pre-login process says at once whether it relays an encrypted connection.
        match crate::tls::relay::receive(&mut pipe, Duration::from_secs(60)) {
            Ok(Some(secure)) => ctrl.use_relay(pipe, secure),
            Ok(None) => {}
            Err(_) => return 0,
        }
    }
    let passive = Box::new(HelperPassive::new(ch));
    let mut session = postlogin::Session::new(settings, ctrl, root, login, passive);
    session.set_client_count(clients);
    session.set_cwd(cwd.to_vec());
    if session.login_reply().is_err() {
        return 0;
    }
    session.run();
    0
}

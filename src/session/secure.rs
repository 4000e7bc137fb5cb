//! AUTH, PBSZ and PROT with ssl_enable=YES (RFC 2228, RFC 4217), before and after login, and
//! the login rules of vsftpd's force_*_ssl options. With ssl_enable=NO these commands are not
//! routed here.

use super::control::{Control, Ended};
use crate::config::Config;
use crate::proto::reply;

/// AUTH TLS, AUTH SSL (and their RFC 4217 variants TLS-C, TLS-P): `234`, then the handshake.
/// A failed handshake ends the session with vsftpd's `421 Negotiation failed: ...`.
pub fn auth(ctrl: &mut Control, c: &Config, arg: &[u8]) -> Result<(), Ended> {
    let known = [&b"TLS"[..], b"TLS-C", b"SSL", b"TLS-P"]
        .iter()
        .any(|k| arg.eq_ignore_ascii_case(k));
    if !known || ctrl.secure.control {
        return ctrl.reply(reply::AUTH_UNKNOWN);
    }
    let Some(config) = crate::tls::session_config() else {
        return ctrl.reply(reply::AUTH_UNKNOWN);
    };
    match ctrl.start_tls(config, c, true) {
        Ok(()) => Ok(()),
        Err(why) => {
            crate::log::note(&format!(
                "TLS handshake on the control connection failed: {why}"
            ));
            let _ = ctrl.send(&reply::tls_negotiation_failed(why.as_bytes()));
            Err(Ended::Closed)
        }
    }
}

/// PBSZ: only 0 makes sense over TLS (a stream protection), and vsftpd answers so to any
/// argument.
pub fn pbsz(ctrl: &mut Control) -> Result<(), Ended> {
    if !ctrl.secure.control {
        return ctrl.reply(reply::PBSZ_NEEDS_SECURE);
    }
    ctrl.secure.pbsz = true;
    ctrl.reply(reply::PBSZ_OK)
}

/// PROT C or P; S and E are RFC 2228 levels TLS does not offer.
pub fn prot(ctrl: &mut Control, arg: &[u8]) -> Result<(), Ended> {
    if !ctrl.secure.control {
        return ctrl.reply(reply::PROT_NEEDS_SECURE);
    }
    match arg.to_ascii_uppercase().as_slice() {
        b"C" => {
            ctrl.secure.data = false;
            ctrl.reply(reply::PROT_CLEAR)
        }
        b"P" => {
            ctrl.secure.data = true;
            ctrl.reply(reply::PROT_PRIVATE)
        }
        b"S" | b"E" => ctrl.reply(reply::PROT_NOT_SUPPORTED),
        _ => ctrl.reply(reply::PROT_NOT_RECOGNIZED),
    }
}

/// USER with ssl_enable=YES: the reply that refuses the name for its (lack of) encryption,
/// as vsftpd's force_local_logins_ssl, force_anon_logins_ssl and allow_anon_ssl.
pub fn login_refusal(c: &Config, anonymous: bool, secure: bool) -> Option<reply::Reply> {
    if !c.ssl_enable {
        return None;
    }
    if anonymous && secure && !c.allow_anon_ssl {
        return Some(reply::ANON_MAY_NOT_ENCRYPT);
    }
    if anonymous && !secure && c.allow_anon_ssl && c.force_anon_logins_ssl {
        return Some(reply::ANON_MUST_ENCRYPT);
    }
    if !anonymous && !secure && c.force_local_logins_ssl {
        return Some(reply::NON_ANON_MUST_ENCRYPT);
    }
    None
}

/// Before a data connection: with force_local_data_ssl (force_anon_data_ssl for anonymous
/// sessions) a clear one is refused with `522 Data connections must be encrypted.`.
pub fn data_refused(c: &Config, anonymous: bool, ctrl: &Control) -> bool {
    if !c.ssl_enable || ctrl.secure.data {
        return false;
    }
    if anonymous {
        c.allow_anon_ssl && c.force_anon_data_ssl
    } else {
        c.force_local_data_ssl
    }
}

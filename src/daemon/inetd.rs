//! inetd mode (listen=NO): one session on the socket that inetd, xinetd or systemd
//! (Accept=yes) passed as stdin.

use super::say;
use crate::config::Settings;
use crate::sys::net;

pub fn run(settings: &Settings) -> i32 {
    if !net::is_socket(net::stdin_fd()) {
        say("listen=NO (inetd mode) needs a connected socket on standard input; set listen=YES to run standalone");
        return 1;
    }
    let stream = match net::stdin_stream() {
        Ok(s) => s,
        Err(e) => {
            say(&format!("cannot use standard input: {e}"));
            return 1;
        }
    };
    // stdout is the same socket: nothing may ever be written there but FTP replies.
    if let Err(e) = net::null_stdio(true) {
        say(&format!("cannot detach standard input/output: {e}"));
        return 1;
    }
    super::notify::forget();
    // vsftpd counts clients only in standalone mode; 0 leaves STAT's count line out.
    let prepared = crate::jail::Prepared::new(settings);
    let Ok(peer) = stream.peer_addr() else {
        return 0;
    };
    if settings.config.proxy_protocol_enable {
        // No max_per_ip in inetd mode: nothing to ask; the rest as behind the listener.
        let ip = crate::data::passive::canonical_ip(peer.ip());
        if !super::proxy::trusted(&settings.config, ip) {
            super::proxy::refused(ip, "not in proxy_protocol_trusted");
            return 0;
        }
        return super::proxy::serve(settings, &prepared, stream, peer, 0, None);
    }
    super::serve_connection(settings, &prepared, stream, peer, 0)
}

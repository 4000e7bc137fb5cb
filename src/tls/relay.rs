//! The encrypted control connection after login (two-process model): the pre-login process,
//! which holds the TLS state, stays on as a relay between the client and the post-login
//! process, which reads and writes plain text on a socket pair.
//!
//! ```text
//! client ==TLS== pre-login process (relay) --plain, socketpair-- post-login process
//! ```
//!
//! The relay runs confined as before (nopriv_user, secure_chroot_dir, the pre-login seccomp
//! filter); it only moves bytes, and ends when either side closes. Idle timeouts are the
//! post-login process's: when it ends the session, the relay sees its end close.
//!
//! The first byte on the socket pair, before any command, is the hand-over: [`Secure`]'s
//! byte with the control bit set when the relay carries the connection on (then the TLS 1.2
//! sessions the relay knows, so that data connections can resume them by session ID), or 0
//! when the client never started TLS and the post-login process must read the socket itself.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::{ControlTls, Secure};
use crate::sys::net::{self, PollFd};

/// Relays until one side closes; returns the process exit code. `stall`: how long a write
/// may wait for a side that does not read (idle_session_timeout), so that a client which
/// floods commands and reads no reply cannot park the session's processes for ever.
pub fn run(
    mut tls: ControlTls,
    pending: &[u8],
    mut pipe: UnixStream,
    secure: Secure,
    stall: Option<Duration>,
) -> i32 {
    let _ = pipe.set_write_timeout(stall);
    let _ = tls.sock.set_write_timeout(stall);
    let mut handover = vec![secure.to_byte()];
    handover.extend_from_slice(&super::export_sessions());
    if pipe.write_all(&handover).is_err() || pipe.write_all(pending).is_err() {
        super::close(&mut tls);
        return 0;
    }
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Plain text rustls already decrypted goes on before anything new is read.
        loop {
            match tls.conn.reader().read(&mut buf) {
                Ok(0) => return end(&mut tls, &pipe),
                Ok(n) => {
                    let Some(chunk) = buf.get(..n) else { return 0 };
                    if pipe.write_all(chunk).is_err() {
                        return end(&mut tls, &pipe);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return end(&mut tls, &pipe),
            }
        }
        let (client, server) = {
            let fds = [
                PollFd {
                    fd: tls.sock.as_fd(),
                    read: true,
                    write: false,
                    urgent: false,
                },
                PollFd {
                    fd: pipe.as_fd(),
                    read: true,
                    write: false,
                    urgent: false,
                },
            ];
            match net::poll(&fds, -1) {
                Ok(r) => (
                    r.first().is_some_and(|r| r.read || r.hangup),
                    r.get(1).is_some_and(|r| r.read || r.hangup),
                ),
                Err(_) => return end(&mut tls, &pipe),
            }
        };
        if client {
            match tls.conn.read_tls(&mut tls.sock) {
                Ok(0) => return end(&mut tls, &pipe),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return end(&mut tls, &pipe),
            }
            if tls.conn.process_new_packets().is_err() {
                return end(&mut tls, &pipe);
            }
            if flush(&mut tls).is_err() {
                return end(&mut tls, &pipe);
            }
        }
        if server {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => return end(&mut tls, &pipe),
                Ok(n) => {
                    let Some(chunk) = buf.get(..n) else { return 0 };
                    if tls.conn.writer().write_all(chunk).is_err() || flush(&mut tls).is_err() {
                        return end(&mut tls, &pipe);
                    }
                }
            }
        }
    }
}

fn flush(tls: &mut ControlTls) -> io::Result<()> {
    while tls.conn.wants_write() {
        tls.conn.write_tls(&mut tls.sock)?;
    }
    Ok(())
}

/// Either side is gone: close_notify to the client, end-of-file to the post-login process.
fn end(tls: &mut ControlTls, pipe: &UnixStream) -> i32 {
    let _ = tls.sock.set_write_timeout(Some(Duration::from_secs(5)));
    super::close(tls);
    let _ = tls.sock.shutdown(std::net::Shutdown::Both);
    let _ = pipe.shutdown(std::net::Shutdown::Both);
    0
}

/// The post-login process's side of the hand-over: `Some(secure)` when the relay carries the
/// control connection, `None` when the socket is to be read directly.
pub fn receive(pipe: &mut UnixStream, timeout: Duration) -> io::Result<Option<Secure>> {
    let _ = pipe.set_read_timeout(Some(timeout));
    let mut b = [0u8; 1];
    pipe.read_exact(&mut b)?;
    let s = Secure::from_byte(b[0]);
    if s.control {
        super::import_sessions(pipe)?;
    }
    let _ = pipe.set_read_timeout(None);
    Ok(s.control.then_some(s))
}

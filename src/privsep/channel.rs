//! A typed channel between the session helper and the protocol process: one
//! [`crate::privsep::msg`] message per SOCK_SEQPACKET datagram, fds passed with SCM_RIGHTS.
//!
//! Each end decides which message type it expects *now* (`recv::<PreLoginRequest>()` in the
//! pre-login helper, `recv::<PostLoginReply>()` in the post-login process, …), so the phase is
//! part of the type, as in vsftpd's privsock but checked by the compiler.
//!
//! # Errors end the session
//!
//! Every [`ChannelError`] other than [`ChannelError::Closed`] means the peer broke the
//! protocol (a datagram longer than [`MAX_MESSAGE`], too many or too few fds, bytes that do not
//! decode) or the socket failed. There is no resynchronising and no retry: the caller logs the
//! error and ends the session (the helper without acting on the request). `Closed` is the
//! peer's normal exit (the pre-login process after LoginOk, the post-login process at QUIT) or
//! its death; it ends the session too, quietly. Fds that came with a bad datagram are closed
//! before `recv` returns.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use super::msg::{Decode, DecodeError, Encode, MAX_MESSAGE};
use crate::proto::password::wipe;
use crate::sys::fdpass;

/// One end of the helper socketpair.
#[derive(Debug)]
pub struct Channel {
    sock: OwnedFd,
}

/// Why `send` or `recv` did not complete.
#[derive(Debug)]
pub enum ChannelError {
    /// The peer closed its end (EOF, or EPIPE/ECONNRESET on send).
    Closed,
    /// The socket failed (including a receive timeout: `ErrorKind::WouldBlock`).
    Io(io::Error),
    /// The datagram or its fds did not fit (MSG_TRUNC / MSG_CTRUNC): a protocol violation.
    Truncated,
    /// The datagram is not a valid message of the expected type: a protocol violation.
    Decode(DecodeError),
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Closed => write!(f, "privsep channel closed by peer"),
            ChannelError::Io(e) => write!(f, "privsep channel: {e}"),
            ChannelError::Truncated => write!(f, "privsep channel: message truncated"),
            ChannelError::Decode(e) => write!(f, "privsep channel: bad message: {e}"),
        }
    }
}

impl std::error::Error for ChannelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ChannelError::Io(e) => Some(e),
            ChannelError::Decode(e) => Some(e),
            ChannelError::Closed | ChannelError::Truncated => None,
        }
    }
}

impl From<io::Error> for ChannelError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => ChannelError::Closed,
            _ => ChannelError::Io(e),
        }
    }
}

impl From<DecodeError> for ChannelError {
    fn from(e: DecodeError) -> Self {
        ChannelError::Decode(e)
    }
}

impl ChannelError {
    /// True when the peer broke the protocol (as opposed to leaving or an I/O failure); the
    /// helper logs these as an attack or a bug.
    pub fn is_violation(&self) -> bool {
        matches!(self, ChannelError::Truncated | ChannelError::Decode(_))
    }
}

impl Channel {
    /// A connected pair; by convention the helper keeps the first end and the protocol
    /// process the second. Both ends are close-on-exec.
    pub fn pair() -> io::Result<(Channel, Channel)> {
        let (a, b) = fdpass::seqpacket_pair()?;
        Ok((Channel { sock: a }, Channel { sock: b }))
    }

    /// Wraps one end of a SOCK_SEQPACKET pair (for example after it was passed across a fork).
    pub fn from_fd(sock: OwnedFd) -> Channel {
        Channel { sock }
    }

    /// Gives the socket back, for example to close it in a forked child.
    pub fn into_fd(self) -> OwnedFd {
        self.sock
    }

    /// Sends `msg` with `fds` attached. The number of fds must be the one the message
    /// declares (`Encode::fd_count`); anything else is a bug on our side and is refused with
    /// `ErrorKind::InvalidInput` before anything is sent.
    pub fn send<M: Encode>(&self, msg: &M, fds: &[BorrowedFd<'_>]) -> Result<(), ChannelError> {
        if fds.len() != msg.fd_count() {
            return Err(ChannelError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "wrong number of fds for this message",
            )));
        }
        if let Err(e) = msg.check() {
            return Err(ChannelError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                e,
            )));
        }
        let mut bytes = msg.encode();
        let result = if bytes.len() > MAX_MESSAGE {
            Err(ChannelError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "message longer than MAX_MESSAGE",
            )))
        } else {
            fdpass::send_msg(self.sock.as_fd(), &bytes, fds).map_err(ChannelError::from)
        };
        // The encoding of Login holds a password.
        wipe(&mut bytes);
        result
    }

    /// Waits for the next message, which must be an `M` carrying exactly the fds its variant
    /// declares; those fds are returned in order. See the module docs: every error but
    /// `Closed` is a protocol violation or an I/O failure, and ends the session.
    pub fn recv<M: Decode>(&self) -> Result<(M, Vec<OwnedFd>), ChannelError> {
        // One byte more than the largest valid message, so an over-long datagram shows up as
        // TooLong from the decoder even before MSG_TRUNC does.
        let mut buf = [0u8; MAX_MESSAGE + 1];
        let result = self.recv_into::<M>(&mut buf);
        // The buffer may hold a password.
        wipe(&mut buf);
        result
    }

    fn recv_into<M: Decode>(&self, buf: &mut [u8]) -> Result<(M, Vec<OwnedFd>), ChannelError> {
        let got = fdpass::recv_msg(self.sock.as_fd(), buf, M::MAX_FDS)?;
        // From here on, any early return drops `got.fds`, closing every fd that came.
        if got.truncated {
            return Err(ChannelError::Truncated);
        }
        if got.len == 0 {
            return Err(ChannelError::Closed);
        }
        let bytes = buf.get(..got.len).ok_or(ChannelError::Truncated)?;
        let msg = M::decode(bytes, got.fds.len())?;
        Ok((msg, got.fds))
    }

    /// Sets a receive timeout (`None`: wait forever); a `recv` that times out returns
    /// `ChannelError::Io` with `ErrorKind::WouldBlock`.
    pub fn set_recv_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        fdpass::set_recv_timeout(self.sock.as_fd(), timeout)
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::privsep::msg::{PostLoginReply, PostLoginRequest, PreLoginReply};

    #[test]
    fn typed_round_trip() {
        let (a, b) = Channel::pair().unwrap();
        a.send(&PostLoginRequest::PasvListen, &[]).unwrap();
        let (m, fds) = b.recv::<PostLoginRequest>().unwrap();
        assert_eq!(m, PostLoginRequest::PasvListen);
        assert!(fds.is_empty());
    }

    #[test]
    fn wrong_fd_count_is_refused_before_sending() {
        let (a, b) = Channel::pair().unwrap();
        let err = a.send(&PostLoginReply::DataSocket, &[]).unwrap_err();
        assert!(matches!(err, ChannelError::Io(ref e) if e.kind() == io::ErrorKind::InvalidInput));
        let err = a.send(&PreLoginReply::LoginOk, &[b.as_fd()]).unwrap_err();
        assert!(matches!(err, ChannelError::Io(_)));
        b.set_recv_timeout(Some(Duration::from_millis(10))).unwrap();
        let err = b.recv::<PreLoginReply>().unwrap_err();
        assert!(matches!(err, ChannelError::Io(ref e) if e.kind() == io::ErrorKind::WouldBlock));
    }

    #[test]
    fn a_message_of_another_phase_is_a_violation() {
        let (a, b) = Channel::pair().unwrap();
        a.send(&PostLoginRequest::PasvAccept, &[]).unwrap();
        // The pre-login helper only knows Login (tag 1); PasvAccept is tag 2 there.
        let err = b
            .recv::<crate::privsep::msg::PreLoginRequest>()
            .unwrap_err();
        assert!(err.is_violation(), "{err}");
    }

    #[test]
    fn closed_peer() {
        let (a, b) = Channel::pair().unwrap();
        drop(a);
        assert!(matches!(
            b.recv::<PreLoginReply>(),
            Err(ChannelError::Closed)
        ));
        assert!(matches!(
            b.send(&PreLoginReply::LoginOk, &[]),
            Err(ChannelError::Closed)
        ));
    }
}

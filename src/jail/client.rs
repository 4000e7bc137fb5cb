//! The unprivileged end of the helper channel: what the protocol process asks the helper for.

use std::net::{SocketAddr, TcpStream};

use crate::data::active::ConnectError;
use crate::data::passive::{AcceptError, PassiveSource};
use crate::privsep::channel::Channel;
use crate::privsep::msg::{
    Failure, PostLoginReply, PostLoginRequest, PreLoginReply, PreLoginRequest, Username,
};
use crate::proto::Password;
use crate::session::control::Ended;
use crate::session::prelogin::{Authenticator, Outcome};

/// Login decisions come from the helper; the child only learns yes or no.
pub struct HelperAuth<'a> {
    pub channel: &'a Channel,
}

impl Authenticator for HelperAuth<'_> {
    fn authenticate(&mut self, user: &[u8], password: Password) -> Result<Outcome, Ended> {
        let Ok(user) = Username::new(user.to_vec()) else {
            return Ok(Outcome::Refused);
        };
        if password.exceeds_limit() {
            return Ok(Outcome::Refused);
        }
        let req = PreLoginRequest::Login { user, password };
        self.channel.send(&req, &[]).map_err(|_| Ended::Closed)?;
        drop(req);
        match self.channel.recv::<PreLoginReply>() {
            // The helper's word decides; this process only stops reading, and the helper
            // starts the one that serves the login.
            Ok((PreLoginReply::LoginOk, _)) => Ok(Outcome::HandedOver),
            Ok((PreLoginReply::LoginFailed | PreLoginReply::UserDenied, _)) => Ok(Outcome::Refused),
            Ok(_) | Err(_) => Err(Ended::Closed),
        }
    }

    fn user_allowed(&mut self, user: &[u8]) -> Result<bool, Ended> {
        let Ok(user) = Username::new(user.to_vec()) else {
            return Ok(false);
        };
        self.channel
            .send(&PreLoginRequest::CheckUser { user }, &[])
            .map_err(|_| Ended::Closed)?;
        match self.channel.recv::<PreLoginReply>() {
            Ok((PreLoginReply::UserOk, _)) => Ok(true),
            Ok((PreLoginReply::UserDenied, _)) => Ok(false),
            Ok(_) | Err(_) => Err(Ended::Closed),
        }
    }
}

/// Data connections through the helper: passive listeners and accepts, active connects.
pub struct HelperPassive {
    channel: Channel,
    listening: bool,
}

impl HelperPassive {
    pub fn new(channel: Channel) -> HelperPassive {
        HelperPassive {
            channel,
            listening: false,
        }
    }
}

impl PassiveSource for HelperPassive {
    fn listen(&mut self) -> std::io::Result<u16> {
        self.listening = false;
        self.channel
            .send(&PostLoginRequest::PasvListen, &[])
            .map_err(std::io::Error::other)?;
        match self.channel.recv::<PostLoginReply>() {
            Ok((PostLoginReply::PasvListening { port }, _)) => {
                self.listening = true;
                Ok(port)
            }
            Ok(_) => Err(std::io::Error::other("the helper refused a passive socket")),
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    fn is_listening(&self) -> bool {
        self.listening
    }

    fn accept(&mut self) -> Result<TcpStream, AcceptError> {
        if !std::mem::take(&mut self.listening) {
            return Err(AcceptError::NotListening);
        }
        self.channel
            .send(&PostLoginRequest::PasvAccept, &[])
            .map_err(|e| AcceptError::Io(std::io::Error::other(e)))?;
        match self.channel.recv::<PostLoginReply>() {
            Ok((PostLoginReply::DataSocket, mut fds)) => match fds.pop() {
                Some(fd) => Ok(TcpStream::from(fd)),
                None => Err(AcceptError::Io(std::io::Error::other("no fd"))),
            },
            Ok((PostLoginReply::Failed(Failure::BadPeerAddress), _)) => Err(AcceptError::BadIp),
            Ok((PostLoginReply::Failed(Failure::AcceptTimeout), _)) => Err(AcceptError::Timeout),
            Ok(_) => Err(AcceptError::Io(std::io::Error::other("unexpected reply"))),
            Err(e) => Err(AcceptError::Io(std::io::Error::other(e))),
        }
    }

    fn stop_listening(&mut self) {
        // The helper drops its listener on the next PasvListen or PortConnect; until then
        // nothing here will ask it to accept.
        self.listening = false;
    }

    fn chown_upload(&mut self, file: std::os::fd::BorrowedFd<'_>) -> std::io::Result<()> {
        let other = |e: String| std::io::Error::other(e);
        self.channel
            .send(&PostLoginRequest::ChownUpload, &[file])
            .map_err(|e| other(e.to_string()))?;
        match self.channel.recv::<PostLoginReply>() {
            Ok((PostLoginReply::Done, _)) => Ok(()),
            Ok(_) => Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
            Err(e) => Err(other(e.to_string())),
        }
    }

    fn connect(&mut self, target: SocketAddr) -> Result<TcpStream, ConnectError> {
        self.listening = false;
        let other = |e: String| ConnectError::Io(std::io::Error::other(e));
        self.channel
            .send(&PostLoginRequest::PortConnect { addr: target }, &[])
            .map_err(|e| other(e.to_string()))?;
        match self.channel.recv::<PostLoginReply>() {
            Ok((PostLoginReply::DataSocket, mut fds)) => match fds.pop() {
                Some(fd) => Ok(TcpStream::from(fd)),
                None => Err(other("no fd".into())),
            },
            Ok((PostLoginReply::Failed(Failure::NotAllowed | Failure::BadPeerAddress), _)) => {
                Err(ConnectError::NotAllowed)
            }
            Ok((PostLoginReply::Failed(why), _)) => Err(other(format!("{why:?}"))),
            Ok(_) => Err(other("unexpected reply".into())),
            Err(e) => Err(other(e.to_string())),
        }
    }
}

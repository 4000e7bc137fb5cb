//! The privileged half of a session. It never parses FTP: it reads typed requests from its
//! unprivileged child, checks each one again against the configuration, and acts only then.
//! Anything unexpected — a malformed or out-of-phase message, a message carrying fds, a request
//! the configuration does not allow — ends the session (vsftpd's privops.c, in spirit).
//!
//! These loops take a channel and return; forking and process set-up live in `model`, so the
//! loops can be driven in-process by a fake child in tests.

use std::net::TcpListener;
use std::os::fd::AsFd;

use super::channel::{Channel, ChannelError};
use super::msg::{Failure, PostLoginReply, PostLoginRequest, PreLoginReply, PreLoginRequest};
use crate::auth::{self, Login};
use crate::config::Settings;
use crate::data::active::{self, ConnectError};
use crate::data::passive::{self, AcceptError, PassivePolicy};

/// How a helper loop ended.
#[derive(Debug)]
pub enum Ended {
    /// The child closed its end: the session is over.
    Closed,
    /// The child broke the protocol; the session must end now.
    Violation(String),
}

fn ended(e: ChannelError) -> Ended {
    match e {
        ChannelError::Closed => Ended::Closed,
        other => Ended::Violation(other.to_string()),
    }
}

/// Before login: answers login requests until one succeeds (`Ok`) or the child goes away.
pub fn serve_prelogin(settings: &Settings, ch: &Channel) -> Result<Login, Ended> {
    loop {
        let (req, _fds) = ch.recv::<PreLoginRequest>().map_err(ended)?;
        match req {
            PreLoginRequest::Login { user, password } => {
                match auth::decide(&settings.config, user.as_bytes(), password.expose()) {
                    Some(login) => {
                        ch.send(&PreLoginReply::LoginOk, &[]).map_err(ended)?;
                        return Ok(login);
                    }
                    None => ch.send(&PreLoginReply::LoginFailed, &[]).map_err(ended)?,
                }
            }
        }
    }
}

/// After login: makes the sockets the confined child may not make itself, until it goes away.
pub fn serve_postlogin(
    settings: &Settings,
    policy: &PassivePolicy,
    ch: &Channel,
) -> Result<(), Ended> {
    let mut listener: Option<TcpListener> = None;
    loop {
        let (req, _fds) = match ch.recv::<PostLoginRequest>() {
            Ok(x) => x,
            Err(ChannelError::Closed) => return Ok(()),
            Err(e) => return Err(ended(e)),
        };
        match req {
            PostLoginRequest::PasvListen => {
                listener = None;
                let reply = if !settings.config.pasv_enable {
                    PostLoginReply::Failed(Failure::NotAllowed)
                } else {
                    match passive::listen(policy.local_ip, policy.min_port, policy.max_port)
                        .and_then(|l| l.local_addr().map(|a| (l, a.port())))
                    {
                        Ok((l, port)) => {
                            listener = Some(l);
                            PostLoginReply::PasvListening { port }
                        }
                        Err(_) => PostLoginReply::Failed(Failure::BindFailed),
                    }
                };
                ch.send(&reply, &[]).map_err(ended)?;
            }
            PostLoginRequest::PasvAccept => {
                let Some(l) = listener.take() else {
                    ch.send(&PostLoginReply::Failed(Failure::NotAllowed), &[])
                        .map_err(ended)?;
                    continue;
                };
                match passive::accept(
                    &l,
                    policy.control_peer,
                    policy.promiscuous,
                    policy.accept_timeout,
                ) {
                    Ok(stream) => ch
                        .send(&PostLoginReply::DataSocket, &[stream.as_fd()])
                        .map_err(ended)?,
                    Err(e) => {
                        let why = match e {
                            AcceptError::BadIp => Failure::BadPeerAddress,
                            AcceptError::Timeout => Failure::AcceptTimeout,
                            AcceptError::NotListening | AcceptError::Io(_) => {
                                Failure::AcceptTimeout
                            }
                        };
                        ch.send(&PostLoginReply::Failed(why), &[]).map_err(ended)?;
                    }
                }
            }
            // Active mode: the helper checks the target itself (the control peer, no port
            // below 1024, unless port_promiscuous), whatever the child already checked, and
            // connects from the control connection's local address (from ftp_data_port with
            // connect_from_port_20; the helper may bind below 1024).
            PostLoginRequest::PortConnect { addr } => {
                listener = None;
                let reply = if !settings.config.port_enable {
                    Err(Failure::NotAllowed)
                } else {
                    match active::connect(&policy.active, addr) {
                        Ok(stream) => Ok(stream),
                        Err(ConnectError::NotAllowed) => Err(Failure::NotAllowed),
                        Err(ConnectError::Timeout | ConnectError::Io(_)) => {
                            Err(Failure::ConnectFailed)
                        }
                    }
                };
                match reply {
                    Ok(stream) => ch
                        .send(&PostLoginReply::DataSocket, &[stream.as_fd()])
                        .map_err(ended)?,
                    Err(why) => ch.send(&PostLoginReply::Failed(why), &[]).map_err(ended)?,
                }
            }
        }
    }
}

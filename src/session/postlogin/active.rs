//! Active mode (issue #5): PORT and EPRT, and ABOR.
//!
//! As vsftpd (postlogin.c): with port_enable=NO both commands get `550 Permission denied.`, and
//! so does PORT after `EPSV ALL` (vsftpd lets EPRT through then). Either command first drops
//! any PASV listener and earlier PORT target; a target that is not the control peer, or has a
//! port below 1024, is refused with `500 Illegal PORT command.` / `500 Illegal EPRT command.`
//! unless port_promiscuous. Whoever connects (the helper, in the two-process model) checks the
//! target again.

use std::net::{SocketAddr, TcpStream};

use super::Session;
use crate::data::active::ActivePolicy;
use crate::privsep::privops;
use crate::proto::addr::{self, EprtError};
use crate::proto::reply;
use crate::session::control::Ended;

impl Session<'_> {
    fn active_policy(&self) -> ActivePolicy {
        ActivePolicy::from_config(
            &self.settings.config,
            self.ctrl.local.ip(),
            self.ctrl.peer.ip(),
        )
    }

    /// Forgets PASV and any earlier PORT/EPRT (vsftpd's pasv_cleanup and port_cleanup).
    fn data_cleanup(&mut self) {
        self.port_target = None;
        self.passive.stop_listening();
    }

    pub(super) fn port(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.settings.config.port_enable || self.epsv_all {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        self.data_cleanup();
        let Some(target) = addr::parse_port(arg) else {
            return self.ctrl.reply(reply::PORT_ILLEGAL);
        };
        let target = SocketAddr::V4(target);
        if !privops::port_target_allowed(&self.active_policy(), target) {
            return self.ctrl.reply(reply::PORT_ILLEGAL);
        }
        self.port_target = Some(target);
        self.ctrl.reply(reply::PORT_OK)
    }

    pub(super) fn eprt(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.settings.config.port_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        self.data_cleanup();
        // vsftpd checks the protocol first: 2 needs an IPv6 control connection (a v4-mapped
        // one counts, as its socket is IPv6).
        let local_v6 = self.ctrl.local.is_ipv6();
        match addr::eprt_protocol(arg) {
            Ok(2) if !local_v6 => return self.ctrl.reply(reply::EPRT_BAD_PROTOCOL),
            Err(EprtError::BadProtocol) => return self.ctrl.reply(reply::EPRT_BAD_PROTOCOL),
            _ => {}
        }
        let target = match addr::parse_eprt(arg) {
            Ok(t) => t,
            Err(EprtError::BadProtocol) => return self.ctrl.reply(reply::EPRT_BAD_PROTOCOL),
            Err(EprtError::Illegal) => return self.ctrl.reply(reply::EPRT_BAD),
        };
        if !privops::port_target_allowed(&self.active_policy(), target) {
            return self.ctrl.reply(reply::EPRT_ILLEGAL);
        }
        self.port_target = Some(target);
        self.ctrl.reply(reply::EPRT_OK)
    }

    pub(super) fn abor(&mut self) -> Result<(), Ended> {
        self.ctrl.reply(reply::NO_TRANSFER_TO_ABOR)
    }

    /// Connects to where PORT/EPRT pointed (through the helper in the two-process model), or
    /// sends the reply that says why not.
    pub(super) fn active_connection(
        &mut self,
        target: SocketAddr,
    ) -> Result<Option<TcpStream>, Ended> {
        match self.passive.connect(target) {
            Ok(s) => {
                self.ready_data_socket(&s);
                Ok(Some(s))
            }
            Err(_) => {
                self.ctrl.reply(reply::FAILED_TO_ESTABLISH)?;
                Ok(None)
            }
        }
    }
}

//! Active mode (issue #5): PORT and EPRT, and ABOR.

use super::Session;
use crate::proto::reply;
use crate::session::control::Ended;

impl Session<'_> {
    pub(super) fn port(&mut self, _arg: &[u8]) -> Result<(), Ended> {
        self.ctrl.reply(reply::UNKNOWN_COMMAND)
    }

    pub(super) fn eprt(&mut self, _arg: &[u8]) -> Result<(), Ended> {
        self.ctrl.reply(reply::UNKNOWN_COMMAND)
    }

    pub(super) fn abor(&mut self) -> Result<(), Ended> {
        self.ctrl.reply(reply::NO_TRANSFER_TO_ABOR)
    }

    /// Connects to where PORT/EPRT pointed (through the helper in the two-process model), or
    /// sends the reply that says why not.
    pub(super) fn active_connection(
        &mut self,
        _target: std::net::SocketAddr,
    ) -> Result<Option<std::net::TcpStream>, Ended> {
        self.ctrl.reply(reply::FAILED_TO_ESTABLISH)?;
        Ok(None)
    }
}

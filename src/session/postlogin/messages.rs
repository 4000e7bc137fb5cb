//! dirmessage_enable / message_file (issue #4): the `250-` lines shown on entering a directory.

use super::Session;
use crate::session::control::Ended;

impl Session<'_> {
    /// Sends the message file of the directory just entered, before the 250 reply.
    pub(super) fn dir_message(&mut self) -> Result<(), Ended> {
        Ok(())
    }
}

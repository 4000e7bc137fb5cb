//! Privilege separation: the session helper and the protocol process (issue #3).
#![forbid(unsafe_code)]

pub mod channel;
pub mod msg;

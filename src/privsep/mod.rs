//! Privilege separation: the session helper and the protocol process (DESIGN.md "Processes").
#![forbid(unsafe_code)]

pub mod channel;
pub mod client;
pub mod helper;
pub mod model;
pub mod msg;

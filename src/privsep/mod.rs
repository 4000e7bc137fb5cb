//! Privilege separation: everything that runs with privilege once a connection is accepted,
//! and nothing else (DESIGN.md "Processes"). With `crate::sys` this is the trusted base
//! (docs/SECURITY.md counts it):
//! - [`helper`]: the session helper's life and its serve loops;
//! - [`privops`]: every check it makes on a request, in one file;
//! - [`channel`] and [`msg`]: the typed, bounded messages between it and its children.
//!
//! The children's side — who they become, their jail, their end of the channel — is
//! `crate::jail`.
#![forbid(unsafe_code)]

pub mod channel;
pub mod helper;
pub mod msg;
pub mod privops;

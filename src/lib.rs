//! vsftpd-rs: a memory-safe reimplementation of vsftpd.
//!
//! The binary (`src/main.rs`) is a thin front: it parses the command line, builds the
//! configuration and hands over to [`daemon`]. Everything that touches the kernel directly lives
//! in [`sys`]; every other module forbids `unsafe`.

pub mod auth;
pub mod config;
pub mod daemon;
pub mod data;
pub mod fs;
pub mod fuzzing;
pub mod jail;
pub mod limits;
pub mod log;
pub mod privsep;
pub mod proto;
pub mod session;
pub mod sys;
pub mod tls;

/// The vsftpd release whose behaviour we reproduce.
pub const VSFTPD_VERSION: &str = "3.0.5";
/// Our own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

//! The FTP control protocol, without I/O of its own: the bounded line reader, the command enums,
//! the reply table with its one encoder, and virtual-path arithmetic.
//!
//! Everything here handles bytes straight from the network, so nothing here may panic or allocate
//! without a bound: the lints below make `unwrap`, `expect`, slice indexing and `panic!` compile
//! errors, and every buffer is capped by a constant from [`crate::limits`].
//!
//! - [`line`](mod@line): [`line::LineReader`] reads one control line (at most
//!   [`crate::limits::MAX_COMMAND_LINE`] bytes), Telnet bytes and all, as vsftpd's
//!   `control_getline`.
//! - [`command`]: a line becomes a [`command::PreLoginCommand`] before login or a
//!   [`command::Command`] after it, so a post-login handler cannot be reached before login.
//! - [`reply`]: every reply code and every fixed text, and the encoder that keeps client bytes
//!   from forging a reply line.
//! - [`password`]: the one password type, never printable, wiped on drop.
//! - [`path`]: the session's virtual paths (`/pub/x`), normalised lexically, never above `/`.
//! - [`proxy`]: the PROXY protocol header a load balancer sends before the client's bytes.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub mod addr;
pub mod command;
pub mod line;
pub mod password;
pub mod path;
pub mod proxy;
pub mod reply;

pub use password::Password;

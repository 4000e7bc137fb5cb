//! The integration-test harness: every test drives the real `vsftpd` binary.
//!
//! - [`ServerBuilder`] / [`Server`]: a config file and a served tree in a fresh temp dir, the
//!   binary started on an ephemeral loopback port, readiness and the port read from the
//!   NOTIFY_SOCKET datagrams, killed and reaped on Drop.
//! - [`FtpClient`] / [`Reply`]: a small raw FTP client that returns the exact reply bytes.
//! - [`accounts`]: real accounts, groups and PAM services, removed on Drop.
//! - [`procs`]: /proc, to see which processes a daemon runs, as whom, where.
//! - [`listing`]: vsftpd's LIST line format, expected and parsed.
//! - [`tools`]: the real clients (curl, wget, lftp, Python's ftplib) with timeouts, and
//!   [`run_vsftpd`] for one-shot CLI runs.
//!
//! Each test binary uses a different part of it.
#![allow(dead_code)]

pub mod accounts;
pub mod client;
pub mod listing;
pub mod oracle;
pub mod procs;
pub mod rsyslog;
pub mod server;
pub mod tools;

#[allow(unused_imports)]
pub use client::*;
#[allow(unused_imports)]
pub use listing::*;
#[allow(unused_imports)]
pub use oracle::*;
#[allow(unused_imports)]
pub use procs::*;
#[allow(unused_imports)]
pub use rsyslog::Rsyslog;
#[allow(unused_imports)]
pub use server::*;
#[allow(unused_imports)]
pub use tools::*;

/// Our version, as the binary reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The default greeting: `220 (vsFTPd-rs VERSION)`.
pub fn default_banner() -> String {
    format!("220 (vsFTPd-rs {VERSION})")
}

/// Fails the test unless `haystack` holds no sign of the host's /etc/passwd.
pub fn assert_no_host_passwd(haystack: &[u8], context: &str) {
    let text = String::from_utf8_lossy(haystack);
    assert!(
        !text.contains("root:x:0:0") && !text.contains("root:*:0:0") && !text.contains(":/bin/"),
        "{context}: the host's /etc/passwd leaked: {:?}",
        text.chars().take(300).collect::<String>()
    );
}

/// A new connection logs in and lists the root: the listener still serves.
/// Returns the listing.
pub fn assert_serving(server: &mut Server) -> Vec<u8> {
    assert!(
        server.is_running(),
        "the daemon died; stderr:\n{}",
        server.stderr()
    );
    let mut c = server.login();
    let listing = c.list("");
    let q = c.cmd("QUIT");
    q.assert_is("221 Goodbye.");
    listing
}

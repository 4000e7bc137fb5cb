//! Every hard limit of the daemon, in one place (vsftpd keeps its own in defs.h).
//!
//! Network input and configuration files are hostile or at least careless; each bound here is
//! what keeps one bad client or file from costing more than its own session.

/// Longest control line accepted, including the CRLF (vsftpd: VSFTP_MAX_COMMAND_LINE).
pub const MAX_COMMAND_LINE: usize = 4096;
/// Longest user name accepted by USER (vsftpd: VSFTP_USERNAME_MAX).
pub const MAX_USERNAME: usize = 128;
/// Longest password accepted by PASS (vsftpd: VSFTP_PASSWORD_MAX).
pub const MAX_PASSWORD: usize = 128;
/// Largest configuration file read (vsftpd: VSFTP_CONF_FILE_MAX).
pub const MAX_CONFIG_FILE: u64 = 100 * 1024;
/// Longest single value in a configuration file or `-o` option.
pub const MAX_CONFIG_VALUE: usize = 4096;
/// Glob matching steps allowed per listing request (vsftpd: VSFTP_MATCHITERS_MAX).
pub const MAX_GLOB_STEPS: usize = 1000;
/// Unknown commands tolerated before login (vsftpd 3.0.4+).
pub const MAX_PRELOGIN_UNKNOWN: u32 = 10;
/// Largest banner_file or message_file shown to a client.
pub const MAX_MESSAGE_FILE: u64 = 4096;
/// Entries in one directory listing before the rest is cut off.
pub const MAX_DIR_ENTRIES: usize = 1_000_000;
/// Depth of `LIST -R` recursion.
pub const MAX_LIST_DEPTH: usize = 64;
/// Longest path (virtual, as the client sees it) that a session builds.
pub const MAX_PATH: usize = 4096;

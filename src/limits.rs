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
/// Path components one listing may walk to find the real paths its filter matches (each an
/// lstat, a symlink also a readlink): about a second of system calls at worst. Past it, names
/// match as they are.
pub const MAX_FILTER_LOOKUP_STEPS: usize = 200_000;
/// Longest path (virtual, as the client sees it) that a session builds.
pub const MAX_PATH: usize = 4096;
/// Largest banner_file read; longer files are cut here (vsftpd reads it with
/// VSFTP_CONF_FILE_MAX).
pub const MAX_BANNER_FILE: u64 = 100 * 1024;
/// Largest banned_email_file / email_password_file read; longer files are cut here (vsftpd:
/// VSFTP_CONF_FILE_MAX).
pub const MAX_EMAIL_LIST_FILE: u64 = 100 * 1024;
/// userlist_file and chroot_list_file: read at most this much of each (vsftpd reads them as
/// config-sized files); the rest of a longer file is not looked at.
pub const MAX_USER_LIST_FILE: u64 = 100 * 1024;
/// virtual_users_file: read at most this much (the rest is not looked at), and a line longer
/// than [`MAX_VIRTUAL_USERS_LINE`] is malformed (a crypt hash is ~100 bytes).
pub const MAX_VIRTUAL_USERS_FILE: u64 = 4 * 1024 * 1024;
pub const MAX_VIRTUAL_USERS_LINE: usize = 4096;
/// Largest message_file shown on entering a directory; longer files are cut here (vsftpd:
/// VSFTP_MAX_MSGFILE_SIZE).
pub const MAX_DIR_MESSAGE: u64 = 1000;
/// Directories whose message a session remembers having shown (vsftpd:
/// VSFTP_MAX_VISIT_REMEMBER); past this, new directories show theirs on every visit.
pub const MAX_VISITED_DIRS: usize = 100;
/// Commands a client may queue on the control connection during a transfer (read while looking
/// for ABOR, answered afterwards); beyond that the rest waits unread on the socket.
pub const MAX_PENDING_COMMANDS: usize = 16;
/// How soon a transfer looks again at a control connection that holds half a line (the rest of
/// an ABOR after its Telnet IP/DM prefix, say) rather than poll it in a busy loop.
pub const PARTIAL_LINE_RECHECK: std::time::Duration = std::time::Duration::from_millis(50);
/// Bytes per sendfile(2) call when no rate limit applies: between two calls the transfer looks
/// at the control connection (ABOR) and the data timeout.
pub const SENDFILE_CHUNK: usize = 1024 * 1024;
/// The read/write buffer of a download, and the largest trans_chunk_size honoured (vsftpd:
/// VSFTP_DATA_BUFSIZE; also its chunk under a rate limit when trans_chunk_size is 0).
pub const DATA_BUFFER: usize = 64 * 1024;
/// One read of an upload without a rate limit: large, so a gigabyte costs few system calls.
pub const UPLOAD_BUFFER: usize = 1024 * 1024;
/// The pipe an upload is spliced through: a quarter of UPLOAD_BUFFER measured as fast as the
/// whole of it (docs/PERFORMANCE.md), and four times less of the user's pipe budget.
pub const UPLOAD_PIPE: usize = 256 * 1024;
/// The smallest trans_chunk_size honoured (vsftpd: 4096); smaller values are raised to it.
pub const MIN_TRANS_CHUNK: usize = 4096;
/// TCP_NOTSENT_LOWAT of a data connection: the most bytes it queues that TCP has not sent yet.
/// Bytes in flight are still bounded only by the congestion window and the autotuned buffer,
/// so long fat paths keep their speed; what changes is that the sender transmits from its own
/// process, a little at a time, instead of piling megabytes of file pages into the socket for
/// the ACK path to push out later. On loopback that took sendfile downloads from ~2.9 to
/// ~5 GB/s for one stream and from ~4 to ~6.5 GB/s for four (docs/PERFORMANCE.md); at 128 KiB
/// and above the gain vanished there.
pub const DATA_NOTSENT_LOWAT: u32 = 32 * 1024;

/// Freed memory a post-login process keeps for its next listing instead of returning it to
/// the kernel (see `sys::process::keep_freed_memory`): a 10,000-entry directory needs ~0.5 MiB.
pub const KEPT_FREE_MEMORY: usize = 4 * 1024 * 1024;

/// What a helper relays to the logs of its children's standard error when they end (a seccomp
/// trap's report, a panic): at most this many writes of theirs, each read up to 4 KiB.
pub const MAX_RELAYED_REPORTS: usize = 64;
/// Longest PROXY protocol version 1 line, with its CRLF (the specification's own bound).
pub const MAX_PROXY_V1: usize = 107;
/// Largest PROXY protocol version 2 header accepted, TLVs included: its length field could
/// announce 64 kB; a balancer's addresses and usual TLVs take a few hundred bytes.
pub const MAX_PROXY_V2: usize = 16 + 2048;

/// Connections the standalone listener accepts per wake-up of its poll. Under a steady crowd
/// the listening socket never runs dry: without a bound one socket would keep the listener
/// from the other (listen and listen_ipv6) and from its poll. Each accept costs a fork (~0.1 ms
/// of the listener's CPU), so a batch is a millisecond or two of work; SIGHUP and SIGTERM end
/// a batch early.
pub const ACCEPTS_PER_WAKEUP: usize = 16;

//! The one table of tunables.
//!
//! Every option vsftpd's parsers know (upstream 3.0.5, Red Hat's patched 3.0.3 and Debian's
//! 3.0.3) is declared here exactly once. The `tunables!` macro turns the table into:
//! the typed [`Config`] struct (one field per option, named after its vsftpd.conf key), the blank
//! constructor and the name-keyed field accessors that both parsers go through, and the static
//! [`Tunable`] descriptions from which the defaults, the validators, `--print-config` and
//! docs/TUNABLES.md are derived. There is no second list of names anywhere.
//!
//! Entry syntax, one per tunable:
//!
//! ```text
//! name [| "alias"]* : Kind[(max)] = "upstream default" [/ "rhel default"] [@ validator] ;
//!     Dialect ; State ; "one-line description" ;
//! ```
//!
//! Defaults are written in vsftpd.conf syntax (`YES`/`NO`, decimal, leading-0 octal; `""` is
//! vsftpd's "(none)") and go through the same parser as a config file line; a unit test checks
//! that every one of them parses and passes its validator.

use super::value::{self, Field, Value};
use super::{Dialect, Kind, State, Tunable};
use State::{Implemented, NoEffect, Planned, Refused};

/// The Rust type of a field of each kind.
macro_rules! kind_ty {
    (Bool) => { bool };
    (Uint) => { u32 };
    (Octal) => { u32 };
    (Str) => { Option<String> };
}

/// The largest value a numeric tunable takes (0 for the others).
macro_rules! kind_max {
    (Bool) => {
        0
    };
    (Str) => {
        0
    };
    (Uint) => {
        u32::MAX
    };
    (Octal) => {
        0o7777
    };
    (Uint, $max:expr) => {
        $max
    };
    (Octal, $max:expr) => {
        $max
    };
}

/// The RHEL default: the upstream one unless the entry names its own.
macro_rules! rhel_default {
    ($up:literal) => {
        $up
    };
    ($up:literal, $rhel:literal) => {
        $rhel
    };
}

macro_rules! tunables {
    ( $(
        $name:ident $( | $alias:tt )* : $kind:ident $( ( $max:expr ) )?
            = $up:literal $( / $rhel:literal )? $( @ $check:path )? ;
            $dialect:ident ; $state:expr ; $doc:literal ;
    )* ) => {
        /// Every tunable's effective value: one field per vsftpd.conf key, named after it.
        ///
        /// Booleans are `bool`; numbers (including the octal modes and umasks) are `u32`;
        /// strings are `Option<String>`, where `None` is vsftpd's "(none)". Build one with
        /// [`Config::defaults`] or, with files and `-o` options applied, through a
        /// [`Loader`](super::Loader).
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct Config {
            $(
                #[doc = $doc]
                pub $name: kind_ty!($kind),
            )*
        }

        impl Config {
            /// Every field false, zero or unset: the starting point that the defaults are
            /// written onto.
            pub(crate) fn blank() -> Config {
                Config { $( $name: Default::default(), )* }
            }

            /// Stores `value` into the field of the tunable whose canonical name is `name`.
            /// False when there is no such field or the value is of another kind.
            pub(crate) fn put(&mut self, name: &str, value: Value) -> bool {
                match name {
                    $( stringify!($name) => Field::store(&mut self.$name, value), )*
                    _ => false,
                }
            }

            /// The value of the field of the tunable whose canonical name is `name`.
            pub(crate) fn get(&self, name: &str) -> Option<Value> {
                match name {
                    $( stringify!($name) => Some(Field::load(&self.$name)), )*
                    _ => None,
                }
            }
        }

        static TUNABLES: &[Tunable] = &[
            $(
                Tunable {
                    name: stringify!($name),
                    aliases: &[ $( $alias ),* ],
                    kind: Kind::$kind,
                    default_upstream: $up,
                    default_rhel: rhel_default!($up $(, $rhel)?),
                    doc: $doc,
                    state: $state,
                    dialect: Dialect::$dialect,
                    max: kind_max!($kind $(, $max)?),
                    check: first_check!($( $check )?),
                },
            )*
        ];
    };
}

/// The optional validator of an entry.
macro_rules! first_check {
    () => {
        None
    };
    ($check:path) => {
        Some($check)
    };
}

/// Every tunable, in the order of the table.
pub(crate) fn all() -> &'static [Tunable] {
    TUNABLES
}

const PORT: u32 = 65535;
const UMASK: u32 = 0o777;
const MODE: u32 = 0o7777;
const FTPS_GROUPS: &str =
    "rustls offers only ECDHE with X25519 and the NIST curves; no parameters to load";
const OLD_TLS: &str = "only TLS 1.2 and 1.3 are offered (rustls)";

tunables! {
    // ---- Listener, process model, connection limits -------------------------------------
    listen: Bool = "NO"; Upstream; Implemented;
        "Run as a standalone daemon listening on IPv4 (NO, Debian's default: inetd mode, the session on stdin/stdout). Cannot be combined with listen_ipv6=YES.";
    listen_ipv6: Bool = "NO"; Upstream; Implemented;
        "Run as a standalone daemon listening on an IPv6 socket; bound to :: it also accepts IPv4 clients (as ::ffff:a.b.c.d).";
    listen_address: Str = "" @ value::ipv4_literal; Upstream; Implemented;
        "IPv4 address the standalone listener binds to (unset: every address).";
    listen_address6: Str = "" @ value::ipv6_literal; Upstream; Implemented;
        "IPv6 address the standalone listener binds to when listen_ipv6=YES (unset: every address).";
    listen_port: Uint(PORT) = "21"; Upstream; Implemented;
        "TCP port of the standalone listener; 0 binds an ephemeral port (reported to systemd).";
    background: Bool = "NO" / "YES"; Upstream; Implemented;
        "Standalone mode: fork into the background once the listener is bound.";
    max_clients: Uint = "2000"; Upstream; Implemented;
        "Standalone mode: most sessions at once (0 = no limit); the next client gets a 421 reply.";
    max_per_ip: Uint = "50"; Upstream; Implemented;
        "Standalone mode: most sessions at once from one client address (0 = no limit); the next gets a 421 reply.";
    run_as_launching_user: Bool = "NO"; Upstream; Implemented;
        "Run everything as the user who started the daemon (no root, no privilege separation); for unprivileged test setups.";
    one_process_model: Bool = "NO"; Upstream;
        NoEffect("the two-process model is always used");
        "vsftpd's legacy one-process-per-session model without privilege separation.";
    setproctitle_enable: Bool = "NO"; Upstream; Planned("#12");
        "Show each session's state (client address, user, command) in the process list.";
    tcp_wrappers: Bool = "NO"; Upstream;
        Refused("no libwrap; use the firewall or pam_access");
        "Check clients against /etc/hosts.allow and /etc/hosts.deny with libwrap.";
    ftp_enable: Bool = "YES"; Upstream; Implemented;
        "Serve FTP on the listener.";
    http_enable: Bool = "NO"; Upstream;
        Refused("vsftpd's experimental HTTP mode is not reproduced");
        "vsftpd's undocumented, experimental HTTP serving mode.";
    bind_retries: Uint = "9"; Rhel; Planned("#5");
        "Attempts at binding a free passive-mode port before giving up (upstream vsftpd always makes 10).";
    proxy_protocol_enable: Bool = "NO"; Ours; Implemented;
        "Behind a load balancer: every control connection begins with a PROXY protocol header (v1 or v2) from a proxy_protocol_trusted peer within accept_timeout, else it is closed without a greeting; its client address counts for max_per_ip, the logs, PAM and the data connection checks.";
    proxy_protocol_trusted: Str = "127.0.0.0/8,::1" @ value::cidr_list; Ours; Implemented;
        "With proxy_protocol_enable: the balancers allowed to send the header, as comma-separated addresses and CIDR blocks.";

    // ---- Data connections ------------------------------------------------------------------
    pasv_enable: Bool = "YES"; Upstream; Implemented;
        "Allow passive data connections (PASV, EPSV).";
    pasv_min_port: Uint(PORT) = "5001"; Upstream; Implemented;
        "Lowest port offered for passive data connections (values below 1024 count as 1024).";
    pasv_max_port: Uint(PORT) = "0"; Upstream; Implemented;
        "Highest port offered for passive data connections (0 = 65535).";
    pasv_address: Str = ""; Upstream; Implemented;
        "IPv4 address announced in the 227 reply to PASV, e.g. the public address behind NAT (unset: the control connection's local address).";
    pasv_addr_resolve: Bool = "NO"; Upstream; Implemented;
        "pasv_address is a host name, resolved once at start-up.";
    pasv_promiscuous: Bool = "NO"; Upstream; Planned("#5");
        "Accept a passive data connection from any address, not only the control connection's peer (FXP).";
    port_enable: Bool = "YES"; Upstream; Implemented;
        "Allow active data connections (PORT, EPRT).";
    port_promiscuous: Bool = "NO"; Upstream; Implemented;
        "Allow PORT/EPRT to any address and port, not only the client's own, port 1024 and up (FXP; FTP bounce risk).";
    connect_from_port_20: Bool = "NO"; Upstream; Implemented;
        "Open active data connections from port ftp_data_port (20) of the server, which needs privilege.";
    ftp_data_port: Uint(PORT) = "20"; Upstream; Implemented;
        "Source port of active data connections when connect_from_port_20=YES.";
    use_sendfile: Bool = "YES"; Upstream; Implemented;
        "Send binary downloads with sendfile(2).";
    ascii_download_enable: Bool = "NO"; Upstream; Implemented;
        "Honour TYPE A on downloads (LF becomes CRLF); SIZE still reports the raw size.";
    trans_chunk_size: Uint = "0"; Upstream; Implemented;
        "Bytes per read/write in transfers (0 = automatic); about 8192 smooths the rate limits.";
    anon_max_rate: Uint = "0"; Upstream; Implemented;
        "Transfer rate limit of anonymous sessions in bytes per second (0 = none).";
    idle_session_timeout: Uint = "300"; Upstream; Implemented;
        "Seconds a session may wait between commands before '421 Timeout.'.";
    data_connection_timeout: Uint = "300"; Upstream; Implemented;
        "Seconds a data transfer may stall before '421 Data timeout. Reconnect. Sorry.'.";
    accept_timeout: Uint = "60"; Upstream; Implemented;
        "Seconds to wait for the client to connect to a passive data port.";
    connect_timeout: Uint = "60"; Upstream; Implemented;
        "Seconds to wait for an active data connection to the client to be established.";
    async_abor_enable: Bool = "NO"; Upstream;
        NoEffect("ABOR always works, synchronously or as urgent data");
        "Recognise ABOR sent as urgent (out-of-band) data during a transfer.";

    // ---- Anonymous users -------------------------------------------------------------------
    anonymous_enable: Bool = "YES"; Upstream; Implemented;
        "Accept anonymous logins (USER ftp or anonymous).";
    ftp_username: Str = "ftp" @ value::user_name; Upstream; Implemented;
        "System account that anonymous sessions run as; its home directory is the anonymous root unless anon_root is set.";
    anon_root: Str = ""; Upstream; Implemented;
        "Directory anonymous sessions are jailed in (unset: ftp_username's home; relative: below that home).";
    no_anon_password: Bool = "NO"; Upstream; Implemented;
        "Log anonymous users in without asking for a password.";
    anon_world_readable_only: Bool = "YES"; Upstream; Implemented;
        "Anonymous users may only download files that everyone may read.";
    anon_upload_enable: Bool = "NO"; Upstream; Implemented;
        "Anonymous users may upload files (also needs write_enable=YES).";
    anon_mkdir_write_enable: Bool = "NO"; Upstream; Implemented;
        "Anonymous users may create directories (also needs write_enable=YES).";
    anon_other_write_enable: Bool = "NO"; Upstream; Implemented;
        "Anonymous users may delete and rename (also needs write_enable=YES).";
    anon_umask: Octal(UMASK) = "077"; Upstream; Implemented;
        "umask for files created by anonymous users.";
    chown_uploads: Bool = "NO"; Upstream; Implemented;
        "Give anonymous uploads to chown_username.";
    chown_username: Str = "root" @ value::user_name; Upstream; Implemented;
        "Owner of anonymous uploads when chown_uploads=YES.";
    chown_upload_mode: Octal(MODE) = "0600"; Upstream; Implemented;
        "Mode of anonymous uploads given away with chown_uploads=YES.";
    deny_email_enable: Bool = "NO"; Upstream; Implemented;
        "Refuse anonymous logins whose password (e-mail address) is listed in banned_email_file.";
    banned_email_file: Str = "/etc/vsftpd.banned_emails" / "/etc/vsftpd/banned_emails"; Upstream;
        Implemented;
        "File of anonymous passwords refused when deny_email_enable=YES.";
    secure_email_list_enable: Bool = "NO"; Upstream; Implemented;
        "Accept only the anonymous passwords listed in email_password_file.";
    email_password_file: Str = "/etc/vsftpd.email_passwords" / "/etc/vsftpd/email_passwords";
        Upstream; Implemented;
        "File of anonymous passwords accepted when secure_email_list_enable=YES.";

    // ---- Local users and login control -----------------------------------------------------
    local_enable: Bool = "NO"; Upstream; Implemented;
        "Accept logins of system accounts through PAM (also needed for guest users).";
    pam_service_name: Str = "ftp" @ value::plain_name; Upstream; Implemented;
        "PAM service used for logins (the file /etc/pam.d/NAME).";
    check_shell: Bool = "YES"; Upstream;
        NoEffect("applies to non-PAM builds only; PAM's pam_shells does this");
        "Require a login shell listed in /etc/shells (vsftpd builds without PAM only).";
    userlist_enable: Bool = "NO"; Upstream; Implemented;
        "Check userlist_file at USER time, before any password is asked.";
    userlist_deny: Bool = "YES"; Upstream; Implemented;
        "YES: users in userlist_file are refused; NO: only they are let in.";
    userlist_file: Str = "/etc/vsftpd.user_list" / "/etc/vsftpd/user_list"; Upstream; Implemented;
        "File of user names for userlist_enable.";
    userlist_log: Bool = "NO"; Rhel; Implemented;
        "Log logins refused by the user list.";
    reverse_lookup_enable: Bool = "NO" / "YES"; Rhel; Implemented;
        "Give PAM the client's host name (reverse DNS) instead of its address (upstream vsftpd never looks up, hence NO there).";
    local_root: Str = ""; Upstream; Implemented;
        "Directory local users start in (and are jailed in with chroot); may contain user_sub_token.";
    local_umask: Octal(UMASK) = "077"; Upstream; Implemented;
        "umask for files created by local users.";
    local_max_rate: Uint = "0"; Upstream; Implemented;
        "Transfer rate limit of local users in bytes per second (0 = none).";
    tilde_user_enable: Bool = "NO"; Upstream; Implemented;
        "Expand ~user in paths to that user's home directory.";
    session_support: Bool = "NO"; Upstream; Implemented;
        "Open a PAM session for each login and record it in utmp/wtmp.";
    delay_failed_login: Uint = "1"; Upstream; Implemented;
        "Seconds to wait before answering a failed login.";
    delay_successful_login: Uint = "0"; Upstream; Implemented;
        "Seconds to wait before answering a successful login.";
    max_login_fails: Uint = "3"; Upstream; Implemented;
        "Failed logins after which the session is closed.";

    // ---- chroot ----------------------------------------------------------------------------
    chroot_local_user: Bool = "NO"; Upstream; Implemented;
        "Jail local users in their home directory (or local_root).";
    chroot_list_enable: Bool = "NO"; Upstream; Implemented;
        "Users in chroot_list_file are jailed (or, with chroot_local_user=YES, are not).";
    chroot_list_file: Str = "/etc/vsftpd.chroot_list" / "/etc/vsftpd/chroot_list"; Upstream;
        Implemented;
        "File of user names for chroot_list_enable.";
    passwd_chroot_enable: Bool = "NO"; Upstream; Implemented;
        "A /./ in the home directory from passwd marks where the jail starts.";
    allow_writeable_chroot: Bool = "NO"; Upstream; Implemented;
        "Allow a jail whose root the user can write to (refused otherwise, as vsftpd does).";
    secure_chroot_dir: Str = "/var/run/vsftpd/empty" / "/usr/share/empty" @ value::absolute_path;
        Upstream; Implemented;
        "Empty directory, not writable by the FTP user, that unprivileged session processes are jailed in (Debian's default; upstream vsftpd's and Red Hat's is /usr/share/empty).";
    nopriv_user: Str = "nobody" @ value::user_name; Upstream; Implemented;
        "Unprivileged account that runs the pre-login protocol process.";

    // ---- Guest and virtual users -----------------------------------------------------------
    guest_enable: Bool = "NO"; Upstream; Implemented;
        "Every non-anonymous login becomes guest_username (virtual users, e.g. pam_userdb).";
    guest_username: Str = "ftp" @ value::user_name; Upstream; Implemented;
        "Account that guest (virtual) users run as.";
    virtual_use_local_privs: Bool = "NO"; Upstream; Implemented;
        "Virtual users get the rights of local users rather than those of anonymous users.";
    user_config_dir: Str = ""; Upstream; Implemented;
        "Directory of per-user configuration files, named after the login name (key=value format).";
    virtual_users_file: Str = "" @ value::absolute_path_or_none; Ours; Implemented;
        "File of virtual users, one `name:crypt-hash` per line ($6$, $y$ …), read at every login; they log in as guests (guest_username).";
    user_sub_token: Str = ""; Upstream; Implemented;
        "Token (e.g. $USER) replaced by the login name in local_root and home directories.";

    // ---- Writes and command filters --------------------------------------------------------
    write_enable: Bool = "NO"; Upstream; Implemented;
        "Master switch of every command that changes the file system (STOR, DELE, MKD, RMD, RNFR/RNTO, APPE, SITE CHMOD...).";
    file_open_mode: Octal(MODE) = "0666"; Upstream; Implemented;
        "Mode of uploaded files before the umask.";
    chmod_enable: Bool = "YES"; Upstream; Implemented;
        "Allow SITE CHMOD (local users only).";
    mdtm_write: Bool = "YES"; Upstream; Implemented;
        "Allow MDTM with a time argument to set a file's modification time.";
    lock_upload_files: Bool = "YES"; Upstream; Implemented;
        "Lock files (fcntl) while they are uploaded or downloaded.";
    delete_failed_uploads: Bool = "NO"; Upstream; Implemented;
        "Remove files whose upload failed.";
    ascii_upload_enable: Bool = "NO"; Upstream; Implemented;
        "Honour TYPE A on uploads (CRLF becomes LF).";
    better_stou: Bool = "NO"; Rhel;
        NoEffect("STOU names are always created exclusively (O_EXCL), so always race-free");
        "Race-free file name generation for STOU.";
    upload_file: Str = ""; Debian; Implemented;
        "Pattern of the file names that may be uploaded.";
    cmds_allowed: Str = ""; Upstream; Implemented;
        "Comma-separated list of the only commands allowed after login.";
    cmds_denied: Str = ""; Upstream; Implemented;
        "Comma-separated list of commands refused after login.";
    download_enable: Bool = "YES"; Upstream; Implemented;
        "Allow downloads (NO: every RETR is refused).";
    download_file: Str = ""; Debian; Implemented;
        "Pattern of the file names that may be downloaded.";

    // ---- Listings, messages, presentation --------------------------------------------------
    dirlist_enable: Bool = "YES"; Upstream; Implemented;
        "Allow directory listings (NO: LIST, NLST and STAT with a path are refused).";
    force_dot_files: Bool = "NO"; Upstream; Implemented;
        "List names starting with a dot even when the client did not ask with -a.";
    ls_recurse_enable: Bool = "NO"; Upstream; Implemented;
        "Allow LIST -R.";
    hide_ids: Bool = "NO"; Upstream; Implemented;
        "Show every owner and group as ftp in listings.";
    text_userdb_names: Bool = "NO"; Upstream; Implemented;
        "Show owner and group names instead of numbers in listings.";
    use_localtime: Bool = "NO"; Upstream; Implemented;
        "Show times in listings and MDTM in local time instead of GMT.";
    deny_file: Str = ""; Upstream; Implemented;
        "Pattern ({a,b}, *, ?) of names that cannot be accessed at all.";
    hide_file: Str = ""; Upstream; Implemented;
        "Pattern of names left out of listings (but still accessible).";
    ftpd_banner: Str = ""; Upstream; Implemented;
        "Text of the 220 greeting (unset: '(vsFTPd-rs VERSION)').";
    banner_file: Str = ""; Upstream; Implemented;
        "File whose contents form the 220 greeting.";
    dirmessage_enable: Bool = "NO"; Upstream; Implemented;
        "Show a directory's message_file when a client enters it.";
    message_file: Str = ".message"; Upstream; Implemented;
        "Name of the per-directory message file.";
    utf8_filesystem: Bool = "NO"; Debian;
        NoEffect("file names are passed through as bytes");
        "File names are UTF-8.";

    // ---- Logging ---------------------------------------------------------------------------
    xferlog_enable: Bool = "NO"; Upstream; Implemented;
        "Log uploads and downloads (with logins and file operations: see xferlog_std_format and dual_log_enable).";
    xferlog_std_format: Bool = "NO"; Upstream; Implemented;
        "Write the transfer log in wu-ftpd's xferlog format to xferlog_file, and no vsftpd_log_file unless dual_log_enable=YES.";
    xferlog_file: Str = "/var/log/xferlog"; Upstream; Implemented;
        "Path of the xferlog-format log (created mode 0600; opened for each session, so logrotate needs no restart).";
    vsftpd_log_file: Str = "/var/log/vsftpd.log"; Upstream; Implemented;
        "Path of the vsftpd-format log (created mode 0600; opened for each session); '-' writes it to standard error.";
    dual_log_enable: Bool = "NO"; Upstream; Implemented;
        "Write both the xferlog and the vsftpd-format log.";
    syslog_enable: Bool = "NO"; Upstream; Implemented;
        "Send the vsftpd-format log to syslog (ident vsftpd, facility FTP) instead of vsftpd_log_file.";
    syslog_socket: Str = "/dev/log" @ value::absolute_path; Ours; Implemented;
        "The local syslog socket that syslog_enable and log_die send to.";
    log_ftp_protocol: Bool = "NO"; Upstream; Implemented;
        "Log every command and reply (vsftpd-format log; the password of PASS is never logged).";
    no_log_lock: Bool = "NO"; Upstream; Implemented;
        "Do not lock the log file while writing a line to it.";
    log_die: Bool = "NO"; Rhel; Implemented;
        "Also send the reason a session dies ('500 OOPS: ...') to syslog.";
    wc_logs_enable: Bool = "NO"; Rhel; Implemented;
        "Read logged text as UTF-8 when replacing unprintable characters: invalid bytes and non-printable characters become '?' too.";

    // ---- FTPS ------------------------------------------------------------------------------
    ssl_enable: Bool = "NO"; Upstream; Implemented;
        "Enable FTPS: AUTH TLS, PBSZ and PROT (TLS 1.2 and 1.3, on rustls); the certificate is read at start-up.";
    implicit_ssl: Bool = "NO"; Upstream; Implemented;
        "TLS from the first byte of each connection (implicit FTPS, port 990 style); needs ssl_enable=YES.";
    allow_anon_ssl: Bool = "NO"; Upstream; Implemented;
        "Anonymous sessions may use TLS (NO: an anonymous login over TLS is refused).";
    force_local_logins_ssl: Bool = "YES"; Upstream; Implemented;
        "With ssl_enable=YES, non-anonymous users must use TLS before sending a password.";
    force_local_data_ssl: Bool = "YES"; Upstream; Implemented;
        "With ssl_enable=YES, non-anonymous users' data connections must be encrypted (PROT P).";
    force_anon_logins_ssl: Bool = "NO"; Upstream; Implemented;
        "With allow_anon_ssl=YES, anonymous users must use TLS before logging in.";
    force_anon_data_ssl: Bool = "NO"; Upstream; Implemented;
        "With allow_anon_ssl=YES, anonymous data connections must be encrypted (PROT P).";
    ssl_sslv2: Bool = "NO"; Upstream; Refused(OLD_TLS);
        "Allow SSL 2 connections.";
    ssl_sslv3: Bool = "NO"; Upstream; Refused(OLD_TLS);
        "Allow SSL 3 connections.";
    ssl_tlsv1: Bool = "NO"; Upstream; Refused(OLD_TLS);
        "Allow TLS 1.0 connections.";
    ssl_tlsv11 | "ssl_tlsv1_1": Bool = "NO"; Upstream; Refused(OLD_TLS);
        "Allow TLS 1.1 connections (ssl_tlsv11 is upstream's name, ssl_tlsv1_1 the man page's and Red Hat's).";
    ssl_tlsv12 | "ssl_tlsv1_2": Bool = "YES"; Upstream; Implemented;
        "Allow TLS 1.2 connections (ssl_tlsv12 is upstream's name, ssl_tlsv1_2 the man page's and Red Hat's).";
    ssl_tlsv13 | "ssl_tlsv1_3": Bool = "YES"; Upstream; Implemented;
        "Allow TLS 1.3 connections (ssl_tlsv13 is upstream's name, ssl_tlsv1_3 the man page's and Red Hat's).";
    ssl_request_cert: Bool = "YES"; Upstream; Implemented;
        "Ask clients for a certificate (without requiring one).";
    require_cert: Bool = "NO"; Upstream; Implemented;
        "Require a client certificate (any, unless validate_cert=YES).";
    validate_cert: Bool = "NO"; Upstream; Implemented;
        "Client certificates must verify against ca_certs_file.";
    require_ssl_reuse: Bool = "YES"; Upstream; Implemented;
        "Encrypted data connections must resume the control connection's TLS session ('522 SSL connection failed: session reuse required').";
    strict_ssl_read_eof: Bool = "YES"; Upstream; Implemented;
        "Encrypted uploads must end with a TLS close_notify, not just a closed socket.";
    strict_ssl_write_shutdown: Bool = "NO"; Upstream; Implemented;
        "After an encrypted download, wait for the client's close_notify too.";
    ssl_sni_hostname: Str = ""; Upstream; Implemented;
        "Refuse TLS connections whose SNI host name differs from this one.";
    debug_ssl: Bool = "NO"; Upstream; Implemented;
        "Log what each TLS handshake negotiated (version, cipher, session reuse, client certificate).";
    rsa_cert_file: Str = "/usr/share/ssl/certs/vsftpd.pem"; Upstream; Implemented;
        "Certificate (PEM, with its chain) for FTPS; RSA or ECDSA. Read by root at start-up.";
    rsa_private_key_file: Str = ""; Upstream; Implemented;
        "Private key (PEM) for FTPS (unset: read from rsa_cert_file, which may hold both).";
    dsa_cert_file: Str = ""; Upstream;
        Refused("TLS 1.2 and 1.3 have no DSA; put an RSA or ECDSA certificate in rsa_cert_file");
        "DSA certificate (PEM) for FTPS.";
    dsa_private_key_file: Str = ""; Upstream;
        Refused("TLS 1.2 and 1.3 have no DSA; put the key of rsa_cert_file in rsa_private_key_file");
        "DSA private key for FTPS.";
    ca_certs_file: Str = ""; Upstream; Implemented;
        "CA certificates (PEM) that client certificates are verified against; their names are sent as hints.";
    ssl_ciphers: Str = "ECDHE-RSA-AES256-GCM-SHA384" / "PROFILE=SYSTEM" @ value::cipher_list;
        Upstream; Implemented;
        "OpenSSL-style list of the TLS 1.2 suites (e.g. ECDHE-RSA-AES128-GCM-SHA256, HIGH, PROFILE=SYSTEM); an unknown name is an error. TLS 1.3 suites are always on.";
    dh_param_file: Str = ""; Rhel; NoEffect(FTPS_GROUPS);
        "Diffie-Hellman parameters for FTPS.";
    ecdh_param_file: Str = ""; Rhel; NoEffect(FTPS_GROUPS);
        "Elliptic curve parameters for FTPS.";

    // ---- Sandbox ---------------------------------------------------------------------------
    seccomp_sandbox: Bool = "YES" / "NO"; Upstream; Implemented;
        "Confine session processes with a seccomp system call filter (Red Hat's build turns it off).";
    landlock_enable: Bool = "YES"; Ours; Implemented;
        "After login (two-process model), Landlock takes away the file rights FTP never needs — executing files, making device nodes, sockets and FIFOs — while reading and writing stay as Unix permissions allow; a kernel without it (before 5.19) runs sessions without it, with a start-up note.";
    isolate: Bool = "YES"; Upstream;
        NoEffect("the same guarantee comes from seccomp: the protocol process cannot create sockets");
        "Run each session in new PID and IPC namespaces.";
    isolate_network: Bool = "YES"; Upstream;
        NoEffect("the same guarantee comes from seccomp: the protocol process cannot create sockets");
        "Run each session in a new network namespace, so that only the privileged helper makes sockets.";
    ptrace_sandbox: Bool = "NO"; Upstream;
        Refused("experimental in vsftpd; seccomp is used instead");
        "vsftpd's experimental ptrace-based sandbox.";
}

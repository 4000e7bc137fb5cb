//! The table of tunables and the config parsers, through the public API of `vsftpd_rs::config`:
//! the generated docs are current, the stock configs of upstream, Debian 12 and RHEL 9 load,
//! and every class of error reads `FILE:LINE: OPTION=VALUE: message`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use vsftpd_rs::config::{
    self, render_tunables_md, tunables, Config, ConfigError, Dialect, Kind, Layout, Loader, Origin,
    Settings, State,
};

// ---- helpers -------------------------------------------------------------------------------

/// A file under the temporary directory, unique to this process and call, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> TempFile {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "vsftpd-rs-config-{}-{n}-{name}",
            std::process::id()
        ));
        let mut f = std::fs::File::create(&path).expect("create temp file");
        f.write_all(contents).expect("write temp file");
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn shown(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Loads `text` as a file called `name` with the upstream layout and finishes.
fn load_text(name: &str, text: &str) -> (TempFile, Result<Settings, ConfigError>) {
    let file = TempFile::new(name, text.as_bytes());
    let mut loader = Loader::new(Layout::Upstream);
    let result = loader.load_file(file.path()).and_then(|()| loader.finish());
    (file, result)
}

/// The error of loading `text`, as displayed, with the temp file's path replaced by FILE.
fn error_of(text: &str) -> String {
    let (file, result) = load_text("t.conf", text);
    let err = result.expect_err("the config should be refused");
    err.to_string().replace(&file.shown(), "FILE")
}

fn toml_error_of(text: &str) -> String {
    let (file, result) = load_text("t.toml", text);
    let err = result.expect_err("the config should be refused");
    err.to_string().replace(&file.shown(), "FILE")
}

/// Whether this process runs as root, read the same way as the loader does (no libc).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_ascii_whitespace().nth(1).map(|id| id == "0"))
        })
        .unwrap_or(false)
}

// ---- the table and its docs ----------------------------------------------------------------

#[test]
fn tunables_md_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/TUNABLES.md");
    let expected = render_tunables_md();
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected).expect("write docs/TUNABLES.md");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == expected,
        "docs/TUNABLES.md is stale: run UPDATE_DOCS=1 cargo test --test config_table"
    );
}

#[test]
fn counts_per_kind() {
    let count = |dialect: Option<Dialect>, kinds: &[Kind]| {
        tunables()
            .iter()
            .filter(|t| dialect.is_none_or(|d| t.dialect == d) && kinds.contains(&t.kind))
            .count()
    };
    let upstream = Some(Dialect::Upstream);
    assert_eq!(count(upstream, &[Kind::Bool]), 83);
    assert_eq!(count(upstream, &[Kind::Uint, Kind::Octal]), 20);
    assert_eq!(count(upstream, &[Kind::Octal]), 4);
    assert_eq!(count(upstream, &[Kind::Str]), 33);
    assert_eq!(count(Some(Dialect::Rhel), &[Kind::Bool]), 5);
    assert_eq!(count(Some(Dialect::Rhel), &[Kind::Uint]), 1);
    assert_eq!(count(Some(Dialect::Rhel), &[Kind::Str]), 2);
    assert_eq!(count(Some(Dialect::Debian), &[Kind::Bool]), 1);
    assert_eq!(count(Some(Dialect::Debian), &[Kind::Str]), 2);
    assert_eq!(count(Some(Dialect::Ours), &[Kind::Str]), 3);
    assert_eq!(count(Some(Dialect::Ours), &[Kind::Bool]), 2);
    assert_eq!(tunables().len(), 152);
    let aliases: Vec<&str> = tunables()
        .iter()
        .flat_map(|t| t.aliases.iter().copied())
        .collect();
    assert_eq!(aliases, ["ssl_tlsv1_1", "ssl_tlsv1_2", "ssl_tlsv1_3"]);
}

#[test]
fn states_of_the_plan() {
    let state = |name: &str| config::find_tunable(name).expect(name).state;
    for name in [
        "listen",
        "listen_ipv6",
        "listen_address",
        "listen_address6",
        "listen_port",
        "background",
        "max_clients",
        "max_per_ip",
        "run_as_launching_user",
        "anonymous_enable",
        "ftp_username",
        "anon_root",
        "no_anon_password",
        "pasv_enable",
        "pasv_min_port",
        "pasv_max_port",
        "pasv_address",
        "pasv_addr_resolve",
        "ftpd_banner",
        "use_sendfile",
        "ftp_enable",
        "dirlist_enable",
        "download_enable",
        "force_dot_files",
        "secure_chroot_dir",
        "nopriv_user",
        "seccomp_sandbox",
        "proxy_protocol_enable",
        "proxy_protocol_trusted",
    ] {
        assert_eq!(state(name), State::Implemented, "{name}");
    }
    let implemented = tunables()
        .iter()
        .filter(|t| t.state == State::Implemented)
        .count();
    assert_eq!(implemented, 131);
    assert_eq!(state("local_enable"), State::Implemented);
    assert_eq!(state("xferlog_enable"), State::Implemented);
    assert_eq!(state("setproctitle_enable"), State::Planned("#12"));
    assert_eq!(state("ssl_tlsv1_3"), State::Implemented);
    assert_eq!(state("ssl_enable"), State::Implemented);
    assert!(matches!(state("ssl_tlsv1_1"), State::Refused(_)));
    assert!(matches!(state("dsa_cert_file"), State::Refused(_)));
    assert!(matches!(state("isolate_network"), State::NoEffect(_)));
    assert_eq!(state("rsa_cert_file"), State::Implemented);
    assert!(matches!(state("dh_param_file"), State::NoEffect(_)));
    assert!(matches!(state("ptrace_sandbox"), State::Refused(_)));
}

// ---- the stock configs ---------------------------------------------------------------------

fn load_stock(name: &str, layout: Layout) -> Settings {
    let mut loader = Loader::new(layout);
    loader
        .load_file(&data(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    loader.finish().unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn warned_names(s: &Settings) -> Vec<String> {
    s.warnings
        .iter()
        .map(|w| {
            let after_place = w.split(": ").nth(1).unwrap_or("");
            after_place.split('=').next().unwrap_or("").to_string()
        })
        .collect()
}

#[test]
fn stock_configs_load_with_both_layouts() {
    for layout in [Layout::Upstream, Layout::Rhel] {
        for name in ["upstream.conf", "debian12.conf", "rhel9.conf"] {
            let s = load_stock(name, layout);
            assert_eq!(s.layout, layout);
            // The logs (#11) and FTPS (#19) are implemented: nothing is left to warn about.
            let warned = warned_names(&s);
            assert!(warned.is_empty(), "{name}: {warned:?}");
        }
    }
}

#[test]
fn debian12_config() {
    let s = load_stock("debian12.conf", Layout::Upstream);
    let c = &s.config;
    assert!(!c.listen && c.listen_ipv6 && !c.anonymous_enable && c.local_enable);
    assert_eq!(
        c.secure_chroot_dir.as_deref(),
        Some("/var/run/vsftpd/empty")
    );
    assert_eq!(c.pam_service_name.as_deref(), Some("vsftpd"));
    assert!(warned_names(&s).is_empty());
    assert!(c.xferlog_enable);
    let path = data("debian12.conf");
    let shown = path.display();
    assert_eq!(
        s.origin("rsa_cert_file"),
        Some(&Origin::File {
            path: path.clone(),
            line: 149
        })
    );
    assert_eq!(
        c.rsa_cert_file.as_deref(),
        Some("/etc/ssl/certs/ssl-cert-snakeoil.pem"),
        "{shown}"
    );
    assert_eq!(
        s.origin("listen_ipv6"),
        Some(&Origin::File {
            path: path.clone(),
            line: 22
        })
    );
    assert_eq!(
        s.origin("ssl_enable"),
        Some(&Origin::File { path, line: 151 })
    );
    assert_eq!(s.origin("max_clients"), Some(&Origin::Default));
}

#[test]
fn rhel9_config() {
    let s = load_stock("rhel9.conf", Layout::Rhel);
    let c = &s.config;
    assert!(!c.listen && c.listen_ipv6 && !c.anonymous_enable && c.local_enable);
    assert!(c.write_enable && c.userlist_enable && c.xferlog_std_format);
    assert_eq!(c.local_umask, 0o22);
    // Its two log settings (#11) are implemented: nothing to warn about.
    assert!(c.xferlog_enable && c.xferlog_std_format);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn upstream_sample_config() {
    let s = load_stock("upstream.conf", Layout::Upstream);
    assert!(s.config.listen && s.config.anonymous_enable && !s.config.listen_ipv6);
    assert!(s.config.xferlog_enable);
    assert!(warned_names(&s).is_empty(), "{:?}", s.warnings);
}

// ---- the layouts ---------------------------------------------------------------------------

#[test]
fn layouts() {
    assert_eq!(
        Layout::Upstream.default_config_file(),
        Path::new("/etc/vsftpd.conf")
    );
    assert_eq!(
        Layout::Rhel.default_config_file(),
        Path::new("/etc/vsftpd/vsftpd.conf")
    );
    assert_eq!(Layout::Upstream.name(), "upstream");
    assert_eq!(Layout::Rhel.name(), "rhel");
    let up = Config::defaults(Layout::Upstream);
    let rhel = Config::defaults(Layout::Rhel);
    assert_eq!(up.userlist_file.as_deref(), Some("/etc/vsftpd.user_list"));
    assert_eq!(rhel.userlist_file.as_deref(), Some("/etc/vsftpd/user_list"));
    assert_eq!(
        up.chroot_list_file.as_deref(),
        Some("/etc/vsftpd.chroot_list")
    );
    assert_eq!(
        rhel.chroot_list_file.as_deref(),
        Some("/etc/vsftpd/chroot_list")
    );
    assert_eq!(
        up.banned_email_file.as_deref(),
        Some("/etc/vsftpd.banned_emails")
    );
    assert_eq!(
        rhel.banned_email_file.as_deref(),
        Some("/etc/vsftpd/banned_emails")
    );
    assert_eq!(
        up.email_password_file.as_deref(),
        Some("/etc/vsftpd.email_passwords")
    );
    assert_eq!(
        rhel.email_password_file.as_deref(),
        Some("/etc/vsftpd/email_passwords")
    );
    assert!(!up.background && rhel.background);
    // A RHEL admin who leaves userlist_file unset gets the RHEL path (above); either path
    // may be set.
    let mut l = Loader::new(Layout::Rhel);
    l.set_option("userlist_file=/etc/vsftpd/user_list").unwrap();
    l.set_option("userlist_file=/etc/vsftpd.user_list").unwrap();
}

// ---- error classes -------------------------------------------------------------------------

#[test]
fn unknown_option() {
    assert_eq!(
        error_of("# comment\n\nno_such_option=YES\n"),
        "FILE:3: no_such_option=YES: unknown option"
    );
    assert_eq!(
        error_of("allow_writable_chroot=YES\n"),
        "FILE:1: allow_writable_chroot=YES: unknown option (did you mean allow_writeable_chroot?)"
    );
    let (_f, r) = load_text("t.conf", "no_such_option=YES\n");
    assert_eq!(
        r.unwrap_err().oops_text(),
        "unrecognised variable in config file: no_such_option"
    );
}

#[test]
fn bad_boolean() {
    assert_eq!(
        error_of("listen=maybe\n"),
        "FILE:1: listen=maybe: not a boolean (use YES or NO)"
    );
    let (_f, r) = load_text("t.conf", "listen=maybe\n");
    assert_eq!(
        r.unwrap_err().oops_text(),
        "bad bool value in config file for: listen"
    );
}

#[test]
fn numbers_out_of_range_or_not_numbers() {
    assert_eq!(
        error_of("listen_port=99999\n"),
        "FILE:1: listen_port=99999: number out of range (0-65535)"
    );
    assert_eq!(
        error_of("max_clients=4294967296\n"),
        "FILE:1: max_clients=4294967296: number out of range (0-4294967295)"
    );
    assert_eq!(
        error_of("listen_port=21a\n"),
        "FILE:1: listen_port=21a: not a number (digits only; a leading 0 means octal)"
    );
    assert_eq!(
        error_of("max_per_ip=-1\n"),
        "FILE:1: max_per_ip=-1: negative numbers are not allowed"
    );
    assert_eq!(
        error_of("listen_port=089\n"),
        "FILE:1: listen_port=089: not an octal number (a leading 0 means octal, where 8 and 9 \
         are not digits)"
    );
}

#[test]
fn missing_value() {
    assert_eq!(error_of("listen=\n"), "FILE:1: listen=: missing value");
    assert_eq!(
        error_of("listen_port\n"),
        "FILE:1: listen_port=: missing value"
    );
    let (_f, r) = load_text("t.conf", "\n\nlisten=  \n");
    let e = r.unwrap_err();
    assert_eq!(e.line(), Some(3));
    assert_eq!(e.oops_text(), "missing value in config file for: listen");
    // For a string, an empty value unsets it, as vsftpd does.
    let (_f, r) = load_text("t.conf", "ftpd_banner=Hello\nftpd_banner=\n");
    assert_eq!(r.unwrap().config.ftpd_banner, None);
}

#[test]
fn missing_file() {
    let path = std::env::temp_dir().join(format!(
        "vsftpd-rs-config-{}-does-not-exist.conf",
        std::process::id()
    ));
    let mut l = Loader::new(Layout::Upstream);
    let e = l.load_file(&path).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: cannot read config file: No such file or directory (os error 2)",
            path.display()
        )
    );
    assert_eq!(
        e.oops_text(),
        format!("cannot read config file: {}", path.display())
    );
    assert_eq!(e.line(), None);
}

#[test]
fn file_owned_by_another_user() {
    // As root (the normal case for this project's tests), a private copy is given to
    // nobody (65534); as anyone else, /etc/passwd is a regular file owned by root.
    let copy;
    let path: &Path = if running_as_root() {
        copy = TempFile::new("owned.conf", b"listen=YES\n");
        std::os::unix::fs::chown(copy.path(), Some(65534), Some(65534)).expect("chown");
        copy.path()
    } else {
        Path::new("/etc/passwd")
    };
    let mut l = Loader::new(Layout::Upstream);
    let e = l.load_file(path).unwrap_err();
    let expected_owner = if running_as_root() { 65534 } else { 0 };
    assert!(
        e.to_string().starts_with(&format!(
            "{}: not owned by the running user (owner uid {expected_owner}, running as uid ",
            path.display()
        )),
        "{e}"
    );
    assert_eq!(
        e.oops_text(),
        "config file not owned by correct user, or not a file"
    );
}

#[test]
fn not_a_regular_file() {
    let dir = std::env::temp_dir();
    let mut l = Loader::new(Layout::Upstream);
    let e = l.load_file(&dir).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: not a regular file", dir.display())
    );
    assert_eq!(
        e.oops_text(),
        "config file not owned by correct user, or not a file"
    );
}

#[test]
fn file_too_big() {
    let mut text = String::from("listen=YES\n");
    while text.len() <= 100 * 1024 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let file = TempFile::new("big.conf", text.as_bytes());
    let mut l = Loader::new(Layout::Upstream);
    let e = l.load_file(file.path()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: file too big (the limit is 102400 bytes)", file.shown())
    );
    assert_eq!(
        e.oops_text(),
        format!("cannot read config file: {}", file.shown())
    );
}

#[test]
fn planned_tunable_at_other_than_its_default() {
    assert_eq!(
        error_of("anonymous_enable=YES\nsetproctitle_enable=YES\n"),
        "FILE:2: setproctitle_enable=YES: recognised but not supported yet (planned in #12)"
    );
    // At its default value it is accepted silently.
    let (_f, r) = load_text("t.conf", "setproctitle_enable=NO\nssl_enable=NO\n");
    assert!(r.unwrap().warnings.is_empty());
}

#[test]
fn refused_tunable() {
    assert_eq!(
        error_of("tcp_wrappers=YES\n"),
        "FILE:1: tcp_wrappers=YES: not supported: no libwrap; use the firewall or pam_access"
    );
    assert_eq!(
        error_of("http_enable=YES\n"),
        "FILE:1: http_enable=YES: not supported: vsftpd's experimental HTTP mode is not \
         reproduced"
    );
}

#[test]
fn values_too_long_or_not_utf8() {
    let long = format!("ftpd_banner={}\n", "x".repeat(5000));
    let shown = error_of(&long);
    assert!(shown.starts_with("FILE:1: ftpd_banner=xxx"), "{shown}");
    assert!(
        shown.ends_with("...: value too long (more than 4096 bytes)"),
        "{shown}"
    );
    let file = TempFile::new("latin1.conf", b"listen=YES\nftpd_banner=caf\xe9\n");
    let mut l = Loader::new(Layout::Upstream);
    let e = l.load_file(file.path()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}:2: the line is not valid UTF-8 text", file.shown())
    );
}

// ---- parsing rules -------------------------------------------------------------------------

#[test]
fn syntax_details() {
    let text = "  # indented comment\n\
                \t\n\
                \x20 listen_port = 2121 \r\n\
                ftpd_banner=  Welcome, = friends  \n\
                LISTEN_IPV6=NO\n";
    // Names are case-sensitive, as in vsftpd.
    assert_eq!(
        error_of(text),
        "FILE:5: LISTEN_IPV6=NO: unknown option (did you mean listen_ipv6?)"
    );
    let (_f, r) = load_text("t.conf", &text.replace("LISTEN_IPV6", "listen_ipv6"));
    let s = r.unwrap();
    assert_eq!(s.config.listen_port, 2121);
    assert_eq!(s.config.ftpd_banner.as_deref(), Some("Welcome, = friends"));
    // Duplicate keys: the last one wins.
    let (_f, r) = load_text("t.conf", "listen_port=1\nlisten_port=2\n");
    let s = r.unwrap();
    assert_eq!(s.config.listen_port, 2);
    assert!(matches!(
        s.origin("listen_port"),
        Some(Origin::File { line: 2, .. })
    ));
}

#[test]
fn octal_numbers() {
    let mut l = Loader::new(Layout::Upstream);
    l.set_option("local_umask=022").unwrap();
    l.set_option("pasv_min_port=010").unwrap();
    let s = l.finish().unwrap();
    assert_eq!(s.config.local_umask, 18);
    assert_eq!(s.config.pasv_min_port, 8);
    assert_eq!(Config::defaults(Layout::Upstream).file_open_mode, 0o666);
    assert_eq!(Config::defaults(Layout::Upstream).file_open_mode, 438);
    let mut out = Vec::new();
    s.write_effective(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("\nlocal_umask=022 "), "{out}");
    assert!(out.contains("\nfile_open_mode=0666 "), "{out}");
    assert!(out.contains("\npasv_min_port=8 "), "{out}");
}

#[test]
fn command_line_order_later_wins() {
    let file = TempFile::new("o.conf", b"listen_port=2000\nmax_clients=7\n");
    let mut l = Loader::new(Layout::Upstream);
    l.set_option("listen_port=1000").unwrap();
    l.set_option("max_per_ip=3").unwrap();
    l.load_file(file.path()).unwrap();
    l.set_option("max_clients=9").unwrap();
    l.set_builtin("ftpd_banner", "demo", "--quick-start")
        .unwrap();
    let s = l.finish().unwrap();
    assert_eq!(s.config.listen_port, 2000);
    assert_eq!(s.config.max_per_ip, 3);
    assert_eq!(s.config.max_clients, 9);
    assert_eq!(
        s.origin("listen_port"),
        Some(&Origin::File {
            path: file.path().to_path_buf(),
            line: 1
        })
    );
    assert_eq!(s.origin("max_per_ip"), Some(&Origin::CommandLine));
    assert_eq!(s.origin("max_clients"), Some(&Origin::CommandLine));
    assert_eq!(
        s.origin("ftpd_banner"),
        Some(&Origin::Builtin("--quick-start"))
    );
    assert_eq!(s.origin("nonexistent"), None);
    let e = Loader::new(Layout::Upstream)
        .set_option("listen_port=70000")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "command line: listen_port=70000: number out of range (0-65535)"
    );
    let e = Loader::new(Layout::Upstream)
        .set_builtin("listen", "perhaps", "--quick-start")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "builtin (--quick-start): listen=perhaps: not a boolean (use YES or NO)"
    );
}

#[test]
fn aliases_set_the_same_field() {
    let mut l = Loader::new(Layout::Upstream);
    l.set_option("ssl_tlsv1_2=YES").unwrap();
    l.set_option("ssl_tlsv12=1").unwrap();
    let s = l.finish().unwrap();
    assert!(s.config.ssl_tlsv12);
    assert_eq!(s.origin("ssl_tlsv1_2"), Some(&Origin::CommandLine));
}

// ---- cross-field checks --------------------------------------------------------------------

#[test]
fn listen_and_listen_ipv6() {
    // listen=NO is the default (Debian's): listen_ipv6=YES alone is the IPv6 listener.
    let (_file, r) = load_text("t.conf", "listen_ipv6=YES\n");
    let s = r.unwrap();
    assert!(s.config.listen_ipv6 && !s.config.listen);
    let (file, r) = load_text("t.conf", "listen=YES\nlisten_ipv6=YES\n");
    let e = r.unwrap_err();
    assert_eq!(
        e.to_string().replace(&file.shown(), "FILE"),
        "FILE:2: listen_ipv6=YES: conflicts with listen=YES (from FILE:1): run two copies of \
         vsftpd for IPv4 and IPv6 (an IPv6 listener on :: also accepts IPv4 clients)"
    );
    assert_eq!(e.oops_text(), "run two copies of vsftpd for IPv4 and IPv6");
    let (file, r) = load_text("t.conf", "listen=NO\nlisten_ipv6=YES\nlisten=YES\n");
    assert_eq!(
        r.unwrap_err().to_string().replace(&file.shown(), "FILE"),
        "FILE:2: listen_ipv6=YES: conflicts with listen=YES (from FILE:3): run two copies of \
         vsftpd for IPv4 and IPv6 (an IPv6 listener on :: also accepts IPv4 clients)"
    );
}

#[test]
fn no_access_at_all() {
    let (file, r) = load_text("t.conf", "anonymous_enable=NO\n");
    let e = r.unwrap_err();
    assert_eq!(
        e.to_string().replace(&file.shown(), "FILE"),
        "FILE:1: anonymous_enable=NO: with local_enable=NO (the default), both local and \
         anonymous access disabled!"
    );
    assert_eq!(
        e.oops_text(),
        "vsftpd: both local and anonymous access disabled!"
    );
}

#[test]
fn passive_port_range() {
    assert_eq!(
        error_of("pasv_max_port=3000\n"),
        "FILE:1: pasv_max_port=3000: the passive port range is empty: pasv_min_port must not \
         be above pasv_max_port (see pasv_min_port=5001 (the default))"
    );
    let (_f, r) = load_text("t.conf", "pasv_min_port=40000\npasv_max_port=40100\n");
    let s = r.unwrap();
    assert_eq!(
        (s.config.pasv_min_port, s.config.pasv_max_port),
        (40000, 40100)
    );
    // 0 means 65535.
    let (_f, r) = load_text("t.conf", "pasv_min_port=60000\n");
    assert!(r.is_ok());
}

#[test]
fn pasv_address_must_be_an_address() {
    let (file, r) = load_text("t.conf", "pasv_address=ftp.example.com\n");
    let e = r.unwrap_err();
    assert_eq!(
        e.to_string().replace(&file.shown(), "FILE"),
        "FILE:1: pasv_address=ftp.example.com: not an IPv4 address (set pasv_addr_resolve=YES \
         to give a host name)"
    );
    assert_eq!(e.oops_text(), "invalid pasv_address");
    let (_f, r) = load_text(
        "t.conf",
        "pasv_address=ftp.example.com\npasv_addr_resolve=YES\n",
    );
    assert!(r.is_ok());
    let (_f, r) = load_text("t.conf", "pasv_address=203.0.113.7\n");
    assert_eq!(
        r.unwrap().config.pasv_address.as_deref(),
        Some("203.0.113.7")
    );
}

#[test]
fn listen_addresses_must_be_literals() {
    assert_eq!(
        error_of("listen_address=localhost\n"),
        "FILE:1: listen_address=localhost: not an IPv4 address (a dotted quad such as 192.0.2.1)"
    );
    assert_eq!(
        error_of("listen_address6=127.0.0.1\n"),
        "FILE:1: listen_address6=127.0.0.1: not an IPv6 address (such as 2001:db8::1, without \
         brackets)"
    );
}

// ---- TOML ----------------------------------------------------------------------------------

#[test]
fn toml_is_equivalent_to_key_value() {
    let mut from_conf = Loader::new(Layout::Upstream);
    from_conf.load_file(&data("example.conf")).unwrap();
    let from_conf = from_conf.finish().unwrap();
    let mut from_toml = Loader::new(Layout::Upstream);
    from_toml.load_file(&data("example.toml")).unwrap();
    let from_toml = from_toml.finish().unwrap();
    assert_eq!(from_conf.config, from_toml.config);
    assert_ne!(from_conf.config, Config::defaults(Layout::Upstream));
    assert_eq!(from_toml.config.anon_umask, 0o77);
    assert_eq!(from_toml.config.local_umask, 0o22);
    assert_eq!(from_conf.warnings.len(), from_toml.warnings.len());
    assert!(matches!(
        from_toml.origin("listen_port"),
        Some(Origin::File { line: 5, .. })
    ));
}

#[test]
fn toml_errors_carry_lines() {
    assert_eq!(
        toml_error_of("listen = true\n\nlisten_port = 99999\n"),
        "FILE:3: listen_port=99999: number out of range (0-65535)"
    );
    assert_eq!(
        toml_error_of("listen = \"YES\"\n"),
        "FILE:1: listen=YES: expected true or false, found a string"
    );
    assert_eq!(
        toml_error_of("# c\nno_such = 1\n"),
        "FILE:2: no_such=1: unknown option"
    );
    assert_eq!(
        toml_error_of("ssl_tlsv12 = true\nssl_tlsv1_2 = true\n"),
        "FILE:2: ssl_tlsv1_2=true: already set as ssl_tlsv12 on line 1"
    );
    assert_eq!(
        toml_error_of("listen_port = 21.5\n"),
        "FILE:1: listen_port=(a float): expected an integer, found a float"
    );
    assert_eq!(
        toml_error_of("anon_umask = \"028\"\n"),
        "FILE:1: anon_umask=028: not an octal number (a leading 0 means octal, where 8 and 9 \
         are not digits)"
    );
    assert_eq!(
        toml_error_of("setproctitle_enable = true\n"),
        "FILE:1: setproctitle_enable=true: recognised but not supported yet (planned in #12)"
    );
    let syntax = toml_error_of("listen = true\nlisten_port = \n");
    assert!(syntax.starts_with("FILE:2: "), "{syntax}");
    let dup = toml_error_of("listen = true\nlisten = false\n");
    assert!(dup.starts_with("FILE:2: "), "{dup}");
}

// ---- --print-config ------------------------------------------------------------------------

#[test]
fn print_config() {
    let file = TempFile::new("p.conf", b"listen_port=2121\nftpd_banner=Hi\n");
    let mut l = Loader::new(Layout::Rhel);
    l.load_file(file.path()).unwrap();
    l.set_builtin("max_clients", "5", "--quick-start").unwrap();
    l.set_option("anon_root=/srv/ftp").unwrap();
    let s = l.finish().unwrap();
    let mut out = Vec::new();
    s.write_effective(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "# layout: rhel");
    assert_eq!(lines.len(), tunables().len() + 1);
    let line_of = |name: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{name}=")))
            .copied()
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let pad = |assignment: &str, note: String| format!("{assignment:<40}    # {note}");
    assert_eq!(
        line_of("listen_port"),
        pad("listen_port=2121", format!("from {}:1", file.shown()))
    );
    assert_eq!(
        line_of("max_clients"),
        pad("max_clients=5", "builtin (--quick-start)".into())
    );
    assert_eq!(
        line_of("anon_root"),
        pad("anon_root=/srv/ftp", "command line".into())
    );
    assert_eq!(
        line_of("background"),
        pad("background=YES", "default".into())
    );
    assert_eq!(
        line_of("local_umask"),
        pad("local_umask=077", "default".into())
    );
    assert_eq!(
        line_of("listen_address"),
        pad("listen_address=", "(none), default".into())
    );
    assert_eq!(
        line_of("userlist_file"),
        pad("userlist_file=/etc/vsftpd/user_list", "default".into())
    );
}

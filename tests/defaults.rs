//! Issue #22, item 4: our defaults are Debian's vsftpd's (3.0.3, the oracle of
//! tests/compliance.rs, fetched the same way).
//!
//! Every tunable `--print-config` lists is accounted for, in exactly one of:
//! - [`PROBED`]: a probe starts the oracle and ours with the same minimal config (the option
//!   left out, so its default applies) and compares what a client, the file system or /proc
//!   sees;
//! - [`UNKNOWN_TO_DEBIAN`]: Debian's vsftpd refuses the name (`unrecognised variable`) — Red
//!   Hat's additions, upstream's later ones and ours; checked by running the oracle with it;
//! - [`NOT_PROBED`]: the reason a test cannot see the default cheaply (a timeout of minutes,
//!   a PAM login, TLS, a feature that is off by default and whose other settings only matter
//!   when it is on, …);
//! - [`DIFFERENT`]: a deliberate difference, which docs/TUNABLES.md lists with its reason
//!   (the test checks that list too), and whose probe asserts exactly that difference.
//!
//! A tunable added to the table fails [`every_tunable_is_accounted_for`] until it is placed.
//! Without the oracle (no network for `apt-get download`) the probes are skipped, loudly.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use common::*;

/// Tunables whose default a probe below compares, by probe.
const PROBED: &[(&str, &[&str])] = &[
    ("inetd", &["listen", "listen_ipv6"]),
    ("foreground", &["background"]),
    ("limits", &["max_per_ip"]),
    (
        "accounts",
        &["secure_chroot_dir", "ftp_username", "nopriv_user"],
    ),
    (
        "session",
        &[
            "ftp_enable",
            "anonymous_enable",
            "local_enable",
            "no_anon_password",
            "anon_world_readable_only",
            "anon_max_rate",
            "idle_session_timeout",
            "ssl_enable",
            "pasv_enable",
            "pasv_min_port",
            "pasv_max_port",
            "pasv_address",
            "port_enable",
            "connect_from_port_20",
            "write_enable",
            "dirlist_enable",
            "download_enable",
            "ls_recurse_enable",
            "force_dot_files",
            "hide_ids",
            "text_userdb_names",
            "use_localtime",
            "dirmessage_enable",
            "ascii_download_enable",
            "deny_email_enable",
            "secure_email_list_enable",
            "banner_file",
            "hide_file",
            "deny_file",
            "cmds_allowed",
            "cmds_denied",
            "download_file",
        ],
    ),
    (
        "writes",
        &[
            "anon_upload_enable",
            "anon_mkdir_write_enable",
            "anon_other_write_enable",
            "anon_umask",
            "file_open_mode",
            "chown_uploads",
            "upload_file",
            "ascii_upload_enable",
        ],
    ),
];

/// Tunables vsftpd 3.0.3 as Debian builds it does not know.
const UNKNOWN_TO_DEBIAN: &[&str] = &[
    // Red Hat's patches.
    "bind_retries",
    "userlist_log",
    "reverse_lookup_enable",
    "better_stou",
    "log_die",
    "wc_logs_enable",
    "dh_param_file",
    "ecdh_param_file",
    // Upstream 3.0.4 and 3.0.5 (Debian's ssl_tlsv1 alone stands for TLS 1.0 and later).
    "ssl_tlsv11",
    "ssl_tlsv12",
    "ssl_tlsv13",
    "ssl_sni_hostname",
    // Ours.
    "virtual_users_file",
    "syslog_socket",
    "landlock_enable",
    "proxy_protocol_enable",
    "proxy_protocol_trusted",
];

/// Deliberate differences; docs/TUNABLES.md ("Where the defaults differ from Debian's
/// vsftpd") gives each one's reason.
const DIFFERENT: &[&str] = &["ftpd_banner", "utf8_filesystem"];

/// Defaults no probe here compares, and why.
const NOT_PROBED: &[(&str, &[&str])] = &[
    (
        "the standalone listener's address and port (21 needs a private network namespace; \
         the address is every one)",
        &[
            "listen_address",
            "listen_address6",
            "listen_port",
            "max_clients",
        ],
    ),
    (
        "process model and sandbox: nothing a client sees (tests/privsep.rs, tests/sandbox.rs)",
        &[
            "run_as_launching_user",
            "one_process_model",
            "setproctitle_enable",
            "tcp_wrappers",
            "http_enable",
            "seccomp_sandbox",
            "isolate",
            "isolate_network",
            "ptrace_sandbox",
            "async_abor_enable",
            "use_sendfile",
            "trans_chunk_size",
            "lock_upload_files",
            "delete_failed_uploads",
            "pasv_promiscuous",
            "port_promiscuous",
            "pasv_addr_resolve",
            "ftp_data_port",
        ],
    ),
    (
        "set by every probe: the oracle's default, the ftp account's home, would be `/` here",
        &["anon_root"],
    ),
    (
        "timeouts of a minute or more",
        &[
            "data_connection_timeout",
            "accept_timeout",
            "connect_timeout",
        ],
    ),
    (
        "a PAM login of a local or virtual user (tests/local_users.rs, tests/virtual_users.rs \
         and the write scenario of tests/compliance.rs)",
        &[
            "pam_service_name",
            "check_shell",
            "userlist_enable",
            "userlist_deny",
            "userlist_file",
            "local_root",
            "local_umask",
            "local_max_rate",
            "tilde_user_enable",
            "session_support",
            "delay_failed_login",
            "delay_successful_login",
            "max_login_fails",
            "chroot_local_user",
            "chroot_list_enable",
            "chroot_list_file",
            "passwd_chroot_enable",
            "allow_writeable_chroot",
            "guest_enable",
            "guest_username",
            "virtual_use_local_privs",
            "user_config_dir",
            "user_sub_token",
            "chmod_enable",
            "mdtm_write",
        ],
    ),
    (
        "files and accounts used only when an option that is off by default turns them on",
        &[
            "message_file",
            "chown_username",
            "chown_upload_mode",
            "banned_email_file",
            "email_password_file",
        ],
    ),
    (
        "logs: off by default (xferlog_enable=NO); tests/logging.rs compares the formats",
        &[
            "xferlog_enable",
            "xferlog_std_format",
            "xferlog_file",
            "vsftpd_log_file",
            "dual_log_enable",
            "syslog_enable",
            "log_ftp_protocol",
            "no_log_lock",
        ],
    ),
    (
        "FTPS (off by default, ssl_enable is probed): these matter only with TLS on",
        &[
            "implicit_ssl",
            "allow_anon_ssl",
            "force_local_logins_ssl",
            "force_local_data_ssl",
            "force_anon_logins_ssl",
            "force_anon_data_ssl",
            "ssl_sslv2",
            "ssl_sslv3",
            "ssl_tlsv1",
            "ssl_request_cert",
            "require_cert",
            "validate_cert",
            "require_ssl_reuse",
            "strict_ssl_read_eof",
            "strict_ssl_write_shutdown",
            "debug_ssl",
            "rsa_cert_file",
            "rsa_private_key_file",
            "dsa_cert_file",
            "dsa_private_key_file",
            "ca_certs_file",
            "ssl_ciphers",
        ],
    ),
];

/// Our defaults as `--print-config` shows them (an empty file: no default file is read).
fn our_defaults() -> Vec<(String, String)> {
    let d = TempDir::new("defaults_print");
    let empty = d.write("empty.conf", "");
    let (code, out, err) = run_vsftpd(&[Path::new("--print-config"), empty.as_path()]);
    assert_eq!(code, 0, "{err}");
    out.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let setting = l.split(" #").next()?.trim_end();
            let (k, v) = setting.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

#[test]
fn every_tunable_is_accounted_for() {
    let ours: BTreeSet<String> = our_defaults().into_iter().map(|(k, _)| k).collect();
    assert!(ours.len() > 140, "{ours:?}");
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let lists = PROBED
        .iter()
        .chain(NOT_PROBED)
        .flat_map(|(_, names)| names.iter())
        .chain(UNKNOWN_TO_DEBIAN)
        .chain(DIFFERENT);
    for name in lists {
        assert!(seen.insert(name), "{name} is listed twice");
        assert!(ours.contains(*name), "{name} is not a tunable");
    }
    let missing: Vec<&String> = ours.iter().filter(|n| !seen.contains(n.as_str())).collect();
    assert!(
        missing.is_empty(),
        "tunables whose default is not compared with Debian's vsftpd nor said why: {missing:?}"
    );
}

/// docs/TUNABLES.md lists exactly [`DIFFERENT`] as the defaults that differ from Debian's.
#[test]
fn the_differences_are_documented() {
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/TUNABLES.md")).unwrap();
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with("Where the defaults differ from Debian's vsftpd"))
        .expect("docs/TUNABLES.md has no section on the defaults that differ from Debian's");
    let listed: BTreeSet<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let want: BTreeSet<&str> = DIFFERENT.iter().copied().collect();
    assert_eq!(listed, want, "{section}");
}

// ---- the oracle ------------------------------------------------------------------------------

/// The oracle's binary, or None (said on stderr) when it cannot be fetched here.
fn oracle() -> Option<PathBuf> {
    let bin = oracle_binary();
    if bin.is_none() {
        eprintln!("Debian's vsftpd cannot be fetched here: the defaults are not compared");
    }
    bin
}

/// The oracle's words when started with `args` in inetd mode, on one end of a socket pair
/// (it fails at once there: `can only support ipv4 and ipv6`, after reading its config).
fn oracle_inetd_words(bin: &Path, args: &[String]) -> String {
    let (mut ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let out = theirs.try_clone().unwrap();
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stdout(Stdio::from(std::os::fd::OwnedFd::from(out)))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ours.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut text = Vec::new();
    let _ = ours.read_to_end(&mut text);
    let _ = child.kill();
    let _ = child.wait();
    String::from_utf8_lossy(&text).into_owned()
}

#[test]
fn names_debian_does_not_know() {
    let Some(bin) = oracle() else { return };
    let d = TempDir::new("defaults_names");
    let empty = d.write("empty.conf", "");
    let mut unknown = BTreeSet::new();
    for (k, v) in our_defaults() {
        let v = if v.is_empty() { "x".to_string() } else { v };
        let words = oracle_inetd_words(&bin, &[empty.display().to_string(), format!("-o{k}={v}")]);
        if words.contains("unrecognised variable") {
            unknown.insert(k);
        } else {
            assert!(
                words.contains("can only support ipv4 and ipv6"),
                "{k}={v}: the oracle said {words:?}"
            );
        }
    }
    let want: BTreeSet<String> = UNKNOWN_TO_DEBIAN.iter().map(|s| s.to_string()).collect();
    assert_eq!(unknown, want);
}

/// 2001-02-03 04:05:06 UTC: every entry of a probe's tree.
const OLD_TIME: u64 = 981_173_106;

/// The tree both servers serve (each its own copy): files of each kind of mode, a dot file,
/// a subdirectory with a .message, `up/` owned by `owner` for uploads.
fn make_tree(root: &Path, owner: u32) {
    let w = |rel: &str, text: &str, mode: u32| {
        let p = root.join(rel);
        fs::write(&p, text).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    };
    for d in ["sub", "up"] {
        fs::create_dir(root.join(d)).unwrap();
        fs::set_permissions(root.join(d), fs::Permissions::from_mode(0o755)).unwrap();
    }
    w("a.txt", "line one\nline two\n", 0o644);
    w("secret.txt", "not for anonymous\n", 0o600);
    w(".hidden", "dot\n", 0o644);
    w("sub/.message", "Welcome to sub.\n", 0o644);
    w("sub/inner.txt", "inner\n", 0o644);
    std::os::unix::fs::chown(root.join("up"), Some(owner), None).unwrap();
    let mut all = vec![root.to_path_buf()];
    let mut i = 0;
    while let Some(p) = all.get(i).cloned() {
        i += 1;
        if p.is_dir() {
            all.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    for p in all {
        fs::File::open(&p)
            .unwrap()
            .set_modified(UNIX_EPOCH + Duration::from_secs(OLD_TIME))
            .unwrap();
    }
}

/// One side of a probe: the oracle or ours, on the same config lines.
struct Side {
    name: &'static str,
    addr: SocketAddr,
    pid: u32,
    tree: PathBuf,
    /// The process guard and temp dir (or the harness's server) to drop at the end.
    _keep: Box<dyn std::any::Any>,
}

/// The config lines both sides get: the oracle's needs (seccomp_sandbox=NO: its sandbox
/// breaks on this kernel) and the probe's; nothing else, so every other option is at its
/// default. Ours keeps its own seccomp default.
fn start_oracle(bin: &Path, name: &str, lines: &[(&str, String)]) -> Side {
    let dir = TempDir::new(name);
    let tree = dir.mkdir("tree");
    make_tree(&tree, passwd_uid(oracle_account()).unwrap());
    let empty = dir.mkdir("empty");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut text =
        format!("listen=YES\nlisten_address=127.0.0.1\nlisten_port={port}\nseccomp_sandbox=NO\n");
    for (k, v) in merged(base_lines(&tree, &empty), lines) {
        text.push_str(&format!("{k}={v}\n"));
    }
    let conf = dir.write("oracle.conf", &text);
    let guard = oracle::start_listening(bin, &conf, dir.path(), port);
    Side {
        name: "Debian's vsftpd",
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        pid: guard.pid(),
        tree,
        _keep: Box::new((guard, dir)),
    }
}

/// The base lines with a probe's own: a probe's line replaces the base line of its key, and
/// an empty value leaves the key out (its default applies).
fn merged<'a>(base: Vec<(&'a str, String)>, lines: &[(&'a str, String)]) -> Vec<(&'a str, String)> {
    let mut out: Vec<(&str, String)> = base
        .into_iter()
        .filter(|(k, _)| !lines.iter().any(|(l, _)| l == k))
        .collect();
    out.extend(lines.iter().filter(|(_, v)| !v.is_empty()).cloned());
    out
}

fn base_lines(tree: &Path, empty: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("secure_chroot_dir", empty.display().to_string()),
        ("ftp_username", oracle_account().to_string()),
        ("anon_root", tree.display().to_string()),
    ]
}

fn start_ours(name: &str, lines: &[(&str, String)]) -> Side {
    let b = ServerBuilder::new(name);
    let tree = b.tree_path().to_path_buf();
    make_tree(&tree, passwd_uid(oracle_account()).unwrap());
    let empty = b.temp().mkdir("empty");
    // Only what the oracle gets: every other default ours, the two-process model included
    // (whatever VSFTPD_TEST_ONE_PROCESS says), as the oracle runs.
    let mut b = b
        .unset("run_as_launching_user")
        .unset("background")
        .unset("anonymous_enable")
        .unset("delay_failed_login")
        .unset("nopriv_user")
        .unset("seccomp_sandbox");
    for (k, _) in lines {
        b = b.unset(k);
    }
    for (k, v) in merged(base_lines(&tree, &empty), lines) {
        b = b.set(k, v);
    }
    let server = b.start();
    Side {
        name: "ours",
        addr: server.addr(),
        pid: server.pid(),
        tree,
        _keep: Box::new(server),
    }
}

/// Both sides, or None without the oracle.
fn both(name: &str, lines: &[(&str, String)]) -> Option<(Side, Side)> {
    let bin = oracle()?;
    Some((
        start_oracle(&bin, &format!("{name}_o"), lines),
        start_ours(&format!("{name}_r"), lines),
    ))
}

/// What each side showed, step by step; equal but for the steps named in `differ`, which
/// must differ (each a deliberate difference of [`DIFFERENT`]).
#[track_caller]
fn compare(oracle: &[(String, String)], ours: &[(String, String)], differ: &[&str]) {
    assert_eq!(
        oracle.iter().map(|s| &s.0).collect::<Vec<_>>(),
        ours.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    let mut wrong = Vec::new();
    for ((step, theirs), (_, mine)) in oracle.iter().zip(ours) {
        let expected_to_differ = differ.contains(&step.as_str());
        if (theirs != mine) != expected_to_differ {
            wrong.push(format!(
                "{step}{}:\n  Debian's: {theirs:?}\n  ours:     {mine:?}",
                if expected_to_differ {
                    " (a documented difference, but the same)"
                } else {
                    ""
                }
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Reply text with the passive port masked (the address of a 227 stays).
fn mask_pasv(r: &Reply) -> String {
    let t = r.raw_str();
    match (t.find('('), t.rfind(')')) {
        (Some(a), Some(b)) if t.starts_with("227") => {
            let address: Vec<&str> = t[a + 1..b].split(',').take(4).collect();
            format!("{}({},…){}", &t[..a], address.join(","), &t[b + 1..])
        }
        (Some(a), Some(b)) if t.starts_with("229") => format!("{}(…){}", &t[..a], &t[b + 1..]),
        _ => t,
    }
}

fn session_steps(side: &Side) -> Vec<(String, String)> {
    let mut steps: Vec<(String, String)> = Vec::new();
    let mut note = |step: &str, what: String| steps.push((step.to_string(), what));
    let (mut c, greeting) = FtpClient::connect(side.addr);
    note("greeting", greeting.raw_str());
    // FEAT: ours adds MLST (beyond vsftpd) and lists UTF8 whatever utf8_filesystem says.
    let feat = c.cmd("FEAT").raw_str();
    note(
        "FEAT without MLST and UTF8",
        feat.lines()
            .filter(|l| !l.starts_with(" MLST") && *l != " UTF8\r" && *l != " UTF8")
            .collect::<Vec<_>>()
            .join("\n"),
    );
    note("FEAT UTF8", feat.contains(" UTF8\r\n").to_string());
    note("USER local", c.cmd("USER root").raw_str());
    note("USER anonymous", c.cmd("USER anonymous").raw_str());
    note("PASS", c.cmd("PASS someone@example.com").raw_str());
    let stat = c.cmd("STAT").raw_str();
    note(
        "STAT",
        stat.lines()
            .filter(|l| !l.contains("vsFTPd") && !l.contains("Logged in as"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    for cmd in ["LIST", "LIST -R", "NLST", "LIST -a"] {
        let t = c.transfer(cmd);
        note(
            cmd,
            format!("{} {}", t.start.raw_str(), String::from_utf8_lossy(&t.data)),
        );
    }
    note("CWD sub", c.cmd("CWD sub").raw_str());
    note("CDUP", c.cmd("CDUP").raw_str());
    for cmd in ["RETR secret.txt", "RETR a.txt", "RETR .hidden"] {
        let t = c.transfer(cmd);
        note(cmd, format!("{} {:?}", t.start.raw_str(), t.data));
    }
    note("TYPE A", c.cmd("TYPE A").raw_str());
    let t = c.transfer("RETR a.txt");
    note(
        "RETR a.txt in ASCII",
        format!("{} {:?}", t.start.raw_str(), t.data),
    );
    note("TYPE I", c.cmd("TYPE I").raw_str());
    note("MDTM", c.cmd("MDTM a.txt").raw_str());
    for cmd in [
        "STOR x.txt",
        "MKD x",
        "DELE a.txt",
        "RNFR a.txt",
        "SITE CHMOD 600 a.txt",
    ] {
        note(cmd, c.cmd(cmd).raw_str());
    }
    // Active mode: allowed, and from an ephemeral port rather than 20.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let p = l.local_addr().unwrap().port();
    note(
        "PORT",
        c.cmd(&format!("PORT 127,0,0,1,{},{}", p >> 8, p & 0xff))
            .raw_str(),
    );
    let start = c.cmd("NLST").raw_str();
    let (mut data, from) = l.accept().unwrap();
    let mut names = Vec::new();
    data.read_to_end(&mut names).unwrap();
    let end = c.read_reply().unwrap().raw_str();
    note(
        "NLST over PORT",
        format!("{start} {end} from port 20: {}", from.port() == 20),
    );
    // Passive ports: the range of a hundred.
    let mut ports = Vec::new();
    for _ in 0..100 {
        let r = c.cmd("PASV");
        ports.push(parse_pasv(&r).expect("a 227 reply").port());
    }
    note("PASV", mask_pasv(&c.cmd("PASV")));
    note(
        "PASV ports from 5001",
        ports.iter().all(|&p| p >= 5001).to_string(),
    );
    note("EPSV", mask_pasv(&c.cmd("EPSV")));
    note("QUIT", c.cmd("QUIT").raw_str());
    steps
}

#[test]
fn an_anonymous_session_shows_debians_defaults() {
    let Some((oracle, ours)) = both("def_session", &[]) else {
        return;
    };
    let (theirs, mine) = (session_steps(&oracle), session_steps(&ours));
    // ftpd_banner (unset in both): ours names itself. utf8_filesystem=NO: Debian's patch
    // leaves UTF8 out of FEAT, ours lists it as upstream does.
    compare(&theirs, &mine, &["greeting", "FEAT UTF8"]);
    assert!(mine[0].1.starts_with("220 (vsFTPd-rs "), "{:?}", mine[0]);
}

fn write_steps(side: &Side) -> Vec<(String, String)> {
    let mut steps = Vec::new();
    let (mut c, _) = FtpClient::connect(side.addr);
    c.login_anonymous();
    let (start, end) = c.upload("STOR up/new.txt", b"new\r\nfile\n");
    steps.push((
        "STOR".to_string(),
        format!(
            "{} {}",
            start.raw_str(),
            end.map(|r| r.raw_str()).unwrap_or_default()
        ),
    ));
    let p = side.tree.join("up/new.txt");
    let md = fs::metadata(&p).unwrap();
    steps.push((
        "uploaded file".to_string(),
        format!(
            "mode {:o}, owner is the ftp account: {}, bytes {:?}",
            md.mode() & 0o7777,
            Some(md.uid()) == passwd_uid(oracle_account()),
            fs::read(&p).unwrap()
        ),
    ));
    // TYPE A: the bytes as sent (ascii_upload_enable=NO).
    c.cmd("TYPE A").assert_code(200);
    let (start, _) = c.upload("STOR up/ascii.txt", b"a\r\nb\r\n");
    steps.push((
        "STOR in ASCII".to_string(),
        format!(
            "{} {:?}",
            start.raw_str(),
            fs::read(side.tree.join("up/ascii.txt")).ok()
        ),
    ));
    for cmd in ["MKD up/d", "DELE up/new.txt", "RNFR up/new.txt"] {
        steps.push((cmd.to_string(), c.cmd(cmd).raw_str()));
    }
    steps
}

#[test]
fn anonymous_uploads_show_debians_defaults() {
    let on = [
        ("write_enable", "YES".to_string()),
        ("anon_upload_enable", "YES".to_string()),
    ];
    let Some((oracle, ours)) = both("def_writes", &on) else {
        return;
    };
    compare(&write_steps(&oracle), &write_steps(&ours), &[]);
}

#[test]
fn fifty_sessions_from_one_address() {
    let Some((oracle, ours)) = both("def_limits", &[]) else {
        return;
    };
    let count = |side: &Side| {
        let mut open = Vec::new();
        loop {
            let s = TcpStream::connect(side.addr).unwrap();
            let mut line = String::new();
            BufReader::new(s.try_clone().unwrap())
                .read_line(&mut line)
                .unwrap();
            if !line.starts_with("220") || open.len() > 60 {
                return (open.len(), line);
            }
            open.push(s);
        }
    };
    let (theirs, mine) = (count(&oracle), count(&ours));
    assert_eq!(theirs, mine, "sessions before the refusal, and its text");
    assert_eq!(mine.0, 50, "{}: {mine:?}", ours.name);
}

#[test]
fn no_background_and_no_listen_line() {
    let Some(bin) = oracle() else { return };
    // background=NO: the process started is the listener, in the foreground.
    let (oracle_side, ours_side) = (
        start_oracle(&bin, "def_fg_o", &[]),
        start_ours("def_fg_r", &[]),
    );
    for side in [&oracle_side, &ours_side] {
        let info = proc_info(side.pid).expect("the started process runs on");
        assert_ne!(info.state, 'Z', "{}: the started process exited", side.name);
        assert!(FtpClient::try_connect(side.addr).is_ok(), "{}", side.name);
    }
    // No listen line: inetd mode in both; a connected TCP socket on stdin gets a greeting.
    let d = TempDir::new("def_inetd");
    let empty = d.mkdir("empty");
    let tree = d.mkdir("tree");
    let conf_text = base_lines(&tree, &empty)
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect::<String>();
    let conf = d.write("inetd.conf", format!("seccomp_sandbox=NO\n{conf_text}"));
    for (who, program) in [("Debian's vsftpd", bin.clone()), ("ours", vsftpd_bin())] {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server_end, _) = l.accept().unwrap();
        let out = server_end.try_clone().unwrap();
        let child = Command::new(&program)
            .arg(&conf)
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(server_end)))
            .stdout(Stdio::from(std::os::fd::OwnedFd::from(out)))
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let _guard = ProcessGuard::new(child, true);
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut line = String::new();
        BufReader::new(&client).read_line(&mut line).unwrap();
        assert!(line.starts_with("220 "), "{who}: {line:?}");
    }
}

#[test]
fn the_accounts_and_the_empty_jail() {
    let Some(bin) = oracle() else { return };
    let our_default = |k: &str| {
        our_defaults()
            .into_iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v)
            .unwrap()
    };
    // nopriv_user: the oracle's pre-login process runs as it.
    let oracle_side = start_oracle(&bin, "def_nopriv_o", &[]);
    let (_c, g) = FtpClient::connect(oracle_side.addr);
    g.assert_code(220);
    let nopriv = our_default("nopriv_user");
    let uid = passwd_uid(&nopriv).unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || descendants(oracle_side.pid)
            .iter()
            .any(|p| p.uids[1] == uid)),
        "no process of the oracle runs as {nopriv}"
    );
    // secure_chroot_dir and ftp_username: left out, each names its default in the oracle's
    // OOPS and in ours' -t, when this machine lacks it.
    let d = TempDir::new("def_accounts");
    let empty = d.mkdir("empty");
    let tree = d.mkdir("tree");
    for (option, keep) in [
        (
            "secure_chroot_dir",
            vec![
                ("ftp_username", oracle_account().to_string()),
                ("anon_root", tree.display().to_string()),
            ],
        ),
        (
            "ftp_username",
            vec![("secure_chroot_dir", empty.display().to_string())],
        ),
    ] {
        let default = our_default(option);
        let present = match option {
            "ftp_username" => passwd_uid(&default).is_some(),
            _ => Path::new(&default).is_dir(),
        };
        if present && option == "secure_chroot_dir" {
            // The oracle's pre-login process is jailed there.
            let side = start_oracle(&bin, "def_jail_o", &[(option, String::new())]);
            let (_c, g) = FtpClient::connect(side.addr);
            g.assert_code(220);
            // /var/run is a link to /run: /proc shows the resolved path.
            let real = fs::canonicalize(&default).unwrap();
            let jailed = wait_until(Duration::from_secs(5), || {
                descendants(side.pid)
                    .iter()
                    .any(|p| p.uids[1] == uid && root_of(p.pid) == real)
            });
            assert!(jailed, "no process of the oracle is jailed in {default}");
            continue;
        }
        if present {
            eprintln!("{option}={default} exists here: its default is not visible");
            continue;
        }
        let mut text = String::from("listen=NO\nseccomp_sandbox=NO\n");
        for (k, v) in &keep {
            text.push_str(&format!("{k}={v}\n"));
        }
        let conf = d.write(format!("{option}.conf"), &text);
        // The oracle, in inetd mode on a TCP socket: the OOPS comes at the greeting or the
        // login.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server_end, _) = l.accept().unwrap();
        let out = server_end.try_clone().unwrap();
        let child = Command::new(&bin)
            .arg(&conf)
            .stdin(Stdio::from(std::os::fd::OwnedFd::from(server_end)))
            .stdout(Stdio::from(std::os::fd::OwnedFd::from(out)))
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let _guard = ProcessGuard::new(child, true);
        let mut c = FtpClient::wrap(client).unwrap();
        let first = c.read_reply().unwrap().raw_str();
        let said = if first.starts_with("220") {
            c.cmd("USER anonymous");
            c.try_cmd("PASS x@example.com")
                .map(|r| r.raw_str())
                .unwrap_or_default()
        } else {
            first
        };
        assert!(
            said.contains("OOPS") && said.contains(&default),
            "{option}: Debian's vsftpd said {said:?}, ours defaults to {default}"
        );
        let (code, _, err) = run_vsftpd(&[Path::new("-t"), conf.as_path()]);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(&format!("{option}={default} (default)")),
            "{option}: {err}"
        );
    }
}

//! Issue #11: the logs admins and their tools already read — vsftpd.log, wu-ftpd's xferlog,
//! syslog and the protocol log — written by the real daemon for anonymous, real and guest
//! users, and read back by the real consumers: fail2ban's vsftpd filter (fail2ban-regex),
//! logwatch's vsftpd and ftpd-xferlog services, a real rsyslogd on a private socket, and an
//! xferlog parser written from the format's documentation (xferlog(5)), not from our writer.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::accounts::{PamService, TestUser};
use common::*;

const WAIT: Duration = Duration::from_secs(10);

// ---- reading the logs ----------------------------------------------------------------------

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// Waits until the file at `path` has a line for which `pred` holds; returns the whole text.
#[track_caller]
fn wait_for_line(path: &Path, pred: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    let found = wait_until(WAIT, || {
        text = read(path);
        text.lines().any(&pred)
    });
    assert!(found, "no such line in {}:\n{text}", path.display());
    text
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Checks strftime's `%a %b %e %H:%M:%S %Y` (24 characters).
fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 24
        && DAYS.contains(&&d[0..3])
        && b[3] == b' '
        && MONTHS.contains(&&d[4..7])
        && b[7] == b' '
        && (b[8] == b' ' || b[8].is_ascii_digit())
        && b[9].is_ascii_digit()
        && b[10] == b' '
        && d[11..19].bytes().enumerate().all(|(i, c)| {
            if i == 2 || i == 5 {
                c == b':'
            } else {
                c.is_ascii_digit()
            }
        })
        && b[19] == b' '
        && d[20..24].bytes().all(|c| c.is_ascii_digit())
}

/// A vsftpd.log line without its date and `[pid N] `; panics unless they are well formed.
#[track_caller]
fn body(line: &str) -> &str {
    assert!(line.len() > 25 && is_date(&line[..24]), "no date: {line:?}");
    let rest = line[24..]
        .strip_prefix(" [pid ")
        .unwrap_or_else(|| panic!("no pid: {line:?}"));
    let end = rest
        .find("] ")
        .unwrap_or_else(|| panic!("no pid: {line:?}"));
    assert!(rest[..end].parse::<u32>().is_ok(), "{line:?}");
    &rest[end + 2..]
}

/// Every line of a vsftpd.log, without dates and pids, the protocol lines left out.
#[track_caller]
fn bodies(path: &Path) -> Vec<String> {
    read(path)
        .lines()
        .map(|l| body(l).to_string())
        .filter(|b| !b.contains("FTP command: ") && !b.contains("FTP response: "))
        .collect()
}

/// Drops the rate (`, 1.23Kbyte/sec`) of a transfer line: it depends on the clock.
fn no_rate(b: &str) -> String {
    match b.rfind(", ") {
        Some(i) if b.ends_with("Kbyte/sec") => b[..i].to_string(),
        _ => b.to_string(),
    }
}

/// Asserts that `expected` appear in `have`, in this order (other lines may come between).
#[track_caller]
fn assert_in_order(have: &[String], expected: &[String]) {
    let mut at = 0;
    for e in expected {
        match have[at..].iter().position(|h| no_rate(h) == *e) {
            Some(i) => at += i + 1,
            None => panic!("missing (or out of order): {e:?}\nin:\n{}", have.join("\n")),
        }
    }
}

// ---- xferlog(5), from its documentation ----------------------------------------------------

/// One xferlog record, parsed as xferlog(5) describes the format: the current time (fixed
/// width, `DDD MMM dd hh:mm:ss YYYY`), then thirteen fields separated by single spaces:
/// transfer-time (seconds), remote-host, file-size (bytes), filename, transfer-type (`a`
/// ascii, `b` binary), special-action-flag (`C` compressed, `U` uncompressed, `T` tar'ed,
/// `_` none), direction (`o` outgoing, `i` incoming, `d` deleted), access-mode (`a`
/// anonymous, `g` guest, `r` real), username (the ident string of an anonymous user, else
/// the local user name), service-name (usually `ftp`), authentication-method (`0` none, `1`
/// RFC 931), authenticated-user-id (`*` when not available), completion-status (`c`
/// complete, `i` incomplete).
#[derive(Debug)]
struct Xfer {
    seconds: u64,
    host: String,
    bytes: u64,
    name: String,
    ascii: bool,
    direction: char,
    access: char,
    user: String,
    complete: bool,
}

fn parse_xferlog(line: &str) -> Result<Xfer, String> {
    let bad = |why: &str| Err(format!("{why}: {line:?}"));
    if line.len() < 25 || !is_date(&line[..24]) || line.as_bytes()[24] != b' ' {
        return bad("current-time");
    }
    let f: Vec<&str> = line[25..].split(' ').collect();
    if f.len() != 13 {
        return bad("not thirteen fields after the time");
    }
    let one = |s: &str, allowed: &str| s.len() == 1 && allowed.contains(s);
    let Ok(seconds) = f[0].parse::<u64>() else {
        return bad("transfer-time");
    };
    if f[1].is_empty() {
        return bad("remote-host");
    }
    let Ok(bytes) = f[2].parse::<u64>() else {
        return bad("file-size");
    };
    if !f[3].starts_with('/') {
        return bad("filename");
    }
    if !one(f[4], "ab") || !one(f[5], "CUT_") || !one(f[6], "oid") || !one(f[7], "agr") {
        return bad("flags");
    }
    if f[8].is_empty() || f[9].is_empty() || !one(f[10], "01") || f[11].is_empty() {
        return bad("user, service or authentication");
    }
    if !one(f[12], "ci") {
        return bad("completion-status");
    }
    Ok(Xfer {
        seconds,
        host: f[1].to_string(),
        bytes,
        name: f[3].to_string(),
        ascii: f[4] == "a",
        direction: f[6].chars().next().unwrap_or('?'),
        access: f[7].chars().next().unwrap_or('?'),
        user: f[8].to_string(),
        complete: f[12] == "c",
    })
}

#[track_caller]
fn xferlog_records(path: &Path) -> Vec<Xfer> {
    read(path)
        .lines()
        .map(|l| parse_xferlog(l).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn the_test_parser_reads_the_documented_example() {
    let x = parse_xferlog(
        "Mon Nov 24 10:00:01 2026 1 192.0.2.7 1048576 /pub/file.iso b _ o r alice ftp 0 * c",
    )
    .unwrap();
    assert_eq!((x.bytes, x.direction, x.access), (1_048_576, 'o', 'r'));
    assert!(parse_xferlog("Mon Nov 24 10:00:01 2026 1 h 1 /a b _ o r u ftp 0 *").is_err());
}

// ---- the consumers -------------------------------------------------------------------------

/// fail2ban-regex `log` with `filter`: the address of every match, in order.
#[track_caller]
fn fail2ban_hosts(log: &Path, filter: &Path) -> Vec<String> {
    let out = run_with_timeout(
        Command::new("fail2ban-regex")
            .args(["-r", "-o", "ip"])
            .arg(log)
            .arg(filter),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "fail2ban-regex: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

const FAIL2BAN_FILTER: &str = "/etc/fail2ban/filter.d/vsftpd.conf";

/// fail2ban's newer vsftpd filter line (upstream, after Debian 12's 1.0.2), which also reads
/// the journal's and syslog's form of `FAIL LOGIN`; written beside a copy of common.conf.
fn upstream_filter(dir: &Path) -> PathBuf {
    let common = std::fs::read_to_string("/etc/fail2ban/filter.d/common.conf").unwrap();
    std::fs::write(dir.join("common.conf"), common).unwrap();
    let filter = dir.join("vsftpd-upstream.conf");
    std::fs::write(
        &filter,
        "[INCLUDES]\nbefore = common.conf\n[Definition]\n_daemon = vsftpd\n\
         failregex = ^(?:\\s*\\[pid \\d+\\] |%(__prefix_line)s)\\[<F-USER>[^\\]]+</F-USER>\\] FAIL LOGIN: Client \"<HOST>\"(?:\\s*$|,)\n",
    )
    .unwrap();
    filter
}

/// `logwatch --service SERVICE` over the logs in `dir`, at the highest detail.
#[track_caller]
fn logwatch(dir: &Path, service: &str) -> String {
    let out = run_with_timeout(
        Command::new("logwatch")
            .args(["--service", service, "--logdir"])
            .arg(dir)
            .args(["--range", "All", "--output", "stdout", "--detail", "20"]),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "logwatch: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---- the daemon ----------------------------------------------------------------------------

/// The name an anonymous session goes by in the logs: ftp_username.
fn anon_name() -> &'static str {
    if one_process_model() {
        "ftp"
    } else {
        test_account()
    }
}

/// A builder whose logs go to `logs/` in its temp dir (vsftpd.log and xferlog, the names
/// logwatch looks for), with a tree holding `hello.txt`.
fn builder(name: &str) -> (ServerBuilder, PathBuf) {
    let b = ServerBuilder::new(name).file("hello.txt", "hello\n");
    let logs = b.temp().mkdir("logs");
    let b = b
        .set("xferlog_file", logs.join("xferlog").display())
        .set("vsftpd_log_file", logs.join("vsftpd.log").display());
    (b, logs)
}

/// A directory of the tree that the anonymous account may write to.
fn writable_dir(b: &ServerBuilder, rel: &str) -> PathBuf {
    let p = b.tree_path().join(rel);
    std::fs::create_dir_all(&p).unwrap();
    let owner = if one_process_model() {
        "root"
    } else {
        test_account()
    };
    let out = Command::new("chown").arg(owner).arg(&p).output().unwrap();
    assert!(out.status.success());
    p
}

#[track_caller]
fn login_as(c: &mut FtpClient, user: &str, pass: &str) -> Reply {
    c.cmd(&format!("USER {user}"))
        .assert_is("331 Please specify the password.");
    c.cmd(&format!("PASS {pass}"))
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

// ---- the tests -----------------------------------------------------------------------------

/// Anonymous sessions with both file logs (dual_log_enable and xferlog_std_format, Red Hat's
/// stock settings plus dual): CONNECT, both outcomes of a login, every transfer, every file
/// operation — and fail2ban, logwatch and the xferlog parser read them.
#[test]
fn anonymous_sessions_in_vsftpd_log_and_xferlog() {
    let (b, logs) = builder("log_anonymous");
    writable_dir(&b, "up");
    std::fs::write(b.temp().join("banned"), "bad@example.com\n").unwrap();
    let server = b
        .set("xferlog_enable", "YES")
        .set("xferlog_std_format", "YES")
        .set("dual_log_enable", "YES")
        .set("write_enable", "YES")
        .set("anon_upload_enable", "YES")
        .set("anon_mkdir_write_enable", "YES")
        .set("anon_other_write_enable", "YES")
        .set("deny_email_enable", "YES")
        .set("banned_email_file", b_temp_banned(&logs))
        .start();
    let vlog = logs.join("vsftpd.log");
    let xlog = logs.join("xferlog");
    let (mut c, _) = server.connect();
    login_as(&mut c, "anonymous", "bad@example.com").assert_is("530 Login incorrect.");
    drop(c);
    let (mut c, _) = server.connect();
    login_as(&mut c, "ftp", "me @example.com").assert_is("230 Login successful.");
    let (_, data, end) = c.retr("hello.txt");
    assert_eq!(data, b"hello\n");
    end.assert_code(226);
    c.transfer("RETR missing.txt")
        .start
        .assert_is("550 Failed to open file.");
    let (start, end) = c.upload("STOR up/new file.bin", b"0123456789");
    start.assert_code(150);
    end.unwrap().assert_code(226);
    c.cmd("MKD up/d").assert_code(257);
    c.cmd("MKD up/d").assert_code(550);
    c.cmd("RNFR up/new file.bin").assert_code(350);
    c.cmd("RNTO up/d/moved.bin").assert_code(250);
    c.cmd("RNFR up/nothing").assert_code(550);
    c.cmd("DELE up/d/moved.bin").assert_code(250);
    c.cmd("DELE up/d/moved.bin").assert_code(550);
    c.cmd("RMD up/d").assert_code(250);
    c.cmd("QUIT").assert_code(221);
    let anon = anon_name();
    wait_for_line(&vlog, |l| l.contains("OK RMDIR"));
    let expected: Vec<String> = [
        "CONNECT: Client \"127.0.0.1\"".to_string(),
        "[anonymous] FAIL LOGIN: Client \"127.0.0.1\"".to_string(),
        "CONNECT: Client \"127.0.0.1\"".to_string(),
        format!("[{anon}] OK LOGIN: Client \"127.0.0.1\", anon password \"me_@example.com\""),
        format!("[{anon}] OK DOWNLOAD: Client \"127.0.0.1\", \"/hello.txt\", 6 bytes"),
        format!("[{anon}] FAIL DOWNLOAD: Client \"127.0.0.1\", \"/missing.txt\""),
        format!("[{anon}] OK UPLOAD: Client \"127.0.0.1\", \"/up/new file.bin\", 10 bytes"),
        format!("[{anon}] OK MKDIR: Client \"127.0.0.1\", \"/up/d\""),
        format!("[{anon}] FAIL MKDIR: Client \"127.0.0.1\", \"/up/d\""),
        format!("[{anon}] OK RENAME: Client \"127.0.0.1\", \"/up/new file.bin /up/d/moved.bin\""),
        format!("[{anon}] FAIL RENAME: Client \"127.0.0.1\", \"/up/nothing\""),
        format!("[{anon}] OK DELETE: Client \"127.0.0.1\", \"/up/d/moved.bin\""),
        format!("[{anon}] FAIL DELETE: Client \"127.0.0.1\", \"/up/d/moved.bin\""),
        format!("[{anon}] OK RMDIR: Client \"127.0.0.1\", \"/up/d\""),
    ]
    .to_vec();
    let have = bodies(&vlog);
    assert_in_order(&have, &expected);
    // Transfers carry their rate; a failed one says it moved nothing.
    assert!(have
        .iter()
        .all(|l| !l.contains("DOWNLOAD") || l.ends_with("Kbyte/sec")));
    // xferlog: the three transfers, read as the documentation describes the format.
    let x = xferlog_records(&xlog);
    assert_eq!(x.len(), 3, "{x:?}");
    assert_eq!(
        (
            x[0].name.as_str(),
            x[0].bytes,
            x[0].direction,
            x[0].complete
        ),
        ("/hello.txt", 6, 'o', true)
    );
    assert_eq!((x[1].name.as_str(), x[1].complete), ("/missing.txt", false));
    assert_eq!(
        (x[2].name.as_str(), x[2].bytes, x[2].direction),
        ("/up/new_file.bin", 10, 'i')
    );
    for r in &x {
        assert_eq!(
            (r.host.as_str(), r.access, r.user.as_str(), r.ascii),
            ("127.0.0.1", 'a', "me_@example.com", false)
        );
        assert!(r.seconds >= 1);
    }
    // Created by the daemon, mode 0600 (vsftpd's).
    assert_eq!(mode(&vlog), 0o600);
    assert_eq!(mode(&xlog), 0o600);
    // fail2ban counts the one failed login; logwatch summarises both logs.
    assert_eq!(
        fail2ban_hosts(&vlog, Path::new(FAIL2BAN_FILTER)),
        ["127.0.0.1"]
    );
    let report = logwatch(&logs, "vsftpd");
    for want in [
        "Anonymous FTP Logins:",
        "(127.0.0.1): me_@example.com - 1 Time(s)",
        "Failed FTP Logins:",
        "(127.0.0.1): anonymous - 1 Time(s)",
        "/hello.txt -> 127.0.0.1",
        "/up/new file.bin <- 127.0.0.1",
        "/up/d >< 127.0.0.1",
    ] {
        assert!(report.contains(want), "{want:?} not in:\n{report}");
    }
    assert!(!report.contains("Unmatched"), "{report}");
    let report = logwatch(&logs, "ftpd-xferlog");
    assert!(
        report.contains("Outgoing Anonymous FTP Transfers")
            && report.contains("Incoming Anonymous FTP Transfers")
            && report.contains("/hello.txt"),
        "{report}"
    );
}

/// The banned e-mail list, beside the logs.
fn b_temp_banned(logs: &Path) -> String {
    let p = logs.parent().unwrap().join("banned");
    p.display().to_string()
}

/// Real (PAM) and guest (virtual_users_file) users: their names in every line, xferlog's `r`
/// and `g`, a failed password and Red Hat's user-list refusal (userlist_log) as FAIL LOGIN —
/// each one counted by fail2ban.
#[test]
fn real_and_guest_users() {
    let pam = PamService::unix("vrs-log");
    let (b, logs) = builder("log_users");
    let homes = TempDir::new("log_users_home");
    let home = homes.join("home");
    let u = TestUser::new("vrsl", &home);
    u.make_home(0o755);
    std::fs::write(home.join("mine.txt"), "mine\n").unwrap();
    u.chown(&home.join("mine.txt"));
    // The guests' account and their tree.
    let guests = TestUser::new("vrsg", &b.temp().join("virtual"));
    let vroot = b.temp().join("virtual");
    std::fs::create_dir_all(vroot.join("up")).unwrap();
    guests.chown(&vroot.join("up"));
    std::fs::write(vroot.join("g.txt"), "guest\n").unwrap();
    let vfile = b.temp().join("virtual_users");
    let hash = Command::new("openssl")
        .args(["passwd", "-6", "gina-pw"])
        .output()
        .unwrap();
    std::fs::write(
        &vfile,
        format!("gina:{}\n", String::from_utf8_lossy(&hash.stdout).trim()),
    )
    .unwrap();
    std::fs::write(b.temp().join("user_list"), "denied\n").unwrap();
    let server = b
        .set("local_enable", "YES")
        .set("anonymous_enable", "NO")
        .set("pam_service_name", &pam.name)
        .set("write_enable", "YES")
        .set("guest_enable", "YES")
        .set("guest_username", &guests.name)
        .set("virtual_users_file", vfile.display())
        .set("virtual_use_local_privs", "YES")
        .set("userlist_enable", "YES")
        .set("userlist_log", "YES")
        .set("userlist_file", b_user_list(&logs))
        .set("xferlog_enable", "YES")
        .set("dual_log_enable", "YES")
        .start();
    let vlog = logs.join("vsftpd.log");
    let (mut c, _) = server.connect();
    login_as(&mut c, &u.name, "wrong").assert_is("530 Login incorrect.");
    c.cmd("USER denied").assert_is("530 Permission denied.");
    drop(c);
    // With guest_enable every PAM login is a guest: a real user needs it off; the guest
    // comes from virtual_users_file either way.
    let (mut c, _) = server.connect();
    login_as(&mut c, "gina", "gina-pw").assert_is("230 Login successful.");
    let (_, data, _) = c.retr("g.txt");
    assert_eq!(data, b"guest\n");
    let (_, end) = c.upload("STOR up/g.bin", b"ggg");
    end.unwrap().assert_code(226);
    c.cmd("SITE CHMOD 600 up/g.bin").assert_code(200);
    c.cmd("SITE CHMOD 600 up/none").assert_code(550);
    c.cmd("QUIT").assert_code(221);
    wait_for_line(&vlog, |l| l.contains("FAIL CHMOD"));
    let name = &u.name;
    let have = bodies(&vlog);
    assert_in_order(
        &have,
        &[
            format!("[{name}] FAIL LOGIN: Client \"127.0.0.1\""),
            "[denied] FAIL LOGIN: Client \"127.0.0.1\", \"User is in the deny user list.\""
                .to_string(),
            "[gina] OK LOGIN: Client \"127.0.0.1\"".to_string(),
            "[gina] OK DOWNLOAD: Client \"127.0.0.1\", \"/g.txt\", 6 bytes".to_string(),
            "[gina] OK UPLOAD: Client \"127.0.0.1\", \"/up/g.bin\", 3 bytes".to_string(),
            "[gina] OK CHMOD: Client \"127.0.0.1\", \"/up/g.bin 600\"".to_string(),
            "[gina] FAIL CHMOD: Client \"127.0.0.1\", \"/up/none 600\"".to_string(),
        ],
    );
    let x = xferlog_records(&logs.join("xferlog"));
    assert_eq!(x.len(), 2, "{x:?}");
    assert!(x
        .iter()
        .all(|r| r.access == 'g' && r.user == "gina" && r.complete));
    // Every refused login is one fail2ban match.
    assert_eq!(
        fail2ban_hosts(&vlog, Path::new(FAIL2BAN_FILTER)),
        ["127.0.0.1", "127.0.0.1"]
    );
    drop(server);

    // A real user, without guest_enable.
    let (b, logs) = builder("log_real");
    let server = b
        .set("local_enable", "YES")
        .set("anonymous_enable", "NO")
        .set("pam_service_name", &pam.name)
        .set("write_enable", "YES")
        .set("xferlog_enable", "YES")
        .set("xferlog_std_format", "YES")
        .set("dual_log_enable", "YES")
        .start();
    let vlog = logs.join("vsftpd.log");
    let (mut c, _) = server.connect();
    login_as(&mut c, name, &u.password).assert_is("230 Login successful.");
    let path = home.join("mine.txt");
    let shown = path.display();
    let (_, data, _) = c.retr(&shown.to_string());
    assert_eq!(data, b"mine\n");
    let (_, end) = c.upload("STOR new.txt", b"new\n");
    end.unwrap().assert_code(226);
    c.cmd("QUIT").assert_code(221);
    wait_for_line(&vlog, |l| l.contains("OK UPLOAD"));
    let home_shown = home.display();
    assert_in_order(
        &bodies(&vlog),
        &[
            format!("[{name}] OK LOGIN: Client \"127.0.0.1\""),
            format!("[{name}] OK DOWNLOAD: Client \"127.0.0.1\", \"{shown}\", 5 bytes"),
            format!("[{name}] OK UPLOAD: Client \"127.0.0.1\", \"{home_shown}/new.txt\", 4 bytes"),
        ],
    );
    let x = xferlog_records(&logs.join("xferlog"));
    assert_eq!(x.len(), 2, "{x:?}");
    assert!(x.iter().all(|r| r.access == 'r' && &r.user == name));
    let report = logwatch(&logs, "vsftpd");
    assert!(
        report.contains("User FTP Logins:")
            && report.contains(&format!("(127.0.0.1): {name} - 1 Time(s)")),
        "{report}"
    );
}

fn b_user_list(logs: &Path) -> String {
    logs.parent()
        .unwrap()
        .join("user_list")
        .display()
        .to_string()
}

/// A transfer that does not complete is logged as failed with the bytes it moved, and as
/// incomplete in xferlog: a download whose client goes away, an upload aborted with ABOR.
#[test]
fn incomplete_transfers() {
    let (b, logs) = builder("log_incomplete");
    writable_dir(&b, "up");
    let server = b
        .pattern_file("big.bin", 4 << 20)
        .set("xferlog_enable", "YES")
        .set("dual_log_enable", "YES")
        .set("write_enable", "YES")
        .set("anon_upload_enable", "YES")
        .set("anon_max_rate", "262144")
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_code(200);
    let mut data = c.open_data();
    c.cmd("RETR big.bin").assert_code(150);
    let mut got = vec![0u8; 64 * 1024];
    std::io::Read::read_exact(&mut data, &mut got).unwrap();
    drop(data);
    c.read_reply().unwrap().assert_code(426);
    let mut data = c.open_data();
    c.cmd("STOR up/part.bin").assert_code(150);
    std::io::Write::write_all(&mut data, &[7u8; 1000]).unwrap();
    std::io::Write::flush(&mut data).unwrap();
    wait_until(WAIT, || {
        std::fs::metadata(server.tree_path().join("up/part.bin")).is_ok_and(|m| m.len() == 1000)
    });
    c.send("ABOR").unwrap();
    c.read_reply().unwrap().assert_code(426);
    c.read_reply().unwrap().assert_code(226);
    drop(data);
    let vlog = logs.join("vsftpd.log");
    let text = wait_for_line(&vlog, |l| l.contains("FAIL UPLOAD"));
    let down = text
        .lines()
        .map(body)
        .find(|l| l.contains("FAIL DOWNLOAD"))
        .unwrap_or_else(|| panic!("{text}"));
    let bytes: u64 = down
        .split(", ")
        .find_map(|f| f.strip_suffix(" bytes"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no byte count: {down}"));
    assert!((64 * 1024..4 << 20).contains(&bytes), "{down}");
    let up = text
        .lines()
        .map(body)
        .find(|l| l.contains("FAIL UPLOAD"))
        .unwrap();
    assert!(
        no_rate(up).ends_with("\"/up/part.bin\", 1000 bytes"),
        "{up}"
    );
    let x = xferlog_records(&logs.join("xferlog"));
    assert_eq!(x.len(), 2, "{x:?}");
    assert!(x.iter().all(|r| !r.complete), "{x:?}");
    assert_eq!(x[1].bytes, 1000);
}

/// log_ftp_protocol: every command (verbs in capitals) and every reply line, the password
/// never: PASS is logged as vsftpd logs it.
#[test]
fn protocol_log_never_holds_a_password() {
    let (b, logs) = builder("log_protocol");
    let server = b
        .set("xferlog_enable", "YES")
        .set("log_ftp_protocol", "YES")
        .start();
    let (mut c, _) = server.connect();
    login_as(&mut c, "anonymous", "Sekrit-Pa55@example.com").assert_code(230);
    c.cmd("noop").assert_code(200);
    c.cmd("QUIT").assert_code(221);
    let vlog = logs.join("vsftpd.log");
    let text = wait_for_line(&vlog, |l| l.contains("221 Goodbye."));
    let anon = anon_name();
    let lines: Vec<&str> = text.lines().map(body).collect();
    for want in [
        "FTP response: Client \"127.0.0.1\", \"220 ".to_string(),
        "FTP command: Client \"127.0.0.1\", \"USER anonymous\"".to_string(),
        "[anonymous] FTP response: Client \"127.0.0.1\", \"331 Please specify the password.\""
            .to_string(),
        "[anonymous] FTP command: Client \"127.0.0.1\", \"PASS <password>\"".to_string(),
        format!("[{anon}] FTP response: Client \"127.0.0.1\", \"230 Login successful.\""),
        format!("[{anon}] FTP command: Client \"127.0.0.1\", \"NOOP\""),
        format!("[{anon}] FTP response: Client \"127.0.0.1\", \"221 Goodbye.\""),
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(&want)),
            "{want:?} in\n{text}"
        );
    }
    // The anonymous password is in the OK LOGIN line (vsftpd logs it there), nowhere else.
    assert_eq!(text.matches("Sekrit-Pa55").count(), 1, "{text}");
}

/// No client byte forges a line: names with control bytes, a NUL (an LF in the name, as RFC
/// 959 sends it) and a whole `FAIL LOGIN` line for 6.6.6.6 stay inside their own line, in
/// vsftpd.log (with the protocol log), in xferlog, and in syslog.
#[test]
fn file_names_cannot_forge_lines() {
    let (b, logs) = builder("log_forged");
    writable_dir(&b, "up");
    let rs_dir = b.temp().mkdir("rsyslog");
    let rsyslog = Rsyslog::start(&rs_dir);
    let server = b
        .set("xferlog_enable", "YES")
        .set("dual_log_enable", "YES")
        .set("log_ftp_protocol", "YES")
        .set("write_enable", "YES")
        .set("anon_upload_enable", "YES")
        .set("anon_mkdir_write_enable", "YES")
        .start();
    let forged = b" Fri Jan 19 12:20:33 2007 [pid 1] [root] FAIL LOGIN: Client \"6.6.6.6\"";
    let mut c = server.login();
    c.cmd("TYPE I").assert_code(200);
    for sep in [&b"\0"[..], b"\r", b"\x1b[2K\r", b"\x0b\x0c"] {
        let mut name = b"up/x".to_vec();
        name.extend_from_slice(sep);
        name.extend_from_slice(forged);
        let mut mkd = b"MKD ".to_vec();
        mkd.extend_from_slice(&name);
        c.cmd_bytes(&mkd).unwrap().assert_code(257);
        let mut retr = b"RETR ".to_vec();
        retr.extend_from_slice(&name);
        retr.extend_from_slice(b".missing");
        let t = c.transfer_bytes(&retr);
        t.start.assert_code(550);
    }
    c.cmd("QUIT").assert_code(221);
    let vlog = logs.join("vsftpd.log");
    let text = wait_for_line(&vlog, |l| l.contains("221 Goodbye."));
    // Every line is one of ours, whole.
    for l in text.lines() {
        body(l);
        assert!(!l.contains('\u{1b}') && !l.contains('\r'), "{l:?}");
    }
    // The forged text is there, inside lines of ours: the names were logged, not obeyed.
    assert!(text.contains("FAIL LOGIN: Client \"6.6.6.6\""), "{text}");
    assert!(
        text.lines().all(|l| !body(l).contains("[root] FAIL")
            || body(l).contains("OK MKDIR")
            || body(l).contains("FAIL DOWNLOAD")
            || body(l).contains("FTP ")),
        "{text}"
    );
    assert!(fail2ban_hosts(&vlog, Path::new(FAIL2BAN_FILTER)).is_empty());
    for r in xferlog_records(&logs.join("xferlog")) {
        assert!(r.name.contains("FAIL_LOGIN"), "{r:?}");
    }
    drop(rsyslog);
    drop(server);

    // And the same through syslog.
    let (b, _) = builder("log_forged_syslog");
    writable_dir(&b, "up");
    let rsyslog = Rsyslog::start(&b.temp().mkdir("rsyslog"));
    let server = b
        .set("syslog_enable", "YES")
        .set("syslog_socket", rsyslog.socket.display())
        .set("write_enable", "YES")
        .set("anon_mkdir_write_enable", "YES")
        .start();
    let mut c = server.login();
    let mut mkd = b"MKD up/y\0".to_vec();
    mkd.extend_from_slice(forged);
    c.cmd_bytes(&mkd).unwrap().assert_code(257);
    c.cmd("QUIT").assert_code(221);
    let text = wait_for_line(&rsyslog.all, |l| l.contains("OK MKDIR"));
    let filter = upstream_filter(server.dir_path());
    assert!(fail2ban_hosts(&rsyslog.all, &filter).is_empty(), "{text}");
}

/// syslog_enable through a real rsyslogd: ident vsftpd with the pid, facility FTP, info for
/// everything but a failed login (warning); no date or [pid] in the text; no vsftpd.log.
/// fail2ban's newer filter reads the syslog form of FAIL LOGIN.
#[test]
fn syslog_lines_reach_rsyslog() {
    let (b, logs) = builder("log_syslog");
    let rs_dir = TempDir::new("log_syslog_rs");
    let rsyslog = Rsyslog::start(rs_dir.path());
    let server = b
        .set("syslog_enable", "YES")
        .set("syslog_socket", rsyslog.socket.display())
        .set("xferlog_enable", "YES")
        .start();
    let (mut c, _) = server.connect();
    login_as(&mut c, "anonymous", "").assert_code(230);
    let (_, data, _) = c.retr("hello.txt");
    assert_eq!(data, b"hello\n");
    c.cmd("QUIT").assert_code(221);
    let (mut c, _) = server.connect();
    c.cmd("USER joe").assert_code(530);
    drop(c);
    let anon = anon_name();
    let pri = wait_for_line(&rsyslog.pri, |l| l.contains("OK DOWNLOAD"));
    let tagged = |l: &str, level: &str, text: &str| {
        l.starts_with(&format!("ftp.{level} vsftpd["))
            && l.split_once("]: ").is_some_and(|(_, t)| t == text)
    };
    for (level, text) in [
        ("info", "CONNECT: Client \"127.0.0.1\"".to_string()),
        (
            "info",
            format!("[{anon}] OK LOGIN: Client \"127.0.0.1\", anon password \"?\""),
        ),
    ] {
        assert!(
            pri.lines().any(|l| tagged(l, level, &text)),
            "{level} {text:?} in:\n{pri}"
        );
    }
    assert!(
        pri.lines().any(|l| l.starts_with("ftp.info vsftpd[")
            && l.contains(&format!(
                "]: [{anon}] OK DOWNLOAD: Client \"127.0.0.1\", \"/hello.txt\", 6 bytes, "
            ))),
        "{pri}"
    );
    assert!(
        !logs.join("vsftpd.log").exists(),
        "syslog replaces vsftpd.log"
    );
    drop(server);
    // A failed login at the warning level, in both the journal's and fail2ban's reading.
    let (b, _) = builder("log_syslog_fail");
    let banned = b.temp().join("banned");
    std::fs::write(&banned, "x@y\n").unwrap();
    let server = b
        .set("syslog_enable", "YES")
        .set("syslog_socket", rsyslog.socket.display())
        .set("deny_email_enable", "YES")
        .set("banned_email_file", banned.display())
        .start();
    let (mut c, _) = server.connect();
    login_as(&mut c, "anonymous", "x@y").assert_is("530 Login incorrect.");
    let pri = wait_for_line(&rsyslog.pri, |l| l.contains("FAIL LOGIN"));
    assert!(
        pri.lines()
            .any(|l| tagged(l, "warning", "[anonymous] FAIL LOGIN: Client \"127.0.0.1\"")),
        "{pri}"
    );
    let all = read(&rsyslog.all);
    let filter = upstream_filter(server.dir_path());
    assert_eq!(
        fail2ban_hosts(&rsyslog.all, &filter),
        ["127.0.0.1"],
        "{all}"
    );
}

/// PAM's own failure line (pam_unix writes it to /dev/log through glibc) and ours reach the
/// same syslog: the daemon runs in a private mount namespace whose /dev has `log` pointing at
/// a real rsyslogd's socket (the host's /dev is never touched). fail2ban's vsftpd filter, as
/// Debian ships it, matches PAM's line; the newer one, ours.
#[test]
fn pam_failure_lines_reach_fail2ban() {
    let had_dev_log = Path::new("/dev/log").exists();
    let pam = PamService::unix("vrs-logpam");
    let (b, _) = builder("log_pam");
    let home = b.temp().join("home");
    let u = TestUser::new("vrsp", &home);
    u.make_home(0o755);
    let rsyslog = Rsyslog::start(&b.temp().mkdir("rsyslog"));
    let setup = format!(
        "mount --make-rprivate / && mount -t tmpfs -o mode=755 tmpfs /dev && \
         mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 && \
         mknod -m 666 /dev/urandom c 1 9 && mknod -m 666 /dev/random c 1 8 && \
         ln -s /proc/self/fd /dev/fd && ln -s {} /dev/log && exec \"$@\"",
        rsyslog.socket.display()
    );
    let server = b
        .wrapper(["unshare", "-m", "sh", "-c", &setup, "sh"])
        .set("local_enable", "YES")
        .set("anonymous_enable", "NO")
        .set("pam_service_name", &pam.name)
        .set("syslog_enable", "YES")
        .start();
    let (mut c, _) = server.connect();
    login_as(&mut c, &u.name, "wrong-1").assert_is("530 Login incorrect.");
    login_as(&mut c, &u.name, "wrong-2").assert_is("530 Login incorrect.");
    login_as(&mut c, &u.name, &u.password).assert_is("230 Login successful.");
    let all = wait_for_line(&rsyslog.all, |l| l.contains("OK LOGIN"));
    assert_eq!(
        all.matches("authentication failure;").count(),
        2,
        "PAM's lines: {all}"
    );
    assert!(
        all.contains(&format!("ruser={} rhost=127.0.0.1", u.name)),
        "{all}"
    );
    // Debian's filter: PAM's two lines.
    assert_eq!(
        fail2ban_hosts(&rsyslog.all, Path::new(FAIL2BAN_FILTER)),
        ["127.0.0.1", "127.0.0.1"],
        "{all}"
    );
    // The newer filter: our two FAIL LOGIN lines.
    let filter = upstream_filter(server.dir_path());
    assert_eq!(
        fail2ban_hosts(&rsyslog.all, &filter),
        ["127.0.0.1", "127.0.0.1"],
        "{all}"
    );
    drop(server);
    assert_eq!(
        Path::new("/dev/log").exists(),
        had_dev_log,
        "the host's /dev changed"
    );
}

/// Beyond vsftpd: `vsftpd_log_file=-` writes vsftpd.log's lines to standard error.
#[test]
fn vsftpd_log_to_standard_error() {
    let (b, _) = builder("log_stderr");
    let server = b
        .set("xferlog_enable", "YES")
        .set("vsftpd_log_file", "-")
        .start();
    let mut c = server.login();
    c.cmd("QUIT").assert_code(221);
    assert!(
        wait_until(WAIT, || server
            .stderr()
            .contains("OK LOGIN: Client \"127.0.0.1\"")),
        "{}",
        server.stderr()
    );
    let stderr = server.stderr();
    let line = stderr.lines().find(|l| l.contains("OK LOGIN")).unwrap();
    body(line);
}

/// The log files are opened for each session: logrotate's `create` (rename, then a new
/// file) takes effect at the next session without a restart, while a session that began
/// before finishes in the old file; `copytruncate` (the file cut to nothing) is written at
/// its new end, leaving no hole.
#[test]
fn rotation_needs_no_restart() {
    let (b, logs) = builder("log_rotate");
    let server = b.set("xferlog_enable", "YES").start();
    let vlog = logs.join("vsftpd.log");
    let mut old = server.login();
    wait_for_line(&vlog, |l| l.contains("OK LOGIN"));
    std::fs::rename(&vlog, logs.join("vsftpd.log.1")).unwrap();
    let mut new = server.login();
    new.retr("hello.txt");
    old.retr("hello.txt");
    wait_for_line(&vlog, |l| l.contains("OK DOWNLOAD"));
    wait_for_line(&logs.join("vsftpd.log.1"), |l| l.contains("OK DOWNLOAD"));
    assert_eq!(mode(&vlog), 0o600);
    assert_eq!(read(&vlog).matches("OK DOWNLOAD").count(), 1);
    // copytruncate: cut to 0 under a running session.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&vlog)
        .unwrap()
        .set_len(0)
        .unwrap();
    new.retr("hello.txt");
    let text = wait_for_line(&vlog, |l| l.contains("OK DOWNLOAD"));
    assert!(!text.contains('\0'), "a hole: {text:?}");
    assert_eq!(text.lines().count(), 1, "{text}");
}

/// A log that cannot be written stops the daemon at start-up, with the reason; so does an
/// unreachable syslog socket when syslog_enable needs it.
#[test]
fn unwritable_logs_stop_the_daemon() {
    let (b, logs) = builder("log_unwritable");
    let err = match b
        .set("xferlog_enable", "YES")
        .set(
            "vsftpd_log_file",
            logs.join("no/such/dir/vsftpd.log").display(),
        )
        .try_start()
    {
        Ok(_) => panic!("started with a log it cannot open"),
        Err(e) => e,
    };
    assert_eq!(err.code(), Some(1), "{err:?}");
    assert!(
        err.stderr.contains("failed to open vsftpd log file:"),
        "{err:?}"
    );
    let (b, logs) = builder("log_no_syslog");
    let err = match b
        .set("syslog_enable", "YES")
        .set("syslog_socket", logs.join("nobody-listens").display())
        .try_start()
    {
        Ok(_) => panic!("started without its syslog"),
        Err(e) => e,
    };
    assert_eq!(err.code(), Some(1), "{err:?}");
    assert!(err.stderr.contains("syslog socket"), "{err:?}");
}

/// What the daemon reports itself goes to the log: a session's seccomp trap (relayed by its
/// helper), a reload; with log_die the reason a session dies goes to syslog.
#[test]
fn daemon_reports_are_logged() {
    let (b, logs) = builder("log_reports");
    let rsyslog = Rsyslog::start(&b.temp().mkdir("rsyslog"));
    let banner = b.temp().join("banner");
    std::fs::write(&banner, "welcome\n").unwrap();
    let server = b
        .set("xferlog_enable", "YES")
        .set("seccomp_sandbox", "YES")
        .set("log_die", "YES")
        .set("syslog_socket", rsyslog.socket.display())
        .set("banner_file", banner.display())
        .start();
    let vlog = logs.join("vsftpd.log");
    if !one_process_model() {
        // A debug build's test hook makes a call the sandbox forbids (mknodat).
        let mut c = server.login();
        let _ = c.try_cmd("SITE SELFTEST MKNOD FIFO /trap");
        drop(c);
        let text = wait_for_line(&vlog, |l| l.contains("seccomp"));
        let line = text.lines().find(|l| l.contains("seccomp")).unwrap();
        assert!(
            body(line).starts_with("ERROR: session process: seccomp: blocked system call "),
            "{line}"
        );
    }
    server.signal("HUP");
    wait_for_line(&vlog, |l| l.contains("reloaded the configuration"));
    // log_die: a session that dies for a missing banner_file says why in syslog.
    std::fs::remove_file(&banner).unwrap();
    let (mut c, g) = match FtpClient::try_connect(server.addr()) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    assert!(g.raw_str().starts_with("500 OOPS: "), "{g:?}");
    drop(c.try_cmd("QUIT"));
    let pri = wait_for_line(&rsyslog.pri, |l| l.contains("ERROR: "));
    assert!(
        pri.lines()
            .any(|l| l.starts_with("ftp.warning vsftpd[") && l.contains("]: ERROR: ")),
        "{pri}"
    );
}

/// The one-process model (run_as_launching_user) logs the same lines.
#[test]
fn one_process_model_logs_too() {
    let (b, logs) = builder("log_one_process");
    let server = b
        .set("run_as_launching_user", "YES")
        .set("xferlog_enable", "YES")
        .set("dual_log_enable", "YES")
        .start();
    let mut c = server.login();
    c.retr("hello.txt");
    c.cmd("QUIT").assert_code(221);
    let vlog = logs.join("vsftpd.log");
    wait_for_line(&vlog, |l| l.contains("OK DOWNLOAD"));
    let have = bodies(&vlog);
    let ftp = anon_name();
    assert_in_order(
        &have,
        &[
            "CONNECT: Client \"127.0.0.1\"".to_string(),
            format!("[{ftp}] OK DOWNLOAD: Client \"127.0.0.1\", \"/hello.txt\", 6 bytes"),
        ],
    );
    assert_eq!(xferlog_records(&logs.join("xferlog")).len(), 1);
}

/// Sessions writing at once never mix their lines: each is one write under vsftpd's lock
/// (and with no_log_lock, O_APPEND alone keeps them apart on a local file system).
#[test]
fn concurrent_sessions_write_whole_lines() {
    for lock in ["NO", "YES"] {
        let (b, logs) = builder(&format!("log_concurrent_{lock}"));
        let server = b
            .set("xferlog_enable", "YES")
            .set("dual_log_enable", "YES")
            .set("no_log_lock", lock)
            .start();
        let addr = server.addr();
        let threads: Vec<_> = (0..6)
            .map(|_| {
                std::thread::spawn(move || {
                    let (mut c, _) = FtpClient::connect(addr);
                    c.login_anonymous();
                    for _ in 0..15 {
                        c.retr("hello.txt");
                    }
                    c.cmd("QUIT");
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let vlog = logs.join("vsftpd.log");
        assert!(wait_until(WAIT, || read(&vlog)
            .matches("OK DOWNLOAD")
            .count()
            == 90));
        for l in read(&vlog).lines() {
            body(l);
        }
        assert_eq!(xferlog_records(&logs.join("xferlog")).len(), 90);
    }
}

/// Under listen_ipv6 (the distributions' default) an IPv4 client is logged as vsftpd prints
/// it, v4-mapped.
#[test]
fn ipv4_clients_of_an_ipv6_listener_are_v4_mapped() {
    if !ipv6_loopback_available() {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    }
    let (b, logs) = builder("log_v4mapped");
    let banned = b.temp().join("banned");
    std::fs::write(&banned, "bad@x\n").unwrap();
    let server = b
        .set("deny_email_enable", "YES")
        .set("banned_email_file", banned.display())
        .set("listen", "NO")
        .set("listen_ipv6", "YES")
        .unset("listen_address")
        .set("xferlog_enable", "YES")
        .set("xferlog_std_format", "YES")
        .set("dual_log_enable", "YES")
        .start();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", server.port()).parse().unwrap();
    let (mut c, _) = FtpClient::connect(addr);
    login_as(&mut c, "anonymous", "bad@x").assert_is("530 Login incorrect.");
    drop(c);
    let (mut c, _) = FtpClient::connect(addr);
    c.login_anonymous();
    c.retr("hello.txt");
    c.cmd("QUIT").assert_code(221);
    let vlog = logs.join("vsftpd.log");
    wait_for_line(&vlog, |l| l.contains("OK DOWNLOAD"));
    assert!(
        bodies(&vlog)
            .iter()
            .any(|l| l == "CONNECT: Client \"::ffff:127.0.0.1\""),
        "{}",
        read(&vlog)
    );
    let x = xferlog_records(&logs.join("xferlog"));
    assert_eq!(x[0].host, "::ffff:127.0.0.1");
    // fail2ban reads the v4-mapped address as the client's.
    assert_eq!(
        fail2ban_hosts(&vlog, Path::new(FAIL2BAN_FILTER)),
        ["127.0.0.1"]
    );
}

/// Which of `files` the process `pid` holds open (from /proc).
fn holds(pid: u32, files: &[PathBuf]) -> Vec<PathBuf> {
    let links: Vec<PathBuf> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    files
        .iter()
        .filter(|f| links.contains(f))
        .cloned()
        .collect()
}

/// The log files are open in the processes that write to them, and only there: the
/// pre-login process, which parses an unauthenticated client's bytes, closes its copies
/// unless log_ftp_protocol makes it log; the helper and the post-login process keep them.
#[test]
fn the_pre_login_process_holds_no_log_it_does_not_write() {
    if one_process_model() {
        return;
    }
    for protocol in ["NO", "YES"] {
        let (b, logs) = builder(&format!("log_fds_{protocol}"));
        let server = b
            .set("xferlog_enable", "YES")
            .set("dual_log_enable", "YES")
            .set("log_ftp_protocol", protocol)
            // Not anonymous-only: no post-login process is started before the login.
            .set("local_enable", "YES")
            .start();
        let files = [logs.join("vsftpd.log"), logs.join("xferlog")];
        let (mut c, _) = server.connect();
        c.cmd("NOOP").assert_code(530);
        let helper = wait_child_of(server.pid(), None);
        let pre = wait_child_of(helper, None);
        assert_eq!(holds(helper, &files), files, "the helper");
        let expected: &[PathBuf] = if protocol == "YES" { &files } else { &[] };
        assert_eq!(holds(pre, &files), expected, "log_ftp_protocol={protocol}");
        c.login_anonymous();
        let post = wait_child_of(helper, None);
        assert_eq!(holds(post, &files), files, "the post-login process");
    }
}

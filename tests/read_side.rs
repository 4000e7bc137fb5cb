//! Issue #4, read side: HELP, MDTM, STAT (server status and STAT path), SITE, with the exact
//! replies of vsftpd 3.0.5 (postlogin.c handle_help, handle_mdtm, handle_stat,
//! handle_dir_common, and the anonymous gate in front of handle_site).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use common::*;

/// 2023-11-25 01:31:00 UTC.
const OLD_MTIME: u64 = 1_700_875_860;
const OLD_MDTM: &str = "213 20231125013100";

/// A server tree: hello.txt (11 bytes), pub/readme.txt, .hidden.
fn builder(name: &str) -> ServerBuilder {
    ServerBuilder::new(name)
        .file("hello.txt", "hello world")
        .dir("pub")
        .file("pub/readme.txt", "read me\n")
        .file(".hidden", "secret")
}

fn set_mtime(path: &Path, secs: u64) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The whole reply, exactly (multi-line replies included).
#[track_caller]
fn assert_raw(r: &Reply, want: &str) {
    assert_eq!(r.raw_str(), want, "reply bytes differ");
}

/// What STAT path must send for these listing lines.
fn stat_reply(lines: &[String]) -> String {
    let mut s = "213-Status follows:\r\n".to_string();
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.push_str("213 End of status\r\n");
    s
}

#[test]
fn help_is_vsftpds_list() {
    let server = builder("help").start();
    let mut c = server.login();
    let want = concat!(
        "214-The following commands are recognized.\r\n",
        " ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD\r\n",
        " MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR\r\n",
        " RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD\r\n",
        " XPWD XRMD\r\n",
        "214 Help OK.\r\n",
    );
    assert_raw(&c.cmd("HELP"), want);
    // Lower case, and an argument (vsftpd ignores it).
    assert_raw(&c.cmd("help"), want);
    assert_raw(&c.cmd("HELP RETR"), want);
    c.cmd("NOOP").assert_is("200 NOOP ok.");
}

#[test]
fn mdtm_regular_files() {
    let b = builder("mdtm")
        .file("with space.txt", "x")
        .symlink("link-to-hello", "hello.txt")
        .symlink("link-to-pub", "pub");
    let tree = b.tree_path().to_path_buf();
    set_mtime(&tree.join("hello.txt"), OLD_MTIME);
    // 2000-02-29 23:59:59 UTC: a leap day, and every field two digits.
    set_mtime(&tree.join("pub/readme.txt"), 951_868_799);
    // 1970-01-01 00:00:01 UTC.
    set_mtime(&tree.join("with space.txt"), 1);
    let server = b.start();
    let mut c = server.login();
    c.cmd("MDTM hello.txt").assert_is(OLD_MDTM);
    c.cmd("mdtm /hello.txt").assert_is(OLD_MDTM);
    c.cmd("MDTM pub/readme.txt").assert_is("213 20000229235959");
    c.cmd("MDTM with space.txt").assert_is("213 19700101000001");
    // Relative to the current directory.
    c.cmd("CWD pub")
        .assert_is("250 Directory successfully changed.");
    c.cmd("MDTM readme.txt").assert_is("213 20000229235959");
    c.cmd("MDTM ../hello.txt").assert_is(OLD_MDTM);
    c.cmd("MDTM /pub/readme.txt")
        .assert_is("213 20000229235959");
    // vsftpd stat()s: a symlink gives its target's time; one to a directory is no file.
    c.cmd("MDTM /link-to-hello").assert_is(OLD_MDTM);
    c.cmd("MDTM /link-to-pub")
        .assert_is("550 Could not get file modification time.");
    // Dot files are files like any other.
    c.cmd("MDTM /.hidden").assert_code(213);
}

#[test]
fn mdtm_failures() {
    let server = builder("mdtm_fail").start();
    let mut c = server.login();
    for arg in [
        "MDTM",
        "MDTM missing.txt",
        "MDTM pub",
        "MDTM /",
        "MDTM ..",
        "MDTM pub/",
    ] {
        c.cmd(arg)
            .assert_is("550 Could not get file modification time.");
    }
    // Nothing outside the root.
    c.cmd("MDTM ../../../../etc/passwd")
        .assert_is("550 Could not get file modification time.");
    c.cmd("MDTM /etc/passwd")
        .assert_is("550 Could not get file modification time.");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
}

/// The set-form with write_enable=NO: vsftpd stats the whole argument and answers from that,
/// so it reports the failure to *get* the time, and the file is untouched.
#[test]
fn mdtm_set_form_is_refused_without_writes() {
    let b = builder("mdtm_set").file("20200101000000 named.txt", "odd name");
    let tree = b.tree_path().to_path_buf();
    set_mtime(&tree.join("hello.txt"), OLD_MTIME);
    set_mtime(&tree.join("20200101000000 named.txt"), OLD_MTIME);
    let server = b.start();
    let mut c = server.login();
    for arg in [
        "MDTM 20200101000000 hello.txt",
        "MDTM 20200101 hello.txt",
        "MDTM 20200101000000.123 hello.txt",
    ] {
        c.cmd(arg)
            .assert_is("550 Could not get file modification time.");
    }
    c.cmd("MDTM hello.txt").assert_is(OLD_MDTM);
    let md = fs::metadata(tree.join("hello.txt")).unwrap();
    assert_eq!(
        md.modified().unwrap(),
        UNIX_EPOCH + Duration::from_secs(OLD_MTIME),
        "MDTM set-form changed the file"
    );
    // A file whose whole name looks like the set-form is simply reported (vsftpd's first stat
    // succeeds).
    c.cmd("MDTM 20200101000000 named.txt").assert_is(OLD_MDTM);
}

/// The user STAT shows for an anonymous session: ftp_username as configured.
fn anon_user(b: &ServerBuilder) -> String {
    b.config_contents()
        .lines()
        .find_map(|l| l.strip_prefix("ftp_username="))
        .unwrap_or("ftp")
        .to_string()
}

/// `clients`: the session count at this session's start (standalone mode).
fn server_status(user: &str, type_: &str, timeout_line: &str, clients: u32) -> String {
    format!(
        concat!(
            "211-FTP server status:\r\n",
            "     Connected to 127.0.0.1\r\n",
            "     Logged in as {}\r\n",
            "     TYPE: {}\r\n",
            "     No session bandwidth limit\r\n",
            "     {}\r\n",
            "     Control connection is plain text\r\n",
            "     Data connections will be plain text\r\n",
            "     At session startup, client count was {}\r\n",
            "     vsFTPd-rs {} - secure, fast, stable\r\n",
            "211 End of status\r\n",
        ),
        user, type_, timeout_line, clients, VERSION
    )
}

#[test]
fn stat_server_status() {
    let b = builder("stat_status");
    let user = anon_user(&b);
    let server = b.start();
    let mut c = server.login();
    let timeout = "Session timeout in seconds is 300";
    // A session starts in ASCII mode, as vsftpd's.
    assert_raw(&c.cmd("STAT"), &server_status(&user, "ASCII", timeout, 1));
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    assert_raw(&c.cmd("STAT"), &server_status(&user, "BINARY", timeout, 1));
    c.cmd("TYPE A").assert_is("200 Switching to ASCII mode.");
    assert_raw(&c.cmd("stat"), &server_status(&user, "ASCII", timeout, 1));

    // USER ftp logs in as the same ftp_username.
    let (mut c, _) = server.connect();
    c.cmd("USER ftp")
        .assert_is("331 Please specify the password.");
    c.cmd("PASS x@example.com")
        .assert_is("230 Login successful.");
    // The first session is still connected: this one started as the second.
    assert_raw(&c.cmd("STAT"), &server_status(&user, "ASCII", timeout, 2));
}

/// STAT without an argument is not a listing: dirlist_enable=NO leaves it alone.
#[test]
fn stat_server_status_with_dirlist_disabled() {
    let b = builder("stat_status_nodirlist").set("dirlist_enable", "NO");
    let user = anon_user(&b);
    let server = b.start();
    let mut c = server.login();
    assert_raw(
        &c.cmd("STAT"),
        &server_status(&user, "ASCII", "Session timeout in seconds is 300", 1),
    );
    c.cmd("STAT .").assert_is("550 Permission denied.");
    c.cmd("STAT hello.txt").assert_is("550 Permission denied.");
}

#[test]
fn stat_path_lists_over_the_control_channel() {
    let b = builder("stat_path");
    let tree = b.tree_path().to_path_buf();
    set_mtime(&tree.join("hello.txt"), OLD_MTIME);
    let server = b.start();
    let mut c = server.login();
    // No PASV needed: the listing comes on the control connection.
    let hello = expected_list_line(&tree.join("hello.txt"), "hello.txt");
    assert_raw(
        &c.cmd("STAT hello.txt"),
        &stat_reply(std::slice::from_ref(&hello)),
    );
    assert_raw(&c.cmd("STAT /hello.txt"), &stat_reply(&[hello]));
    // A directory: listed with -a (".", "..", dot files), sorted.
    let want = stat_reply(&[
        expected_list_line(&tree.join("pub"), "."),
        expected_list_line(&tree, ".."),
        expected_list_line(&tree.join("pub/readme.txt"), "readme.txt"),
    ]);
    assert_raw(&c.cmd("STAT pub"), &want);
    c.cmd("CWD pub")
        .assert_is("250 Directory successfully changed.");
    assert_raw(&c.cmd("STAT ."), &want);
    // The root: the dot file too.
    c.cmd("CDUP")
        .assert_is("250 Directory successfully changed.");
    let r = c.cmd("STAT .");
    r.assert_code(213);
    let names: Vec<&str> = r
        .lines
        .iter()
        .skip(1)
        .take(r.lines.len().saturating_sub(2))
        .filter_map(|l| l.rsplit(' ').next())
        .collect();
    assert_eq!(
        names,
        [".", "..", ".hidden", "hello.txt", "pub"],
        "{:?}",
        r.raw_str()
    );
    assert!(r.raw_str().ends_with("\r\n213 End of status\r\n"));
    // The session goes on, and a data-channel listing still works.
    let names = String::from_utf8(c.nlst("")).unwrap();
    assert!(names.contains("hello.txt"), "{names:?}");
}

/// vsftpd always sends the two 213 lines; nothing listable gives an empty body.
#[test]
fn stat_path_nothing_to_list() {
    let b = builder("stat_path_empty").dir("private");
    let tree = b.tree_path().to_path_buf();
    fs::set_permissions(tree.join("private"), fs::Permissions::from_mode(0o700)).unwrap();
    let server = b.start();
    let mut c = server.login();
    let empty = stat_reply(&[]);
    assert_raw(&c.cmd("STAT missing.txt"), &empty);
    assert_raw(&c.cmd("STAT nodir/missing.txt"), &empty);
    // A directory that is not world-readable is not listed for anonymous
    // (anon_world_readable_only, or the session cannot open it at all). With the trailing
    // slash there is no parent to fall back on: nothing at all.
    assert_raw(&c.cmd("STAT private/"), &empty);
    // Nothing outside the root: the jail has no etc, and ".." stops at the root.
    assert_raw(&c.cmd("STAT ../../../../etc"), &empty);
    assert_raw(&c.cmd("STAT ../../../../etc/passwd"), &empty);
    assert_raw(
        &c.cmd("STAT ../../.."),
        &stat_reply(&[
            expected_list_line(&tree, "."),
            expected_list_line(&tree, ".."),
            expected_list_line(&tree.join(".hidden"), ".hidden"),
            expected_list_line(&tree.join("hello.txt"), "hello.txt"),
            expected_list_line(&tree.join("private"), "private"),
            expected_list_line(&tree.join("pub"), "pub"),
        ]),
    );
}

/// vsftpd runs handle_site only for non-anonymous sessions: an anonymous SITE of any kind,
/// HELP included, gets `550 Permission denied.`
#[test]
fn site_is_denied_to_anonymous() {
    let server = builder("site_anon").start();
    let mut c = server.login();
    for arg in [
        "SITE HELP",
        "site help",
        "SITE",
        "SITE UMASK",
        "SITE UMASK 077",
        "SITE CHMOD 777 hello.txt",
        "SITE CHMOD",
        "SITE EXEC ls",
    ] {
        c.cmd(arg).assert_is("550 Permission denied.");
    }
    // Nothing changed, and the session goes on.
    let tree = server.tree_path().to_path_buf();
    let mode = fs::metadata(tree.join("hello.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    c.cmd("NOOP").assert_is("200 NOOP ok.");
}

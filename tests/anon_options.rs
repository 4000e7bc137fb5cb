//! Issue #4 item 3: the anonymous login and presentation options, against the real binary with
//! exact replies: deny_email_enable/banned_email_file, secure_email_list_enable/
//! email_password_file, banner_file, dirmessage_enable/message_file and max_login_fails.
//! vsftpd's behaviour is taken from its privops.c (`handle_anonymous_login`), main.c (files read
//! before the greeting), banner.c (`vsf_banner_dir_changed`, `vsf_banner_write`), str.c
//! (`str_contains_line`), filestr.c (`str_fileread`) and prelogin.c (`check_login_fails`).

mod common;

use std::fs;
use std::path::PathBuf;

use common::*;

fn builder(name: &str) -> ServerBuilder {
    ServerBuilder::new(name)
        .file("hello.txt", "hello world")
        .dir("pub")
        .dir("empty")
}

/// Writes `contents` next to the config (outside the served tree); returns its path.
fn side_file(b: &ServerBuilder, name: &str, contents: &str) -> PathBuf {
    b.temp().write(name, contents)
}

fn path_str(p: &std::path::Path) -> String {
    p.to_str().expect("temp path is UTF-8").to_string()
}

fn anon_pass(c: &mut FtpClient, password: &str) -> Reply {
    c.cmd("USER anonymous")
        .assert_is("331 Please specify the password.");
    c.cmd(&format!("PASS {password}"))
}

// ---- deny_email_enable / banned_email_file ------------------------------------------------

#[test]
fn banned_email_refused_exact_line_and_case() {
    let b = builder("banned_email");
    let list = side_file(&b, "banned", "bad@example.com\nworse@example.com\n");
    let server = b
        .set("deny_email_enable", "YES")
        .set("banned_email_file", path_str(&list))
        .start();

    let (mut c, _) = server.connect();
    anon_pass(&mut c, "bad@example.com").assert_is("530 Login incorrect.");
    // Not logged in.
    c.cmd("PWD")
        .assert_is("530 Please login with USER and PASS.");
    // The match is on whole lines and case-sensitive, as vsftpd's str_contains_line.
    anon_pass(&mut c, "BAD@example.com").assert_is("230 Login successful.");

    let (mut c, _) = server.connect();
    anon_pass(&mut c, "worse@example.com").assert_is("530 Login incorrect.");
    anon_pass(&mut c, "bad@example").assert_is("230 Login successful.");
}

#[test]
fn banned_email_list_is_read_at_each_login() {
    let b = builder("banned_email_reread");
    let list = side_file(&b, "banned", "first@example.com\n");
    let server = b
        .set("deny_email_enable", "YES")
        .set("banned_email_file", path_str(&list))
        .start();
    let (mut c, _) = server.connect();
    anon_pass(&mut c, "later@example.com").assert_is("230 Login successful.");
    fs::write(&list, "first@example.com\nlater@example.com\n").unwrap();
    let (mut c, _) = server.connect();
    anon_pass(&mut c, "later@example.com").assert_is("530 Login incorrect.");
}

#[test]
fn banned_email_off_by_default() {
    let b = builder("banned_email_off");
    let list = side_file(&b, "banned", "bad@example.com\n");
    // The file is named but deny_email_enable is NO: it is not consulted.
    let server = b.set("banned_email_file", path_str(&list)).start();
    let (mut c, _) = server.connect();
    anon_pass(&mut c, "bad@example.com").assert_is("230 Login successful.");
}

/// A banned list that went away refuses every anonymous login (vsftpd would not even have
/// greeted, see `missing_banned_list_oops`).
#[test]
fn banned_email_list_missing_at_login_refuses() {
    let b = builder("banned_email_gone");
    let list = side_file(&b, "banned", "bad@example.com\n");
    let server = b
        .set("deny_email_enable", "YES")
        .set("banned_email_file", path_str(&list))
        .start();
    let (mut c, greeting) = server.connect();
    greeting.assert_is(&default_banner());
    fs::remove_file(&list).unwrap();
    anon_pass(&mut c, "good@example.com").assert_is("530 Login incorrect.");
}

// ---- secure_email_list_enable / email_password_file ----------------------------------------

#[test]
fn secure_email_list_accepts_only_listed() {
    let b = builder("secure_email");
    let list = side_file(&b, "passwords", "good@example.com\nalso@example.com");
    let server = b
        .set("secure_email_list_enable", "YES")
        .set("email_password_file", path_str(&list))
        .start();

    let (mut c, _) = server.connect();
    anon_pass(&mut c, "other@example.com").assert_is("530 Login incorrect.");
    anon_pass(&mut c, "GOOD@example.com").assert_is("530 Login incorrect.");
    anon_pass(&mut c, "good@example.com").assert_is("230 Login successful.");

    // The last line needs no LF.
    let (mut c, _) = server.connect();
    anon_pass(&mut c, "also@example.com").assert_is("230 Login successful.");

    // An empty password never passes.
    let (mut c, _) = server.connect();
    c.cmd("USER ftp")
        .assert_is("331 Please specify the password.");
    c.cmd("PASS").assert_is("530 Login incorrect.");
}

/// vsftpd: an empty password list is no list — everyone gets in.
#[test]
fn secure_email_list_empty_file_lets_everyone_in() {
    let b = builder("secure_email_empty");
    let list = side_file(&b, "passwords", "");
    let server = b
        .set("secure_email_list_enable", "YES")
        .set("email_password_file", path_str(&list))
        .start();
    let (mut c, _) = server.connect();
    anon_pass(&mut c, "anyone@example.com").assert_is("230 Login successful.");
}

#[test]
fn secure_email_list_missing_at_login_refuses() {
    let b = builder("secure_email_gone");
    let list = side_file(&b, "passwords", "good@example.com\n");
    let server = b
        .set("secure_email_list_enable", "YES")
        .set("email_password_file", path_str(&list))
        .start();
    let (mut c, _) = server.connect();
    fs::remove_file(&list).unwrap();
    anon_pass(&mut c, "good@example.com").assert_is("530 Login incorrect.");
}

/// no_anon_password: vsftpd checks the made-up password `<no password>` against the lists.
#[test]
fn no_anon_password_checked_as_vsftpd_placeholder() {
    let b = builder("secure_email_no_anon_password");
    let list = side_file(&b, "passwords", "good@example.com\n");
    let server = b
        .set("no_anon_password", "YES")
        .set("secure_email_list_enable", "YES")
        .set("email_password_file", path_str(&list))
        .start();
    let (mut c, _) = server.connect();
    c.cmd("USER anonymous").assert_is("530 Login incorrect.");

    fs::write(&list, "good@example.com\n<no password>\n").unwrap();
    let (mut c, _) = server.connect();
    c.cmd("USER anonymous").assert_is("230 Login successful.");
}

// ---- Files vsftpd opens before the greeting --------------------------------------------------

#[test]

fn missing_banned_list_oops() {
    let b = builder("banned_email_missing");
    let missing = b.dir_path().join("no-such-banned-list");
    // Present at start-up (which checks it), gone by the time the client connects.
    fs::write(&missing, "x\n").unwrap();
    let server = b
        .set("deny_email_enable", "YES")
        .set("banned_email_file", path_str(&missing))
        .start();
    fs::remove_file(&missing).unwrap();
    let (mut c, greeting) = server.connect();
    greeting.assert_is(&format!(
        "500 OOPS: cannot open anon e-mail list file:{}",
        missing.display()
    ));
    c.assert_closed();
}

#[test]

fn missing_email_password_list_oops() {
    let b = builder("secure_email_missing");
    let missing = b.dir_path().join("no-such-password-list");
    fs::write(&missing, "x\n").unwrap();
    let server = b
        .set("secure_email_list_enable", "YES")
        .set("email_password_file", path_str(&missing))
        .start();
    fs::remove_file(&missing).unwrap();
    let (mut c, greeting) = server.connect();
    greeting.assert_is(&format!(
        "500 OOPS: cannot open email passwords file:{}",
        missing.display()
    ));
    c.assert_closed();
}

#[test]

fn missing_banner_file_oops() {
    let b = builder("banner_missing");
    let missing = b.dir_path().join("no-such-banner");
    fs::write(&missing, "x\n").unwrap();
    let server = b.set("banner_file", path_str(&missing)).start();
    fs::remove_file(&missing).unwrap();
    let (mut c, greeting) = server.connect();
    greeting.assert_is(&format!(
        "500 OOPS: cannot open banner file:{}",
        missing.display()
    ));
    c.assert_closed();
}

// ---- banner_file ---------------------------------------------------------------------------

#[test]
fn banner_file_is_the_greeting() {
    let b = builder("banner_file");
    let banner = side_file(&b, "banner.txt", "Welcome to the archive.\n\nBe nice.\n");
    let server = b
        .set("banner_file", path_str(&banner))
        // banner_file wins over ftpd_banner, as vsftpd's emit_greeting.
        .set("ftpd_banner", "not this")
        .start();
    let (mut c, greeting) = server.connect();
    assert_eq!(
        greeting.raw_str(),
        "220-Welcome to the archive.\r\n220-\r\n220-Be nice.\r\n220 \r\n"
    );
    c.login_anonymous();
}

/// The file lies outside the anonymous root: it is read before any chroot (both models).
#[test]
fn banner_file_no_trailing_newline_and_empty_file() {
    let b = builder("banner_file_shapes");
    let banner = side_file(&b, "banner.txt", "One line only");
    let server = b.set("banner_file", path_str(&banner)).start();
    let (_c, greeting) = server.connect();
    assert_eq!(greeting.raw_str(), "220-One line only\r\n220 \r\n");

    // An empty banner file is no banner: the usual greeting.
    let b = builder("banner_file_empty");
    let banner = side_file(&b, "banner.txt", "");
    let server = b.set("banner_file", path_str(&banner)).start();
    let (_c, greeting) = server.connect();
    greeting.assert_is(&default_banner());
}

// ---- dirmessage_enable / message_file ------------------------------------------------------

#[test]
fn dir_message_shown_once_per_directory() {
    let server = builder("dirmessage")
        .file("pub/.message", "Welcome to pub.\nSecond line.\n")
        .dir("pub/sub")
        .file("pub/sub/.message", "In sub.")
        .set("dirmessage_enable", "YES")
        .start();
    let mut c = server.login();
    let r = c.cmd("CWD pub");
    assert_eq!(
        r.raw_str(),
        "250-Welcome to pub.\r\n250-Second line.\r\n250 Directory successfully changed.\r\n"
    );
    let r = c.cmd("CWD sub");
    assert_eq!(
        r.raw_str(),
        "250-In sub.\r\n250 Directory successfully changed.\r\n"
    );
    // CDUP back into pub: already shown in this session.
    c.cmd("CDUP")
        .assert_is("250 Directory successfully changed.");
    c.cmd("CWD /pub/sub")
        .assert_is("250 Directory successfully changed.");
    // A directory without a message file.
    c.cmd("CWD /empty")
        .assert_is("250 Directory successfully changed.");

    // A new session sees them again.
    let mut c = server.login();
    let r = c.cmd("CWD /pub");
    assert_eq!(r.code, 250);
    assert_eq!(r.lines.len(), 3, "{:?}", r.raw_str());
}

#[test]
fn dir_message_off_by_default() {
    let server = builder("dirmessage_off")
        .file("pub/.message", "Welcome to pub.\n")
        .start();
    let mut c = server.login();
    c.cmd("CWD pub")
        .assert_is("250 Directory successfully changed.");
}

#[test]
fn dir_message_custom_name_and_size_cap() {
    // vsftpd shows at most 1000 bytes of a message file.
    let long = "x".repeat(1500);
    let server = builder("dirmessage_custom")
        .file("pub/WELCOME", format!("{long}\n"))
        .file("pub/.message", "not this one\n")
        .set("dirmessage_enable", "YES")
        .set("message_file", "WELCOME")
        .start();
    let mut c = server.login();
    let r = c.cmd("CWD pub");
    assert_eq!(
        r.raw_str(),
        format!(
            "250-{}\r\n250 Directory successfully changed.\r\n",
            "x".repeat(1000)
        )
    );
}

/// A message file that is not a regular file (here a directory) shows nothing; a failed CWD
/// shows nothing either.
#[test]
fn dir_message_only_from_regular_files() {
    let server = builder("dirmessage_not_regular")
        .dir("pub/.message")
        .set("dirmessage_enable", "YES")
        .start();
    let mut c = server.login();
    c.cmd("CWD pub")
        .assert_is("250 Directory successfully changed.");
    c.cmd("CWD missing")
        .assert_is("550 Failed to change directory.");
}

#[test]

fn dir_message_of_start_directory_at_login() {
    let server = builder("dirmessage_login")
        .file(".message", "Root message.\n")
        .set("dirmessage_enable", "YES")
        .start();
    let (mut c, _) = server.connect();
    c.cmd("USER anonymous")
        .assert_is("331 Please specify the password.");
    let r = c.cmd("PASS a@b");
    assert_eq!(
        r.raw_str(),
        "230-Root message.\r\n230 Login successful.\r\n"
    );
    // The start directory counts as visited.
    c.cmd("CWD /")
        .assert_is("250 Directory successfully changed.");
}

// ---- max_login_fails -----------------------------------------------------------------------

/// A password longer than vsftpd's 128-byte limit is always refused: a failed login.
fn overlong() -> String {
    "p".repeat(129)
}

#[test]
fn max_login_fails_default_three() {
    let server = builder("max_login_fails").start();
    let (mut c, _) = server.connect();
    for _ in 0..2 {
        anon_pass(&mut c, &overlong()).assert_is("530 Login incorrect.");
    }
    // PASS without USER is no login attempt: it does not count.
    c.cmd("PASS x").assert_is("503 Login with USER first.");
    c.cmd("NOOP")
        .assert_is("530 Please login with USER and PASS.");
    anon_pass(&mut c, &overlong()).assert_is("530 Login incorrect.");
    let rest = c.assert_closed();
    assert!(rest.is_empty(), "bytes after the last 530: {rest:?}");
}

#[test]
fn max_login_fails_one_and_zero_end_at_first_failure() {
    for n in ["1", "0"] {
        let server = builder(&format!("max_login_fails_{n}"))
            .set("max_login_fails", n)
            .start();
        let (mut c, _) = server.connect();
        anon_pass(&mut c, &overlong()).assert_is("530 Login incorrect.");
        let rest = c.assert_closed();
        assert!(rest.is_empty(), "max_login_fails={n}: {rest:?}");
    }
}

#[test]
fn max_login_fails_counts_banned_emails_and_success_still_possible() {
    let b = builder("max_login_fails_banned");
    let list = side_file(&b, "banned", "bad@example.com\n");
    let server = b
        .set("deny_email_enable", "YES")
        .set("banned_email_file", path_str(&list))
        .set("max_login_fails", "2")
        .start();
    let (mut c, _) = server.connect();
    anon_pass(&mut c, "bad@example.com").assert_is("530 Login incorrect.");
    anon_pass(&mut c, "good@example.com").assert_is("230 Login successful.");

    let (mut c, _) = server.connect();
    anon_pass(&mut c, "bad@example.com").assert_is("530 Login incorrect.");
    anon_pass(&mut c, "bad@example.com").assert_is("530 Login incorrect.");
    c.assert_closed();
}

// ---- A real client -------------------------------------------------------------------------

#[test]
fn python_ftplib_sees_banner_and_dir_message() {
    let b = builder("anon_options_ftplib").file("pub/.message", "Hello from pub.\n");
    let banner = side_file(&b, "banner.txt", "Archive of tests.\n");
    let server = b
        .set("banner_file", path_str(&banner))
        .set("dirmessage_enable", "YES")
        .start();
    let o = python_ftplib(
        server.addr(),
        "print('WELCOME', repr(ftp.getwelcome()))\n\
         print('CWD', repr(ftp.cwd('pub')))\n",
    );
    assert!(o.status.success(), "{}", describe(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.contains("WELCOME '220-Archive of tests.\\n220 '"),
        "{text}"
    );
    assert!(
        text.contains("CWD '250-Hello from pub.\\n250 Directory successfully changed.'"),
        "{text}"
    );
}

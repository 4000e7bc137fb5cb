//! Issue #2, bad input on the control connection (invariant 4): each case ends, at worst,
//! that one session; a NEW connection afterwards still logs in and lists.

mod common;

use std::io::{self, Read, Write};
use std::thread;
use std::time::Duration;

use common::*;

fn builder(name: &str) -> ServerBuilder {
    ServerBuilder::new(name)
        .file("hello.txt", "hello world")
        .dir("pub")
        .file("pub/readme.txt", "read me\n")
}

/// The listener still serves, and no process panicked.
#[track_caller]
fn healthy(server: &mut Server) {
    let listing = assert_serving(server);
    assert!(
        String::from_utf8_lossy(&listing).contains("hello.txt"),
        "{listing:?}"
    );
    let stderr = server.stderr();
    assert!(
        !stderr.contains("panicked"),
        "a process panicked:\n{stderr}"
    );
}

/// Sends `line` + CRLF; the reply, or None when the server ended the session instead.
/// A server that neither answers nor closes fails the test.
#[track_caller]
fn hostile(c: &mut FtpClient, line: &[u8]) -> Option<Reply> {
    match c.cmd_bytes(line) {
        Ok(r) => Some(r),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            ) =>
        {
            None
        }
        Err(e) => panic!("{:?}: {e}", String::from_utf8_lossy(line)),
    }
}

/// Sends a 100 KB line from a writer thread while the main thread reads the reply.
fn send_long_line(c: &mut FtpClient) -> io::Result<Reply> {
    let mut w = c.stream().try_clone().unwrap();
    let writer = thread::spawn(move || {
        let mut line = vec![b'A'; 100 * 1024];
        line.extend_from_slice(b"\r\n");
        let _ = w.write_all(&line);
    });
    let r = c.read_reply();
    let _ = writer.join();
    r
}

#[test]
fn long_line_before_login() {
    let mut server = builder("long_line_pre").start();
    let (mut c, _) = server.connect();
    let r = send_long_line(&mut c).expect("a reply to the long line");
    r.assert_is("500 Input line too long.");
    c.assert_closed();
    healthy(&mut server);
}

#[test]
fn long_line_after_login() {
    let mut server = builder("long_line_post").start();
    let mut c = server.login();
    let r = send_long_line(&mut c).expect("a reply to the long line");
    r.assert_is("500 Input line too long.");
    c.assert_closed();
    healthy(&mut server);
}

/// A line of exactly the limit's length minus CRLF is not "too long".
#[test]
fn line_just_under_the_limit_is_accepted() {
    let mut server = builder("line_at_limit").start();
    let mut c = server.login();
    // 4096 bytes in all, CRLF included (limits.rs MAX_COMMAND_LINE).
    let arg = "x".repeat(4096 - "SIZE ".len() - 2);
    let r = c.cmd(&format!("SIZE {arg}"));
    r.assert_is("550 Could not get file size.");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    healthy(&mut server);
}

#[test]
fn nul_bytes_in_command() {
    let mut server = builder("nul_command").start();
    let (mut c, _) = server.connect();
    if let Some(r) = hostile(&mut c, b"US\0ER anonymous") {
        assert!(r.code >= 500, "{r:?}");
    }
    let mut c = server.login();
    if let Some(r) = hostile(&mut c, b"NO\0OP") {
        assert!(r.code >= 500, "{r:?}");
        c.cmd("NOOP").assert_is("200 NOOP ok.");
    }
    healthy(&mut server);
}

/// A NUL must not cut a path short (C-string truncation would serve hello.txt).
#[test]
fn nul_bytes_in_path() {
    let mut server = builder("nul_path").start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    if let Some(r) = hostile(&mut c, b"SIZE hello.txt\0") {
        r.assert_is("550 Could not get file size.");
    }
    if let Some(r) = hostile(&mut c, b"SIZE hello.txt\0../../etc/passwd") {
        r.assert_is("550 Could not get file size.");
    }
    c.pasv();
    if let Some(r) = hostile(&mut c, b"RETR hello.txt\0../../../etc/passwd") {
        r.assert_is("550 Failed to open file.");
    }
    // vsftpd turns the NUL into \n and chdir() fails; a lexical resolver may land in "/".
    // Either way the session must not be in /pub (a truncated path) or outside the root.
    if let Some(r) = hostile(&mut c, b"CWD pub\0/../../..") {
        assert!(r.code == 550 || r.code == 250, "{r:?}");
        c.cmd("PWD").assert_is("257 \"/\" is the current directory");
    }
    healthy(&mut server);
}

/// Paths are bytes (vsftpd passes them through): a name that is not UTF-8 works, and
/// invalid UTF-8 for a missing name is an ordinary 550.
#[test]
fn invalid_utf8_in_path() {
    let mut server = builder("invalid_utf8")
        .file_bytes_name(b"caf\xe9.txt", "latin-1 name")
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let names = c.nlst("");
    assert!(
        names.windows(8).any(|w| w == b"caf\xe9.txt"),
        "NLST does not pass the raw name through: {names:?}"
    );
    let t = c.transfer_bytes(b"RETR caf\xe9.txt");
    assert!(t.start.is_preliminary(), "{:?}", t.start);
    assert_eq!(t.data, b"latin-1 name");
    t.end.expect("226").assert_is("226 Transfer complete.");
    if let Some(r) = hostile(&mut c, b"SIZE \xff\xfe\xfd") {
        r.assert_is("550 Could not get file size.");
    }
    if let Some(r) = hostile(&mut c, b"CWD \xc3\x28") {
        r.assert_is("550 Failed to change directory.");
    }
    c.pasv();
    if let Some(r) = hostile(&mut c, b"RETR \xed\xa0\x80.txt") {
        r.assert_is("550 Failed to open file.");
    }
    healthy(&mut server);
}

/// Telnet bytes are not decoded, as vsftpd: before a command they make it unknown (`IAC IP
/// IAC DM` is understood before ABOR only), and `IAC IAC` in a name is two bytes of the name.
#[test]
fn telnet_iac_bytes() {
    let mut server = builder("telnet_iac")
        .file_bytes_name(b"y\xffz", "1")
        .file_bytes_name(b"y\xff\xffz", "22")
        .start();
    let mut c = server.login();
    for line in [
        &b"\xff\xf4\xff\xf2NOOP\r\n"[..],
        b"\xff\xfd\x01NOOP\r\n",
        b"\xff\xffNOOP\r\n",
        b"\xff\xf4ABOR\r\n",
    ] {
        c.send_raw(line).unwrap();
        c.read_reply().unwrap().assert_is("500 Unknown command.");
    }
    c.send_raw(b"\xff\xf4\xff\xf2ABOR\r\n").unwrap();
    c.read_reply()
        .unwrap()
        .assert_is("225 No transfer to ABOR.");
    c.cmd_bytes(b"SIZE y\xff\xffz").unwrap().assert_is("213 2");
    c.cmd_bytes(b"SIZE y\xffz").unwrap().assert_is("213 1");
    c.cmd("PWD").assert_is("257 \"/\" is the current directory");
    healthy(&mut server);
}

#[test]
fn lower_case_commands() {
    let mut server = builder("lower_case").start();
    let (mut c, _) = server.connect();
    c.cmd("user anonymous")
        .assert_is("331 Please specify the password.");
    c.cmd("pass guest@example.com")
        .assert_is("230 Login successful.");
    c.cmd("pwd").assert_is("257 \"/\" is the current directory");
    c.cmd("syst").assert_is("215 UNIX Type: L8");
    c.cmd("NoOp").assert_is("200 NOOP ok.");
    c.cmd("type i").assert_is("200 Switching to Binary mode.");
    c.cmd("size hello.txt").assert_is("213 11");
    c.cmd("quit").assert_is("221 Goodbye.");
    healthy(&mut server);
}

#[test]
fn unknown_command_after_login() {
    let mut server = builder("unknown_post").start();
    let mut c = server.login();
    c.cmd("XYZZY").assert_is("500 Unknown command.");
    c.cmd("HELLO world").assert_is("500 Unknown command.");
    // Many of them do not end a logged-in session.
    for _ in 0..20 {
        c.cmd("XYZZY").assert_is("500 Unknown command.");
    }
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    healthy(&mut server);
}

#[test]
fn commands_before_login_need_login() {
    let mut server = builder("before_login").start();
    let (mut c, _) = server.connect();
    for cmd in [
        "PWD",
        "LIST",
        "RETR hello.txt",
        "CWD /",
        "PASV",
        "SIZE hello.txt",
    ] {
        c.cmd(cmd).assert_is("530 Please login with USER and PASS.");
    }
    // The session still logs in.
    c.login_anonymous();
    healthy(&mut server);
}

#[test]
fn http_verbs_before_login_close() {
    let mut server = builder("http_verbs").start();
    for line in [
        "GET / HTTP/1.1",
        "POST /upload HTTP/1.1",
        "HEAD / HTTP/1.0",
        "OPTIONS * HTTP/1.1",
        "CONNECT example.com:443 HTTP/1.1",
        "get / HTTP/1.1",
    ] {
        let (mut c, _) = server.connect();
        c.cmd(line)
            .assert_is("500 HTTP protocol commands not allowed.");
        let rest = c.assert_closed();
        assert!(rest.is_empty(), "{line}: bytes after the 500: {rest:?}");
    }
    healthy(&mut server);
}

/// vsftpd 3.0.4+: ten unknown commands before login are answered, the eleventh ends the
/// session with `500 Too many errors.`.
#[test]
fn too_many_unknown_commands_before_login() {
    let mut server = builder("prelogin_unknown").start();
    let (mut c, _) = server.connect();
    for i in 1..=10 {
        match c.try_cmd("XYZZY") {
            Ok(r) => r.assert_is("530 Please login with USER and PASS."),
            Err(e) => panic!("the session ended at unknown command {i}: {e}"),
        }
    }
    // vsftpd 3.0.5 says why before it closes (3.0.4 closed without a word).
    c.cmd("XYZZY").assert_is("500 Too many errors.");
    let rest = c.assert_closed();
    assert!(rest.is_empty(), "bytes after the 500: {rest:?}");
    // Known pre-login commands do not count: USER/PASS/FEAT many times is fine.
    let (mut c, _) = server.connect();
    for _ in 0..12 {
        c.cmd("FEAT").assert_code(211);
    }
    c.login_anonymous();
    healthy(&mut server);
}

#[test]
fn connect_and_close_immediately() {
    let mut server = builder("connect_close").start();
    for _ in 0..20 {
        let s = std::net::TcpStream::connect(server.addr()).unwrap();
        drop(s);
    }
    // Read the greeting, then go.
    for _ in 0..5 {
        let (c, _) = server.connect();
        drop(c);
    }
    // Half a command, then go.
    let (mut c, _) = server.connect();
    c.send_raw(b"USER anony").unwrap();
    drop(c);
    // Shut down the writing side only: the server sees EOF mid-session.
    let mut c = server.login();
    c.stream().shutdown(std::net::Shutdown::Write).unwrap();
    c.assert_closed();
    healthy(&mut server);
}

/// The client drops both connections in the middle of a 10 MB download; another session
/// that was already logged in is unaffected.
#[test]
fn client_closes_mid_retr() {
    let mut server = builder("close_mid_retr")
        .pattern_file("big.bin", 10 * 1024 * 1024)
        .start();
    let mut other = server.login();
    {
        let mut c = server.login();
        c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
        let mut data = c.open_data();
        c.cmd("RETR big.bin").assert_code(150);
        let mut buf = vec![0u8; 64 * 1024];
        data.read_exact(&mut buf).unwrap();
        assert_eq!(buf, pattern_bytes(64 * 1024));
        drop(data);
        drop(c);
    }
    other.cmd("NOOP").assert_is("200 NOOP ok.");
    let (_, bytes, _) = other.retr("hello.txt");
    assert_eq!(bytes, b"hello world");
    healthy(&mut server);
}

/// The client closes only the data connection mid-RETR: vsftpd answers
/// `426 Failure writing network stream.` and the session goes on.
#[test]
fn client_closes_data_connection_mid_retr() {
    let mut server = builder("close_data_mid_retr")
        .pattern_file("big.bin", 10 * 1024 * 1024)
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let mut data = c.open_data();
    c.cmd("RETR big.bin").assert_code(150);
    let mut buf = vec![0u8; 64 * 1024];
    data.read_exact(&mut buf).unwrap();
    drop(data);
    c.read_reply()
        .expect("a reply after the data connection broke")
        .assert_is("426 Failure writing network stream.");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    let (_, bytes, _) = c.retr("hello.txt");
    assert_eq!(bytes, b"hello world");
    healthy(&mut server);
}

/// 64 KB of pseudo-random bytes, before and after login: the session ends or answers, the
/// daemon lives on.
#[test]
fn binary_garbage() {
    let mut server = builder("garbage").start();
    let mut garbage = pattern_bytes(64 * 1024);
    for i in (0..garbage.len()).step_by(97) {
        garbage[i] = b'\n';
    }
    for logged_in in [false, true] {
        let mut c = if logged_in {
            server.login()
        } else {
            server.connect().0
        };
        let mut w = c.stream().try_clone().unwrap();
        let g = garbage.clone();
        let writer = thread::spawn(move || {
            let _ = w.write_all(&g);
            let _ = w.write_all(b"\r\nQUIT\r\n");
        });
        match c.wait_closed(Duration::from_secs(30)) {
            Ok(_) => {}
            Err(e) => panic!("logged_in={logged_in}: {e}"),
        }
        let _ = writer.join();
    }
    healthy(&mut server);
}

#[test]
fn overlong_user_and_password() {
    let mut server = builder("long_user").start();
    let (mut c, _) = server.connect();
    let user = format!("USER {}", "u".repeat(4000));
    if let Some(r) = hostile(&mut c, user.as_bytes()) {
        assert!(r.code >= 500 || r.code == 331, "{r:?}");
        let pass = format!("PASS {}", "p".repeat(4000));
        if let Some(r) = hostile(&mut c, pass.as_bytes()) {
            assert_ne!(r.code, 230, "{r:?}");
        }
    }
    // An anonymous login with an overlong password (e-mail) must not crash either.
    let (mut c, _) = server.connect();
    c.cmd("USER anonymous")
        .assert_is("331 Please specify the password.");
    let pass = format!("PASS {}", "p".repeat(4000));
    let _ = hostile(&mut c, pass.as_bytes());
    healthy(&mut server);
}

/// vsftpd 3.0.4+ refuses HTTP verbs after login too, and ends the session.
#[test]
fn http_verbs_after_login_close() {
    let mut server = builder("http_after_login").start();
    let mut c = server.login();
    c.cmd("GET / HTTP/1.1")
        .assert_is("500 HTTP protocol commands not allowed.");
    c.assert_closed();
    healthy(&mut server);
}

/// A listing filter looks up the real path of every symlink it meets (as Debian's vsftpd):
/// hundreds of links, each at the head of a chain of 39 more whose targets go down and up a
/// deep directory, cost a bounded number of lookups per listing, and the listing still answers
/// (the links met first resolve to `end.txt` and match, until the budget is spent).
#[test]
fn symlink_chains_cost_bounded_lookups() {
    const DEPTH: usize = 16;
    let deep = vec!["d"; DEPTH].join("/");
    let detour = format!("{deep}/{}", vec![".."; DEPTH].join("/"));
    let mut b = builder("symlink_chains")
        .file("end.txt", "x")
        .file(&format!("{deep}/keep"), "x");
    // e -> c0 -> ... -> c38 -> end.txt: 40 links, the most a lookup follows.
    b = b.symlink("c38", &format!("{detour}/end.txt"));
    for i in 0..38 {
        b = b.symlink(&format!("c{i}"), &format!("{detour}/c{}", i + 1));
    }
    for i in 0..1000 {
        b = b.symlink(&format!("e{i:04}"), "c0");
    }
    let mut server = b.start();
    let mut c = server.login();
    for p in ["end.txt", "*.txt", "e*"] {
        let started = std::time::Instant::now();
        let t = c.transfer(&format!("NLST {p}"));
        t.start.assert_is("150 Here comes the directory listing.");
        t.end.expect("226").assert_is("226 Directory send OK.");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "NLST {p} took {:?}",
            started.elapsed()
        );
        let names = crlf_lines(&t.data);
        if p == "end.txt" {
            assert!(names.contains(&"end.txt".to_string()));
            assert!(
                names.len() > 100 && names.len() < 1000,
                "{} names match",
                names.len()
            );
        }
    }
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    healthy(&mut server);
}

/// Pathological globs (the CVE-2011-0762 class): the matcher's cost is bounded per name, so a
/// pattern built to backtrack on long names still answers at once, and the session goes on.
#[test]
fn pathological_globs_cost_bounded_time() {
    let mut b = builder("pathological_globs");
    for i in 0..200 {
        b = b.file(&format!("pub/{}{i}", "a".repeat(200)), "x");
    }
    let mut server = b.start();
    let mut c = server.login();
    let patterns = [
        format!("pub/{}b", "*a".repeat(60)),
        format!("pub/{}", "*".repeat(2000)),
        format!("pub/{{{}}}", "*a,".repeat(300)),
        format!("pub/{}", "?*".repeat(900)),
    ];
    for p in &patterns {
        let started = std::time::Instant::now();
        let t = c.transfer(&format!("LIST {p}"));
        t.start.assert_is("150 Here comes the directory listing.");
        t.end.expect("226").assert_is("226 Directory send OK.");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "LIST with a pathological glob took {:?}",
            started.elapsed()
        );
        let t = c.transfer(&format!("NLST {p}"));
        t.end.expect("226").assert_code(226);
    }
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    healthy(&mut server);
}

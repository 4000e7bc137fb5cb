//! Issue #2: a first anonymous session in one process (run_as_launching_user=YES), driven
//! with the raw client; exact reply texts from reference §2.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;

/// A server with a small tree: hello.txt (11 bytes), pub/readme.txt, .hidden.
fn builder(name: &str) -> ServerBuilder {
    ServerBuilder::new(name)
        .file("hello.txt", "hello world")
        .dir("pub")
        .file("pub/readme.txt", "read me\n")
        .file(".hidden", "secret")
}

fn pwd_is(c: &mut FtpClient, dir: &str) {
    c.cmd("PWD")
        .assert_is(&format!("257 \"{dir}\" is the current directory"));
}

#[test]
fn greeting_default_banner() {
    let server = builder("greeting_default").start();
    let (_c, greeting) = server.connect();
    greeting.assert_is(&default_banner());
}

#[test]
fn greeting_ftpd_banner() {
    let server = builder("greeting_banner")
        .set("ftpd_banner", "Welcome to the test FTP service.")
        .start();
    let (_c, greeting) = server.connect();
    greeting.assert_is("220 Welcome to the test FTP service.");
}

#[test]
fn login_anonymous_and_ftp() {
    let server = builder("login_anon").start();
    for user in ["anonymous", "ftp", "ANONYMOUS", "Ftp"] {
        let (mut c, _) = server.connect();
        c.cmd(&format!("USER {user}"))
            .assert_is("331 Please specify the password.");
        c.cmd("PASS anything@example.com")
            .assert_is("230 Login successful.");
        pwd_is(&mut c, "/");
        c.cmd("QUIT").assert_is("221 Goodbye.");
    }
}

/// vsftpd (prelogin.c handle_user_command): with local_enable=NO a non-anonymous USER is
/// refused at once, and the PASS that follows has no user.
#[test]
fn login_other_user_refused() {
    let server = builder("login_other").start();
    let (mut c, _) = server.connect();
    c.cmd("USER someoneelse")
        .assert_is("530 This FTP server is anonymous only.");
    c.cmd("PASS secret").assert_is("503 Login with USER first.");
    // Still not logged in.
    c.cmd("PWD")
        .assert_is("530 Please login with USER and PASS.");
    // And anonymous still works on the same connection.
    c.login_anonymous();
}

#[test]
fn no_anon_password_logs_in_at_user() {
    let server = builder("no_anon_password")
        .set("no_anon_password", "YES")
        .start();
    let (mut c, _) = server.connect();
    c.cmd("USER ftp").assert_is("230 Login successful.");
    pwd_is(&mut c, "/");
    let names = String::from_utf8(c.nlst("")).unwrap();
    assert!(names.contains("hello.txt"), "{names:?}");
}

#[test]
fn syst_noop_quit() {
    let server = builder("syst_noop_quit").start();
    let mut c = server.login();
    c.cmd("SYST").assert_is("215 UNIX Type: L8");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    c.cmd("QUIT").assert_is("221 Goodbye.");
    let rest = c.assert_closed();
    assert!(rest.is_empty(), "bytes after 221: {rest:?}");
}

#[test]
fn feat_multiline() {
    let server = builder("feat").start();
    let (mut c, _) = server.connect();
    // FEAT is allowed before login.
    for phase in ["before login", "after login"] {
        let r = c.cmd("FEAT");
        assert_eq!(r.code, 211, "{phase}: {r:?}");
        assert_eq!(r.lines.first().map(String::as_str), Some("211-Features:"));
        assert_eq!(r.line(), "211 End", "{phase}: {r:?}");
        for feature in [" EPSV", " PASV", " SIZE"] {
            assert!(
                r.lines.iter().any(|l| l == feature),
                "{phase}: FEAT lacks {feature:?}: {r:?}"
            );
        }
        // Every feature line starts with one space, as vsftpd's.
        for l in &r.lines[1..r.lines.len() - 1] {
            assert!(l.starts_with(' ') && !l.starts_with("  "), "{phase}: {l:?}");
        }
        assert!(r.raw.ends_with(b"211 End\r\n"));
        if phase == "before login" {
            c.login_anonymous();
        }
    }
}

#[test]
fn pwd_cwd_cdup() {
    let server = builder("pwd_cwd_cdup").dir("pub/sub").start();
    let mut c = server.login();
    pwd_is(&mut c, "/");
    c.cmd("CWD pub")
        .assert_is("250 Directory successfully changed.");
    pwd_is(&mut c, "/pub");
    c.cmd("CWD sub")
        .assert_is("250 Directory successfully changed.");
    pwd_is(&mut c, "/pub/sub");
    c.cmd("CDUP")
        .assert_is("250 Directory successfully changed.");
    pwd_is(&mut c, "/pub");
    c.cmd("CWD missing")
        .assert_is("550 Failed to change directory.");
    pwd_is(&mut c, "/pub");
    c.cmd("CWD hello.txt").assert_code(550);
    c.cmd("CWD /pub/sub")
        .assert_is("250 Directory successfully changed.");
    pwd_is(&mut c, "/pub/sub");
    c.cmd("CWD /")
        .assert_is("250 Directory successfully changed.");
    pwd_is(&mut c, "/");
    // The X* aliases of RFC 775.
    c.cmd("XCWD pub")
        .assert_is("250 Directory successfully changed.");
    c.cmd("XPWD")
        .assert_is("257 \"/pub\" is the current directory");
    c.cmd("XCUP")
        .assert_is("250 Directory successfully changed.");
    pwd_is(&mut c, "/");
}

#[test]
fn cwd_dotdot_stays_in_root() {
    let server = builder("cwd_dotdot").start();
    let mut c = server.login();
    let r = c.cmd("CWD ../../..");
    assert!(r.code == 250 || r.code == 550, "{r:?}");
    pwd_is(&mut c, "/");
    c.cmd("CDUP");
    pwd_is(&mut c, "/");
    c.cmd("CWD pub")
        .assert_is("250 Directory successfully changed.");
    c.cmd("CWD ../../../..");
    pwd_is(&mut c, "/");
    // The root is still the tree: hello.txt is there, the host's / is not.
    let names = String::from_utf8(c.nlst("")).unwrap();
    assert!(names.contains("hello.txt"), "{names:?}");
    assert!(!names.contains("etc"), "{names:?}");
}

#[test]
fn type_command() {
    let server = builder("type").start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    c.cmd("TYPE A").assert_is("200 Switching to ASCII mode.");
    c.cmd("TYPE L 8").assert_is("200 Switching to Binary mode.");
    c.cmd("TYPE A N").assert_is("200 Switching to ASCII mode.");
    c.cmd("TYPE X").assert_is("500 Unrecognised TYPE command.");
    c.cmd("TYPE").assert_is("500 Unrecognised TYPE command.");
}

#[test]
fn pasv_reply_format() {
    let server = builder("pasv").start();
    let mut c = server.login();
    let r = c.cmd("PASV");
    let text = r.raw_str();
    assert!(
        text.starts_with("227 Entering Passive Mode (127,0,0,1,") && text.ends_with(").\r\n"),
        "{text:?}"
    );
    let addr = parse_pasv(&r).expect("parse 227");
    assert_ne!(addr.port(), 0);
    // The port is really listening: LIST over it works.
    let data = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .expect("connect to the PASV port");
    drop(data);
}

#[test]
fn epsv_reply_format() {
    let server = builder("epsv").start();
    let mut c = server.login();
    let r = c.cmd("EPSV");
    let text = r.raw_str();
    assert!(
        text.starts_with("229 Entering Extended Passive Mode (|||") && text.ends_with("|)\r\n"),
        "{text:?}"
    );
    let port = parse_epsv(&r).expect("parse 229");
    assert_ne!(port, 0);
    // Use it: NLST over the EPSV port.
    let mut data = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect EPSV port");
    data.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    c.cmd("NLST")
        .assert_is("150 Here comes the directory listing.");
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut data, &mut bytes).unwrap();
    c.read_reply().unwrap().assert_is("226 Directory send OK.");
    assert!(String::from_utf8_lossy(&bytes).contains("hello.txt"));
}

#[test]
fn list_format() {
    let b = builder("list_format")
        .file("recent.bin", vec![7u8; 1234])
        .symlink("link-to-hello", "hello.txt");
    let tree = b.tree_path().to_path_buf();
    // An old file (more than six months): `Nov 25  2023`.
    let old = UNIX_EPOCH + Duration::from_secs(1_700_875_860); // 2023-11-25 01:31:00 UTC
    fs::File::options()
        .write(true)
        .open(tree.join("hello.txt"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    // A recent one: `Mon DD HH:MM`.
    let recent = SystemTime::now() - Duration::from_secs(86_400);
    fs::File::options()
        .write(true)
        .open(tree.join("recent.bin"))
        .unwrap()
        .set_modified(recent)
        .unwrap();
    assert_eq!(
        vsftpd_date(1_700_875_860, now_secs()),
        "Nov 25  2023",
        "harness date formatting"
    );
    let server = b.start();
    let mut c = server.login();
    let data = c.list("");
    let lines = crlf_lines(&data);
    let entries: Vec<ListEntry> = lines
        .iter()
        .map(|l| parse_list_line(l).unwrap_or_else(|| panic!("not a LIST line: {l:?}")))
        .collect();
    let find = |name: &str| {
        entries
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name} not listed in {lines:?}"))
            .clone()
    };
    let hello = find("hello.txt");
    assert_eq!(hello.perms, "-rw-r--r--");
    assert_eq!(hello.nlink, 1);
    assert_eq!(hello.owner, "0");
    assert_eq!(hello.group, "0");
    assert_eq!(hello.size, 11);
    assert_eq!(hello.date, "Nov 25  2023");
    let pubdir = find("pub");
    assert!(pubdir.perms.starts_with('d'), "{pubdir:?}");
    let link = find("link-to-hello");
    assert!(link.perms.starts_with('l'), "{link:?}");
    assert_eq!(link.target.as_deref(), Some("hello.txt"));
    assert!(
        entries.iter().all(|e| !e.name.starts_with('.')),
        "dot files listed without -a: {lines:?}"
    );
    // Byte-exact lines, computed from the files' metadata.
    for name in ["hello.txt", "recent.bin", "pub", "link-to-hello"] {
        let want = expected_list_line(&tree.join(name), name);
        assert!(lines.contains(&want), "no line {want:?} in {lines:?}");
    }
    assert_eq!(lines.len(), 4, "{lines:?}");
    // LIST of a directory argument, and of a file.
    let sub = crlf_lines(&c.list("pub"));
    assert_eq!(
        sub,
        vec![expected_list_line(
            &tree.join("pub/readme.txt"),
            "readme.txt"
        )]
    );
    // A file's name also lists the symlinks that resolve to it (as Debian's vsftpd); the
    // link's own name lists nothing, since it resolves to another name.
    let one = crlf_lines(&c.list("hello.txt"));
    assert_eq!(one.len(), 2, "{one:?}");
    assert!(one[0].ends_with(" hello.txt"), "{one:?}");
    assert!(one[1].ends_with(" link-to-hello -> hello.txt"), "{one:?}");
    assert!(c.list("link-to-hello").is_empty());
}

#[test]
fn nlst_bare_names() {
    let server = builder("nlst").start();
    let mut c = server.login();
    let mut names = crlf_lines(&c.nlst(""));
    names.sort();
    assert_eq!(names, vec!["hello.txt", "pub"]);
    let sub = crlf_lines(&c.nlst("pub"));
    assert_eq!(sub.len(), 1, "{sub:?}");
    assert!(sub[0].ends_with("readme.txt"), "{sub:?}");
}

#[test]
fn retr_big_file_binary() {
    const SIZE: usize = 10 * 1024 * 1024;
    let server = builder("retr_big").pattern_file("big.bin", SIZE).start();
    let mut c = server.login();
    let (start, data, end) = c.retr("big.bin");
    start.assert_is("150 Opening BINARY mode data connection for big.bin (10485760 bytes).");
    end.assert_is("226 Transfer complete.");
    assert_eq!(data.len(), SIZE, "short or long transfer");
    let want = pattern_bytes(SIZE);
    if let Some(i) = data.iter().zip(&want).position(|(a, b)| a != b) {
        panic!("the data differs from byte {i} on");
    }
    // The session goes on: a second transfer on the same control connection.
    let (start, data, end) = c.retr("hello.txt");
    start.assert_is("150 Opening BINARY mode data connection for hello.txt (11 bytes).");
    end.assert_is("226 Transfer complete.");
    assert_eq!(data, b"hello world");
}

/// Without ascii_download_enable, TYPE A downloads are binary and say so.
#[test]
fn retr_in_ascii_type_is_binary() {
    let server = builder("retr_ascii").file("lines.txt", "a\nb\n").start();
    let mut c = server.login();
    c.cmd("TYPE A").assert_is("200 Switching to ASCII mode.");
    let t = c.transfer("RETR lines.txt");
    t.start
        .assert_is("150 Opening BINARY mode data connection for lines.txt (4 bytes).");
    t.end.unwrap().assert_is("226 Transfer complete.");
    assert_eq!(t.data, b"a\nb\n");
}

#[test]
fn retr_in_subdirectory_and_absolute() {
    let server = builder("retr_subdir").start();
    let mut c = server.login();
    let (_, data, _) = c.retr("pub/readme.txt");
    assert_eq!(data, b"read me\n");
    let (_, data, _) = c.retr("/pub/readme.txt");
    assert_eq!(data, b"read me\n");
    c.cmd("CWD pub")
        .assert_is("250 Directory successfully changed.");
    let (_, data, _) = c.retr("readme.txt");
    assert_eq!(data, b"read me\n");
    let (_, data, _) = c.retr("../hello.txt");
    assert_eq!(data, b"hello world");
}

#[test]
fn retr_missing_and_directory() {
    let server = builder("retr_missing").start();
    let mut c = server.login();
    let t = c.transfer("RETR missing.txt");
    t.start.assert_is("550 Failed to open file.");
    let t = c.transfer("RETR pub");
    t.start.assert_is("550 Failed to open file.");
    // The session is fine afterwards.
    c.cmd("NOOP").assert_is("200 NOOP ok.");
}

#[test]
fn data_commands_need_pasv_first() {
    let server = builder("need_pasv").start();
    let mut c = server.login();
    c.cmd("RETR hello.txt")
        .assert_is("425 Use PORT or PASV first.");
    c.cmd("LIST").assert_is("425 Use PORT or PASV first.");
    c.cmd("NLST").assert_is("425 Use PORT or PASV first.");
    // A PASV is used up by one transfer.
    let _ = c.list("");
    c.cmd("LIST").assert_is("425 Use PORT or PASV first.");
}

#[test]
fn size_command() {
    let server = builder("size").pattern_file("big.bin", 123_456).start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    c.cmd("SIZE hello.txt").assert_is("213 11");
    c.cmd("SIZE big.bin").assert_is("213 123456");
    c.cmd("SIZE pub/readme.txt").assert_is("213 8");
    c.cmd("SIZE missing")
        .assert_is("550 Could not get file size.");
    c.cmd("SIZE pub").assert_is("550 Could not get file size.");
}

#[test]
fn quit_closes_connection() {
    let server = builder("quit").start();
    let mut c = server.login();
    c.cmd("QUIT").assert_is("221 Goodbye.");
    c.assert_closed();
    // Before login too.
    let (mut c, _) = server.connect();
    c.cmd("QUIT").assert_is("221 Goodbye.");
    c.assert_closed();
}

/// Invariant 1: nothing outside anon_root is opened — `..`, absolute paths, symlinks. The
/// tree has no etc/passwd, so every one of these must fail with 550.
#[test]
fn paths_outside_root_are_refused() {
    let server = builder("outside_root")
        .symlink("passwd-link", "/etc/passwd")
        .symlink("etc-link", "/etc")
        .symlink("escape", "../../../../../../../../..")
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    for path in [
        "../../etc/passwd",
        "../../../../../../../../etc/passwd",
        "/etc/passwd",
        "/../etc/passwd",
        "pub/../../etc/passwd",
        "passwd-link",
        "etc-link/passwd",
        "escape/etc/passwd",
    ] {
        let t = c.transfer(&format!("RETR {path}"));
        assert_no_host_passwd(&t.data, &format!("RETR {path}"));
        t.start.assert_is("550 Failed to open file.");
        c.cmd(&format!("SIZE {path}"))
            .assert_is("550 Could not get file size.");
    }
    for dir in ["/etc", "../../etc", "etc-link", "escape/etc"] {
        c.cmd(&format!("CWD {dir}"))
            .assert_is("550 Failed to change directory.");
        pwd_is(&mut c, "/");
    }
    for arg in [
        "/etc",
        "../../etc",
        "etc-link",
        "escape/etc",
        "escape/etc/passwd",
    ] {
        let t = c.transfer(&format!("LIST {arg}"));
        assert_no_host_passwd(&t.data, &format!("LIST {arg}"));
        let listing = t.text();
        for host_file in ["passwd", "shadow", "hostname", "fstab"] {
            assert!(
                !listing.contains(host_file),
                "LIST {arg} shows the host's {host_file}: {:?}",
                listing.chars().take(300).collect::<String>()
            );
        }
    }
    // The host file really exists, so the test would have caught a leak.
    assert!(fs::read_to_string("/etc/passwd").unwrap().contains("root:"));
}

/// anon_root is served as "/": absolute paths start at the tree, and the tree's real
/// location on the host is not a path inside the session.
#[test]
fn anon_root_is_slash() {
    let server = builder("anon_root_slash").start();
    let mut c = server.login();
    c.cmd("CWD /pub")
        .assert_is("250 Directory successfully changed.");
    pwd_is(&mut c, "/pub");
    let (_, data, _) = c.retr("/hello.txt");
    assert_eq!(data, b"hello world");
    // The tree's real path is not visible as a path inside the session.
    let real = server.tree_path().to_str().unwrap().to_string();
    c.cmd(&format!("CWD {real}"))
        .assert_is("550 Failed to change directory.");
}

#[test]
fn list_dash_a_shows_dot_files() {
    let server = builder("list_dash_a").start();
    let mut c = server.login();
    let names = |data: Vec<u8>| -> Vec<String> {
        crlf_lines(&data)
            .iter()
            .filter_map(|l| parse_list_line(l).map(|e| e.name))
            .collect()
    };
    let all = names(c.list("-a"));
    assert!(all.contains(&".hidden".to_string()), "{all:?}");
    assert!(all.contains(&"hello.txt".to_string()), "{all:?}");
    let plain = names(c.list("-l"));
    assert!(!plain.contains(&".hidden".to_string()), "{plain:?}");
    assert!(plain.contains(&"hello.txt".to_string()), "{plain:?}");
}

/// Invariant 3 (pasv_promiscuous=NO): a data connection from another address than the
/// control connection's peer is refused with vsftpd's `425 Security: Bad IP connecting.`.
#[test]
fn pasv_rejects_data_connection_from_another_ip() {
    use std::io::BufRead;
    let server = builder("pasv_bad_ip").start();
    let mut c = server.login();
    let addr = c.pasv();
    // std cannot choose a source address; Python binds 127.0.0.2 and connects.
    let script = format!(
        "import socket, time\n\
         s = socket.socket()\n\
         s.bind(('127.0.0.2', 0))\n\
         s.connect(('127.0.0.1', {}))\n\
         print('connected', flush=True)\n\
         time.sleep(10)\n",
        addr.port()
    );
    let child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut intruder = ProcessGuard::new(child, false);
    let mut line = String::new();
    std::io::BufReader::new(intruder.take_stdout().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "connected", "the foreign connection failed");
    c.cmd("LIST").assert_is("425 Security: Bad IP connecting.");
    drop(intruder);
    // The session goes on with a proper data connection.
    let names = String::from_utf8(c.nlst("")).unwrap();
    assert!(names.contains("hello.txt"), "{names:?}");
}

/// vsftpd names the file in the 150 reply exactly as the client gave it.
#[test]
fn retr_150_names_the_argument() {
    let server = builder("retr_150_arg").start();
    let mut c = server.login();
    let (start, _, _) = c.retr("pub/readme.txt");
    start.assert_is("150 Opening BINARY mode data connection for pub/readme.txt (8 bytes).");
    let (start, _, _) = c.retr("/hello.txt");
    start.assert_is("150 Opening BINARY mode data connection for /hello.txt (11 bytes).");
}

#[test]
fn user_and_pass_after_login() {
    let server = builder("user_after_login").start();
    let mut c = server.login();
    c.cmd("USER ftp")
        .assert_is("530 Can't change from guest user.");
    c.cmd("USER root")
        .assert_is("530 Can't change from guest user.");
    c.cmd("PASS again").assert_is("230 Already logged in.");
    c.cmd("PWD").assert_is("257 \"/\" is the current directory");
}

#[test]
fn epsv_arguments() {
    let server = builder("epsv_args").start();
    let mut c = server.login();
    let r = c.cmd("EPSV 1");
    assert!(parse_epsv(&r).is_some(), "{r:?}");
    c.cmd("EPSV 2").assert_is("522 Bad network protocol.");
    c.cmd("EPSV 3").assert_is("522 Bad network protocol.");
    c.cmd("EPSV ALL").assert_is("200 EPSV ALL ok.");
    // After EPSV ALL, PASV is refused and EPSV still works.
    c.cmd("PASV").assert_is("550 Permission denied.");
    let r = c.cmd("EPSV");
    assert!(parse_epsv(&r).is_some(), "{r:?}");
}

#[test]
fn pasv_enable_no() {
    let server = builder("pasv_enable_no").set("pasv_enable", "NO").start();
    let mut c = server.login();
    c.cmd("PASV").assert_is("550 Permission denied.");
    c.cmd("EPSV").assert_is("550 Permission denied.");
    c.cmd("LIST").assert_is("425 Use PORT or PASV first.");
}

#[test]
fn download_enable_no() {
    let server = builder("download_enable_no")
        .set("download_enable", "NO")
        .start();
    let mut c = server.login();
    let t = c.transfer("RETR hello.txt");
    t.start.assert_is("550 Permission denied.");
    // Listing still works.
    let names = String::from_utf8(c.nlst("")).unwrap();
    assert!(names.contains("hello.txt"));
}

#[test]
fn dirlist_enable_no() {
    let server = builder("dirlist_enable_no")
        .set("dirlist_enable", "NO")
        .start();
    let mut c = server.login();
    c.transfer("LIST").start.assert_is("550 Permission denied.");
    c.transfer("NLST").start.assert_is("550 Permission denied.");
    // Downloads still work.
    let (_, data, _) = c.retr("hello.txt");
    assert_eq!(data, b"hello world");
}

#[test]
fn force_dot_files() {
    let server = builder("force_dot_files")
        .set("force_dot_files", "YES")
        .start();
    let mut c = server.login();
    let lines = crlf_lines(&c.list(""));
    assert!(lines.iter().any(|l| l.ends_with(" .hidden")), "{lines:?}");
    let names = crlf_lines(&c.nlst(""));
    assert!(names.iter().any(|n| n == ".hidden"), "{names:?}");
}

#[test]
fn use_sendfile_no_transfers_the_same_bytes() {
    const SIZE: usize = 3 * 1024 * 1024 + 5;
    let server = builder("use_sendfile_no")
        .set("use_sendfile", "NO")
        .pattern_file("big.bin", SIZE)
        .start();
    let mut c = server.login();
    let (start, data, end) = c.retr("big.bin");
    start.assert_is("150 Opening BINARY mode data connection for big.bin (3145733 bytes).");
    end.assert_is("226 Transfer complete.");
    assert!(data == pattern_bytes(SIZE), "content differs");
}

#[test]
fn pasv_address_in_227() {
    let server = builder("pasv_address")
        .set("pasv_address", "10.1.2.3")
        .start();
    let mut c = server.login();
    let r = c.cmd("PASV");
    assert!(
        r.raw_str()
            .starts_with("227 Entering Passive Mode (10,1,2,3,"),
        "{r:?}"
    );
    // EPSV has no address to rewrite.
    let r = c.cmd("EPSV");
    assert!(parse_epsv(&r).is_some(), "{r:?}");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
}

#[test]
fn pasv_addr_resolve() {
    let server = builder("pasv_addr_resolve")
        .set("pasv_address", "localhost")
        .set("pasv_addr_resolve", "YES")
        .start();
    let mut c = server.login();
    let r = c.cmd("PASV");
    assert!(
        r.raw_str()
            .starts_with("227 Entering Passive Mode (127,0,0,1,"),
        "{r:?}"
    );
}

/// Each session draws its passive port afresh: sessions forked from one listener must not
/// all start from the same "random" port (a guessable port, and TIME_WAIT piling up on it).
#[test]
fn pasv_ports_differ_between_sessions() {
    let server = builder("pasv_ports_differ")
        .set("pasv_min_port", 40000)
        .set("pasv_max_port", 59999)
        .start();
    let mut ports = Vec::new();
    for _ in 0..6 {
        let mut c = server.login();
        let r = c.cmd("PASV");
        ports.push(parse_pasv(&r).map(|a| a.port()).expect("227 reply"));
        c.cmd("QUIT");
    }
    ports.sort_unstable();
    ports.dedup();
    // Six draws from 20,000 ports: at least two distinct unless the draw is not random.
    assert!(ports.len() >= 2, "every session got port {ports:?}");
}

/// A one-port range: every PASV gets that port, again and again (the passive socket must be
/// reusable while the last data connection is in TIME_WAIT).
#[test]
fn pasv_port_range_is_honoured() {
    // Not a fixed port: one the kernel just handed out, released for the daemon.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = builder("pasv_range")
        .set("pasv_min_port", port)
        .set("pasv_max_port", port)
        .start();
    let mut c = server.login();
    for _ in 0..3 {
        let r = c.cmd("PASV");
        assert_eq!(parse_pasv(&r).map(|a| a.port()), Some(port), "{r:?}");
        let names = String::from_utf8(c.nlst("")).unwrap();
        assert!(names.contains("hello.txt"));
    }
    let r = c.cmd("EPSV");
    assert_eq!(parse_epsv(&r), Some(port), "{r:?}");
}

/// anon_world_readable_only=YES (vsftpd's default): anonymous sessions get only files that
/// are readable by "other", even when the process could read them.
#[test]
fn anon_world_readable_only_default() {
    let b = builder("world_readable_only").file("private.txt", "not for anonymous");
    let p = b.tree_path().join("private.txt");
    fs::set_permissions(&p, PermissionsExt::from_mode(0o600)).unwrap();
    let server = b.start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let t = c.transfer("RETR private.txt");
    assert!(t.data.is_empty(), "served a 0600 file to anonymous");
    t.start.assert_is("550 Failed to open file.");
}

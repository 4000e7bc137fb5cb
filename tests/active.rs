//! Issue #5, item 1: active mode. PORT and EPRT with a listener in the test, real clients in
//! active mode (curl -P, ftplib set_pasv(False), lftp passive-mode no), vsftpd's refusals
//! (another host, a port below 1024, syntax garbage, port_enable=NO, PORT after EPSV ALL),
//! connect_from_port_20 with ftp_data_port, IPv6 and v4-mapped control connections, and the
//! helper's own check of a PortConnect its child sends.

mod common;

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use common::*;
use vsftpd_rs::config::{Layout, Settings};
use vsftpd_rs::data::passive::PassivePolicy;
use vsftpd_rs::privsep::channel::Channel;
use vsftpd_rs::privsep::helper;
use vsftpd_rs::privsep::msg::{Encode, Failure, PostLoginReply, PostLoginRequest};
use vsftpd_rs::sys::fdpass;

const BIG: usize = 256 * 1024 + 3;

fn builder(name: &str) -> ServerBuilder {
    ServerBuilder::new(name)
        .file("hello.txt", "hello world")
        .dir("pub")
        .file("pub/readme.txt", "read me\n")
        .pattern_file("pub/big.bin", BIG)
}

/// `PORT h1,h2,h3,h4,p1,p2` for an IPv4 socket address.
fn port_arg(a: SocketAddr) -> String {
    let IpAddr::V4(ip) = a.ip() else {
        panic!("{a} is not IPv4")
    };
    let o = ip.octets();
    format!(
        "{},{},{},{},{},{}",
        o[0],
        o[1],
        o[2],
        o[3],
        a.port() >> 8,
        a.port() & 0xff
    )
}

/// A listener for the server's active connection, on `ip`.
fn client_listener(ip: &str) -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}: {e}"));
    let a = l.local_addr().unwrap();
    (l, a)
}

/// Waits (bounded) for the server's data connection on `l`.
#[track_caller]
fn accept_data(l: &TcpListener) -> (TcpStream, SocketAddr) {
    l.set_nonblocking(false).unwrap();
    let l2 = l.try_clone().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(l2.accept());
    });
    match rx.recv_timeout(Duration::from_secs(15)) {
        Ok(Ok((s, from))) => {
            s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
            (s, from)
        }
        Ok(Err(e)) => panic!("accept: {e}"),
        Err(_) => panic!("no data connection came"),
    }
}

/// Sends `cmd` after PORT/EPRT was accepted; reads 150, the data, and 226.
#[track_caller]
fn active_transfer(
    c: &mut FtpClient,
    l: &TcpListener,
    cmd: &str,
) -> (Reply, Vec<u8>, Reply, SocketAddr) {
    c.send(cmd).unwrap();
    let (mut data, from) = accept_data(l);
    let start = c.read_reply().unwrap();
    assert!(start.is_preliminary(), "{cmd}: {:?}", start.raw_str());
    let mut bytes = Vec::new();
    data.read_to_end(&mut bytes).unwrap();
    let end = c.read_reply().unwrap();
    (start, bytes, end, from)
}

/// Asserts nobody connected to `l`.
#[track_caller]
fn assert_no_connection(l: &TcpListener) {
    l.set_nonblocking(true).unwrap();
    match l.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("the server connected from {from}"),
        Err(e) => panic!("accept: {e}"),
    }
}

#[test]
fn port_retr_and_list() {
    let server = builder("active_port_retr").start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let (l, a) = client_listener("127.0.0.1");
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    let (start, data, end, from) = active_transfer(&mut c, &l, "RETR pub/big.bin");
    start.assert_is(&format!(
        "150 Opening BINARY mode data connection for pub/big.bin ({BIG} bytes)."
    ));
    assert!(
        data == pattern_bytes(BIG),
        "{} bytes, content differs",
        data.len()
    );
    end.assert_is("226 Transfer complete.");
    // From the control connection's local address, an ephemeral port by default.
    assert_eq!(from.ip(), c.peer_addr().ip());
    assert_ne!(from.port(), 20);

    // A PORT is used once: the next transfer needs another.
    c.cmd("RETR hello.txt")
        .assert_is("425 Use PORT or PASV first.");

    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    let (start, data, end, _) = active_transfer(&mut c, &l, "LIST");
    start.assert_is("150 Here comes the directory listing.");
    end.assert_is("226 Directory send OK.");
    let text = String::from_utf8_lossy(&data).into_owned();
    assert!(text.lines().any(|l| l.ends_with(" hello.txt")), "{text}");
    assert!(text.lines().any(|l| l.ends_with(" pub")), "{text}");

    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    let (start, data, end, _) = active_transfer(&mut c, &l, "NLST pub");
    start.assert_is("150 Here comes the directory listing.");
    end.assert_is("226 Directory send OK.");
    assert!(String::from_utf8_lossy(&data).contains("readme.txt"));
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

#[test]
fn eprt_ipv4_retr() {
    let server = builder("active_eprt_v4").start();
    let mut c = server.login();
    let (l, a) = client_listener("127.0.0.1");
    c.cmd(&format!("EPRT |1|127.0.0.1|{}|", a.port()))
        .assert_is("200 EPRT command successful. Consider using EPSV.");
    let (start, data, end, _) = active_transfer(&mut c, &l, "RETR hello.txt");
    start.assert_is("150 Opening BINARY mode data connection for hello.txt (11 bytes).");
    assert_eq!(data, b"hello world");
    end.assert_is("226 Transfer complete.");
    // Any printable delimiter, as RFC 2428 allows.
    c.cmd(&format!("EPRT !1!127.0.0.1!{}!", a.port()))
        .assert_is("200 EPRT command successful. Consider using EPSV.");
    let (_, data, end, _) = active_transfer(&mut c, &l, "RETR hello.txt");
    assert_eq!(data, b"hello world");
    end.assert_is("226 Transfer complete.");
}

/// PASV after PORT wins, and PORT after PASV wins (vsftpd cleans up the other mode).
#[test]
fn port_and_pasv_replace_each_other() {
    let server = builder("active_port_pasv").start();
    let mut c = server.login();
    let (l, a) = client_listener("127.0.0.1");
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    let t = c.transfer("RETR hello.txt");
    assert_eq!(t.data, b"hello world");
    t.end.unwrap().assert_is("226 Transfer complete.");
    assert_no_connection(&l);

    let r = c.cmd("PASV");
    assert_eq!(r.code, 227, "{:?}", r.raw_str());
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    let (_, data, end, _) = active_transfer(&mut c, &l, "RETR hello.txt");
    assert_eq!(data, b"hello world");
    end.assert_is("226 Transfer complete.");
}

#[test]
fn port_to_another_host_is_refused() {
    let server = builder("active_other_host").start();
    let mut c = server.login();
    // The thief's listener on another loopback address.
    let (l, a) = client_listener("127.0.0.2");
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("500 Illegal PORT command.");
    c.cmd(&format!("EPRT |1|127.0.0.2|{}|", a.port()))
        .assert_is("500 Illegal EPRT command.");
    // Nothing is pending: no transfer goes anywhere.
    c.cmd("RETR hello.txt")
        .assert_is("425 Use PORT or PASV first.");
    assert_no_connection(&l);
    // A refused PORT also forgets an earlier good one.
    let (_l2, good) = client_listener("127.0.0.1");
    c.cmd(&format!("PORT {}", port_arg(good)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("500 Illegal PORT command.");
    c.cmd("RETR hello.txt")
        .assert_is("425 Use PORT or PASV first.");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
}

#[test]
fn port_below_1024_is_refused() {
    let server = builder("active_low_port").start();
    let mut c = server.login();
    for arg in [
        "127,0,0,1,0,21",
        "127,0,0,1,0,20",
        "127,0,0,1,3,255",
        "127,0,0,1,0,0",
    ] {
        c.cmd(&format!("PORT {arg}"))
            .assert_is("500 Illegal PORT command.");
    }
    for port in [21, 1023, 0] {
        c.cmd(&format!("EPRT |1|127.0.0.1|{port}|"))
            .assert_is("500 Illegal EPRT command.");
    }
    c.cmd("RETR hello.txt")
        .assert_is("425 Use PORT or PASV first.");
    // 1024 is the first allowed port.
    c.cmd("PORT 127,0,0,1,4,0")
        .assert_is("200 PORT command successful. Consider using PASV.");
}

#[test]
fn port_promiscuous_allows_another_host() {
    let server = builder("active_promiscuous")
        .set("port_promiscuous", "YES")
        .start();
    let mut c = server.login();
    let (l, a) = client_listener("127.0.0.2");
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    let (_, data, end, _) = active_transfer(&mut c, &l, "RETR hello.txt");
    assert_eq!(data, b"hello world");
    end.assert_is("226 Transfer complete.");
}

#[test]
fn syntax_garbage_is_refused() {
    let server = builder("active_garbage").start();
    let mut c = server.login();
    for arg in [
        "",
        "127,0,0,1,4",
        "127,0,0,1,4,1,9",
        "127,0,0,1,4,256",
        "127,0,0,1,-4,1",
        "127.0.0.1,4,1",
        "a,b,c,d,e,f",
        "127,0,0,1,4,1,",
        ",,,,,",
        "99999999999999999999999,0,0,1,4,1",
    ] {
        c.cmd(&format!("PORT {arg}"))
            .assert_is("500 Illegal PORT command.");
    }
    for arg in [
        "",
        "1|127.0.0.1|2000|",
        "|1|127.0.0.1|2000",
        "|1|127.0.0.1||",
        "|1|127.0.0.1|70000|",
        "|1|127.0.0.1|x|",
        "|1|127.0.0|2000|",
        "|1|::1|2000|",
        "|1|127.0.0.1|2000|junk",
    ] {
        c.cmd(&format!("EPRT {arg}"))
            .assert_is("500 Bad EPRT command.");
    }
    for arg in [
        "|3|127.0.0.1|2000|",
        "|0|127.0.0.1|2000|",
        "||127.0.0.1|2000|",
        "|x|a|b|",
    ] {
        c.cmd(&format!("EPRT {arg}"))
            .assert_is("500 Bad EPRT protocol.");
    }
    // An IPv4 control connection: protocol 2 is a bad protocol, checked before the address.
    c.cmd("EPRT |2|::1|2000|")
        .assert_is("500 Bad EPRT protocol.");
    c.cmd("EPRT |2|garbage|2000|")
        .assert_is("500 Bad EPRT protocol.");
    // Bytes that are not text end nothing.
    c.cmd_bytes(b"PORT \xff\xfe\x00,1,2,3,4,5")
        .unwrap()
        .assert_is("500 Illegal PORT command.");
    c.cmd_bytes(b"EPRT |1|\xff|\x01|")
        .unwrap()
        .assert_is("500 Bad EPRT command.");
    let long = format!("PORT {}", "1,".repeat(1500));
    c.cmd(&long).assert_is("500 Illegal PORT command.");
    c.cmd("RETR hello.txt")
        .assert_is("425 Use PORT or PASV first.");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
}

#[test]
fn port_enable_no() {
    let server = builder("active_disabled").set("port_enable", "NO").start();
    let mut c = server.login();
    let (l, a) = client_listener("127.0.0.1");
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("550 Permission denied.");
    c.cmd(&format!("EPRT |1|127.0.0.1|{}|", a.port()))
        .assert_is("550 Permission denied.");
    c.cmd("RETR hello.txt")
        .assert_is("425 Use PORT or PASV first.");
    assert_no_connection(&l);
    // Passive mode still works.
    let t = c.transfer("RETR hello.txt");
    assert_eq!(t.data, b"hello world");
}

/// After EPSV ALL, vsftpd refuses PORT (550) but still takes EPRT (postlogin.c checks
/// epsv_all for PASV and PORT only).
#[test]
fn epsv_all_refuses_port() {
    let server = builder("active_epsv_all").start();
    let mut c = server.login();
    c.cmd("EPSV ALL").assert_is("200 EPSV ALL ok.");
    let (l, a) = client_listener("127.0.0.1");
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("550 Permission denied.");
    c.cmd("RETR hello.txt")
        .assert_is("425 Use PORT or PASV first.");
    assert_no_connection(&l);
    c.cmd(&format!("EPRT |1|127.0.0.1|{}|", a.port()))
        .assert_is("200 EPRT command successful. Consider using EPSV.");
    let (_, data, _, _) = active_transfer(&mut c, &l, "RETR hello.txt");
    assert_eq!(data, b"hello world");
}

/// Nobody listens at the PORT target: 425 at once, and the session goes on.
#[test]
fn connect_failure_is_425() {
    let server = builder("active_refused")
        .set("connect_timeout", "5")
        .start();
    let mut c = server.login();
    let (l, a) = client_listener("127.0.0.1");
    drop(l);
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    let started = Instant::now();
    c.cmd("RETR hello.txt")
        .assert_is("425 Failed to establish connection.");
    assert!(started.elapsed() < Duration::from_secs(5));
    c.cmd(&format!("EPRT |1|127.0.0.1|{}|", a.port()))
        .assert_is("200 EPRT command successful. Consider using EPSV.");
    c.cmd("LIST")
        .assert_is("425 Failed to establish connection.");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    let t = c.transfer("RETR hello.txt");
    assert_eq!(t.data, b"hello world");
}

/// A target that never answers: a listener whose accept queue is full drops new SYNs, so the
/// server's connect hangs until connect_timeout, then 425.
#[test]
fn connect_timeout_bounds_the_connect() {
    let server = builder("active_connect_timeout")
        .set("connect_timeout", "1")
        .start();
    let mut c = server.login();
    let (l, a) = client_listener("127.0.0.1");
    // Fill the accept queue (std's backlog is 128); stop at the first connect that hangs.
    let mut fillers = Vec::new();
    loop {
        match TcpStream::connect_timeout(&a, Duration::from_millis(300)) {
            Ok(s) => fillers.push(s),
            Err(_) => break,
        }
        assert!(fillers.len() < 10_000, "the accept queue never filled");
    }
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    let started = Instant::now();
    c.cmd("RETR hello.txt")
        .assert_is("425 Failed to establish connection.");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    drop(l);
}

/// A port nobody uses now, for ftp_data_port (so the real port 20 is never touched).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn connect_from_port_20_uses_ftp_data_port() {
    let data_port = free_port();
    let server = builder("active_port20")
        .set("connect_from_port_20", "YES")
        .set("ftp_data_port", data_port)
        .start();
    let mut c = server.login();
    for _ in 0..2 {
        // A new client port each time: the same four-tuple again so soon could meet the last
        // connection's TIME_WAIT (the server closes first), which is not what is tested here.
        let (l, a) = client_listener("127.0.0.1");
        c.cmd(&format!("PORT {}", port_arg(a)))
            .assert_is("200 PORT command successful. Consider using PASV.");
        let (_, data, end, from) = active_transfer(&mut c, &l, "RETR hello.txt");
        assert_eq!(data, b"hello world");
        end.assert_is("226 Transfer complete.");
        assert_eq!(from, SocketAddr::new(c.peer_addr().ip(), data_port));
    }
    // A second session at the same time shares the source port (SO_REUSEADDR), to another
    // client port.
    let mut c2 = server.login();
    let (l2, a2) = client_listener("127.0.0.1");
    c2.cmd(&format!("EPRT |1|127.0.0.1|{}|", a2.port()))
        .assert_is("200 EPRT command successful. Consider using EPSV.");
    let (_, data, _, from) = active_transfer(&mut c2, &l2, "LIST");
    assert!(String::from_utf8_lossy(&data).contains("hello.txt"));
    assert_eq!(from.port(), data_port);
}

#[test]
fn curl_active_mode() {
    // No passive mode at all: success proves the client used PORT/EPRT.
    let server = builder("active_curl").set("pasv_enable", "NO").start();
    let base = format!("ftp://127.0.0.1:{}/", server.port());
    let o = curl(&["-P", "127.0.0.1", &format!("{base}pub/big.bin")]);
    assert!(o.status.success(), "curl -P: {}", describe(&o));
    assert!(o.stdout == pattern_bytes(BIG), "{} bytes", o.stdout.len());
    let o = curl(&["-P", "127.0.0.1", &base]);
    assert!(o.status.success(), "curl -P list: {}", describe(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.lines().any(|l| l.ends_with(" hello.txt")), "{text}");
    // --disable-eprt: PORT instead of EPRT.
    let o = curl(&[
        "-P",
        "127.0.0.1",
        "--disable-eprt",
        &format!("{base}hello.txt"),
    ]);
    assert!(
        o.status.success(),
        "curl -P --disable-eprt: {}",
        describe(&o)
    );
    assert_eq!(o.stdout, b"hello world");
}

#[test]
fn python_ftplib_active_mode() {
    // No passive mode at all: success proves the client used PORT/EPRT.
    let server = builder("active_ftplib").set("pasv_enable", "NO").start();
    let out = server.dir_path().join("py-active.bin");
    let body = format!(
        "ftp.set_pasv(False)\n\
         lines = []\n\
         ftp.retrlines('LIST', lines.append)\n\
         for l in lines: print('LIST', l)\n\
         buf = bytearray()\n\
         print('RETR', ftp.retrbinary('RETR pub/big.bin', buf.extend))\n\
         open({out:?}, 'wb').write(buf)\n",
        out = out.to_str().unwrap()
    );
    let o = python_ftplib(server.addr(), &body);
    assert!(o.status.success(), "ftplib: {}", describe(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("RETR 226 Transfer complete."), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("LIST ") && l.ends_with(" hello.txt")),
        "{text}"
    );
    assert!(std::fs::read(&out).unwrap() == pattern_bytes(BIG));
}

#[test]
fn lftp_active_mode() {
    // No passive mode at all: success proves the client used PORT/EPRT.
    let server = builder("active_lftp").set("pasv_enable", "NO").start();
    let dest = server.temp().mkdir("lftp-active");
    let o = lftp(&format!(
        "set ftp:passive-mode no; open ftp://127.0.0.1:{}/; ls; get pub/big.bin -o {}",
        server.port(),
        dest.join("big.bin").display()
    ));
    assert!(o.status.success(), "lftp: {}", describe(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.lines().any(|l| l.ends_with(" hello.txt")), "{text}");
    assert!(std::fs::read(dest.join("big.bin")).unwrap() == pattern_bytes(BIG));
}

#[test]
fn eprt_ipv6() {
    if !ipv6_loopback_available() {
        panic!("this test needs ::1 on lo");
    }
    let server = builder("active_eprt_v6")
        .set("listen", "NO")
        .unset("listen_address")
        .set("listen_ipv6", "YES")
        .set("listen_address6", "::1")
        .start();
    let mut c = server.login();
    assert!(c.peer_addr().is_ipv6());
    let (l, a) = client_listener("::1");
    c.cmd(&format!("EPRT |2|::1|{}|", a.port()))
        .assert_is("200 EPRT command successful. Consider using EPSV.");
    let (_, data, end, from) = active_transfer(&mut c, &l, "RETR hello.txt");
    assert_eq!(data, b"hello world");
    end.assert_is("226 Transfer complete.");
    assert_eq!(from.ip(), c.peer_addr().ip());
    // PORT names an IPv4 host, never the IPv6 control peer.
    c.cmd("PORT 127,0,0,1,8,0")
        .assert_is("500 Illegal PORT command.");
    c.cmd("EPRT |2|::2|2000|")
        .assert_is("500 Illegal EPRT command.");
    c.cmd("EPRT |2|::1|1023|")
        .assert_is("500 Illegal EPRT command.");
}

/// An IPv4 client of a dual-stack listener: its address is v4-mapped on the server's side,
/// and PORT/EPRT with its plain IPv4 address are its own.
#[test]
fn v4_mapped_peer() {
    let server = builder("active_v4_mapped")
        .set("listen", "NO")
        .unset("listen_address")
        .set("listen_ipv6", "YES")
        .set("listen_address6", "::")
        .start();
    let addr = SocketAddr::new("127.0.0.1".parse().unwrap(), server.port());
    let (mut c, greeting) = FtpClient::connect(addr);
    greeting.assert_code(220);
    c.login_anonymous();
    let (l, a) = client_listener("127.0.0.1");
    c.cmd(&format!("PORT {}", port_arg(a)))
        .assert_is("200 PORT command successful. Consider using PASV.");
    let (_, data, _, from) = active_transfer(&mut c, &l, "RETR hello.txt");
    assert_eq!(data, b"hello world");
    assert_eq!(from.ip(), addr.ip());
    c.cmd(&format!("EPRT |1|127.0.0.1|{}|", a.port()))
        .assert_is("200 EPRT command successful. Consider using EPSV.");
    let (_, data, _, _) = active_transfer(&mut c, &l, "RETR hello.txt");
    assert_eq!(data, b"hello world");
    // The v4-mapped spelling of the same address is the same peer.
    c.cmd(&format!("EPRT |2|::ffff:127.0.0.1|{}|", a.port()))
        .assert_is("200 EPRT command successful. Consider using EPSV.");
    let (_, data, _, _) = active_transfer(&mut c, &l, "RETR hello.txt");
    assert_eq!(data, b"hello world");
    c.cmd("PORT 127,0,0,2,8,0")
        .assert_is("500 Illegal PORT command.");
}

// ---- The helper distrusts its child ----------------------------------------------------------

fn answer(raw: &std::os::fd::OwnedFd) -> (Vec<u8>, Vec<std::os::fd::OwnedFd>) {
    let mut buf = [0u8; 2048];
    let r = fdpass::recv_msg(raw.as_fd(), &mut buf, 2).unwrap();
    (buf[..r.len].to_vec(), r.fds)
}

/// Runs the post-login helper loop against a fake child that sends PortConnect requests.
fn helper_port_connect(
    settings: Settings,
    policy: PassivePolicy,
    targets: Vec<SocketAddr>,
) -> Vec<(Vec<u8>, Vec<std::os::fd::OwnedFd>)> {
    let (raw, helper_end) = fdpass::seqpacket_pair().unwrap();
    let ch = Channel::from_fd(helper_end);
    let t = std::thread::spawn(move || {
        let mut out = Vec::new();
        for addr in targets {
            let req = PostLoginRequest::PortConnect { addr };
            fdpass::send_msg(raw.as_fd(), &req.encode(), &[]).unwrap();
            out.push(answer(&raw));
        }
        out
    });
    let result = helper::serve_postlogin(&settings, &policy, None, &ch);
    assert!(result.is_ok(), "{result:?}");
    drop(ch);
    t.join().unwrap()
}

fn policy_for(settings: &Settings, peer: &str) -> PassivePolicy {
    PassivePolicy::from_config(
        &settings.config,
        "127.0.0.1".parse().unwrap(),
        peer.parse().unwrap(),
    )
}

#[test]
fn helper_connects_only_to_the_control_peer() {
    let settings = Settings::defaults(Layout::Upstream);
    let (l1, good) = client_listener("127.0.0.1");
    let (l2, other_host) = client_listener("127.0.0.2");
    let low: SocketAddr = "127.0.0.1:21".parse().unwrap();
    let got = helper_port_connect(
        settings.clone(),
        policy_for(&settings, "127.0.0.1"),
        vec![other_host, low, good],
    );
    let refused = PostLoginReply::Failed(Failure::NotAllowed).encode();
    assert_eq!(got[0].0, refused);
    assert!(got[0].1.is_empty());
    assert_eq!(got[1].0, refused);
    assert_eq!(got[2].0, PostLoginReply::DataSocket.encode());
    assert_eq!(got[2].1.len(), 1);
    let (_, from) = accept_data(&l1);
    assert_eq!(from.ip(), "127.0.0.1".parse::<IpAddr>().unwrap());
    assert_no_connection(&l2);
}

#[test]
fn helper_port_connect_obeys_the_config() {
    let (l, target) = client_listener("127.0.0.2");
    // port_promiscuous: another host is fine.
    let mut s = Settings::defaults(Layout::Upstream);
    s.config.port_promiscuous = true;
    let got = helper_port_connect(s.clone(), policy_for(&s, "127.0.0.1"), vec![target]);
    assert_eq!(got[0].0, PostLoginReply::DataSocket.encode());
    let _ = accept_data(&l);
    // port_enable=NO: nothing at all.
    let mut s = Settings::defaults(Layout::Upstream);
    s.config.port_enable = false;
    let (l, good) = client_listener("127.0.0.1");
    let got = helper_port_connect(s.clone(), policy_for(&s, "127.0.0.1"), vec![good]);
    assert_eq!(
        got[0].0,
        PostLoginReply::Failed(Failure::NotAllowed).encode()
    );
    assert_no_connection(&l);
    // Nobody listening: ConnectFailed, and the helper goes on.
    drop(l);
    let s = Settings::defaults(Layout::Upstream);
    let got = helper_port_connect(s.clone(), policy_for(&s, "127.0.0.1"), vec![good, good]);
    for g in got {
        assert_eq!(g.0, PostLoginReply::Failed(Failure::ConnectFailed).encode());
    }
}

/// The real port 20, in a private network namespace (`unshare -n`, loopback only), so no port
/// of the host is touched: the helper (root) binds ftp_data_port=20 on the control
/// connection's local address (in the one-process model as root, the session itself).
#[test]
fn connect_from_real_port_20_in_a_network_namespace() {
    let b = builder("active_real_port20")
        .set("connect_from_port_20", "YES")
        .set("ftp_data_port", "20");
    b.write_config();
    let notify = b.temp().join("notify.sock");
    let script = r#"
import os, socket, subprocess, sys
exe, notify, args = sys.argv[1], sys.argv[2], sys.argv[3:]
ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ns.bind(notify)
ns.settimeout(20)
p = subprocess.Popen([exe] + args, env=dict(os.environ, NOTIFY_SOCKET=notify),
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    port = None
    ready = False
    while not ready:
        for line in ns.recv(4096).decode().split('\n'):
            if line.startswith('STATUS=listening on '):
                port = int(line.rsplit(':', 1)[1])
            ready = ready or line == 'READY=1'
    c = socket.create_connection(('127.0.0.1', port), timeout=20)
    f = c.makefile('rb')
    def reply():
        while True:
            line = f.readline().decode().rstrip('\r\n')
            if len(line) >= 4 and line[:3].isdigit() and line[3] == ' ':
                return line
            if not line:
                return 'EOF'
    def cmd(text):
        c.sendall(text.encode() + b'\r\n')
        return reply()
    print('GREETING', reply()[:3])
    print('USER', cmd('USER anonymous'))
    print('PASS', cmd('PASS x@y'))
    l = socket.socket()
    l.bind(('127.0.0.1', 0))
    l.listen(1)
    l.settimeout(20)
    lp = l.getsockname()[1]
    print('PORT', cmd('PORT 127,0,0,1,%d,%d' % (lp >> 8, lp & 255)))
    c.sendall(b'RETR hello.txt\r\n')
    first = reply()
    print('START', first)
    if first.startswith('150'):
        # The helper made this connection, after login: as who, with what?
        helper = open('/proc/%d/task/%d/children' % (p.pid, p.pid)).read().split()[0]
        status = dict(l.split(':', 1) for l in open('/proc/%s/status' % helper).read().splitlines())
        print('HELPER', status['Uid'].split()[1], status['CapEff'].strip(), status['CapPrm'].strip())
        d, src = l.accept()
        d.settimeout(20)
        data = b''
        while True:
            chunk = d.recv(65536)
            if not chunk:
                break
            data += chunk
        print('SRC', src[0], src[1])
        print('DATA', data.decode())
        print('END', reply())
    print('QUIT', cmd('QUIT'))
finally:
    p.kill()
    p.wait()
"#;
    let mut cmd = std::process::Command::new("unshare");
    cmd.arg("-n")
        .arg("sh")
        .arg("-c")
        .arg("ip link set lo up && exec python3 -c \"$0\" \"$@\"")
        .arg(script)
        .arg(vsftpd_bin())
        .arg(&notify)
        .args(b.args_list())
        .stdin(std::process::Stdio::null());
    let o = run_with_timeout(&mut cmd, Duration::from_secs(60));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", describe(&o));
    assert!(text.contains("PASS 230 Login successful."), "{text}");
    assert!(
        text.contains("PORT 200 PORT command successful. Consider using PASV."),
        "{text}"
    );
    assert!(text.contains("SRC 127.0.0.1 20\n"), "{text}");
    // In the two-process model the helper is nobody by then (its effective uid), with
    // CAP_NET_BIND_SERVICE only.
    if !one_process_model() {
        let nobody = String::from_utf8(
            std::process::Command::new("id")
                .args(["-u", "nobody"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let want = format!(
            "HELPER {} 0000000000000400 0000000000000400\n",
            nobody.trim()
        );
        assert!(text.contains(&want), "{want} not in {text}");
    }
    assert!(text.contains("DATA hello world\n"), "{text}");
    assert!(text.contains("END 226 Transfer complete."), "{text}");
    assert!(text.contains("QUIT 221 Goodbye."), "{text}");
}

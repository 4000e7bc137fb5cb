//! Issue #2: the standalone listener (limits, signals, IPv6, background), inetd mode and the
//! fatal start-up checks.

mod common;

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;

fn builder(name: &str) -> ServerBuilder {
    ServerBuilder::new(name)
        .file("hello.txt", "hello world")
        .dir("pub")
}

/// Connects until the greeting is a 220 (a slot was freed), within 10 s.
#[track_caller]
fn wait_for_slot(server: &Server) -> FtpClient {
    let mut last = String::new();
    let mut got = None;
    let ok = wait_until(Duration::from_secs(10), || {
        match FtpClient::try_connect(server.addr()) {
            Ok((c, g)) if g.code == 220 => {
                got = Some(c);
                true
            }
            Ok((_, g)) => {
                last = g.raw_str();
                false
            }
            Err(e) => {
                last = e.to_string();
                false
            }
        }
    });
    assert!(ok, "no free slot within 10 s; last answer {last:?}");
    got.unwrap()
}

#[test]
fn max_clients() {
    let server = builder("max_clients").set("max_clients", 2).start();
    let (mut a, ga) = server.connect();
    ga.assert_is(&default_banner());
    let (_b, gb) = server.connect();
    gb.assert_is(&default_banner());
    let (mut c, gc) = server.connect();
    gc.assert_is("421 There are too many connected users, please try later.");
    c.assert_closed();
    // The refused connection did not take a slot, the two sessions work.
    a.login_anonymous();
    let names = String::from_utf8(a.nlst("")).unwrap();
    assert!(names.contains("hello.txt"));
    // Closing a session frees its slot.
    a.cmd("QUIT").assert_is("221 Goodbye.");
    a.assert_closed();
    let mut d = wait_for_slot(&server);
    d.login_anonymous();
}

#[test]
fn max_per_ip() {
    let server = builder("max_per_ip").set("max_per_ip", 1).start();
    let (a, ga) = server.connect();
    ga.assert_is(&default_banner());
    let (mut b, gb) = server.connect();
    gb.assert_is("421 There are too many connections from your internet address.");
    b.assert_closed();
    drop(a);
    let mut c = wait_for_slot(&server);
    c.login_anonymous();
}

/// max_clients=0 and max_per_ip=0 mean no limit.
#[test]
fn zero_limits_mean_unlimited() {
    let server = builder("zero_limits")
        .set("max_clients", 0)
        .set("max_per_ip", 0)
        .start();
    let clients: Vec<FtpClient> = (0..10)
        .map(|_| {
            let (c, g) = server.connect();
            g.assert_is(&default_banner());
            c
        })
        .collect();
    assert_eq!(clients.len(), 10);
}

#[test]
fn sighup_reloads_banner_for_new_sessions() {
    let mut server = builder("sighup_banner")
        .set("ftpd_banner", "old banner")
        .start();
    let (mut old, g) = server.connect();
    g.assert_is("220 old banner");
    old.login_anonymous();
    server.set_config("ftpd_banner", "new banner");
    server.signal("HUP");
    let mut last = String::new();
    let changed = wait_until(Duration::from_secs(10), || {
        match FtpClient::try_connect(server.addr()) {
            Ok((_, g)) => {
                last = g.raw_str();
                g.is("220 new banner")
            }
            Err(e) => {
                last = e.to_string();
                false
            }
        }
    });
    assert!(changed, "banner still {last:?} 10 s after SIGHUP");
    // The old session is unaffected.
    old.cmd("NOOP").assert_is("200 NOOP ok.");
    let names = String::from_utf8(old.nlst("")).unwrap();
    assert!(names.contains("hello.txt"));
    assert!(
        server.wait_notify(Duration::from_secs(2), |l| l == "RELOADING=1"),
        "no RELOADING=1 notification: {:?}",
        server.notify_messages()
    );
}

#[test]
fn sighup_with_broken_config_keeps_old() {
    let mut server = builder("sighup_broken")
        .set("ftpd_banner", "good banner")
        .start();
    let good = server.config_contents();
    server.write_config_text(&format!("{good}this_is_not_an_option=YES\n"));
    server.signal("HUP");
    // The daemon logs why it kept the old config.
    let logged = wait_until(Duration::from_secs(10), || {
        server.stderr().contains("this_is_not_an_option")
    });
    assert!(
        logged,
        "no message naming the bad option on stderr:\n{}",
        server.stderr()
    );
    assert!(server.is_running(), "the daemon died on a broken reload");
    let (mut c, g) = server.connect();
    g.assert_is("220 good banner");
    c.login_anonymous();
    // A later good reload still works.
    server.set_config("ftpd_banner", "fixed banner");
    server.signal("HUP");
    let changed = wait_until(Duration::from_secs(10), || {
        FtpClient::try_connect(server.addr())
            .map(|(_, g)| g.is("220 fixed banner"))
            .unwrap_or(false)
    });
    assert!(changed, "a valid reload after a broken one did not apply");
}

#[test]
fn sigterm_stops_listener_sessions_live_on() {
    let b = builder("sigterm");
    let pid_file = b.dir_path().join("vsftpd.pid");
    let mut server = b.arg("--pid-file").arg(&pid_file).start();
    assert!(
        wait_until(Duration::from_secs(5), || pid_file.exists()),
        "no pid file"
    );
    let pid_text = fs::read_to_string(&pid_file).unwrap();
    assert_eq!(pid_text.trim(), server.pid().to_string());
    let addr = server.addr();
    let mut session = server.login();
    server.signal("TERM");
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("the daemon did not exit within 10 s of SIGTERM");
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(!pid_file.exists(), "the pid file was not removed");
    assert!(
        server.notify_messages().iter().any(|l| l == "STOPPING=1"),
        "no STOPPING=1: {:?}",
        server.notify_messages()
    );
    // The listening socket is closed.
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err(),
        "still accepting connections after SIGTERM"
    );
    // The logged-in session is a separate process and keeps working.
    session.cmd("NOOP").assert_is("200 NOOP ok.");
    let (_, data, end) = session.retr("hello.txt");
    assert_eq!(data, b"hello world");
    end.assert_is("226 Transfer complete.");
    session.cmd("QUIT").assert_is("221 Goodbye.");
}

#[test]
fn ipv6_loopback_address() {
    if !ipv6_loopback_available() {
        eprintln!("SKIPPED: no ::1 on lo in /proc/net/if_inet6; this machine has no IPv6 loopback");
        return;
    }
    let server = builder("ipv6_loopback")
        .set("listen", "NO")
        .set("listen_ipv6", "YES")
        .set("listen_address6", "::1")
        .unset("listen_address")
        .start();
    let announced = server.listen_addrs().to_vec();
    assert_eq!(announced.len(), 1, "{announced:?}");
    assert_eq!(announced[0].ip().to_string(), "::1", "{announced:?}");
    let addr: SocketAddr = format!("[::1]:{}", server.port()).parse().unwrap();
    let (mut c, g) = FtpClient::connect(addr);
    g.assert_is(&default_banner());
    c.login_anonymous();
    let r = c.cmd("EPSV");
    assert!(
        r.raw_str()
            .starts_with("229 Entering Extended Passive Mode (|||"),
        "{r:?}"
    );
    let names = String::from_utf8(c.nlst("")).unwrap();
    assert!(names.contains("hello.txt"), "{names:?}");
    let (_, data, _) = c.retr("hello.txt");
    assert_eq!(data, b"hello world");
    // Not on IPv4.
    let v4: SocketAddr = format!("127.0.0.1:{}", server.port()).parse().unwrap();
    assert!(
        TcpStream::connect_timeout(&v4, Duration::from_secs(2)).is_err(),
        "listen_address6=::1 also accepts IPv4"
    );
}

#[test]
fn ipv6_dual_stack() {
    if !ipv6_loopback_available() {
        eprintln!("SKIPPED: no ::1 on lo in /proc/net/if_inet6; this machine has no IPv6 loopback");
        return;
    }
    let server = builder("ipv6_dual_stack")
        .set("listen", "NO")
        .set("listen_ipv6", "YES")
        .unset("listen_address")
        .start();
    let announced = server.listen_addrs().to_vec();
    assert_eq!(announced.len(), 1, "{announced:?}");
    assert!(announced[0].ip().is_unspecified(), "{announced:?}");
    assert!(announced[0].is_ipv6(), "{announced:?}");
    let port = server.port();
    for host in ["127.0.0.1", "[::1]"] {
        let addr: SocketAddr = format!("{host}:{port}").parse().unwrap();
        let (mut c, g) = FtpClient::connect(addr);
        g.assert_is(&default_banner());
        c.login_anonymous();
        // PASV over the v4-mapped connection, EPSV over IPv6 (FtpClient picks).
        let names = String::from_utf8(c.nlst("")).unwrap();
        assert!(names.contains("hello.txt"), "{host}: {names:?}");
        let (_, data, _) = c.retr("hello.txt");
        assert_eq!(data, b"hello world", "{host}");
    }
}

#[test]
fn background_mode() {
    let b = builder("background").set("background", "YES");
    let pid_file = b.dir_path().join("vsftpd.pid");
    let mut server = b.arg("--pid-file").arg(&pid_file).start();
    let launcher = server.pid();
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("the launching process did not exit");
    assert_eq!(status.code(), Some(0), "launcher exit status {status}");
    // It exited after the listener was bound: connecting works at once.
    let (mut c, g) = server.connect();
    g.assert_is(&default_banner());
    assert!(
        wait_until(Duration::from_secs(5), || pid_file.exists()),
        "no pid file"
    );
    let pid: u32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .expect("pid file holds a number");
    server.adopt_pid(pid);
    assert_ne!(pid, launcher, "the pid file names the launcher");
    // Detached from the launcher's terminal or pipes, stderr included (as vsftpd).
    for fd in 0..3 {
        assert_eq!(
            fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap(),
            std::path::PathBuf::from("/dev/null"),
            "fd {fd} of the daemon"
        );
    }
    assert!(
        send_signal(pid, "0"),
        "the daemon named in the pid file ({pid}) is not running"
    );
    c.login_anonymous();
    let names = String::from_utf8(c.nlst("")).unwrap();
    assert!(names.contains("hello.txt"));
    // SIGTERM stops it and removes the pid file.
    assert!(send_signal(pid, "TERM"));
    assert!(
        wait_until(Duration::from_secs(10), || !pid_file.exists()),
        "the pid file was not removed after SIGTERM"
    );
}

#[test]
fn background_mode_reports_bind_failure() {
    // Take a port, then ask the daemon to bind it: the launcher must exit 1 with the error.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = builder("background_fail")
        .set("background", "YES")
        .set("listen_port", port)
        .try_start()
        .map(|_| ())
        .expect_err("the daemon started on a port in use");
    assert_eq!(err.code(), Some(1), "{err:?}");
    assert!(!err.stderr.trim().is_empty(), "no error message: {err:?}");
}

#[test]
fn inetd_mode_session() {
    let b = builder("inetd")
        .pattern_file("big.bin", 300_000)
        .set("listen", "NO")
        .unset("listen_address")
        .unset("listen_port");
    let mut s = b.spawn_inetd();
    s.greeting().assert_is(&default_banner());
    let c = s.client();
    c.login_anonymous();
    let listing = c.list("");
    let lines = crlf_lines(&listing);
    assert!(lines.iter().any(|l| l.ends_with(" hello.txt")), "{lines:?}");
    let (start, data, end) = c.retr("big.bin");
    start.assert_is("150 Opening BINARY mode data connection for big.bin (300000 bytes).");
    end.assert_is("226 Transfer complete.");
    assert!(data == pattern_bytes(300_000), "content differs");
    c.cmd("QUIT").assert_is("221 Goodbye.");
    c.assert_closed();
    let status = s
        .guard
        .wait_exit(Duration::from_secs(10))
        .expect("the inetd session did not exit after QUIT");
    assert!(status.success(), "exit status {status}");
}

/// A fatal start-up check: the daemon exits 1 naming the problem, and `-t` says the same.
#[track_caller]
fn assert_fatal(b: ServerBuilder, needle: &str) {
    let conf = b.write_config();
    let (code, _, stderr) = run_vsftpd(&[std::ffi::OsStr::new("-t"), conf.as_os_str()]);
    assert_eq!(code, 1, "-t: {stderr}");
    assert!(stderr.contains(needle), "-t: no {needle:?} in {stderr:?}");
    let err = b
        .try_start()
        .map(|_| ())
        .expect_err("the daemon started with a fatal config");
    assert_eq!(err.code(), Some(1), "{err:?}");
    assert!(err.stderr.contains(needle), "no {needle:?} in {err:?}");
}

#[test]
fn fatal_listen_and_listen_ipv6() {
    assert_fatal(
        builder("fatal_both_listen").set("listen_ipv6", "YES"),
        "run two copies of vsftpd for IPv4 and IPv6",
    );
}

#[test]
fn fatal_no_access_enabled() {
    assert_fatal(
        builder("fatal_no_access")
            .set("anonymous_enable", "NO")
            .set("local_enable", "NO"),
        "both local and anonymous access disabled",
    );
}

#[test]
fn fatal_pasv_ports_reversed() {
    assert_fatal(
        builder("fatal_pasv_ports")
            .set("pasv_min_port", 6000)
            .set("pasv_max_port", 5000),
        "pasv_min_port",
    );
}

#[test]
fn fatal_bad_pasv_address() {
    assert_fatal(
        builder("fatal_pasv_address").set("pasv_address", "not-an-ip"),
        "pasv_address",
    );
}

/// Ended sessions are reaped: no child (zombie or not) of the listener stays behind.
#[test]
fn sessions_are_reaped() {
    let server = builder("reaped").start();
    for _ in 0..5 {
        let mut c = server.login();
        let _ = c.nlst("");
        c.cmd("QUIT").assert_is("221 Goodbye.");
        c.assert_closed();
    }
    // A client that vanishes without QUIT, too.
    drop(server.login());
    let pid = server.pid();
    let mut left = Vec::new();
    let clean = wait_until(Duration::from_secs(10), || {
        left = descendants(pid);
        left.is_empty()
    });
    assert!(
        clean,
        "processes left behind 10 s after the sessions ended: {left:#?}"
    );
}

/// A burst of connections is accepted at once (the backlog is SOMAXCONN, not vsftpd's 32:
/// an overflowing backlog costs a 1 s SYN retry).
#[test]
fn burst_of_connections() {
    const N: usize = 150;
    let server = builder("burst")
        .set("max_clients", 0)
        .set("max_per_ip", 0)
        .start();
    let addr = server.addr();
    let handles: Vec<_> = (0..N)
        .map(|_| {
            std::thread::spawn(move || {
                let t = std::time::Instant::now();
                let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5));
                (t.elapsed(), s)
            })
        })
        .collect();
    let mut streams = Vec::new();
    for h in handles {
        let (took, s) = h.join().unwrap();
        let s = s.expect("connect");
        assert!(
            took < Duration::from_millis(900),
            "a connect took {took:?}: the listen backlog overflowed"
        );
        streams.push(s);
    }
    // Every one of them gets its greeting.
    for s in streams {
        let (_, g) = FtpClient::from_stream(s).expect("greeting");
        g.assert_is(&default_banner());
    }
}

/// In inetd mode a config error also reaches the client as `500 OOPS: …`.
#[test]
fn inetd_mode_config_error_reaches_client() {
    let mut s = builder("inetd_bad_config")
        .set("listen", "NO")
        .unset("listen_address")
        .unset("listen_port")
        .config_text("no_such_option=YES\n")
        .spawn_inetd();
    let g = s.greeting().clone();
    assert!(
        g.line().starts_with("500 OOPS: ") && g.line().contains("no_such_option"),
        "{g:?}"
    );
    s.client().assert_closed();
    let status = s
        .guard
        .wait_exit(Duration::from_secs(10))
        .expect("the inetd process did not exit");
    assert_eq!(status.code(), Some(1), "exit status {status}");
    assert!(s.stderr().contains("no_such_option"), "{}", s.stderr());
}

//! Issue #5, load and crowd behaviour of the listener: silent connections from many
//! addresses, the per-address limit at vsftpd's default, and a storm of connect/close. Each
//! ends at worst the sessions it concerns; a real login keeps working throughout.
//! Issue #18: a crowd looping whole sessions, as a busy mirror sees, is never refused while
//! fewer sessions than max_clients are alive, the listener still answers signals at once, and
//! every session process is reaped.

mod common;

use std::io::Read;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn builder(name: &str) -> ServerBuilder {
    ServerBuilder::new(name)
        .file("hello.txt", "hello world")
        .set("max_clients", "20000")
}

/// A real client from 127.0.0.1: login, LIST and RETR.
fn real_session_works(server: &Server) {
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let t = c.transfer("RETR hello.txt");
    assert_eq!(t.data, b"hello world");
    t.end.expect("226").assert_is("226 Transfer complete.");
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

/// Sessions (helper processes) the listener still has.
fn live_sessions(pid: u32) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .count()
}

#[test]
fn two_hundred_silent_clients_from_other_addresses() {
    let server = builder("load_silent").start();
    let port = server.port();
    // Python can bind a source address before connecting (std cannot): 200 connections from
    // 127.0.0.2 .. 127.0.0.201, each reading its greeting, then all held open and silent.
    let script = format!(
        "import socket, sys\n\
         socks = []\n\
         for i in range(2, 202):\n\
         \x20   s = socket.socket()\n\
         \x20   s.settimeout(20)\n\
         \x20   s.bind(('127.0.0.%d' % i, 0))\n\
         \x20   s.connect(('127.0.0.1', {port}))\n\
         \x20   g = s.recv(200)\n\
         \x20   assert g.startswith(b'220 '), g\n\
         \x20   socks.append(s)\n\
         print('ready', len(socks), flush=True)\n\
         sys.stdin.read()\n"
    );
    let mut crowd = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(crowd.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready 200", "the crowd could not connect");
    assert!(
        live_sessions(server.pid()) >= 200,
        "the crowd is not being served"
    );
    real_session_works(&server);
    drop(crowd.stdin.take());
    let _ = crowd.wait();
    assert!(
        wait_until(Duration::from_secs(20), || live_sessions(server.pid()) == 0),
        "sessions of the closed crowd were not reaped"
    );
}

#[test]
fn the_fifty_first_connection_from_one_address_is_refused() {
    // vsftpd's default max_per_ip is 50.
    let server = builder("load_per_ip").unset("max_per_ip").start();
    let mut held = Vec::new();
    for _ in 0..50 {
        let (c, g) = server.connect();
        g.assert_code(220);
        held.push(c);
    }
    let (mut c, g) = server.connect();
    g.assert_is("421 There are too many connections from your internet address.");
    c.assert_closed();
    // Freeing one slot lets the next one in.
    drop(held.pop());
    assert!(
        wait_until(Duration::from_secs(10), || {
            let (_c, g) = server.connect();
            g.code == 220
        }),
        "a freed slot was never reused"
    );
}

#[test]
fn a_thousand_connect_and_close_leave_the_listener_serving() {
    // No per-address limit here: the storm itself comes from one address faster than its
    // sessions end.
    let mut server = builder("load_storm").set("max_per_ip", "0").start();
    let addr = server.addr();
    let start = Instant::now();
    for _ in 0..1000 {
        let s = TcpStream::connect(addr).unwrap();
        drop(s);
    }
    // Half-open clients that write garbage and vanish, too.
    for _ in 0..50 {
        let mut s = TcpStream::connect(addr).unwrap();
        let _ = s.write_all(b"\xff\xfb\x01USER \x00\r\nPASS x\r\n");
    }
    assert!(start.elapsed() < Duration::from_secs(120));
    real_session_works(&server);
    assert!(
        wait_until(Duration::from_secs(30), || live_sessions(server.pid()) == 0),
        "sessions were not reaped: {} left",
        live_sessions(server.pid())
    );
    assert!(server.is_running());
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

/// ftpbench's pattern: byte i is (i*31+7) % 251.
fn ftpbench_pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

/// The value of `"key": VALUE` in ftpbench's (flat) JSON summary; None for null or absent.
fn json_number(json: &str, key: &str) -> Option<f64> {
    let pat = format!("\"{key}\": ");
    let at = json.find(&pat)? + pat.len();
    let v: String = json[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    v.parse().ok()
}

#[test]
fn a_crowd_looping_whole_sessions_is_never_refused_and_every_session_is_reaped() {
    const CLIENTS: usize = 128;
    // Room for each client's session and the previous one on its way out, no more: a count
    // that lags behind the sessions that ended reaches it within a second of this load.
    let limit = 3 * CLIENTS;
    let mut server = builder("load_crowd")
        .file("small.bin", ftpbench_pattern(1024))
        .set("max_clients", limit)
        .set("max_per_ip", limit)
        .start();
    let pid = server.pid();
    // ftpbench's busy figure: every client loops connect, USER/PASS, TYPE I, PASV, RETR of the
    // 1 KiB file (checked byte for byte), QUIT, for a few seconds; a 421 greeting is counted
    // as a refusal, anything else that fails as an error.
    let mut bench = Command::new(env!("CARGO_BIN_EXE_ftpbench"))
        .args(["--port", &server.port().to_string(), "--quiet"])
        .args(["--figure", "busy", "--busy-clients", &CLIENTS.to_string()])
        .args(["--seconds", "6", "--small", "small.bin:1024", "--json", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The crowd is on once the listener holds a few of its sessions at once. How many are
    // alive at a given instant swings widely (4 to 78 of 128 here, sampled every 100 ms): the
    // sessions are short and the clients queue in the backlog between them, so a higher mark
    // can be missed on a slower machine. ftpbench may first wait up to 70 s for client ports
    // in TIME_WAIT to drain, with other tests' ports. If it ends first, its output says why.
    let mut most = 0;
    wait_until(Duration::from_secs(120), || {
        most = most.max(live_sessions(pid));
        most >= 8 || matches!(bench.try_wait(), Ok(Some(_)))
    });
    if most < 8 {
        let _ = bench.kill();
        let out = bench.wait_with_output().unwrap();
        panic!(
            "the crowd never reached the server (at most {most} sessions alive at once)\n\
             ftpbench: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Signals are not starved by a listening socket that never runs dry. The listener reacts
    // within milliseconds (docs/PERFORMANCE.md); the bound is loose because this wall-clock
    // time also holds the scheduling of a 2-core machine under this crowd and other tests.
    // A listener that accepts until the socket runs dry took over a second here, until the
    // count it failed to lower made it refuse everyone (caught below).
    let sent = Instant::now();
    server.signal("HUP");
    assert!(
        server.wait_notify(Duration::from_secs(10), |l| l == "RELOADING=1"),
        "no RELOADING=1 after SIGHUP under load"
    );
    let took = sent.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "SIGHUP under load took {took:?} to be handled"
    );
    let mut stdout = String::new();
    bench
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    let _ = bench.stderr.take().unwrap().read_to_string(&mut stderr);
    let status = bench.wait().unwrap();
    assert!(status.success(), "ftpbench: {status}\n{stdout}\n{stderr}");
    let json = &stdout[stdout.find('{').expect("a JSON summary")..];
    let key = |k: &str| format!("busy_{CLIENTS}_{k}");
    assert_eq!(
        json_number(json, &key("refused")),
        Some(0.0),
        "sessions refused with {limit} allowed and {CLIENTS} clients:\n{stdout}"
    );
    assert_eq!(json_number(json, &key("errors")), Some(0.0), "{stdout}");
    let per_s = json_number(json, &key("per_s")).unwrap_or(0.0);
    assert!(per_s > 0.0, "{stdout}");
    // Every session process is gone: none alive, none left a zombie under the listener.
    assert!(
        wait_until(Duration::from_secs(20), || procs::descendants(pid)
            .is_empty()),
        "session processes left after the crowd: {:?}",
        procs::descendants(pid)
    );
    real_session_works(&server);
    assert!(server.is_running());
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

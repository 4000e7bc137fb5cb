//! The building blocks of privilege separation (issue #3), tested for real: fd passing over a
//! SOCK_SEQPACKET pair, the typed channel's handling of hostile datagrams, and the seccomp
//! filter installed in a child process.
//!
//! The seccomp tests never fork inside the (multi-threaded) test harness: each one re-runs
//! this test binary with `VSFTPD_TEST_SECCOMP_CHILD=<case>` and `--exact <its own name>`, and
//! the child branch of the same test function installs the filter and does the work.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

use vsftpd_rs::privsep::channel::{Channel, ChannelError};
use vsftpd_rs::privsep::msg::{
    DecodeError, Failure, PostLoginReply, PostLoginRequest, PreLoginReply, PreLoginRequest,
    Username, MAX_MESSAGE, PROTOCOL_VERSION,
};
use vsftpd_rs::sys::{fdpass, seccomp};

const CHILD_ENV: &str = "VSFTPD_TEST_SECCOMP_CHILD";

/// An fd open for reading on an unlinked temporary file holding `data`: whoever reads it got
/// the very open file, since no path leads to it any more.
fn file_with(data: &[u8]) -> OwnedFd {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "vsftpd-rs-fdpass-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, data).unwrap();
    let f = File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    OwnedFd::from(f)
}

/// Reads everything from an fd until EOF.
fn read_all(fd: OwnedFd) -> Vec<u8> {
    let mut out = Vec::new();
    File::from(fd).read_to_end(&mut out).unwrap();
    out
}

/// The write end of a fresh stream pair, and the read end to watch it from: the read end
/// sees EOF exactly when every copy of the write end is closed.
fn watched_fd() -> (OwnedFd, UnixStream) {
    let (watch, end) = UnixStream::pair().unwrap();
    watch
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    (OwnedFd::from(end), watch)
}

fn assert_closed_everywhere(mut watch: UnixStream) {
    let mut b = [0u8; 1];
    match watch.read(&mut b) {
        Ok(0) => {}
        other => panic!("an fd passed over the channel is still open somewhere: {other:?}"),
    }
}

// ---------------------------------------------------------------- fdpass

#[test]
fn fdpass_passes_a_readable_fd() {
    let (a, b) = fdpass::seqpacket_pair().unwrap();
    let fd = file_with(b"through the socket");
    fdpass::send_msg(a.as_fd(), b"hello", &[fd.as_fd()]).unwrap();
    drop(fd);
    let mut buf = [0u8; 64];
    let got = fdpass::recv_msg(b.as_fd(), &mut buf, 1).unwrap();
    assert!(!got.truncated);
    assert_eq!(&buf[..got.len], b"hello");
    assert_eq!(got.fds.len(), 1);
    let fd = got.fds.into_iter().next().unwrap();
    assert_eq!(read_all(fd), b"through the socket");
}

#[test]
fn fdpass_reports_truncation() {
    let (a, b) = fdpass::seqpacket_pair().unwrap();
    fdpass::send_msg(a.as_fd(), &[7u8; 100], &[]).unwrap();
    let mut buf = [0u8; 10];
    let got = fdpass::recv_msg(b.as_fd(), &mut buf, 0).unwrap();
    assert!(got.truncated);
    assert_eq!(got.len, 10);
    // The rest of that datagram is gone, not delivered as the next one.
    fdpass::send_msg(a.as_fd(), b"next", &[]).unwrap();
    let got = fdpass::recv_msg(b.as_fd(), &mut buf, 0).unwrap();
    assert_eq!((&buf[..got.len], got.truncated), (&b"next"[..], false));
}

#[test]
fn fdpass_unwanted_fds_are_closed_not_leaked() {
    let (a, b) = fdpass::seqpacket_pair().unwrap();
    let (e1, w1) = watched_fd();
    let (e2, w2) = watched_fd();
    let (e3, w3) = watched_fd();
    let (e4, w4) = watched_fd();
    fdpass::send_msg(
        a.as_fd(),
        b"x",
        &[e1.as_fd(), e2.as_fd(), e3.as_fd(), e4.as_fd()],
    )
    .unwrap();
    drop((e1, e2, e3, e4));
    let mut buf = [0u8; 8];
    // Room for none: whatever arrives is owned (and closed on drop) or refused by the kernel.
    let got = fdpass::recv_msg(b.as_fd(), &mut buf, 0).unwrap();
    assert!(got.truncated || !got.fds.is_empty());
    drop(got);
    for w in [w1, w2, w3, w4] {
        assert_closed_everywhere(w);
    }
}

#[test]
fn fdpass_eof_and_timeout() {
    let (a, b) = fdpass::seqpacket_pair().unwrap();
    fdpass::set_recv_timeout(b.as_fd(), Some(Duration::from_millis(20))).unwrap();
    let mut buf = [0u8; 8];
    let e = fdpass::recv_msg(b.as_fd(), &mut buf, 0).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    fdpass::set_recv_timeout(b.as_fd(), None).unwrap();
    drop(a);
    let got = fdpass::recv_msg(b.as_fd(), &mut buf, 0).unwrap();
    assert_eq!((got.len, got.fds.len(), got.truncated), (0, 0, false));
}

// ---------------------------------------------------------------- channel

#[test]
fn channel_login_and_data_socket() {
    let (helper, child) = Channel::pair().unwrap();
    let login = PreLoginRequest::Login {
        user: Username::new(b"ftp".to_vec()).unwrap(),
        password: vsftpd_rs::proto::Password::new(b"guest@".to_vec()),
    };
    child.send(&login, &[]).unwrap();
    let (req, fds) = helper.recv::<PreLoginRequest>().unwrap();
    assert!(fds.is_empty());
    assert_eq!(req, login);
    helper.send(&PreLoginReply::LoginOk, &[]).unwrap();
    assert_eq!(
        child.recv::<PreLoginReply>().unwrap().0,
        PreLoginReply::LoginOk
    );

    let addr = "127.0.0.1:2121".parse().unwrap();
    child
        .send(&PostLoginRequest::PortConnect { addr }, &[])
        .unwrap();
    assert_eq!(
        helper.recv::<PostLoginRequest>().unwrap().0,
        PostLoginRequest::PortConnect { addr }
    );
    let data = file_with(b"data connection");
    helper
        .send(&PostLoginReply::DataSocket, &[data.as_fd()])
        .unwrap();
    drop(data);
    let (reply, mut fds) = child.recv::<PostLoginReply>().unwrap();
    assert_eq!(reply, PostLoginReply::DataSocket);
    assert_eq!(fds.len(), 1);
    assert_eq!(read_all(fds.remove(0)), b"data connection");

    helper
        .send(&PostLoginReply::Failed(Failure::AcceptTimeout), &[])
        .unwrap();
    let (reply, fds) = child.recv::<PostLoginReply>().unwrap();
    assert_eq!(reply, PostLoginReply::Failed(Failure::AcceptTimeout));
    assert!(fds.is_empty());
}

#[test]
fn channel_extra_fds_are_a_violation_and_get_closed() {
    // A fake helper (raw socket end) sends DataSocket with two fds where one belongs.
    let (raw, child) = fdpass::seqpacket_pair().unwrap();
    let child = Channel::from_fd(child);
    let (e1, w1) = watched_fd();
    let (e2, w2) = watched_fd();
    fdpass::send_msg(
        raw.as_fd(),
        &[PROTOCOL_VERSION, 0x42],
        &[e1.as_fd(), e2.as_fd()],
    )
    .unwrap();
    drop((e1, e2));
    let err = child.recv::<PostLoginReply>().unwrap_err();
    assert!(err.is_violation(), "{err}");
    assert!(
        matches!(
            err,
            ChannelError::Truncated
                | ChannelError::Decode(DecodeError::UnexpectedFds {
                    expected: 1,
                    got: 2
                })
        ),
        "{err:?}"
    );
    assert_closed_everywhere(w1);
    assert_closed_everywhere(w2);

    // An fd on a message that carries none (the helper's side: a request with an fd).
    let (raw, helper) = fdpass::seqpacket_pair().unwrap();
    let helper = Channel::from_fd(helper);
    let (e, w) = watched_fd();
    fdpass::send_msg(raw.as_fd(), &[PROTOCOL_VERSION, 0x31], &[e.as_fd()]).unwrap();
    drop(e);
    let err = helper.recv::<PostLoginRequest>().unwrap_err();
    assert!(err.is_violation(), "{err}");
    assert_closed_everywhere(w);
}

#[test]
fn channel_hostile_datagrams_are_violations() {
    let (raw, helper) = fdpass::seqpacket_pair().unwrap();
    let helper = Channel::from_fd(helper);
    type Check = fn(&ChannelError) -> bool;
    let cases: Vec<(Vec<u8>, Check)> = vec![
        (vec![PROTOCOL_VERSION + 1, 1], |e| {
            matches!(e, ChannelError::Decode(DecodeError::BadVersion(_)))
        }),
        (vec![PROTOCOL_VERSION, 99], |e| {
            matches!(e, ChannelError::Decode(DecodeError::UnknownTag(99)))
        }),
        (vec![PROTOCOL_VERSION, 0x11, 0, 200], |e| {
            matches!(e, ChannelError::Decode(DecodeError::FieldTooLong))
        }),
        (vec![PROTOCOL_VERSION, 0x11, 0, 3, b'a'], |e| {
            matches!(e, ChannelError::Decode(DecodeError::Truncated))
        }),
        (vec![PROTOCOL_VERSION, 0x11, 0, 0, 0, 0, 9], |e| {
            matches!(e, ChannelError::Decode(DecodeError::TrailingBytes))
        }),
        (vec![PROTOCOL_VERSION; MAX_MESSAGE + 1], |e| {
            matches!(e, ChannelError::Decode(DecodeError::TooLong))
        }),
        (vec![PROTOCOL_VERSION; 64 * 1024], |e| {
            matches!(e, ChannelError::Truncated)
        }),
    ];
    for (bytes, expect) in cases {
        fdpass::send_msg(raw.as_fd(), &bytes, &[]).unwrap();
        let err = helper.recv::<PreLoginRequest>().unwrap_err();
        assert!(expect(&err), "{} bytes: {err:?}", bytes.len());
        assert!(err.is_violation());
    }
    // An empty datagram reads as end of stream.
    fdpass::send_msg(raw.as_fd(), &[], &[]).unwrap();
    assert!(matches!(
        helper.recv::<PreLoginRequest>(),
        Err(ChannelError::Closed)
    ));
    drop(raw);
    assert!(matches!(
        helper.recv::<PreLoginRequest>(),
        Err(ChannelError::Closed)
    ));
}

// ---------------------------------------------------------------- seccomp

/// Re-runs this test binary for one test, as the seccomp child of `case`.
fn run_child(test: &str, case: &str) -> Output {
    let exe = std::env::current_exe().unwrap();
    Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, case)
        .output()
        .unwrap()
}

fn show(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// In the child: confine this process with the post-login filter, loudly on failure.
fn confine() {
    if let Err(why) = seccomp::kernel_supports_seccomp() {
        panic!("seccomp unavailable: {why}");
    }
    seccomp::post_login_filter().install().unwrap();
}

fn status_line(status: &str, key: &str) -> String {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or("")
        .to_string()
}

/// What the post-login process does all day, under the filter.
fn allowed_work() {
    // Set up before the filter what the helper and the session would have set up.
    let exe = std::env::current_exe().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let (helper, child) = Channel::pair().unwrap();
    let (mut u1, mut u2) = UnixStream::pair().unwrap();
    // Small enough to fit the loopback socket buffers: nobody reads while we send.
    let payload: Vec<u8> = (0..32 * 1024).map(|i| (i % 251) as u8).collect();
    let payload_fd = file_with(&payload);

    confine();

    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
    assert_eq!(status_line(&status, "Seccomp:"), "Seccomp:\t2", "{status}");
    assert_eq!(status_line(&status, "NoNewPrivs:"), "NoNewPrivs:\t1");
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    assert_eq!(status_line(&status, "Seccomp:"), "Seccomp:\t2", "TSYNC");

    // Files: read (openat, statx, read, close), metadata, a directory listing.
    let bytes = std::fs::read(&exe).unwrap();
    assert!(bytes.len() > 1000);
    let meta = std::fs::metadata(&exe).unwrap();
    assert_eq!(meta.len() as usize, bytes.len());
    let _ = std::fs::symlink_metadata("/proc/self/exe").unwrap();
    let names = std::fs::read_dir("/")
        .unwrap()
        .filter_map(|e| e.ok())
        .count();
    assert!(names > 0);

    // Memory: growth, shrink, a large allocation (mmap/mremap/munmap), a HashMap.
    let mut v: Vec<u64> = Vec::new();
    for i in 0..2_000_000 {
        v.push(i);
    }
    v.truncate(10);
    v.shrink_to_fit();
    let big = vec![1u8; 64 << 20];
    assert_eq!(big[big.len() - 1], 1);
    drop(big);
    let mut m = HashMap::new();
    m.insert("k", 1);
    assert_eq!(m["k"], 1);

    // Time.
    let t = SystemTime::now();
    assert!(t > SystemTime::UNIX_EPOCH);
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(2));
    assert!(start.elapsed() >= Duration::from_millis(2));

    // The control connection: timeouts, nodelay, nonblocking (ioctl FIONBIO), send/recv,
    // addresses, SO_ERROR, sendfile through io::copy, half-close.
    server
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    server.set_nodelay(true).unwrap();
    server.set_nonblocking(true).unwrap();
    server.set_nonblocking(false).unwrap();
    server.write_all(b"220 ready\r\n").unwrap();
    let mut line = [0u8; 11];
    client.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"220 ready\r\n");
    client.write_all(b"QUIT\r\n").unwrap();
    let mut cmd = [0u8; 6];
    server.read_exact(&mut cmd).unwrap();
    assert!(server.peer_addr().is_ok() && server.local_addr().is_ok());
    assert!(server.take_error().unwrap().is_none());
    let mut file = File::from(payload_fd);
    let sent = io::copy(&mut file, &mut server).unwrap();
    assert_eq!(sent as usize, payload.len());
    server.shutdown(std::net::Shutdown::Write).unwrap();
    let mut received = Vec::new();
    client.read_to_end(&mut received).unwrap();
    assert_eq!(received, payload);
    let _clone = server.try_clone().unwrap();

    // A stream socket the process already holds.
    u1.write_all(b"ping").unwrap();
    let mut p = [0u8; 4];
    u2.read_exact(&mut p).unwrap();

    // The helper channel, with an fd passed.
    child.send(&PostLoginRequest::PasvListen, &[]).unwrap();
    assert_eq!(
        helper.recv::<PostLoginRequest>().unwrap().0,
        PostLoginRequest::PasvListen
    );
    let f = File::open(&exe).unwrap();
    helper
        .send(&PostLoginReply::DataSocket, &[f.as_fd()])
        .unwrap();
    let (reply, fds) = child.recv::<PostLoginReply>().unwrap();
    assert_eq!((reply, fds.len()), (PostLoginReply::DataSocket, 1));

    // stdout and stderr.
    let mut out = io::stdout().lock();
    writeln!(out, "seccomp child: allowed work done").unwrap();
    out.flush().unwrap();
    drop(out);
    std::process::exit(0);
}

#[test]
fn seccomp_allows_post_login_work() {
    if std::env::var(CHILD_ENV).as_deref() == Ok("allowed") {
        allowed_work();
    }
    let out = run_child("seccomp_allows_post_login_work", "allowed");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("seccomp child: allowed work done"),
        "{}",
        show(&out)
    );
}

#[test]
fn seccomp_socket_fails_with_eacces() {
    if std::env::var(CHILD_ENV).as_deref() == Ok("socket") {
        confine();
        let e = TcpListener::bind("127.0.0.1:0").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(seccomp::EACCES), "{e}");
        let e = UdpSocket::bind("[::1]:0").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(seccomp::EACCES), "{e}");
        let e = TcpStream::connect("127.0.0.1:21").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(seccomp::EACCES), "{e}");
        println!("seccomp child: socket refused");
        std::process::exit(0);
    }
    let out = run_child("seccomp_socket_fails_with_eacces", "socket");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("seccomp child: socket refused"));
}

/// The number glibc 2.36 uses for mkdir(): the legacy one where it exists.
#[cfg(target_arch = "x86_64")]
const MKDIR_NR: i64 = seccomp::nr::SYS_mkdir;
#[cfg(not(target_arch = "x86_64"))]
const MKDIR_NR: i64 = seccomp::nr::SYS_mkdirat;

#[test]
fn seccomp_blocked_call_is_reported_and_fatal() {
    if std::env::var(CHILD_ENV).as_deref() == Ok("mkdir") {
        confine();
        let r = std::fs::create_dir("/tmp/vsftpd-rs-seccomp-must-not-exist");
        // Not reached: the SIGSYS handler exits with status 1.
        println!("seccomp child: mkdir returned {r:?}");
        std::process::exit(0);
    }
    let out = run_child("seccomp_blocked_call_is_reported_and_fatal", "mkdir");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!("vsftpd: seccomp: blocked system call {MKDIR_NR}\n");
    assert!(stderr.contains(&want), "{}", show(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("mkdir returned"));
}

#[test]
fn seccomp_argument_checks_trap() {
    // ioctl is allowed only as FIONBIO; isatty's TCGETS must trap, with ioctl's number.
    if std::env::var(CHILD_ENV).as_deref() == Ok("ioctl") {
        confine();
        use std::io::IsTerminal;
        let t = io::stdin().is_terminal();
        println!("seccomp child: isatty returned {t}");
        std::process::exit(0);
    }
    let out = run_child("seccomp_argument_checks_trap", "ioctl");
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let want = format!(
        "vsftpd: seccomp: blocked system call {}\n",
        seccomp::nr::SYS_ioctl
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&want),
        "{}",
        show(&out)
    );
}

#[test]
fn seccomp_abort_still_aborts() {
    // abort() raises SIGABRT with tgkill(own pid): the argument-checked rule lets it through,
    // so a panic in a release build (panic = "abort") still dies by SIGABRT, not by a trap.
    if std::env::var(CHILD_ENV).as_deref() == Ok("abort") {
        confine();
        std::process::abort();
    }
    let out = run_child("seccomp_abort_still_aborts", "abort");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(6), "{}", show(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("blocked system call"),
        "{}",
        show(&out)
    );
}

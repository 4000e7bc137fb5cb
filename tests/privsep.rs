//! Issue #3: the two-process model, observed from outside through /proc, and the helper's
//! distrust of its child, driven in-process by a fake child over the real channel.

mod common;

use std::net::TcpStream;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use vsftpd_rs::config::{Layout, Settings};
use vsftpd_rs::data::passive::PassivePolicy;
use vsftpd_rs::privsep::channel::Channel;
use vsftpd_rs::privsep::helper;
use vsftpd_rs::privsep::msg::{
    Encode, Failure, PostLoginReply, PostLoginRequest, PreLoginReply, PreLoginRequest, Username,
    PROTOCOL_VERSION,
};
use vsftpd_rs::sys::fdpass;

/// A server in the privileged two-process model with the seccomp sandbox (the defaults).
fn privsep_builder(name: &str) -> (ServerBuilder, PathBuf) {
    let b = ServerBuilder::new(name)
        .file("hello.txt", "hello world")
        .pattern_file("big.bin", 10 * 1024 * 1024)
        .dir("pub");
    let empty = b.temp().mkdir("empty");
    let account = test_account();
    let b = b
        .set("run_as_launching_user", "NO")
        .set("nopriv_user", "nobody")
        .set("ftp_username", account)
        .set("secure_chroot_dir", empty.display())
        .set("seccomp_sandbox", "YES");
    (b, empty)
}

/// Waits until the helper has its two children before login, and tells them apart by their
/// root: (the pre-login process, jailed in `empty`; the early post-login process).
fn pre_and_early(helper: u32, empty: &Path) -> (u32, u32) {
    let empty = empty.canonicalize().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // A child may still be on its way into its jail: both must have arrived.
        if let [a, b] = children(helper).as_slice() {
            let (ra, rb) = (
                std::fs::read_link(format!("/proc/{a}/root")),
                std::fs::read_link(format!("/proc/{b}/root")),
            );
            let confined = |p: u32| status_field(p, "Seccomp") == "2";
            if let (Ok(ra), Ok(rb)) = (ra, rb) {
                if confined(*a) && confined(*b) {
                    if ra == empty && rb != empty {
                        return (*a, *b);
                    }
                    if rb == empty && ra != empty {
                        return (*b, *a);
                    }
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "helper {helper} has not the two children of the login phase: {:?}",
            children(helper)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn id_of(flag: &str, name: &str) -> u32 {
    let out = std::process::Command::new("id")
        .args([flag, name])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn uid_of(name: &str) -> u32 {
    id_of("-u", name)
}

/// Asserts what every confined protocol process must be: the uid, no capability at all,
/// no_new_privs, the seccomp filter, and its jail.
fn assert_confined(pid: u32, uid: u32, jail: &Path) {
    let ids = format!("{uid}\t{uid}\t{uid}\t{uid}");
    assert_eq!(status_field(pid, "Uid"), ids, "uids of {pid}");
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(status_field(pid, cap), "0000000000000000", "{cap} of {pid}");
    }
    assert_eq!(status_field(pid, "NoNewPrivs"), "1", "NoNewPrivs of {pid}");
    assert_eq!(status_field(pid, "Seccomp"), "2", "Seccomp of {pid}");
    assert_eq!(root_of(pid), jail.canonicalize().unwrap(), "root of {pid}");
}

#[test]
fn processes_at_each_phase() {
    let (b, empty) = privsep_builder("privsep_phases");
    let tree = b.tree_path().to_path_buf();
    let server = b.start();
    let (mut c, greeting) = server.connect();
    greeting.assert_code(220);

    let helper = wait_child_of(server.pid(), None);
    assert_eq!(
        status_field(helper, "Uid"),
        "0\t0\t0\t0",
        "the helper runs as root"
    );
    // Before login: the pre-login process and, every login being anonymous here, the
    // post-login process, started early, already confined and waiting for the helper.
    let (pre, early) = pre_and_early(helper, &empty);
    let nobody = uid_of("nobody");
    assert_confined(pre, nobody, &empty);
    let gid = id_of("-g", "nobody");
    assert_eq!(
        status_field(pre, "Gid"),
        format!("{gid}\t{gid}\t{gid}\t{gid}")
    );
    assert_eq!(
        status_field(pre, "Groups"),
        gid.to_string(),
        "no supplementary groups"
    );
    assert_confined(early, uid_of(test_account()), &tree);

    c.login_anonymous();
    let post = wait_child_of(helper, Some(pre));
    assert_ne!(post, pre, "a new process serves the session after login");
    assert_eq!(
        post, early,
        "the process started during the login serves the session"
    );
    // Killed before the helper let the post-login process answer; reaped just after.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(std::fs::read_to_string(format!("/proc/{pre}/stat"))
        .map(|s| s.contains(") Z "))
        .unwrap_or(true))
    {
        assert!(
            Instant::now() < deadline,
            "the pre-login process is not gone"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_confined(post, uid_of(test_account()), &tree);
    let limits = std::fs::read_to_string(format!("/proc/{post}/limits")).unwrap();
    let nproc = limits
        .lines()
        .find(|l| l.starts_with("Max processes"))
        .unwrap();
    assert_eq!(
        nproc.split_whitespace().collect::<Vec<_>>()[2..4],
        ["0", "0"],
        "the post-login process cannot fork: {nproc}"
    );
    assert_ne!(status_field(post, "SigQ"), "", "process is alive");

    // And it serves, under the filter.
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let t = c.transfer("RETR hello.txt");
    assert_eq!(t.data, b"hello world");
    t.end.expect("226").assert_is("226 Transfer complete.");
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

/// The helper while a session is logged in and a transfer runs: nopriv_user (effective, saved
/// and filesystem uid; its real uid is its child's, so that it may signal it), its group (no
/// supplementary group), jailed in secure_chroot_dir, not dumpable (the kernel then
/// gives its /proc files to root), an empty bounding set, and exactly `caps` permitted and
/// effective (nothing inheritable or ambient).
fn assert_helper_after_login(helper: u32, empty: &Path, caps: &str) {
    let nobody = uid_of("nobody");
    let gid = id_of("-g", "nobody");
    let child = uid_of(test_account());
    assert_eq!(
        status_field(helper, "Uid"),
        format!("{child}\t{nobody}\t{nobody}\t{nobody}"),
        "the helper is no longer root after login"
    );
    assert_eq!(
        status_field(helper, "Gid"),
        format!("{gid}\t{gid}\t{gid}\t{gid}")
    );
    assert_eq!(status_field(helper, "Groups"), gid.to_string());
    for (set, want) in [
        ("CapEff", caps),
        ("CapPrm", caps),
        ("CapInh", "0000000000000000"),
        ("CapAmb", "0000000000000000"),
        ("CapBnd", "0000000000000000"),
    ] {
        assert_eq!(status_field(helper, set), want, "{set} of the helper");
    }
    assert_eq!(
        root_of(helper),
        empty.canonicalize().unwrap(),
        "helper's root"
    );
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(format!("/proc/{helper}/status"))
        .unwrap()
        .uid();
    assert_eq!(
        owner, 0,
        "the helper is dumpable: its /proc files belong to {owner}"
    );
}

/// Logs in, starts a 10 MiB RETR over PASV and checks the helper while the data flows.
fn check_helper_during_transfer(b: ServerBuilder, empty: &Path, caps: &str) {
    let server = b.start();
    let mut c = server.login();
    let helper = wait_child_of(server.pid(), None);
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let mut data = c.open_data();
    c.send("RETR big.bin").unwrap();
    c.read_reply().unwrap().assert_code(150);
    let mut first = [0u8; 4096];
    std::io::Read::read_exact(&mut data, &mut first).unwrap();
    assert_helper_after_login(helper, empty, caps);
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut data, &mut rest).unwrap();
    assert_eq!(first.len() + rest.len(), 10 * 1024 * 1024);
    c.read_reply().unwrap().assert_code(226);
    // The session goes on: another passive connection, made by the helper as it is now.
    let t = c.transfer("RETR hello.txt");
    assert_eq!(t.data, b"hello world");
    assert_helper_after_login(helper, empty, caps);
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

#[test]
fn helper_keeps_no_privilege_after_an_anonymous_login() {
    let (b, empty) = privsep_builder("privsep_helper_least");
    check_helper_during_transfer(b, &empty, "0000000000000000");
}

/// connect_from_port_20 with a reserved ftp_data_port: CAP_NET_BIND_SERVICE (bit 10) and
/// nothing else. (The active connection from port 20 itself, with this helper, is
/// tests/active.rs `connect_from_real_port_20_in_a_network_namespace`.)
#[test]
fn helper_keeps_only_net_bind_service_for_connect_from_port_20() {
    let (b, empty) = privsep_builder("privsep_helper_port20");
    let b = b
        .set("connect_from_port_20", "YES")
        .set("ftp_data_port", "20");
    check_helper_during_transfer(b, &empty, "0000000000000400");
}

/// An unreserved ftp_data_port needs no capability even with connect_from_port_20.
#[test]
fn helper_keeps_nothing_for_an_unreserved_data_port() {
    let (b, empty) = privsep_builder("privsep_helper_port2020");
    let b = b
        .set("connect_from_port_20", "YES")
        .set("ftp_data_port", "2020");
    check_helper_during_transfer(b, &empty, "0000000000000000");
}

/// The protocol processes die with their helper: the parent-death signal is set after the
/// switch of user (the kernel clears it on a change of credentials), so it survives.
#[test]
fn session_processes_die_with_their_helper() {
    let (b, empty) = privsep_builder("privsep_pdeathsig");
    let server = b.start();
    let (mut c, greeting) = server.connect();
    greeting.assert_code(220);
    let helper = wait_child_of(server.pid(), None);
    let (_, early) = pre_and_early(helper, &empty);
    c.login_anonymous();
    c.cmd("PWD").assert_is("257 \"/\" is the current directory");
    let status = std::process::Command::new("kill")
        .args(["-KILL", &helper.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let gone = |p: u32| {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
    };
    while !gone(early) {
        assert!(
            Instant::now() < deadline,
            "the post-login process outlived its helper: {:?}",
            std::fs::read_to_string(format!("/proc/{early}/status"))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    c.assert_closed();
}

#[test]
fn early_post_login_process_never_outlives_a_failed_session() {
    let (b, empty) = privsep_builder("privsep_early_gone");
    let server = b.start();
    let (mut c, greeting) = server.connect();
    greeting.assert_code(220);
    let helper = wait_child_of(server.pid(), None);
    let (pre, early) = pre_and_early(helper, &empty);
    // It has read nothing: the first command still goes to the pre-login process.
    c.cmd("PWD")
        .assert_is("530 Please login with USER and PASS.");
    c.cmd("USER anonymous")
        .assert_is("331 Please specify the password.");
    c.cmd("QUIT").assert_is("221 Goodbye.");
    c.assert_closed();
    let deadline = Instant::now() + Duration::from_secs(10);
    let gone = |p: u32| {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
    };
    while !(gone(pre) && gone(early) && gone(helper)) {
        assert!(Instant::now() < deadline, "a session process outlived QUIT");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn early_post_login_process_reports_a_missing_root_after_pass() {
    let (b, _) = privsep_builder("privsep_early_oops");
    // There at start-up (which checks it), gone when the client logs in.
    let root = b.temp().mkdir("anon");
    let server = b.set("anon_root", root.display()).start();
    std::fs::remove_dir(&root).unwrap();
    let (mut c, greeting) = server.connect();
    greeting.assert_code(220);
    c.cmd("USER anonymous")
        .assert_is("331 Please specify the password.");
    c.cmd("PASS guest@example.com").assert_is(&format!(
        "500 OOPS: cannot change directory:{}",
        root.display()
    ));
    c.assert_closed();
}

#[test]
fn with_local_logins_the_post_login_process_starts_after_login() {
    let (b, empty) = privsep_builder("privsep_late_post");
    let tree = b.tree_path().to_path_buf();
    let server = b.set("local_enable", "YES").start();
    let (mut c, greeting) = server.connect();
    greeting.assert_code(220);
    let helper = wait_child_of(server.pid(), None);
    let pre = wait_child_of(helper, None);
    assert_confined(pre, uid_of("nobody"), &empty);
    assert_eq!(
        children(helper),
        vec![pre],
        "only the pre-login process before login"
    );
    c.login_anonymous();
    let post = wait_child_of(helper, Some(pre));
    assert_confined(post, uid_of(test_account()), &tree);
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

#[test]
fn transfers_under_the_sandbox() {
    let (b, _) = privsep_builder("privsep_transfers");
    let expected = std::fs::read(b.tree_path().join("big.bin")).unwrap();
    let server = b.start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    c.cmd("SIZE big.bin").assert_is("213 10485760");
    let t = c.transfer("RETR big.bin");
    t.start
        .assert_is("150 Opening BINARY mode data connection for big.bin (10485760 bytes).");
    assert!(t.data == expected, "RETR bytes differ");
    t.end.expect("226").assert_is("226 Transfer complete.");
    let t = c.transfer("LIST");
    let listing = String::from_utf8_lossy(&t.data).to_string();
    assert!(
        listing.contains(" hello.txt\r\n") && listing.contains(" pub\r\n"),
        "{listing}"
    );
    t.end.expect("226").assert_is("226 Directory send OK.");
    c.cmd("CWD pub")
        .assert_is("250 Directory successfully changed.");
    c.cmd("CWD ../../..")
        .assert_is("250 Directory successfully changed.");
    c.cmd("PWD").assert_is("257 \"/\" is the current directory");
    // A transfer without PASV first still gets vsftpd's reply.
    c.cmd("RETR hello.txt")
        .assert_is("425 Use PORT or PASV first.");
    // curl and Python's ftplib against the same server.
    let out = curl(&[
        "-s",
        &format!("ftp://127.0.0.1:{}/hello.txt", server.port()),
    ]);
    assert_eq!(out.stdout, b"hello world");
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

#[test]
fn wrong_user_and_missing_jail_fail_cleanly() {
    let (b, _) = privsep_builder("privsep_missing_jail");
    // There at start-up (which checks it), gone when the client connects.
    let jail = b.temp().mkdir("vanishing-empty");
    let server = b.set("secure_chroot_dir", jail.display()).start();
    std::fs::remove_dir(&jail).unwrap();
    let (mut c, greeting) = server.connect();
    assert_eq!(greeting.code, 500, "{}", greeting.raw_str());
    assert!(
        greeting.text().contains("secure_chroot_dir"),
        "{}",
        greeting.raw_str()
    );
    c.assert_closed();
    // The listener lives on.
    let (_c2, g2) = server.connect();
    assert_eq!(g2.code, 500);
}

// ---- The helper against a fake child -------------------------------------------------------

fn settings() -> Settings {
    Settings::defaults(Layout::Upstream)
}

fn policy() -> PassivePolicy {
    PassivePolicy::from_config(
        &settings().config,
        "127.0.0.1".parse().unwrap(),
        "127.0.0.1".parse().unwrap(),
    )
}

/// Runs one helper loop on a thread (no fork: the loops only use the channel) with `script`
/// sent from the fake child's raw end; returns how the loop ended and what the child got back.
fn drive<T: Send + 'static>(
    post: bool,
    script: impl FnOnce(&std::os::fd::OwnedFd) -> T + Send + 'static,
) -> (Result<(), String>, T) {
    drive_with(post, policy(), script)
}

fn drive_with<T: Send + 'static>(
    post: bool,
    policy: PassivePolicy,
    script: impl FnOnce(&std::os::fd::OwnedFd) -> T + Send + 'static,
) -> (Result<(), String>, T) {
    let (raw, helper_end) = fdpass::seqpacket_pair().unwrap();
    let ch = Channel::from_fd(helper_end);
    let t = std::thread::spawn(move || {
        let out = script(&raw);
        drop(raw);
        out
    });
    let s = settings();
    let result = if post {
        helper::serve_postlogin(&s, &policy, None, &ch).map_err(|e| format!("{e:?}"))
    } else {
        let peer = "127.0.0.1".parse().unwrap();
        let log = vsftpd_rs::log::SessionLog::disabled(peer);
        helper::serve_prelogin(&s, peer, &ch, &log)
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    };
    drop(ch);
    (result, t.join().unwrap())
}

/// Reads what the helper answered (bytes of one datagram), or None when it closed.
fn answer(raw: &std::os::fd::OwnedFd) -> Option<Vec<u8>> {
    let mut buf = [0u8; 2048];
    let r = fdpass::recv_msg(raw.as_fd(), &mut buf, 2).unwrap();
    (r.len > 0).then(|| buf[..r.len].to_vec())
}

fn login_bytes(user: &[u8], pass: &[u8]) -> Vec<u8> {
    PreLoginRequest::Login {
        user: Username::new(user.to_vec()).unwrap(),
        password: vsftpd_rs::proto::Password::new(pass.to_vec()),
    }
    .encode()
}

#[test]
fn helper_accepts_a_good_login_and_refuses_a_bad_one() {
    let (result, replies) = drive(false, |raw| {
        fdpass::send_msg(raw.as_fd(), &login_bytes(b"joe", b"secret"), &[]).unwrap();
        let first = answer(raw);
        fdpass::send_msg(raw.as_fd(), &login_bytes(b"anonymous", b"a@b"), &[]).unwrap();
        (first, answer(raw))
    });
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(replies.0, Some(PreLoginReply::LoginFailed.encode()));
    assert_eq!(replies.1, Some(PreLoginReply::LoginOk.encode()));
}

#[test]
fn helper_ends_the_session_on_hostile_messages() {
    let mut big = vec![PROTOCOL_VERSION, 0x11];
    big.resize(64 * 1024, b'x');
    let cases: Vec<(&str, bool, Vec<u8>, bool)> = vec![
        ("garbage", false, b"\x00\xff\x13\x37".to_vec(), false),
        (
            "bad version",
            false,
            vec![PROTOCOL_VERSION + 1, 0x11, 0, 1, b'a', 0, 0],
            false,
        ),
        (
            "truncated login",
            false,
            vec![PROTOCOL_VERSION, 0x11, 0, 9, b'a'],
            false,
        ),
        ("oversized", false, big.clone(), false),
        (
            "post-login request before login",
            false,
            PostLoginRequest::PasvListen.encode(),
            false,
        ),
        (
            "a reply sent as a request",
            false,
            PreLoginReply::LoginOk.encode(),
            false,
        ),
        (
            "login with an fd",
            false,
            login_bytes(b"anonymous", b"x"),
            true,
        ),
        (
            "pre-login request after login",
            true,
            login_bytes(b"anonymous", b"x"),
            false,
        ),
        (
            "a user check after login",
            true,
            PreLoginRequest::CheckUser {
                user: Username::new(b"root".to_vec()).unwrap(),
            }
            .encode(),
            false,
        ),
        (
            "listen request with an fd",
            true,
            PostLoginRequest::PasvListen.encode(),
            true,
        ),
        ("oversized after login", true, big, false),
        (
            "a chown request without its fd",
            true,
            PostLoginRequest::ChownUpload.encode(),
            false,
        ),
    ];
    for (what, post, bytes, with_fd) in cases {
        let (result, got) = drive(post, move |raw| {
            let file = std::fs::File::open("/dev/null").unwrap();
            let fds = if with_fd { vec![file.as_fd()] } else { vec![] };
            fdpass::send_msg(raw.as_fd(), &bytes, &fds).unwrap();
            answer(raw)
        });
        let err = result.expect_err(what);
        assert!(err.starts_with("Violation"), "{what}: {err}");
        assert_eq!(
            got, None,
            "{what}: the helper answered instead of ending the session"
        );
    }
}

/// A chown request must carry exactly one fd: two are a violation too; and without
/// chown_uploads a well-formed request is refused, the file untouched.
#[test]
fn helper_chown_requests_are_checked() {
    let (result, _) = drive(true, |raw| {
        let a = std::fs::File::open("/dev/null").unwrap();
        let b = std::fs::File::open("/dev/null").unwrap();
        let bytes = PostLoginRequest::ChownUpload.encode();
        fdpass::send_msg(raw.as_fd(), &bytes, &[a.as_fd(), b.as_fd()]).unwrap();
        answer(raw)
    });
    let err = result.expect_err("two fds");
    assert!(err.starts_with("Violation"), "{err}");
    let (result, got) = drive(true, |raw| {
        let f = std::fs::File::open("/dev/null").unwrap();
        let bytes = PostLoginRequest::ChownUpload.encode();
        fdpass::send_msg(raw.as_fd(), &bytes, &[f.as_fd()]).unwrap();
        answer(raw)
    });
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        got,
        Some(PostLoginReply::Failed(Failure::NotAllowed).encode()),
        "chown_uploads is off: refused"
    );
}

#[test]
fn helper_refuses_what_the_configuration_does_not_allow() {
    let (result, replies) = drive(true, |raw| {
        // Accept before listen: nothing to accept.
        fdpass::send_msg(raw.as_fd(), &PostLoginRequest::PasvAccept.encode(), &[]).unwrap();
        let a = answer(raw);
        // Active mode is not there yet: refused, not attempted.
        let port = PostLoginRequest::PortConnect {
            addr: "127.0.0.1:9".parse().unwrap(),
        };
        fdpass::send_msg(raw.as_fd(), &port.encode(), &[]).unwrap();
        (a, answer(raw))
    });
    assert!(result.is_ok(), "{result:?}");
    let refused = PostLoginReply::Failed(Failure::NotAllowed).encode();
    assert_eq!(replies.0.as_deref(), Some(refused.as_slice()));
    assert_eq!(replies.1.as_deref(), Some(refused.as_slice()));
}

#[test]
fn helper_checks_the_data_connection_peer() {
    for (control_peer, expect) in [
        ("127.0.0.1", PostLoginReply::DataSocket.encode()),
        (
            "127.0.0.2",
            PostLoginReply::Failed(Failure::BadPeerAddress).encode(),
        ),
    ] {
        let mut p = policy();
        p.control_peer = control_peer.parse().unwrap();
        let (result, got) = drive_with(true, p, |raw| {
            fdpass::send_msg(raw.as_fd(), &PostLoginRequest::PasvListen.encode(), &[]).unwrap();
            let listening = answer(raw).unwrap();
            let port = u16::from_be_bytes([listening[2], listening[3]]);
            // The connection comes from 127.0.0.1.
            let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
            fdpass::send_msg(raw.as_fd(), &PostLoginRequest::PasvAccept.encode(), &[]).unwrap();
            let got = answer(raw);
            drop(sock);
            got
        });
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(got, Some(expect), "control peer {control_peer}");
    }
}

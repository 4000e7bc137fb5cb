//! Issue #10: every login class, every phase, proven from /proc — the ids, the capabilities,
//! no_new_privs, the seccomp filter, the root directory and the resource limits of each session
//! process, and of the helper after login.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::accounts::{PamService, TestUser};
use common::*;

const NO_CAPS: &str = "0000000000000000";

/// A limit's soft and hard values from /proc/PID/limits (`Max processes`, `Max core file size`).
fn limit(pid: u32, name: &str) -> (String, String) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/limits"));
    let rest: Vec<&str> = line[name.len()..].split_whitespace().collect();
    (rest[0].to_string(), rest[1].to_string())
}

/// What every protocol process is, whatever its class: `uid` in all four slots, `gid` as its
/// group, no capability in any set, no_new_privs, the seccomp filter, its root, no fork, no
/// core.
#[track_caller]
fn assert_protocol_process(pid: u32, uid: u32, gid: u32, root: &Path, what: &str) {
    assert_eq!(
        status_field(pid, "Uid"),
        format!("{uid}\t{uid}\t{uid}\t{uid}"),
        "{what}: uids"
    );
    assert_eq!(
        status_field(pid, "Gid"),
        format!("{gid}\t{gid}\t{gid}\t{gid}"),
        "{what}: gids"
    );
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(status_field(pid, set), NO_CAPS, "{what}: {set}");
    }
    assert_eq!(status_field(pid, "NoNewPrivs"), "1", "{what}: no_new_privs");
    assert_eq!(status_field(pid, "Seccomp"), "2", "{what}: seccomp");
    assert_eq!(root_of(pid), root.canonicalize().unwrap(), "{what}: root");
    assert_eq!(
        limit(pid, "Max processes"),
        ("0".into(), "0".into()),
        "{what}: NPROC"
    );
    assert_eq!(
        limit(pid, "Max core file size"),
        ("0".into(), "0".into()),
        "{what}: CORE"
    );
}

/// The helper after login: nopriv_user's effective uid, no capability, not dumpable.
#[track_caller]
fn assert_helper_after_login(pid: u32, what: &str) {
    let nobody = passwd_uid("nobody").unwrap();
    let uids: Vec<u32> = status_field(pid, "Uid")
        .split_whitespace()
        .map(|u| u.parse().unwrap())
        .collect();
    assert_eq!(&uids[1..], &[nobody, nobody, nobody], "{what}: helper uids");
    for set in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(status_field(pid, set), NO_CAPS, "{what}: helper {set}");
    }
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(format!("/proc/{pid}/status"))
        .unwrap()
        .uid();
    assert_eq!(owner, 0, "{what}: the helper must not be dumpable");
}

fn gid_of(user: &str) -> u32 {
    let text = std::fs::read_to_string("/etc/passwd").unwrap();
    text.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f[0] == user).then(|| f[3].parse().unwrap())
        })
        .unwrap()
}

/// After a login, this session's helper and post-login process (the helper is the server's
/// child that was not there before the connection).
fn session_processes(server: &Server, before: &[u32]) -> (u32, u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let helper = loop {
        if let Some(h) = children(server.pid())
            .into_iter()
            .find(|p| !before.contains(p))
        {
            break h;
        }
        assert!(Instant::now() < deadline, "no helper");
        std::thread::sleep(Duration::from_millis(20));
    };
    (helper, wait_child_of(helper, None))
}

/// Logs in with `user`/`pass`, starts a download (so the helper has served a data request and
/// dropped its privileges), and checks both processes.
#[track_caller]
fn check_class(server: &Server, user: &str, pass: &str, uid: u32, gid: u32, root: &Path) {
    let before = children(server.pid());
    let (mut c, g) = server.connect();
    g.assert_code(220);
    c.cmd(&format!("USER {user}")).assert_code(331);
    c.cmd(&format!("PASS {pass}"))
        .assert_is("230 Login successful.");
    let t = c.transfer("LIST");
    t.end.expect("226").assert_code(226);
    let (helper, post) = session_processes(server, &before);
    assert_protocol_process(post, uid, gid, root, user);
    assert_helper_after_login(helper, user);
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

#[test]
fn every_login_class_is_confined() {
    if one_process_model() {
        return;
    }
    let pam = PamService::unix("vrs-sandbox");
    let b = ServerBuilder::new("sandbox_classes")
        .set("local_enable", "YES")
        .set("pam_service_name", &pam.name)
        .set("chroot_list_enable", "YES");
    let tree = b.tree_path().to_path_buf();
    let empty = b.temp().join("empty");
    // A real user, not jailed.
    let free_home = b.temp().join("free");
    let free = TestUser::new("vrsf", &free_home);
    free.make_home(0o755);
    // A real user, jailed through chroot_list (root-owned home).
    let jailed_home = b.temp().join("jailed");
    let jailed = TestUser::new("vrsj", &jailed_home);
    std::fs::create_dir_all(&jailed_home).unwrap();
    let list = b.temp().join("chroot_list");
    std::fs::write(&list, format!("{}\n", jailed.name)).unwrap();
    // A virtual user, served as a guest account with the home `virtual/$USER`.
    let base = b.temp().join("virtual");
    let guest = TestUser::new("vrsg", &base.join("$USER"));
    std::fs::create_dir_all(base.join("vee")).unwrap();
    let vfile = b.temp().join("virtual_users");
    let hash = std::process::Command::new("openssl")
        .args(["passwd", "-6", "vee-pw"])
        .output()
        .unwrap();
    std::fs::write(
        &vfile,
        format!("vee:{}", String::from_utf8(hash.stdout).unwrap()),
    )
    .unwrap();
    let server = b
        .set("chroot_list_file", list.display())
        .set("virtual_users_file", vfile.display())
        .set("user_sub_token", "$USER")
        .set("guest_username", &guest.name)
        .start();

    // Before login: the pre-login process of a fresh connection.
    let before = children(server.pid());
    let (_pending, g) = server.connect();
    g.assert_code(220);
    let deadline = Instant::now() + Duration::from_secs(10);
    let helper = loop {
        if let Some(h) = children(server.pid())
            .into_iter()
            .find(|p| !before.contains(p))
        {
            break h;
        }
        assert!(Instant::now() < deadline, "no helper");
        std::thread::sleep(Duration::from_millis(20));
    };
    let pre = wait_child_of(helper, None);
    let nobody = passwd_uid("nobody").unwrap();
    assert_protocol_process(pre, nobody, gid_of("nobody"), &empty, "pre-login");
    assert_eq!(
        status_field(helper, "Uid"),
        "0\t0\t0\t0",
        "the helper before login"
    );

    let ftp = test_account();
    let ftp_uid = passwd_uid(ftp).unwrap();
    check_class(&server, "anonymous", "a@b", ftp_uid, gid_of(ftp), &tree);
    check_class(
        &server,
        &free.name,
        &free.password,
        free.uid(),
        gid_of(&free.name),
        Path::new("/"),
    );
    check_class(
        &server,
        &jailed.name,
        &jailed.password,
        jailed.uid(),
        gid_of(&jailed.name),
        &jailed_home,
    );
    check_class(
        &server,
        "vee",
        "vee-pw",
        guest.uid(),
        gid_of(&guest.name),
        &PathBuf::from(&base).join("vee"),
    );
}

/// The seccomp filter is enforced, not just loaded: a call outside the allow-list (execve,
/// through the debug-only `SITE SELFTEST EXEC` hook) ends the session at once, and the trap
/// handler names the call. (Landlock would refuse it too; seccomp comes first.)
#[cfg(debug_assertions)]
#[test]
fn a_blocked_system_call_ends_the_session_and_is_named() {
    if one_process_model() {
        return;
    }
    let b = ServerBuilder::new("sandbox_trap");
    std::fs::write(b.tree_path().join("prog"), "#!/bin/sh\nexit 0\n").unwrap();
    set_mode(&b.tree_path().join("prog"), 0o755);
    let server = b.start();
    let mut c = server.login();
    c.send("SITE SELFTEST EXEC prog").unwrap();
    c.assert_closed();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = server.stderr();
        if log.contains("seccomp: blocked system call") {
            break;
        }
        assert!(Instant::now() < deadline, "no trap report: {log}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Other sessions go on.
    let mut c = server.login();
    c.cmd("NOOP").assert_is("200 NOOP ok.");
}

//! Issue #22: a migrating admin's first hour. `-t` catches what every session would fail on
//! (and start-up refuses the same), a configuration under which nobody can log in is a
//! warning, the standalone daemon says where it listens, no `listen` line means inetd mode
//! (Debian's default), and MLSD/MLST carry the Unix mode so a mirror keeps permissions. The
//! defaults themselves are checked against Debian's vsftpd in tests/defaults.rs.

mod common;

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use common::*;

/// A builder for the two-process model whatever VSFTPD_TEST_ONE_PROCESS says: the checks of
/// secure_chroot_dir and nopriv_user only apply there.
fn two_process(name: &str) -> ServerBuilder {
    let b = ServerBuilder::new(name);
    let empty = b.temp().mkdir("empty2");
    b.set("run_as_launching_user", "NO")
        .set("nopriv_user", "nobody")
        .set("ftp_username", test_account())
        .set("secure_chroot_dir", empty.display())
}

/// `vsftpd -t CONF` of the builder's config: (exit code, stderr).
fn check(b: &ServerBuilder) -> (i32, String) {
    let conf = b.write_config();
    let (code, out, err) = run_vsftpd(&[Path::new("-t"), conf.as_path()]);
    assert_eq!(out, "", "-t writes nothing on stdout");
    (code, err)
}

/// The stderr line that mentions `needle`, or a failure showing all of stderr.
#[track_caller]
fn line_with<'a>(stderr: &'a str, needle: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{stderr}"))
}

/// `vsftpd: CONF:LINE: OPTION=VALUE: ...` for the option as the builder wrote it.
fn cites(b: &ServerBuilder, option: &str) -> String {
    let conf = b.config_contents();
    let line = conf
        .lines()
        .position(|l| l.split('=').next() == Some(option))
        .unwrap_or_else(|| panic!("{option} not in the config:\n{conf}"))
        + 1;
    format!("vsftpd: {}:{line}: {option}=", b.config_path().display())
}

// ---- 1. -t checks what every session will need, and start-up refuses the same ---------------

#[test]
fn a_missing_secure_chroot_dir_fails_check_and_start_up() {
    let b = two_process("fh_chroot");
    let missing = b.temp().join("no-such-empty");
    let b = b.set("secure_chroot_dir", missing.display());
    let (code, err) = check(&b);
    assert_eq!(code, 1, "{err}");
    let line = line_with(&err, "secure_chroot_dir=");
    assert!(line.starts_with(&cites(&b, "secure_chroot_dir")), "{line}");
    assert!(line.contains("no such directory"), "{line}");
    assert!(
        line.contains(&format!("mkdir -p {}", missing.display())),
        "{line}"
    );
    // The daemon itself stops at start-up with the same line, instead of answering every
    // client `500 OOPS: vsftpd: not found: directory given in 'secure_chroot_dir'`.
    let e = match b.try_start() {
        Ok(_) => panic!("the daemon started with a missing secure_chroot_dir"),
        Err(e) => e,
    };
    assert_eq!(e.status.and_then(|s| s.code()), Some(1), "{e:?}");
    assert!(e.stderr.contains(line), "{e:?}");
    assert!(e.notify.is_empty(), "it never got ready: {e:?}");
}

#[test]
fn a_file_instead_of_secure_chroot_dir() {
    let b = two_process("fh_chroot_file");
    let file = b.temp().write("a-file", "x");
    let (code, err) = check(&b.set("secure_chroot_dir", file.display()));
    assert_eq!(code, 1, "{err}");
    assert!(line_with(&err, "secure_chroot_dir=").contains("not a directory"));
}

#[test]
fn missing_accounts_are_named_with_the_fix() {
    let b = two_process("fh_accounts")
        .set("nopriv_user", "vrs-no-such-nopriv")
        .set("ftp_username", "vrs-no-such-ftp");
    let (code, err) = check(&b);
    assert_eq!(code, 1, "{err}");
    for option in ["nopriv_user", "ftp_username"] {
        let line = line_with(&err, &format!("{option}="));
        assert!(line.starts_with(&cites(&b, option)), "{line}");
        assert!(line.contains("no such user"), "{line}");
        assert!(line.contains("useradd --system"), "{line}");
    }
    assert!(line_with(&err, "ftp_username=").contains("anonymous_enable=NO"));
    // With anonymous logins off the ftp account is not needed.
    let (code, err) = check(
        &b.set("nopriv_user", "nobody")
            .set("anonymous_enable", "NO")
            .set("local_enable", "YES"),
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn virtual_users_need_their_guest_account() {
    let b = two_process("fh_guest")
        .set("local_enable", "YES")
        .set("guest_enable", "YES")
        .set("guest_username", "vrs-no-such-guest");
    let (code, err) = check(&b);
    assert_eq!(code, 1, "{err}");
    let line = line_with(&err, "guest_username=");
    assert!(line.starts_with(&cites(&b, "guest_username")), "{line}");
    assert!(line.contains("guest_enable=NO"), "{line}");
    let (code, err) = check(&b.set("guest_username", test_account()));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn missing_roots_are_named_with_the_fix() {
    let b = two_process("fh_roots");
    let anon = b.temp().join("no-anon-root");
    let local = b.temp().join("no-local-root");
    let b = b
        .set("anon_root", anon.display())
        .set("local_enable", "YES")
        .set("local_root", local.display());
    let (code, err) = check(&b);
    assert_eq!(code, 1, "{err}");
    let line = line_with(&err, "anon_root=");
    assert!(line.starts_with(&cites(&b, "anon_root")), "{line}");
    assert!(line.contains("no such directory"), "{line}");
    let line = line_with(&err, "local_root=");
    assert!(line.starts_with(&cites(&b, "local_root")), "{line}");
    assert!(line.contains("unset local_root"), "{line}");
    // A local_root that differs per user cannot be checked, and is not.
    let (code, err) = check(
        &b.set("anon_root", b_tree_of("fh_roots_tree").display())
            .set("user_sub_token", "$USER")
            .set("local_root", "/nowhere/$USER"),
    );
    assert_eq!(code, 0, "{err}");
}

/// A directory that exists (a fresh temp dir, kept for the test's life by leaking its guard:
/// it is removed with the test run's temp files).
fn b_tree_of(name: &str) -> std::path::PathBuf {
    let d = TempDir::new(name);
    let p = d.mkdir("tree");
    std::mem::forget(d);
    p
}

#[test]
fn files_the_sessions_read_must_be_readable() {
    let b = two_process("fh_files");
    let missing = |n: &str| b.temp().join(n).display().to_string();
    let (banner, users, chroots) = (
        missing("no-banner"),
        missing("no-user-list"),
        missing("no-chroot-list"),
    );
    let b = b
        .set("banner_file", &banner)
        .set("userlist_enable", "YES")
        .set("userlist_file", &users)
        .set("local_enable", "YES")
        .set("chroot_list_enable", "YES")
        .set("chroot_list_file", &chroots);
    let (code, err) = check(&b);
    assert_eq!(code, 1, "{err}");
    for (option, fix) in [
        ("banner_file", "unset banner_file"),
        ("userlist_file", "userlist_enable=NO"),
        ("chroot_list_file", "chroot_list_enable=NO"),
    ] {
        let line = line_with(&err, &format!("{option}="));
        assert!(line.starts_with(&cites(&b, option)), "{line}");
        assert!(line.contains("no such file"), "{line}");
        assert!(line.contains(fix), "{line}");
    }
    // The same files present: valid.
    for p in [&banner, &users, &chroots] {
        fs::write(p, "someone\n").unwrap();
    }
    let (code, err) = check(&b);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn check_warns_of_a_port_in_use_and_start_up_names_listen_port() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let b = two_process("fh_port").set("listen_port", port);
    // `-t` before a reload runs while the daemon holds its port: a warning, not a failure.
    let (code, err) = check(&b);
    assert_eq!(code, 0, "{err}");
    let line = line_with(&err, "listen_port=");
    assert!(line.starts_with("vsftpd: warning: "), "{line}");
    assert!(
        line.contains(&format!("127.0.0.1:{port} is in use")),
        "{line}"
    );
    // Starting on it fails, naming the option and what to do.
    let e = match b.try_start() {
        Ok(_) => panic!("the daemon started on a port in use"),
        Err(e) => e,
    };
    assert_eq!(e.status.and_then(|s| s.code()), Some(1), "{e:?}");
    let line = line_with(&e.stderr, "listen_port=");
    assert!(
        line.contains("could not bind listening socket to 127.0.0.1:"),
        "{line}"
    );
    assert!(line.contains("choose another listen_port"), "{line}");
    drop(taken);
}

#[test]
fn a_reload_that_sessions_would_fail_on_keeps_the_old_configuration() {
    let mut server = ServerBuilder::new("fh_reload")
        .set("ftpd_banner", "old banner")
        .start();
    let missing = server.temp().join("no-such-anon-root");
    server.set_config("anon_root", missing.display());
    server.set_config("ftpd_banner", "new banner");
    server.signal("HUP");
    assert!(
        wait_until(Duration::from_secs(10), || server
            .stderr()
            .contains("reload failed, keeping the old configuration")),
        "{}",
        server.stderr()
    );
    assert!(line_with(&server.stderr(), "reload failed").contains("anon_root="));
    let (mut c, g) = server.connect();
    g.assert_is("220 old banner");
    c.login_anonymous();
}

// ---- 2. a configuration under which nobody can log in ---------------------------------------

#[test]
fn nobody_can_log_in() {
    // Both sides off: vsftpd's own refusal, in -t as at start-up.
    let b = ServerBuilder::new("fh_nobody")
        .set("anonymous_enable", "NO")
        .set("local_enable", "NO");
    let (code, err) = check(&b);
    assert_eq!(code, 1, "{err}");
    assert!(
        line_with(&err, "both local and anonymous access disabled").starts_with("vsftpd: "),
        "{err}"
    );
    // Only listed users may log in, and the list is empty: a warning, in -t and at start-up.
    let lists = TempDir::new("fh_nobody_lists");
    let list = lists.write("user_list", "\n");
    let b = b_with_list(&list);
    let (code, err) = check(&b);
    assert_eq!(code, 0, "{err}");
    let line = line_with(&err, "nobody can log in");
    assert!(line.starts_with("vsftpd: warning: "), "{line}");
    assert!(line.contains("userlist_deny=YES"), "{line}");
    let server = b.start();
    assert!(
        server.stderr().contains(line),
        "start-up warns too:\n{}",
        server.stderr()
    );
    // Indeed nobody gets in.
    let (mut c, _) = server.connect();
    c.cmd("USER anonymous").assert_code(530);
    drop(server);
    // Listing anonymous is enough to silence it.
    fs::write(&list, "anonymous\n").unwrap();
    let (code, err) = check(&b_with_list(&list));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("nobody can log in"), "{err}");
}

fn b_with_list(list: &Path) -> ServerBuilder {
    ServerBuilder::new("fh_nobody_list2")
        .set("userlist_enable", "YES")
        .set("userlist_deny", "NO")
        .set("userlist_file", list.display())
}

// ---- 3. the standalone daemon says where it listens ----------------------------------------

#[test]
fn standalone_says_where_it_listens_on_stderr() {
    let server = ServerBuilder::new("fh_listening").start();
    let addr = server.addr();
    assert_eq!(
        server
            .stderr()
            .lines()
            .filter(|l| l.contains("listening on"))
            .collect::<Vec<_>>(),
        [format!("vsftpd: listening on {addr}")],
        "{}",
        server.stderr()
    );
    assert_eq!(server.stdout(), "");
    // In the background the pid file and the logs say it; stderr stays quiet.
    let b = ServerBuilder::new("fh_listening_bg").set("background", "YES");
    let pid_file = b.dir_path().join("vsftpd.pid");
    let mut server = b.arg("--pid-file").arg(&pid_file).start();
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("the launching process did not exit");
    assert_eq!(status.code(), Some(0));
    assert!(
        wait_until(Duration::from_secs(5), || pid_file.exists()),
        "no pid file"
    );
    let pid: u32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    server.adopt_pid(pid);
    let (_c, greeting) = server.connect();
    greeting.assert_code(220);
    assert!(
        !server.stderr().contains("listening on"),
        "{}",
        server.stderr()
    );
}

// ---- 4. no listen line: inetd mode, as Debian's vsftpd ------------------------------------

#[test]
fn without_a_listen_line_it_runs_in_inetd_mode() {
    let b = ServerBuilder::new("fh_inetd")
        .unset("listen")
        .unset("listen_address")
        .unset("listen_port");
    let conf = b.write_config();
    // No socket on stdin: inetd mode says what it needs and what to set instead.
    let (code, _, err) = run_vsftpd(&[conf.as_os_str()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("listen=NO (inetd mode)"), "{err}");
    assert!(err.contains("set listen=YES"), "{err}");
    // --print-config says where the value comes from.
    let (code, out, err) = run_vsftpd(&[Path::new("--print-config"), conf.as_path()]);
    assert_eq!(code, 0, "{err}");
    let line = out.lines().find(|l| l.starts_with("listen=")).unwrap();
    assert!(
        line.starts_with("listen=NO ") && line.ends_with("# default"),
        "{line}"
    );
    // A connected socket on stdin: one session, as inetd would start it.
    let mut s = b.spawn_inetd();
    s.greeting().assert_is(&default_banner());
    let c = s.client();
    c.login_anonymous();
    c.cmd("QUIT").assert_code(221);
}

// ---- 5. MLSD/MLST carry the Unix mode: a mirror keeps permissions ------------------------

#[test]
fn lftp_mirror_keeps_the_modes() {
    let b = ServerBuilder::new("fh_mirror")
        .file("plain.txt", "plain\n")
        .file("tool.sh", "#!/bin/sh\n")
        .file("odd.txt", "odd\n")
        .dir("docs")
        .file("docs/read-only.txt", "ro\n");
    let tree = b.tree_path().to_path_buf();
    for (rel, mode) in [
        ("plain.txt", 0o644),
        ("tool.sh", 0o755),
        ("odd.txt", 0o604),
        ("docs/read-only.txt", 0o444),
        ("docs", 0o755),
    ] {
        fs::set_permissions(tree.join(rel), fs::Permissions::from_mode(mode)).unwrap();
    }
    let server = b.start();
    let addr = server.addr();
    let (mut c, _) = server.connect();
    c.login_anonymous();
    let r = c.cmd("MLST /tool.sh");
    assert!(r.raw_str().contains(";UNIX.mode=0755;"), "{}", r.raw_str());
    let r = c.cmd("FEAT");
    assert!(
        r.raw_str().contains(
            " MLST type*;size*;modify*;perm*;unique*;UNIX.mode*;UNIX.owner*;UNIX.group*;\r\n"
        ),
        "{}",
        r.raw_str()
    );
    drop(c);
    let out_dir = TempDir::new("fh_mirror_out");
    let o = lftp_in(
        &format!("open -p {} {}; mirror / got", addr.port(), addr.ip()),
        Some(out_dir.path()),
    );
    assert!(o.status.success(), "{}", describe(&o));
    let got = out_dir.join("got");
    for (rel, mode) in [
        ("plain.txt", 0o644),
        ("tool.sh", 0o755),
        ("odd.txt", 0o604),
        ("docs/read-only.txt", 0o444),
        ("docs", 0o755),
    ] {
        let md = fs::metadata(got.join(rel)).unwrap();
        assert_eq!(
            md.permissions().mode() & 0o7777,
            mode,
            "{rel} mirrored with the wrong mode"
        );
    }
    assert_eq!(fs::read(got.join("tool.sh")).unwrap(), b"#!/bin/sh\n");
}

#[test]
fn hide_ids_leaves_owner_and_group_out_of_mlst() {
    let server = ServerBuilder::new("fh_mlst_ids")
        .file("a.txt", "a")
        .set("hide_ids", "YES")
        .start();
    let (mut c, _) = server.connect();
    c.login_anonymous();
    let r = c.cmd("MLST /a.txt").raw_str();
    assert!(r.contains(";UNIX.mode=0644; /a.txt"), "{r}");
    assert!(
        !r.contains("UNIX.owner") && !r.contains("UNIX.group"),
        "{r}"
    );
    drop(c);
    let server = ServerBuilder::new("fh_mlst_ids2")
        .file("a.txt", "a")
        .start();
    let md = fs::metadata(server.tree_path().join("a.txt")).unwrap();
    let (mut c, _) = server.connect();
    c.login_anonymous();
    let r = c.cmd("MLST /a.txt").raw_str();
    let facts = format!(
        ";UNIX.mode=0644;UNIX.owner={};UNIX.group={}; /a.txt",
        md.uid(),
        md.gid()
    );
    assert!(r.contains(&facts), "{r}");
}

// ---- 6. the quick start runs in the foreground; the README says so -----------------------

#[test]
fn quick_start_runs_in_the_foreground_until_ctrl_c() {
    let b = ServerBuilder::new("fh_quick").file("hello.txt", "hi\n");
    let dir = b.tree_path().to_path_buf();
    let cwd = b.dir_path().to_path_buf();
    let mut server = b
        .exact_args([
            std::ffi::OsStr::new("--quick-start"),
            dir.as_os_str(),
            std::ffi::OsStr::new("-olisten_port=0"),
        ])
        .current_dir(&cwd)
        .readiness(Readiness::OutputLine)
        .start();
    let port = server.port();
    assert!(
        server
            .stderr()
            .contains(&format!("vsftpd: listening on 127.0.0.1:{port}\n")),
        "{}",
        server.stderr()
    );
    // Still the process the terminal started: the clients go in a second terminal.
    assert!(server.is_running());
    let mut c = server.login();
    assert_eq!(c.retr("hello.txt").1, b"hi\n");
    drop(c);
    // Ctrl-C (SIGINT to the foreground process) stops it, cleanly.
    server.signal("INT");
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("Ctrl-C did not stop the quick start");
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn readme_first_steps() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Set up on a fresh machine"))
        .expect("README has a set-up section");
    // Exactly two commands to type on a fresh machine.
    let commands: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("    ") && !l.trim().is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(commands, ["./scripts/quick-start", "./scripts/test"]);
    for needle in [
        "foreground",
        "second terminal",
        "Ctrl-C stops it",
        "vsftpd: listening on 127.0.0.1:2121",
        "(planned in #5)",
        "docs/TUNABLES.md",
    ] {
        assert!(section.contains(needle), "README set-up lacks {needle:?}");
    }
    // The binary's message is the one the README quotes.
    let (code, _, err) = run_vsftpd(&["-t", "-osetproctitle_enable=YES"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("recognised but not supported yet (planned in #"),
        "{err}"
    );
}

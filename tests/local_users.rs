//! Issue #7: real users through the real PAM stack, and their jails. Every test makes its own
//! accounts (useradd, chpasswd) and PAM service (pam_unix with nodelay), and looks at the
//! session processes through /proc. These run in the two-process model, as root.

mod common;

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::accounts::{PamService, TestGroup, TestUser};
use common::*;

/// A server that takes local logins through `pam`, anonymous logins off.
fn local_builder(name: &str, pam: &PamService) -> ServerBuilder {
    ServerBuilder::new(name)
        .set("local_enable", "YES")
        .set("anonymous_enable", "NO")
        .set("pam_service_name", &pam.name)
}

/// A user whose home (owned by the user, 0755) holds `hello.txt`.
fn user_with_home(b: &ServerBuilder, prefix: &str) -> TestUser {
    let home = b.temp().join(format!("home-{prefix}"));
    let u = TestUser::new(prefix, &home);
    u.make_home(0o755);
    std::fs::write(home.join("hello.txt"), format!("hello {}\n", u.name)).unwrap();
    u.chown(&home.join("hello.txt"));
    u
}

/// A home owned by root and not writable by the user (a jail vsftpd accepts), with a file
/// and a subdirectory the user owns.
fn user_with_jail(b: &ServerBuilder, prefix: &str) -> TestUser {
    let home = b.temp().join(format!("jail-{prefix}"));
    let u = TestUser::new(prefix, &home);
    std::fs::create_dir_all(home.join("upload")).unwrap();
    set_mode(&home, 0o755);
    u.chown(&home.join("upload"));
    std::fs::write(home.join("hello.txt"), format!("hello {}\n", u.name)).unwrap();
    u
}

#[track_caller]
fn login(c: &mut FtpClient, u: &TestUser) -> Reply {
    c.cmd(&format!("USER {}", u.name))
        .assert_is("331 Please specify the password.");
    c.cmd(&format!("PASS {}", u.password))
}

/// The post-login process of the server's one session, once logged in.
fn post_login_process(server: &Server) -> u32 {
    let helper = wait_child_of(server.pid(), None);
    wait_child_of(helper, None)
}

#[test]
fn a_local_user_logs_in_through_pam_and_lands_in_home() {
    let pam = PamService::unix("vrs-local");
    let b = local_builder("local_home", &pam);
    let u = user_with_home(&b, "vrsl");
    let group = TestGroup::new("vrsg");
    u.usermod(&["-aG", &group.name]);
    let server = b.start();
    let (mut c, g) = server.connect();
    g.assert_code(220);
    login(&mut c, &u).assert_is("230 Login successful.");
    // Not jailed: the whole tree, starting at home.
    c.cmd("PWD").assert_is(&format!(
        "257 \"{}\" is the current directory",
        u.home.display()
    ));
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let t = c.transfer("RETR hello.txt");
    assert_eq!(t.data, format!("hello {}\n", u.name).as_bytes());
    t.end.expect("226").assert_is("226 Transfer complete.");
    // `~` is the login directory.
    c.cmd("CWD /")
        .assert_is("250 Directory successfully changed.");
    c.cmd("SIZE ~/hello.txt").assert_code(213);
    c.cmd("CWD ~")
        .assert_is("250 Directory successfully changed.");
    c.cmd("PWD").assert_is(&format!(
        "257 \"{}\" is the current directory",
        u.home.display()
    ));
    let stat = c.cmd("STAT");
    assert!(
        stat.raw_str().contains(&format!("Logged in as {}", u.name)),
        "{}",
        stat.raw_str()
    );
    // The session runs as the user, with the user's groups, no privilege, in "/".
    let post = post_login_process(&server);
    let uid = u.uid();
    assert_eq!(
        status_field(post, "Uid"),
        format!("{uid}\t{uid}\t{uid}\t{uid}")
    );
    let groups = status_field(post, "Groups");
    assert!(
        groups
            .split_whitespace()
            .any(|g| g == group.gid().to_string()),
        "supplementary group missing: {groups}"
    );
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(status_field(post, cap), "0000000000000000", "{cap}");
    }
    assert_eq!(status_field(post, "NoNewPrivs"), "1");
    assert_eq!(status_field(post, "Seccomp"), "2");
    assert_eq!(root_of(post), PathBuf::from("/"));
    // Another USER after login.
    c.cmd("USER root")
        .assert_is("530 Can't change to another user.");
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

/// tilde_user_enable: `~name` is that user's home, from the root's own /etc/passwd (here the
/// host's: the session is not jailed); off, `~name` is an ordinary name.
#[test]
fn tilde_user_paths() {
    let pam = PamService::unix("vrs-tilde");
    let b = local_builder("local_tilde", &pam);
    let u = user_with_home(&b, "vrst");
    let other = user_with_home(&b, "vrsv");
    for (enabled, reply) in [
        ("YES", "250 Directory successfully changed."),
        ("NO", "550 Failed to change directory."),
    ] {
        let server = local_builder("local_tilde", &pam)
            .set("tilde_user_enable", enabled)
            .start();
        let (mut c, _) = server.connect();
        login(&mut c, &u).assert_is("230 Login successful.");
        c.cmd(&format!("CWD ~{}", other.name)).assert_is(reply);
        if enabled == "YES" {
            c.cmd("PWD").assert_is(&format!(
                "257 \"{}\" is the current directory",
                other.home.display()
            ));
            c.cmd(&format!("SIZE ~{}/hello.txt", u.name))
                .assert_code(213);
            c.cmd("CWD ~nosuchuser")
                .assert_is("550 Failed to change directory.");
        }
    }
    drop(b);
}

#[test]
fn chroot_local_user_jails_the_user_in_home() {
    let pam = PamService::unix("vrs-jail");
    let b = local_builder("local_jail", &pam).set("chroot_local_user", "YES");
    let u = user_with_jail(&b, "vrsj");
    // A symlink out of the jail resolves inside it.
    std::os::unix::fs::symlink("/", u.home.join("escape")).unwrap();
    let server = b.start();
    let (mut c, _) = server.connect();
    login(&mut c, &u).assert_is("230 Login successful.");
    c.cmd("PWD").assert_is("257 \"/\" is the current directory");
    c.cmd("CWD ../../..")
        .assert_is("250 Directory successfully changed.");
    c.cmd("PWD").assert_is("257 \"/\" is the current directory");
    c.cmd("SIZE /etc/passwd")
        .assert_is("550 Could not get file size.");
    c.cmd("SIZE escape/etc/passwd")
        .assert_is("550 Could not get file size.");
    c.cmd("SIZE ../../../../hello.txt").assert_code(213);
    let post = post_login_process(&server);
    assert_eq!(root_of(post), u.home.canonicalize().unwrap());
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

#[test]
fn a_writable_jail_root_is_refused_with_the_ways_out() {
    let pam = PamService::unix("vrs-wjail");
    let b = local_builder("local_wjail", &pam).set("chroot_local_user", "YES");
    // The user owns its home: writable.
    let u = user_with_home(&b, "vrsw");
    let server = b.start();
    let (mut c, _) = server.connect();
    let r = login(&mut c, &u);
    assert_eq!(r.code, 500, "{}", r.raw_str());
    let text = r.text();
    assert!(
        text.starts_with("OOPS: vsftpd: refusing to run with writable root inside chroot()"),
        "{text}"
    );
    assert!(
        text.contains("allow_writeable_chroot=YES") && text.contains("writable subdirectory"),
        "{text}"
    );
    c.assert_closed();
    // allow_writeable_chroot=YES lets it in. (The first server keeps the home alive.)
    let _first = server;
    let server = local_builder("local_wjail_ok", &pam)
        .set("chroot_local_user", "YES")
        .set("allow_writeable_chroot", "YES")
        .start();
    let (mut c, _) = server.connect();
    login(&mut c, &u).assert_is("230 Login successful.");
    c.cmd("PWD").assert_is("257 \"/\" is the current directory");
}

#[test]
fn chroot_list_inverts_per_user() {
    let pam = PamService::unix("vrs-clist");
    let b = local_builder("local_clist", &pam);
    let listed = user_with_jail(&b, "vrsa");
    let other = user_with_jail(&b, "vrsb");
    let list = b.temp().join("chroot_list");
    std::fs::write(&list, format!("{}\n", listed.name)).unwrap();
    for (chroot_local_user, jailed_user, free_user) in
        [("NO", &listed, &other), ("YES", &other, &listed)]
    {
        let server = local_builder("local_clist", &pam)
            .set("chroot_local_user", chroot_local_user)
            .set("chroot_list_enable", "YES")
            .set("chroot_list_file", list.display())
            .start();
        let (mut c, _) = server.connect();
        login(&mut c, jailed_user).assert_is("230 Login successful.");
        c.cmd("PWD").assert_is("257 \"/\" is the current directory");
        c.cmd("QUIT").assert_is("221 Goodbye.");
        let (mut c, _) = server.connect();
        login(&mut c, free_user).assert_is("230 Login successful.");
        c.cmd("PWD").assert_is(&format!(
            "257 \"{}\" is the current directory",
            free_user.home.display()
        ));
    }
}

#[test]
fn passwd_chroot_and_local_root_with_user_sub_token() {
    let pam = PamService::unix("vrs-proot");
    let b = local_builder("local_proot", &pam);
    let base = b.temp().join("jails");
    let u = TestUser::new("vrsp", &base.join("./inner"));
    std::fs::create_dir_all(base.join("inner")).unwrap();
    u.chown(&base.join("inner"));
    std::fs::write(base.join("inner/in.txt"), "inner\n").unwrap();
    let server = b
        .set("chroot_local_user", "YES")
        .set("passwd_chroot_enable", "YES")
        .start();
    let (mut c, _) = server.connect();
    login(&mut c, &u).assert_is("230 Login successful.");
    c.cmd("PWD")
        .assert_is("257 \"/inner\" is the current directory");
    c.cmd("SIZE in.txt").assert_is("213 6");
    let post = post_login_process(&server);
    assert_eq!(root_of(post), base.canonicalize().unwrap());
    drop(c);
    drop(server);

    // local_root with user_sub_token, not jailed.
    let roots = base.join("roots");
    std::fs::create_dir_all(roots.join(&u.name)).unwrap();
    let server = local_builder("local_subtoken", &pam)
        .set("local_root", format!("{}/$USER", roots.display()))
        .set("user_sub_token", "$USER")
        .start();
    let (mut c, _) = server.connect();
    login(&mut c, &u).assert_is("230 Login successful.");
    c.cmd("PWD").assert_is(&format!(
        "257 \"{}/{}\" is the current directory",
        roots.display(),
        u.name
    ));
}

#[test]
fn wrong_passwords_wait_and_end_the_session_at_max_login_fails() {
    let pam = PamService::unix("vrs-fail");
    let b = local_builder("local_fail", &pam)
        .set("delay_failed_login", "1")
        .set("max_login_fails", "2");
    let u = user_with_home(&b, "vrsf");
    let server = b.start();
    let (mut c, _) = server.connect();
    c.cmd("PASS x").assert_is("503 Login with USER first.");
    c.cmd(&format!("USER {}", u.name))
        .assert_is("331 Please specify the password.");
    let t0 = Instant::now();
    c.cmd("PASS wrong").assert_is("530 Login incorrect.");
    assert!(
        t0.elapsed() >= Duration::from_secs(1),
        "delay_failed_login=1 was not waited: {:?}",
        t0.elapsed()
    );
    c.cmd(&format!("USER {}", u.name))
        .assert_is("331 Please specify the password.");
    c.cmd("PASS wrong again").assert_is("530 Login incorrect.");
    c.assert_closed();
    // The right password still works on a new connection.
    let (mut c, _) = server.connect();
    login(&mut c, &u).assert_is("230 Login successful.");
}

#[test]
fn locked_expired_and_listed_accounts_are_refused() {
    let pam = PamService::new(
        "vrs-ftpusers",
        "auth required pam_listfile.so item=user sense=deny file=FTPUSERS onerr=succeed\n\
         auth required pam_unix.so nodelay\naccount required pam_unix.so\n",
    );
    let b = local_builder("local_refused", &pam);
    let ftpusers = b.temp().join("ftpusers");
    let text = std::fs::read_to_string(format!("/etc/pam.d/{}", pam.name)).unwrap();
    std::fs::write(
        format!("/etc/pam.d/{}", pam.name),
        text.replace("FTPUSERS", ftpusers.to_str().unwrap()),
    )
    .unwrap();
    let locked = user_with_home(&b, "vrsk");
    locked.usermod(&["-L"]);
    let expired = user_with_home(&b, "vrse");
    expired.chage(&["-E", "0"]);
    let listed = user_with_home(&b, "vrsn");
    std::fs::write(&ftpusers, format!("root\n{}\n", listed.name)).unwrap();
    let server = b.start();
    let (mut c, _) = server.connect();
    for u in [&locked, &expired, &listed] {
        login(&mut c, u).assert_is("530 Login incorrect.");
        let (c2, _) = server.connect();
        c = c2;
    }
    // root: in ftpusers, whatever its password.
    c.cmd("USER root")
        .assert_is("331 Please specify the password.");
    c.cmd("PASS root").assert_is("530 Login incorrect.");
}

#[test]
fn userlist_refuses_before_the_password() {
    let pam = PamService::unix("vrs-ulist");
    let b = local_builder("local_ulist", &pam).set("anonymous_enable", "YES");
    let listed = user_with_home(&b, "vrsu");
    let other = user_with_home(&b, "vrso");
    let list = b.temp().join("user_list");
    std::fs::write(&list, format!("root\n{}\n", listed.name)).unwrap();
    let server = b
        .set("userlist_enable", "YES")
        .set("userlist_file", list.display())
        .start();
    let (mut c, _) = server.connect();
    c.cmd(&format!("USER {}", listed.name))
        .assert_is("530 Permission denied.");
    c.cmd("USER root").assert_is("530 Permission denied.");
    login(&mut c, &other).assert_is("230 Login successful.");
    drop(c);
    // userlist_deny=NO: only the listed may log in. (The first server keeps the files alive.)
    let _first = server;
    let server = local_builder("local_ulist_allow", &pam)
        .set("userlist_enable", "YES")
        .set("userlist_deny", "NO")
        .set("userlist_file", list.display())
        .start();
    let (mut c, _) = server.connect();
    c.cmd(&format!("USER {}", other.name))
        .assert_is("530 Permission denied.");
    login(&mut c, &listed).assert_is("230 Login successful.");
    drop(c);
    drop(server);
    // A user list that cannot be read: vsftpd's OOPS before the greeting. Start-up checks
    // that it is there (issue #22): it goes after the daemon has started.
    let b = local_builder("local_ulist_missing", &pam);
    let gone = b.dir_path().join("user_list");
    fs::write(&gone, "x\n").unwrap();
    let server = b
        .set("userlist_enable", "YES")
        .set("userlist_file", gone.display())
        .start();
    fs::remove_file(&gone).unwrap();
    let (mut c, g) = server.connect();
    g.assert_is(&format!(
        "500 OOPS: cannot read user list file:{}",
        gone.display()
    ));
    c.assert_closed();
}

#[test]
fn a_missing_home_refuses_the_login_and_keeps_the_connection() {
    let pam = PamService::unix("vrs-nohome");
    let b = local_builder("local_nohome", &pam).set("anonymous_enable", "YES");
    let homeless = TestUser::new("vrsh", &b.temp().join("no-such-home"));
    let closed = user_with_home(&b, "vrsc");
    set_mode(&closed.home, 0o700);
    let owner_only = TestUser::new("vrsd", &closed.home);
    let server = b.start();
    let (mut c, _) = server.connect();
    login(&mut c, &homeless).assert_is("530 Login incorrect.");
    // The session lives on: another user, on the same connection.
    login(&mut c, &closed).assert_is("230 Login successful.");
    drop(c);
    // A home the user cannot enter (another user's 0700 directory).
    let (mut c, _) = server.connect();
    login(&mut c, &owner_only).assert_is("530 Login incorrect.");
    c.cmd("USER anonymous")
        .assert_is("331 Please specify the password.");
    c.cmd("PASS a@b").assert_is("230 Login successful.");
    // The reason is logged, and not as a failed password.
    let log = server.stderr();
    assert!(
        log.contains("cannot be served") && log.contains(&homeless.name),
        "{log}"
    );
}

#[test]
fn anonymous_and_local_logins_side_by_side() {
    let pam = PamService::unix("vrs-both");
    let b = local_builder("local_both", &pam).set("anonymous_enable", "YES");
    std::fs::write(b.tree_path().join("anon.txt"), "anon\n").unwrap();
    let u = user_with_home(&b, "vrsx");
    let server = b.start();
    let mut anon = server.login();
    let (mut local, _) = server.connect();
    login(&mut local, &u).assert_is("230 Login successful.");
    anon.cmd("SIZE anon.txt").assert_is("213 5");
    local.cmd("SIZE hello.txt").assert_code(213);
    anon.cmd("USER x")
        .assert_is("530 Can't change from guest user.");
    // The anonymous name with anonymous_enable=NO is an ordinary (unknown) account.
    drop(server);
    let server = local_builder("local_no_anon", &pam).start();
    let (mut c, _) = server.connect();
    c.cmd("USER anonymous")
        .assert_is("331 Please specify the password.");
    c.cmd("PASS a@b").assert_is("530 Login incorrect.");
}

#[test]
fn hostile_user_names_and_failing_pam_stacks() {
    let deny = PamService::new(
        "vrs-deny",
        "auth requisite pam_deny.so\naccount required pam_unix.so\n",
    );
    let b = local_builder("local_hostile", &deny);
    let u = user_with_home(&b, "vrsy");
    let server = b.start();
    let (mut c, _) = server.connect();
    login(&mut c, &u).assert_is("530 Login incorrect.");
    let (mut c, _) = server.connect();
    let long = "u".repeat(200);
    c.cmd(&format!("USER {long}"))
        .assert_is("530 Login incorrect.");
    c.send_raw(b"USER jo\x01e\r\n").unwrap();
    c.read_reply()
        .unwrap()
        .assert_is("331 Please specify the password.");
    c.cmd("PASS x").assert_is("530 Login incorrect.");
    c.send_raw(b"USER a\xffb\r\n").unwrap();
    c.read_reply()
        .unwrap()
        .assert_is("331 Please specify the password.");
    c.cmd("PASS x").assert_is("530 Login incorrect.");
}

/// PAM sees what vsftpd gives it: PAM_RHOST (the address, or its name with
/// reverse_lookup_enable), PAM_TTY "ftp", PAM_RUSER; pam_exec writes them where we can read.
#[test]
fn pam_items_as_vsftpd_sets_them() {
    let dir = TempDir::new("pam_items");
    let out = dir.join("items");
    let script = dir.join("items.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$PAM_USER|$PAM_RHOST|$PAM_TTY|$PAM_RUSER\" >> {}\n",
            out.display()
        ),
    )
    .unwrap();
    set_mode(&script, 0o755);
    let pam = PamService::new(
        "vrs-items",
        &format!(
            "auth optional pam_exec.so {}\nauth required pam_unix.so nodelay\naccount required pam_unix.so\n",
            script.display()
        ),
    );
    let b = local_builder("local_items", &pam);
    let u = user_with_home(&b, "vrsi");
    for (lookup, host) in [("NO", "127.0.0.1"), ("YES", "localhost")] {
        let _ = std::fs::remove_file(&out);
        let server = local_builder("local_items", &pam)
            .set("reverse_lookup_enable", lookup)
            .start();
        let (mut c, _) = server.connect();
        login(&mut c, &u).assert_is("230 Login successful.");
        let items = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            items.trim(),
            format!("{}|{host}|ftp|{}", u.name, u.name),
            "reverse_lookup_enable={lookup}"
        );
    }
}

/// session_support=YES: a PAM session is opened, and the helper stays root to close it; without
/// it the helper drops to nopriv_user after a local login too.
#[test]
fn session_support_keeps_the_helper_root() {
    let pam = PamService::unix("vrs-sess");
    let b = local_builder("local_sess", &pam);
    let u = user_with_home(&b, "vrss");
    for (support, helper_euid) in [("YES", 0), ("NO", passwd_uid("nobody").unwrap())] {
        let server = local_builder("local_sess", &pam)
            .set("session_support", support)
            .start();
        let (mut c, _) = server.connect();
        login(&mut c, &u).assert_is("230 Login successful.");
        // A data connection: made by the helper, so it is past its drop by then.
        let t = c.transfer("LIST");
        t.end.expect("226").assert_is("226 Directory send OK.");
        let helper = wait_child_of(server.pid(), None);
        let uids = status_field(helper, "Uid");
        let euid: u32 = uids.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(euid, helper_euid, "session_support={support}: {uids}");
        c.cmd("QUIT").assert_is("221 Goodbye.");
    }
}

/// The shipped PAM stack (etc/pam.d/vsftpd, with the system's common-* files) does what
/// vsftpd's does: accounts in ftpusers and accounts without a valid shell (check_shell, done
/// by pam_shells) are refused, everyone else logs in with their password.
#[test]
fn the_shipped_pam_stack_refuses_ftpusers_and_invalid_shells() {
    let dir = TempDir::new("shipped_pam");
    let ftpusers = dir.join("ftpusers");
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/pam.d/vsftpd"),
    )
    .unwrap();
    assert!(shipped.contains("file=/etc/ftpusers"));
    let pam = PamService::new(
        "vrs-shipped",
        &shipped.replace(
            "file=/etc/ftpusers",
            &format!("file={}", ftpusers.display()),
        ),
    );
    let b = local_builder("local_shipped", &pam);
    let ok = user_with_home(&b, "vrsq");
    let listed = user_with_home(&b, "vrsr");
    let no_shell = user_with_home(&b, "vrsz");
    no_shell.usermod(&["-s", "/bin/false-not-a-shell"]);
    std::fs::write(&ftpusers, format!("root\n{}\n", listed.name)).unwrap();
    let server = b.start();
    for (u, reply) in [
        (&listed, "530 Login incorrect."),
        (&no_shell, "530 Login incorrect."),
        (&ok, "230 Login successful."),
    ] {
        let (mut c, _) = server.connect();
        login(&mut c, u).assert_is(reply);
    }
}

/// A home reached through a symlink (not jailed): PWD shows where it leads, as vsftpd's
/// getcwd(); `~` is that directory, and its message, shown at login, is not shown again when
/// the link's name is entered.
#[test]
fn a_home_through_a_symlink_shows_its_real_path() {
    let pam = PamService::unix("vrs-homelink");
    let b = local_builder("local_home_link", &pam).set("dirmessage_enable", "YES");
    let real = b.temp().join("real-home");
    let link = b.temp().join("home-link");
    let u = TestUser::new("vrshl", &link);
    std::fs::create_dir_all(&real).unwrap();
    u.chown(&real);
    set_mode(&real, 0o755);
    std::os::unix::fs::symlink(&real, &link).unwrap();
    std::fs::write(real.join(".message"), "Home.\n").unwrap();
    let server = b.start();
    let (mut c, _) = server.connect();
    c.cmd(&format!("USER {}", u.name))
        .assert_is("331 Please specify the password.");
    let r = c.cmd(&format!("PASS {}", u.password));
    assert_eq!(r.raw_str(), "230-Home.\r\n230 Login successful.\r\n");
    let pwd = format!("257 \"{}\" is the current directory", real.display());
    c.cmd("PWD").assert_is(&pwd);
    let r = c.cmd(&format!("CWD {}", link.display()));
    assert_eq!(r.raw_str(), "250 Directory successfully changed.\r\n");
    c.cmd("PWD").assert_is(&pwd);
    c.cmd("CWD /").assert_code(250);
    c.cmd("CWD ~").assert_code(250);
    c.cmd("PWD").assert_is(&pwd);
}

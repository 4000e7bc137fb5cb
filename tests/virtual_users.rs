//! Issue #9: guest and virtual users from three sources — pam_userdb, pam_pwdfile, and our own
//! virtual_users_file — served as guest_username (uid asserted from /proc), each in its own
//! root under one tree (user_sub_token), with per-user settings (user_config_dir).

mod common;

use std::path::{Path, PathBuf};

use common::accounts::{PamService, TestUser};
use common::*;

/// The account every virtual user runs as, with the template home `<base>/$USER`, and a root-
/// owned tree under `base` with one home per virtual user (root-owned: a jail vsftpd accepts)
/// holding a user-owned `up/` and a file naming its owner.
struct Guests {
    account: TestUser,
    base: PathBuf,
}

impl Guests {
    fn new(dir: &Path, users: &[&str]) -> Guests {
        let base = dir.join("virtual");
        let account = TestUser::new("vrsv", &base.join("$USER"));
        for u in users {
            let home = base.join(u);
            std::fs::create_dir_all(home.join("up")).unwrap();
            account.chown(&home.join("up"));
            std::fs::write(home.join("whoami.txt"), format!("{u}\n")).unwrap();
        }
        Guests { account, base }
    }

    fn builder(&self, name: &str, pam: Option<&PamService>) -> ServerBuilder {
        let mut b = ServerBuilder::new(name)
            .set("local_enable", "YES")
            .set("anonymous_enable", "NO")
            .set("guest_enable", "YES")
            .set("guest_username", &self.account.name)
            .set("user_sub_token", "$USER");
        if let Some(p) = pam {
            b = b.set("pam_service_name", &p.name);
        }
        b
    }
}

#[track_caller]
fn login(c: &mut FtpClient, user: &str, pass: &str) -> Reply {
    c.cmd(&format!("USER {user}"))
        .assert_is("331 Please specify the password.");
    c.cmd(&format!("PASS {pass}"))
}

/// Logs `user` in, checks its root and the process's uid, and reads its whoami.txt.
#[track_caller]
fn assert_guest(server: &Server, g: &Guests, user: &str, pass: &str) -> FtpClient {
    // Helpers of earlier sessions may still be on their way out: this session's is the new one.
    let before = children(server.pid());
    let (mut c, _) = server.connect();
    login(&mut c, user, pass).assert_is("230 Login successful.");
    c.cmd("PWD").assert_is("257 \"/\" is the current directory");
    let (_, data, end) = c.retr("whoami.txt");
    assert_eq!(data, format!("{user}\n").as_bytes());
    end.assert_code(226);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let helper = loop {
        if let Some(h) = children(server.pid())
            .into_iter()
            .find(|p| !before.contains(p))
        {
            break h;
        }
        assert!(std::time::Instant::now() < deadline, "no helper for {user}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let post = wait_child_of(helper, None);
    let uid = g.account.uid();
    assert_eq!(
        status_field(post, "Uid"),
        format!("{uid}\t{uid}\t{uid}\t{uid}")
    );
    assert_eq!(
        root_of(post),
        g.base.join(user).canonicalize().unwrap(),
        "{user}'s root"
    );
    c
}

fn sha512(password: &str) -> String {
    let out = std::process::Command::new("openssl")
        .args(["passwd", "-6", password])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn virtual_users_file_needs_no_restart() {
    let dir = TempDir::new("vusers_file");
    let g = Guests::new(dir.path(), &["alice", "bob"]);
    let file = dir.join("virtual_users");
    let write = |text: String| std::fs::write(&file, text).unwrap();
    write(format!(
        "# virtual users\nalice:{}\n\nnot a line\n",
        sha512("alice-pw")
    ));
    let server = g
        .builder("vusers_file", None)
        .set("local_enable", "NO")
        .set("anonymous_enable", "YES")
        .set("virtual_users_file", file.display())
        .start();
    drop(assert_guest(&server, &g, "alice", "alice-pw"));
    let (mut c, _) = server.connect();
    login(&mut c, "alice", "wrong").assert_is("530 Login incorrect.");
    login(&mut c, "bob", "bob-pw").assert_is("530 Login incorrect.");
    // An edit takes effect at the next login: bob added, alice's password changed.
    write(format!(
        "alice:{}\nbob:{}\n",
        sha512("alice-new"),
        sha512("bob-pw")
    ));
    drop(c);
    let (mut c, _) = server.connect();
    login(&mut c, "alice", "alice-pw").assert_is("530 Login incorrect.");
    drop(c);
    drop(assert_guest(&server, &g, "alice", "alice-new"));
    drop(assert_guest(&server, &g, "bob", "bob-pw"));
    // A line of a megabyte, a NUL byte and an unknown hash scheme are survived, and logged.
    let mut hostile = format!("huge:{}\n", "x".repeat(1 << 20));
    hostile.push_str("nul:$6$ab\0cd\n");
    hostile.push_str("odd:$99$unknown$scheme\n");
    hostile.push_str(&format!("bob:{}\n", sha512("bob-pw")));
    write(hostile);
    let (mut c, _) = server.connect();
    login(&mut c, "odd", "x").assert_is("530 Login incorrect.");
    login(&mut c, "huge", "x").assert_is("530 Login incorrect.");
    drop(c);
    drop(assert_guest(&server, &g, "bob", "bob-pw"));
    let log = server.stderr();
    assert!(log.contains("not a name:hash line; skipped"), "{log}");
    // The anonymous user is still anonymous.
    let c = server.login();
    drop(c);
}

#[test]
fn pam_userdb_guests() {
    let dir = TempDir::new("vusers_userdb");
    let g = Guests::new(dir.path(), &["carol"]);
    let text = dir.join("users.txt");
    std::fs::write(&text, "carol\ncarol-pw\n").unwrap();
    let db = dir.join("users");
    let out = std::process::Command::new("db_load")
        .args(["-T", "-t", "hash", "-f"])
        .arg(&text)
        .arg(db.with_extension("db"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out);
    let pam = PamService::new(
        "vrs-userdb",
        &format!(
            "auth required pam_userdb.so db={0}\naccount required pam_userdb.so db={0}\n",
            db.display()
        ),
    );
    let server = g.builder("vusers_userdb", Some(&pam)).start();
    drop(assert_guest(&server, &g, "carol", "carol-pw"));
    let (mut c, _) = server.connect();
    login(&mut c, "carol", "nope").assert_is("530 Login incorrect.");
}

#[test]
fn pam_pwdfile_guests() {
    let dir = TempDir::new("vusers_pwdfile");
    let g = Guests::new(dir.path(), &["dave"]);
    let pwd = dir.join("passwd");
    std::fs::write(&pwd, format!("dave:{}\n", sha512("dave-pw"))).unwrap();
    let pam = PamService::new(
        "vrs-pwdfile",
        &format!(
            "auth required pam_pwdfile.so pwdfile={}\naccount required pam_permit.so\n",
            pwd.display()
        ),
    );
    let server = g.builder("vusers_pwdfile", Some(&pam)).start();
    drop(assert_guest(&server, &g, "dave", "dave-pw"));
    let (mut c, _) = server.connect();
    login(&mut c, "dave", "nope").assert_is("530 Login incorrect.");
}

/// user_config_dir: one virtual user may write, another not; virtual_use_local_privs decides
/// whose switches apply; a broken per-user file refuses only that login, with a log line.
#[test]
fn per_user_settings() {
    let dir = TempDir::new("vusers_config");
    let g = Guests::new(dir.path(), &["erin", "frank", "gina"]);
    let file = dir.join("virtual_users");
    std::fs::write(
        &file,
        format!(
            "erin:{}\nfrank:{}\ngina:{}\n",
            sha512("e"),
            sha512("f"),
            sha512("g")
        ),
    )
    .unwrap();
    let conf = dir.join("user_conf");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(conf.join("erin"), "write_enable=YES\nlocal_umask=027\n").unwrap();
    std::fs::write(conf.join("gina"), "no_such_option=YES\n").unwrap();
    let server = g
        .builder("vusers_config", None)
        .set("virtual_users_file", file.display())
        .set("virtual_use_local_privs", "YES")
        .set("user_config_dir", conf.display())
        .start();
    let mut c = assert_guest(&server, &g, "erin", "e");
    let (start, end) = c.upload("STOR up/new.txt", b"erin was here");
    start.assert_is("150 Ok to send data.");
    end.unwrap().assert_is("226 Transfer complete.");
    let made = g.base.join("erin/up/new.txt");
    assert_eq!(std::fs::read(&made).unwrap(), b"erin was here");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&made).unwrap().permissions().mode() & 0o777,
        0o640,
        "erin's local_umask"
    );
    drop(c);
    let mut c = assert_guest(&server, &g, "frank", "f");
    let (start, _) = c.upload("STOR up/new.txt", b"frank");
    start.assert_is("550 Permission denied.");
    assert!(!g.base.join("frank/up/new.txt").exists());
    drop(c);
    let (mut c, _) = server.connect();
    login(&mut c, "gina", "g").assert_is("530 Login incorrect.");
    // The session and the server go on.
    drop(assert_guest(&server, &g, "frank", "f"));
    let log = server.stderr();
    assert!(
        log.contains("gina") && log.contains("per-user settings") && log.contains("no_such_option"),
        "{log}"
    );
}

/// Without virtual_use_local_privs a guest has anonymous rights: write_enable alone does not
/// let it upload, anon_upload_enable does, with anon_umask.
#[test]
fn guests_have_anonymous_rights_by_default() {
    let dir = TempDir::new("vusers_anon");
    let g = Guests::new(dir.path(), &["hank"]);
    let file = dir.join("virtual_users");
    std::fs::write(&file, format!("hank:{}\n", sha512("h"))).unwrap();
    let server = g
        .builder("vusers_anon", None)
        .set("virtual_users_file", file.display())
        .set("write_enable", "YES")
        .set("anon_world_readable_only", "NO")
        .start();
    let mut c = assert_guest(&server, &g, "hank", "h");
    let (start, _) = c.upload("STOR up/x", b"x");
    start.assert_is("550 Permission denied.");
    c.cmd("SITE UMASK").assert_is("550 Permission denied.");
    drop(c);
    drop(server);
    let server = g
        .builder("vusers_anon2", None)
        .set("virtual_users_file", file.display())
        .set("write_enable", "YES")
        .set("anon_upload_enable", "YES")
        .set("anon_umask", "022")
        .set("anon_world_readable_only", "NO")
        .start();
    let mut c = assert_guest(&server, &g, "hank", "h");
    let (start, _) = c.upload("STOR up/x", b"x");
    start.assert_is("150 Ok to send data.");
}

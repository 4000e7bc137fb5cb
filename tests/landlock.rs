//! Issue #10, Landlock: after login the session cannot execute a file or make a FIFO or a
//! socket, even where the user's own permissions allow it, and everything an FTP user does —
//! read, upload, rename across directories, delete — works as before. Driven through the
//! debug-only `SITE SELFTEST` hook (src/session/postlogin/selftest.rs), with
//! seccomp_sandbox=NO so that seccomp (which has no execve or mknod either) does not refuse
//! first, against a real user without a jail, who sees the whole file system.
//!
//! These tests need a kernel with Landlock ABI 2 or later (Linux 5.19): on one without, they
//! fail and say so. They must never pass without having tested anything.

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use common::accounts::{PamService, TestUser};
use common::*;
use vsftpd_rs::sys::landlock;

const EACCES: i32 = 13;
const ENOENT: i32 = 2;
const ENOEXEC: i32 = 8;

/// Fails loudly on a kernel without a usable Landlock.
fn require_landlock() {
    let abi = landlock::abi_version();
    assert!(
        abi.is_some_and(|v| v >= landlock::MIN_ABI),
        "this kernel has no usable Landlock (ABI {abi:?}, {} needed): the Landlock tests cannot run here",
        landlock::MIN_ABI
    );
    assert!(
        running_as_root(),
        "the Landlock tests need root (the two-process model and real accounts)"
    );
}

/// A real user, not jailed, whose home (theirs, 0755) holds files the user may execute.
struct Setup {
    _pam: PamService,
    user: TestUser,
    server: Server,
}

impl Setup {
    fn start(name: &str, landlock_enable: &str) -> Setup {
        Setup::start_in(name, landlock_enable, false)
    }

    /// With `jail`, the user is jailed in a home owned by root, with a writable `up/`.
    fn start_in(name: &str, landlock_enable: &str, jail: bool) -> Setup {
        require_landlock();
        let pam = PamService::unix("vrs-ll");
        let b = ServerBuilder::new(name);
        let empty = b.temp().mkdir("empty");
        let b = b
            .set("run_as_launching_user", "NO")
            .set("nopriv_user", "nobody")
            .set("ftp_username", test_account())
            .set("secure_chroot_dir", empty.display())
            .set("seccomp_sandbox", "NO")
            .set("landlock_enable", landlock_enable)
            .set("local_enable", "YES")
            .set("anonymous_enable", "NO")
            .set("pam_service_name", &pam.name)
            .set("write_enable", "YES")
            .set("local_umask", "022")
            .set("chroot_local_user", if jail { "YES" } else { "NO" });
        let home = b.temp().join("home");
        let user = TestUser::new("vrsll", &home);
        if jail {
            std::fs::create_dir_all(home.join("up")).unwrap();
            set_mode(&home, 0o755);
            user.chown(&home.join("up"));
        } else {
            user.make_home(0o755);
        }
        let put = |rel: &str, text: &str, mode: u32| {
            let p = home.join(rel);
            std::fs::write(&p, text).unwrap();
            user.chown(&p);
            set_mode(&p, mode);
        };
        put("hello.txt", "hello\n", 0o644);
        // Executable by everyone, but no program: once the kernel's checks let the exec
        // through, it fails with ENOEXEC and the session lives on.
        put("notaprogram", "this is not a program\n", 0o755);
        put("script.sh", "#!/bin/sh\necho ran > ran.txt\n", 0o755);
        let server = b.start();
        Setup {
            _pam: pam,
            user,
            server,
        }
    }

    fn login(&self) -> FtpClient {
        let (mut c, _) = self.server.connect();
        c.cmd(&format!("USER {}", self.user.name))
            .assert_is("331 Please specify the password.");
        c.cmd(&format!("PASS {}", self.user.password))
            .assert_is("230 Login successful.");
        c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
        c
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.user.home.join(rel)
    }

    /// The post-login process of the one session (the pre-login process has gone).
    fn post_login_process(&self) -> u32 {
        let helper = wait_child_of(self.server.pid(), None);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let kids = children(helper);
            if let [one] = kids.as_slice() {
                if status_field(*one, "Uid").starts_with(&self.user.uid().to_string()) {
                    return *one;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no post-login process under {helper}: {kids:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// `SITE SELFTEST …`, answered `200 errno=N`: N.
#[track_caller]
fn selftest(c: &mut FtpClient, what: &str) -> i32 {
    let r = c.cmd(&format!("SITE SELFTEST {what}"));
    assert_eq!(
        r.code,
        200,
        "SITE SELFTEST {what}: {} (the hook exists only in debug builds: run the tests without --release)",
        r.raw_str()
    );
    r.text()
        .strip_prefix("errno=")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("SITE SELFTEST {what}: {}", r.raw_str()))
}

#[track_caller]
fn assert_uploaded(r: (Reply, Option<Reply>)) {
    r.0.assert_is("150 Ok to send data.");
    r.1.expect("a final reply")
        .assert_is("226 Transfer complete.");
}

fn is_fifo(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_fifo())
}

fn is_socket(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_socket())
}

/// What /proc shows of a post-login process: everything but Landlock, which it does not show.
fn proc_view(pid: u32) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        "Uid",
        "Gid",
        "Groups",
        "CapInh",
        "CapPrm",
        "CapEff",
        "CapBnd",
        "CapAmb",
        "NoNewPrivs",
        "Seccomp",
    ]
    .iter()
    .map(|k| (k.to_string(), status_field(pid, k)))
    .collect();
    v.push(("root".into(), root_of(pid).display().to_string()));
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    for name in ["Max processes", "Max core file size", "Max open files"] {
        let line = limits.lines().find(|l| l.starts_with(name)).unwrap();
        v.push((
            name.into(),
            line.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
    }
    v
}

#[test]
fn exec_and_special_files_are_refused_where_permissions_allow_them() {
    let s = Setup::start("landlock_on", "YES");
    // The start-up note is for kernels without Landlock only.
    assert!(
        !s.server.stderr().contains("Landlock"),
        "{}",
        s.server.stderr()
    );
    let mut c = s.login();
    let home = s.user.home.display().to_string();
    // Files the user may execute (0755), and a system program anyone may run.
    assert_eq!(selftest(&mut c, "EXEC notaprogram"), EACCES);
    assert_eq!(selftest(&mut c, "EXEC script.sh"), EACCES);
    assert_eq!(selftest(&mut c, &format!("EXEC {home}/script.sh")), EACCES);
    assert_eq!(selftest(&mut c, "EXEC /bin/sh"), EACCES);
    assert!(!s.path("ran.txt").exists());
    // Nodes in a directory the user may write to.
    assert_eq!(selftest(&mut c, "MKNOD FIFO fifo"), EACCES);
    assert_eq!(selftest(&mut c, "MKNOD SOCK sock"), EACCES);
    assert!(!s.path("fifo").exists() && !s.path("sock").exists());
    assert_eq!(selftest(&mut c, "EXEC nosuchfile"), ENOENT);
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

#[test]
fn without_landlock_the_same_attempts_get_past_the_permission_checks() {
    let s = Setup::start("landlock_off", "NO");
    assert!(
        !s.server.stderr().contains("Landlock"),
        "{}",
        s.server.stderr()
    );
    let mut c = s.login();
    // Allowed by the kernel, then no program (ENOEXEC), or a script whose interpreter
    // cannot reach the close-on-exec handle it was started from (ENOENT): never EACCES.
    assert_eq!(selftest(&mut c, "EXEC notaprogram"), ENOEXEC);
    assert_eq!(selftest(&mut c, "EXEC script.sh"), ENOENT);
    assert_eq!(selftest(&mut c, "MKNOD FIFO fifo"), 0);
    assert_eq!(selftest(&mut c, "MKNOD SOCK sock"), 0);
    assert!(is_fifo(&s.path("fifo")), "no FIFO made");
    assert!(is_socket(&s.path("sock")), "no socket node made");
    // Owned by the user, 0644 less the umask: made by the session, as the user.
    let meta = std::fs::metadata(s.path("fifo")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), s.user.uid());
    // Still the user, not root: what Unix permissions refuse stays refused.
    assert_eq!(selftest(&mut c, "MKNOD FIFO /fifo"), EACCES);
    assert_eq!(selftest(&mut c, "EXEC hello.txt"), EACCES);
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

/// Everything an FTP user does still works under Landlock, renames across directories
/// included (Landlock refuses those unless the ruleset gives them back).
#[test]
fn reads_and_writes_work_as_before() {
    let s = Setup::start("landlock_rw", "YES");
    let mut c = s.login();
    let (start, data, end) = c.retr("hello.txt");
    start.assert_code(150);
    assert_eq!(data, b"hello\n");
    end.assert_is("226 Transfer complete.");
    assert_uploaded(c.upload("STOR up.txt", b"uploaded"));
    assert_uploaded(c.upload("APPE up.txt", b"+more"));
    assert_eq!(std::fs::read(s.path("up.txt")).unwrap(), b"uploaded+more");
    c.cmd("MKD sub").assert_code(257);
    c.cmd("RNFR up.txt").assert_code(350);
    c.cmd("RNTO sub/moved.txt")
        .assert_is("250 Rename successful.");
    c.cmd("RNFR sub/moved.txt").assert_code(350);
    c.cmd("RNTO back.txt").assert_is("250 Rename successful.");
    c.cmd("RNFR sub").assert_code(350);
    c.cmd("RNTO sub2").assert_is("250 Rename successful.");
    assert_eq!(std::fs::read(s.path("back.txt")).unwrap(), b"uploaded+more");
    c.cmd("SITE CHMOD 600 back.txt").assert_code(200);
    assert_eq!(
        std::fs::metadata(s.path("back.txt"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let listing = String::from_utf8(c.list("")).unwrap();
    assert!(
        listing.contains("back.txt") && listing.contains("sub2"),
        "{listing}"
    );
    c.cmd("DELE back.txt")
        .assert_is("250 Delete operation successful.");
    c.cmd("RMD sub2")
        .assert_is("250 Remove directory operation successful.");
    // The one thing a rename loses: it counts as making what it moves, so an existing FIFO
    // (made here by root) cannot be renamed; it can still be deleted.
    let made = std::process::Command::new("mkfifo")
        .arg(s.path("pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    s.user.chown(&s.path("pipe"));
    c.cmd("RNFR pipe").assert_code(350);
    c.cmd("RNTO pipe2").assert_is("550 Rename failed.");
    c.cmd("DELE pipe")
        .assert_is("250 Delete operation successful.");
    // Outside the home, as Unix permissions say.
    c.cmd("SIZE /etc/passwd").assert_code(213);
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

/// Landlock changes nothing that /proc shows: ids, groups, capabilities, no_new_privs, seccomp,
/// root and limits are the same with and without it.
#[test]
fn nothing_else_changes() {
    let views: Vec<Vec<(String, String)>> = ["YES", "NO"]
        .iter()
        .map(|on| {
            let s = Setup::start(&format!("landlock_proc_{on}"), on);
            let mut c = s.login();
            let pid = s.post_login_process();
            let uid = s.user.uid();
            let mut view = proc_view(pid);
            // Each run has its own user: compare the uids as "the user".
            for (k, v) in view.iter_mut() {
                if k == "Uid" {
                    *v = v.replace(&uid.to_string(), "UID");
                }
            }
            c.cmd("QUIT").assert_is("221 Goodbye.");
            view
        })
        .collect();
    assert_eq!(views[0], views[1]);
    let get = |k: &str| {
        views[0]
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("Uid"), "UID\tUID\tUID\tUID");
    assert_eq!(get("CapEff"), "0000000000000000");
    assert_eq!(get("NoNewPrivs"), "1");
    assert_eq!(get("Seccomp"), "0");
    assert_eq!(get("root"), "/");
}

/// In a jail too: the rule that gives renames back covers the whole jail, and nothing in it
/// can be executed.
#[test]
fn a_jailed_user_renames_across_directories_and_executes_nothing() {
    let s = Setup::start_in("landlock_jail", "YES", true);
    let mut c = s.login();
    c.cmd("PWD").assert_is("257 \"/\" is the current directory");
    assert_uploaded(c.upload("STOR up/a.txt", b"jailed"));
    c.cmd("MKD up/d").assert_code(257);
    c.cmd("RNFR up/a.txt").assert_code(350);
    c.cmd("RNTO up/d/a.txt").assert_is("250 Rename successful.");
    c.cmd("RNFR up/d").assert_code(350);
    c.cmd("RNTO up/e").assert_is("250 Rename successful.");
    assert_eq!(std::fs::read(s.path("up/e/a.txt")).unwrap(), b"jailed");
    assert_eq!(selftest(&mut c, "EXEC /notaprogram"), EACCES);
    assert_eq!(selftest(&mut c, "MKNOD FIFO up/fifo"), EACCES);
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

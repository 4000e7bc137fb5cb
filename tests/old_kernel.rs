//! The sandbox issue, item 3: every supported kernel serves correctly, RHEL 8's 4.18 too, which
//! has neither openat2 nor Landlock. Debug builds simulate such a kernel when started with
//! VSFTPD_RS_SIMULATE_OLD_KERNEL=1 (src/main.rs: a seccomp filter makes openat2 and the
//! Landlock calls fail with ENOSYS); sessions then resolve every path with the confined walk of
//! src/sys/fs.rs, which must keep them beneath the root as openat2 does, in the one-process
//! model too, where no chroot backs it up. scripts/test runs the whole session suites under the
//! simulation as well; these tests check that it is really in force, and the escapes.

mod common;

use std::path::Path;

use common::*;

const SIMULATE: &str = "VSFTPD_RS_SIMULATE_OLD_KERNEL";
const NO_OPENAT2: &str = "vsftpd: note: this kernel has no openat2; paths are resolved beneath each session's root by a confined walk";
/// The tree's own etc/passwd: what every escape must find instead of the host's.
const INSIDE: &str = "inside:x:1:1:the tree's own passwd\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    /// run_as_launching_user=YES: no chroot, no uid switch; the walk alone confines.
    One,
    /// The two-process model with chroot and the seccomp sandbox (as root only).
    Two,
}

/// The models this run can test: both as root, the one-process model otherwise.
fn models() -> Vec<Model> {
    if common::procs::running_as_root() {
        vec![Model::One, Model::Two]
    } else {
        vec![Model::One]
    }
}

/// The simulation is compiled into debug builds only (as is this test binary, then).
fn simulated() -> bool {
    if !cfg!(debug_assertions) {
        eprintln!("release build: no old-kernel simulation to test");
    }
    cfg!(debug_assertions)
}

/// A tree with links out of it every way: to `/`, up past the root, to /etc and /etc/passwd
/// (absolute), each of which resolves beneath the root to the tree's own etc/passwd.
fn builder(name: &str, model: Model) -> ServerBuilder {
    let b = ServerBuilder::new(name)
        .env(SIMULATE, "1")
        .file("hello.txt", "hello world")
        .dir("pub")
        .file("pub/readme.txt", "read me\n")
        .file("etc/passwd", INSIDE)
        .symlink("escape", "/")
        .symlink("escape-up", "../../../../../../../../..")
        .symlink("etc-link", "/etc")
        .symlink("passwd-link", "/etc/passwd")
        .symlink("pub/up", "../../../../../../..");
    match model {
        Model::Two => b.set("run_as_launching_user", "NO"),
        Model::One => b
            .set("run_as_launching_user", "YES")
            .unset("nopriv_user")
            .unset("ftp_username")
            .unset("secure_chroot_dir")
            .unset("seccomp_sandbox"),
    }
}

fn pwd_is(c: &mut FtpClient, dir: &str) {
    c.cmd("PWD")
        .assert_is(&format!("257 \"{dir}\" is the current directory"));
}

fn names(data: &[u8]) -> Vec<String> {
    let mut v: Vec<String> = crlf_lines(data)
        .into_iter()
        .map(|l| l.rsplit('/').next().unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn simulation_takes_openat2_away() {
    if !simulated() {
        return;
    }
    for model in models() {
        let server = builder(&format!("old_kernel_note_{model:?}"), model).start();
        let stderr = server.stderr();
        assert_eq!(
            stderr.matches(NO_OPENAT2).count(),
            1,
            "{model:?}: the start-up note, once:\n{stderr}"
        );
        // Sessions serve: they inherit the filter, and the listener's decision.
        let mut c = server.login();
        let (_, data, end) = c.retr("hello.txt");
        assert_eq!(data, b"hello world");
        end.assert_code(226);
        assert_eq!(
            names(&c.nlst("")),
            [
                "escape",
                "escape-up",
                "etc",
                "etc-link",
                "hello.txt",
                "passwd-link",
                "pub"
            ]
        );
        c.cmd("QUIT").assert_code(221);
        assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    }
    // Without the variable the daemon says nothing of the kind.
    let server = builder("old_kernel_none", Model::One)
        .env(SIMULATE, "0")
        .start();
    assert!(!server.stderr().contains("note:"), "{}", server.stderr());
}

#[test]
fn symlink_escapes_stay_inside() {
    if !simulated() {
        return;
    }
    for model in models() {
        let server = builder(&format!("old_kernel_escape_{model:?}"), model).start();
        let mut c = server.login();
        for path in [
            "escape/etc/passwd",
            "escape-up/etc/passwd",
            "/escape/escape/etc/passwd",
            "etc-link/passwd",
            "passwd-link",
            "pub/up/etc/passwd",
            "pub/up/escape-up/../etc/passwd",
            "../../etc/passwd",
        ] {
            let (_, data, end) = c.retr(path);
            assert_no_host_passwd(&data, &format!("{model:?} RETR {path}"));
            assert_eq!(
                String::from_utf8_lossy(&data),
                INSIDE,
                "{model:?} RETR {path}"
            );
            end.assert_code(226);
            c.cmd(&format!("SIZE {path}"))
                .assert_is(&format!("213 {}", INSIDE.len()));
        }
        // A directory reached through a link out is the root again, and PWD says so (the
        // real path, as vsftpd's getcwd() inside its chroot).
        let root_names = names(&c.nlst(""));
        for dir in ["escape", "escape-up", "pub/up", "escape/pub/up/escape"] {
            c.cmd(&format!("CWD /{dir}"))
                .assert_is("250 Directory successfully changed.");
            pwd_is(&mut c, "/");
            let listing = c.list("");
            assert!(
                String::from_utf8_lossy(&listing).contains("hello.txt"),
                "{model:?} LIST in /{dir}"
            );
            assert_eq!(names(&c.nlst("")), root_names, "{model:?} NLST in /{dir}");
            let (_, data, _) = c.retr("etc/passwd");
            assert_eq!(String::from_utf8_lossy(&data), INSIDE);
        }
        c.cmd("CWD /etc-link")
            .assert_is("250 Directory successfully changed.");
        assert_eq!(names(&c.nlst("")), ["passwd"], "{model:?}");
        c.cmd("CWD /").assert_code(250);
        assert_eq!(names(&c.nlst("escape/etc")), ["passwd"], "{model:?}");
        // A loop fails as the kernel would (ELOOP), and the session goes on.
        let _ = std::os::unix::fs::symlink("loop", server.tree_path().join("loop"));
        c.cmd("CWD loop")
            .assert_is("550 Failed to change directory.");
        c.cmd("SIZE loop").assert_is("550 Could not get file size.");
        pwd_is(&mut c, "/");
        c.cmd("QUIT").assert_code(221);
        assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    }
}

/// Anonymous uploads through dangling links: one to a name beneath the root creates it
/// there, one to a directory outside (which exists on the host) fails, and nothing appears
/// outside.
#[test]
fn uploads_through_links_stay_inside() {
    if !simulated() {
        return;
    }
    for model in models() {
        let b = builder(&format!("old_kernel_upload_{model:?}"), model);
        let outside = b.temp().mkdir("outside");
        let incoming = b.tree_path().join("incoming");
        std::fs::create_dir(&incoming).unwrap();
        let account = match model {
            Model::One => "root".to_string(),
            Model::Two => test_account().to_string(),
        };
        let out = std::process::Command::new("chown")
            .arg(&account)
            .arg(&incoming)
            .output()
            .unwrap();
        assert!(out.status.success());
        let out_target = format!("{}/created", outside.display());
        std::os::unix::fs::symlink(&out_target, incoming.join("out")).unwrap();
        std::os::unix::fs::symlink("/incoming/made", incoming.join("in")).unwrap();
        std::os::unix::fs::symlink("../../../../../../incoming/made-up", incoming.join("up"))
            .unwrap();
        let server = b
            .set("write_enable", "YES")
            .set("anon_upload_enable", "YES")
            .set("anon_umask", "022")
            // Else an anonymous STOR creates exclusively (O_EXCL), which never follows a link.
            .set("anon_other_write_enable", "YES")
            .start();
        let mut c = server.login();
        c.cmd("TYPE I").assert_code(200);
        let (start, end) = c.upload("STOR incoming/out", b"escaped");
        start.assert_code(553);
        assert!(end.is_none());
        for (link, made) in [("in", "made"), ("up", "made-up")] {
            let (start, end) = c.upload(&format!("STOR incoming/{link}"), b"kept inside");
            start.assert_code(150);
            end.expect("a final reply").assert_code(226);
            assert_eq!(
                std::fs::read(incoming.join(made)).unwrap(),
                b"kept inside",
                "{model:?} {link}"
            );
        }
        assert!(!Path::new(&out_target).exists(), "{model:?}");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        c.cmd("QUIT").assert_code(221);
        assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    }
}

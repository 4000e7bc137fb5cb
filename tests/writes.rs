//! Issue #8: the write commands on the wire and on disk, with our raw client: every reply is
//! vsftpd's text, and every test looks at the disk afterwards. (Real clients, full file systems
//! and STOU storms are tests/writes_clients.rs.)

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::accounts::{PamService, TestUser};
use common::*;

/// A local user with write_enable, jailed in a root-owned home with a writable `up/`.
struct Writer {
    _pam: PamService,
    user: TestUser,
    server: Server,
}

impl Writer {
    fn start(name: &str, extra: &[(&str, &str)]) -> Writer {
        let pam = PamService::unix("vrs-write");
        let mut b = ServerBuilder::new(name)
            .set("local_enable", "YES")
            .set("anonymous_enable", "NO")
            .set("pam_service_name", &pam.name)
            .set("write_enable", "YES")
            .set("chroot_local_user", "YES")
            .set("local_umask", "022");
        let home = b.temp().join("home");
        let user = TestUser::new("vrsw", &home);
        std::fs::create_dir_all(home.join("up")).unwrap();
        user.chown(&home.join("up"));
        std::fs::write(home.join("readonly.txt"), "root's\n").unwrap();
        for (k, v) in extra {
            b = b.set(k, v);
        }
        let server = b.start();
        Writer {
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
}

#[track_caller]
fn assert_uploaded(r: (Reply, Option<Reply>)) {
    r.0.assert_is("150 Ok to send data.");
    r.1.expect("a final reply")
        .assert_is("226 Transfer complete.");
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn stor_appe_and_rest_stor() {
    let w = Writer::start("write_stor", &[]);
    let mut c = w.login();
    assert_uploaded(c.upload("STOR up/a.txt", b"hello world"));
    assert_eq!(std::fs::read(w.path("up/a.txt")).unwrap(), b"hello world");
    // STOR again replaces the whole file.
    assert_uploaded(c.upload("STOR up/a.txt", b"new"));
    assert_eq!(std::fs::read(w.path("up/a.txt")).unwrap(), b"new");
    // APPE joins.
    assert_uploaded(c.upload("APPE up/a.txt", b"+more"));
    assert_eq!(std::fs::read(w.path("up/a.txt")).unwrap(), b"new+more");
    // REST+STOR resumes at the offset and the file ends where the new data ends.
    assert_uploaded(c.upload("STOR up/b.txt", b"0123456789abcdef"));
    c.cmd("REST 4")
        .assert_is("350 Restart position accepted (4).");
    assert_uploaded(c.upload("STOR up/b.txt", b"XY"));
    assert_eq!(std::fs::read(w.path("up/b.txt")).unwrap(), b"0123XY");
    // Unlike a download, an upload may resume in ASCII mode (vsftpd).
    c.cmd("TYPE A").assert_is("200 Switching to ASCII mode.");
    c.cmd("REST 2").assert_code(350);
    assert_uploaded(c.upload("STOR up/b.txt", b"ab"));
    assert_eq!(std::fs::read(w.path("up/b.txt")).unwrap(), b"01ab");
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    // Owners and modes: the user's, local_umask 022.
    let meta = std::fs::metadata(w.path("up/a.txt")).unwrap();
    assert_eq!(meta.uid(), w.user.uid());
    assert_eq!(mode(&w.path("up/a.txt")), 0o644);
}

#[test]
fn stou_names_are_unique() {
    let w = Writer::start("write_stou", &[]);
    let mut c = w.login();
    c.cmd("CWD up")
        .assert_is("250 Directory successfully changed.");
    let (start, end) = c.upload("STOU name", b"1");
    start.assert_is("150 FILE: name");
    end.unwrap().assert_is("226 Transfer complete.");
    let (start, _) = c.upload("STOU name", b"2");
    start.assert_is("150 FILE: name.1");
    // Without a name vsftpd always numbers: STOU.1, STOU.2 …
    let (start, _) = c.upload("STOU", b"3");
    start.assert_is("150 FILE: STOU.1");
    assert_eq!(std::fs::read(w.path("up/name")).unwrap(), b"1");
    assert_eq!(std::fs::read(w.path("up/name.1")).unwrap(), b"2");
    assert_eq!(std::fs::read(w.path("up/STOU.1")).unwrap(), b"3");
}

#[test]
fn directories_renames_and_deletes() {
    let w = Writer::start("write_dirs", &[]);
    let mut c = w.login();
    c.cmd("MKD up/d").assert_is("257 \"/up/d\" created");
    c.cmd("CWD up")
        .assert_is("250 Directory successfully changed.");
    // The path is resolved, not cleaned up: a missing `e` fails it, as vsftpd's mkdir().
    c.cmd("MKD e/../f")
        .assert_is("550 Create directory operation failed.");
    c.cmd("MKD d/../f").assert_is("257 \"/up/d/../f\" created");
    assert!(w.path("up/d").is_dir());
    assert_eq!(mode(&w.path("up/d")), 0o755);
    c.cmd("MKD ..")
        .assert_is("550 Create directory operation failed.");
    c.cmd("MKD d")
        .assert_is("550 Create directory operation failed.");
    assert_uploaded(c.upload("STOR d/x", b"x"));
    c.cmd("RMD d")
        .assert_is("550 Remove directory operation failed.");
    c.cmd("RNFR nothing").assert_is("550 RNFR command failed.");
    c.cmd("RNTO y").assert_is("503 RNFR required first.");
    c.cmd("RNFR").assert_is("550 RNFR command failed.");
    // The name holds until RNTO, across other commands (vsftpd).
    c.cmd("RNFR d/x").assert_is("350 Ready for RNTO.");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    c.cmd("RNTO y").assert_is("250 Rename successful.");
    c.cmd("RNTO z").assert_is("503 RNFR required first.");
    // No name is never the working directory.
    c.cmd("RMD")
        .assert_is("550 Remove directory operation failed.");
    assert!(w.path("up/y").is_file() && !w.path("up/d/x").exists());
    // Out of the jail: ".." stops at its root, so the file lands inside it.
    c.cmd("RNFR y").assert_is("350 Ready for RNTO.");
    c.cmd("RNTO ../../../../y2").assert_is("550 Rename failed.");
    assert!(w.path("up/y").is_file());
    c.cmd("DELE d").assert_is("550 Delete operation failed.");
    c.cmd("DELE y")
        .assert_is("250 Delete operation successful.");
    c.cmd("DELE y").assert_is("550 Delete operation failed.");
    // Empty now (its file was renamed away).
    c.cmd("RMD d")
        .assert_is("250 Remove directory operation successful.");
    c.cmd("DELE d/nothing")
        .assert_is("550 Delete operation failed.");
    c.cmd("RMD f")
        .assert_is("250 Remove directory operation successful.");
    // APPE to a directory, STOR over a file the user may not write.
    c.cmd("MKD d").assert_is("257 \"/up/d\" created");
    let (start, _) = c.upload("APPE d", b"x");
    start.assert_is("553 Could not create file.");
    c.cmd("CWD /")
        .assert_is("250 Directory successfully changed.");
    let (start, _) = c.upload("STOR readonly.txt", b"x");
    start.assert_is("553 Could not create file.");
    assert_eq!(std::fs::read(w.path("readonly.txt")).unwrap(), b"root's\n");
}

#[test]
fn site_chmod_umask_mdtm_and_mfmt() {
    let w = Writer::start("write_site", &[]);
    let mut c = w.login();
    assert_uploaded(c.upload("STOR up/f", b"f"));
    c.cmd("SITE CHMOD 600 up/f")
        .assert_is("200 SITE CHMOD command ok.");
    assert_eq!(mode(&w.path("up/f")), 0o600);
    for bad in [
        "SITE CHMOD 9 up/f",
        "SITE CHMOD abc up/f",
        "SITE CHMOD 12345 up/f",
    ] {
        c.cmd(bad).assert_is("550 SITE CHMOD command failed.");
    }
    assert_eq!(mode(&w.path("up/f")), 0o600, "a bad mode changed nothing");
    c.cmd("SITE CHMOD 600")
        .assert_is("500 SITE CHMOD needs 2 arguments.");
    c.cmd("SITE CHMOD 644 up/missing")
        .assert_is("550 SITE CHMOD command failed.");
    c.cmd("SITE UMASK")
        .assert_is("200 Your current UMASK is 022");
    c.cmd("SITE UMASK 077").assert_is("200 UMASK set to 077");
    assert_uploaded(c.upload("STOR up/g", b"g"));
    assert_eq!(mode(&w.path("up/g")), 0o600);
    c.cmd("SITE HELP").assert_is("214 CHMOD UMASK HELP");
    c.cmd("MDTM 20200102030405 up/g")
        .assert_is("213 File modification time set.");
    let mtime = std::fs::metadata(w.path("up/g")).unwrap().mtime();
    assert_eq!(mtime, 1_577_934_245);
    c.cmd("MDTM up/g").assert_is("213 20200102030405");
    c.cmd("MFMT 20210304050607 up/g")
        .assert_is("213 Modify=20210304050607; up/g");
    assert_eq!(
        std::fs::metadata(w.path("up/g")).unwrap().mtime(),
        1_614_834_367
    );
    c.cmd("MFMT 2021 up/g")
        .assert_is("501 Bad MFMT syntax: MFMT YYYYMMDDHHMMSS path.");
    c.cmd("MFMT 20211304050607 up/g")
        .assert_is("501 Bad MFMT syntax: MFMT YYYYMMDDHHMMSS path.");
    c.cmd("MFMT 20210304050607 up/none")
        .assert_is("550 Could not set file modification time.");
    // Times are set on files only.
    c.cmd("MDTM 20200102030405 up")
        .assert_is("550 Could not set file modification time.");
}

#[test]
fn write_enable_no_and_command_lists() {
    let w = Writer::start("write_off", &[("write_enable", "NO")]);
    let mut c = w.login();
    for cmd in [
        "MKD up/x",
        "DELE readonly.txt",
        "RNFR readonly.txt",
        "RMD up",
    ] {
        c.cmd(cmd).assert_is("550 Permission denied.");
    }
    let (start, _) = c.upload("STOR up/x", b"x");
    start.assert_is("550 Permission denied.");
    c.cmd("SITE HELP").assert_is("214 UMASK HELP");
    c.cmd("SITE CHMOD 600 readonly.txt")
        .assert_is("500 Unknown SITE command.");
    assert_eq!(std::fs::read_dir(w.path("up")).unwrap().count(), 0);
    drop(c);
    drop(w);
    let w = Writer::start(
        "write_cmds",
        &[("cmds_denied", "DELE,XMKD"), ("cmds_allowed", "")],
    );
    let mut c = w.login();
    assert_uploaded(c.upload("STOR up/x", b"x"));
    c.cmd("DELE up/x").assert_is("550 Permission denied.");
    c.cmd("XMKD up/y").assert_is("550 Permission denied.");
    c.cmd("MKD up/y").assert_is("257 \"/up/y\" created");
    assert!(w.path("up/x").exists());
}

#[test]
fn ascii_uploads_and_failed_uploads() {
    let w = Writer::start(
        "write_ascii",
        &[
            ("ascii_upload_enable", "YES"),
            ("delete_failed_uploads", "YES"),
        ],
    );
    let mut c = w.login();
    c.cmd("TYPE A").assert_is("200 Switching to ASCII mode.");
    assert_uploaded(c.upload("STOR up/t", b"a\r\nb\rc\r\n"));
    assert_eq!(std::fs::read(w.path("up/t")).unwrap(), b"a\nb\rc\n");
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    assert_uploaded(c.upload("STOR up/u", b"a\r\n"));
    assert_eq!(std::fs::read(w.path("up/u")).unwrap(), b"a\r\n");
}

#[test]
fn upload_file_and_download_file_patterns() {
    let w = Writer::start(
        "write_patterns",
        &[("upload_file", "*.txt"), ("download_file", "*.txt")],
    );
    let mut c = w.login();
    assert_uploaded(c.upload("STOR up/ok.txt", b"x"));
    let (start, _) = c.upload("STOR up/no.bin", b"x");
    start.assert_is("550 Permission denied.");
    assert!(!w.path("up/no.bin").exists());
    std::fs::write(w.path("up/secret.bin"), "s").unwrap();
    let t = c.transfer("RETR up/secret.bin");
    t.start.assert_is("550 Permission denied.");
    let t = c.transfer("RETR up/ok.txt");
    assert_eq!(t.data, b"x");
}

/// Anonymous writes: each switch opens exactly its commands; chown_uploads gives the upload to
/// chown_username with chown_upload_mode, through the privileged helper.
#[test]
fn anonymous_write_switches_and_chown_uploads() {
    let owner = TestUser::new("vrsc", Path::new("/nonexistent"));
    let b = ServerBuilder::new("write_anon");
    let incoming = b.tree_path().join("incoming");
    std::fs::create_dir(&incoming).unwrap();
    let account = if one_process_model() {
        "root".to_string()
    } else {
        test_account().to_string()
    };
    let out = std::process::Command::new("chown")
        .arg(&account)
        .arg(&incoming)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(incoming.join("keep.txt"), "keep").unwrap();
    let server = b
        .set("write_enable", "YES")
        .set("anon_upload_enable", "YES")
        .set("anon_umask", "022")
        .set("chown_uploads", "YES")
        .set("chown_username", &owner.name)
        .set("chown_upload_mode", "0640")
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    assert_uploaded(c.upload("STOR incoming/up.bin", b"data"));
    let meta = std::fs::metadata(incoming.join("up.bin")).unwrap();
    assert_eq!(meta.uid(), owner.uid(), "chown_uploads gave the file away");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
    for cmd in [
        "MKD incoming/d",
        "DELE incoming/keep.txt",
        "RNFR incoming/keep.txt",
        "RMD incoming",
        "SITE CHMOD 777 incoming/keep.txt",
        "SITE UMASK 000",
        "MFMT 20200101000000 incoming/keep.txt",
    ] {
        c.cmd(cmd).assert_is("550 Permission denied.");
    }
    let (start, _) = c.upload("APPE incoming/keep.txt", b"x");
    start.assert_is("550 Permission denied.");
    assert_eq!(std::fs::read(incoming.join("keep.txt")).unwrap(), b"keep");
    assert!(!incoming.join("d").exists());
}

//! Issue #8 ("Writes") through real clients and real file systems: Python's ftplib, curl, lftp
//! and rclone upload, append and resume; a full tmpfs and a small loop-mounted ext4 fail
//! uploads cleanly; a client that vanishes mid-upload leaves nothing behind; a STOU storm gets
//! distinct names; the anonymous write switches open exactly their commands; and the owners and
//! modes of what uploads create are the configured ones. Every test looks at the disk, not only
//! at the replies. (The raw-client tests of each write command are tests/writes.rs.)
//!
//! These run as root in the two-process model: real accounts, PAM, mounts, the privileged
//! helper (chown_uploads).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, UNIX_EPOCH};

use common::accounts::{PamService, TestUser};
use common::*;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// A mounted file system (tmpfs or a loop-mounted image), unmounted on Drop.
struct Mount {
    dir: PathBuf,
    mounted: bool,
}

impl Mount {
    /// `mount -t tmpfs -o size=SIZE,mode=0755 tmpfs DIR`.
    #[track_caller]
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        fs::create_dir_all(dir).unwrap();
        let o = run(Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir));
        assert!(o.status.success(), "mount tmpfs: {}", describe(&o));
        Mount {
            dir: dir.to_path_buf(),
            mounted: true,
        }
    }

    /// A fresh ext4 image of `size` (`truncate`, `mkfs.ext4 -q -m 0`) loop-mounted on `dir`;
    /// Err with the reason when this machine cannot (no mkfs.ext4, no loop devices).
    fn ext4_image(image: &Path, size: &str, dir: &Path) -> Result<Mount, String> {
        fs::create_dir_all(dir).unwrap();
        let steps: [(&str, Vec<&std::ffi::OsStr>); 3] = [
            (
                "truncate",
                vec!["-s".as_ref(), size.as_ref(), image.as_os_str()],
            ),
            (
                "mkfs.ext4",
                vec![
                    "-q".as_ref(),
                    "-F".as_ref(),
                    "-m".as_ref(),
                    "0".as_ref(),
                    image.as_os_str(),
                ],
            ),
            (
                "mount",
                vec![
                    "-o".as_ref(),
                    "loop".as_ref(),
                    image.as_os_str(),
                    dir.as_os_str(),
                ],
            ),
        ];
        for (prog, args) in steps {
            let o = Command::new(prog)
                .args(args)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("{prog}: {e}"))?;
            if !o.status.success() {
                return Err(format!("{prog} failed: {}", describe(&o)));
            }
        }
        Ok(Mount {
            dir: dir.to_path_buf(),
            mounted: true,
        })
    }

    /// Unmounts now (lazily when busy); true when it was unmounted without help.
    fn unmount(&mut self) -> bool {
        if !self.mounted {
            return true;
        }
        self.mounted = false;
        let ok = Command::new("umount")
            .arg(&self.dir)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
        }
        ok
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        self.unmount();
    }
}

/// Runs a short command (mount, chown, stat …) with a time limit.
#[track_caller]
fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null());
    run_with_timeout(cmd, Duration::from_secs(30))
}

/// `chown OWNER PATH…` (OWNER as chown takes it: `name`, `name:group`).
#[track_caller]
fn chown(owner: &str, paths: &[&Path]) {
    let o = run(Command::new("chown").arg(owner).args(paths));
    assert!(o.status.success(), "chown {owner}: {}", describe(&o));
}

/// A local user with write_enable (local_umask 022), jailed in a root-owned home whose `up/`
/// the user owns: the server is built, then (for the tests that need one) a file system is
/// mounted on `up/`, then it starts. The home is in a directory of its own, so that whatever
/// happens to the server's tree, the mounts go first.
struct LocalBuilder {
    mounts: Vec<Mount>,
    b: ServerBuilder,
    /// Holds `home/` (and any file system image).
    dir: TempDir,
    user: TestUser,
    pam: PamService,
}

impl LocalBuilder {
    fn new(name: &str) -> LocalBuilder {
        let pam = PamService::unix("vrs-wc");
        let b = ServerBuilder::new(name)
            .set("local_enable", "YES")
            .set("anonymous_enable", "NO")
            .set("pam_service_name", &pam.name)
            .set("write_enable", "YES")
            .set("chroot_local_user", "YES")
            .set("local_umask", "022");
        let dir = TempDir::new(&format!("{name}-home"));
        let home = dir.join("home");
        let user = TestUser::new("vwc", &home);
        fs::create_dir_all(home.join("up")).unwrap();
        set_mode(&home, 0o755);
        user.chown(&home.join("up"));
        LocalBuilder {
            mounts: Vec::new(),
            b,
            dir,
            user,
            pam,
        }
    }

    fn set(mut self, key: &str, value: impl ToString) -> Self {
        self.b = self.b.set(key, value);
        self
    }

    /// The user's writable directory on the host.
    fn up(&self) -> PathBuf {
        self.user.home.join("up")
    }

    /// Mounts `m` on `up/` (already done by the caller) and gives its root to the user.
    fn mounted(mut self, m: Mount) -> Self {
        self.user.chown(&m.dir);
        self.mounts.push(m);
        self
    }

    fn start(self) -> Local {
        let LocalBuilder {
            mounts,
            b,
            dir,
            user,
            pam,
        } = self;
        let mut local = Local {
            mounts,
            server: None,
            _dir: dir,
            user,
            _pam: pam,
        };
        local.server = Some(b.start());
        local
    }
}

/// A running server for a local user. Drop stops the server, then unmounts, then removes the
/// trees, then the account.
struct Local {
    mounts: Vec<Mount>,
    server: Option<Server>,
    _dir: TempDir,
    user: TestUser,
    _pam: PamService,
}

impl Local {
    fn server(&self) -> &Server {
        self.server.as_ref().expect("started")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.user.home.join(rel)
    }

    /// Logs in with our raw client (TYPE I).
    #[track_caller]
    fn login(&self) -> FtpClient {
        let (mut c, g) = self.server().connect();
        g.assert_code(220);
        c.cmd(&format!("USER {}", self.user.name))
            .assert_is("331 Please specify the password.");
        c.cmd(&format!("PASS {}", self.user.password))
            .assert_is("230 Login successful.");
        c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
        c
    }

    /// `ftp://user:password@127.0.0.1:PORT/rel`.
    fn url(&self, rel: &str) -> String {
        format!(
            "ftp://{}:{}@127.0.0.1:{}/{rel}",
            self.user.name,
            self.user.password,
            self.server().port()
        )
    }

    /// The session processes running now (the listener's descendants).
    fn sessions(&self) -> BTreeSet<u32> {
        session_pids(self.server())
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Some(s) = self.server.as_mut() {
            s.kill();
        }
        for m in &mut self.mounts {
            m.unmount();
        }
    }
}

fn session_pids(server: &Server) -> BTreeSet<u32> {
    descendants(server.pid()).iter().map(|p| p.pid).collect()
}

/// Waits until every session process not in `keep` has exited.
#[track_caller]
fn wait_sessions_gone(server: &Server, keep: &BTreeSet<u32>) {
    let mut left = BTreeSet::new();
    let ok = wait_until(Duration::from_secs(15), || {
        left = session_pids(server);
        left.is_subset(keep)
    });
    assert!(
        ok,
        "session processes still running: {left:?} (kept: {keep:?})"
    );
}

/// The account anonymous sessions write as: ftp_username in the two-process model.
fn anon_account() -> String {
    if one_process_model() {
        "root".to_string()
    } else {
        test_account().to_string()
    }
}

/// An anonymous server (write_enable=YES, no anon_* switch yet) whose root-owned tree holds
/// `incoming/` (owned by the anonymous account) with `keep.txt`, `old.txt` and an empty `sub/`,
/// all the account's.
fn anon_builder(name: &str) -> ServerBuilder {
    let b = ServerBuilder::new(name)
        .set("write_enable", "YES")
        .file("incoming/keep.txt", "keep")
        .file("incoming/old.txt", "old")
        .dir("incoming/sub")
        .file("readme.txt", "root's");
    let incoming = b.tree_path().join("incoming");
    chown(
        &anon_account(),
        &[
            &incoming,
            &incoming.join("keep.txt"),
            &incoming.join("old.txt"),
            &incoming.join("sub"),
        ],
    );
    b
}

/// The local files of a client (sources, downloads); removed on Drop.
fn client_dir(name: &str) -> TempDir {
    TempDir::new(&format!("{name}-client"))
}

// ---------------------------------------------------------------------------------------------
// Disk helpers
// ---------------------------------------------------------------------------------------------

/// What a write can change about one path.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    dir: bool,
    size: u64,
    mode: u32,
    uid: u32,
    mtime_ns: i128,
}

/// Every path under `root` (root itself as "."), with its kind, size, mode, owner and mtime.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    fn walk(root: &Path, p: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
        let md = fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let rel = p.strip_prefix(root).unwrap();
        let rel = if rel.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            rel.to_path_buf()
        };
        out.insert(
            rel,
            Entry {
                dir: md.is_dir(),
                size: if md.is_dir() { 0 } else { md.len() },
                mode: md.mode() & 0o7777,
                uid: md.uid(),
                mtime_ns: i128::from(md.mtime()) * 1_000_000_000 + i128::from(md.mtime_nsec()),
            },
        );
        if md.is_dir() {
            for e in fs::read_dir(p).unwrap() {
                walk(root, &e.unwrap().path(), out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A tree as relative path → contents (None for a directory).
fn tree_contents(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, p: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for e in fs::read_dir(p).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn mode_of(p: &Path) -> u32 {
    fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn uid_of(p: &Path) -> u32 {
    fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .uid()
}

fn mtime_of(p: &Path) -> i64 {
    fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .mtime()
}

/// Fails unless the file at `p` holds exactly `want`.
#[track_caller]
fn assert_file(p: &Path, want: &[u8]) {
    let got = fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert_eq!(got.len(), want.len(), "{}: wrong size", p.display());
    assert!(got == want, "{}: the contents differ", p.display());
}

#[track_caller]
fn assert_ok(o: &Output, what: &str) {
    assert!(o.status.success(), "{what} failed: {}", describe(o));
}

/// Writes `data` to `p` with the given mtime (seconds since the epoch).
fn write_with_mtime(p: &Path, data: &[u8], mtime: i64) {
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(p, data).unwrap();
    let f = fs::File::options().write(true).open(p).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime as u64))
        .unwrap();
}

/// `statfs` of `dir` through stat(1): (available bytes to an unprivileged user).
fn available_bytes(dir: &Path) -> u64 {
    let o = run(Command::new("stat").args(["-f", "-c", "%a %S"]).arg(dir));
    assert_ok(&o, "stat -f");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let v: Vec<u64> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    v[0] * v[1]
}

/// An upload that tolerates the server dropping the data connection early (a full disk): the
/// first reply, the final one, and whether all of `data` could be written.
#[track_caller]
fn upload_until_refused(c: &mut FtpClient, cmd: &str, data: &[u8]) -> (Reply, Option<Reply>, bool) {
    let mut conn = c.open_data();
    let start = c.cmd(cmd);
    if !start.is_preliminary() {
        return (start, None, false);
    }
    let all = conn.write_all(data).is_ok();
    drop(conn);
    let end = c
        .read_reply()
        .unwrap_or_else(|e| panic!("{cmd}: no final reply: {e}"));
    (start, Some(end), all)
}

#[track_caller]
fn assert_uploaded(r: (Reply, Option<Reply>)) {
    r.0.assert_is("150 Ok to send data.");
    r.1.expect("a final reply")
        .assert_is("226 Transfer complete.");
}

/// Local users need real accounts and the two-process model.
fn two_process_model_or_skip(test: &str) -> bool {
    if one_process_model() {
        eprintln!("{test}: skipped: local users and the helper need the two-process model (root)");
        return false;
    }
    true
}

// ---------------------------------------------------------------------------------------------
// 1. Python's ftplib: 50 MB up and down again
// ---------------------------------------------------------------------------------------------

#[test]
fn ftplib_uploads_and_downloads_50_mb_intact() {
    if !two_process_model_or_skip("ftplib_50mb") {
        return;
    }
    const SIZE: usize = 50 * 1024 * 1024;
    let w = LocalBuilder::new("wc_ftplib").start();
    let client = client_dir("wc_ftplib");
    let original = pattern_bytes(SIZE);
    let src = client.write("big.bin", &original);
    let down = client.join("down.bin");
    let on_disk = w.path("up/big.bin");
    let script = format!(
        "import ftplib, hashlib, io\n\
         def sha(p):\n    h = hashlib.sha256()\n    f = open(p, 'rb')\n    \
         for b in iter(lambda: f.read(1 << 20), b''): h.update(b)\n    return h.hexdigest()\n\
         ftp = ftplib.FTP()\n\
         ftp.connect('127.0.0.1', {port}, timeout=30)\n\
         ftp.login({user:?}, {pw:?})\n\
         with open({src:?}, 'rb') as f:\n    print('STOR', ftp.storbinary('STOR up/big.bin', f, blocksize=65536))\n\
         print('SIZE', ftp.size('up/big.bin'))\n\
         with open({down:?}, 'wb') as f:\n    print('RETR', ftp.retrbinary('RETR up/big.bin', f.write, blocksize=65536))\n\
         with open({src:?}, 'rb') as f:\n    print('STOR-HEAD', ftp.storbinary('STOR up/cut.bin', f, blocksize=65536))\n\
         print('REST-STOR', ftp.storbinary('STOR up/cut.bin', io.BytesIO(b'resumed tail'), rest=1000))\n\
         print('QUIT', ftp.quit())\n\
         print('SHA-SRC', sha({src:?}))\n\
         print('SHA-DISK', sha({disk:?}))\n\
         print('SHA-DOWN', sha({down:?}))\n",
        port = w.server().port(),
        user = w.user.name,
        pw = w.user.password,
        src = src.to_str().unwrap(),
        down = down.to_str().unwrap(),
        disk = on_disk.to_str().unwrap(),
    );
    let o = python(&script);
    assert_ok(&o, "python ftplib");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let get = |key: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            .to_string()
    };
    assert_eq!(get("STOR"), "226 Transfer complete.", "{text}");
    assert_eq!(get("SIZE"), SIZE.to_string(), "{text}");
    assert_eq!(get("RETR"), "226 Transfer complete.", "{text}");
    assert_eq!(get("QUIT"), "221 Goodbye.", "{text}");
    let sha = get("SHA-SRC");
    assert_eq!(sha.len(), 64, "{text}");
    assert_eq!(get("SHA-DISK"), sha, "the file on disk differs");
    assert_eq!(get("SHA-DOWN"), sha, "the download differs");
    // ftplib's storbinary(rest=…) onto a longer file: REST+STOR ends the file where the new
    // data ends.
    assert_eq!(get("STOR-HEAD"), "226 Transfer complete.", "{text}");
    assert_eq!(get("REST-STOR"), "226 Transfer complete.", "{text}");
    assert_file(
        &w.path("up/cut.bin"),
        &[&original[..1000], b"resumed tail"].concat(),
    );
    // And byte for byte, independently of Python.
    assert_file(&on_disk, &original);
    assert_file(&down, &original);
    assert_eq!(uid_of(&on_disk), w.user.uid());
    assert_eq!(mode_of(&on_disk), 0o644);
}

// ---------------------------------------------------------------------------------------------
// 2. curl: -T uploads, -a appends, -C - resumes
// ---------------------------------------------------------------------------------------------

#[test]
fn curl_uploads_appends_and_resumes() {
    if !two_process_model_or_skip("curl_uploads") {
        return;
    }
    let w = LocalBuilder::new("wc_curl").start();
    let client = client_dir("wc_curl");
    let a = pattern_bytes(300_001);
    let b: Vec<u8> = b"appended tail\n".repeat(1000);
    let a_src = client.write("a.bin", &a);
    let b_src = client.write("b.bin", &b);

    // -T: STOR.
    let o = curl(&["-T", a_src.to_str().unwrap(), &w.url("up/a.bin")]);
    assert_ok(&o, "curl -T");
    assert_file(&w.path("up/a.bin"), &a);

    // -a -T: APPE joins.
    let o = curl(&["-a", "-T", b_src.to_str().unwrap(), &w.url("up/a.bin")]);
    assert_ok(&o, "curl -a -T");
    let joined = [a.clone(), b.clone()].concat();
    assert_file(&w.path("up/a.bin"), &joined);

    // -T again replaces the whole (longer) file.
    let o = curl(&["-T", b_src.to_str().unwrap(), &w.url("up/a.bin")]);
    assert_ok(&o, "curl -T over a longer file");
    assert_file(&w.path("up/a.bin"), &b);

    // -C -: the first half is there, the resume sends the rest.
    let full = pattern_bytes(2 * 1024 * 1024 + 3);
    let half_src = client.write("half.bin", &full[..full.len() / 2]);
    let full_src = client.write("full.bin", &full);
    let o = curl(&["-T", half_src.to_str().unwrap(), &w.url("up/r.bin")]);
    assert_ok(&o, "curl -T (first half)");
    assert_file(&w.path("up/r.bin"), &full[..full.len() / 2]);
    let o = curl(&[
        "-v",
        "-C",
        "-",
        "-T",
        full_src.to_str().unwrap(),
        &w.url("up/r.bin"),
    ]);
    assert_ok(&o, "curl -C - -T");
    let trace = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        trace.contains("> SIZE r.bin"),
        "curl asked for the size to resume from:\n{trace}"
    );
    // (curl resumes an upload with APPE of the rest; lftp's REST+STOR is below.)
    assert!(trace.contains("> APPE r.bin"), "{trace}");
    assert_file(&w.path("up/r.bin"), &full);
}

/// A real interruption: curl uploads from a pipe, is killed once the server has written the
/// first megabyte, and `-C -` then completes the file.
#[test]
fn curl_resumes_an_interrupted_upload() {
    if !two_process_model_or_skip("curl_interrupted") {
        return;
    }
    const FIRST: usize = 1024 * 1024;
    let w = LocalBuilder::new("wc_curl_int").start();
    let client = client_dir("wc_curl_int");
    let full = pattern_bytes(3 * FIRST + 11);
    let full_src = client.write("full.bin", &full);
    let target = w.path("up/i.bin");
    let before = w.sessions();
    let mut child = Command::new("curl")
        .args([
            "-q",
            "-sS",
            "--max-time",
            "30",
            "-T",
            "-",
            &w.url("up/i.bin"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning curl");
    // Kept open until curl is killed: curl must not see the end of its input.
    let mut stdin = child.stdin.take().unwrap();
    let mut curl_proc = ProcessGuard::new(child, false);
    stdin.write_all(&full[..FIRST]).unwrap();
    let arrived = wait_until(Duration::from_secs(15), || {
        fs::metadata(&target).map(|m| m.len()).unwrap_or(0) >= FIRST as u64
    });
    assert!(arrived, "the first megabyte did not reach the disk");
    curl_proc.kill();
    drop(stdin);
    wait_sessions_gone(w.server(), &before);
    // The interrupted upload kept what arrived (the data connection just ended).
    assert_file(&target, &full[..FIRST]);
    let o = curl(&[
        "-C",
        "-",
        "-T",
        full_src.to_str().unwrap(),
        &w.url("up/i.bin"),
    ]);
    assert_ok(&o, "curl -C - -T after an interruption");
    assert_file(&target, &full);
}

// ---------------------------------------------------------------------------------------------
// 3. lftp: mirror -R, put -c
// ---------------------------------------------------------------------------------------------

#[test]
fn lftp_mirror_reverse_and_put_continue() {
    if !two_process_model_or_skip("lftp_mirror_reverse") {
        return;
    }
    let w = LocalBuilder::new("wc_lftp").start();
    let client = client_dir("wc_lftp");
    let src = client.mkdir("src");
    // Times in the past and modes other than the umask's, so that preserving them shows.
    let files: [(&str, Vec<u8>, i64, u32); 4] = [
        ("a.txt", b"alpha\n".to_vec(), 1_500_000_001, 0o600),
        ("sub/b.bin", pattern_bytes(300_000), 1_500_100_002, 0o644),
        (
            "sub/deeper/c.txt",
            b"gamma\n".to_vec(),
            1_500_200_003,
            0o640,
        ),
        ("sub/deeper/empty.txt", Vec::new(), 1_500_300_004, 0o644),
    ];
    for (rel, data, mtime, mode) in &files {
        write_with_mtime(&src.join(rel), data, *mtime);
        set_mode(&src.join(rel), *mode);
    }
    client.mkdir("src/emptydir");
    set_mode(&src.join("sub/deeper"), 0o700);
    let open = format!(
        "open -u {},{} -p {} 127.0.0.1",
        w.user.name,
        w.user.password,
        w.server().port()
    );
    // ftp:use-mdtm-overloaded: lftp sets times with vsftpd's MDTM set form (mdtm_write);
    // modes it sets with SITE CHMOD.
    let o = lftp(&format!(
        "{open}; set ftp:use-mdtm-overloaded yes; mirror -R {} up/tree",
        src.display()
    ));
    assert_ok(&o, "lftp mirror -R");
    let tree = w.path("up/tree");
    assert_eq!(
        tree_contents(&tree),
        tree_contents(&src),
        "the mirrored tree differs from the source"
    );
    // Everything in it is the user's, with the source's mode; files have the source's time.
    let (got, want) = (snapshot(&tree), snapshot(&src));
    for (rel, e) in &got {
        assert_eq!(e.uid, w.user.uid(), "{}", rel.display());
        if rel.as_os_str() != "." {
            assert_eq!(e.mode, want[rel].mode, "{}: mode", rel.display());
        }
    }
    for (rel, _, mtime, _) in &files {
        assert_eq!(
            mtime_of(&tree.join(rel)),
            *mtime,
            "{rel}: the time lftp set"
        );
    }

    // put -c: the first part is there; lftp continues with REST and STOR.
    let full = pattern_bytes(1024 * 1024 + 5);
    client.write("part.bin", &full[..400_000]);
    client.write("full.bin", &full);
    let log = client.join("lftp-debug.log");
    let o = lftp(&format!(
        "{open}; put {} -o up/p.bin; debug -o {} 10; put -c {} -o up/p.bin",
        client.join("part.bin").display(),
        log.display(),
        client.join("full.bin").display()
    ));
    assert_ok(&o, "lftp put -c");
    assert_file(&w.path("up/p.bin"), &full);
    let trace = fs::read_to_string(&log).unwrap_or_default();
    assert!(
        trace.contains("---> REST 400000") && trace.contains("---> STOR up/p.bin"),
        "lftp resumed with REST 400000 and STOR:\n{trace}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. rclone: copy, lsf, check; times set with MDTM
// ---------------------------------------------------------------------------------------------

/// `rclone --config /dev/null ARGS` with short timeouts and its cache in `home`.
#[track_caller]
fn rclone(home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("rclone");
    cmd.args([
        "--config",
        "/dev/null",
        "--contimeout",
        "5s",
        "--timeout",
        "20s",
    ])
    .args(["--retries", "1", "--low-level-retries", "1"])
    .args(args)
    .env("HOME", home)
    .env("XDG_CACHE_HOME", home.join("cache"))
    .env("XDG_CONFIG_HOME", home.join("config"))
    .stdin(Stdio::null());
    run_with_timeout(&mut cmd, Duration::from_secs(90))
}

#[test]
fn rclone_copies_a_tree_and_sets_times() {
    if !two_process_model_or_skip("rclone_copy") {
        return;
    }
    let w = LocalBuilder::new("wc_rclone").start();
    let client = client_dir("wc_rclone");
    let home = client.mkdir("home");
    let src = client.mkdir("src");
    // Times in the past, distinct per file, so that "set" and "not set" differ.
    let files: [(&str, Vec<u8>, i64); 4] = [
        ("one.txt", b"one\n".to_vec(), 1_600_000_001),
        ("two.bin", pattern_bytes(200_000), 1_600_100_002),
        ("dir/three.txt", b"three\n".to_vec(), 1_600_200_003),
        ("dir/sub/four.bin", pattern_bytes(70_000), 1_600_300_004),
    ];
    for (rel, data, mtime) in &files {
        write_with_mtime(&src.join(rel), data, *mtime);
    }
    let o = rclone(&home, &["obscure", &w.user.password]);
    assert_ok(&o, "rclone obscure");
    let obscured = String::from_utf8_lossy(&o.stdout).trim().to_string();
    // writing_mdtm: rclone sets times with vsftpd's MDTM set form (mdtm_write).
    let remote = format!(
        ":ftp,host=127.0.0.1,port={},user={},pass={obscured},writing_mdtm=true:up/rc",
        w.server().port(),
        w.user.name
    );
    let o = rclone(&home, &["copy", src.to_str().unwrap(), &remote]);
    assert_ok(&o, "rclone copy");
    // On disk: the same tree, and each file's time is its source's.
    assert_eq!(tree_contents(&w.path("up/rc")), tree_contents(&src));
    for (rel, _, mtime) in &files {
        let p = w.path(&format!("up/rc/{rel}"));
        assert_eq!(mtime_of(&p), *mtime, "{rel}: the time rclone set");
        assert_eq!(uid_of(&p), w.user.uid(), "{rel}");
    }
    // rclone sees the same through its listing (MLSD) …
    let o = rclone(
        &home,
        &["lsf", "-R", "--files-only", "--format", "pst", &remote],
    );
    assert_ok(&o, "rclone lsf");
    let listed: BTreeSet<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let expected: BTreeSet<String> = files
        .iter()
        .map(|(rel, data, mtime)| {
            let (y, mo, d, h, mi, s) = civil(*mtime);
            format!(
                "{rel};{};{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}",
                data.len()
            )
        })
        .collect();
    assert_eq!(listed, expected, "rclone lsf (in UTC)");
    // … and check compares every byte.
    let o = rclone(
        &home,
        &["check", "--download", src.to_str().unwrap(), &remote],
    );
    assert_ok(&o, "rclone check --download");
    // A second copy finds nothing to do: sizes and times match.
    let o = rclone(&home, &["copy", "-v", src.to_str().unwrap(), &remote]);
    assert_ok(&o, "rclone copy again");
    let log = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        !log.contains("Copied"),
        "the second copy transferred again:\n{log}"
    );
}

/// (year, month, day, hour, minute, second) in UTC.
fn civil(t: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    (y, m, d, s / 3600, s / 60 % 60, s % 60)
}

// ---------------------------------------------------------------------------------------------
// 5. A full tmpfs
// ---------------------------------------------------------------------------------------------

#[test]
fn a_full_tmpfs_fails_the_upload_with_451() {
    if !two_process_model_or_skip("full_tmpfs") {
        return;
    }
    const LIMIT: u64 = 1024 * 1024;
    let data = pattern_bytes(2 * 1024 * 1024);
    for delete in ["YES", "NO"] {
        let lb = LocalBuilder::new("wc_tmpfs").set("delete_failed_uploads", delete);
        let m = Mount::tmpfs(&lb.up(), "1m");
        let w = lb.mounted(m).start();
        let mut c = w.login();
        let (start, end, _) = upload_until_refused(&mut c, "STOR up/big.bin", &data);
        start.assert_is("150 Ok to send data.");
        end.expect("a final reply")
            .assert_is("451 Failure writing to local file.");
        let target = w.path("up/big.bin");
        if delete == "YES" {
            assert!(
                !target.exists(),
                "delete_failed_uploads=YES left the partial file"
            );
        } else {
            let got = fs::read(&target).expect("delete_failed_uploads=NO keeps the partial file");
            assert!(
                !got.is_empty() && got.len() as u64 <= LIMIT,
                "partial file of {} bytes on a 1 MiB file system",
                got.len()
            );
            assert!(
                got == data[..got.len()],
                "the partial file is not the start of what was sent"
            );
            c.cmd("DELE up/big.bin")
                .assert_is("250 Delete operation successful.");
        }
        // The session goes on, and the space is free again.
        c.cmd("NOOP").assert_is("200 NOOP ok.");
        let small = pattern_bytes(512 * 1024);
        assert_uploaded(c.upload("STOR up/small.bin", &small));
        assert_file(&w.path("up/small.bin"), &small);
        c.cmd("QUIT").assert_is("221 Goodbye.");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. A quota-like limit: a small loop-mounted ext4
// ---------------------------------------------------------------------------------------------

#[test]
fn a_small_ext4_file_system_limits_uploads_and_stays_clean() {
    if !two_process_model_or_skip("loop_ext4") {
        return;
    }
    let lb = LocalBuilder::new("wc_ext4").set("delete_failed_uploads", "YES");
    let image = lb.dir.join("fs.img");
    let m = match Mount::ext4_image(&image, "8M", &lb.up()) {
        Ok(m) => m,
        Err(why) => {
            eprintln!(
                "a_small_ext4_file_system_limits_uploads_and_stays_clean: SKIPPED: this \
                 machine cannot loop-mount a file system image: {why}"
            );
            return;
        }
    };
    let mut w = lb.mounted(m).start();
    let _ = fs::remove_dir(w.path("up/lost+found"));
    let avail = available_bytes(&w.path("up"));
    assert!(avail > 1024 * 1024, "only {avail} bytes free on the image");
    let a = pattern_bytes((avail / 2) as usize);
    let b: Vec<u8> = pattern_bytes((avail * 3 / 4) as usize)
        .into_iter()
        .map(|x| x ^ 0x5a)
        .collect();
    let mut c = w.login();
    // Half the space: fits.
    assert_uploaded(c.upload("STOR up/a.bin", &a));
    assert_file(&w.path("up/a.bin"), &a);
    // Three quarters on top: does not; nothing of it stays, a.bin is untouched.
    let (start, end, _) = upload_until_refused(&mut c, "STOR up/b.bin", &b);
    start.assert_is("150 Ok to send data.");
    end.expect("a final reply")
        .assert_is("451 Failure writing to local file.");
    assert!(!w.path("up/b.bin").exists(), "the failed upload stayed");
    assert_file(&w.path("up/a.bin"), &a);
    // Room made: now it fits.
    c.cmd("DELE up/a.bin")
        .assert_is("250 Delete operation successful.");
    assert_uploaded(c.upload("STOR up/b.bin", &b));
    assert_file(&w.path("up/b.bin"), &b);
    c.cmd("QUIT").assert_is("221 Goodbye.");
    // The file system is consistent afterwards.
    if let Some(s) = w.server.as_mut() {
        s.kill();
    }
    assert!(w.mounts[0].unmount(), "the image was still busy");
    let o = run(Command::new("e2fsck").args(["-f", "-n"]).arg(&image));
    assert_ok(&o, "e2fsck -f -n");
}

// ---------------------------------------------------------------------------------------------
// 7. A client that vanishes mid-upload
// ---------------------------------------------------------------------------------------------

/// Python: logs in, STORs `remote`, sends the first `n` bytes of `src`, waits until they are
/// on disk at `disk`, then resets the data and the control connection (SO_LINGER 0).
fn vanishing_client(w: &Local, remote: &str, src: &Path, n: usize, disk: &Path) -> Output {
    let script = format!(
        "import os, re, socket, struct, time\n\
         c = socket.create_connection(('127.0.0.1', {port}), timeout=10)\n\
         f = c.makefile('rb')\n\
         def reply():\n    line = f.readline().decode()\n    \
         if line[3:4] == '-':\n        \
         while not f.readline().decode().startswith(line[:3] + ' '): pass\n    \
         return line.strip()\n\
         def cmd(s):\n    c.sendall((s + '\\r\\n').encode())\n    return reply()\n\
         print(reply())\n\
         print(cmd('USER {user}'))\n\
         print(cmd('PASS {pw}'))\n\
         print(cmd('TYPE I'))\n\
         r = cmd('PASV')\n\
         h = re.search(r'\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)', r).groups()\n\
         d = socket.create_connection(('.'.join(h[:4]), int(h[4]) * 256 + int(h[5])), timeout=10)\n\
         print(cmd('STOR {remote}'))\n\
         d.sendall(open({src:?}, 'rb').read()[:{n}])\n\
         deadline = time.time() + 15\n\
         while (os.path.getsize({disk:?}) if os.path.exists({disk:?}) else 0) < {n}:\n    \
         assert time.time() < deadline, 'the data never reached the disk'\n    \
         time.sleep(0.01)\n\
         print('ON DISK', os.path.getsize({disk:?}))\n\
         rst = struct.pack('ii', 1, 0)\n\
         d.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, rst)\n\
         d.close()\n\
         c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, rst)\n\
         c.close()\n\
         print('VANISHED')\n",
        port = w.server().port(),
        user = w.user.name,
        pw = w.user.password,
        src = src.to_str().unwrap(),
        disk = disk.to_str().unwrap(),
    );
    python(&script)
}

#[test]
fn a_client_vanishing_mid_upload_leaves_nothing_with_delete_failed_uploads() {
    if !two_process_model_or_skip("vanishing_client") {
        return;
    }
    const SENT: usize = 600_000;
    let client = client_dir("wc_vanish");
    let data = pattern_bytes(2 * 1024 * 1024);
    let src = client.write("src.bin", &data);
    for delete in ["YES", "NO"] {
        let w = LocalBuilder::new("wc_vanish")
            .set("delete_failed_uploads", delete)
            .start();
        // A bystander, logged in before and busy after.
        let mut other = w.login();
        assert_uploaded(other.upload("STOR up/other.bin", b"before"));
        let before = w.sessions();
        let target = w.path("up/vanish.bin");
        let o = vanishing_client(&w, "up/vanish.bin", &src, SENT, &target);
        assert_ok(&o, "the vanishing client");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(text.contains("150 Ok to send data."), "{text}");
        assert!(text.contains(&format!("ON DISK {SENT}")), "{text}");
        // Its session ends; only then is the outcome final.
        wait_sessions_gone(w.server(), &before);
        if delete == "YES" {
            assert!(
                !target.exists(),
                "delete_failed_uploads=YES: the partial upload stayed ({} bytes)",
                fs::metadata(&target).map(|m| m.len()).unwrap_or(0)
            );
        } else {
            assert_file(&target, &data[..SENT]);
        }
        // The server keeps serving: the bystander and a new session.
        assert_uploaded(other.upload("STOR up/other.bin", b"after"));
        assert_file(&w.path("up/other.bin"), b"after");
        let mut fresh = w.login();
        let (_, got, end) = fresh.retr("up/other.bin");
        assert_eq!(got, b"after");
        end.assert_is("226 Transfer complete.");
        other.cmd("QUIT").assert_is("221 Goodbye.");
        fresh.cmd("QUIT").assert_is("221 Goodbye.");
    }
}

// ---------------------------------------------------------------------------------------------
// 8. A STOU storm
// ---------------------------------------------------------------------------------------------

#[test]
fn thirty_concurrent_stou_get_thirty_distinct_files() {
    const CLIENTS: usize = 30;
    let b = anon_builder("wc_stou").set("anon_upload_enable", "YES");
    let incoming = b.tree_path().join("incoming");
    let server = b.start();
    let content = |i: usize| -> Vec<u8> {
        let mut v = format!("client {i}\n").into_bytes();
        v.extend(pattern_bytes(10_000 + i * 997));
        v
    };
    // Every client logged in with a data connection open first (a failure here stops the test
    // before any thread waits for the others), then all send STOU at once.
    let clients: Vec<(FtpClient, std::net::TcpStream)> = (0..CLIENTS)
        .map(|_| {
            let mut c = server.login();
            c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
            c.cmd("CWD incoming")
                .assert_is("250 Directory successfully changed.");
            let conn = c.open_data();
            (c, conn)
        })
        .collect();
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let results: Vec<(usize, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(i, (mut c, mut conn))| {
                let barrier = Arc::clone(&barrier);
                s.spawn(move || {
                    barrier.wait();
                    let start = c.cmd("STOU storm");
                    let name = start
                        .line()
                        .strip_prefix("150 FILE: ")
                        .unwrap_or_else(|| panic!("client {i}: {:?}", start.raw_str()))
                        .to_string();
                    conn.write_all(&content(i)).unwrap();
                    drop(conn);
                    c.read_reply().unwrap().assert_is("226 Transfer complete.");
                    c.cmd("QUIT").assert_is("221 Goodbye.");
                    (i, name)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let names: BTreeSet<&str> = results.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names.len(), CLIENTS, "names handed out twice: {results:?}");
    // The names are exactly the first thirty: storm, storm.1 … storm.29.
    let expected: BTreeSet<String> = std::iter::once("storm".to_string())
        .chain((1..CLIENTS).map(|n| format!("storm.{n}")))
        .collect();
    assert_eq!(
        names,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    for (i, name) in &results {
        assert_file(&incoming.join(name), &content(*i));
    }
    let on_disk = fs::read_dir(&incoming)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("storm")
        })
        .count();
    assert_eq!(on_disk, CLIENTS);
}

// ---------------------------------------------------------------------------------------------
// 9. The anonymous write switches
// ---------------------------------------------------------------------------------------------

/// Sends one write command as an anonymous session would (the transfers with a data
/// connection) and returns the first reply; for a transfer that starts, sends `x` and checks
/// the 226.
#[track_caller]
fn anon_write(c: &mut FtpClient, cmd: &str) -> Reply {
    let verb = cmd.split(' ').next().unwrap();
    if matches!(verb, "STOR" | "APPE" | "STOU") {
        let (start, end) = c.upload(cmd, b"x");
        if let Some(end) = end {
            end.assert_is("226 Transfer complete.");
        }
        start
    } else {
        c.cmd(cmd)
    }
}

/// Every write command an anonymous session could try, on the fixture's tree.
const ANON_WRITES: [&str; 13] = [
    "STOR incoming/new.txt",
    "APPE incoming/keep.txt",
    "STOU incoming/keep.txt",
    "MKD incoming/newdir",
    "XMKD incoming/newdir",
    "RMD incoming/sub",
    "XRMD incoming/sub",
    "DELE incoming/keep.txt",
    "RNFR incoming/old.txt",
    "RNTO incoming/renamed.txt",
    "SITE CHMOD 777 incoming/keep.txt",
    "MFMT 20200101000000 incoming/keep.txt",
    "STOR readme.txt",
];

/// Each of `cmds` gets `550 Permission denied.` and the tree is unchanged.
#[track_caller]
fn assert_all_denied(server: &Server, c: &mut FtpClient, cmds: &[&str], context: &str) {
    let before = snapshot(server.tree_path());
    for cmd in cmds {
        let r = anon_write(c, cmd);
        assert!(
            r.is("550 Permission denied."),
            "{context}: {cmd}: {:?}",
            r.raw_str()
        );
    }
    assert_eq!(
        snapshot(server.tree_path()),
        before,
        "{context}: a refused command changed the tree"
    );
}

#[test]
fn anonymous_writes_are_all_refused_with_the_switches_off() {
    // write_enable=YES, no anon_* switch: every write is refused.
    let server = anon_builder("wc_anon_off").start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    assert_all_denied(&server, &mut c, &ANON_WRITES, "all switches off");
    drop(c);
    drop(server);

    // write_enable=NO closes everything, whatever the anon_* switches say.
    let server = anon_builder("wc_anon_nowrite")
        .set("write_enable", "NO")
        .set("anon_upload_enable", "YES")
        .set("anon_mkdir_write_enable", "YES")
        .set("anon_other_write_enable", "YES")
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    assert_all_denied(&server, &mut c, &ANON_WRITES, "write_enable=NO");
}

/// anon_upload_enable: STOR and STOU, nothing else.
#[test]
fn anon_upload_enable_opens_stor_and_stou_only() {
    let server = anon_builder("wc_anon_upload")
        .set("anon_upload_enable", "YES")
        .start();
    let tree = server.tree_path().to_path_buf();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    assert_all_denied(
        &server,
        &mut c,
        &[
            "APPE incoming/keep.txt",
            "MKD incoming/newdir",
            "XMKD incoming/newdir",
            "RMD incoming/sub",
            "DELE incoming/keep.txt",
            "RNFR incoming/old.txt",
            "RNTO incoming/renamed.txt",
            "SITE CHMOD 777 incoming/keep.txt",
            "MFMT 20200101000000 incoming/keep.txt",
        ],
        "anon_upload_enable",
    );
    anon_write(&mut c, "STOR incoming/new.txt").assert_is("150 Ok to send data.");
    assert_file(&tree.join("incoming/new.txt"), b"x");
    c.cmd("CWD incoming")
        .assert_is("250 Directory successfully changed.");
    anon_write(&mut c, "STOU keep.txt").assert_is("150 FILE: keep.txt.1");
    assert_file(&tree.join("incoming/keep.txt.1"), b"x");
    assert_file(&tree.join("incoming/keep.txt"), b"keep");
}

/// vsftpd creates an anonymous upload exclusively unless anon_other_write_enable is on
/// (postlogin.c, handle_upload_common): with anon_upload_enable alone, STOR onto a file that
/// exists is `553 Could not create file.` and the file stays as it was; with
/// anon_other_write_enable too, it is replaced.
#[test]
fn an_anonymous_stor_never_replaces_a_file_without_anon_other_write_enable() {
    let server = anon_builder("wc_anon_excl")
        .set("anon_upload_enable", "YES")
        .start();
    let tree = server.tree_path().to_path_buf();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let before = snapshot(&tree);
    let (start, end) = c.upload("STOR incoming/keep.txt", b"replaced");
    assert!(
        start.is("553 Could not create file.") && end.is_none(),
        "STOR onto an existing file: {start:?}, then {end:?}"
    );
    assert_file(&tree.join("incoming/keep.txt"), b"keep");
    assert_eq!(
        snapshot(&tree),
        before,
        "an anonymous STOR changed the tree"
    );
    // A REST+STOR resume is no way around it.
    c.cmd("REST 2").assert_code(350);
    let (start, _) = c.upload("STOR incoming/keep.txt", b"XY");
    start.assert_is("553 Could not create file.");
    assert_file(&tree.join("incoming/keep.txt"), b"keep");
    drop(c);
    drop(server);

    let server = anon_builder("wc_anon_excl_other")
        .set("anon_upload_enable", "YES")
        .set("anon_other_write_enable", "YES")
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    assert_uploaded(c.upload("STOR incoming/keep.txt", b"replaced"));
    assert_file(&server.tree_path().join("incoming/keep.txt"), b"replaced");
}

/// anon_mkdir_write_enable: MKD only.
#[test]
fn anon_mkdir_write_enable_opens_mkd_only() {
    let server = anon_builder("wc_anon_mkdir")
        .set("anon_mkdir_write_enable", "YES")
        .start();
    let tree = server.tree_path().to_path_buf();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    assert_all_denied(
        &server,
        &mut c,
        &[
            "STOR incoming/new.txt",
            "STOU incoming/keep.txt",
            "APPE incoming/keep.txt",
            "RMD incoming/sub",
            "XRMD incoming/sub",
            "DELE incoming/keep.txt",
            "RNFR incoming/old.txt",
            "RNTO incoming/renamed.txt",
            "SITE CHMOD 777 incoming/keep.txt",
            "MFMT 20200101000000 incoming/keep.txt",
        ],
        "anon_mkdir_write_enable",
    );
    c.cmd("MKD incoming/newdir")
        .assert_is("257 \"/incoming/newdir\" created");
    c.cmd("XMKD incoming/newdir2")
        .assert_is("257 \"/incoming/newdir2\" created");
    assert!(tree.join("incoming/newdir").is_dir());
    assert!(tree.join("incoming/newdir2").is_dir());
}

/// anon_other_write_enable: APPE, DELE, RMD, RNFR/RNTO; not STOR, STOU, MKD, SITE CHMOD.
#[test]
fn anon_other_write_enable_opens_appe_dele_rmd_and_rename_only() {
    let server = anon_builder("wc_anon_other")
        .set("anon_other_write_enable", "YES")
        .start();
    let tree = server.tree_path().to_path_buf();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    assert_all_denied(
        &server,
        &mut c,
        &[
            "STOR incoming/new.txt",
            "STOU incoming/keep.txt",
            "MKD incoming/newdir",
            "XMKD incoming/newdir",
            "SITE CHMOD 777 incoming/keep.txt",
        ],
        "anon_other_write_enable",
    );
    anon_write(&mut c, "APPE incoming/keep.txt").assert_is("150 Ok to send data.");
    assert_file(&tree.join("incoming/keep.txt"), b"keepx");
    c.cmd("RNFR incoming/old.txt")
        .assert_is("350 Ready for RNTO.");
    c.cmd("RNTO incoming/renamed.txt")
        .assert_is("250 Rename successful.");
    assert!(!tree.join("incoming/old.txt").exists());
    assert_file(&tree.join("incoming/renamed.txt"), b"old");
    c.cmd("DELE incoming/renamed.txt")
        .assert_is("250 Delete operation successful.");
    assert!(!tree.join("incoming/renamed.txt").exists());
    c.cmd("RMD incoming/sub")
        .assert_is("250 Remove directory operation successful.");
    assert!(!tree.join("incoming/sub").exists());
}

// ---------------------------------------------------------------------------------------------
// 10. Owners and modes on disk
// ---------------------------------------------------------------------------------------------

#[test]
fn local_uploads_get_the_umask_and_file_open_mode() {
    if !two_process_model_or_skip("local_modes") {
        return;
    }
    // local_umask=022: files 0644, directories 0755, the user's.
    let w = LocalBuilder::new("wc_modes").start();
    let client = client_dir("wc_modes");
    let f = client.write("f.txt", "f");
    let o = curl(&[
        "--ftp-create-dirs",
        "-T",
        f.to_str().unwrap(),
        &w.url("up/made/f.txt"),
    ]);
    assert_ok(&o, "curl --ftp-create-dirs -T");
    let (file, dir) = (w.path("up/made/f.txt"), w.path("up/made"));
    assert_file(&file, b"f");
    assert_eq!((mode_of(&file), uid_of(&file)), (0o644, w.user.uid()));
    assert_eq!((mode_of(&dir), uid_of(&dir)), (0o755, w.user.uid()));
    drop(w);

    // file_open_mode=0640 with local_umask=022: 0640.
    let w = LocalBuilder::new("wc_modes_open")
        .set("file_open_mode", "0640")
        .start();
    let o = curl(&["-T", f.to_str().unwrap(), &w.url("up/g.txt")]);
    assert_ok(&o, "curl -T");
    let file = w.path("up/g.txt");
    assert_eq!((mode_of(&file), uid_of(&file)), (0o640, w.user.uid()));
}

#[test]
fn anonymous_uploads_get_anon_umask_and_chown_uploads() {
    if !two_process_model_or_skip("anon_modes") {
        return;
    }
    let client = client_dir("wc_anon_modes");
    let f = client.write("f.txt", "anonymous upload");
    let account_uid = passwd_uid(&anon_account()).expect("the anonymous account");

    // anon_umask=077: 0600 files and 0700 directories, owned by ftp_username.
    let server = anon_builder("wc_anon_umask")
        .set("anon_upload_enable", "YES")
        .set("anon_mkdir_write_enable", "YES")
        .set("anon_umask", "077")
        .start();
    let url = |s: &Server, rel: &str| format!("ftp://127.0.0.1:{}/{rel}", s.port());
    let o = curl(&["-T", f.to_str().unwrap(), &url(&server, "incoming/up.txt")]);
    assert_ok(&o, "anonymous curl -T");
    let file = server.tree_path().join("incoming/up.txt");
    assert_file(&file, b"anonymous upload");
    assert_eq!((mode_of(&file), uid_of(&file)), (0o600, account_uid));
    let o = curl(&[&url(&server, "incoming/"), "-Q", "MKD incoming/d"]);
    assert_ok(&o, "anonymous curl -Q MKD");
    let dir = server.tree_path().join("incoming/d");
    assert_eq!((mode_of(&dir), uid_of(&dir)), (0o700, account_uid));
    drop(server);

    // chown_uploads: the upload belongs to chown_username, with chown_upload_mode.
    let owner = TestUser::new("vwo", Path::new("/nonexistent"));
    let server = anon_builder("wc_anon_chown")
        .set("anon_upload_enable", "YES")
        .set("chown_uploads", "YES")
        .set("chown_username", &owner.name)
        .set("chown_upload_mode", "0640")
        .start();
    let o = curl(&[
        "-T",
        f.to_str().unwrap(),
        &url(&server, "incoming/given.txt"),
    ]);
    assert_ok(&o, "anonymous curl -T with chown_uploads");
    let file = server.tree_path().join("incoming/given.txt");
    assert_file(&file, b"anonymous upload");
    assert_eq!(
        (mode_of(&file), uid_of(&file)),
        (0o640, owner.uid()),
        "chown_uploads gives the file to {} with mode 0640",
        owner.name
    );
    // Being no longer the session's, it cannot be taken back or replaced.
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let (start, _) = c.upload("STOR incoming/given.txt", b"replaced");
    start.assert_is("553 Could not create file.");
    assert_file(&file, b"anonymous upload");
    drop(c);
    drop(server);
    drop(owner);
}

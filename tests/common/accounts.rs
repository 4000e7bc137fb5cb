//! Real accounts and real PAM services for the tests, removed again on Drop.
//!
//! useradd, usermod and userdel lock /etc/passwd: test binaries run in parallel, so every
//! change to the account database goes through one file lock (`flock(1)`), and every name has
//! a prefix and the test process's pid, so no two tests share an account.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

const LOCK: &str = "/tmp/vsftpd-rs-accounts.lock";
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Runs `cmd args…` under the account lock; panics with its output when it fails.
#[track_caller]
pub fn locked(cmd: &str, args: &[&str]) {
    locked_with_input(cmd, args, "")
}

/// As [`locked`], with `input` on the command's standard input (chpasswd).
#[track_caller]
pub fn locked_with_input(cmd: &str, args: &[&str], input: &str) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("flock")
        .arg(LOCK)
        .arg(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("flock {cmd}: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(input.as_bytes()).unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A login account with a password, removed (with `userdel`) on Drop.
pub struct TestUser {
    pub name: String,
    pub password: String,
    pub home: PathBuf,
}

impl TestUser {
    /// A new account `<prefix><pid>x<n>` (at most 32 bytes) with shell /bin/sh and home `home`
    /// (not created: the test decides what the home is).
    pub fn new(prefix: &str, home: &Path) -> TestUser {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{prefix}{}x{n}", std::process::id());
        assert!(name.len() <= 32, "user name {name} too long");
        let home_str = home.to_str().expect("home is UTF-8");
        locked(
            "useradd",
            &[
                "-M", "-N", "-g", "users", "-s", "/bin/sh", "-d", home_str, &name,
            ],
        );
        let password = format!("pw-{name}-secret");
        let user = TestUser {
            name,
            password,
            home: home.to_path_buf(),
        };
        user.set_password(&user.password.clone());
        user
    }

    pub fn set_password(&self, password: &str) {
        locked_with_input("chpasswd", &[], &format!("{}:{password}\n", self.name));
    }

    pub fn uid(&self) -> u32 {
        super::procs::passwd_uid(&self.name).expect("uid of a test user")
    }

    /// Creates the home directory, owned by the user, with `mode`.
    pub fn make_home(&self, mode: u32) -> &Self {
        std::fs::create_dir_all(&self.home).unwrap();
        self.chown(&self.home);
        super::server::set_mode(&self.home, mode);
        self
    }

    /// Gives `path` to the user (and the group `users`).
    pub fn chown(&self, path: &Path) {
        let out = Command::new("chown")
            .arg(format!("{}:users", self.name))
            .arg(path)
            .output()
            .unwrap();
        assert!(out.status.success(), "chown {}", path.display());
    }

    /// `usermod ARGS name` (e.g. `-L` to lock the account, `-aG group` for a group).
    pub fn usermod(&self, args: &[&str]) {
        let mut all: Vec<&str> = args.to_vec();
        all.push(&self.name);
        locked("usermod", &all);
    }

    /// `chage ARGS name` (e.g. `-E 0`: the account expired long ago).
    pub fn chage(&self, args: &[&str]) {
        let mut all: Vec<&str> = args.to_vec();
        all.push(&self.name);
        locked("chage", &all);
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("flock")
            .arg(LOCK)
            .args(["userdel", "-f", &self.name])
            .output();
    }
}

/// A group `<prefix><pid>g<n>`, removed on Drop.
pub struct TestGroup {
    pub name: String,
}

impl TestGroup {
    pub fn new(prefix: &str) -> TestGroup {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{prefix}{}g{n}", std::process::id());
        locked("groupadd", &[&name]);
        TestGroup { name }
    }

    pub fn gid(&self) -> u32 {
        let text = std::fs::read_to_string("/etc/group").unwrap();
        text.lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.first() == Some(&self.name.as_str())).then(|| f[2].parse().unwrap())
            })
            .expect("gid of a test group")
    }
}

impl Drop for TestGroup {
    fn drop(&mut self) {
        let _ = Command::new("flock")
            .arg(LOCK)
            .args(["groupdel", &self.name])
            .output();
    }
}

/// A PAM service `/etc/pam.d/<name>` with the given lines, removed on Drop.
pub struct PamService {
    pub name: String,
    path: PathBuf,
}

impl PamService {
    /// A unique name with `prefix`, for an account that must not exist.
    pub fn unique_name(prefix: &str) -> String {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        format!("{prefix}{}x{n}", std::process::id())
    }

    pub fn new(prefix: &str, lines: &str) -> PamService {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        let path = Path::new("/etc/pam.d").join(&name);
        std::fs::write(&path, lines).unwrap();
        PamService { name, path }
    }

    /// pam_unix for auth and account, without the two-second delay after a failure.
    pub fn unix(prefix: &str) -> PamService {
        PamService::new(
            prefix,
            "auth required pam_unix.so nodelay\naccount required pam_unix.so\nsession required pam_unix.so\n",
        )
    }
}

impl Drop for PamService {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

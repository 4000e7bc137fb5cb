//! Temp dirs, the server guard and its builder, inetd-mode sessions.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::client::{FtpClient, Reply};
use super::tools::{pattern_bytes, vsftpd_bin};

/// How long a daemon may take to report READY=1.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory under std::env::temp_dir(), mode 0755, removed on Drop
/// (kept when VSFTPD_TEST_KEEP is set, for debugging).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// `name` is the test's name (shortened: the notify socket path must stay < 108 bytes).
    pub fn new(name: &str) -> TempDir {
        let short: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(32)
            .collect();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("vsftpd-rs-{}-{}-{}", std::process::id(), n, short));
        if path.exists() {
            let _ = fs::remove_dir_all(&path);
        }
        fs::create_dir(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        set_mode(&path, 0o755);
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `self.path().join(rel)`.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// Creates a subdirectory (and its parents), each 0755.
    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let p = self.path.join(rel);
        mkdir_0755(&self.path, &p);
        p
    }

    /// Writes a file (parents created 0755), mode 0644.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            mkdir_0755(&self.path, parent);
        }
        fs::write(&p, contents).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        set_mode(&p, 0o644);
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("VSFTPD_TEST_KEEP").is_some() {
            eprintln!("keeping {}", self.path.display());
            return;
        }
        let _ = fs::remove_dir_all(&self.path);
    }
}

pub fn set_mode(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
}

/// mkdir -p `p`, with every directory created below `base` set to 0755.
fn mkdir_0755(base: &Path, p: &Path) {
    fs::create_dir_all(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
    let mut cur = p;
    while cur.starts_with(base) && cur != base {
        set_mode(cur, 0o755);
        match cur.parent() {
            Some(parent) => cur = parent,
            None => break,
        }
    }
}

/// Kills and reaps a child process (and its process group) on Drop.
pub struct ProcessGuard {
    child: Option<Child>,
    status: Option<ExitStatus>,
    /// Kill the process group `-pid` too (the child was started as a group leader).
    group: bool,
}

impl ProcessGuard {
    pub fn new(child: Child, group: bool) -> ProcessGuard {
        ProcessGuard {
            child: Some(child),
            status: None,
            group,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Takes the child's stdout pipe (when it was piped).
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.as_mut().and_then(|c| c.stdout.take())
    }

    /// The exit status if it has exited (reaps it).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(s)) = c.try_wait() {
                    self.status = Some(s);
                }
            }
        }
        self.status
    }

    /// Polls (20 ms) until the process exits or `timeout` passes.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_status() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pid = c.id();
            if self.group {
                kill_pid_group(pid);
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `kill -SIG PID` through the kill(1) program (the tests use no libc).
pub fn send_signal(pid: u32, sig: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// SIGKILL to the process group `pid` (errors ignored: it may be gone).
fn kill_pid_group(pid: u32) {
    if pid <= 1 {
        return;
    }
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .arg(format!("-{pid}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// How [`ServerBuilder::start`] knows the daemon is ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// READY=1 on NOTIFY_SOCKET; the port from `STATUS=listening on ADDR`.
    Notify,
    /// A `listening on ADDR` line on stdout or stderr (the quick start prints one).
    OutputLine,
    /// Do not wait at all (the test inspects the process itself).
    None,
}

/// Why a server did not start.
pub struct StartError {
    pub reason: String,
    /// The exit status, when the process exited.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    /// Notify lines received.
    pub notify: Vec<String>,
}

impl StartError {
    /// The exit code, when the process exited normally.
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }
}

impl fmt::Debug for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (status {:?})\n--- stderr ---\n{}\n--- stdout ---\n{}\n--- notify ---\n{:?}",
            self.reason, self.status, self.stderr, self.stdout, self.notify
        )
    }
}

/// Writes a vsftpd.conf and a served tree into a fresh temp dir, then starts the binary.
///
/// Default config: listen=YES, listen_address=127.0.0.1, listen_port=0, background=NO,
/// run_as_launching_user=YES, anonymous_enable=YES, anon_root=<tree>.
pub struct ServerBuilder {
    dir: TempDir,
    tree: PathBuf,
    conf: Vec<(String, String)>,
    extra_conf: String,
    conf_name: String,
    args: Vec<OsString>,
    args_before: Vec<OsString>,
    exact_args: Option<Vec<OsString>>,
    cwd: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
    readiness: Readiness,
    /// A command the binary runs under (`wrapper… vsftpd args…`), e.g. a private namespace.
    wrapper: Vec<OsString>,
}

/// The session model every test server runs in. As root (CI, and the README's test command)
/// it is the real two-process model with the seccomp sandbox, so every session test also
/// tests privilege separation; `VSFTPD_TEST_ONE_PROCESS=1` (or a non-root run) selects the
/// one-process model (run_as_launching_user=YES), which the test command runs as well. An empty
/// value or `0` leaves the choice to the user the tests run as, as an unset one does.
pub fn one_process_model() -> bool {
    let asked =
        std::env::var_os("VSFTPD_TEST_ONE_PROCESS").is_some_and(|v| !v.is_empty() && v != "0");
    asked || !super::procs::running_as_root()
}

fn model_config(dir: &TempDir) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = if one_process_model() {
        vec![("run_as_launching_user", "YES".to_string())]
    } else {
        let empty = dir.mkdir("empty");
        vec![
            ("run_as_launching_user", "NO".to_string()),
            ("nopriv_user", "nobody".to_string()),
            ("ftp_username", test_account().to_string()),
            ("secure_chroot_dir", empty.display().to_string()),
            ("seccomp_sandbox", "YES".to_string()),
        ]
    };
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The account sessions run as after login (ftp_username) in the two-process model; created
/// once if missing, so a fresh machine needs no `ftp` user.
pub fn test_account() -> &'static str {
    ensure_system_account("vsftpdtest", "/nonexistent")
}

/// A system account (no login shell) with the given home, created if missing.
pub fn ensure_system_account(name: &'static str, home: &str) -> &'static str {
    let exists = || {
        Command::new("id")
            .arg(name)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !exists() {
        // Several test binaries may race here; useradd locks /etc/passwd and one of them wins.
        let _ = Command::new("useradd")
            .args(["--system", "--no-create-home", "--home-dir", home])
            .args(["--shell", "/usr/sbin/nologin", name])
            .output();
    }
    assert!(exists(), "cannot create the test account {name}");
    name
}

impl ServerBuilder {
    /// A builder for the test `name` (used in the temp dir's name).
    pub fn new(name: &str) -> ServerBuilder {
        let dir = TempDir::new(name);
        let tree = dir.mkdir("tree");
        let tree_str = tree.to_str().expect("temp dir path is UTF-8").to_string();
        let conf = [
            ("listen", "YES"),
            ("listen_address", "127.0.0.1"),
            ("listen_port", "0"),
            ("background", "NO"),
            ("anonymous_enable", "YES"),
            ("anon_root", tree_str.as_str()),
            // vsftpd's second of delay after a refused login would only slow the tests down;
            // the delay has a test of its own.
            ("delay_failed_login", "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<Vec<_>>();
        let mut conf = conf;
        conf.extend(model_config(&dir));
        ServerBuilder {
            dir,
            tree,
            conf,
            extra_conf: String::new(),
            conf_name: "vsftpd.conf".to_string(),
            args: Vec::new(),
            args_before: Vec::new(),
            exact_args: None,
            cwd: None,
            env: Vec::new(),
            readiness: Readiness::Notify,
            wrapper: Vec::new(),
        }
    }

    /// Sets (or overrides, in place) a config key.
    pub fn set(mut self, key: &str, value: impl ToString) -> Self {
        let value = value.to_string();
        match self.conf.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.conf.push((key.to_string(), value)),
        }
        self
    }

    /// Removes a config key (the daemon's default applies).
    pub fn unset(mut self, key: &str) -> Self {
        self.conf.retain(|(k, _)| k != key);
        self
    }

    /// Appends raw text to the config file (after the key=value lines).
    pub fn config_text(mut self, text: &str) -> Self {
        self.extra_conf.push_str(text);
        self
    }

    /// A file in the served tree with these contents, mode 0644.
    pub fn file(self, rel: &str, contents: impl AsRef<[u8]>) -> Self {
        self.dir.write(Path::new("tree").join(rel), contents);
        self
    }

    /// A file in the served tree whose name is raw bytes (e.g. not UTF-8).
    pub fn file_bytes_name(self, name: &[u8], contents: impl AsRef<[u8]>) -> Self {
        use std::os::unix::ffi::OsStrExt;
        let p = self.tree.join(OsStr::from_bytes(name));
        fs::write(&p, contents).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        set_mode(&p, 0o644);
        self
    }

    /// A file of `size` bytes of [`pattern_bytes`].
    pub fn pattern_file(self, rel: &str, size: usize) -> Self {
        self.file(rel, pattern_bytes(size))
    }

    /// A directory in the served tree, 0755.
    pub fn dir(self, rel: &str) -> Self {
        self.dir.mkdir(Path::new("tree").join(rel));
        self
    }

    /// A symlink in the served tree: `rel -> target` (target taken verbatim).
    pub fn symlink(self, rel: &str, target: &str) -> Self {
        let p = self.tree.join(rel);
        if let Some(parent) = p.parent() {
            mkdir_0755(self.dir.path(), parent);
        }
        symlink(target, &p).unwrap_or_else(|e| panic!("symlink {}: {e}", p.display()));
        self
    }

    /// An extra argument after the config file.
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    /// An extra argument before the config file.
    pub fn arg_before(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args_before.push(a.as_ref().to_os_string());
        self
    }

    /// Replaces the whole argument list (the config file is then not passed unless the
    /// caller includes [`ServerBuilder::config_path`]).
    pub fn exact_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.exact_args = Some(args.into_iter().map(|a| a.as_ref().to_owned()).collect());
        self
    }

    /// Names the config file (e.g. `vsftpd.toml`); the content is still key=value unless
    /// replaced with [`ServerBuilder::config_text`] and no keys.
    pub fn config_name(mut self, name: &str) -> Self {
        self.conf_name = name.to_string();
        self
    }

    /// Removes every key=value line (for a config written entirely with `config_text`).
    pub fn clear_config(mut self) -> Self {
        self.conf.clear();
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn readiness(mut self, r: Readiness) -> Self {
        self.readiness = r;
        self
    }

    /// Runs the binary under `argv` (`argv… vsftpd args…`); the wrapper must exec it, so that
    /// the guard's pid is the daemon's.
    pub fn wrapper<I, S>(mut self, argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.wrapper = argv.into_iter().map(|a| a.as_ref().to_owned()).collect();
        self
    }

    /// The temp dir (holds vsftpd.conf, tree/, notify.sock, stdout.log, stderr.log).
    pub fn dir_path(&self) -> &Path {
        self.dir.path()
    }

    pub fn temp(&self) -> &TempDir {
        &self.dir
    }

    pub fn tree_path(&self) -> &Path {
        &self.tree
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join(&self.conf_name)
    }

    /// The config file text as it will be written.
    pub fn config_contents(&self) -> String {
        render_config(&self.conf, &self.extra_conf)
    }

    /// Writes the config file now (mode 0644); returns its path.
    pub fn write_config(&self) -> PathBuf {
        let p = self.config_path();
        fs::write(&p, self.config_contents())
            .unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        set_mode(&p, 0o644);
        p
    }

    /// The arguments the binary will get.
    pub fn args_list(&self) -> Vec<OsString> {
        match &self.exact_args {
            Some(a) => a.clone(),
            None => {
                let mut v = self.args_before.clone();
                v.push(self.config_path().into_os_string());
                v.extend(self.args.iter().cloned());
                v
            }
        }
    }

    /// Starts the daemon and waits for readiness; panics with its stderr on failure.
    #[track_caller]
    pub fn start(self) -> Server {
        match self.try_start() {
            Ok(s) => s,
            Err(e) => panic!("the daemon did not start: {e:?}"),
        }
    }

    /// Starts the daemon and waits for readiness.
    pub fn try_start(self) -> Result<Server, StartError> {
        let conf_path = self.write_config();
        let sock_path = self.dir.join("notify.sock");
        let _ = fs::remove_file(&sock_path);
        let sock = UnixDatagram::bind(&sock_path)
            .unwrap_or_else(|e| panic!("binding {}: {e}", sock_path.display()));
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let stdout_path = self.dir.join("stdout.log");
        let stderr_path = self.dir.join("stderr.log");
        let stdout = File::create(&stdout_path).unwrap();
        let stderr = File::create(&stderr_path).unwrap();

        let mut cmd = match self.wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(vsftpd_bin());
                c
            }
            None => Command::new(vsftpd_bin()),
        };
        cmd.args(self.args_list())
            .env("NOTIFY_SOCKET", &sock_path)
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr))
            .process_group(0);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", vsftpd_bin().display()));
        let mut server = Server {
            guard: ProcessGuard::new(child, true),
            adopted: Vec::new(),
            dir: self.dir,
            tree: self.tree,
            conf_path,
            conf: self.conf,
            extra_conf: self.extra_conf,
            sock,
            notify: Vec::new(),
            listen: Vec::new(),
            stdout_path,
            stderr_path,
        };
        match self.readiness {
            Readiness::Notify => server.wait_notify_ready()?,
            Readiness::OutputLine => server.wait_output_ready()?,
            Readiness::None => {}
        }
        Ok(server)
    }

    /// Starts the binary in inetd mode (the config should say listen=NO): stdin and stdout
    /// are one end of a loopback TCP connection, the returned client the other. Reads the
    /// greeting.
    #[track_caller]
    pub fn spawn_inetd(self) -> InetdSession {
        self.write_config();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        drop(listener);
        let out = server_side.try_clone().unwrap();
        let stderr_path = self.dir.join("stderr.log");
        let stderr = File::create(&stderr_path).unwrap();
        let mut cmd = Command::new(vsftpd_bin());
        cmd.args(self.args_list())
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::from(OwnedFd::from(server_side)))
            .stdout(Stdio::from(OwnedFd::from(out)))
            .stderr(Stdio::from(stderr))
            .process_group(0);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        let child = cmd.spawn().expect("spawning vsftpd in inetd mode");
        // `cmd` holds the server ends until it is dropped.
        drop(cmd);
        let guard = ProcessGuard::new(child, true);
        let mut session = InetdSession {
            guard,
            dir: self.dir,
            tree: self.tree,
            stderr_path,
            client: None,
            greeting: None,
        };
        match FtpClient::from_stream(client) {
            Ok((c, g)) => {
                session.client = Some(c);
                session.greeting = Some(g);
            }
            Err(e) => panic!(
                "inetd mode: no greeting: {e}\nstderr:\n{}",
                session.stderr()
            ),
        }
        session
    }
}

fn render_config(conf: &[(String, String)], extra: &str) -> String {
    let mut s = String::from("# written by the vsftpd-rs test harness\n");
    for (k, v) in conf {
        s.push_str(k);
        s.push('=');
        s.push_str(v);
        s.push('\n');
    }
    s.push_str(extra);
    s
}

fn read_lossy(p: &Path) -> String {
    fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Parses `listening on 127.0.0.1:21` / `[::1]:21` / `[::]:21` (anything before the phrase
/// is ignored; the address ends at whitespace or a trailing period).
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    let at = line.find("listening on ")? + "listening on ".len();
    let rest = &line[at..];
    let token = rest.split_whitespace().next()?;
    let token = token.trim_end_matches(['.', ',', ';']);
    token.parse().ok()
}

/// A running daemon; killed (with its process group) and reaped on Drop.
pub struct Server {
    guard: ProcessGuard,
    adopted: Vec<u32>,
    dir: TempDir,
    tree: PathBuf,
    conf_path: PathBuf,
    conf: Vec<(String, String)>,
    extra_conf: String,
    sock: UnixDatagram,
    notify: Vec<String>,
    listen: Vec<SocketAddr>,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
}

impl Server {
    fn start_error(&mut self, reason: String) -> StartError {
        self.drain_notify();
        StartError {
            reason,
            status: self.guard.try_status(),
            stdout: self.stdout(),
            stderr: self.stderr(),
            notify: self.notify.clone(),
        }
    }

    /// Reads whatever notify datagrams are queued (non-blocking); records them.
    fn drain_notify(&mut self) -> usize {
        let _ = self.sock.set_nonblocking(true);
        let mut n = 0;
        let mut buf = vec![0u8; 4096];
        while let Ok(len) = self.sock.recv(&mut buf) {
            self.record_datagram(&buf[..len]);
            n += 1;
        }
        let _ = self.sock.set_nonblocking(false);
        n
    }

    fn record_datagram(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        for line in text.split('\n') {
            if line.is_empty() {
                continue;
            }
            if let Some(status) = line.strip_prefix("STATUS=") {
                if let Some(a) = parse_listening(status) {
                    if !self.listen.contains(&a) {
                        self.listen.push(a);
                    }
                }
            }
            self.notify.push(line.to_string());
        }
    }

    /// Blocks up to ~50 ms for one datagram.
    fn recv_one(&mut self) -> bool {
        let mut buf = vec![0u8; 4096];
        let _ = self.sock.set_read_timeout(Some(Duration::from_millis(50)));
        match self.sock.recv(&mut buf) {
            Ok(len) => {
                self.record_datagram(&buf[..len]);
                true
            }
            Err(_) => false,
        }
    }

    fn wait_notify_ready(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if self.notify.iter().any(|l| l == "READY=1") {
                break;
            }
            if self.recv_one() {
                continue;
            }
            if let Some(status) = self.guard.try_status() {
                // With background=YES the launcher exits 0 and the daemon goes on.
                if !status.success() {
                    return Err(self.start_error(format!("exited before READY=1: {status}")));
                }
            }
            if Instant::now() >= deadline {
                return Err(self.start_error(format!("no READY=1 within {READY_TIMEOUT:?}")));
            }
        }
        if self.listen.is_empty() {
            return Err(self.start_error("READY=1 without a `STATUS=listening on` line".into()));
        }
        Ok(())
    }

    fn wait_output_ready(&mut self) -> Result<(), StartError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.drain_notify();
            let out = format!("{}\n{}", self.stdout(), self.stderr());
            let found: Vec<SocketAddr> = out.lines().filter_map(parse_listening).collect();
            if !found.is_empty() {
                for a in found {
                    if !self.listen.contains(&a) {
                        self.listen.push(a);
                    }
                }
                return Ok(());
            }
            if let Some(status) = self.guard.try_status() {
                if !status.success() {
                    return Err(self
                        .start_error(format!("exited before printing `listening on`: {status}")));
                }
            }
            if Instant::now() >= deadline {
                return Err(
                    self.start_error(format!("no `listening on` line within {READY_TIMEOUT:?}"))
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The listening addresses as announced (may be unspecified: 0.0.0.0 / ::).
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        &self.listen
    }

    /// The first listening address, made connectable (0.0.0.0 → 127.0.0.1, :: → ::1).
    #[track_caller]
    pub fn addr(&self) -> SocketAddr {
        let a = *self
            .listen
            .first()
            .expect("the daemon announced no listening address");
        match a.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), a.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), a.port())
            }
            _ => a,
        }
    }

    #[track_caller]
    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// The pid of the process the harness started.
    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    /// Also kill this pid (and its process group) on Drop: a daemon that went to the
    /// background.
    pub fn adopt_pid(&mut self, pid: u32) {
        self.adopted.push(pid);
    }

    /// Everything the daemon wrote to stdout so far.
    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout_path)
    }

    /// Everything the daemon wrote to stderr so far.
    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr_path)
    }

    /// `kill -SIG pid` on the started process; `sig` as kill(1) takes it: "HUP", "TERM".
    #[track_caller]
    pub fn signal(&self, sig: &str) {
        assert!(
            send_signal(self.pid(), sig),
            "kill -{sig} {} failed",
            self.pid()
        );
    }

    /// Polls until the started process exits; None on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.guard.wait_exit(timeout)
    }

    /// True while the started process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.guard.try_status().is_none()
    }

    pub fn tree_path(&self) -> &Path {
        &self.tree
    }

    pub fn dir_path(&self) -> &Path {
        self.dir.path()
    }

    pub fn temp(&self) -> &TempDir {
        &self.dir
    }

    pub fn config_path(&self) -> &Path {
        &self.conf_path
    }

    /// Sets a key in the config and rewrites the file (then `signal("HUP")`).
    pub fn set_config(&mut self, key: &str, value: impl ToString) {
        let value = value.to_string();
        match self.conf.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.conf.push((key.to_string(), value)),
        }
        self.rewrite_config();
    }

    /// Rewrites the config file from the current keys.
    pub fn rewrite_config(&self) {
        let text = render_config(&self.conf, &self.extra_conf);
        self.write_config_text(&text);
    }

    /// Replaces the config file with this exact text (atomically, by rename).
    pub fn write_config_text(&self, text: &str) {
        let tmp = self.conf_path.with_extension("tmp");
        fs::write(&tmp, text).unwrap();
        set_mode(&tmp, 0o644);
        fs::rename(&tmp, &self.conf_path).unwrap();
    }

    /// The current config text, as the harness last wrote it from keys.
    pub fn config_contents(&self) -> String {
        render_config(&self.conf, &self.extra_conf)
    }

    /// Every notify line received so far (STATUS=…, READY=1, RELOADING=1, …).
    pub fn notify_messages(&mut self) -> Vec<String> {
        self.drain_notify();
        self.notify.clone()
    }

    /// Waits until a notify line satisfies `pred` (lines already seen count); false on timeout.
    pub fn wait_notify(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            self.drain_notify();
            if self.notify.iter().any(|l| pred(l)) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            self.recv_one();
        }
    }

    /// Connects and reads the greeting.
    #[track_caller]
    pub fn connect(&self) -> (FtpClient, Reply) {
        FtpClient::connect(self.addr())
    }

    /// Connects, checks the greeting is a 220, logs in anonymously.
    #[track_caller]
    pub fn login(&self) -> FtpClient {
        let (mut c, greeting) = self.connect();
        greeting.assert_code(220);
        c.login_anonymous();
        c
    }

    /// Kills the daemon now (as Drop does).
    pub fn kill(&mut self) {
        for &pid in &self.adopted {
            send_signal(pid, "KILL");
            kill_pid_group(pid);
        }
        self.guard.kill();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- daemon stderr ({}) ---\n{}\n--- daemon stdout ---\n{}\n--- notify ---\n{:?}",
                self.stderr_path.display(),
                self.stderr(),
                self.stdout(),
                self.notify
            );
        }
    }
}

/// A session started in inetd mode; the process is killed and reaped on Drop.
pub struct InetdSession {
    pub guard: ProcessGuard,
    dir: TempDir,
    tree: PathBuf,
    stderr_path: PathBuf,
    client: Option<FtpClient>,
    greeting: Option<Reply>,
}

impl InetdSession {
    pub fn client(&mut self) -> &mut FtpClient {
        self.client.as_mut().expect("client")
    }

    pub fn greeting(&self) -> &Reply {
        self.greeting.as_ref().expect("greeting")
    }

    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr_path)
    }

    pub fn tree_path(&self) -> &Path {
        &self.tree
    }

    pub fn dir_path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for InetdSession {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- inetd session stderr ---\n{}", self.stderr());
        }
    }
}

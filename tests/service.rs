//! The system service: the init script, the systemd units, the shipped configuration files.
//!
//! Everything that installs runs in a throwaway root: an overlay of the whole file system in
//! private mount, network and PID namespaces, so `service`, `update-rc.d` and port 21 never
//! touch the host, and every process started inside dies with the namespace's init when the
//! test ends (pass or fail). The built binary and the repository's files are installed into
//! it at their real paths (/usr/sbin/vsftpd, /etc/init.d/vsftpd, /etc/vsftpd.conf, ...).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_ascii_whitespace().nth(1).map(|id| id == "0"))
        })
        .unwrap_or(false)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Skips (with a note) a test that needs root or a missing tool.
macro_rules! require {
    ($($tool:expr),*) => {
        if !running_as_root() {
            eprintln!("skipped: needs root");
            return;
        }
        $(
            if !have($tool) {
                eprintln!("skipped: needs {}", $tool);
                return;
            }
        )*
    };
}

/// The namespace's init: reaps every orphan (the daemons detach), so a stopped daemon leaves
/// no zombie behind for `status` to see.
const INIT: &str = "import os, time\n\
print(\"ready\", flush=True)\n\
while True:\n\
\x20   try:\n\
\x20       os.waitpid(-1, 0)\n\
\x20   except ChildProcessError:\n\
\x20       time.sleep(0.05)\n";

/// The FTP client run inside the root: prints BANNER, LOGIN, STOR, DATAPEER, LIST lines.
const CLIENT: &str = r#"
import argparse, ftplib, io, sys
class F(ftplib.FTP):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = super().ntransfercmd(cmd, rest)
        print("DATAPEER", conn.getpeername()[1], flush=True)
        return conn, size
p = argparse.ArgumentParser()
p.add_argument("--port", type=int, default=21)
p.add_argument("--user")
p.add_argument("--password", default="")
p.add_argument("--upload")
p.add_argument("--active", action="store_true")
p.add_argument("--list", action="store_true")
a = p.parse_args()
f = F()
f.connect("127.0.0.1", a.port, timeout=20)
print("BANNER", f.getwelcome(), flush=True)
if a.user:
    try:
        print("LOGIN", f.login(a.user, a.password), flush=True)
    except ftplib.error_perm as e:
        print("LOGIN", e, flush=True)
        sys.exit(0)
    if a.active:
        f.set_pasv(False)
    if a.upload:
        name, data = a.upload.split("=", 1)
        print("STOR", f.storbinary("STOR " + name, io.BytesIO(data.encode())), flush=True)
    if a.list:
        lines = []
        f.retrlines("LIST", lines.append)
        print("LIST", len(lines), flush=True)
f.quit()
"#;

/// A throwaway root (see the module doc), removed with everything in it on Drop.
struct Root {
    holder: Child,
    init: u32,
    /// The mount point of the root's tmpfs (empty outside the namespace).
    dir: PathBuf,
    /// Where the output of the commands run inside goes, on the host.
    out: PathBuf,
}

impl Root {
    fn new() -> Root {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vsftpd-rs-service-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.with_extension("out");
        std::fs::create_dir_all(&out).expect("output dir");
        let t = dir.display();
        let bin = env!("CARGO_BIN_EXE_vsftpd");
        let src = repo().display();
        // Staged into the overlay before /tmp is replaced, so a target dir under /tmp works.
        let script = format!(
            "set -e
mount --make-rprivate /
mount -t tmpfs tmpfs {t}
mkdir {t}/u {t}/w {t}/r
mount -t overlay overlay -o lowerdir=/,upperdir={t}/u,workdir={t}/w {t}/r
mount -t proc proc {t}/r/proc
mount --rbind /dev {t}/r/dev
mkdir -p {t}/r/stage
cp {bin} {t}/r/stage/vsftpd
cp -r {src}/init.d {src}/systemd {src}/etc {src}/man {t}/r/stage/
mount -t tmpfs tmpfs {t}/r/run
mount -t tmpfs tmpfs {t}/r/tmp
ip link set lo up
exec chroot {t}/r python3 -c '{INIT}' </dev/null 2>/dev/null"
        );
        let mut holder = Command::new("unshare")
            .args([
                "-m",
                "-n",
                "-p",
                "--fork",
                "--kill-child",
                "sh",
                "-c",
                &script,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("unshare");
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("holder stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        assert_eq!(
            line.trim(),
            "ready",
            "the throwaway root did not come up: {}",
            std::fs::read_to_string(out.join("holder.err")).unwrap_or_default()
        );
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", holder.id()))
            .expect("children of unshare");
        let init = children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the namespace's init");
        let root = Root {
            holder,
            init,
            dir,
            out,
        };
        root.sh_ok("install -m 0755 /stage/vsftpd /usr/sbin/vsftpd");
        root.write("/stage/client.py", CLIENT);
        root
    }

    /// Runs `sh -c script` inside the root (bounded to 90 s), with `input` on stdin. Its
    /// output goes to files, not pipes: a daemon it starts may keep them open.
    fn run_with_input(&self, script: &str, input: &str) -> Output {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let out_path = self.out.join(format!("{n}.out"));
        let err_path = self.out.join(format!("{n}.err"));
        let stdout = std::fs::File::create(&out_path).expect("stdout file");
        let stderr = std::fs::File::create(&err_path).expect("stderr file");
        let mut child = Command::new("timeout")
            .args(["-k", "5", "90", "nsenter", "-t", &self.init.to_string()])
            .args(["-m", "-n", "-p", "-r", "-w", "--", "sh", "-c", script])
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("HOME", "/root")
            .env("LANG", "C")
            .stdin(Stdio::piped())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("nsenter");
        let mut pipe = child.stdin.take().expect("stdin");
        let _ = pipe.write_all(input.as_bytes());
        drop(pipe);
        let status = child.wait().expect("wait nsenter");
        let output = Output {
            status,
            stdout: std::fs::read(&out_path).unwrap_or_default(),
            stderr: std::fs::read(&err_path).unwrap_or_default(),
        };
        let _ = std::fs::remove_file(&out_path);
        let _ = std::fs::remove_file(&err_path);
        output
    }

    fn sh(&self, script: &str) -> Output {
        self.run_with_input(script, "")
    }

    /// Runs `script`; panics with its output unless it succeeds; returns its stdout.
    #[track_caller]
    fn sh_ok(&self, script: &str) -> String {
        let out = self.sh(script);
        assert!(
            out.status.success(),
            "`{script}` failed ({:?}):\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The exit code of `script`, and its output for messages.
    fn code(&self, script: &str) -> (i32, String) {
        let out = self.sh(script);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn write(&self, path: &str, contents: &str) {
        let out = self.run_with_input(&format!("cat > '{path}'"), contents);
        assert!(out.status.success(), "write {path}");
    }

    /// A local account with a password, a login shell and a home it owns.
    fn add_user(&self, name: &str, password: &str) {
        self.sh_ok(&format!(
            "useradd -m -s /bin/sh {name} && echo '{name}:{password}' | chpasswd"
        ));
    }

    /// The ftp account and the Debian layout's secure_chroot_dir (from tmpfiles.d).
    fn prepare_accounts(&self) {
        self.sh_ok(
            "id ftp >/dev/null 2>&1 || useradd -r -d /srv/ftp -s /usr/sbin/nologin ftp
             mkdir -p /srv/ftp /usr/share/empty
             systemd-tmpfiles --create /stage/etc/tmpfiles.d/vsftpd.conf
             test -d /var/run/vsftpd/empty",
        );
    }

    /// Runs the client with `args`; its stdout.
    fn client(&self, args: &str) -> String {
        let out = self.sh(&format!("python3 /stage/client.py {args}"));
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Polls until the greeting of a new connection contains `text` (at most 10 s).
    fn wait_banner(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.client("");
            if out.contains(text) || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The listener's pid from the init script's pid file (empty if none).
    fn pid(&self) -> String {
        self.sh("cat /var/run/vsftpd/vsftpd.pid 2>/dev/null")
            .stdout
            .iter()
            .map(|&b| b as char)
            .collect::<String>()
            .trim()
            .to_string()
    }

    /// How many listeners run: vsftpd processes whose parent is the namespace's init.
    fn listeners(&self) -> usize {
        self.sh_ok("ps -e -o ppid=,comm= | awk '$1 == 1 && $2 == \"vsftpd\"' | wc -l")
            .trim()
            .parse()
            .unwrap_or(usize::MAX)
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // SIGKILL to unshare; --kill-child takes the namespace's init, and the kernel every
        // other process of the PID namespace; the mounts go with the last of them.
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        let _ = std::fs::remove_dir(&self.dir);
        let _ = std::fs::remove_dir_all(&self.out);
    }
}

// ---- the init script -----------------------------------------------------------------------

#[test]
fn init_script_headers() {
    let text = std::fs::read_to_string(repo().join("init.d/vsftpd")).expect("init.d/vsftpd");
    // chkconfig's own format: "# chkconfig: <runlevels or -> <start> <stop>".
    let line = text
        .lines()
        .find(|l| l.starts_with("# chkconfig:"))
        .expect("a chkconfig line");
    let fields: Vec<&str> = line["# chkconfig:".len()..].split_whitespace().collect();
    assert_eq!(fields.len(), 3, "{line}");
    assert!(
        fields[0] == "-" || fields[0].chars().all(|c| ('0'..='6').contains(&c)),
        "{line}"
    );
    for prio in &fields[1..] {
        let n: u32 = prio.parse().expect("a priority");
        assert!(n <= 99, "{line}");
    }
    assert_eq!(fields, ["-", "60", "50"]);
    let desc = text
        .lines()
        .position(|l| l.starts_with("# description:"))
        .expect("a description line");
    // A description continues on lines ending with a backslash, each a comment.
    let lines: Vec<&str> = text.lines().collect();
    let mut i = desc;
    while lines[i].ends_with('\\') {
        i += 1;
        assert!(
            lines[i].starts_with('#'),
            "description continues: {}",
            lines[i]
        );
    }
    // The LSB block.
    let begin = text.find("### BEGIN INIT INFO").expect("LSB block");
    let end = text.find("### END INIT INFO").expect("LSB block end");
    let block = &text[begin..end];
    for key in [
        "# Provides:          vsftpd",
        "# Required-Start:",
        "# Required-Stop:",
        "# Default-Start:     2 3 4 5",
        "# Default-Stop:      0 1 6",
        "# Short-Description:",
    ] {
        assert!(block.contains(key), "LSB block lacks {key}");
    }
    let out = Command::new("sh")
        .arg("-n")
        .arg(repo().join("init.d/vsftpd"))
        .output()
        .expect("sh -n");
    assert!(out.status.success(), "sh -n init.d/vsftpd");
}

#[test]
fn init_script_lifecycle() {
    require!("unshare", "nsenter", "python3", "service");
    let root = Root::new();
    root.prepare_accounts();
    root.sh_ok(
        "install -m 0755 /stage/init.d/vsftpd /etc/init.d/vsftpd
         rm -rf /etc/vsftpd /etc/default/vsftpd /etc/sysconfig/vsftpd
         install -m 0600 /stage/etc/vsftpd.conf /etc/vsftpd.conf
         install -m 0644 /stage/etc/pam.d/vsftpd /etc/pam.d/vsftpd
         install -m 0644 /stage/etc/ftpusers /etc/ftpusers",
    );
    root.add_user("svcuser", "svc-secret");
    let login = "--user svcuser --password svc-secret --list";

    let (rc, out) = root.code("service vsftpd status");
    assert_eq!(rc, 3, "status before start: {out}");
    let (rc, out) = root.code("service vsftpd start");
    assert_eq!(rc, 0, "start: {out}");
    let session = root.client(login);
    assert!(session.contains("BANNER 220 "), "{session}");
    assert!(session.contains("LOGIN 230"), "{session}");
    assert!(session.contains("LIST "), "{session}");
    let (rc, out) = root.code("service vsftpd status");
    assert_eq!(rc, 0, "status when running: {out}");
    let first = root.pid();
    assert!(!first.is_empty());

    // start again: still one daemon, the same one.
    let (rc, out) = root.code("service vsftpd start");
    assert_eq!(rc, 0, "second start: {out}");
    assert_eq!(root.pid(), first);
    assert_eq!(root.listeners(), 1);

    // condrestart and try-restart restart a running daemon.
    let (rc, out) = root.code("service vsftpd condrestart");
    assert_eq!(rc, 0, "condrestart: {out}");
    let second = root.pid();
    assert!(
        !second.is_empty() && second != first,
        "condrestart kept {first}"
    );
    let (rc, out) = root.code("service vsftpd try-restart");
    assert_eq!(rc, 0, "try-restart: {out}");
    let third = root.pid();
    assert!(
        !third.is_empty() && third != second,
        "try-restart kept {second}"
    );
    assert_eq!(root.listeners(), 1);
    assert!(root.client(login).contains("LOGIN 230"));

    // reload with a new banner: the same daemon, new sessions see it.
    root.sh_ok("echo 'ftpd_banner=Reloaded by the init script.' >> /etc/vsftpd.conf");
    let (rc, out) = root.code("service vsftpd configtest");
    assert_eq!(rc, 0, "configtest: {out}");
    let (rc, out) = root.code("service vsftpd reload");
    assert_eq!(rc, 0, "reload: {out}");
    let banner = root.wait_banner("220 Reloaded by the init script.");
    assert!(
        banner.contains("220 Reloaded by the init script."),
        "{banner}"
    );
    assert_eq!(root.pid(), third);

    // reload with a broken file: refused, the daemon keeps running as it was.
    root.sh_ok("cp /etc/vsftpd.conf /tmp/good.conf; echo 'no_such_option=YES' >> /etc/vsftpd.conf");
    let (rc, out) = root.code("service vsftpd configtest");
    assert_eq!(rc, 1, "configtest of a broken file: {out}");
    let (rc, out) = root.code("service vsftpd reload");
    assert_ne!(rc, 0, "reload of a broken file: {out}");
    assert!(out.contains("no_such_option"), "the error is shown: {out}");
    let (rc, out) = root.code("service vsftpd restart");
    assert_ne!(rc, 0, "restart with a broken file: {out}");
    assert_eq!(root.pid(), third, "the daemon was replaced");
    let session = root.client(login);
    assert!(
        session.contains("220 Reloaded by the init script."),
        "{session}"
    );
    assert!(session.contains("LOGIN 230"), "{session}");
    root.sh_ok("cp /tmp/good.conf /etc/vsftpd.conf");

    // stop: status 3, nothing left.
    let (rc, out) = root.code("service vsftpd stop");
    assert_eq!(rc, 0, "stop: {out}");
    let (rc, out) = root.code("service vsftpd status");
    assert_eq!(rc, 3, "status after stop: {out}");
    assert_eq!(root.listeners(), 0);
    assert_eq!(root.pid(), "");

    // condrestart and try-restart of a stopped daemon: rc 0, nothing starts.
    for action in ["condrestart", "try-restart", "force-reload"] {
        let (rc, out) = root.code(&format!("service vsftpd {action}"));
        assert_eq!(rc, 0, "{action} when stopped: {out}");
        assert_eq!(root.listeners(), 0, "{action} started a daemon");
    }
    let (rc, _) = root.code("service vsftpd status");
    assert_eq!(rc, 3);
    let (rc, _) = root.code("service vsftpd bogus");
    assert_eq!(rc, 2);
}

#[test]
fn init_script_runs_one_daemon_per_rhel_config() {
    require!("unshare", "nsenter", "python3");
    let root = Root::new();
    root.prepare_accounts();
    root.sh_ok(
        "install -m 0755 /stage/init.d/vsftpd /etc/init.d/vsftpd
         rm -f /etc/vsftpd.conf
         mkdir -p /etc/vsftpd /srv/site
         for site in one two; do
           port=2101; [ $site = two ] && port=2102
           printf 'listen=YES\\nanonymous_enable=YES\\nlocal_enable=NO\\nanon_root=/srv/site\\n\
secure_chroot_dir=/usr/share/empty\\nlisten_port=%s\\nftpd_banner=site %s\\n' $port $site \
             > /etc/vsftpd/$site.conf
         done",
    );
    let (rc, out) = root.code("/etc/init.d/vsftpd start");
    assert_eq!(rc, 0, "start: {out}");
    assert_eq!(root.listeners(), 2, "{out}");
    assert!(root.client("--port 2101").contains("220 site one"));
    assert!(root.client("--port 2102").contains("220 site two"));
    let (rc, out) = root.code("/etc/init.d/vsftpd status");
    assert_eq!(rc, 0, "status: {out}");
    root.sh_ok("kill $(cat /var/run/vsftpd/two.pid); sleep 0.5");
    let (rc, out) = root.code("/etc/init.d/vsftpd status");
    assert_ne!(rc, 0, "status with one of two stopped: {out}");
    let (rc, out) = root.code("/etc/init.d/vsftpd stop");
    assert_eq!(rc, 0, "stop: {out}");
    assert_eq!(root.listeners(), 0);
    let (rc, _) = root.code("/etc/init.d/vsftpd status");
    assert_eq!(rc, 3);
}

#[test]
fn update_rc_d_and_insserv_accept_the_lsb_block() {
    require!("unshare", "nsenter", "update-rc.d", "insserv");
    let root = Root::new();
    root.sh_ok(
        "install -m 0755 /stage/init.d/vsftpd /etc/init.d/vsftpd
         rm -f /etc/rc?.d/[SK]??vsftpd",
    );
    // insserv on a directory of its own: the host's other scripts are not ours to judge.
    let insserv = |script: &str| {
        root.code(&format!(
            "rm -rf /tmp/e; for d in 0 1 2 3 4 5 6 S; do mkdir -p /tmp/e/rc$d.d; done
             mkdir -p /tmp/e/init.d; {script}
             cd /tmp/e/init.d && insserv -n -v -p /tmp/e/init.d vsftpd 2>&1"
        ))
    };
    let (rc, out) = insserv("cp /etc/init.d/vsftpd /tmp/e/init.d/");
    assert_eq!(rc, 0, "insserv: {out}");
    for bad in ["broken", "warning", "FATAL", "missing"] {
        assert!(!out.contains(bad), "insserv: {out}");
    }
    // The check sees a broken block.
    let (_, out) =
        insserv("sed 's/^# Provides:.*/# Provides:/' /etc/init.d/vsftpd > /tmp/e/init.d/vsftpd");
    assert!(out.contains("broken"), "insserv did not notice: {out}");
    let links =
        |root: &Root| root.sh_ok("ls /etc/rc0.d /etc/rc2.d /etc/rc3.d | grep vsftpd || true");
    root.sh_ok("update-rc.d vsftpd defaults");
    let l = links(&root);
    assert!(
        l.contains("S01vsftpd") || l.lines().any(|x| x.starts_with('S')),
        "{l}"
    );
    assert!(l.lines().any(|x| x.starts_with('K')), "{l}");
    root.sh_ok("update-rc.d vsftpd disable");
    let l = links(&root);
    assert!(
        !l.lines().any(|x| x.starts_with('S')),
        "disable left a start link: {l}"
    );
    root.sh_ok("update-rc.d vsftpd enable");
    let l = links(&root);
    assert!(l.lines().any(|x| x.starts_with('S')), "enable: {l}");
    root.sh_ok("update-rc.d -f vsftpd remove");
    assert_eq!(links(&root).trim(), "", "remove left links");
}

// ---- systemd -------------------------------------------------------------------------------

/// The units with every /usr/sbin/vsftpd replaced by the built binary (verify wants ExecStart
/// paths that exist), in a fresh directory.
fn units_for_verify() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "vsftpd-rs-units-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("units dir");
    for entry in std::fs::read_dir(repo().join("systemd")).expect("systemd/") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        if name == "vsftpd-generator" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("unit");
        let text = text.replace("/usr/sbin/vsftpd", env!("CARGO_BIN_EXE_vsftpd"));
        std::fs::write(dir.join(name), text).expect("write unit");
    }
    dir
}

#[test]
fn systemd_units_verify_without_a_warning() {
    require!("systemd-analyze");
    let dir = units_for_verify();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args([
            "vsftpd.service",
            "vsftpd@site.service",
            "vsftpd.target",
            "vsftpd-inetd.socket",
            "vsftpd-inetd@0.service",
        ])
        .current_dir(&dir)
        .output()
        .expect("systemd-analyze verify");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager", "vsftpd.service"])
        .current_dir(&dir)
        .output()
        .expect("systemd-analyze security");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "verify failed: {stderr}");
    assert!(stderr.trim().is_empty(), "verify warns:\n{stderr}");
    let report = String::from_utf8_lossy(&security.stdout);
    let score = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or("")
        .to_string();
    eprintln!("{score}");
    let level: f32 = score
        .split(':')
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("an exposure level");
    assert!(level <= 4.0, "the hardening got weaker: {score}");
}

#[test]
fn systemd_units_say_what_the_daemon_needs() {
    let unit = std::fs::read_to_string(repo().join("systemd/vsftpd.service")).expect("unit");
    for line in [
        "Type=notify",
        "ExecStart=/usr/sbin/vsftpd /etc/vsftpd.conf -obackground=NO",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ProtectSystem=full",
        "ProtectHome=no",
        "PrivateTmp=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "vsftpd.service lacks {line}"
        );
    }
    let inetd = std::fs::read_to_string(repo().join("systemd/vsftpd-inetd@.service")).unwrap();
    assert!(inetd.contains("-olisten=NO -olisten_ipv6=NO"));
    assert!(inetd.contains("StandardInput=socket"));
    let socket = std::fs::read_to_string(repo().join("systemd/vsftpd-inetd.socket")).unwrap();
    assert!(socket.contains("Accept=yes") && socket.contains("Conflicts=vsftpd.service"));
    let instance = std::fs::read_to_string(repo().join("systemd/vsftpd@.service")).unwrap();
    assert!(instance.contains("/etc/vsftpd/%i.conf -obackground=NO"));
    assert!(
        instance.contains("PartOf=vsftpd.target") && instance.contains("WantedBy=vsftpd.target")
    );
}

#[test]
fn generator_wants_one_instance_per_config() {
    require!("unshare", "nsenter");
    let root = Root::new();
    let out = root.sh_ok(
        "mkdir -p /usr/lib/systemd/system /etc/vsftpd /tmp/gen
         cp /stage/systemd/vsftpd@.service /usr/lib/systemd/system/
         touch /etc/vsftpd/vsftpd.conf /etc/vsftpd/site-b.conf /etc/vsftpd/notes.txt
         sh /stage/systemd/vsftpd-generator /tmp/gen /tmp/gen /tmp/gen
         ls /tmp/gen/vsftpd.target.wants; readlink /tmp/gen/vsftpd.target.wants/*",
    );
    let mut names: Vec<&str> = out.lines().filter(|l| l.starts_with("vsftpd@")).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["vsftpd@site-b.service", "vsftpd@vsftpd.service"],
        "{out}"
    );
    assert!(
        out.contains("/usr/lib/systemd/system/vsftpd@.service"),
        "{out}"
    );
}

/// The capabilities of vsftpd.service's CapabilityBoundingSet, in setpriv's spelling.
fn unit_capabilities() -> Vec<String> {
    let unit = std::fs::read_to_string(repo().join("systemd/vsftpd.service")).expect("unit");
    let line = unit
        .lines()
        .find_map(|l| l.strip_prefix("CapabilityBoundingSet="))
        .expect("a CapabilityBoundingSet");
    line.split_whitespace()
        .map(|c| c.trim_start_matches("CAP_").to_ascii_lowercase())
        .collect()
}

#[test]
fn the_daemon_works_within_the_units_bounding_set() {
    require!("unshare", "nsenter", "python3", "setpriv");
    let caps = unit_capabilities();
    assert!(caps.len() >= 5, "{caps:?}");
    let root = Root::new();
    root.prepare_accounts();
    root.add_user("capuser", "cap-secret");
    root.add_user("capowner", "owner-secret");
    root.sh_ok(
        "install -m 0644 /stage/etc/pam.d/vsftpd /etc/pam.d/vsftpd
         install -m 0644 /stage/etc/ftpusers /etc/ftpusers
         mkdir -p /srv/anon/incoming && chown root:root /srv/anon && chmod 0555 /srv/anon
         chown ftp /srv/anon/incoming && chmod 0755 /srv/anon/incoming
         cat > /etc/caps.conf <<'EOF'
listen=YES
anonymous_enable=YES
no_anon_password=YES
anon_root=/srv/anon
write_enable=YES
anon_upload_enable=YES
chown_uploads=YES
chown_username=capowner
local_enable=YES
connect_from_port_20=YES
secure_chroot_dir=/var/run/vsftpd/empty
pam_service_name=vsftpd
EOF",
    );
    let bounding = format!(
        "-all,{}",
        caps.iter()
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let (rc, out) = root.code(&format!(
        "setpriv --bounding-set {bounding} --inh-caps -all --no-new-privs \
         /usr/sbin/vsftpd /etc/caps.conf -obackground=YES --pid-file /run/caps.pid"
    ));
    assert_eq!(rc, 0, "start under {bounding}: {out}");
    // The set the daemon was started with is exactly the unit's (the listener empties its
    // own bounding set once it runs, so it is read from the same command line).
    let capbnd = root.sh_ok(&format!(
        "setpriv --bounding-set {bounding} --inh-caps -all --no-new-privs \
         grep CapBnd /proc/self/status"
    ));
    let mask =
        u64::from_str_radix(capbnd.split_whitespace().nth(1).unwrap_or(""), 16).expect("CapBnd");
    assert_eq!(mask.count_ones() as usize, caps.len(), "{capbnd}");

    // A local login through PAM.
    let local = root.client("--user capuser --password cap-secret --list");
    assert!(local.contains("LOGIN 230"), "{local}");
    assert!(local.contains("LIST "), "{local}");
    // An anonymous upload, given away with chown_uploads.
    let up = root.client("--user anonymous --upload incoming/up.txt=uploaded");
    assert!(up.contains("STOR 226"), "{up}");
    let owner = root.sh_ok("stat -c %U /srv/anon/incoming/up.txt");
    assert_eq!(owner.trim(), "capowner");
    // An active transfer, connected from port 20.
    let active = root.client("--user anonymous --active --list");
    assert!(active.contains("DATAPEER 20\n"), "{active}");
    root.sh_ok("kill $(cat /run/caps.pid)");
}

// ---- the shipped configuration files -------------------------------------------------------

/// Starts `vsftpd CONF EXTRA` in the root (background=YES), after `vsftpd -t CONF`.
fn start_template(root: &Root, conf: &str, extra: &str) {
    let (rc, out) = root.code(&format!("/usr/sbin/vsftpd -t {conf} {extra}"));
    assert_eq!(rc, 0, "vsftpd -t {conf} {extra}: {out}");
    let (rc, out) = root.code(&format!(
        "/usr/sbin/vsftpd {conf} {extra} -obackground=YES --pid-file /run/t.pid"
    ));
    assert_eq!(rc, 0, "start {conf}: {out}");
}

#[test]
fn shipped_configs_pass_the_check() {
    let bin = env!("CARGO_BIN_EXE_vsftpd");
    // `-t` also checks the machine (issue #22): the directory and the user list that the
    // packages install are stood in for here, after the file.
    let machine = std::env::temp_dir().join(format!("vsftpd-rs-shipped-{}", std::process::id()));
    let empty = machine.join("empty");
    let user_list = machine.join("user_list");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(&user_list, "root\n").unwrap();
    for conf in ["etc/vsftpd.conf", "etc/rhel/vsftpd.conf", "etc/vsftpd.toml"] {
        let out = Command::new(bin)
            .arg("-t")
            .arg(repo().join(conf))
            .arg(format!("-osecure_chroot_dir={}", empty.display()))
            .arg(format!("-ouserlist_file={}", user_list.display()))
            .output()
            .expect("vsftpd -t");
        if running_as_root() || out.status.success() {
            assert!(
                out.status.success(),
                "{conf}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&machine);
}

#[test]
fn debian_template_logs_in_a_local_user() {
    require!("unshare", "nsenter", "python3");
    for conf in ["vsftpd.conf", "vsftpd.toml"] {
        let root = Root::new();
        root.prepare_accounts();
        root.add_user("debuser", "deb-secret");
        root.sh_ok(&format!(
            "install -m 0600 /stage/etc/{conf} /etc/{conf}
             install -m 0644 /stage/etc/pam.d/vsftpd /etc/pam.d/vsftpd
             install -m 0644 /stage/etc/ftpusers /etc/ftpusers
             echo 'root:root-secret' | chpasswd"
        ));
        start_template(&root, &format!("/etc/{conf}"), "");
        let s = root.client("--user debuser --password deb-secret --list");
        assert!(s.contains("LOGIN 230"), "{conf}: {s}");
        assert!(s.contains("LIST "), "{conf}: {s}");
        // Anonymous FTP is off; root is in /etc/ftpusers (pam_listfile).
        let s = root.client("--user anonymous --password x");
        assert!(s.contains("LOGIN 530"), "{conf}: anonymous: {s}");
        let s = root.client("--user root --password root-secret");
        assert!(s.contains("LOGIN 530"), "{conf}: root: {s}");
    }
}

#[test]
fn rhel_template_logs_in_and_uploads() {
    require!("unshare", "nsenter", "python3");
    let root = Root::new();
    root.prepare_accounts();
    root.add_user("rheluser", "rhel-secret");
    // Red Hat's PAM stack includes password-auth, which Debian lacks: the root gets one.
    root.sh_ok(
        "mkdir -p /etc/vsftpd
         install -m 0600 /stage/etc/rhel/vsftpd.conf /etc/vsftpd/vsftpd.conf
         install -m 0600 /stage/etc/rhel/ftpusers /etc/vsftpd/ftpusers
         install -m 0600 /stage/etc/rhel/user_list /etc/vsftpd/user_list
         install -m 0644 /stage/etc/rhel/pam.d/vsftpd /etc/pam.d/vsftpd
         printf 'auth include common-auth\\naccount include common-account\\n\
password include common-password\\nsession include common-session\\n' > /etc/pam.d/password-auth
         echo 'root:root-secret' | chpasswd",
    );
    // The rhel layout's userlist_file is /etc/vsftpd/user_list; a binary of the upstream
    // layout is told so.
    let layout = root.sh_ok("/usr/sbin/vsftpd --print-config /etc/vsftpd/vsftpd.conf | head -1");
    let extra = if layout.contains("rhel") {
        ""
    } else {
        "-ouserlist_file=/etc/vsftpd/user_list"
    };
    start_template(&root, "/etc/vsftpd/vsftpd.conf", extra);
    let s = root.client("--user rheluser --password rhel-secret --upload up.txt=hello --list");
    assert!(s.contains("LOGIN 230"), "{s}");
    assert!(s.contains("STOR 226"), "{s}");
    let stat = root.sh_ok("stat -c '%U %a' /home/rheluser/up.txt");
    assert_eq!(stat.trim(), "rheluser 644", "local_umask=022");
    // root is in user_list: refused before the password.
    let s = root.client("--user root --password root-secret");
    assert!(s.contains("LOGIN 530"), "root: {s}");
    let s = root.client("--user anonymous --password x");
    assert!(s.contains("LOGIN 530"), "anonymous: {s}");
}

//! Real clients with timeouts, one-shot runs of the binary, small helpers.

use std::ffi::OsStr;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::server::TempDir;

/// The binary under test.
pub fn vsftpd_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vsftpd"))
}

/// `len` bytes of a fixed pseudo-random pattern (position-dependent, so a dropped, repeated or
/// reordered block shows).
pub fn pattern_bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (x >> 56) as u8 ^ (i >> 20) as u8
        })
        .collect()
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` (stdin null unless set, stdout/stderr captured), killing it after `timeout`.
/// Panics on a timeout, with the output so far.
#[track_caller]
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => panic!("waiting for {cmd:?}: {e}"),
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = t_out.join().unwrap_or_default();
            let stderr = t_err.join().unwrap_or_default();
            panic!(
                "{cmd:?} still running after {timeout:?}; killed.\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct RunResult {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `vsftpd ARGS` once (20 s limit) and returns (exit code, stdout, stderr).
#[track_caller]
pub fn run_vsftpd<S: AsRef<OsStr>>(args: &[S]) -> (i32, String, String) {
    let r = run_vsftpd_in(args, None);
    (r.code, r.stdout, r.stderr)
}

/// Runs `vsftpd ARGS` once in `cwd` (20 s limit).
#[track_caller]
pub fn run_vsftpd_in<S: AsRef<OsStr>>(args: &[S], cwd: Option<&Path>) -> RunResult {
    let mut cmd = Command::new(vsftpd_bin());
    cmd.args(args)
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let o = run_with_timeout(&mut cmd, Duration::from_secs(20));
    RunResult {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `curl -sS --max-time 20 ARGS` (no config file read).
#[track_caller]
pub fn curl(args: &[&str]) -> Output {
    let mut cmd = Command::new("curl");
    cmd.args(["-q", "-sS", "--max-time", "20", "--connect-timeout", "5"])
        .args(args)
        .stdin(Stdio::null());
    run_with_timeout(&mut cmd, Duration::from_secs(30))
}

/// `wget --tries=1 --timeout=10 -nv ARGS` (no config file read).
#[track_caller]
pub fn wget(args: &[&str]) -> Output {
    let mut cmd = Command::new("wget");
    cmd.args(["--no-config", "--tries=1", "--timeout=10", "-nv"])
        .args(args)
        .stdin(Stdio::null());
    run_with_timeout(&mut cmd, Duration::from_secs(40))
}

/// `lftp -c "set net:timeout 10; set net:max-retries 1; …; SCRIPT"`, without the user's rc
/// files (HOME points to an empty dir).
#[track_caller]
pub fn lftp(script: &str) -> Output {
    lftp_in(script, None)
}

/// As [`lftp`], run in `cwd` (for `get` and `mirror`).
#[track_caller]
pub fn lftp_in(script: &str, cwd: Option<&Path>) -> Output {
    let full = format!(
        "set net:timeout 10; set net:max-retries 1; set net:reconnect-interval-base 1; \
         set net:persist-retries 0; set cmd:fail-exit yes; {script}"
    );
    let home = TempDir::new("lftp-home");
    let mut cmd = Command::new("lftp");
    cmd.arg("-c")
        .arg(full)
        .env("HOME", home.path())
        .env_remove("LFTP_HOME")
        .stdin(Stdio::null());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    run_with_timeout(&mut cmd, Duration::from_secs(60))
}

/// `python3 -c SCRIPT`.
#[track_caller]
pub fn python(script: &str) -> Output {
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(script).stdin(Stdio::null());
    run_with_timeout(&mut cmd, Duration::from_secs(60))
}

/// Python with `ftp`, an ftplib.FTP already connected to `addr` (timeout 10 s) and logged
/// in anonymously, then `body` (at top level, no indentation), then `ftp.quit()`.
#[track_caller]
pub fn python_ftplib(addr: SocketAddr, body: &str) -> Output {
    let host = addr.ip().to_string();
    let script = format!(
        "import ftplib, sys\n\
         ftp = ftplib.FTP()\n\
         ftp.connect({host:?}, {port}, timeout=10)\n\
         ftp.login()\n\
         {body}\n\
         ftp.quit()\n",
        port = addr.port()
    );
    python(&script)
}

/// True when the loopback interface has ::1 (from /proc/net/if_inet6).
pub fn ipv6_loopback_available() -> bool {
    std::fs::read_to_string("/proc/net/if_inet6")
        .map(|t| {
            t.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.first() == Some(&"00000000000000000000000000000001") && f.last() == Some(&"lo")
            })
        })
        .unwrap_or(false)
}

/// A command's output as text, for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

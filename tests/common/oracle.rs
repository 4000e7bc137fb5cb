//! Debian's packaged vsftpd 3.0.3, the oracle of the compliance tests: fetched once per target
//! dir with `apt-get download vsftpd` + `dpkg -x` into `<target>/vsftpd-oracle` (built under a
//! temp name, then renamed: parallel runs do not race); never installed (that would create
//! /etc/vsftpd.conf and an `ftp` user).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use super::server::{ensure_system_account, ProcessGuard};

/// `<target dir>/vsftpd-oracle/usr/sbin/vsftpd`, fetched (apt-get download + dpkg -x) once;
/// None when that is impossible here.
pub fn oracle_binary() -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let root = target.join("vsftpd-oracle");
    let bin = root.join("usr/sbin/vsftpd");
    if bin.is_file() {
        return Some(bin);
    }
    let tmp = target.join(format!("vsftpd-oracle.tmp.{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(tmp.join("debs")).ok()?;
    let run = |cmd: &mut Command| run_quietly(cmd, Duration::from_secs(20));
    let fetched = run(Command::new("apt-get")
        .args(["download", "-qq", "vsftpd"])
        .current_dir(tmp.join("debs")));
    let deb = fs::read_dir(tmp.join("debs"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"));
    let ok = fetched
        && deb.is_some_and(|deb| {
            run(Command::new("dpkg-deb")
                .arg("-x")
                .arg(deb)
                .arg(tmp.join("root")))
        });
    if !ok {
        let _ = fs::remove_dir_all(&tmp);
        return None;
    }
    // Another run may have won the race: its copy is as good as ours.
    if fs::rename(tmp.join("root"), &root).is_err() && !bin.is_file() {
        let _ = fs::remove_dir_all(&tmp);
        return None;
    }
    let _ = fs::remove_dir_all(&tmp);
    bin.is_file().then_some(bin)
}

/// Runs `cmd` with no input or output; false when it cannot start, fails, or is still running
/// after `timeout` (then it is killed): the caller falls back to the golden transcript.
pub fn run_quietly(cmd: &mut Command, timeout: Duration) -> bool {
    let Ok(mut child) = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// True once 127.0.0.1:`port` is in LISTEN state (/proc/net/tcp; no probe connection, which
/// would change the oracle's client count).
pub fn listening(port: u16) -> bool {
    let want = format!("0100007F:{port:04X}");
    fs::read_to_string("/proc/net/tcp").is_ok_and(|t| {
        t.lines().skip(1).any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&want.as_str()) && f.get(3) == Some(&"0A")
        })
    })
}

/// The account both servers run anonymous sessions as. Not [`super::server::test_account`]: vsftpd 3.0.3
/// chdir()s to the account's home before it chroot()s to anon_root, and fails the login with
/// `500 OOPS: cannot change directory:/nonexistent` when the home is missing (ours does not
/// need the home). This one's home is `/`. Created once if missing.
pub fn oracle_account() -> &'static str {
    ensure_system_account("vsftpdoracle", "/")
}

/// Starts the oracle on `conf` (which sets listen_port=`port`), its output in
/// `dir`/oracle.log, and returns once it listens; a start that fails shows that log.
pub fn start_listening(bin: &Path, conf: &Path, dir: &Path, port: u16) -> ProcessGuard {
    let log = fs::File::create(dir.join("oracle.log")).unwrap();
    let child = Command::new(bin)
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let mut guard = ProcessGuard::new(child, true);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !listening(port) {
        if let Some(status) = guard.try_status() {
            panic!(
                "the oracle exited ({status}): {}",
                fs::read_to_string(dir.join("oracle.log")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "the oracle is not listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    guard
}

//! Issue #2: the command line — `-v`, `-t`, `-o` ordering, `--print-config`,
//! `--quick-start` — against the real binary.

mod common;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// Writes `text` to `name` in a fresh temp dir (kept alive by the returned guard).
fn conf_file(test: &str, name: &str, text: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new(test);
    let p = dir.write(name, text);
    (dir, p)
}

/// `vsftpd -t FILE`, on a machine that has what the stock configs expect: -o after the file
/// points the options `-t` checks against the machine (issue #22) at things that exist here,
/// so these tests are about the file's syntax (tests/first_hour.rs is about the machine).
fn check(path: &Path) -> (i32, String, String) {
    let machine = TempDir::new("check_machine");
    let empty = machine.mkdir("empty");
    let tree = machine.mkdir("tree");
    let user_list = machine.write("user_list", "root\n");
    let mut args = vec![OsString::from("-t"), path.as_os_str().to_os_string()];
    for (k, v) in [
        ("secure_chroot_dir", empty.display().to_string()),
        ("ftp_username", test_account().to_string()),
        ("anon_root", tree.display().to_string()),
        ("userlist_file", user_list.display().to_string()),
    ] {
        args.push(OsString::from(format!("-o{k}={v}")));
    }
    run_vsftpd(&args)
}

/// Fails unless `-t` exits 1 with a stderr line that starts with
/// `vsftpd: FILE:LINE: <what>`; returns that line.
#[track_caller]
fn assert_config_error(text: &str, line: usize, what: &str) -> String {
    let (_dir, p) = conf_file("config_error", "vsftpd.conf", text);
    let (code, stdout, stderr) = check(&p);
    assert_eq!(code, 1, "exit code; stdout {stdout:?} stderr {stderr:?}");
    let prefix = format!("vsftpd: {}:{line}: {what}", p.display());
    match stderr.lines().find(|l| l.starts_with(&prefix)) {
        Some(l) => l.to_string(),
        None => panic!("no stderr line starting with {prefix:?}:\n{stderr}"),
    }
}

fn stock_config(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    assert!(
        p.exists(),
        "{} is missing (the stock configs live in tests/data/)",
        p.display()
    );
    p
}

#[test]
fn version_flag() {
    let (code, stdout, stderr) = run_vsftpd(&["-v"]);
    assert_eq!(code, 0, "stderr {stderr:?}");
    assert_eq!(
        stdout,
        format!("vsftpd: version 3.0.5 (vsftpd-rs {VERSION})\n")
    );
    assert_eq!(stderr, "");
}

#[test]
fn check_stock_upstream_config() {
    let (code, out, err) = check(&stock_config("upstream.conf"));
    assert_eq!(code, 0, "stdout {out:?} stderr {err:?}");
}

#[test]
fn check_stock_debian12_config() {
    let (code, out, err) = check(&stock_config("debian12.conf"));
    assert_eq!(code, 0, "stdout {out:?} stderr {err:?}");
}

#[test]
fn check_stock_rhel9_config() {
    let (code, out, err) = check(&stock_config("rhel9.conf"));
    assert_eq!(code, 0, "stdout {out:?} stderr {err:?}");
}

#[test]
fn check_valid_config() {
    let (_d, p) = conf_file(
        "check_valid",
        "vsftpd.conf",
        "# comment\n\nlisten=YES\nanonymous_enable=yes\nmax_clients=10\nftpd_banner=Hello there\nanon_umask=077\n",
    );
    let (code, out, err) = check(&p);
    assert_eq!(code, 0, "stdout {out:?} stderr {err:?}");
}

#[test]
fn check_unknown_option() {
    assert_config_error(
        "# test\nanonymous_enable=YES\nbogus_option=YES\n",
        3,
        "bogus_option=YES: ",
    );
}

#[test]
fn check_bad_boolean() {
    assert_config_error(
        "# test\nanonymous_enable=MAYBE\n",
        2,
        "anonymous_enable=MAYBE: ",
    );
}

#[test]
fn check_number_out_of_range() {
    assert_config_error("listen=YES\nlisten_port=70000\n", 2, "listen_port=70000: ");
}

#[test]
fn check_not_a_number() {
    assert_config_error("listen=YES\nmax_clients=lots\n", 2, "max_clients=lots: ");
}

#[test]
fn check_missing_value() {
    assert_config_error("listen=YES\nlisten_port=\n", 2, "listen_port");
    assert_config_error("listen=YES\n\nlisten_port\n", 3, "listen_port");
}

#[test]
fn check_missing_file() {
    let dir = TempDir::new("check_missing_file");
    let p = dir.join("no-such.conf");
    let (code, _, stderr) = check(&p);
    assert_eq!(code, 1, "{stderr}");
    let prefix = format!("vsftpd: {}", p.display());
    assert!(
        stderr.lines().any(|l| l.starts_with(&prefix)),
        "no line starting {prefix:?}:\n{stderr}"
    );
}

#[test]
fn check_file_owned_by_another_user() {
    let (_d, p) = conf_file("check_owner", "vsftpd.conf", "listen=YES\n");
    std::os::unix::fs::chown(&p, Some(65534), Some(65534)).expect("chown (tests run as root)");
    let (code, _, stderr) = check(&p);
    assert_eq!(code, 1, "{stderr}");
    let prefix = format!("vsftpd: {}", p.display());
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(&prefix) && l.contains("own")),
        "no line starting {prefix:?} about the owner:\n{stderr}"
    );
}

#[test]
fn check_directory_is_not_a_config_file() {
    let dir = TempDir::new("check_dir");
    let sub = dir.mkdir("conf.d");
    let (code, _, stderr) = check(&sub);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&sub.display().to_string()), "{stderr}");
}

#[test]
fn check_planned_tunable_at_non_default() {
    let line = assert_config_error(
        "listen=YES\nsetproctitle_enable=YES\n",
        2,
        "setproctitle_enable=YES: ",
    );
    assert!(
        line.contains("recognised but not supported yet (planned in #12)"),
        "{line}"
    );
}

#[test]
fn check_planned_tunable_at_default_is_accepted() {
    let (_d, p) = conf_file(
        "check_planned_default",
        "vsftpd.conf",
        "listen=YES\nsetproctitle_enable=NO\n",
    );
    let (code, out, err) = check(&p);
    assert_eq!(code, 0, "stdout {out:?} stderr {err:?}");
}

#[test]
fn check_bad_dash_o() {
    let (_d, p) = conf_file("check_bad_o", "vsftpd.conf", "listen=YES\n");
    let (code, _, stderr) =
        run_vsftpd(&[OsStr::new("-t"), OsStr::new("-obogus_key=1"), p.as_os_str()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("bogus_key"), "{stderr}");
    let (code, _, stderr) = run_vsftpd(&[
        OsStr::new("-t"),
        p.as_os_str(),
        OsStr::new("-olisten_port=notanumber"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("listen_port"), "{stderr}");
}

#[test]
fn check_toml_config() {
    let (_d, p) = conf_file(
        "check_toml",
        "vsftpd.toml",
        "listen = true\nlisten_port = 2121\nftpd_banner = \"hello\"\nanon_umask = \"077\"\n",
    );
    let (code, out, err) = check(&p);
    assert_eq!(code, 0, "stdout {out:?} stderr {err:?}");
    let (_d2, bad) = conf_file(
        "check_toml_bad",
        "vsftpd.toml",
        "listen = true\nno_such_key = 1\n",
    );
    let (code, _, stderr) = check(&bad);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&bad.display().to_string()) && stderr.contains("no_such_key"),
        "{stderr}"
    );
}

/// The value and the line of `key` in --print-config output (`key=value`, `key = value` or
/// `key value`, anything after the value ignored).
fn printed_value(out: &str, key: &str) -> Option<(String, String)> {
    out.lines().find_map(|l| {
        let t = l.trim_start();
        let rest = t.strip_prefix(key)?;
        if !rest.starts_with(['=', ' ', '\t', ':']) {
            return None;
        }
        let rest = rest.trim_start_matches([' ', '\t', '=', ':']);
        let value = rest
            .split(|c: char| c.is_whitespace() || c == '#')
            .next()
            .unwrap_or("")
            .trim_matches('"');
        Some((value.to_string(), l.to_string()))
    })
}

#[test]
fn dash_o_before_file_is_overridden_by_file() {
    let (_d, p) = conf_file("o_before_file", "vsftpd.conf", "listen_port=2\n");
    let (code, out, err) = run_vsftpd(&[
        OsStr::new("--print-config"),
        OsStr::new("-olisten_port=1"),
        p.as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (value, line) = printed_value(&out, "listen_port")
        .unwrap_or_else(|| panic!("no listen_port in --print-config output:\n{out}"));
    assert_eq!(value, "2", "{line}");
    assert!(
        line.contains(&p.display().to_string()) || line.contains("vsftpd.conf"),
        "the line does not say the value came from the file: {line}"
    );
}

#[test]
fn dash_o_after_file_overrides_it() {
    let (_d, p) = conf_file("o_after_file", "vsftpd.conf", "listen_port=2\n");
    let (code, out, err) = run_vsftpd(&[
        OsStr::new("--print-config"),
        p.as_os_str(),
        OsStr::new("-olisten_port=1"),
    ]);
    assert_eq!(code, 0, "{err}");
    let (value, line) = printed_value(&out, "listen_port")
        .unwrap_or_else(|| panic!("no listen_port in --print-config output:\n{out}"));
    assert_eq!(value, "1", "{line}");
    assert!(
        line.contains("-o") || line.to_lowercase().contains("command line"),
        "the line does not say the value came from -o: {line}"
    );
}

#[test]
fn print_config_shows_defaults_and_values() {
    let (_d, p) = conf_file(
        "print_config",
        "vsftpd.conf",
        "ftpd_banner=Banner from file\nmax_clients=7\n",
    );
    let (code, out, err) = run_vsftpd(&[OsStr::new("--print-config"), p.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    let (v, _) = printed_value(&out, "max_clients").expect("max_clients printed");
    assert_eq!(v, "7");
    assert!(out.contains("Banner from file"), "{out}");
    // A default that was not set: vsftpd's compiled-in max_per_ip is 50.
    let (v, _) = printed_value(&out, "max_per_ip").expect("max_per_ip printed");
    assert_eq!(v, "50");
}

/// `vsftpd --print-config | head -1` must not panic on the closed pipe (pitfall 10).
#[test]
fn print_config_into_closed_pipe() {
    let (_d, p) = conf_file("print_config_pipe", "vsftpd.conf", "listen=YES\n");
    // The read end is closed before the binary writes anything; stderr goes to a file so
    // nothing here can block without a deadline.
    let err_path = _d.join("stderr.log");
    let child = Command::new(vsftpd_bin())
        .arg("--print-config")
        .arg(&p)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(fs::File::create(&err_path).unwrap()))
        .spawn()
        .unwrap();
    let mut guard = ProcessGuard::new(child, false);
    drop(guard.take_stdout());
    let status = guard
        .wait_exit(std::time::Duration::from_secs(20))
        .expect("--print-config into a closed pipe did not exit within 20 s");
    let stderr = fs::read_to_string(&err_path).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(status.code(), Some(0) | Some(1)),
        "status {status}, stderr {stderr:?}"
    );
    // And through a shell, as a user types it.
    let script =
        r#"set -o pipefail; "$0" --print-config "$1" | head -1; echo "status=${PIPESTATUS[0]}""#;
    let o = run_with_timeout(
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg(vsftpd_bin())
            .arg(&p),
        std::time::Duration::from_secs(20),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out:?}");
    assert!(!lines[0].is_empty());
    assert!(
        lines[1] == "status=0" || lines[1] == "status=1",
        "{out:?} {err:?}"
    );
}

#[test]
fn quick_start_serves_dir() {
    let b = ServerBuilder::new("quick_start_dir").file("hello.txt", "quick start file\n");
    let dir = b.tree_path().to_path_buf();
    let cwd = b.dir_path().to_path_buf();
    let server = b
        .exact_args([
            OsStr::new("--quick-start"),
            dir.as_os_str(),
            OsStr::new("-olisten_port=0"),
        ])
        .current_dir(&cwd)
        .readiness(Readiness::OutputLine)
        .start();
    let port = server.port();
    assert_ne!(
        port, 2121,
        "-olisten_port=0 after --quick-start was ignored"
    );
    let output = format!("{}{}", server.stdout(), server.stderr());
    assert!(
        output.contains(&format!("vsftpd: listening on 127.0.0.1:{port}")),
        "{output}"
    );
    let mut c = server.login();
    let names = String::from_utf8(c.nlst("")).unwrap();
    assert!(names.contains("hello.txt"), "{names:?}");
    let (start, data, end) = c.retr("hello.txt");
    start.assert_is("150 Opening BINARY mode data connection for hello.txt (17 bytes).");
    end.assert_is("226 Transfer complete.");
    assert_eq!(data, b"quick start file\n");
    // Read-only.
    c.pasv();
    let r = c.cmd("STOR new.txt");
    assert!(r.code >= 500, "{r:?}");
    assert!(!dir.join("new.txt").exists());
}

#[test]
fn quick_start_default_demo_dir() {
    let b = ServerBuilder::new("quick_start_demo");
    let cwd = b.dir_path().to_path_buf();
    let server = b
        .exact_args(["--quick-start", "-olisten_port=0"])
        .current_dir(&cwd)
        .readiness(Readiness::OutputLine)
        .start();
    let demo = cwd.join("demo");
    assert!(demo.is_dir(), "./demo was not created");
    let files: Vec<String> = fs::read_dir(&demo)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!files.is_empty(), "./demo has no sample file");
    let mut c = server.login();
    let names = String::from_utf8(c.nlst("")).unwrap();
    for f in &files {
        assert!(names.contains(f.as_str()), "{f} not in {names:?}");
        let (_, data, _) = c.retr(f);
        assert_eq!(data, fs::read(demo.join(f)).unwrap(), "{f}");
    }
}

/// As root the quick start runs the logged-in session unprivileged and chrooted into DIR
/// (DESIGN: the full two-process model with nobody).
#[test]
fn quick_start_session_is_unprivileged_and_chrooted() {
    if !running_as_root() {
        eprintln!("SKIPPED: the quick start drops privileges only when started as root");
        return;
    }
    let b = ServerBuilder::new("quick_start_privs").file("hello.txt", "x");
    let dir = fs::canonicalize(b.tree_path()).unwrap();
    let cwd = b.dir_path().to_path_buf();
    let server = b
        .exact_args([
            OsStr::new("--quick-start"),
            dir.as_os_str(),
            OsStr::new("-olisten_port=0"),
        ])
        .current_dir(&cwd)
        .readiness(Readiness::OutputLine)
        .start();
    let mut c = server.login();
    let (_, data, _) = c.retr("hello.txt");
    assert_eq!(data, b"x");
    let daemon = server.pid();
    let mut seen = Vec::new();
    let found = wait_until(std::time::Duration::from_secs(5), || {
        seen = descendants(daemon);
        seen.iter()
            .any(|p| p.is_unprivileged() && p.root.as_deref() == Some(dir.as_path()))
    });
    assert!(
        found,
        "no session process that is unprivileged and chrooted into {}: {seen:#?}",
        dir.display()
    );
    // Nothing the daemon started is privileged and unconfined at the same time, except
    // (at most) the privileged helper, which never runs in the served tree.
    for p in &seen {
        if !p.is_unprivileged() {
            assert_ne!(
                p.root.as_deref(),
                Some(dir.as_path()),
                "a root-owned process is chrooted into the served tree: {p:?}"
            );
        }
    }
}

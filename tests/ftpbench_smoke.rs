//! Issue #6, the benchmark tool: `ftpbench` runs for about a second per figure against a test
//! server and reports every figure with a positive value; it refuses wrong data (exit 1) and
//! impossible limits (exit 2) instead of measuring or hanging. The real-user figure (issue #7)
//! logs in a real account through a real PAM service; the upload figure (issue "Writes")
//! uploads into a directory the anonymous account may write in, and checks every upload by
//! downloading it back. The benchmarks themselves
//! (bench/compare, bench/callgrind, bench/balancer) never run here; their scripts are only parsed.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::accounts::{PamService, TestUser};
use common::*;

/// ftpbench's pattern: byte i is (i*31+7) % 251.
fn ftpbench_pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

const BIG: usize = 4 << 20;
const SMALL: usize = 1024;
const ENTRIES: usize = 300;

fn bench_server(name: &str) -> Server {
    let mut b = ServerBuilder::new(name)
        .file("big.bin", ftpbench_pattern(BIG))
        .file("small.bin", ftpbench_pattern(SMALL))
        .dir("many")
        .set("max_clients", "20000")
        .set("max_per_ip", "0");
    for i in 0..ENTRIES {
        b = b.file(&format!("many/entry{i:04}"), "x");
    }
    b.start()
}

fn ftpbench(port: u16, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftpbench"));
    cmd.arg("--port").arg(port.to_string()).arg("--quiet");
    cmd.args(args);
    run_with_timeout(&mut cmd, Duration::from_secs(120))
}

/// The value of `"key": VALUE` in ftpbench's (flat) JSON summary; None for null or absent.
fn json_number(json: &str, key: &str) -> Option<f64> {
    let pat = format!("\"{key}\": ");
    let at = json.find(&pat)? + pat.len();
    let v: String = json[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    v.parse().ok()
}

fn assert_positive(json: &str, key: &str) -> f64 {
    let v = json_number(json, key).unwrap_or_else(|| panic!("no number for {key} in\n{json}"));
    assert!(v > 0.0, "{key} is {v} in\n{json}");
    v
}

#[test]
fn every_figure_runs_and_is_positive() {
    let server = bench_server("bench_all");
    let big = format!("big.bin:{BIG}");
    let small = format!("small.bin:{SMALL}");
    let entries = ENTRIES.to_string();
    let pid = server.pid().to_string();
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "retr,retr4,sessions,latency,busy,list,mlsd,idle",
            "--seconds",
            "1",
            "--clients",
            "1,4",
            "--busy-clients",
            "8",
            "--idle",
            "5",
            "--file",
            &big,
            "--small",
            &small,
            "--list-dir",
            "many",
            "--list-entries",
            &entries,
            "--server-pid",
            &pid,
            "--json",
            "-",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "ftpbench failed: {}", describe(&out));
    // One line per figure, then the JSON summary.
    for label in [
        "retr_1 ",
        "retr_4 ",
        "sessions@1 ",
        "sessions@4 ",
        "latency ",
        "busy@8 ",
        "list ",
        "idle ",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(label)),
            "no {label:?} line in\n{stdout}"
        );
    }
    let json = &stdout[stdout.find('{').expect("a JSON summary")..];
    assert!(json.contains("\"ok\": true"), "{json}");
    for key in [
        "retr_1_mb_s",
        "retr_4_mb_s",
        "sessions_1_per_s",
        "sessions_4_per_s",
        "busy_8_per_s",
        "latency_p50_ms",
        "latency_p99_ms",
        "list_ms",
        "idle_pss_kib_per_session",
    ] {
        assert_positive(json, key);
    }
    assert!(
        json_number(json, "latency_p99_ms") >= json_number(json, "latency_p50_ms"),
        "{json}"
    );
    assert_eq!(json_number(json, "sessions_1_errors"), Some(0.0), "{json}");
    assert_eq!(json_number(json, "sessions_1_refused"), Some(0.0), "{json}");
    assert_eq!(json_number(json, "busy_8_refused"), Some(0.0), "{json}");
    assert_eq!(json_number(json, "busy_8_errors"), Some(0.0), "{json}");
    assert_eq!(json_number(json, "idle_sessions"), Some(5.0), "{json}");
    assert_eq!(json_number(json, "idle_answering"), Some(5.0), "{json}");
    // MLSD: a positive time once the server has it, null (said so) before.
    if !json.contains("\"mlsd_ms\": null") {
        assert_positive(json, "mlsd_ms");
    }
    // The idle sessions are gone again: the daemon still serves.
    let mut c = server.login();
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

/// As bench/compare sets each server up for the upload figure: anonymous uploads into
/// `incoming`, owned by the account anonymous sessions run as, in a tree that account cannot
/// write to.
fn upload_server(name: &str) -> Server {
    let b = ServerBuilder::new(name)
        .set("write_enable", "YES")
        .set("anon_upload_enable", "YES")
        .set("anon_umask", "022");
    let incoming = b.tree_path().join("incoming");
    std::fs::create_dir(&incoming).unwrap();
    let account = if one_process_model() {
        "root"
    } else {
        test_account()
    };
    let out = Command::new("chown")
        .arg(account)
        .arg(&incoming)
        .output()
        .unwrap();
    assert!(out.status.success(), "chown: {}", describe(&out));
    b.start()
}

#[test]
fn the_stor_figure_uploads_and_checks_every_upload() {
    let server = upload_server("bench_stor");
    let big = format!("x:{BIG}");
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "stor",
            "--seconds",
            "0.3",
            "--file",
            &big,
            "--upload-dir",
            "incoming/",
            "--sync",
            "--json",
            "-",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "ftpbench failed: {}", describe(&out));
    let line = stdout
        .lines()
        .find(|l| l.starts_with("stor_1 "))
        .unwrap_or_else(|| panic!("no stor_1 line in\n{stdout}"));
    assert!(line.contains("checked by SIZE and RETR"), "{line}");
    assert!(line.contains("each after a sync"), "{line}");
    let json = &stdout[stdout.find('{').expect("a JSON summary")..];
    assert!(json.contains("\"ok\": true"), "{json}");
    assert_positive(json, "stor_1_mb_s");
    let uploads = assert_positive(json, "stor_uploads");
    // Anonymous sessions may not delete (anon_other_write_enable=NO): every upload stays, each
    // under a new name, each the whole pattern.
    assert_eq!(
        json_number(json, "stor_left_on_server"),
        Some(uploads),
        "{json}"
    );
    let incoming = server.tree_path().join("incoming");
    let mut names: Vec<_> = std::fs::read_dir(&incoming)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len() as f64, uploads, "{names:?}");
    for name in &names {
        assert!(
            name.starts_with("ftpbench-stor-") && name.ends_with(".bin"),
            "{name}"
        );
        assert!(
            std::fs::read(incoming.join(name)).unwrap() == ftpbench_pattern(BIG),
            "{name} is not the pattern"
        );
    }
}

#[test]
fn the_stor_figure_is_skipped_where_uploads_are_refused() {
    // The default configuration: no writes at all.
    let server = bench_server("bench_stor_refused");
    let big = format!("x:{BIG}");
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "stor",
            "--seconds",
            "0.1",
            "--file",
            &big,
            "--json",
            "-",
        ],
    );
    assert!(out.status.success(), "ftpbench failed: {}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"stor_1_mb_s\": null"), "{stdout}");
    assert!(
        stdout.contains("stor: skipped (the server refuses uploads: 550 Permission denied.)"),
        "{stdout}"
    );
    assert!(
        std::fs::read_dir(server.tree_path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("ftpbench-stor")),
        "an upload was left behind"
    );
    // Without --file (the size) it cannot run: asked for by name that is an error, and under
    // `all` a skip.
    let out = ftpbench(server.port(), &["--figure", "stor"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stor: needs --file"),
        "{}",
        describe(&out)
    );
}

/// bench/compare's PAM service: pam_unix for auth (without the delay after a failure) and
/// account.
const BENCH_PAM: &str = "auth required pam_unix.so nodelay\naccount required pam_unix.so\n";

#[test]
fn the_local_figure_logs_in_a_real_user_through_pam() {
    if one_process_model() {
        eprintln!("skipped: real users need the two-process model (root)");
        return;
    }
    let pam = PamService::new("vrs-bench", BENCH_PAM);
    // As in bench/compare: anonymous logins stay on, the user's home is the served tree.
    let b = ServerBuilder::new("bench_local")
        .file("small.bin", ftpbench_pattern(SMALL))
        .set("local_enable", "YES")
        .set("pam_service_name", &pam.name);
    let user = TestUser::new("vrsb", b.tree_path());
    let pass_file = b.temp().write("local.pass", format!("{}\n", user.password));
    let pass_file = pass_file.to_str().expect("temp path is UTF-8").to_string();
    let server = b.start();
    let small = format!("small.bin:{SMALL}");
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "local",
            "--seconds",
            "0.5",
            "--clients",
            "1,2",
            "--local-user",
            &user.name,
            "--local-pass-file",
            &pass_file,
            "--small",
            &small,
            "--json",
            "-",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "ftpbench failed: {}", describe(&out));
    for label in ["local@1 ", "local@2 ", "local_latency "] {
        assert!(
            stdout.lines().any(|l| l.starts_with(label)),
            "no {label:?} line in\n{stdout}"
        );
    }
    let json = &stdout[stdout.find('{').expect("a JSON summary")..];
    for key in [
        "local_1_per_s",
        "local_2_per_s",
        "local_latency_p50_ms",
        "local_latency_p99_ms",
    ] {
        assert_positive(json, key);
    }
    assert_eq!(json_number(json, "local_1_errors"), Some(0.0), "{json}");
    assert_eq!(json_number(json, "local_2_errors"), Some(0.0), "{json}");
    // The anonymous figures are not run: no sessions_ keys.
    assert!(!json.contains("\"sessions_"), "{json}");
    // A wrong password: no session completes (exit 2, PAM's refusal said), and the password
    // is in none of ftpbench's output.
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "local",
            "--seconds",
            "0.2",
            "--clients",
            "1",
            "--local-user",
            &user.name,
            "--local-pass",
            "not-the-password-42",
            "--small",
            &small,
            "--json",
            "-",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("local@1: no session completed") && all.contains("530"),
        "{all}"
    );
    assert!(!all.contains("not-the-password-42"), "{all}");
}

#[test]
fn the_local_figure_needs_a_user_and_is_skipped_without_one() {
    // Asked for by name, it needs a user and a password (checked before connecting).
    let out = ftpbench(1, &["--figure", "local", "--small", "small.bin:1024"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("local: needs --local-user"),
        "{}",
        describe(&out)
    );
    let out = ftpbench(1, &["--figure", "local", "--local-user", "someone"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--local-user needs --local-pass-file or --local-pass"),
        "{}",
        describe(&out)
    );
    let out = ftpbench(
        1,
        &[
            "--local-user",
            "someone",
            "--local-pass-file",
            "/nonexistent/password",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    // Within `all` it is skipped, and said so, like the figures whose file is not given.
    let server = ServerBuilder::new("bench_skip").file("a.txt", "x").start();
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "all",
            "--seconds",
            "0.1",
            "--clients",
            "1",
            "--idle",
            "1",
            "--json",
            "-",
        ],
    );
    assert!(out.status.success(), "ftpbench failed: {}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("\"local: skipped (no --local-user)\""),
        "{stdout}"
    );
    assert!(stdout.contains("\"stor: skipped (no --file)\""), "{stdout}");
    assert!(!stdout.lines().any(|l| l.starts_with("local")), "{stdout}");
}

#[test]
fn the_busy_figure_counts_refused_sessions_apart() {
    // One session at a time for four clients: the others are greeted with 421.
    let small = format!("small.bin:{SMALL}");
    let server = ServerBuilder::new("bench_busy_refused")
        .file("small.bin", ftpbench_pattern(SMALL))
        .set("max_clients", "1")
        .set("max_per_ip", "0")
        .start();
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "busy",
            "--busy-clients",
            "4",
            "--seconds",
            "1",
            "--small",
            &small,
            "--json",
            "-",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "ftpbench failed: {}", describe(&out));
    let line = stdout
        .lines()
        .find(|l| l.starts_with("busy@4 "))
        .unwrap_or_else(|| panic!("no busy@4 line in\n{stdout}"));
    assert!(
        line.contains("first refusal: greeting: 421 There are too many connected users"),
        "{line}"
    );
    let json = &stdout[stdout.find('{').expect("a JSON summary")..];
    assert_positive(json, "busy_4_per_s");
    assert_positive(json, "busy_4_refused");
    assert_eq!(json_number(json, "busy_4_errors"), Some(0.0), "{json}");
}

#[test]
fn idle_finds_the_server_from_its_port() {
    let server = bench_server("bench_idle_port");
    let out = ftpbench(
        server.port(),
        &["--figure", "idle", "--idle", "4", "--json", "-"],
    );
    assert!(out.status.success(), "ftpbench failed: {}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_positive(&stdout, "idle_pss_kib_per_session");
    assert_eq!(
        json_number(&stdout, "idle_answering"),
        Some(4.0),
        "{stdout}"
    );
}

#[test]
fn a_wrong_byte_or_size_exits_one() {
    let mut bad = ftpbench_pattern(100_000);
    bad[77_777] ^= 0x40;
    let server = ServerBuilder::new("bench_wrong")
        .file("bad.bin", bad)
        .file("good.bin", ftpbench_pattern(100_000))
        .start();
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "retr",
            "--seconds",
            "0.2",
            "--file",
            "bad.bin:100000",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("wrong byte at offset 77777"),
        "{}",
        describe(&out)
    );
    // The same bytes with a different expected size.
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "retr4",
            "--seconds",
            "0.2",
            "--file",
            "good.bin:100001",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("100000 bytes received, 100001 expected"),
        "{}",
        describe(&out)
    );
    // And in the sessions figure, where the small file is fetched by many sessions.
    let out = ftpbench(
        server.port(),
        &[
            "--figure",
            "sessions",
            "--clients",
            "2",
            "--seconds",
            "0.2",
            "--small",
            "bad.bin:100000",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
}

#[test]
fn impossible_limits_are_refused_before_connecting() {
    // Nothing listens on this port: the limit check comes first, and says what to change.
    let out = ftpbench(1, &["--figure", "idle", "--idle", "100000000"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ulimit -n") || stderr.contains("pid_max"),
        "{}",
        describe(&out)
    );
}

#[test]
fn make_pattern_and_the_sendfile_baseline() {
    let dir = TempDir::new("bench_baseline");
    let path = dir.join("pattern.bin");
    let path_str = path.to_str().expect("temp path is UTF-8");
    let exe = env!("CARGO_BIN_EXE_ftpbench");
    let out = run_with_timeout(
        Command::new(exe).args(["--make-pattern", path_str, "1000003"]),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        std::fs::read(&path).expect("the pattern file"),
        ftpbench_pattern(1_000_003)
    );
    let out = run_with_timeout(
        Command::new(exe).args([
            "--sendfile-baseline",
            path_str,
            "--seconds",
            "0.3",
            "--json",
            "-",
        ]),
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("sendfile_1 "), "{stdout}");
    assert_positive(&stdout, "sendfile_mb_s");
    // A file that is not the pattern is refused here too.
    let mut bad = ftpbench_pattern(5000);
    bad[4999] ^= 1;
    std::fs::write(&path, bad).expect("rewriting the pattern file");
    let out = run_with_timeout(
        Command::new(exe).args(["--sendfile-baseline", path_str, "--seconds", "0.1"]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong byte at offset 4999"),
        "{}",
        describe(&out)
    );
}

#[test]
fn bench_scripts_parse() {
    for script in ["bench/compare", "bench/callgrind", "bench/balancer"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
        let out = Command::new("bash").arg("-n").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(&path.metadata().unwrap().permissions());
        assert!(mode & 0o111 != 0, "{script} is not executable");
    }
}

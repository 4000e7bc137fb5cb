//! ftpbench: a load generator for any FTP server (issue #6), on std threads only.
//!
//! It measures the figures of docs/PERFORMANCE.md: RETR throughput over 1 and 4 parallel
//! streams, STOR throughput, sessions per second at several client counts and session latency
//! (anonymous, and for a real user whose login goes through the server's PAM stack), whole
//! sessions from a crowd of 128 and 256 clients with the sessions the server refused (issue
//! #18), LIST and MLSD of a big directory, and N idle logged-in sessions with the server's
//! memory per session.
//! Every byte it downloads is checked against a deterministic pattern (byte i = (i*31+7) % 251;
//! make such files with `ftpbench --make-pattern PATH SIZE`), and so is every upload, which is
//! that pattern, downloaded back; a wrong byte or size exits 1.
//!
//! One line per figure goes to stdout, a JSON summary to `--json FILE` (or stdout with
//! `--json -`), progress to stderr. Exit status: 0 all measured, 1 wrong data, 2 anything else
//! (usage, limits, a server that refuses).
#![forbid(unsafe_code)]

mod ftp;
mod procfs;

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ftp::{Ctrl, Fail, Res, Verifier, BUF_SIZE};

const USAGE: &str = "\
usage: ftpbench --port N [options]
       ftpbench --make-pattern PATH SIZE
       ftpbench --sendfile-baseline PATH [--seconds S] [--json FILE]

  --host H             server address (127.0.0.1)
  --port N             server port (required)
  --user U / --pass P  login (anonymous / ftpbench@)
  --local-user U       the real user of the local figure (the figure is skipped without it)
  --local-pass-file F  its password: the first line of F (kept out of the process list)
  --local-pass P       or the password itself
  --local-small N:S    the small file of the local figure, relative to the user's login
                       directory (--small's name and size)
  --server-pid PID     the server's pid, for the memory figure (found from the port if absent)
  --figure LIST        comma-separated: retr,retr4,stor,sessions,latency,local,busy,list,
                       mlsd,idle, or all (all)
  --seconds S          length of each timed run (2)
  --clients LIST       client counts for the sessions and local figures (1,16,64)
  --busy-clients LIST  client counts for the busy figure (128,256): the sessions figure's
                       loop from a crowd, reporting the sessions refused with a 421
  --idle N             idle logged-in sessions for the idle figure (500)
  --file NAME:SIZE     the big file for retr/retr4 (a pattern file of SIZE bytes); stor
                       uploads SIZE bytes of the pattern
  --upload-dir DIR     where stor uploads (the login directory); each upload gets a new
                       name, is downloaded back and checked, then deleted when the server
                       allows it
  --sync               for a server on this machine: run sync(1) before each upload (not
                       timed), so that every upload starts with no dirty pages to write
                       back and the figure is the server's, not the disk's
  --small NAME:SIZE    the small file each session downloads (a pattern file)
  --list-dir DIR       the directory for list/mlsd (the login directory)
  --list-entries N     the entries that directory must have (checked when given)
  --epsv               EPSV instead of PASV for data connections
  --tls                FTPS: AUTH TLS on every control connection, PROT P data connections
                       resuming its TLS session (the certificate is not checked)
  --json FILE          write the JSON summary there (- for stdout)
  --quiet              no progress on stderr

--sendfile-baseline sends PATH (a pattern file) over loopback with sendfile(2) (a python3
sender: std has no sendfile) to the same receiving loop as RETR: the machine's limit for RETR.

Every downloaded file (uploads too, downloaded back) must hold the pattern byte
i = (i*31+7) % 251 and have its stated size; otherwise ftpbench exits 1.
";

/// A file to download: its name on the server and its size.
#[derive(Clone)]
struct FileSpec {
    name: String,
    size: u64,
}

struct Opts {
    addr: SocketAddr,
    user: String,
    pass: String,
    /// The local figure's user and password (both or neither).
    local_user: Option<String>,
    local_pass: Option<String>,
    local_small: Option<FileSpec>,
    server_pid: Option<u32>,
    figures: Vec<String>,
    seconds: f64,
    clients: Vec<usize>,
    busy_clients: Vec<usize>,
    idle: usize,
    file: Option<FileSpec>,
    small: Option<FileSpec>,
    list_dir: String,
    list_entries: Option<usize>,
    upload_dir: String,
    /// Run sync(1) before each upload (untimed): for a server on this machine.
    sync: bool,
    epsv: bool,
    tls: ftp::Tls,
    json: Option<String>,
    quiet: bool,
}

const ALL_FIGURES: [&str; 10] = [
    "retr", "retr4", "stor", "sessions", "latency", "local", "busy", "list", "mlsd", "idle",
];

fn parse_spec(v: &str) -> Result<FileSpec, String> {
    let (name, size) = v
        .rsplit_once(':')
        .ok_or_else(|| format!("{v}: expected NAME:SIZE"))?;
    let size = size
        .parse()
        .map_err(|_| format!("{v}: SIZE is not a number"))?;
    if name.is_empty() {
        return Err(format!("{v}: empty name"));
    }
    Ok(FileSpec {
        name: name.to_string(),
        size,
    })
}

fn parse_args(args: &[String]) -> Result<Opts, String> {
    let mut host = "127.0.0.1".to_string();
    let mut port: Option<u16> = None;
    let mut o = Opts {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        user: "anonymous".into(),
        pass: "ftpbench@".into(),
        local_user: None,
        local_pass: None,
        local_small: None,
        server_pid: None,
        figures: Vec::new(),
        seconds: 2.0,
        clients: vec![1, 16, 64],
        busy_clients: vec![128, 256],
        idle: 500,
        file: None,
        small: None,
        list_dir: String::new(),
        list_entries: None,
        upload_dir: String::new(),
        sync: false,
        epsv: false,
        tls: None,
        json: None,
        quiet: false,
    };
    let mut figures = "all".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        let num = |v: String| -> Result<u64, String> {
            v.parse().map_err(|_| format!("{a}: {v} is not a number"))
        };
        match a.as_str() {
            "--host" => host = val()?,
            "--port" => {
                let v = val()?;
                port = Some(v.parse().map_err(|_| format!("--port: {v}"))?);
            }
            "--user" => o.user = val()?,
            "--pass" => o.pass = val()?,
            "--local-user" => o.local_user = Some(val()?),
            "--local-pass" => o.local_pass = Some(val()?),
            "--local-pass-file" => o.local_pass = Some(read_password(&val()?)?),
            "--local-small" => o.local_small = Some(parse_spec(&val()?)?),
            "--server-pid" => o.server_pid = Some(num(val()?)? as u32),
            "--figure" | "--figures" => figures = val()?,
            "--seconds" => {
                let v = val()?;
                o.seconds = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && *s < 3600.0)
                    .ok_or_else(|| format!("--seconds: {v}"))?;
            }
            "--clients" => o.clients = client_counts(a, &val()?)?,
            "--busy-clients" => o.busy_clients = client_counts(a, &val()?)?,
            "--idle" => o.idle = num(val()?)? as usize,
            "--file" => o.file = Some(parse_spec(&val()?)?),
            "--small" => o.small = Some(parse_spec(&val()?)?),
            "--list-dir" => o.list_dir = val()?,
            "--list-entries" => o.list_entries = Some(num(val()?)? as usize),
            "--upload-dir" => o.upload_dir = val()?.trim_end_matches('/').to_string(),
            "--sync" => o.sync = true,
            "--epsv" => o.epsv = true,
            "--tls" => o.tls = Some(ftp::tls_config()?),
            "--json" => o.json = Some(val()?),
            "--quiet" => o.quiet = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let port = port.ok_or("--port is required")?;
    match (&o.local_user, &o.local_pass) {
        (Some(_), None) => {
            return Err("--local-user needs --local-pass-file or --local-pass".into())
        }
        (None, Some(_)) => return Err("--local-pass needs --local-user".into()),
        _ => {}
    }
    o.addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}: no address"))?;
    for f in figures.split(',').map(str::trim) {
        if f == "all" {
            o.figures.extend(ALL_FIGURES.iter().map(|s| s.to_string()));
        } else if ALL_FIGURES.contains(&f) {
            o.figures.push(f.to_string());
        } else {
            return Err(format!("--figure: unknown figure {f}"));
        }
    }
    o.figures.dedup();
    Ok(o)
}

/// `--clients` and `--busy-clients`: comma-separated counts of 1..4096.
fn client_counts(opt: &str, v: &str) -> Result<Vec<usize>, String> {
    v.split(',')
        .map(|c| c.trim().parse().ok().filter(|n| (1..=4096).contains(n)))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| format!("{opt}: {v} (1..4096 each)"))
}

/// `--local-pass-file FILE`: the password is the file's first line (without its line end).
fn read_password(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let pass = text.lines().next().unwrap_or("");
    if pass.is_empty() {
        return Err(format!("{path}: no password on its first line"));
    }
    Ok(pass.to_string())
}

/// The JSON summary, built by hand: flat `"key": number|null|string` members.
#[derive(Default)]
struct Summary {
    members: Vec<(String, String)>,
    notes: Vec<String>,
}

impl Summary {
    fn num(&mut self, key: &str, v: f64) {
        self.members.push((key.to_string(), format!("{v:.3}")));
    }
    fn int(&mut self, key: &str, v: u64) {
        self.members.push((key.to_string(), v.to_string()));
    }
    fn null(&mut self, key: &str) {
        self.members.push((key.to_string(), "null".to_string()));
    }
    fn to_json_for(&self, server: &str, ok: bool) -> String {
        let mut s = String::from("{\n");
        let _ = writeln!(s, "  \"tool\": \"ftpbench\",");
        let _ = writeln!(s, "  \"server\": {},", json_str(server));
        let _ = writeln!(s, "  \"ok\": {ok},");
        let _ = writeln!(s, "  \"figures\": {{");
        for (i, (k, v)) in self.members.iter().enumerate() {
            let comma = if i + 1 < self.members.len() { "," } else { "" };
            let _ = writeln!(s, "    {}: {v}{comma}", json_str(k));
        }
        let _ = writeln!(s, "  }},");
        let notes: Vec<String> = self.notes.iter().map(|n| json_str(n)).collect();
        let _ = writeln!(s, "  \"notes\": [{}]", notes.join(", "));
        s.push_str("}\n");
        s
    }
}

fn json_str(v: &str) -> String {
    let mut s = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// One line per figure on stdout (write errors, e.g. a closed pipe, are ignored).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn note(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "ftpbench: {line}");
}

/// A progress line on stderr once a second while `f` runs, for runs of a few seconds or more.
fn with_progress<T: Send>(
    o: &Opts,
    label: &str,
    counter: &AtomicU64,
    unit: &str,
    f: impl FnOnce() -> T + Send,
) -> T {
    if o.quiet || o.seconds < 3.0 {
        return f();
    }
    let done = AtomicBool::new(false);
    let tty = std::io::stderr().is_terminal();
    std::thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            let mut last = Instant::now();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if last.elapsed() >= Duration::from_secs(1) {
                    last = Instant::now();
                    let line = format!(
                        "{label}: {:.0} s, {} {unit}",
                        start.elapsed().as_secs_f64(),
                        counter.load(Ordering::Relaxed)
                    );
                    let mut e = std::io::stderr().lock();
                    let _ = if tty {
                        write!(e, "\r{line}   ")
                    } else {
                        writeln!(e, "{line}")
                    };
                }
            }
            if tty {
                let _ = write!(std::io::stderr().lock(), "\r{:60}\r", "");
            }
        });
        let r = f();
        done.store(true, Ordering::Relaxed);
        r
    })
}

/// Waits (up to 70 s) while too many sockets sit in TIME_WAIT for a run to find `ports` free
/// client ports (at most half the range: a session run uses ports as fast as they are
/// freed); says so on stderr.
fn drain_time_wait(o: &Opts, ports: u64) {
    let range = procfs::port_range()
        .map(|(a, b)| b.saturating_sub(a))
        .unwrap_or(28_000);
    let limit = range.saturating_sub(ports.max(range / 2));
    let start = Instant::now();
    let mut said = false;
    while procfs::time_wait().is_some_and(|tw| tw > limit)
        && start.elapsed() < Duration::from_secs(70)
    {
        if !said && !o.quiet {
            note(&format!(
                "waiting for TIME_WAIT sockets to drain below {limit} (client ports)"
            ));
            said = true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// RETR of `--file` on `streams` parallel control connections, repeated until the time is up.
fn fig_retr(o: &Opts, streams: usize, sum: &mut Summary) -> Res<()> {
    let key = format!("retr_{streams}_mb_s");
    let Some(file) = o.file.clone() else {
        return Err(Fail::Other(format!("{key}: needs --file NAME:SIZE")));
    };
    let bytes = AtomicU64::new(0);
    let transfers = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(o.seconds);
    let results: Vec<Res<()>> = with_progress(o, &key, &transfers, "transfers", || {
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..streams)
                .map(|_| {
                    s.spawn(|| -> Res<()> {
                        let v = Verifier::new();
                        let mut buf = vec![0u8; BUF_SIZE];
                        let mut c = Ctrl::connect(o.addr, o.epsv, &o.tls)?;
                        c.login(&o.user, &o.pass)?;
                        c.expect("TYPE I", &[200])?;
                        // At least one transfer each, then until the deadline.
                        loop {
                            let n =
                                c.retr(&file.name, file.size, &v, &mut buf)
                                    .inspect_err(|_| {
                                        stop.store(true, Ordering::Relaxed);
                                    })?;
                            bytes.fetch_add(n, Ordering::Relaxed);
                            transfers.fetch_add(1, Ordering::Relaxed);
                            if Instant::now() >= deadline || stop.load(Ordering::Relaxed) {
                                break;
                            }
                        }
                        let _ = c.cmd("QUIT");
                        Ok(())
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Fail::Other("a worker panicked".into())))
                })
                .collect()
        })
    });
    let secs = start.elapsed().as_secs_f64();
    for r in results {
        r?;
    }
    let b = bytes.load(Ordering::Relaxed);
    let mbs = b as f64 / 1e6 / secs;
    say(&format!(
        "{:<16}{mbs:>10.1} MB/s   ({} transfers of {}, {b} bytes in {secs:.2} s, {streams} stream(s))",
        format!("retr_{streams}"),
        transfers.load(Ordering::Relaxed),
        file.name
    ));
    sum.num(&key, mbs);
    Ok(())
}

/// The name of upload `n` of this run: new names each time (an anonymous STOR may not replace a
/// file), in `--upload-dir`.
fn upload_name(o: &Opts, started: u64, n: u64) -> String {
    let name = format!("ftpbench-stor-{}-{started}-{n}.bin", std::process::id());
    if o.upload_dir.is_empty() {
        name
    } else {
        format!("{}/{name}", o.upload_dir)
    }
}

/// `--sync`: sync(1), which writes every dirty page of the machine back and waits for it
/// (std has no sync(2); the command is in every base system).
fn sync_disks() -> Res<()> {
    match std::process::Command::new("sync").status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(Fail::Other(format!("sync: {s}"))),
        Err(e) => Err(Fail::Other(format!("sync: {e}"))),
    }
}

/// STOR of `size` pattern bytes on one control connection, repeated until the uploads have
/// taken `--seconds` (at least once). Each upload is timed from PASV to the server's 226 (its
/// file is complete); after it, outside the timing, SIZE (when the server has it) and a RETR
/// of the file check every byte, and a DELE removes it where the server allows that
/// (anonymous sessions usually may not: those files stay). MB/s = bytes over the summed upload times.
/// With `--sync`, each upload starts after a sync(1), also untimed.
/// A server that refuses the first STOR skips the figure (null, said so).
fn fig_stor(o: &Opts, size: u64, sum: &mut Summary) -> Res<()> {
    let key = "stor_1_mb_s";
    let v = Verifier::new();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut c = Ctrl::connect(o.addr, o.epsv, &o.tls)?;
    c.login(&o.user, &o.pass)?;
    c.expect("TYPE I", &[200])?;
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let uploads = AtomicU64::new(0);
    let limit = Duration::from_secs_f64(o.seconds);
    let mut timed = Duration::ZERO;
    let mut each = Vec::new();
    let mut kept = 0u64;
    let mut size_checked = true;
    let run = with_progress(
        o,
        "stor_1",
        &uploads,
        "uploads",
        || -> Res<Option<String>> {
            loop {
                let n = uploads.load(Ordering::Relaxed);
                let name = upload_name(o, started, n);
                if o.sync {
                    sync_disks()?;
                }
                let t = Instant::now();
                match c.stor(&name, size, &v)? {
                    ftp::Stored::Done => {}
                    ftp::Stored::Refused(line) if n == 0 => return Ok(Some(line)),
                    ftp::Stored::Refused(line) => {
                        return Err(Fail::Other(format!("STOR {name}: {line}")))
                    }
                }
                let took = t.elapsed();
                timed += took;
                each.push(took);
                uploads.fetch_add(1, Ordering::Relaxed);
                // The check, untimed: the size the server reports, then every byte back.
                let r = c.cmd(&format!("SIZE {name}"))?;
                match (r.code, r.text.get(4..).map(|t| t.trim().parse::<u64>())) {
                    (213, Some(Ok(got))) if got == size => {}
                    (213, _) => {
                        return Err(Fail::Verify(format!(
                            "{name}: uploaded {size} bytes, the server's SIZE says {}",
                            r.text.trim()
                        )))
                    }
                    _ => size_checked = false,
                }
                if let Err(line) = c.try_retr(&name, size, &v, &mut buf)? {
                    return Err(Fail::Other(format!(
                        "{name}: uploaded, but RETR to check it was refused: {line}"
                    )));
                }
                if !c.cmd(&format!("DELE {name}")).is_ok_and(|r| r.code == 250) {
                    kept += 1;
                }
                if timed >= limit {
                    return Ok(None);
                }
            }
        },
    )?;
    if let Some(line) = run {
        let why = format!("stor: skipped (the server refuses uploads: {line})");
        say(&format!("{:<16}{:>10} ({line})", "stor_1", "refused"));
        note(&why);
        sum.null(key);
        sum.notes.push(why);
        let _ = c.cmd("QUIT");
        return Ok(());
    }
    let _ = c.cmd("QUIT");
    let n = uploads.load(Ordering::Relaxed);
    let secs = timed.as_secs_f64();
    let bytes = n * size;
    let mbs = bytes as f64 / 1e6 / secs;
    let dir = if o.upload_dir.is_empty() {
        "the login directory"
    } else {
        &o.upload_dir
    };
    let left = match kept {
        0 => String::new(),
        k => format!("; {k} left in {dir}: DELE refused"),
    };
    let synced = if o.sync { ", each after a sync" } else { "" };
    // Each upload's time: a disk that cannot keep up shows as the later uploads slowing down.
    let times: Vec<String> = each
        .iter()
        .map(|d| format!("{:.2}", d.as_secs_f64()))
        .collect();
    say(&format!(
        "{:<16}{mbs:>10.1} MB/s   ({n} uploads to {dir}, {bytes} bytes in {secs:.2} s: {} s{synced}; \
         checked by {}RETR{left})",
        "stor_1",
        times.join(" / "),
        if size_checked { "SIZE and " } else { "" },
    ));
    sum.num(key, mbs);
    sum.int("stor_uploads", n);
    sum.int("stor_left_on_server", kept);
    Ok(())
}

/// The sessions of a session figure: who logs in, what each downloads, and the figure's names.
/// `sessions` logs in as `--user` (anonymous); `local` as `--local-user`, a real account whose
/// login goes through the server's PAM stack. Otherwise the two are the same loop.
struct SessionKind<'a> {
    /// The figure: `sessions@N` on stdout, `sessions_N_per_s` in the JSON summary.
    figure: &'static str,
    /// Its latency: the `latency` line, `latency_p50_ms` in the JSON summary.
    latency: &'static str,
    user: &'a str,
    pass: &'a str,
    small: &'a FileSpec,
}

/// The anonymous sessions of the sessions and latency figures (None without `--small`).
fn anonymous_sessions(o: &Opts) -> Option<SessionKind<'_>> {
    Some(SessionKind {
        figure: "sessions",
        latency: "latency",
        user: &o.user,
        pass: &o.pass,
        small: o.small.as_ref()?,
    })
}

/// The busy figure's sessions: the anonymous sessions, from `--busy-clients` clients at once
/// (None without `--small`).
fn busy_sessions(o: &Opts) -> Option<SessionKind<'_>> {
    Some(SessionKind {
        figure: "busy",
        latency: "busy_latency",
        ..anonymous_sessions(o)?
    })
}

/// The real user's sessions of the local figure (None without `--local-user` or a small file).
fn local_sessions(o: &Opts) -> Option<SessionKind<'_>> {
    Some(SessionKind {
        figure: "local",
        latency: "local_latency",
        user: o.local_user.as_deref()?,
        pass: o.local_pass.as_deref()?,
        small: o.local_small.as_ref().or(o.small.as_ref())?,
    })
}

/// One whole session: connect, login, TYPE I, PASV, RETR of the small file, QUIT.
fn one_session(o: &Opts, k: &SessionKind, v: &Verifier, buf: &mut [u8]) -> Res<()> {
    let mut c = Ctrl::connect(o.addr, o.epsv, &o.tls)?;
    c.login(k.user, k.pass)?;
    c.expect("TYPE I", &[200])?;
    c.retr(&k.small.name, k.small.size, v, buf)?;
    c.expect("QUIT", &[221])?;
    Ok(())
}

struct SessionRun {
    per_s: f64,
    done: u64,
    /// Errors other than refusals.
    errors: u64,
    first_error: Option<String>,
    /// Sessions the server greeted with 421.
    refused: u64,
    first_refusal: Option<String>,
    latencies: Vec<Duration>,
}

fn run_sessions(o: &Opts, k: &SessionKind, clients: usize) -> Res<SessionRun> {
    drain_time_wait(o, 0);
    let done = AtomicU64::new(0);
    let errors = AtomicU64::new(0);
    let refused = AtomicU64::new(0);
    let first_error = Mutex::new(None::<String>);
    let first_refusal = Mutex::new(None::<String>);
    let bad_data = Mutex::new(None::<Fail>);
    let lat = Mutex::new(Vec::new());
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(o.seconds);
    let label = format!("{}@{clients}", k.figure);
    with_progress(o, &label, &done, "sessions", || {
        std::thread::scope(|s| {
            for _ in 0..clients {
                s.spawn(|| {
                    let v = Verifier::new();
                    let mut buf = vec![0u8; BUF_SIZE.min(64 * 1024)];
                    let mut mine = Vec::new();
                    while Instant::now() < deadline {
                        if bad_data.lock().map(|b| b.is_some()).unwrap_or(true) {
                            break;
                        }
                        let t = Instant::now();
                        match one_session(o, k, &v, &mut buf) {
                            Ok(()) => {
                                mine.push(t.elapsed());
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(Fail::Verify(m)) => {
                                if let Ok(mut b) = bad_data.lock() {
                                    b.get_or_insert(Fail::Verify(m));
                                }
                                break;
                            }
                            Err(Fail::Refused(m)) => {
                                refused.fetch_add(1, Ordering::Relaxed);
                                if let Ok(mut f) = first_refusal.lock() {
                                    f.get_or_insert(m);
                                }
                            }
                            Err(Fail::Other(m)) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                                if let Ok(mut f) = first_error.lock() {
                                    f.get_or_insert(m);
                                }
                            }
                        }
                    }
                    if let Ok(mut l) = lat.lock() {
                        l.extend(mine);
                    }
                });
            }
        });
    });
    let secs = start.elapsed().as_secs_f64();
    if let Some(f) = bad_data.into_inner().ok().flatten() {
        return Err(f);
    }
    let n = done.load(Ordering::Relaxed);
    let mut latencies = lat.into_inner().unwrap_or_default();
    latencies.sort();
    Ok(SessionRun {
        per_s: n as f64 / secs,
        done: n,
        errors: errors.load(Ordering::Relaxed),
        first_error: first_error.into_inner().ok().flatten(),
        refused: refused.load(Ordering::Relaxed),
        first_refusal: first_refusal.into_inner().ok().flatten(),
        latencies,
    })
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn report_latency(k: &SessionKind, run: &SessionRun, sum: &mut Summary) {
    let p50 = percentile_ms(&run.latencies, 0.50);
    let p99 = percentile_ms(&run.latencies, 0.99);
    say(&format!(
        "{:<16}{p50:>10.2} ms p50 {p99:>8.2} ms p99   ({} sessions, 1 client)",
        k.latency, run.done
    ));
    sum.num(&format!("{}_p50_ms", k.latency), p50);
    sum.num(&format!("{}_p99_ms", k.latency), p99);
}

/// Sessions per second at each of `counts` (`--clients`, or `--busy-clients` for the busy
/// figure), with the errors and the sessions refused with a 421 apart; and the latency of the
/// 1-client run (an extra run at 1 client when `counts` lacks it) when `want_latency`.
fn fig_sessions(
    o: &Opts,
    k: &SessionKind,
    counts: &[usize],
    want_latency: bool,
    sum: &mut Summary,
) -> Res<()> {
    let mut latency_done = false;
    for &clients in counts {
        let run = run_sessions(o, k, clients)?;
        let mut err = String::new();
        if let Some(e) = &run.first_error {
            let _ = write!(err, ", first error: {e}");
        }
        if let Some(e) = &run.first_refusal {
            let _ = write!(err, ", first refusal: {e}");
        }
        say(&format!(
            "{:<16}{:>10.1} /s     ({} sessions, {} refused, {} errors{err})",
            format!("{}@{clients}", k.figure),
            run.per_s,
            run.done,
            run.refused,
            run.errors
        ));
        sum.num(&format!("{}_{clients}_per_s", k.figure), run.per_s);
        sum.int(&format!("{}_{clients}_errors", k.figure), run.errors);
        sum.int(&format!("{}_{clients}_refused", k.figure), run.refused);
        if let Some(e) = &run.first_error {
            sum.notes.push(format!("{}@{clients}: {e}", k.figure));
        }
        if let Some(e) = &run.first_refusal {
            sum.notes.push(format!(
                "{}@{clients}: {} sessions refused, the first: {e}",
                k.figure, run.refused
            ));
        }
        if clients == 1 && want_latency {
            report_latency(k, &run, sum);
            latency_done = true;
        }
        if run.done == 0 {
            return Err(Fail::Other(format!(
                "{}@{clients}: no session completed{err}",
                k.figure
            )));
        }
    }
    if want_latency && !latency_done {
        let run = run_sessions(o, k, 1)?;
        report_latency(k, &run, sum);
    }
    Ok(())
}

/// LIST or MLSD of `--list-dir`, repeated for the run's time (at least 3 times): the median.
fn fig_listing(o: &Opts, verb: &str, sum: &mut Summary) -> Res<()> {
    let key = format!("{}_ms", verb.to_ascii_lowercase());
    let mut c = Ctrl::connect(o.addr, o.epsv, &o.tls)?;
    c.login(&o.user, &o.pass)?;
    c.expect("TYPE A", &[200])?;
    let cmd = if o.list_dir.is_empty() {
        verb.to_string()
    } else {
        format!("{verb} {}", o.list_dir)
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(o.seconds);
    let mut times = Vec::new();
    let mut entries = 0;
    while times.len() < 3 || Instant::now() < deadline {
        let t = Instant::now();
        let data = match c.listing(&cmd) {
            Ok(d) => d,
            Err(Fail::Other(m)) if times.is_empty() && verb == "MLSD" => {
                say(&format!(
                    "{:<16}{:>10} ({m})",
                    key.trim_end_matches("_ms"),
                    "unsupported"
                ));
                sum.null(&key);
                sum.notes.push(m.clone());
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        times.push(t.elapsed());
        let text = String::from_utf8_lossy(&data);
        entries = text
            .lines()
            .filter(|l| !l.is_empty())
            .filter(|l| {
                let facts = l.split(' ').next().unwrap_or("").to_ascii_lowercase();
                verb != "MLSD" || !(facts.contains("type=cdir") || facts.contains("type=pdir"))
            })
            .filter(|l| verb != "LIST" || !l.starts_with("total "))
            .count();
        if let Some(want) = o.list_entries {
            if entries != want {
                return Err(Fail::Verify(format!(
                    "{cmd}: {entries} entries, {want} expected"
                )));
            }
        }
    }
    let _ = c.cmd("QUIT");
    times.sort();
    let med = times[times.len() / 2].as_secs_f64() * 1e3;
    say(&format!(
        "{:<16}{med:>10.2} ms     (median of {}, {entries} entries)",
        verb.to_ascii_lowercase(),
        times.len()
    ));
    sum.num(&key, med);
    Ok(())
}

/// The limits an idle run of `n` sessions needs, checked before it starts.
fn check_limits(o: &Opts, n: usize) -> Res<()> {
    let n = n as u64;
    let clients = o
        .clients
        .iter()
        .chain(&o.busy_clients)
        .copied()
        .max()
        .unwrap_or(1) as u64;
    let need_fds = n.max(clients * 2) + 64;
    if let Some(soft) = procfs::nofile_soft() {
        if soft < need_fds {
            return Err(Fail::Other(format!(
                "open files limit (ulimit -n) is {soft}; {n} idle sessions need about {need_fds}: \
                 raise it (ulimit -n {need_fds}) or lower --idle"
            )));
        }
    }
    if let Some(max) = procfs::pid_max() {
        // The two-process model runs two processes per session.
        let have = procfs::process_count();
        let need = have + 2 * n + 100;
        if need > max {
            return Err(Fail::Other(format!(
                "pid_max is {max} and {have} processes run; {n} sessions may need {} more \
                 (two per session): raise kernel.pid_max or lower --idle",
                2 * n + 100
            )));
        }
    }
    Ok(())
}

/// N idle logged-in sessions: memory per session and whether each still answers NOOP.
fn fig_idle(o: &Opts, sum: &mut Summary) -> Res<()> {
    let n = o.idle;
    if n == 0 {
        return Err(Fail::Other("--idle must be at least 1".into()));
    }
    check_limits(o, n)?;
    // Each idle session holds a client port for the whole figure.
    drain_time_wait(o, n as u64);
    let pid = o
        .server_pid
        .or_else(|| procfs::find_listener(o.addr.port()));
    let before = match pid {
        Some(p) => match procfs::tree_pss(p) {
            Ok(v) => Some(v),
            Err(e) => {
                sum.notes.push(format!("idle: {e}"));
                None
            }
        },
        None => {
            sum.notes
                .push("idle: server pid unknown (give --server-pid): no memory figure".into());
            None
        }
    };
    let opened = AtomicU64::new(0);
    let next = AtomicU64::new(0);
    let conns = Mutex::new(Vec::with_capacity(n));
    let first_error = Mutex::new(None::<String>);
    let failed = AtomicU64::new(0);
    let workers = n.clamp(1, 32);
    let setup = Instant::now();
    let progress_opts = Opts {
        seconds: if n >= 1000 { 10.0 } else { 0.0 },
        quiet: o.quiet,
        ..clone_opts(o)
    };
    with_progress(
        &progress_opts,
        "idle",
        &opened,
        "sessions logged in",
        || {
            std::thread::scope(|s| {
                for _ in 0..workers {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        while next.fetch_add(1, Ordering::Relaxed) < n as u64 {
                            let r = Ctrl::connect(o.addr, o.epsv, &o.tls).and_then(|mut c| {
                                c.login(&o.user, &o.pass)?;
                                Ok(c)
                            });
                            match r {
                                Ok(c) => {
                                    mine.push(c);
                                    opened.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(e) => {
                                    failed.fetch_add(1, Ordering::Relaxed);
                                    if let Ok(mut f) = first_error.lock() {
                                        f.get_or_insert(e.msg().to_string());
                                    }
                                }
                            }
                        }
                        if let Ok(mut c) = conns.lock() {
                            c.extend(mine);
                        }
                    });
                }
            });
        },
    );
    let setup_secs = setup.elapsed().as_secs_f64();
    let mut conns = conns.into_inner().unwrap_or_default();
    let logged_in = conns.len() as u64;
    let after = pid.and_then(|p| procfs::tree_pss(p).ok());
    let answering = conns
        .iter_mut()
        .map(|c| c.cmd("NOOP").is_ok_and(|r| r.code == 200))
        .filter(|ok| *ok)
        .count() as u64;
    let per = match (before, after) {
        (Some((b, _)), Some((a, procs))) if logged_in > 0 => {
            Some((a.saturating_sub(b) as f64 / logged_in as f64, a, procs))
        }
        _ => None,
    };
    let err = first_error.into_inner().ok().flatten();
    let mem = match per {
        Some((k, total, procs)) => {
            format!("{k:>10.1} KiB/session PSS   ({total} KiB over {procs} server processes; ")
        }
        None => format!("{:>10} KiB/session   (", "?"),
    };
    say(&format!(
        "{:<16}{mem}{logged_in} of {n} logged in in {setup_secs:.1} s, {answering} answer NOOP{})",
        "idle",
        err.as_ref()
            .map(|e| format!("; first error: {e}"))
            .unwrap_or_default()
    ));
    sum.int("idle_sessions", logged_in);
    sum.int("idle_answering", answering);
    match per {
        Some((k, total, _)) => {
            sum.num("idle_pss_kib_per_session", k);
            sum.int("idle_pss_kib_total", total);
        }
        None => sum.null("idle_pss_kib_per_session"),
    }
    if let Some(e) = err {
        sum.notes.push(format!("idle: {e}"));
    }
    for c in conns.iter_mut() {
        let _ = c.cmd("QUIT");
    }
    if failed.load(Ordering::Relaxed) > 0 || answering < logged_in {
        return Err(Fail::Other(format!(
            "idle: {} sessions failed to log in, {} of {logged_in} did not answer NOOP",
            failed.load(Ordering::Relaxed),
            logged_in - answering
        )));
    }
    Ok(())
}

fn clone_opts(o: &Opts) -> Opts {
    Opts {
        addr: o.addr,
        user: o.user.clone(),
        pass: o.pass.clone(),
        local_user: o.local_user.clone(),
        local_pass: o.local_pass.clone(),
        local_small: o.local_small.clone(),
        server_pid: o.server_pid,
        figures: o.figures.clone(),
        seconds: o.seconds,
        clients: o.clients.clone(),
        busy_clients: o.busy_clients.clone(),
        idle: o.idle,
        file: o.file.clone(),
        small: o.small.clone(),
        list_dir: o.list_dir.clone(),
        list_entries: o.list_entries,
        upload_dir: o.upload_dir.clone(),
        sync: o.sync,
        epsv: o.epsv,
        tls: o.tls.clone(),
        json: o.json.clone(),
        quiet: o.quiet,
    }
}

/// `--make-pattern PATH SIZE`: writes a pattern file.
fn make_pattern(path: &str, size: &str) -> Result<(), String> {
    let size: u64 = size.parse().map_err(|_| format!("{size}: not a size"))?;
    let f = std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    // Whole periods of the pattern, so every chunk starts at phase 0.
    let chunk = ftp::pattern(ftp::PATTERN_PERIOD * 4096);
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n])
            .map_err(|e| format!("{path}: {e}"))?;
        left -= n as u64;
    }
    w.flush().map_err(|e| format!("{path}: {e}"))
}

/// The sender of the sendfile baseline: std has no sendfile (its io::copy from a file to a
/// socket reads and writes 8 KiB at a time), so a few lines of Python call os.sendfile, a thin
/// wrapper of sendfile(2), over the whole file per connection. It prints its port.
const SENDFILE_SENDER: &str = r#"
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    with open(sys.argv[1], "rb") as f:
        size = os.fstat(f.fileno()).st_size
        off = 0
        try:
            while off < size:
                n = os.sendfile(c.fileno(), f.fileno(), off, size - off)
                if n == 0:
                    break
                off += n
        except OSError:
            pass
    c.close()
"#;

/// Kills and reaps the sender on every path out.
struct Sender(std::process::Child);

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `--sendfile-baseline PATH`: the machine's limit for one RETR stream. A sender passes the
/// file to loopback sockets with sendfile(2); the receiver is the same verifying loop as RETR;
/// repeated for `--seconds`.
fn sendfile_baseline(path: &str, seconds: f64, sum: &mut Summary) -> Res<()> {
    use std::io::{BufRead, Read};
    use std::net::TcpStream;
    use std::process::{Command, Stdio};
    let size = std::fs::metadata(path)
        .map_err(|e| Fail::Other(format!("{path}: {e}")))?
        .len();
    let mut sender = Sender(
        Command::new("python3")
            .arg("-c")
            .arg(SENDFILE_SENDER)
            .arg(path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Fail::Other(format!("python3 (the sendfile sender): {e}")))?,
    );
    let mut line = String::new();
    if let Some(out) = sender.0.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    let port: u16 = line
        .trim()
        .parse()
        .map_err(|_| Fail::Other(format!("the sendfile sender did not start: {line:?}")))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let v = Verifier::new();
    let mut buf = vec![0u8; BUF_SIZE];
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut bytes = 0u64;
    let mut transfers = 0u64;
    loop {
        let mut sock =
            TcpStream::connect(addr).map_err(|e| Fail::Other(format!("connect: {e}")))?;
        sock.set_read_timeout(Some(ftp::IO_TIMEOUT))
            .map_err(|e| Fail::Other(format!("set timeout: {e}")))?;
        let mut off = 0u64;
        loop {
            let n = sock
                .read(&mut buf)
                .map_err(|e| Fail::Other(format!("receive: {e}")))?;
            if n == 0 {
                break;
            }
            if let Some(at) = v.check(off, &buf[..n]) {
                return Err(Fail::Verify(format!("{path}: wrong byte at offset {at}")));
            }
            off += n as u64;
        }
        if off != size {
            return Err(Fail::Verify(format!(
                "{path}: {off} bytes, {size} expected"
            )));
        }
        bytes += off;
        transfers += 1;
        if Instant::now() >= deadline {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    drop(sender);
    let mbs = bytes as f64 / 1e6 / secs;
    say(&format!(
        "{:<16}{mbs:>10.1} MB/s   ({transfers} transfers, {bytes} bytes in {secs:.2} s, bare sendfile)",
        "sendfile_1"
    ));
    sum.num("sendfile_mb_s", mbs);
    Ok(())
}

fn run(o: &Opts, sum: &mut Summary) -> Res<()> {
    if o.figures.iter().any(|f| f == "idle") {
        check_limits(o, o.idle)?;
    }
    let want = |f: &str| o.figures.iter().any(|x| x == f);
    let explicit = o.figures.len() < ALL_FIGURES.len();
    // With --figure all, figures whose file is not given are skipped (and said so).
    let skip = |what: &str, missing: &str, sum: &mut Summary| -> Res<()> {
        if explicit {
            Err(Fail::Other(format!("{what}: needs {missing}")))
        } else {
            note(&format!("{what}: skipped (no {missing})"));
            sum.notes.push(format!("{what}: skipped (no {missing})"));
            Ok(())
        }
    };
    for (fig, streams) in [("retr", 1), ("retr4", 4)] {
        if want(fig) {
            if o.file.is_some() {
                fig_retr(o, streams, sum)?;
            } else {
                skip(fig, "--file", sum)?;
            }
        }
    }
    if want("stor") {
        if let Some(file) = &o.file {
            fig_stor(o, file.size, sum)?;
        } else {
            skip("stor", "--file", sum)?;
        }
    }
    if want("sessions") || want("latency") {
        if let Some(k) = anonymous_sessions(o) {
            if want("sessions") {
                fig_sessions(o, &k, &o.clients, want("latency"), sum)?;
            } else {
                let run = run_sessions(o, &k, 1)?;
                report_latency(&k, &run, sum);
            }
        } else {
            skip("sessions", "--small", sum)?;
        }
    }
    if want("local") {
        if let Some(k) = local_sessions(o) {
            fig_sessions(o, &k, &o.clients, true, sum)?;
        } else if o.local_user.is_none() {
            skip("local", "--local-user", sum)?;
        } else {
            skip("local", "--small or --local-small", sum)?;
        }
    }
    if want("busy") {
        if let Some(k) = busy_sessions(o) {
            fig_sessions(o, &k, &o.busy_clients, false, sum)?;
        } else {
            skip("busy", "--small", sum)?;
        }
    }
    if want("list") {
        fig_listing(o, "LIST", sum)?;
    }
    if want("mlsd") {
        fig_listing(o, "MLSD", sum)?;
    }
    if want("idle") {
        fig_idle(o, sum)?;
    }
    Ok(())
}

fn baseline_main(args: &[String]) {
    let mut path = None;
    let mut seconds = 3.0;
    let mut json = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.clone().next()) {
            ("--seconds", Some(v)) => {
                seconds = v.parse().unwrap_or(3.0);
                it.next();
            }
            ("--json", Some(v)) => {
                json = Some(v.clone());
                it.next();
            }
            (p, _) if path.is_none() && !p.starts_with("--") => path = Some(p.to_string()),
            _ => {
                note("usage: ftpbench --sendfile-baseline PATH [--seconds S] [--json FILE]");
                std::process::exit(2);
            }
        }
    }
    let Some(path) = path else {
        note("usage: ftpbench --sendfile-baseline PATH [--seconds S] [--json FILE]");
        std::process::exit(2);
    };
    let mut sum = Summary::default();
    let r = sendfile_baseline(&path, seconds, &mut sum);
    if let Some(j) = json {
        let text = sum.to_json_for("sendfile", r.is_ok());
        if let Err(e) = write_out(&j, &text) {
            note(&format!("{j}: {e}"));
        }
    }
    match r {
        Ok(()) => {}
        Err(e) => {
            note(e.msg());
            std::process::exit(if matches!(e, Fail::Verify(_)) { 1 } else { 2 });
        }
    }
}

fn write_out(path: &str, text: &str) -> std::io::Result<()> {
    if path == "-" {
        std::io::stdout().lock().write_all(text.as_bytes())
    } else {
        std::fs::write(path, text)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--make-pattern") {
        let r = match (args.get(1), args.get(2), args.len()) {
            (Some(p), Some(s), 3) => make_pattern(p, s),
            _ => Err("usage: ftpbench --make-pattern PATH SIZE".into()),
        };
        if let Err(e) = r {
            note(&e);
            std::process::exit(2);
        }
        return;
    }
    if args.first().map(String::as_str) == Some("--sendfile-baseline") {
        baseline_main(&args[1..]);
        return;
    }
    let o = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            if e.is_empty() {
                let _ = std::io::stdout().lock().write_all(USAGE.as_bytes());
                return;
            }
            note(&e);
            let _ = std::io::stderr().lock().write_all(USAGE.as_bytes());
            std::process::exit(2);
        }
    };
    let mut sum = Summary::default();
    let result = run(&o, &mut sum);
    if let Err(e) = &result {
        sum.notes.push(format!("FAILED: {}", e.msg()));
    }
    if let Some(path) = &o.json {
        let text = sum.to_json_for(&o.addr.to_string(), result.is_ok());
        if let Err(e) = write_out(path, &text) {
            note(&format!("{path}: {e}"));
        }
    }
    match result {
        Ok(()) => {}
        Err(Fail::Verify(m)) => {
            note(&format!("WRONG DATA: {m}"));
            std::process::exit(1);
        }
        Err(Fail::Other(m) | Fail::Refused(m)) => {
            note(&m);
            std::process::exit(2);
        }
    }
}

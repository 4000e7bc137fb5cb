//! The process front: command line, configuration, and the choice between the standalone
//! listener and inetd mode.
#![forbid(unsafe_code)]

pub mod cli;
pub mod inetd;
pub mod notify;
pub mod pidfile;
pub mod preflight;
pub mod proxy;
pub mod standalone;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{ConfigError, Layout, Loader, Settings};
use crate::jail::Prepared;
use cli::{Invocation, Source};

/// Where --quick-start listens; a high port so it runs without privilege.
pub const QUICK_START_PORT: u16 = 2121;
const QUICK_START_WHY: &str = "--quick-start";
/// The empty jail of pre-login processes in --quick-start as root; root-owned /run, so no other
/// user can have prepared it.
const QUICK_START_EMPTY_DIR: &str = "/run/vsftpd-rs/empty";

/// Writes one line to stderr, ignoring a closed stderr (the std print macros would panic).
pub fn say(msg: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "vsftpd: {msg}");
}

/// The binary's whole life; returns the exit code.
pub fn main() -> i32 {
    let inv = match cli::parse(std::env::args_os()) {
        Ok(inv) => inv,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    if inv.version {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "vsftpd: version {} (vsftpd-rs {})",
            crate::VSFTPD_VERSION,
            crate::VERSION
        );
        return 0;
    }
    let settings = match load_settings(&inv) {
        Ok(s) => s,
        Err(LoadError::Config(e)) => {
            report_config_error(&e);
            return 1;
        }
        Err(LoadError::QuickStart(msg)) => {
            say(&format!("--quick-start: {msg}"));
            return 1;
        }
    };
    for w in &settings.warnings {
        say(&format!("warning: {w}"));
    }
    if inv.print_config {
        let mut out = std::io::stdout().lock();
        return match settings
            .write_effective(&mut out)
            .and_then(|()| out.flush())
        {
            Ok(()) => 0,
            // A closed pipe (`| head`) is the reader's choice, not our failure.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
            Err(_) => 1,
        };
    }
    // What every session will need, once, here: `-t` and start-up fail alike, instead of
    // each client getting the same `500 OOPS:`.
    let mode = if inv.check_only {
        preflight::Mode::CheckOnly
    } else {
        preflight::Mode::Startup
    };
    let report = preflight::check(&settings, mode);
    for w in &report.warnings {
        say(&format!("warning: {w}"));
    }
    let mut errors = report.errors;
    // The certificate and key, as sessions will need them.
    if let Err(msg) = crate::tls::load(&settings) {
        errors.push(msg);
    }
    if !errors.is_empty() {
        for e in &errors {
            say(e);
        }
        if let Some(first) = errors.first() {
            oops_to_inetd_client(first);
        }
        return 1;
    }
    if inv.check_only {
        return 0;
    }
    if let Err(msg) = startup_checks(&settings) {
        say(&msg);
        return 1;
    }
    if let Err(e) = crate::sys::signal::ignore_sigpipe() {
        say(&format!("cannot ignore SIGPIPE: {e}"));
        return 1;
    }
    let c = &settings.config;
    crate::log::install_daemon_reporter(c);
    if c.listen || c.listen_ipv6 {
        standalone::run(inv, settings)
    } else {
        inetd::run(&settings)
    }
}

/// Checks that need the running system, not just the file: privilege and the kernel's
/// seccomp support for the two-process model, and a note when it has no usable Landlock.
fn startup_checks(settings: &Settings) -> Result<(), String> {
    let c = &settings.config;
    // Standalone only: in inetd mode stderr may be the client's socket.
    if (c.listen || c.listen_ipv6) && !crate::sys::fs::probe_openat2() {
        say("note: this kernel has no openat2; paths are resolved beneath each session's root by a confined walk");
    }
    // A log that cannot be written must stop the daemon, not lose lines later.
    crate::log::check_targets(c)?;
    if c.run_as_launching_user {
        return Ok(());
    }
    if crate::sys::process::geteuid() != 0 {
        return Err(
            "vsftpd: must be started as root (see run_as_launching_user option)".to_string(),
        );
    }
    if c.seccomp_sandbox {
        crate::sys::seccomp::kernel_supports_seccomp().map_err(|e| {
            format!("seccomp_sandbox=YES, but this kernel cannot confine sessions: {e}; set seccomp_sandbox=NO to run without the sandbox")
        })?;
    } else {
        say("warning: seccomp_sandbox=NO: session processes may create network sockets (the network restriction is off)");
    }
    // Once, at start-up, and only in standalone mode: in inetd mode stderr may be the
    // client's socket (xinetd), and the note would come before the banner on every session.
    if c.landlock_enable && (c.listen || c.listen_ipv6) {
        use crate::sys::landlock;
        match landlock::abi_version() {
            None => say("note: this kernel has no Landlock; sessions run without it (landlock_enable=NO silences this)"),
            Some(v) if v < landlock::MIN_ABI => say(&format!(
                "note: this kernel's Landlock (ABI {v}) would refuse renames across directories; sessions run without it (landlock_enable=NO silences this)"
            )),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Serves one connection in the model the settings ask for; returns the exit code.
/// `client` is the client's address: the connection's peer, or what a trusted balancer's
/// PROXY header says (`proxy`). `clients` is the number of sessions, this one included, when
/// it started (STAT shows it). `prepared` is [`Prepared::new`] of the same settings, made
/// before the fork.
pub fn serve_connection(
    settings: &Settings,
    prepared: &Prepared,
    stream: std::net::TcpStream,
    client: std::net::SocketAddr,
    clients: u32,
) -> i32 {
    // The session's logs, opened here by root (or the launching user) before anything forks
    // or confines itself: its processes inherit them (crate::log).
    let log = match crate::log::SessionLog::open(&settings.config, client.ip()) {
        Ok(log) => log,
        Err(msg) => return crate::jail::children::send_oops(&stream, &msg),
    };
    log.install_reporter();
    log.connected();
    // Before the session's processes fork: they share its TLS session-ticket key.
    crate::tls::begin_session(prepared.tls());
    if settings.config.run_as_launching_user {
        crate::session::run(settings, prepared, stream, client, clients, log)
    } else {
        let code = crate::privsep::helper::run(settings, prepared, stream, client, clients, &log);
        log.relay_stderr();
        code
    }
}

/// The config error goes to stderr; in inetd mode the client also gets vsftpd's `500 OOPS:`.
fn report_config_error(e: &ConfigError) {
    say(&e.to_string());
    oops_to_inetd_client(&e.oops_text());
}

/// In inetd mode the client is on stdin: it gets `500 OOPS: text` before the end.
fn oops_to_inetd_client(text: &str) {
    let stdin = crate::sys::net::stdin_fd();
    if crate::sys::net::is_socket(stdin) {
        if let Ok(mut s) = crate::sys::net::stdin_stream() {
            let _ = s.write_all(&crate::proto::reply::oops(text.as_bytes()));
        }
    }
}

/// Builds the settings from the command line: quick-start's built-in set, or every -o and
/// FILE left to right, with the layout's default file loaded last when no FILE was named.
pub fn load_settings(inv: &Invocation) -> Result<Settings, LoadError> {
    let mut loader = Loader::new(Layout::BUILT);
    if let Some(dir) = &inv.quick_start {
        apply_quick_start(&mut loader, dir.as_deref())?;
        for s in &inv.sources {
            if let Source::Option(o) = s {
                loader.set_option(o)?;
            }
        }
        return Ok(loader.finish()?);
    }
    let mut any_file = false;
    for s in &inv.sources {
        match s {
            Source::Option(o) => loader.set_option(o)?,
            Source::File(f) => {
                any_file = true;
                loader.load_file(f)?;
            }
        }
    }
    if !any_file {
        let default = Layout::BUILT.default_config_file();
        if default.exists() {
            loader.load_file(default)?;
        }
    }
    Ok(loader.finish()?)
}

/// Why the settings could not be built.
#[derive(Debug)]
pub enum LoadError {
    Config(ConfigError),
    QuickStart(String),
}

impl From<ConfigError> for LoadError {
    fn from(e: ConfigError) -> Self {
        LoadError::Config(e)
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Config(e) => e.fmt(f),
            LoadError::QuickStart(m) => write!(f, "--quick-start: {m}"),
        }
    }
}

fn apply_quick_start(loader: &mut Loader, dir: Option<&Path>) -> Result<(), LoadError> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => make_demo_dir()
            .map_err(|e| LoadError::QuickStart(format!("cannot create ./demo: {e}")))?,
    };
    let dir = std::fs::canonicalize(&dir)
        .map_err(|e| LoadError::QuickStart(format!("{}: {e}", dir.display())))?;
    let root = dir.to_string_lossy().into_owned();
    let port = QUICK_START_PORT.to_string();
    let mut set = |k: &str, v: &str| loader.set_builtin(k, v, QUICK_START_WHY);
    set("listen", "YES")?;
    set("listen_ipv6", "NO")?;
    set("listen_address", "127.0.0.1")?;
    set("listen_port", &port)?;
    set("background", "NO")?;
    set("anonymous_enable", "YES")?;
    set("local_enable", "NO")?;
    set("anon_root", &root)?;
    if crate::sys::process::geteuid() == 0 {
        // The full two-process model: sessions run as nobody, jailed.
        set("ftp_username", "nobody")?;
        set("nopriv_user", "nobody")?;
        set("secure_chroot_dir", QUICK_START_EMPTY_DIR)?;
        make_empty_dir(Path::new(QUICK_START_EMPTY_DIR))
            .map_err(|e| LoadError::QuickStart(format!("{QUICK_START_EMPTY_DIR}: {e}")))?;
    } else {
        set("run_as_launching_user", "YES")?;
    }
    Ok(())
}

/// An empty directory owned by root and writable by nobody else.
fn make_empty_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    let md = std::fs::symlink_metadata(dir)?;
    if !md.is_dir() || md.uid() != 0 {
        return Err(std::io::Error::other("not a root-owned directory"));
    }
    Ok(())
}

/// ./demo with one sample file, readable by the unprivileged session user.
fn make_demo_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dir = PathBuf::from("demo");
    if !dir.exists() {
        std::fs::create_dir(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        let readme = dir.join("README.txt");
        std::fs::write(
            &readme,
            "Hello from vsftpd-rs.\n\nThis directory is served read-only to anonymous users by\n`vsftpd --quick-start`. Put files here and fetch them with any FTP client.\n",
        )?;
        std::fs::set_permissions(&readme, std::fs::Permissions::from_mode(0o644))?;
    }
    Ok(dir)
}

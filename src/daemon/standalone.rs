//! Standalone mode (listen=YES or listen_ipv6=YES): bind, accept, enforce max_clients and
//! max_per_ip, fork one session per connection, reap children, reload on SIGHUP, stop on
//! SIGTERM.
//!
//! The listener never parses a byte from the network: it only counts connections and forks.
//! With proxy_protocol_enable the client's address comes later, from the forked process
//! (`super::proxy`), which asks before it serves.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;

use super::cli::Invocation;
use super::pidfile::PidFile;
use super::proxy::{self, Admissions};
use super::{notify, say};
use crate::config::Settings;
use crate::jail::Prepared;
use crate::limits;
use crate::proto::reply;
use crate::sys::net::{self, ListenSpec, PollFd};
use crate::sys::process::{self, Fork};
use crate::sys::signal::{self, SignalPipe};

const SIGNALS: [i32; 4] = [
    signal::SIGCHLD,
    signal::SIGHUP,
    signal::SIGTERM,
    signal::SIGINT,
];

/// Builds the list of sockets the settings ask for.
pub(super) fn listen_specs(settings: &Settings) -> Result<Vec<ListenSpec>, String> {
    let c = &settings.config;
    let port = u16::try_from(c.listen_port).map_err(|_| "listen_port out of range".to_string())?;
    let mut specs = Vec::new();
    if c.listen {
        let ip = match &c.listen_address {
            Some(a) => a
                .parse::<Ipv4Addr>()
                .map_err(|_| format!("bad listen_address: {a}"))?,
            None => Ipv4Addr::UNSPECIFIED,
        };
        specs.push(ListenSpec {
            addr: SocketAddr::new(IpAddr::V4(ip), port),
            dual_stack: false,
            backlog: net::SOMAXCONN,
            nonblocking: true,
        });
    }
    if c.listen_ipv6 {
        let ip = match &c.listen_address6 {
            Some(a) => a
                .parse::<Ipv6Addr>()
                .map_err(|_| format!("bad listen_address6: {a}"))?,
            None => Ipv6Addr::UNSPECIFIED,
        };
        specs.push(ListenSpec {
            addr: SocketAddr::new(IpAddr::V6(ip), port),
            // vsftpd leaves IPV6_V6ONLY off: "::" then also takes IPv4, as v4-mapped.
            dual_stack: true,
            backlog: net::SOMAXCONN,
            nonblocking: true,
        });
    }
    Ok(specs)
}

fn bind_all(settings: &Settings) -> Result<Vec<TcpListener>, String> {
    let specs = listen_specs(settings)?;
    let mut out = Vec::new();
    for spec in &specs {
        let l = net::listen(spec)
            .map_err(|e| super::preflight::bind_problem(settings, spec.addr, &e))?;
        out.push(l);
    }
    Ok(out)
}

/// Live sessions, for max_clients and max_per_ip.
#[derive(Default)]
struct Sessions {
    by_pid: HashMap<i32, IpAddr>,
    per_ip: HashMap<IpAddr, u32>,
}

impl Sessions {
    fn add(&mut self, pid: i32, ip: IpAddr) {
        self.by_pid.insert(pid, ip);
        *self.per_ip.entry(ip).or_insert(0) += 1;
    }
    fn remove(&mut self, pid: i32) {
        if let Some(ip) = self.by_pid.remove(&pid) {
            if let Some(n) = self.per_ip.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.per_ip.remove(&ip);
                }
            }
        }
    }
    fn total(&self) -> usize {
        self.by_pid.len()
    }
    fn count_for(&self, ip: &IpAddr) -> u32 {
        self.per_ip.get(ip).copied().unwrap_or(0)
    }
    /// proxy_protocol_enable: the session `pid`, counted so far under its balancer's address,
    /// is `ip`'s if that fits max_per_ip (0: no limit); else it stays where it was.
    fn admit(&mut self, pid: i32, ip: IpAddr, max_per_ip: u32) -> bool {
        let Some(old) = self.by_pid.get(&pid).copied() else {
            return false;
        };
        self.remove(pid);
        let fits = max_per_ip == 0 || self.count_for(&ip) < max_per_ip;
        self.add(pid, if fits { ip } else { old });
        fits
    }
    /// Forgets every session whose process has ended (and reaps it). Called before each
    /// max_clients / max_per_ip decision, not only on SIGCHLD: a listener busy accepting does
    /// not come back to its signals between connections, and a count that only shrinks there
    /// runs ahead of the sessions alive (421s with far fewer sessions than max_clients).
    fn reap(&mut self) {
        while let Some(pid) = process::reap_one() {
            self.remove(pid);
        }
    }
}

/// Runs the listener until SIGTERM; returns the exit code.
pub fn run(inv: Invocation, settings: Settings) -> i32 {
    let mut ready_pipe = None;
    if settings.config.background {
        match background() {
            Ok(Some(pipe)) => ready_pipe = Some(pipe),
            Ok(None) => unreachable_parent(),
            Err(e) => {
                say(&format!("cannot go to the background: {e}"));
                return 1;
            }
        }
    }
    let fail = |msg: String, pipe: Option<std::io::PipeWriter>| -> i32 {
        say(&msg);
        if let Some(mut p) = pipe {
            let _ = p.write_all(msg.as_bytes());
        }
        1
    };
    let listeners = match bind_all(&settings) {
        Ok(l) => l,
        Err(msg) => return fail(msg, ready_pipe),
    };
    let sigpipe = match SignalPipe::install(&SIGNALS) {
        Ok(p) => p,
        Err(e) => return fail(format!("cannot install signal handlers: {e}"), ready_pipe),
    };
    let _pidfile = match &inv.pid_file {
        Some(path) => match PidFile::create(path, process::getpid()) {
            Ok(p) => Some(p),
            Err(e) => {
                return fail(
                    format!("cannot write pid file {}: {e}", path.display()),
                    ready_pipe,
                )
            }
        },
        None => None,
    };
    for l in &listeners {
        if let Ok(addr) = l.local_addr() {
            notify::status(&format!("listening on {addr}"));
            // Where to point a client, for the admin at the terminal; in the background the
            // pid file and the logs say it, and stderr is about to be closed.
            if !settings.config.background {
                say(&format!("listening on {addr}"));
            }
        }
    }
    notify::ready();
    if let Some(mut p) = ready_pipe {
        let _ = p.write_all(b"\x01");
        drop(p);
        // All three, as vsftpd: a launcher's caller that reads our stderr (`$(service vsftpd
        // start 2>&1)`) must see it end. Later reports go to the configured log.
        let _ = net::null_stdio(false);
    }
    serve(inv, settings, listeners, sigpipe)
}

/// A value that can never be built: the background parent has already exited.
fn unreachable_parent() -> ! {
    process::exit_now(0)
}

/// background=YES: the launching process waits until the daemon has bound (exit 0) or failed
/// (exit 1, its error already on stderr); the daemon goes on in a new session.
fn background() -> std::io::Result<Option<std::io::PipeWriter>> {
    let (mut reader, writer) = std::io::pipe()?;
    match process::fork()? {
        Fork::Parent(_) => {
            drop(writer);
            let mut buf = Vec::new();
            let _ = reader.by_ref().take(4096).read_to_end(&mut buf);
            process::exit_now(if buf.first() == Some(&1) { 0 } else { 1 });
        }
        Fork::Child => {
            drop(reader);
            process::setsid()?;
            Ok(Some(writer))
        }
    }
}

fn serve(
    inv: Invocation,
    mut settings: Settings,
    listeners: Vec<TcpListener>,
    sigpipe: SignalPipe,
) -> i32 {
    let mut sessions = Sessions::default();
    let mut admissions = Admissions::default();
    let mut prepared = Prepared::new(&settings);
    loop {
        let mut fds = vec![PollFd {
            fd: sigpipe.fd(),
            read: true,
            write: false,
            urgent: false,
        }];
        fds.extend(listeners.iter().map(|l| PollFd {
            fd: l.as_fd(),
            read: true,
            write: false,
            urgent: false,
        }));
        fds.extend(admissions.fds().into_iter().map(|fd| PollFd {
            fd,
            read: true,
            write: false,
            urgent: false,
        }));
        let ready = match net::poll(&fds, -1) {
            Ok(r) => r,
            Err(e) => {
                crate::log::report(&format!("poll failed: {e}"));
                return 1;
            }
        };
        drop(fds);
        if ready.first().is_some_and(|r| r.read) {
            for sig in sigpipe.drain() {
                match sig {
                    signal::SIGCHLD => sessions.reap(),
                    signal::SIGHUP => {
                        reload(&inv, &mut settings);
                        prepared = Prepared::new(&settings);
                    }
                    signal::SIGTERM | signal::SIGINT => {
                        notify::stopping();
                        drop(listeners);
                        return 0;
                    }
                    _ => {}
                }
            }
        }
        for (l, r) in listeners.iter().zip(ready.iter().skip(1)) {
            if r.read {
                let serving = Serving {
                    settings: &settings,
                    prepared: &prepared,
                    all: &listeners,
                    sigpipe: &sigpipe,
                };
                accept_some(l, &serving, &mut sessions, &mut admissions);
            }
        }
        let asking: Vec<bool> = ready
            .iter()
            .skip(1 + listeners.len())
            .map(|r| r.read || r.hangup)
            .collect();
        let max_per_ip = settings.config.max_per_ip;
        admissions.answer(&asking, |pid, ip| sessions.admit(pid, ip, max_per_ip));
    }
}

fn reload(inv: &Invocation, settings: &mut Settings) {
    notify::reloading();
    let loaded = super::load_settings(inv)
        .map_err(|e| e.to_string())
        .and_then(|new| {
            // A log the new configuration cannot write would lose every session's lines.
            crate::log::check_targets(&new.config).map(|()| new)
        })
        .and_then(|new| {
            // What every session of the new configuration needs: as at start-up.
            let report = super::preflight::check(&new, super::preflight::Mode::Startup);
            for w in &report.warnings {
                say(&format!("warning: {w}"));
            }
            if report.errors.is_empty() {
                Ok(new)
            } else {
                Err(report.errors.join("; "))
            }
        })
        .and_then(|new| {
            // A certificate that no longer loads would fail every AUTH.
            crate::tls::load(&new).map(|_| new)
        });
    match loaded {
        Ok(new) => {
            for w in &new.warnings {
                say(&format!("warning: {w}"));
            }
            *settings = new;
            crate::log::install_daemon_reporter(&settings.config);
            crate::log::note("reloaded the configuration; new sessions use it");
        }
        Err(e) => crate::log::report(&format!(
            "reload failed, keeping the old configuration: {e}"
        )),
    }
    notify::ready();
}

/// What a forked session takes from the listener.
struct Serving<'a> {
    settings: &'a Settings,
    prepared: &'a Prepared,
    all: &'a [TcpListener],
    sigpipe: &'a SignalPipe,
}

/// Accepts what is waiting, at most [`limits::ACCEPTS_PER_WAKEUP`] connections, and none
/// once SIGHUP, SIGTERM or SIGINT has arrived: then back to poll, which sees the signals first
/// and gives each listening socket its turn. Under a crowd the listener is one runnable
/// process among hundreds and gets a small share of a CPU: a fork's worth of work then takes
/// milliseconds of wall time, and a signal must not wait behind many of them.
fn accept_some(
    listener: &TcpListener,
    serving: &Serving<'_>,
    sessions: &mut Sessions,
    admissions: &mut Admissions,
) {
    let settings = serving.settings;
    for _ in 0..limits::ACCEPTS_PER_WAKEUP {
        if [signal::SIGHUP, signal::SIGTERM, signal::SIGINT]
            .iter()
            .any(|&s| serving.sigpipe.pending(s))
        {
            return;
        }
        let (stream, peer) = match listener.accept() {
            Ok(x) => x,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // ECONNABORTED, EMFILE and friends: drop this one, keep serving.
            Err(_) => return,
        };
        sessions.reap();
        let ip = crate::data::passive::canonical_ip(peer.ip());
        let c = &settings.config;
        let proxied = c.proxy_protocol_enable;
        if proxied && !proxy::trusted(c, ip) {
            proxy::refused(ip, "not in proxy_protocol_trusted");
            continue;
        }
        let max_clients = usize::try_from(c.max_clients).unwrap_or(usize::MAX);
        if c.max_clients > 0 && sessions.total() >= max_clients {
            refuse(stream, reply::TOO_MANY_USERS);
            continue;
        }
        // Behind a balancer the client is known only after the fork (`super::proxy`).
        if !proxied && c.max_per_ip > 0 && sessions.count_for(&ip) >= c.max_per_ip {
            refuse(stream, reply::TOO_MANY_FROM_IP);
            continue;
        }
        let admission = if proxied && c.max_per_ip > 0 {
            match Admissions::pair() {
                Ok(pair) => Some(pair),
                Err(_) => {
                    refuse(stream, reply::SERVICE_UNAVAILABLE);
                    continue;
                }
            }
        } else {
            None
        };
        let clients = u32::try_from(sessions.total() + 1).unwrap_or(u32::MAX);
        match process::fork() {
            Ok(Fork::Parent(pid)) => {
                sessions.add(pid, ip);
                if let Some((ours, _)) = admission {
                    admissions.add(pid, ours);
                }
            }
            Ok(Fork::Child) => {
                let mut fds: Vec<_> = serving.all.iter().map(|l| l.as_fd()).collect();
                fds.extend(admissions.fds());
                process::close_inherited(&fds);
                child_detach(serving.sigpipe);
                let code = if proxied {
                    let asks = admission.map(|(ours, theirs)| {
                        drop(ours);
                        theirs
                    });
                    proxy::serve(settings, serving.prepared, stream, peer, clients, asks)
                } else {
                    super::serve_connection(settings, serving.prepared, stream, peer, clients)
                };
                process::exit_now(code);
            }
            Err(e) => {
                crate::log::report(&format!("fork failed: {e}"));
                refuse(stream, reply::SERVICE_UNAVAILABLE);
            }
        }
    }
}

/// In the forked session: forget the listener's signal routing and service-manager socket.
fn child_detach(sigpipe: &SignalPipe) {
    sigpipe.detach_child_copy(&SIGNALS);
    notify::forget();
}

/// The 421 a refused client reads before we close; the listener's write never blocks on a
/// fresh socket's empty buffer, and a failure only concerns that client.
fn refuse(mut stream: TcpStream, r: reply::Reply) {
    let _ = stream.set_nonblocking(true);
    let _ = stream.write_all(&reply::encode(r));
}

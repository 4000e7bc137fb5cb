//! Issue #20: two nodes behind a real HAProxy, with the PROXY protocol on control connections.
//!
//! The layout, all on loopback addresses of its own: HAProxy's frontends on a "virtual"
//! address (127.0.0.100), connecting to the nodes from it; node A (127.0.0.2) takes the v2
//! header, node B (127.0.0.3) the v1 line; each announces its own address and its own passive
//! port range (pasv_address, pasv_min_port/pasv_max_port). Clients bind 127.0.0.5, 127.0.0.6
//! (Python's ftplib and curl can; std cannot): their control connections go through the
//! balancer, their data connections straight to the node, as behind a real one. The tests
//! after those write the header themselves: PAM_RHOST, syslog, inetd mode, a header in pieces,
//! a bad trusted list.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const VIP: &str = "127.0.0.100";

/// A node: a daemon with proxy_protocol_enable, trusting only the balancer's address.
fn node(name: &str, addr: &str, pasv: (u16, u16)) -> (Server, PathBuf) {
    let b = ServerBuilder::new(name).file("hello.txt", "hello from the tree\n");
    let logs = b.temp().mkdir("logs");
    let server = b
        .set("listen_address", addr)
        .set("proxy_protocol_enable", "YES")
        .set("proxy_protocol_trusted", VIP)
        .set("max_per_ip", "2")
        .set("accept_timeout", "3")
        .set("pasv_address", addr)
        .set("pasv_min_port", pasv.0)
        .set("pasv_max_port", pasv.1)
        .set("xferlog_enable", "YES")
        .set("xferlog_std_format", "YES")
        .set("dual_log_enable", "YES")
        .set("xferlog_file", logs.join("xferlog").display())
        .set("vsftpd_log_file", logs.join("vsftpd.log").display())
        .start();
    (server, logs)
}

/// A free port on `ip` (the kernel's choice, released for HAProxy to bind).
fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// HAProxy in the foreground: `both` balances over the two nodes, `only_a` and `only_b` reach
/// one each (so that a test knows which node serves it).
struct Balancer {
    _guard: ProcessGuard,
    admin: PathBuf,
    _dir: TempDir,
    both: SocketAddr,
    only_a: SocketAddr,
    only_b: SocketAddr,
}

fn balancer(a: SocketAddr, b: SocketAddr) -> Balancer {
    let dir = TempDir::new("proxy_haproxy");
    let sock = dir.join("admin.sock");
    let ports = [free_port(VIP), free_port(VIP), free_port(VIP)];
    let cfg = format!(
        "global\n\
         \x20   stats socket {sock}\n\
         defaults\n\
         \x20   mode tcp\n\
         \x20   timeout connect 5s\n\
         \x20   timeout client 60s\n\
         \x20   timeout server 60s\n\
         frontend both\n\
         \x20   bind {VIP}:{p0}\n\
         \x20   default_backend both\n\
         frontend only_a\n\
         \x20   bind {VIP}:{p1}\n\
         \x20   default_backend only_a\n\
         frontend only_b\n\
         \x20   bind {VIP}:{p2}\n\
         \x20   default_backend only_b\n\
         backend both\n\
         \x20   balance roundrobin\n\
         \x20   source {VIP}\n\
         \x20   server a {a} send-proxy-v2 check check-send-proxy inter 500ms\n\
         \x20   server b {b} send-proxy\n\
         backend only_a\n\
         \x20   source {VIP}\n\
         \x20   server a {a} send-proxy-v2\n\
         backend only_b\n\
         \x20   source {VIP}\n\
         \x20   server b {b} send-proxy\n",
        sock = sock.display(),
        p0 = ports[0],
        p1 = ports[1],
        p2 = ports[2],
    );
    let cfg_path = dir.write("haproxy.cfg", cfg);
    let log = std::fs::File::create(dir.join("haproxy.log")).unwrap();
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&cfg_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("haproxy (Debian package haproxy)");
    let guard = ProcessGuard::new(child, false);
    // The admin socket answers only once the event loop runs, after every bind.
    let ready = wait_until(Duration::from_secs(10), || {
        let Ok(mut s) = UnixStream::connect(&sock) else {
            return false;
        };
        let _ = s.write_all(b"show info\n");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.contains("Name: HAProxy")
    });
    assert!(
        ready,
        "haproxy did not start: {}",
        std::fs::read_to_string(dir.join("haproxy.log")).unwrap_or_default()
    );
    let at = |p: u16| SocketAddr::new(VIP.parse().unwrap(), p);
    Balancer {
        _guard: guard,
        admin: sock,
        both: at(ports[0]),
        only_a: at(ports[1]),
        only_b: at(ports[2]),
        _dir: dir,
    }
}

/// Python's ftplib from `source`, logged in anonymously through `via`, then `body`; prints
/// what `body` prints.
fn ftplib_from(source: &str, via: SocketAddr, body: &str) -> String {
    let script = format!(
        "import ftplib, io\n\
         ftp = ftplib.FTP(source_address=({source:?}, 0), timeout=10)\n\
         ftp.connect({host:?}, {port})\n\
         ftp.login()\n\
         {body}\n\
         ftp.quit()\n",
        host = via.ip().to_string(),
        port = via.port()
    );
    let out = python(&script);
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Balancer {
    /// One admin socket command's answer.
    fn ask(&self, command: &str) -> String {
        let mut s = UnixStream::connect(&self.admin).unwrap();
        s.write_all(format!("{command}\n").as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }
}

fn lines(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[track_caller]
fn wait_for(path: &Path, what: &str) {
    assert!(
        wait_until(Duration::from_secs(10), || lines(path).contains(what)),
        "{} never had {what:?}:\n{}",
        path.display(),
        lines(path)
    );
}

/// Raw bytes from `source` to `to`: what came back before the server closed (Python, to bind
/// the source address).
fn raw_from(source: &str, to: SocketAddr, send: &[u8]) -> Vec<u8> {
    let hex: String = send.iter().map(|b| format!("{b:02x}")).collect();
    let script = format!(
        "import socket, sys, time\n\
         s = socket.socket()\n\
         s.settimeout(15)\n\
         s.bind(({source:?}, 0))\n\
         s.connect(({host:?}, {port}))\n\
         s.sendall(bytes.fromhex({hex:?}))\n\
         got = b''\n\
         try:\n\
         \x20   while True:\n\
         \x20       d = s.recv(4096)\n\
         \x20       if not d: break\n\
         \x20       got += d\n\
         except ConnectionResetError:\n\
         \x20   pass\n\
         sys.stdout.write(got.hex())\n",
        host = to.ip().to_string(),
        port = to.port(),
    );
    let out = python(&script);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn v1(src: &str, dst: SocketAddr) -> Vec<u8> {
    format!("PROXY TCP4 {src} {} 40000 {}\r\n", dst.ip(), dst.port()).into_bytes()
}

/// Downloads through the balancer reach both nodes, with PASV and with PORT, from curl and
/// ftplib; each node's logs name the real client, and each node's PASV reply its own address
/// and range.
#[test]
fn downloads_through_haproxy_reach_both_nodes_and_are_logged_with_the_client() {
    let (a, a_logs) = node("proxy_dl_a", "127.0.0.2", (41000, 41099));
    let (b, b_logs) = node("proxy_dl_b", "127.0.0.3", (41100, 41199));
    let lb = balancer(a.addr(), b.addr());

    // Round robin: four curl downloads land on both nodes. PASV, and its address: EPSV
    // (a port alone) would send the data connection to the balancer's address.
    for _ in 0..4 {
        let out = curl(&[
            "--interface",
            "127.0.0.5",
            "--disable-epsv",
            // curl uses the control connection's address for PASV since 7.74, unless told.
            "--no-ftp-skip-pasv-ip",
            &format!("ftp://{}/hello.txt", lb.both),
        ]);
        assert!(out.status.success(), "{}", describe(&out));
        assert_eq!(out.stdout, b"hello from the tree\n");
    }
    for logs in [&a_logs, &b_logs] {
        wait_for(
            &logs.join("vsftpd.log"),
            "OK DOWNLOAD: Client \"127.0.0.5\"",
        );
    }

    // PASV names the node, in its own range; the data connection comes from the client
    // itself and passes pasv_promiscuous=NO's check against the header's address.
    for (via, range, logs) in [
        (lb.only_a, 41000..=41099, &a_logs),
        (lb.only_b, 41100..=41199, &b_logs),
    ] {
        let out = ftplib_from(
            "127.0.0.6",
            via,
            "print(ftp.sendcmd('PASV'))\n\
             ftp.trust_server_pasv_ipv4_address = True\n\
             buf = io.BytesIO()\n\
             ftp.retrbinary('RETR hello.txt', buf.write)\n\
             print(buf.getvalue().decode(), end='')\n\
             ftp.set_pasv(False)\n\
             buf = io.BytesIO()\n\
             ftp.retrbinary('RETR hello.txt', buf.write)\n\
             print(buf.getvalue().decode(), end='')",
        );
        let mut it = out.lines();
        let pasv = it.next().unwrap();
        let reply = Reply {
            code: 227,
            lines: vec![pasv.to_string()],
            raw: pasv.as_bytes().to_vec(),
        };
        let addr = parse_pasv(&reply).expect(pasv);
        let node_ip = if logs == &a_logs {
            "127.0.0.2"
        } else {
            "127.0.0.3"
        };
        assert_eq!(addr.ip().to_string(), node_ip, "{pasv}");
        assert!(range.contains(&addr.port()), "{pasv}");
        // The second download was active: PORT to 127.0.0.6 passes port_promiscuous=NO.
        assert_eq!(
            it.collect::<Vec<_>>(),
            ["hello from the tree", "hello from the tree"]
        );
        let vlog = logs.join("vsftpd.log");
        wait_for(&vlog, "CONNECT: Client \"127.0.0.6\"");
        wait_for(&vlog, "OK DOWNLOAD: Client \"127.0.0.6\", \"/hello.txt\"");
        let xlog = logs.join("xferlog");
        wait_for(&xlog, " 127.0.0.6 20 /hello.txt b _ o a ");
        // Nothing ever named the balancer as a client, and HAProxy's v2 health checks
        // (LOCAL, check-send-proxy) passed and were closed without a word.
        assert!(
            wait_until(Duration::from_secs(10), || lb
                .ask("show stat")
                .lines()
                .any(|l| l.starts_with("both,a,") && l.contains(",L4OK,"))),
            "{}",
            lb.ask("show stat")
        );
        assert!(!lines(&vlog).contains(VIP), "{}", lines(&vlog));
        assert!(!lines(&vlog).contains("ERROR"), "{}", lines(&vlog));
    }
}

/// max_per_ip counts the header's address: two sessions from 127.0.0.5 fill its share of a
/// node, the third gets vsftpd's 421, while 127.0.0.6 — through the same balancer, from the
/// same balancer address — is still served; on both header versions.
#[test]
fn each_node_limits_the_real_client_address() {
    let (a, _a_logs) = node("proxy_limit_a", "127.0.0.2", (41200, 41249));
    let (b, _b_logs) = node("proxy_limit_b", "127.0.0.3", (41250, 41299));
    let lb = balancer(a.addr(), b.addr());
    for via in [lb.only_a, lb.only_b] {
        let script = format!(
            "import socket\n\
             def conn(src):\n\
             \x20   s = socket.socket()\n\
             \x20   s.settimeout(10)\n\
             \x20   s.bind((src, 0))\n\
             \x20   s.connect(({host:?}, {port}))\n\
             \x20   return s, s.recv(200).decode().strip()\n\
             held = [conn('127.0.0.5'), conn('127.0.0.5')]\n\
             for s, g in held: print(g[:3])\n\
             third, g = conn('127.0.0.5')\n\
             print(g)\n\
             other, g = conn('127.0.0.6')\n\
             print(g[:3])\n",
            host = via.ip().to_string(),
            port = via.port()
        );
        let out = python(&script);
        assert!(out.status.success(), "{}", describe(&out));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "220",
                "220",
                "421 There are too many connections from your internet address.",
                "220"
            ],
            "via {via}"
        );
    }
}

/// A header from an address outside proxy_protocol_trusted, a connection without a header,
/// a silent one and a malformed header: each closed without a greeting (so no byte of it
/// reached the FTP parser), each logged; a v2 LOCAL header closes quietly.
#[test]
fn untrusted_missing_and_malformed_headers_are_refused_before_the_greeting() {
    let (a, a_logs) = node("proxy_refuse_a", "127.0.0.2", (41300, 41349));
    let vlog = a_logs.join("vsftpd.log");
    let node = a.addr();

    // A client that speaks PROXY itself, from an address that is not the balancer's.
    let got = raw_from("127.0.0.6", node, &v1("127.0.0.9", node));
    assert!(got.is_empty(), "{}", got.escape_ascii());
    wait_for(
        &vlog,
        "PROXY protocol: refused the connection from 127.0.0.6: not in proxy_protocol_trusted",
    );

    // From the balancer's address (trusted), FTP straight away: no header.
    let got = raw_from(VIP, node, b"USER anonymous\r\nPASS x\r\n");
    assert!(got.is_empty(), "{}", got.escape_ascii());
    wait_for(
        &vlog,
        "refused the connection from 127.0.0.100: not a PROXY protocol header",
    );

    // Malformed headers, each followed by a command: neither is ever answered.
    let mut long = b"PROXY UNKNOWN ".to_vec();
    long.resize(200, b'f');
    long.extend_from_slice(b"\r\n");
    let mut v2_short = proxy_v2_tcp4([127, 0, 0, 5], [127, 0, 0, 2]);
    v2_short[15] = 4;
    for (bad, why) in [
        (
            b"PROXY TCP4 127.0.0.05 127.0.0.2 40000 21\r\n".to_vec(),
            "malformed PROXY v1 line",
        ),
        (long, "PROXY v1 line without CRLF in its first 107 bytes"),
        (v2_short, "PROXY v2 header of a wrong length"),
    ] {
        let mut send = bad.clone();
        send.extend_from_slice(b"USER anonymous\r\n");
        let got = raw_from(VIP, node, &send);
        assert!(got.is_empty(), "{}: {}", why, got.escape_ascii());
        wait_for(&vlog, &format!("from 127.0.0.100: {why}"));
    }

    // Silence: closed after accept_timeout (3 s here), still without a greeting.
    let got = raw_from(VIP, node, b"");
    assert!(got.is_empty(), "{}", got.escape_ascii());
    wait_for(&vlog, "no PROXY protocol header within accept_timeout");

    // v2 LOCAL (a health check): closed quietly, nothing logged.
    let before = lines(&vlog);
    let local = [&PROXY_V2_SIG[..], &[0x20, 0x00, 0x00, 0x00]].concat();
    let got = raw_from(VIP, node, &local);
    assert!(got.is_empty(), "{}", got.escape_ascii());
    // A real session after it shows the log is being written, and that LOCAL left nothing.
    let mut ok = proxy_v2_tcp4([127, 0, 0, 7], [127, 0, 0, 2]);
    ok.extend_from_slice(b"QUIT\r\n");
    let got = raw_from(VIP, node, &ok);
    assert!(got.starts_with(b"220 "), "{}", got.escape_ascii());
    assert!(got.ends_with(b"221 Goodbye.\r\n"), "{}", got.escape_ascii());
    wait_for(&vlog, "CONNECT: Client \"127.0.0.7\"");
    let after = lines(&vlog);
    let added = &after[before.len()..];
    assert_eq!(added.lines().count(), 1, "{added}");
}

const PROXY_V2_SIG: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

fn proxy_v2_tcp4(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    let mut h = PROXY_V2_SIG.to_vec();
    h.extend_from_slice(&[0x21, 0x11, 0x00, 0x0c]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(&40000u16.to_be_bytes());
    h.extend_from_slice(&21u16.to_be_bytes());
    h
}

/// inetd mode (socket activation) reads the header too: the session, its STAT and its log
/// are the header's client's. The connection comes from 127.0.0.1, trusted by default.
#[test]
fn inetd_mode_reads_the_header() {
    use std::os::fd::OwnedFd;
    use std::os::unix::process::CommandExt;

    let b = ServerBuilder::new("proxy_inetd").file("hello.txt", "hi\n");
    let logs = b.temp().mkdir("logs");
    let b = b
        .set("listen", "NO")
        .set("proxy_protocol_enable", "YES")
        .set("dual_log_enable", "YES")
        .set("xferlog_enable", "YES")
        .set("vsftpd_log_file", logs.join("vsftpd.log").display())
        .set("xferlog_file", logs.join("xferlog").display());
    b.write_config();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server_side, _) = listener.accept().unwrap();
    let out = server_side.try_clone().unwrap();
    let child = Command::new(vsftpd_bin())
        .args(b.args_list())
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::from(OwnedFd::from(server_side)))
        .stdout(Stdio::from(OwnedFd::from(out)))
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let _guard = ProcessGuard::new(child, true);
    client
        .write_all(b"PROXY TCP4 192.0.2.7 127.0.0.1 40000 21\r\n")
        .unwrap();
    let (mut c, greeting) = FtpClient::from_stream(client).unwrap();
    greeting.assert_code(220);
    c.login_anonymous();
    let stat = c.cmd("STAT");
    assert!(
        String::from_utf8_lossy(&stat.raw).contains("Connected to 192.0.2.7"),
        "{stat:?}"
    );
    c.cmd("QUIT").assert_code(221);
    wait_for(&logs.join("vsftpd.log"), "OK LOGIN: Client \"192.0.2.7\"");
}

/// PAM sees the header's client as PAM_RHOST (pam_access, pam_faillock and the audit log key
/// on it); pam_exec writes it where we can read.
#[test]
fn pam_rhost_is_the_header_client() {
    use common::accounts::{PamService, TestUser};

    let dir = TempDir::new("proxy_pam");
    let out = dir.join("items");
    let script = dir.join("items.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$PAM_RHOST\" >> {}\n", out.display()),
    )
    .unwrap();
    set_mode(&script, 0o755);
    let pam = PamService::new(
        "vrs-proxy",
        &format!(
            "auth optional pam_exec.so {}\nauth required pam_unix.so nodelay\naccount required pam_unix.so\n",
            script.display()
        ),
    );
    let b = ServerBuilder::new("proxy_pam")
        .set("local_enable", "YES")
        .set("anonymous_enable", "NO")
        .set("pam_service_name", &pam.name)
        .set("proxy_protocol_enable", "YES");
    let home = b.temp().join("home");
    let u = TestUser::new("vrsp", &home);
    u.make_home(0o755);
    let server = b.start();
    // From 127.0.0.1, in the default proxy_protocol_trusted; the header names 198.51.100.23.
    let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
    let header = [
        &PROXY_V2_SIG[..],
        &[0x21, 0x11, 0x00, 0x0c, 198, 51, 100, 23, 127, 0, 0, 1],
        &40000u16.to_be_bytes(),
        &server.port().to_be_bytes(),
    ]
    .concat();
    s.write_all(&header).unwrap();
    let (mut c, greeting) = FtpClient::from_stream(s).unwrap();
    greeting.assert_code(220);
    c.cmd(&format!("USER {}", u.name))
        .assert_is("331 Please specify the password.");
    c.cmd(&format!("PASS {}", u.password))
        .assert_is("230 Login successful.");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().trim(),
        "198.51.100.23"
    );
    c.cmd("QUIT").assert_code(221);
}

/// A list entry that is not an address or CIDR block stops the daemon with the file, the line
/// and the option named.
#[test]
fn a_bad_trusted_list_is_a_config_error() {
    let dir = TempDir::new("proxy_conf");
    let conf = dir.write(
        "vsftpd.conf",
        "listen=YES\nproxy_protocol_enable=YES\nproxy_protocol_trusted=10.0.0.0/8, lb.example\n",
    );
    let conf_arg = conf.display().to_string();
    let (code, _out, err) = run_vsftpd(&["-t", conf_arg.as_str()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "{conf_arg}:3: proxy_protocol_trusted=10.0.0.0/8, lb.example: 'lb.example' is not an address or CIDR block"
        )),
        "{err}"
    );
    for bad in ["10.0.0.0/33", "::1/129", "10.0.0.1/"] {
        let (code, _, err) = run_vsftpd(&["-t", &format!("-oproxy_protocol_trusted={bad}")]);
        assert_eq!(code, 1, "{bad}: {err}");
        assert!(err.contains("proxy_protocol_trusted"), "{err}");
    }
}

const LOGIN_STAT: &[u8] = b"USER anonymous\r\nPASS a@b\r\nSTAT\r\n";

/// A header that arrives in pieces (the v1 line split inside an address, the v2 header inside
/// its fixed part and its addresses) is read whole, and not a byte of the command behind it
/// is taken with it. The pauses shape the input; the reply is the synchronisation.
#[test]
fn a_header_in_pieces_is_read_exactly() {
    let server = ServerBuilder::new("proxy_pieces")
        .set("proxy_protocol_enable", "YES")
        .start();
    let v2 = proxy_v2_tcp4([192, 0, 2, 9], [127, 0, 0, 1]);
    let pieces: [Vec<Vec<u8>>; 2] = [
        vec![
            b"PROXY TCP4 192.0.".to_vec(),
            b"2.8 127.0.0.1 40000 21\r".to_vec(),
            [b"\n", LOGIN_STAT].concat(),
        ],
        vec![
            v2[..7].to_vec(),
            v2[7..20].to_vec(),
            [&v2[20..], LOGIN_STAT].concat(),
        ],
    ];
    for (send, client) in pieces.iter().zip(["192.0.2.8", "192.0.2.9"]) {
        let hex: Vec<String> = send
            .iter()
            .map(|p| p.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        let script = format!(
            "import socket, time\n\
             s = socket.create_connection(('127.0.0.1', {port}), timeout=10)\n\
             s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)\n\
             for p in {hex:?}:\n\
             \x20   s.sendall(bytes.fromhex(p))\n\
             \x20   time.sleep(0.05)\n\
             got = b''\n\
             while b'211 End' not in got:\n\
             \x20   d = s.recv(4096)\n\
             \x20   if not d: break\n\
             \x20   got += d\n\
             print(got.decode())\n",
            port = server.port()
        );
        let out = python(&script);
        assert!(out.status.success(), "{}", describe(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("220 "), "{text}");
        // The status of the session, for the header's client.
        assert!(text.contains(&format!("Connected to {client}")), "{text}");
    }
}

/// syslog_enable through a real rsyslogd: the session's lines name the header's client, and a
/// refused header is reported there too. A data connection from the balancer's side (not the
/// header's client) is refused.
#[test]
fn syslog_names_the_header_client() {
    let dir = TempDir::new("proxy_syslog");
    let rsyslog = Rsyslog::start(dir.path());
    let socket = &rsyslog.socket;
    let server = ServerBuilder::new("proxy_syslog")
        .file("hello.txt", "hi\n")
        .set("proxy_protocol_enable", "YES")
        .set("syslog_enable", "YES")
        .set("syslog_socket", socket.display())
        .start();
    let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
    s.write_all(
        format!(
            "PROXY TCP4 192.0.2.33 127.0.0.1 40000 {}\r\n",
            server.port()
        )
        .as_bytes(),
    )
    .unwrap();
    let (mut c, greeting) = FtpClient::from_stream(s).unwrap();
    greeting.assert_code(220);
    c.login_anonymous();
    // The data connection comes from 127.0.0.1, not from the header's client: pasv_promiscuous=NO
    // refuses it.
    c.transfer("RETR hello.txt")
        .start
        .assert_is("425 Security: Bad IP connecting.");
    c.cmd("QUIT").assert_code(221);
    let mut bad = std::net::TcpStream::connect(server.addr()).unwrap();
    bad.write_all(b"PROXY TCP4 192.0.2.33\r\n").unwrap();
    let all = &rsyslog.all;
    wait_for(all, "CONNECT: Client \"192.0.2.33\"");
    wait_for(all, "OK LOGIN: Client \"192.0.2.33\"");
    wait_for(
        all,
        "PROXY protocol: refused the connection from 127.0.0.1: malformed PROXY v1 line",
    );
    assert!(
        !lines(all).contains("Client \"127.0.0.1\""),
        "{}",
        lines(all)
    );
}

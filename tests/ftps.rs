//! Issue #19: FTPS on rustls. Explicit (AUTH TLS) and implicit FTPS driven by real clients
//! (curl, lftp, Python's ftplib.FTP_TLS, openssl s_client), against a test CA and certificates
//! each test makes with the openssl command; client certificates; session reuse on data
//! connections; the ssl_* options and their start-up errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::accounts::{PamService, TestUser};
use common::*;

/// A test PKI in a directory: a CA, a server certificate for 127.0.0.1 signed by it, a client
/// certificate signed by it, and a self-signed client certificate.
struct Pki {
    dir: TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    fn new() -> Pki {
        let dir = TempDir::new("ftps-pki");
        let d = dir.path();
        set_mode(d, 0o755);
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=vsftpd-rs test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        );
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        for (name, ext) in [("server", "server.ext"), ("client", "client.ext")] {
            openssl(
                d,
                &[
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-subj",
                    &format!("/CN={name}"),
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                ],
            );
            openssl(
                d,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-extfile",
                    ext,
                    "-out",
                    &format!("{name}.pem"),
                ],
            );
        }
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=self-signed client",
                "-keyout",
                "selfsigned.key",
                "-out",
                "selfsigned.pem",
            ],
        );
        // One file holding both, as vsftpd allows.
        let both = [
            std::fs::read(d.join("server.pem")).unwrap(),
            std::fs::read(d.join("server.key")).unwrap(),
        ]
        .concat();
        std::fs::write(d.join("both.pem"), both).unwrap();
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }
}

/// An FTPS server with the PKI's server certificate; anonymous logins over TLS allowed.
fn ftps_builder(name: &str, pki: &Pki) -> ServerBuilder {
    ServerBuilder::new(name)
        .set("ssl_enable", "YES")
        .set("rsa_cert_file", pki.s("server.pem"))
        .set("rsa_private_key_file", pki.s("server.key"))
        .set("allow_anon_ssl", "YES")
        .set("pasv_min_port", "0")
        .set("pasv_max_port", "0")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn url(server: &Server, scheme: &str, path: &str) -> String {
    format!("{scheme}://127.0.0.1:{}/{path}", server.port())
}

/// A server for local users through PAM (force_local_*_ssl at their defaults, YES), with a
/// writable home.
fn local_ftps(name: &str, pki: &Pki, pam: &PamService) -> (ServerBuilder, TestUser) {
    let b = ftps_builder(name, pki)
        .set("local_enable", "YES")
        .set("write_enable", "YES")
        .set("anonymous_enable", "NO")
        .set("pam_service_name", &pam.name);
    let home = b.temp().join("home");
    let u = TestUser::new("vrsf", &home);
    u.make_home(0o755);
    (b, u)
}

/// Python's ftplib.FTP_TLS against `server`, anonymous, with `body` at top level; `reuse`:
/// the data connections resume the control connection's TLS session (what stock ftplib
/// does not do). Prints `ERR <reply>` for an FTP error instead of failing.
fn ftp_tls(server: &Server, pki: &Pki, reuse: bool, login: &str, body: &str) -> Output {
    let script = format!(
        r#"
import ftplib, ssl, sys
ctx = ssl.create_default_context(cafile={ca:?})
class Reusing(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size
ftp = (Reusing if {reuse} else ftplib.FTP_TLS)(context=ctx)
ftp.connect("127.0.0.1", {port}, timeout=10)
try:
    {login}
{body}
except ftplib.Error as e:
    print("ERR", e)
except (ssl.SSLError, OSError) as e:
    # The data connection broke off; the reason is the control connection's next reply.
    try:
        print("ERR", ftp.getresp())
    except ftplib.Error as e2:
        print("ERR", e2)
"#,
        ca = pki.s("ca.pem"),
        reuse = if reuse { "True" } else { "False" },
        port = server.port(),
        body = body
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>(),
    );
    python(&script)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn curl_downloads_over_explicit_tls_with_session_reuse() {
    let pki = Pki::new();
    let server = ftps_builder("ftps_curl", &pki)
        .file("hello.txt", "hello over TLS\n")
        .start();
    let ca = pki.s("ca.pem");
    // TLS 1.3 resumes by ticket, TLS 1.2 (curl turns its tickets off) by session ID, which the
    // relay hands to the post-login process.
    for max in ["1.3", "1.2"] {
        let o = curl(&[
            "--ssl-reqd",
            "--cacert",
            &ca,
            "--tls-max",
            max,
            &url(&server, "ftp", "hello.txt"),
        ]);
        assert!(o.status.success(), "TLS {max}: {}", text(&o));
        assert_eq!(o.stdout, b"hello over TLS\n");
    }
    // Active mode: the server connects, and is still the TLS server. (curl 7.88 fails FTPS
    // in active mode against any server; ftplib does it.)
    let o = ftp_tls(
        &server,
        &pki,
        true,
        "ftp.login(); ftp.prot_p(); ftp.set_pasv(False)",
        "ftp.retrbinary('RETR hello.txt', lambda b: print('GOT', b))",
    );
    assert!(
        stdout(&o).contains("GOT b'hello over TLS\\n'"),
        "{}",
        text(&o)
    );
    // A listing under PROT P.
    let o = curl(&["--ssl-reqd", "--cacert", &ca, &url(&server, "ftp", "")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(stdout(&o).contains("hello.txt"));
    assert_serving_tls(&server);
}

#[test]
fn feat_and_the_security_commands_before_tls() {
    let pki = Pki::new();
    let server = ftps_builder("ftps_feat", &pki).start();
    let (mut c, g) = server.connect();
    g.assert_code(220);
    let feat = c.cmd("FEAT");
    let f = feat.raw_str();
    for line in [" AUTH TLS\r\n", " PBSZ\r\n", " PROT\r\n"] {
        assert!(f.contains(line), "{f}");
    }
    assert!(
        f.starts_with("211-Features:\r\n AUTH TLS\r\n EPRT\r\n"),
        "{f}"
    );
    c.cmd("PBSZ 0")
        .assert_is("503 PBSZ needs a secure connection.");
    c.cmd("PROT P")
        .assert_is("503 PROT needs a secure connection.");
    c.cmd("AUTH KERBEROS").assert_is("504 Unknown AUTH type.");
    // AUTH SSL (and RFC 4217's TLS-C, TLS-P) are AUTH TLS, as in vsftpd.
    for auth in ["AUTH SSL", "auth tls-c", "AUTH TLS-P"] {
        let (mut c2, _) = server.connect();
        c2.cmd(auth).assert_is("234 Proceed with negotiation.");
    }
    c.cmd("CCC")
        .assert_is("530 Please login with USER and PASS.");
    c.cmd("QUIT").assert_is("221 Goodbye.");
    // Hostile bytes where a handshake belongs end that session only, with vsftpd's 421.
    let (mut c, _) = server.connect();
    c.cmd("AUTH TLS").assert_is("234 Proceed with negotiation.");
    c.send_raw(b"this is not a TLS record\r\n").unwrap();
    let rest = String::from_utf8_lossy(&c.assert_closed()).into_owned();
    assert!(rest.contains("421 Negotiation failed: "), "{rest:?}");
    assert_serving_tls(&server);
    // Commands sent in clear right behind AUTH TLS are never taken as encrypted ones: before
    // login they reach the handshake (and fail it); after a login in clear they are dropped.
    let (mut c, _) = server.connect();
    c.send_raw(b"AUTH TLS\r\nUSER anonymous\r\n").unwrap();
    c.read_reply()
        .unwrap()
        .assert_is("234 Proceed with negotiation.");
    c.send_raw(b"not a TLS record\r\n").unwrap();
    let rest = String::from_utf8_lossy(&c.assert_closed()).into_owned();
    assert!(!rest.contains("331") && !rest.contains("230"), "{rest:?}");
    let mut c = server.login();
    c.send_raw(b"AUTH TLS\r\nNOOP\r\n").unwrap();
    c.read_reply()
        .unwrap()
        .assert_is("234 Proceed with negotiation.");
    c.send_raw(b"not a TLS record either\r\n").unwrap();
    let rest = String::from_utf8_lossy(&c.assert_closed()).into_owned();
    assert!(!rest.contains("200 NOOP ok."), "{rest:?}");
    // Without ssl_enable, FEAT says nothing of TLS.
    let plain = ServerBuilder::new("ftps_feat_off").start();
    let (mut c, _) = plain.connect();
    let f = c.cmd("FEAT").raw_str();
    assert!(
        !f.contains("AUTH") && !f.contains("PBSZ") && !f.contains("PROT"),
        "{f}"
    );
}

#[test]
fn ftplib_replies_and_session_reuse() {
    let pki = Pki::new();
    let server = ftps_builder("ftps_ftplib", &pki)
        .file("a.txt", "AAA\n")
        .start();
    let body = r#"print(ftp.sendcmd("PBSZ 0"))
for arg in ["S", "E", "X", "C", "P"]:
    try:
        print(ftp.sendcmd("PROT " + arg))
    except ftplib.Error as e:
        print(e)
try:
    ftp.sendcmd("CCC")
except ftplib.Error as e:
    print(e)
print(ftp.nlst())
"#;
    // Stock ftplib does not resume the session on data connections: refused.
    let o = ftp_tls(&server, &pki, false, "ftp.login(); ftp.prot_p()", body);
    let out = stdout(&o);
    assert!(out.contains("200 PBSZ set to 0."), "{}", text(&o));
    assert!(out.contains("536 PROT not supported."), "{out}");
    assert!(out.contains("504 PROT not recognized."), "{out}");
    assert!(out.contains("200 PROT now Clear."), "{out}");
    assert!(out.contains("200 PROT now Private."), "{out}");
    assert!(out.contains("500 Unknown command."), "CCC: {out}");
    assert!(
        out.contains("522 SSL connection failed: session reuse required"),
        "{}",
        text(&o)
    );
    // With the control connection's session on the data socket: served.
    let o = ftp_tls(
        &server,
        &pki,
        true,
        "ftp.login(); ftp.prot_p()",
        "print(ftp.nlst())",
    );
    assert!(stdout(&o).contains("['a.txt']"), "{}", text(&o));
    // AUTH after a login in clear encrypts the rest of the session; a second AUTH is refused.
    let o = ftp_tls(
        &server,
        &pki,
        true,
        "ftp.login(secure=False)",
        "print(ftp.auth())\nprint(ftp.prot_p())\nprint(ftp.nlst())\ntry:\n    ftp.sendcmd('AUTH TLS')\nexcept ftplib.Error as e:\n    print(e)",
    );
    let out = stdout(&o);
    assert!(
        out.contains("234 Proceed with negotiation."),
        "{}",
        text(&o)
    );
    assert!(out.contains("['a.txt']"), "{}", text(&o));
    assert!(out.contains("504 Unknown AUTH type."), "{}", text(&o));
    // require_ssl_reuse=NO serves stock ftplib too.
    let lenient = ftps_builder("ftps_ftplib_noreuse", &pki)
        .set("require_ssl_reuse", "NO")
        .file("a.txt", "AAA\n")
        .start();
    let o = ftp_tls(
        &lenient,
        &pki,
        false,
        "ftp.login(); ftp.prot_p()",
        "print(ftp.nlst())",
    );
    assert!(stdout(&o).contains("['a.txt']"), "{}", text(&o));
}

#[test]
fn anonymous_encryption_rules() {
    let pki = Pki::new();
    // allow_anon_ssl=NO: an anonymous login over TLS is refused.
    let server = ftps_builder("ftps_anon_no", &pki)
        .set("allow_anon_ssl", "NO")
        .start();
    let o = ftp_tls(&server, &pki, true, "ftp.login()", "print('logged in')");
    assert!(
        stdout(&o).contains("530 Anonymous sessions may not use encryption."),
        "{}",
        text(&o)
    );
    // In clear it may log in, and its data connections stay clear.
    let mut c = server.login();
    let _ = c.list("");
    // force_anon_logins_ssl / force_anon_data_ssl.
    let server = ftps_builder("ftps_anon_force", &pki)
        .set("force_anon_logins_ssl", "YES")
        .set("force_anon_data_ssl", "YES")
        .start();
    let (mut c, _) = server.connect();
    c.cmd("USER anonymous")
        .assert_is("530 Anonymous sessions must use encryption.");
    let o = ftp_tls(&server, &pki, true, "ftp.login()", "print(ftp.nlst())");
    assert!(
        stdout(&o).contains("522 Data connections must be encrypted."),
        "{}",
        text(&o)
    );
    let o = ftp_tls(
        &server,
        &pki,
        true,
        "ftp.login(); ftp.prot_p()",
        "print(ftp.nlst())",
    );
    assert!(stdout(&o).contains("[]"), "{}", text(&o));
}

#[test]
fn local_users_must_encrypt_and_lftp_serves_them() {
    let pki = Pki::new();
    let pam = PamService::unix("vrs-ftps");
    let (b, u) = local_ftps("ftps_local", &pki, &pam);
    std::fs::write(u.home.join("mine.txt"), "local over TLS\n").unwrap();
    u.chown(&u.home.join("mine.txt"));
    let server = b.start();
    // force_local_logins_ssl: a password in clear is never asked for.
    let (mut c, _) = server.connect();
    c.cmd(&format!("USER {}", u.name))
        .assert_is("530 Non-anonymous sessions must use encryption.");
    c.cmd("QUIT").assert_is("221 Goodbye.");
    // force_local_data_ssl: PROT C data connections are refused.
    let o = ftp_tls(
        &server,
        &pki,
        true,
        &format!("ftp.login({:?}, {:?})", u.name, u.password),
        "print(ftp.nlst())",
    );
    assert!(
        stdout(&o).contains("522 Data connections must be encrypted."),
        "{}",
        text(&o)
    );
    // lftp with ssl-force: login, listing, download, upload, all encrypted.
    let work = TempDir::new("ftps-lftp");
    std::fs::write(work.join("up.txt"), "uploaded over TLS\n").unwrap();
    let o = lftp_in(
        &format!(
            "set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:ca-file {ca}; \
             open -u {user},{pw} ftp://127.0.0.1:{port}; ls; get mine.txt; put up.txt; quit",
            ca = pki.s("ca.pem"),
            user = u.name,
            pw = u.password,
            port = server.port()
        ),
        Some(work.path()),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(stdout(&o).contains("mine.txt"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(work.join("mine.txt")).unwrap(),
        "local over TLS\n"
    );
    assert_eq!(
        std::fs::read_to_string(u.home.join("up.txt")).unwrap(),
        "uploaded over TLS\n"
    );
    assert_serving_tls(&server);
}

fn sha256(path: &Path) -> String {
    let o = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn fifty_megabytes_both_ways_under_prot_p() {
    let pki = Pki::new();
    let pam = PamService::unix("vrs-ftps50");
    let (b, u) = local_ftps("ftps_50mb", &pki, &pam);
    let server = b.start();
    let work = TempDir::new("ftps-50mb");
    let src = work.join("big.bin");
    std::fs::write(&src, pattern_bytes(50 << 20)).unwrap();
    let want = sha256(&src);
    let ca = pki.s("ca.pem");
    let creds = format!("{}:{}", u.name, u.password);
    let target = url(&server, "ftp", "big.bin");
    let o = curl(&[
        "--ssl-reqd",
        "--cacert",
        &ca,
        "-u",
        &creds,
        "-T",
        src.to_str().unwrap(),
        &target,
    ]);
    assert!(o.status.success(), "upload: {}", text(&o));
    assert_eq!(sha256(&u.home.join("big.bin")), want, "uploaded bytes");
    let back = work.join("back.bin");
    let o = curl(&[
        "--ssl-reqd",
        "--cacert",
        &ca,
        "-u",
        &creds,
        "-o",
        back.to_str().unwrap(),
        &target,
    ]);
    assert!(o.status.success(), "download: {}", text(&o));
    assert_eq!(sha256(&back), want, "downloaded bytes");
}

#[test]
fn implicit_ftps_with_curl() {
    let pki = Pki::new();
    let server = ftps_builder("ftps_implicit", &pki)
        .set("implicit_ssl", "YES")
        .file("hello.txt", "implicit\n")
        .start();
    let o = curl(&[
        "--cacert",
        &pki.s("ca.pem"),
        &url(&server, "ftps", "hello.txt"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(o.stdout, b"implicit\n");
    // A client that speaks plain FTP gets nothing it can read, and the listener serves on.
    let mut plain = std::net::TcpStream::connect(server.addr()).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    std::io::Write::write_all(&mut plain, b"USER anonymous\r\n").unwrap();
    let mut got = Vec::new();
    let _ = std::io::Read::read_to_end(&mut plain, &mut got);
    assert!(
        !got.starts_with(b"220"),
        "a plain greeting on an implicit port"
    );
    let o = curl(&[
        "--cacert",
        &pki.s("ca.pem"),
        &url(&server, "ftps", "hello.txt"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

fn s_client(server: &Server, version: &str) -> Output {
    s_client_with(server, &[version])
}

fn s_client_with(server: &Server, args: &[&str]) -> Output {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-starttls", "ftp", "-connect"])
        .arg(format!("127.0.0.1:{}", server.port()))
        .args(args)
        .stdin(Stdio::null());
    run_with_timeout(&mut cmd, Duration::from_secs(20))
}

/// ssl_sni_hostname: a client naming another host is refused; the named one, or none, served.
#[test]
fn sni_host_name() {
    let pki = Pki::new();
    let server = ftps_builder("ftps_sni", &pki)
        .set("ssl_sni_hostname", "localhost")
        .start();
    let o = s_client_with(&server, &["-servername", "localhost"]);
    assert!(stdout(&o).contains("New, TLS"), "{}", text(&o));
    let o = curl(&[
        "--ssl-reqd",
        "--cacert",
        &pki.s("ca.pem"),
        "--resolve",
        &format!("other.example:{}:127.0.0.1", server.port()),
        &format!("ftp://other.example:{}/", server.port()),
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    let o = curl(&[
        "--ssl-reqd",
        "--cacert",
        &pki.s("ca.pem"),
        "--resolve",
        &format!("localhost:{}:127.0.0.1", server.port()),
        &format!("ftp://localhost:{}/", server.port()),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_serving_tls(&server);
}

#[test]
fn openssl_s_client_gets_tls_1_3_and_no_tls_1_1() {
    let pki = Pki::new();
    let server = ftps_builder("ftps_s_client", &pki).start();
    let o = s_client(&server, "-tls1_3");
    let out = stdout(&o);
    assert!(
        out.contains("New, TLSv1.3, Cipher is TLS_AES_"),
        "{}",
        text(&o)
    );
    let o = s_client(&server, "-tls1_1");
    assert!(!o.status.success(), "{}", text(&o));
    assert!(!stdout(&o).contains("New, TLSv1.1"), "{}", text(&o));
    // ALPACA (vsftpd 3.0.4): a client that asks for another application protocol is refused.
    let o = s_client_with(&server, &["-alpn", "http/1.1"]);
    assert!(
        text(&o).contains("alert no application protocol"),
        "{}",
        text(&o)
    );
    let o = s_client_with(&server, &["-alpn", "ftp"]);
    assert!(stdout(&o).contains("ALPN protocol: ftp"), "{}", text(&o));
    let o = s_client(&server, "-tls1_2");
    assert!(
        stdout(&o).contains("New, TLSv1.2, Cipher is ECDHE-RSA-AES256-GCM-SHA384"),
        "{}",
        text(&o)
    );
    assert_serving_tls(&server);
}

#[test]
fn client_certificates() {
    let pki = Pki::new();
    let ca = pki.s("ca.pem");
    let get = |server: &Server, cert: Option<&str>| -> Output {
        let mut args = vec!["--ssl-reqd".to_string(), "--cacert".into(), ca.clone()];
        if let Some(c) = cert {
            args.extend([
                "--cert".into(),
                pki.s(&format!("{c}.pem")),
                "--key".into(),
                pki.s(&format!("{c}.key")),
            ]);
        }
        args.push(url(server, "ftp", "f.txt"));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&refs)
    };
    // require_cert + validate_cert: only a certificate the CA signed.
    let strict = ftps_builder("ftps_cert_validate", &pki)
        .set("require_cert", "YES")
        .set("validate_cert", "YES")
        .set("ca_certs_file", &ca)
        .file("f.txt", "certified\n")
        .start();
    let o = get(&strict, Some("client"));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(o.stdout, b"certified\n");
    assert!(!get(&strict, Some("selfsigned")).status.success());
    assert!(!get(&strict, None).status.success());
    assert_serving_tls(&strict);
    // require_cert alone: any certificate whose key the client holds, none refused.
    let any = ftps_builder("ftps_cert_any", &pki)
        .set("require_cert", "YES")
        .file("f.txt", "certified\n")
        .start();
    let o = get(&any, Some("selfsigned"));
    assert!(o.status.success(), "{}", text(&o));
    assert!(!get(&any, None).status.success());
}

#[test]
fn bad_certificates_stop_the_start_with_the_option_named() {
    let pki = Pki::new();
    let run = |b: ServerBuilder| -> (i32, String) {
        let conf = b.write_config();
        let (code, _, err) = run_vsftpd(&[std::ffi::OsStr::new("-t"), conf.as_os_str()]);
        let started = b.try_start();
        assert!(started.is_err(), "the daemon started");
        (code, err)
    };
    let (code, err) =
        run(ftps_builder("ftps_err_missing", &pki).set("rsa_cert_file", "/nonexistent/cert.pem"));
    assert_eq!(code, 1);
    assert!(
        err.contains("rsa_cert_file=/nonexistent/cert.pem") && err.contains("No such file"),
        "{err}"
    );
    let (code, err) =
        run(ftps_builder("ftps_err_mismatch", &pki)
            .set("rsa_private_key_file", pki.s("client.key")));
    assert_eq!(code, 1);
    assert!(
        err.contains("rsa_private_key_file") && err.contains("does not match the certificate"),
        "{err}"
    );
    let (code, err) = run(ftps_builder("ftps_err_nokey", &pki).unset("rsa_private_key_file"));
    assert_eq!(code, 1);
    assert!(err.contains("no PEM private key"), "{err}");
    let (code, err) = run(ftps_builder("ftps_err_cipher", &pki).set("ssl_ciphers", "HIGH:RC4-MD5"));
    assert_eq!(code, 1);
    assert!(
        err.contains("ssl_ciphers") && err.contains("RC4-MD5"),
        "{err}"
    );
    let (code, err) = run(ftps_builder("ftps_err_tls11", &pki).set("ssl_tlsv1_1", "YES"));
    assert_eq!(code, 1);
    assert!(
        err.contains("ssl_tlsv1_1") && err.contains("TLS 1.2 and 1.3"),
        "{err}"
    );
    let (code, err) =
        run(ftps_builder("ftps_err_dsa", &pki).set("dsa_cert_file", pki.s("server.pem")));
    assert_eq!(code, 1);
    assert!(
        err.contains("dsa_cert_file") && err.contains("not supported"),
        "{err}"
    );
    // One file holding certificate and key loads, as in vsftpd.
    let server = ftps_builder("ftps_both", &pki)
        .set("rsa_cert_file", pki.s("both.pem"))
        .unset("rsa_private_key_file")
        .file("x", "x")
        .start();
    let o = curl(&[
        "--ssl-reqd",
        "--cacert",
        &pki.s("ca.pem"),
        &url(&server, "ftp", "x"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

/// The listener still serves after whatever a test did.
fn assert_serving_tls(server: &Server) {
    let (mut c, g) = server.connect();
    g.assert_code(220);
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

/// The real sandbox, on (seccomp_sandbox=YES, as every test here): an encrypted local login
/// leaves the relay (the pre-login process: nopriv_user, in secure_chroot_dir, filtered) and
/// the post-login process (the user, filtered), and both serve through the filters — the
/// allow-lists needed nothing new for rustls (its randomness comes from getrandom, already
/// allowed).
#[test]
fn the_relay_and_the_session_run_sandboxed() {
    if one_process_model() {
        return;
    }
    use std::io::{BufRead, BufReader, Write};
    let pki = Pki::new();
    let pam = PamService::unix("vrs-ftpsbox");
    let (b, u) = local_ftps("ftps_sandbox", &pki, &pam);
    let server = b.start();
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-crlf",
            "-starttls",
            "ftp",
            "-connect",
        ])
        .arg(format!("127.0.0.1:{}", server.port()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut guard_stdin = child.stdin.take().unwrap();
    let out = child.stdout.take().unwrap();
    let mut guard = ProcessGuard::new(child, false);
    writeln!(
        guard_stdin,
        "USER {}\nPASS {}\nPBSZ 0\nPROT P\nSTAT",
        u.name, u.password
    )
    .unwrap();
    let mut lines = BufReader::new(out).lines();
    let mut seen = Vec::new();
    while let Some(Ok(l)) = lines.next() {
        seen.push(l.clone());
        if l.starts_with("211 End of status") {
            break;
        }
    }
    let all = seen.join("\n");
    assert!(all.contains("230 Login successful."), "{all}");
    assert!(all.contains("200 PROT now Private."), "{all}");
    assert!(all.contains("Control connection is encrypted"), "{all}");
    assert!(all.contains("Data connections will be encrypted"), "{all}");
    let helper = wait_child_of(server.pid(), None);
    let kids = descendants(helper);
    let nobody = passwd_uid("nobody").unwrap();
    let relay = kids
        .iter()
        .find(|p| p.uids[0] == nobody && p.ppid == helper)
        .unwrap_or_else(|| panic!("no relay among {kids:?}"));
    assert!(relay.is_chrooted(), "{relay:?}");
    assert_eq!(status_field(relay.pid, "Seccomp"), "2");
    let post = kids
        .iter()
        .find(|p| p.uids[0] == u.uid())
        .unwrap_or_else(|| panic!("no post-login process among {kids:?}"));
    assert_eq!(status_field(post.pid, "Seccomp"), "2");
    assert_eq!(status_field(post.pid, "NoNewPrivs"), "1");
    writeln!(guard_stdin, "QUIT").unwrap();
    let mut rest = String::new();
    while let Some(Ok(l)) = lines.next() {
        rest.push_str(&l);
    }
    assert!(rest.contains("221 Goodbye."), "{rest}");
    guard.wait_exit(Duration::from_secs(10));
    // Both end with the session.
    assert!(wait_until(Duration::from_secs(10), || proc_info(relay.pid)
        .is_none_or(|p| p.state == 'Z')));
}

/// ftpbench --tls (the PROT P figures): downloads, uploads and whole sessions over FTPS, every
/// byte checked, every data connection resuming its own session's TLS session.
#[test]
fn ftpbench_measures_prot_p() {
    let pki = Pki::new();
    let b = ftps_builder("ftps_bench", &pki)
        .set("write_enable", "YES")
        .set("anon_upload_enable", "YES")
        .set("anon_umask", "022");
    let size = 3 << 20;
    for (name, len) in [("big.bin", size), ("small.bin", 4096)] {
        let path = b.tree_path().join(name);
        let o = Command::new(env!("CARGO_BIN_EXE_ftpbench"))
            .arg("--make-pattern")
            .arg(&path)
            .arg(len.to_string())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        set_mode(&path, 0o644);
    }
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
    assert!(out.status.success());
    let server = b.start();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftpbench"));
    cmd.args(["--port", &server.port().to_string(), "--quiet", "--tls"])
        .args([
            "--figure",
            "retr,stor,sessions",
            "--seconds",
            "0.3",
            "--clients",
            "1,4",
        ])
        .args([
            "--file",
            &format!("big.bin:{size}"),
            "--small",
            "small.bin:4096",
        ])
        .args(["--upload-dir", "incoming/", "--json", "-"]);
    let o = run_with_timeout(&mut cmd, Duration::from_secs(120));
    assert!(o.status.success(), "{}", text(&o));
    let out = stdout(&o);
    for key in [
        "\"retr_1_mb_s\": ",
        "\"stor_1_mb_s\": ",
        "\"sessions_4_per_s\": ",
    ] {
        let at = out.find(key).unwrap_or_else(|| panic!("{key} in {out}")) + key.len();
        assert!(
            out[at..].starts_with(|c: char| c.is_ascii_digit()),
            "{key}: {out}"
        );
    }
    assert!(out.contains("0 errors"), "{out}");
}

/// strict_ssl_read_eof: an encrypted upload that ends without the client's close_notify may
/// have been cut short by anyone on the path: 426 when strict (the default), accepted when not.
#[test]
fn uploads_must_end_with_close_notify_when_strict() {
    let pki = Pki::new();
    let body = r#"conn = ftp.transfercmd("STOR cut.bin")
conn.sendall(b"x" * 100000)
conn.close()
print(ftp.voidresp())
"#;
    for (strict, want) in [
        ("YES", "426 Failure reading network stream."),
        ("NO", "226 Transfer complete."),
    ] {
        let b = ftps_builder(&format!("ftps_eof_{strict}"), &pki)
            .set("strict_ssl_read_eof", strict)
            .set("write_enable", "YES")
            .set("anon_upload_enable", "YES")
            .set("delete_failed_uploads", "NO");
        let incoming = b.tree_path().join("in");
        std::fs::create_dir(&incoming).unwrap();
        let account = if one_process_model() {
            "root"
        } else {
            test_account()
        };
        assert!(Command::new("chown")
            .arg(account)
            .arg(&incoming)
            .status()
            .unwrap()
            .success());
        let server = b.start();
        let o = ftp_tls(
            &server,
            &pki,
            true,
            "ftp.login(); ftp.prot_p(); ftp.cwd('in')",
            body,
        );
        assert!(stdout(&o).contains(want), "strict={strict}: {}", text(&o));
    }
}

/// ABOR over an encrypted control connection during a PROT P download: the post-login
/// process sees it through the relay and ends the transfer with vsftpd's two replies.
#[test]
fn abor_during_an_encrypted_download() {
    let pki = Pki::new();
    let b = ftps_builder("ftps_abor", &pki);
    std::fs::write(b.tree_path().join("big.bin"), pattern_bytes(64 << 20)).unwrap();
    let server = b.start();
    let body = r#"ftp.voidcmd("TYPE I")
conn = ftp.transfercmd("RETR big.bin")
conn.recv(65536)
ftp.putcmd("ABOR")
print(ftp.getline())
print(ftp.getline())
conn.close()
print(ftp.sendcmd("NOOP"))
"#;
    let o = ftp_tls(&server, &pki, true, "ftp.login(); ftp.prot_p()", body);
    let out = stdout(&o);
    assert!(
        out.contains("426 Failure writing network stream.\n226 ABOR successful.\n"),
        "{}",
        text(&o)
    );
    assert!(out.contains("200 NOOP ok."), "{}", text(&o));
}

/// debug_ssl: what each handshake negotiated, in the vsftpd log.
#[test]
fn debug_ssl_logs_each_handshake() {
    let pki = Pki::new();
    let b = ftps_builder("ftps_debug", &pki)
        .set("debug_ssl", "YES")
        .set("xferlog_enable", "YES")
        .file("f.txt", "x\n");
    let log = b.temp().join("vsftpd.log");
    let b = b.set("vsftpd_log_file", log.display());
    let server = b.start();
    let o = curl(&[
        "--ssl-reqd",
        "--cacert",
        &pki.s("ca.pem"),
        &url(&server, "ftp", "f.txt"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let want = [
        "DEBUG: control connection: SSL version: TLSv1_3, SSL cipher: TLS13_AES_256_GCM_SHA384, not reused",
        "DEBUG: data connection: SSL version: TLSv1_3, SSL cipher: TLS13_AES_256_GCM_SHA384, reused",
    ];
    let seen = wait_until(Duration::from_secs(10), || {
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        want.iter().all(|w| t.contains(w))
    });
    assert!(
        seen,
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// SIGHUP with a certificate that no longer loads keeps the old configuration (and says why):
/// new sessions still get TLS.
#[test]
fn reload_with_a_broken_certificate_keeps_the_old_one() {
    let pki = Pki::new();
    let server = ftps_builder("ftps_reload", &pki)
        .file("f.txt", "x\n")
        .start();
    let good = server.config_contents();
    let broken = good.replace(&pki.s("server.pem"), "/nonexistent/server.pem");
    assert_ne!(good, broken);
    server.write_config_text(&broken);
    server.signal("HUP");
    let logged = wait_until(Duration::from_secs(10), || {
        server.stderr().contains("/nonexistent/server.pem")
    });
    assert!(logged, "{}", server.stderr());
    let o = curl(&[
        "--ssl-reqd",
        "--cacert",
        &pki.s("ca.pem"),
        &url(&server, "ftp", "f.txt"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

/// inetd mode (listen=NO): FTPS is the same session on standard input; a certificate that
/// does not load is the client's `500 OOPS:` too.
#[test]
fn inetd_mode() {
    let pki = Pki::new();
    let mut s = ftps_builder("ftps_inetd", &pki)
        .set("listen", "NO")
        .spawn_inetd();
    s.greeting().assert_code(220);
    let f = s.client().cmd("FEAT").raw_str();
    assert!(f.contains(" AUTH TLS\r\n"), "{f}");
    s.client()
        .cmd("AUTH TLS")
        .assert_is("234 Proceed with negotiation.");
    let s = ftps_builder("ftps_inetd_broken", &pki)
        .set("listen", "NO")
        .set("rsa_cert_file", "/nonexistent/cert.pem")
        .spawn_inetd();
    let g = s.greeting();
    assert_eq!(g.code, 500, "{}", g.raw_str());
    assert!(
        g.raw_str().starts_with("500 OOPS: ") && g.raw_str().contains("/nonexistent/cert.pem"),
        "{}",
        g.raw_str()
    );
}

/// strict_ssl_write_shutdown: a download ends with the TLS shutdown handshake; a client that
/// just closes the socket has not confirmed it and the transfer is reported failed.
#[test]
fn strict_write_shutdown_wants_the_clients_close_notify() {
    let pki = Pki::new();
    let server = ftps_builder("ftps_write_shutdown", &pki)
        .set("strict_ssl_write_shutdown", "YES")
        .file("f.txt", "shut down\n")
        .start();
    // ftplib answers the server's close_notify with its own (unwrap).
    let o = ftp_tls(
        &server,
        &pki,
        true,
        "ftp.login(); ftp.prot_p()",
        "print(ftp.retrbinary('RETR f.txt', lambda b: print('GOT', b)))",
    );
    let out = stdout(&o);
    assert!(out.contains("GOT b'shut down\\n'"), "{}", text(&o));
    assert!(out.contains("226 Transfer complete."), "{}", text(&o));
    // Reading everything, then closing without close_notify.
    let body = r#"ftp.voidcmd("TYPE I")
conn = ftp.transfercmd("RETR f.txt")
print("GOT", conn.recv(100))
conn.close()
print(ftp.voidresp())
"#;
    let o = ftp_tls(&server, &pki, true, "ftp.login(); ftp.prot_p()", body);
    let out = stdout(&o);
    assert!(out.contains("GOT b'shut down\\n'"), "{}", text(&o));
    assert!(
        out.contains("426 Failure writing network stream."),
        "{}",
        text(&o)
    );
}

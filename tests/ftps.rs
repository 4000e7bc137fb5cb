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
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                "/CN=vsftpd-rs test CA", "-keyout", "ca.key", "-out", "ca.pem",
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
                    "req", "-newkey", "rsa:2048", "-nodes", "-subj", &format!("/CN={name}"),
                    "-keyout", &format!("{name}.key"), "-out", &format!("{name}.csr"),
                ],
            );
            openssl(
                d,
                &[
                    "x509", "-req", "-in", &format!("{name}.csr"), "-CA", "ca.pem", "-CAkey",
                    "ca.key", "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
                    &format!("{name}.pem"),
                ],
            );
        }
        openssl(
            d,
            &[
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                "/CN=self-signed client", "-keyout", "selfsigned.key", "-out", "selfsigned.pem",
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

#[test]
fn curl_downloads_over_explicit_tls_with_session_reuse() {
    let pki = Pki::new();
    let server = ftps_builder("ftps_curl", &pki)
        .file("hello.txt", "hello over TLS\n")
        .start();
    let ca = pki.s("ca.pem");
    let o = curl(&["--ssl-reqd", "--cacert", &ca, &url(&server, "ftp", "hello.txt")]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(o.stdout, b"hello over TLS\n");
    // The listing too, under PROT P.
    let o = curl(&["--ssl-reqd", "--cacert", &ca, &url(&server, "ftp", "")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("hello.txt"));
    assert_serving_tls(&server);
}

/// The listener still serves after whatever a test did.
fn assert_serving_tls(server: &Server) {
    let (mut c, g) = server.connect();
    g.assert_code(220);
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

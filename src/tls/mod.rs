//! FTPS (RFC 4217) on rustls: the server's TLS configuration made from vsftpd's ssl_* options,
//! the control connection's handshake, encrypted data connections, and the relay that carries
//! an encrypted control connection across the login.
//!
//! Where the pieces run:
//! - The certificate and its key are read once, by root, before anything forks or confines
//!   itself ([`load`], from `crate::jail::Prepared`); no jailed process can open them again.
//! - Each session gets its own copy of the configuration with a fresh session-ticket key
//!   ([`begin_session`], in the forked session before its children exist): both protocol
//!   processes inherit it, so a data connection of the post-login process can resume the TLS
//!   session the pre-login process negotiated on the control connection, and nothing else can:
//!   a ticket of another session does not decrypt. That is require_ssl_reuse's proof that
//!   the data connection comes from the client that logged in.
//! - The control connection's TLS state cannot move to another process, so in the
//!   two-process model the pre-login process, which did the handshake, stays after the login
//!   as the control connection's relay ([`relay`]): the post-login process reads and writes
//!   plain text on a socket pair, as vsftpd's SSL slave does.
//!
//! The crypto provider is *ring*: it builds with a C compiler alone (aws-lc-rs needs cmake and
//! a longer build) and offers every suite vsftpd's stock configurations name.
#![forbid(unsafe_code)]

pub mod data;
pub mod relay;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConnection};
use rustls::{HandshakeKind, SignatureScheme, SupportedCipherSuite};

use crate::config::{Config, Settings};

/// The largest certificate, key or CA file read (a CA bundle of a few hundred certificates).
const MAX_PEM_FILE: u64 = 4 << 20;

/// The largest session ticket plaintext expected (a session value with a client certificate
/// chain of a few kilobytes).
const MAX_TICKET: usize = 16 * 1024;

/// The per-session configuration, set once in the session process before it forks.
static SESSION: OnceLock<Arc<ServerConfig>> = OnceLock::new();

/// What [`load`] makes: the configuration every session starts from.
#[derive(Clone)]
pub struct Tls {
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

/// With ssl_enable=YES: reads the certificate, its key and ca_certs_file and builds the
/// server's configuration; `Ok(None)` with ssl_enable=NO. `Err` names the option, where it
/// was set, the file and what is wrong with it.
pub fn load(settings: &Settings) -> Result<Option<Tls>, String> {
    let c = &settings.config;
    if !c.ssl_enable {
        if c.implicit_ssl {
            return Err(blame_default(
                settings,
                "implicit_ssl",
                "needs ssl_enable=YES",
            ));
        }
        return Ok(None);
    }
    let blame = |name: &str, value: &str, msg: String| -> String {
        match settings.origin(name) {
            Some(crate::config::Origin::Default) | None => {
                format!("{name}={value} (the default): {msg}")
            }
            Some(o) => format!("{o}: {name}={value}: {msg}"),
        }
    };
    let cert_path = c
        .str_or_default("rsa_cert_file", &c.rsa_cert_file)
        .to_string();
    let (key_name, key_path) = match c.rsa_private_key_file.as_deref() {
        Some(k) => ("rsa_private_key_file", k.to_string()),
        None => ("rsa_cert_file", cert_path.clone()),
    };
    let cert_pem = read_pem_file(&cert_path)
        .map_err(|e| blame("rsa_cert_file", &cert_path, format!("cannot read it: {e}")))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| blame("rsa_cert_file", &cert_path, format!("bad PEM: {e:?}")))?;
    if certs.is_empty() {
        return Err(blame(
            "rsa_cert_file",
            &cert_path,
            "no PEM certificate in it".into(),
        ));
    }
    let key_pem = if key_path == cert_path {
        cert_pem
    } else {
        read_pem_file(&key_path)
            .map_err(|e| blame(key_name, &key_path, format!("cannot read it: {e}")))?
    };
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| blame(key_name, &key_path, "no PEM private key in it".into()))?;
    let provider = Arc::new(provider(c)?);
    let versions = versions(c);
    if versions.is_empty() {
        return Err(blame(
            "ssl_tlsv1_2",
            "NO",
            "with ssl_tlsv1_3=NO too, no TLS version is left".into(),
        ));
    }
    let verifier = client_verifier(c, &provider).map_err(|e| {
        let ca = c.ca_certs_file.as_deref().unwrap_or("");
        blame("ca_certs_file", ca, e)
    })?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("ssl_ciphers: no cipher suite for the TLS versions enabled: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => blame(
                key_name,
                &key_path,
                format!("the private key does not match the certificate in {cert_path}"),
            ),
            other => blame(key_name, &key_path, format!("unusable key: {other}")),
        })?;
    // The ALPACA defence of vsftpd 3.0.4: a client that names an application protocol must
    // name ftp (a browser talking HTTPS to the FTP port is refused).
    config.alpn_protocols = vec![b"ftp".to_vec()];
    if let Some(want) = c.ssl_sni_hostname.clone() {
        config.cert_resolver = Arc::new(SniCheck {
            inner: Arc::clone(&config.cert_resolver),
            want,
        });
    }
    Ok(Some(Tls {
        config: Arc::new(config),
    }))
}

fn blame_default(settings: &Settings, name: &str, msg: &str) -> String {
    match settings.origin(name) {
        Some(crate::config::Origin::Default) | None => format!("{name}: {msg}"),
        Some(o) => format!("{o}: {name}: {msg}"),
    }
}

fn read_pem_file(path: &str) -> io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut buf = Vec::new();
    f.take(MAX_PEM_FILE + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_PEM_FILE {
        return Err(io::Error::other("too large"));
    }
    Ok(buf)
}

fn versions(c: &Config) -> Vec<&'static rustls::SupportedProtocolVersion> {
    let mut v = Vec::new();
    if c.ssl_tlsv13 {
        v.push(&rustls::version::TLS13);
    }
    if c.ssl_tlsv12 {
        v.push(&rustls::version::TLS12);
    }
    v
}

/// ring's provider with the TLS 1.2 suites ssl_ciphers names (TLS 1.3's are not chosen by
/// an OpenSSL cipher list, in vsftpd either).
fn provider(c: &Config) -> Result<CryptoProvider, String> {
    let mut p = ring_provider();
    let list = c.str_or_default("ssl_ciphers", &c.ssl_ciphers);
    let chosen = cipher_list(list).map_err(|e| format!("ssl_ciphers={list}: {e}"))?;
    p.cipher_suites.retain(|s| match s {
        SupportedCipherSuite::Tls13(_) => true,
        SupportedCipherSuite::Tls12(_) => chosen.contains(&s.suite()),
    });
    Ok(p)
}

/// rustls 0.23.48 deprecates ring's provider for its lack of the post-quantum key exchange
/// (X25519MLKEM768); the FTPS clients of today's distributions (OpenSSL 3.0, GnuTLS 3.7) do
/// not offer it either, and ring builds with a C compiler alone (see the module's notes).
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    ring::default_provider()
}

/// OpenSSL's names of the TLS 1.2 suites rustls has, and rustls' own.
fn suite_by_name(name: &str) -> Option<rustls::CipherSuite> {
    use rustls::CipherSuite as S;
    let all = [
        (
            "ECDHE-RSA-AES256-GCM-SHA384",
            S::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ),
        (
            "ECDHE-RSA-AES128-GCM-SHA256",
            S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ),
        (
            "ECDHE-RSA-CHACHA20-POLY1305",
            S::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ),
        (
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            S::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ),
        (
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
        (
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ),
    ];
    all.iter()
        .find(|(openssl, s)| {
            name.eq_ignore_ascii_case(openssl)
                || s.as_str().is_some_and(|r| name.eq_ignore_ascii_case(r))
        })
        .map(|(_, s)| *s)
}

/// Names that stand for every suite rustls offers (they only ever add stronger ones than
/// OpenSSL's keywords would; rustls has no weak suite to leave out).
const ALL_SUITES: &[&str] = &[
    "PROFILE=SYSTEM",
    "DEFAULT",
    "HIGH",
    "ALL",
    "SECURE",
    "ECDHE",
    "EECDH",
    "AESGCM",
    "CHACHA20",
    "TLSV1.2",
];

/// The TLS 1.2 suites of an OpenSSL-style cipher list: names separated by `:`, `,` or spaces;
/// `!X`, `-X` and `+X` take away or reorder (whatever they name, rustls has nothing weak to
/// take away, so only known suites are removed); `@STRENGTH`-style directives are ignored.
/// A name that is neither a suite rustls has nor a keyword is an error naming it.
pub fn cipher_list(list: &str) -> Result<Vec<rustls::CipherSuite>, String> {
    let mut out: Vec<rustls::CipherSuite> = Vec::new();
    let every = || {
        ring_provider()
            .cipher_suites
            .iter()
            .filter(|s| matches!(s, SupportedCipherSuite::Tls12(_)))
            .map(|s| s.suite())
            .collect::<Vec<_>>()
    };
    for token in list.split([':', ',', ' ']).filter(|t| !t.is_empty()) {
        if let Some(rest) = token.strip_prefix(['!', '-']) {
            if let Some(s) = suite_by_name(rest) {
                out.retain(|x| *x != s);
            }
            continue;
        }
        if token.starts_with('+') || token.starts_with('@') {
            continue;
        }
        if ALL_SUITES.iter().any(|k| token.eq_ignore_ascii_case(k)) {
            for s in every() {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            continue;
        }
        // TLS 1.3 suite names are always on; accepted here so that a list naming them loads.
        if token.to_ascii_uppercase().starts_with("TLS_AES_")
            || token.eq_ignore_ascii_case("TLS_CHACHA20_POLY1305_SHA256")
        {
            continue;
        }
        match suite_by_name(token) {
            Some(s) if !out.contains(&s) => out.push(s),
            Some(_) => {}
            None => return Err(format!("unknown cipher {token} (rustls offers only TLS 1.2 ECDHE suites with AES-GCM or ChaCha20-Poly1305)")),
        }
    }
    Ok(out)
}

/// Client certificates: validate_cert=YES checks them against ca_certs_file; otherwise
/// ssl_request_cert asks for one and require_cert insists, checking only that the client
/// holds its key (vsftpd accepts a self-signed one then).
fn client_verifier(
    c: &Config,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let mut roots = RootCertStore::empty();
    if let Some(path) = c.ca_certs_file.as_deref() {
        let pem = read_pem_file(path).map_err(|e| format!("cannot read it: {e}"))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("bad PEM: {e:?}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("not a CA certificate: {e}"))?;
        }
    }
    if c.validate_cert {
        if roots.is_empty() {
            return Err("validate_cert=YES needs CA certificates in ca_certs_file".into());
        }
        let b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider));
        let b = if c.require_cert {
            b
        } else {
            b.allow_unauthenticated()
        };
        return b.build().map_err(|e| format!("{e}"));
    }
    if !c.require_cert && !c.ssl_request_cert {
        return Ok(Arc::new(rustls::server::NoClientAuth));
    }
    Ok(Arc::new(AnyClientCert {
        hints: roots.subjects(),
        mandatory: c.require_cert,
        algorithms: provider.signature_verification_algorithms,
    }))
}

/// Asks for a client certificate without judging who issued it (validate_cert=NO), but with
/// the signature check that proves the client holds its key.
#[derive(Debug)]
struct AnyClientCert {
    hints: Vec<DistinguishedName>,
    mandatory: bool,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// In the forked session, before its processes fork: this session's configuration, with a
/// session-ticket key of its own (see the module's notes). Without FTPS, nothing.
pub fn begin_session(tls: Option<&Tls>) {
    let Some(tls) = tls else { return };
    let mut config = (*tls.config).clone();
    if let Ok(ticketer) = ring::Ticketer::new() {
        // rustls' ticketer refuses to decrypt anything longer than the longest ticket it has
        // encrypted itself, and the post-login process, which decrypts the tickets the
        // pre-login process made, has made none: one encryption of the largest ticket size
        // (a session with a client certificate chain) sets that bound in both copies.
        let _ = ticketer.encrypt(&[0u8; MAX_TICKET]);
        config.ticketer = ticketer;
    }
    // TLS 1.2 clients without tickets (curl) resume by session ID, which the process that
    // did the handshake remembers: the relay hands its sessions over with the connection.
    let store = Arc::new(SessionStore::default());
    config.session_storage = Arc::clone(&store) as Arc<dyn rustls::server::StoresServerSessions>;
    let _ = STORE.set(store);
    let _ = SESSION.set(Arc::new(config));
}

/// The TLS 1.2 sessions of one FTP session, by session ID (bounded: a session makes a few).
#[derive(Debug, Default)]
pub struct SessionStore {
    entries: std::sync::Mutex<std::collections::VecDeque<(Vec<u8>, Vec<u8>)>>,
}

/// Sessions kept per FTP session (its control connection and recent data connections).
const MAX_SESSIONS: usize = 32;
/// The longest session ID (RFC 5246: 32 bytes).
const MAX_SESSION_ID: usize = 32;

static STORE: OnceLock<Arc<SessionStore>> = OnceLock::new();

impl rustls::server::StoresServerSessions for SessionStore {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let Ok(mut e) = self.entries.lock() else {
            return false;
        };
        if key.len() > MAX_SESSION_ID || value.len() > MAX_TICKET {
            return false;
        }
        e.retain(|(k, _)| *k != key);
        if e.len() >= MAX_SESSIONS {
            e.pop_front();
        }
        e.push_back((key, value));
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let e = self.entries.lock().ok()?;
        e.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut e = self.entries.lock().ok()?;
        let i = e.iter().position(|(k, _)| k == key)?;
        e.remove(i).map(|(_, v)| v)
    }

    fn can_cache(&self) -> bool {
        true
    }
}

/// The sessions this process knows, for the hand-over: a count byte, then for each a
/// one-byte ID length, the ID, a four-byte big-endian value length and the value.
pub fn export_sessions() -> Vec<u8> {
    let mut out = vec![0u8];
    let Some(Ok(e)) = STORE.get().map(|s| s.entries.lock()) else {
        return out;
    };
    let mut n = 0u8;
    for (k, v) in e.iter() {
        let (Ok(kl), Ok(vl)) = (u8::try_from(k.len()), u32::try_from(v.len())) else {
            continue;
        };
        out.push(kl);
        out.extend_from_slice(k);
        out.extend_from_slice(&vl.to_be_bytes());
        out.extend_from_slice(v);
        n = n.saturating_add(1);
    }
    if let Some(first) = out.first_mut() {
        *first = n;
    }
    out
}

/// Reads [`export_sessions`]' bytes into this process's store; every length is bounded.
pub fn import_sessions(r: &mut impl Read) -> io::Result<()> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad session hand-over");
    let mut n = [0u8; 1];
    r.read_exact(&mut n)?;
    for _ in 0..n[0] {
        let mut kl = [0u8; 1];
        r.read_exact(&mut kl)?;
        let kl = usize::from(kl[0]);
        if kl > MAX_SESSION_ID {
            return Err(bad());
        }
        let mut key = vec![0u8; kl];
        r.read_exact(&mut key)?;
        let mut vl = [0u8; 4];
        r.read_exact(&mut vl)?;
        let vl = usize::try_from(u32::from_be_bytes(vl)).map_err(|_| bad())?;
        if vl > MAX_TICKET {
            return Err(bad());
        }
        let mut value = vec![0u8; vl];
        r.read_exact(&mut value)?;
        if let Some(store) = STORE.get() {
            rustls::server::StoresServerSessions::put(store.as_ref(), key, value);
        }
    }
    Ok(())
}

/// This session's TLS configuration, when FTPS is on.
pub fn session_config() -> Option<Arc<ServerConfig>> {
    SESSION.get().cloned()
}

/// The session's encryption state, as the control connection's commands set it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Secure {
    /// AUTH TLS (or implicit FTPS) succeeded: the control connection is encrypted.
    pub control: bool,
    /// PBSZ 0 was accepted.
    pub pbsz: bool,
    /// PROT P: data connections are encrypted.
    pub data: bool,
}

impl Secure {
    /// One byte for the relay's hand-over (control, data).
    pub fn to_byte(self) -> u8 {
        u8::from(self.control) | u8::from(self.pbsz) << 1 | u8::from(self.data) << 2
    }

    pub fn from_byte(b: u8) -> Secure {
        Secure {
            control: b & 1 != 0,
            pbsz: b & 2 != 0,
            data: b & 4 != 0,
        }
    }
}

/// A finished server handshake on a blocking socket, within `timeout`.
pub fn accept(
    config: Arc<ServerConfig>,
    sock: &mut TcpStream,
    timeout: Option<Duration>,
) -> Result<ServerConnection, String> {
    let mut conn = ServerConnection::new(config).map_err(|e| e.to_string())?;
    let old = sock.read_timeout().ok().flatten();
    let _ = sock.set_read_timeout(timeout);
    let result = (|| {
        while conn.is_handshaking() {
            conn.complete_io(sock).map_err(|e| e.to_string())?;
        }
        // The last flight (TLS 1.3 tickets) goes out now, not with the first reply.
        while conn.wants_write() {
            conn.write_tls(sock).map_err(|e| e.to_string())?;
        }
        Ok(())
    })();
    let _ = sock.set_read_timeout(old);
    result.map(|()| conn)
}

/// ssl_sni_hostname: a client that names another host gets no certificate, so its handshake
/// fails (vsftpd 3.0.4); one that names none is served.
#[derive(Debug)]
struct SniCheck {
    inner: Arc<dyn rustls::server::ResolvesServerCert>,
    want: String,
}

impl rustls::server::ResolvesServerCert for SniCheck {
    fn resolve(
        &self,
        hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        match hello.server_name() {
            Some(name) if !name.eq_ignore_ascii_case(&self.want) => None,
            _ => self.inner.resolve(hello),
        }
    }
}

/// Did this handshake resume a session (require_ssl_reuse)?
pub fn resumed(conn: &ServerConnection) -> bool {
    conn.handshake_kind() == Some(HandshakeKind::Resumed)
}

/// debug_ssl: what was negotiated, in the log.
pub fn debug(c: &Config, what: &str, conn: &ServerConnection) {
    if !c.debug_ssl {
        return;
    }
    let version = conn
        .protocol_version()
        .and_then(|v| v.as_str())
        .unwrap_or("?");
    let suite = conn
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .unwrap_or("?");
    let reused = if resumed(conn) {
        "reused"
    } else {
        "not reused"
    };
    let cert = if conn.peer_certificates().is_some_and(|c| !c.is_empty()) {
        "client certificate"
    } else {
        "no client certificate"
    };
    crate::log::note(&format!(
        "DEBUG: {what}: SSL version: {version}, SSL cipher: {suite}, {reused}, {cert}"
    ));
}

/// A blocking TLS stream over a TCP socket: the control connection in the process that did
/// its handshake.
pub type ControlTls = rustls::StreamOwned<ServerConnection, TcpStream>;

/// Sends close_notify and what is still queued; best effort (the connection is ending).
pub fn close(tls: &mut ControlTls) {
    tls.conn.send_close_notify();
    while tls.conn.wants_write() {
        if tls.conn.write_tls(&mut tls.sock).is_err() {
            break;
        }
    }
    let _ = tls.sock.flush();
}

//! Unit tests of the configuration module: the table, the value parsers, the loader's rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::value::{self, Fault, Value};
use super::*;
use std::collections::HashSet;

fn upstream() -> Loader {
    Loader::new(Layout::Upstream)
}

#[test]
fn upstream_parser_counts() {
    let count = |kinds: &[Kind]| {
        tunables()
            .iter()
            .filter(|t| t.dialect == Dialect::Upstream && kinds.contains(&t.kind))
            .count()
    };
    assert_eq!(count(&[Kind::Bool]), 83);
    assert_eq!(count(&[Kind::Uint, Kind::Octal]), 20);
    assert_eq!(count(&[Kind::Str]), 33);
    let rhel: Vec<_> = tunables()
        .iter()
        .filter(|t| t.dialect == Dialect::Rhel)
        .map(|t| t.name)
        .collect();
    assert_eq!(
        rhel,
        [
            "bind_retries",
            "userlist_log",
            "reverse_lookup_enable",
            "better_stou",
            "log_die",
            "wc_logs_enable",
            "dh_param_file",
            "ecdh_param_file"
        ]
    );
    let debian: Vec<_> = tunables()
        .iter()
        .filter(|t| t.dialect == Dialect::Debian)
        .map(|t| t.name)
        .collect();
    assert_eq!(debian, ["upload_file", "download_file", "utf8_filesystem"]);
}

#[test]
fn names_and_aliases_are_unique() {
    let mut seen = HashSet::new();
    for t in tunables() {
        assert!(seen.insert(t.name), "{} twice", t.name);
        for alias in t.aliases {
            assert!(seen.insert(*alias), "{alias} twice");
        }
    }
    assert_eq!(seen.len(), 155);
}

#[test]
fn every_default_parses_validates_and_fits_its_field() {
    for layout in [Layout::Upstream, Layout::Rhel] {
        let mut config = Config::blank();
        for t in tunables() {
            let raw = t.default_for(layout);
            let v = value::parse_conf(t, raw)
                .unwrap_or_else(|e| panic!("{} default {raw:?}: {e:?}", t.name));
            if let Some(check) = t.check {
                check(&v).unwrap_or_else(|e| panic!("{} default: {e}", t.name));
            }
            assert!(config.put(t.name, v.clone()), "{} has no field", t.name);
            assert_eq!(config.get(t.name), Some(v.clone()));
            assert_eq!(t.default_value(layout), v);
            // The default prints back to itself in vsftpd syntax.
            assert_eq!(value::format_value(t.kind, &v), raw, "{}", t.name);
        }
        assert_eq!(config, Config::defaults(layout));
    }
}

#[test]
fn compiled_in_defaults() {
    let up = Config::defaults(Layout::Upstream);
    assert!(!up.listen && !up.listen_ipv6 && !up.background);
    assert_eq!(up.listen_port, 21);
    assert_eq!(up.max_clients, 2000);
    assert_eq!(up.max_per_ip, 50);
    assert_eq!(up.pasv_min_port, 5001);
    assert_eq!(up.pasv_max_port, 0);
    assert_eq!(up.local_umask, 0o77);
    assert_eq!(up.file_open_mode, 0o666);
    assert_eq!(up.chown_upload_mode, 0o600);
    assert_eq!(up.ftp_username.as_deref(), Some("ftp"));
    assert_eq!(
        up.secure_chroot_dir.as_deref(),
        Some("/var/run/vsftpd/empty")
    );
    assert_eq!(up.ftpd_banner, None);
    assert!(up.seccomp_sandbox && up.isolate && up.isolate_network);
    assert!(!up.ssl_tlsv1 && !up.ssl_tlsv11 && up.ssl_tlsv12 && up.ssl_tlsv13);
    let rhel = Config::defaults(Layout::Rhel);
    assert!(rhel.background && !rhel.seccomp_sandbox && rhel.reverse_lookup_enable);
    assert_eq!(rhel.ssl_ciphers.as_deref(), Some("PROFILE=SYSTEM"));
}

#[test]
fn numbers() {
    let check = |raw: &str, max: u32| value::parse_number(raw, Kind::Uint, max);
    assert_eq!(check("21", 65535), Ok(21));
    assert_eq!(check("022", u32::MAX), Ok(18));
    assert_eq!(check("0666", u32::MAX), Ok(0o666));
    assert_eq!(check("0", 65535), Ok(0));
    assert_eq!(check("00", 65535), Ok(0));
    assert_eq!(check("4294967295", u32::MAX), Ok(u32::MAX));
    assert_eq!(check("", 65535), Err(Fault::Missing));
    let invalid = |raw: &str, max: u32| match check(raw, max) {
        Err(Fault::Invalid(message)) => message,
        other => panic!("{raw}: {other:?}"),
    };
    assert_eq!(invalid("65536", 65535), "number out of range (0-65535)");
    assert_eq!(
        invalid("4294967296", u32::MAX),
        "number out of range (0-4294967295)"
    );
    assert_eq!(invalid("-1", 65535), "negative numbers are not allowed");
    assert_eq!(
        invalid("12a", 65535),
        "not a number (digits only; a leading 0 means octal)"
    );
    assert_eq!(
        invalid("+1", 65535),
        "not a number (digits only; a leading 0 means octal)"
    );
    assert_eq!(
        invalid("089", 65535),
        "not an octal number (a leading 0 means octal, where 8 and 9 are not digits)"
    );
    match value::parse_number("01000", Kind::Octal, 0o777) {
        Err(Fault::Invalid(m)) => assert_eq!(m, "number out of range (0-0777)"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn booleans_and_strings() {
    let listen = find_tunable("listen").unwrap();
    for yes in ["YES", "yes", "True", "1"] {
        assert_eq!(value::parse_conf(listen, yes), Ok(Value::Bool(true)));
    }
    for no in ["NO", "no", "FALSE", "0"] {
        assert_eq!(value::parse_conf(listen, no), Ok(Value::Bool(false)));
    }
    assert_eq!(value::parse_conf(listen, "y"), Err(Fault::BadBool));
    assert_eq!(value::parse_conf(listen, ""), Err(Fault::Missing));
    let banner = find_tunable("ftpd_banner").unwrap();
    assert_eq!(value::parse_conf(banner, ""), Ok(Value::Str(None)));
    assert_eq!(
        value::parse_conf(banner, "a\tb"),
        Ok(Value::Str(Some("a\tb".into())))
    );
    assert!(value::parse_conf(banner, "a\u{1b}[2J").is_err());
}

#[test]
fn formatting() {
    assert_eq!(value::format_value(Kind::Octal, &Value::Uint(0o22)), "022");
    assert_eq!(value::format_value(Kind::Octal, &Value::Uint(0)), "0");
    assert_eq!(value::format_value(Kind::Uint, &Value::Uint(18)), "18");
    assert_eq!(value::format_value(Kind::Bool, &Value::Bool(true)), "YES");
    assert_eq!(value::shown("a\u{7}b"), "a\\u{7}b");
    assert_eq!(value::shown(&"x".repeat(300)).len(), 203);
}

#[test]
fn layout_names() {
    assert_eq!(Layout::from_name("RHEL"), Some(Layout::Rhel));
    assert_eq!(Layout::from_name("upstream"), Some(Layout::Upstream));
    assert_eq!(Layout::from_name("debian"), None);
    assert!(const_eq_ignore_case(b"Rhel", b"rhel"));
    assert!(!const_eq_ignore_case(b"rhel8", b"rhel"));
    let expected = match option_env!("VSFTPD_RS_LAYOUT") {
        Some(name) if name.eq_ignore_ascii_case("rhel") => Layout::Rhel,
        _ => Layout::Upstream,
    };
    assert_eq!(Layout::BUILT, expected);
}

#[test]
fn suggestions_for_typos() {
    assert_eq!(
        suggestion("allow_writable_chroot"),
        Some("allow_writeable_chroot")
    );
    assert_eq!(suggestion("Listen"), Some("listen"));
    assert_eq!(suggestion("completely_unknown"), None);
    assert_eq!(value::distance("kitten", "sitting"), 3);
}

#[test]
fn planned_refused_and_accepted() {
    let mut l = upstream();
    // At the default value, planned and refused tunables are accepted.
    l.set_option("setproctitle_enable=NO").unwrap();
    l.set_option("tcp_wrappers=NO").unwrap();
    l.set_option("ssl_tlsv1_2=YES").unwrap();
    let e = l.set_option("setproctitle_enable=YES").unwrap_err();
    assert_eq!(
        e.to_string(),
        "command line: setproctitle_enable=YES: recognised but not supported yet (planned in #12)"
    );
    // FTPS (#19) speaks TLS 1.2 and 1.3 only.
    let e = l.set_option("ssl_tlsv1=YES").unwrap_err();
    assert_eq!(
        e.to_string(),
        "command line: ssl_tlsv1=YES: not supported: only TLS 1.2 and 1.3 are offered (rustls)"
    );
    let e = l.set_option("tcp_wrappers=YES").unwrap_err();
    assert_eq!(
        e.to_string(),
        "command line: tcp_wrappers=YES: not supported: no libwrap; use the firewall or pam_access"
    );
    // The alias's own spelling is kept in messages.
    let e = l.set_option("ssl_tlsv1_1=YES").unwrap_err();
    assert_eq!(e.option(), Some("ssl_tlsv1_1"));
    l.set_option("xferlog_enable=YES").unwrap();
    l.set_option("async_abor_enable=YES").unwrap();
    let s = l.finish().unwrap();
    // xferlog_enable is implemented (#11): no warning of its own.
    assert_eq!(
        s.warnings,
        [
            "command line: async_abor_enable=YES: accepted, no effect: ABOR always works, \
             synchronously or as urgent data",
        ]
    );
}

#[test]
fn a_setting_back_at_its_default_gives_no_warning() {
    let mut l = upstream();
    l.set_option("async_abor_enable=YES").unwrap();
    l.set_option("async_abor_enable=NO").unwrap();
    let s = l.finish().unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.origin("async_abor_enable"), Some(&Origin::CommandLine));
}

#[test]
fn reverse_lookup_defaults_per_layout() {
    // Red Hat's option: YES by default there, NO upstream; either value in either layout.
    let mut rhel = Loader::new(Layout::Rhel);
    rhel.set_option("reverse_lookup_enable=YES").unwrap();
    rhel.set_option("reverse_lookup_enable=NO").unwrap();
    let mut up = upstream();
    up.set_option("reverse_lookup_enable=NO").unwrap();
    up.set_option("reverse_lookup_enable=YES").unwrap();
    let rhel = Loader::new(Layout::Rhel).finish().unwrap();
    assert!(rhel.config.reverse_lookup_enable);
    assert!(!upstream().finish().unwrap().config.reverse_lookup_enable);
}

#[test]
fn validators() {
    let mut l = upstream();
    let e = l.set_option("listen_address=::1").unwrap_err();
    assert_eq!(
        e.to_string(),
        "command line: listen_address=::1: not an IPv4 address (a dotted quad such as 192.0.2.1)"
    );
    let e = l.set_option("listen_address6=[::1]").unwrap_err();
    assert_eq!(
        e.message(),
        "not an IPv6 address (such as 2001:db8::1, without brackets)"
    );
    l.set_option("listen_address6=::1").unwrap();
    let e = l.set_option("ftp_username=").unwrap_err();
    assert_eq!(e.message(), "a user name is required");
    let e = l.set_option("ftp_username=a b").unwrap_err();
    assert_eq!(e.message(), "not a valid user name");
    let e = l.set_option("secure_chroot_dir=var/empty").unwrap_err();
    assert_eq!(e.message(), "must be an absolute path");
    let e = l.set_option("pam_service_name=../x").unwrap_err();
    assert_eq!(e.message(), "must be a plain name, without '/' or blanks");
}

#[test]
fn defaults_pass_the_start_up_checks() {
    for layout in [Layout::Upstream, Layout::Rhel] {
        let s = Loader::new(layout).finish().unwrap();
        let d = Settings::defaults(layout);
        assert_eq!(s.config, d.config);
        assert!(s.warnings.is_empty() && d.warnings.is_empty());
        assert_eq!(d.origin("listen"), Some(&Origin::Default));
        assert_eq!(d.layout, layout);
    }
}

//! The man pages: man/vsftpd.conf.5 is generated from the table of tunables (and is current),
//! both pages render without a warning, and vsftpd(8) documents every flag of `--help`.

use std::path::{Path, PathBuf};
use std::process::Command;
use vsftpd_rs::config::{render_vsftpd_conf_5, tunables};

fn man(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man").join(name)
}

#[test]
fn vsftpd_conf_5_is_current() {
    let path = man("vsftpd.conf.5");
    let expected = render_vsftpd_conf_5();
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected).expect("write man/vsftpd.conf.5");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == expected,
        "man/vsftpd.conf.5 is stale: run UPDATE_DOCS=1 cargo test --test man_pages"
    );
}

#[test]
fn vsftpd_conf_5_lists_every_tunable() {
    let page = render_vsftpd_conf_5();
    for t in tunables() {
        let entry = format!(".TP\n.B {}\n", t.name.replace('-', "\\-"));
        assert!(page.contains(&entry), "{} is missing from the page", t.name);
    }
}

/// groff's warnings (all of them, -ww) for a page; empty when it renders cleanly.
fn groff_warnings(page: &Path) -> String {
    let out = Command::new("groff")
        .args(["-ww", "-z", "-man", "-Tutf8"])
        .arg(page)
        .output()
        .expect("groff (package groff-base)");
    assert!(out.status.success(), "groff failed on {}", page.display());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn pages_render_without_warnings() {
    for name in ["vsftpd.8", "vsftpd.conf.5"] {
        let page = man(name);
        let warnings = groff_warnings(&page);
        assert!(warnings.is_empty(), "{name}: groff warns:\n{warnings}");
        // man(1) too, where it is installed: it runs the page through its own preprocessors.
        if let Ok(out) = Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .output()
        {
            assert!(out.status.success(), "man -l {name} failed");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.trim().is_empty(), "{name}: man warns:\n{stderr}");
            assert!(!out.stdout.is_empty(), "{name}: man printed nothing");
        }
    }
}

#[test]
fn vsftpd_8_documents_every_flag() {
    let help = Command::new(env!("CARGO_BIN_EXE_vsftpd"))
        .arg("--help")
        .output()
        .expect("run vsftpd --help");
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    let page = std::fs::read_to_string(man("vsftpd.8")).expect("man/vsftpd.8");
    let page = page.replace("\\-", "-");
    let mut flags = 0;
    for word in help.split(|c: char| c.is_whitespace() || c == ',' || c == '[') {
        if word.starts_with('-') && word.len() > 1 && !word.starts_with("-<") {
            let flag = word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
            flags += 1;
            assert!(page.contains(flag), "vsftpd.8 does not mention {flag}");
        }
    }
    assert!(flags >= 8, "too few flags found in --help:\n{help}");
}

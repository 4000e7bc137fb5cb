//! The PAM binding (`sys::pam`) against the real PAM stack: pam_unix with real accounts.
//!
//! Needs root (to create accounts and PAM services; pam_unix reads /etc/shadow). Every account
//! and service file is removed on Drop, also when an assertion fails. Changes to the account
//! database go through one file lock shared with the other test binaries, which run in
//! parallel. Nothing here forks: the test harness is multi-threaded, and the binding never
//! forks.

mod common;

use common::accounts::{PamService, TestUser};
use vsftpd_rs::sys::pam::{Pam, PAM_ACCT_EXPIRED, PAM_AUTH_ERR};

/// These tests create accounts and read /etc/shadow through pam_unix: they need root, as CI
/// has; without it they fail with this message rather than pass without testing anything.
macro_rules! require_root {
    () => {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the PAM binding tests need root"
        );
    };
}

fn new_user() -> TestUser {
    TestUser::new("vrsb", std::path::Path::new("/nonexistent"))
}

/// A handle for `user` on `service`, with the items vsftpd sets.
fn start(service: &PamService, user: &str) -> Pam {
    let mut pam = Pam::start(&service.name, user.as_bytes()).expect("pam_start");
    pam.set_rhost("127.0.0.1").expect("PAM_RHOST");
    pam.set_tty("ftp").expect("PAM_TTY");
    pam.set_ruser(user.as_bytes()).expect("PAM_RUSER");
    pam
}

#[test]
fn right_password_logs_in_through_every_stage() {
    require_root!();
    let service = PamService::unix("vrs-bind");
    let user = new_user();
    let mut pam = start(&service, &user.name);
    pam.authenticate(user.password.as_bytes())
        .expect("authenticate");
    pam.acct_mgmt().expect("acct_mgmt");
    assert_eq!(pam.user(), Some(user.name.clone().into_bytes()));
    pam.establish_cred().expect("establish_cred");
    pam.open_session().expect("open_session");
    pam.close_session().expect("close_session");
    pam.delete_cred().expect("delete_cred");
    drop(pam);
}

#[test]
fn items_can_be_set_and_nul_is_refused() {
    require_root!();
    let service = PamService::unix("vrs-bind");
    let mut pam = Pam::start(&service.name, b"nobody").expect("pam_start");
    pam.set_rhost("::1").expect("PAM_RHOST");
    pam.set_tty("ftp").expect("PAM_TTY");
    pam.set_ruser(b"nobody").expect("PAM_RUSER");
    assert!(pam.set_rhost("a\0b").is_err());
    assert!(pam.set_tty("a\0b").is_err());
    assert!(pam.set_ruser(b"a\0b").is_err());
    assert_eq!(pam.user(), Some(b"nobody".to_vec()));
}

#[test]
fn wrong_password_is_an_auth_error() {
    require_root!();
    let service = PamService::unix("vrs-bind");
    let user = new_user();
    let mut pam = start(&service, &user.name);
    let e = pam.authenticate(b"not-the-password").unwrap_err();
    assert_eq!(e.code, PAM_AUTH_ERR, "{e}");
    assert!(!e.text.is_empty());
    // The same handle still works with the right password.
    pam.authenticate(user.password.as_bytes())
        .expect("authenticate after a failure");
}

#[test]
fn password_with_nul_or_empty_fails() {
    require_root!();
    let service = PamService::unix("vrs-bind");
    let user = new_user();
    let mut with_nul = user.password.clone().into_bytes();
    with_nul.extend_from_slice(b"\0tail");
    let mut pam = start(&service, &user.name);
    assert!(pam.authenticate(&with_nul).is_err());
    // The password's prefix before the NUL is right: it must not log in either.
    let mut cut = user.password.clone().into_bytes();
    cut.push(0);
    assert!(pam.authenticate(&cut).is_err());
    assert!(pam.authenticate(b"").is_err());
}

#[test]
fn unknown_user_fails() {
    require_root!();
    let service = PamService::unix("vrs-bind");
    let name = PamService::unique_name("vrsbnone");
    let mut pam = start(&service, &name);
    assert!(pam.authenticate(b"whatever").is_err());
}

#[test]
fn locked_account_fails_authentication() {
    require_root!();
    let service = PamService::unix("vrs-bind");
    let user = new_user();
    user.usermod(&["-L"]);
    let mut pam = start(&service, &user.name);
    let e = pam.authenticate(user.password.as_bytes()).unwrap_err();
    assert_eq!(e.code, PAM_AUTH_ERR, "{e}");
}

#[test]
fn expired_account_fails_account_management() {
    require_root!();
    let service = PamService::unix("vrs-bind");
    let user = new_user();
    user.chage(&["-E", "0"]);
    let mut pam = start(&service, &user.name);
    pam.authenticate(user.password.as_bytes())
        .expect("the password itself is right");
    let e = pam.acct_mgmt().unwrap_err();
    assert_eq!(e.code, PAM_ACCT_EXPIRED, "{e}");
}

#[test]
fn a_denying_stack_fails() {
    require_root!();
    let service = PamService::new(
        "vrs-bind",
        "auth requisite pam_deny.so\nauth required pam_unix.so nodelay\naccount required pam_unix.so\n",
    );
    let user = new_user();
    let mut pam = start(&service, &user.name);
    let e = pam.authenticate(user.password.as_bytes()).unwrap_err();
    assert_eq!(e.code, PAM_AUTH_ERR, "{e}");
}

#[test]
fn many_handles_one_after_another() {
    require_root!();
    let service = PamService::unix("vrs-bind");
    let user = new_user();
    for i in 0..20 {
        let mut pam = start(&service, &user.name);
        if i % 2 == 0 {
            pam.authenticate(user.password.as_bytes()).expect("right");
        } else {
            assert!(pam.authenticate(b"wrong").is_err());
        }
    }
}

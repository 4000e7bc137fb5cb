//! `vsftpd`: see `vsftpd --help` and README.md.
#![forbid(unsafe_code)]

fn main() {
    #[cfg(debug_assertions)]
    simulate_old_kernel();
    // openat2 or the confined walk: decided once, here, before any chroot; every session
    // inherits the answer (vsftpd_rs::sys::fs).
    vsftpd_rs::sys::fs::probe_openat2();
    std::process::exit(vsftpd_rs::daemon::main());
}

/// Debug builds only (compiled out of release builds): with VSFTPD_RS_SIMULATE_OLD_KERNEL=1,
/// openat2 and the three Landlock calls fail with ENOSYS in this process and all it forks, as
/// on Linux before 5.6 (RHEL 8's 4.18), so that the test suites run the fallbacks
/// (tests/old_kernel.rs, scripts/test). It is a seccomp filter allowing everything else;
/// filters stack and the strictest answer wins, so the daemon's own filters apply on top as
/// usual. Loading it sets no_new_privs for the whole daemon, from the start (nothing the
/// daemon does needs an exec to gain privileges; it execs nothing).
#[cfg(debug_assertions)]
fn simulate_old_kernel() {
    use vsftpd_rs::daemon::say;
    use vsftpd_rs::sys::seccomp::{nr, Filter, ENOSYS};
    if std::env::var_os("VSFTPD_RS_SIMULATE_OLD_KERNEL").is_none_or(|v| v != "1") {
        return;
    }
    // landlock_create_ruleset, landlock_add_rule, landlock_restrict_self (x86_64 and aarch64).
    let filter = [444, 445, 446]
        .into_iter()
        .fold(Filter::new().allow_by_default(), |f, n| f.errno(n, ENOSYS))
        .errno(nr::SYS_openat2, ENOSYS);
    if let Err(e) = filter.install() {
        say(&format!("VSFTPD_RS_SIMULATE_OLD_KERNEL=1: {e}"));
        std::process::exit(1);
    }
    say("note: simulating an old kernel: openat2 and Landlock fail with ENOSYS");
}

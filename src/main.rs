//! `vsftpd`: see `vsftpd --help` and README.md.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(vsftpd_rs::daemon::main());
}

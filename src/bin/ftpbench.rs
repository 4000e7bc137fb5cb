//! ftpbench: a load generator for any FTP server (issue #6). Work in progress.
#![forbid(unsafe_code)]

fn main() {}

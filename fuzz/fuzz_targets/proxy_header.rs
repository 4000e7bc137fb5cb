//! cargo-fuzz target: `vsftpd_rs::fuzzing::proxy_header` (its invariants are documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vsftpd_rs::fuzzing::proxy_header(data);
});

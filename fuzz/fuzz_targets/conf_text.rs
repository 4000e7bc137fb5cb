//! cargo-fuzz target: `vsftpd_rs::fuzzing::conf_text` (its invariants are documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vsftpd_rs::fuzzing::conf_text(data);
});

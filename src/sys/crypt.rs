//! Password hashes in crypt(3) form (`$6$…`, `$y$…`), checked with the system's libcrypt
//! (libxcrypt): virtual_users_file. The hash schemes are the system's; nothing of them is
//! written again here.

use std::ffi::{c_char, c_int, CStr, CString};

/// sizeof(struct crypt_data) in libxcrypt: the work area crypt_rn needs, all zero at first.
const CRYPT_DATA_SIZE: usize = 32_768;
/// Longest passphrase libxcrypt takes (CRYPT_MAX_PASSPHRASE_SIZE, NUL included).
const MAX_PASSPHRASE: usize = 512;

#[link(name = "crypt")]
extern "C" {
    fn crypt_rn(
        phrase: *const c_char,
        setting: *const c_char,
        data: *mut std::ffi::c_void,
        size: c_int,
    ) -> *mut c_char;
}

/// Does `password` hash to `hash`? `None` when libcrypt does not take the hash (a scheme it
/// does not know, a malformed hash); false for a password with a NUL byte or one too long for
/// libcrypt. The comparison takes the same time wherever the two first differ.
pub fn verify(password: &[u8], hash: &str) -> Option<bool> {
    let Ok(setting) = CString::new(hash) else {
        return None;
    };
    if hash.is_empty() || hash.starts_with('*') {
        return None;
    }
    if password.len() >= MAX_PASSPHRASE {
        return Some(false);
    }
    let Ok(phrase) = CString::new(password) else {
        return Some(false);
    };
    let mut data = vec![0u8; CRYPT_DATA_SIZE];
    // SAFETY: both strings are NUL-terminated; `data` is a zeroed buffer of the size passed,
    // which crypt_rn uses as its struct crypt_data; the result points into `data` (or is NULL).
    let out = unsafe {
        crypt_rn(
            phrase.as_ptr(),
            setting.as_ptr(),
            data.as_mut_ptr().cast(),
            c_int::try_from(CRYPT_DATA_SIZE).unwrap_or(c_int::MAX),
        )
    };
    let matches = if out.is_null() {
        None
    } else {
        // SAFETY: crypt_rn returned a NUL-terminated string inside `data`, alive until `data`
        // is dropped below.
        let got = unsafe { CStr::from_ptr(out) }.to_bytes();
        // libxcrypt's failure token ("*0" or "*1") never matches a stored hash.
        (!got.starts_with(b"*")).then(|| constant_time_eq(got, hash.as_bytes()))
    };
    crate::proto::password::wipe(&mut data);
    let mut phrase = phrase.into_bytes();
    crate::proto::password::wipe(&mut phrase);
    matches
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // `openssl passwd -6 -salt saltsalt secret`.
    const SHA512: &str =
        "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";

    const YESCRYPT: &str =
        "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$GmcwIgvdUC9qLWcKCi6gklUa1dM3ziD43YxYNURLKy0";

    #[test]
    fn yescrypt() {
        assert_eq!(verify(b"secret", YESCRYPT), Some(true));
        assert_eq!(verify(b"secreT", YESCRYPT), Some(false));
    }

    #[test]
    fn sha512_crypt() {
        assert_eq!(verify(b"secret", SHA512), Some(true));
        assert_eq!(verify(b"Secret", SHA512), Some(false));
        assert_eq!(verify(b"", SHA512), Some(false));
        assert_eq!(verify(b"sec\0ret", SHA512), Some(false));
        assert_eq!(verify(&[b'a'; 600], SHA512), Some(false));
        assert_eq!(verify(b"secret", "$99$unknown$scheme"), None);
        assert_eq!(verify(b"secret", "*"), None);
        assert_eq!(verify(b"secret", ""), None);
        // Two characters of salt and no `$`: traditional DES, which never matches this.
        assert_eq!(verify(b"secret", "garbage"), Some(false));
    }
}

//! The one password type, from the PASS line to the authentication call: the command parser
//! makes it, the helper message carries it, a login keeps it (the anonymous e-mail address), and
//! nothing can print it. `Debug` and `Display` show `<password>`; the bytes are overwritten when
//! it is dropped; it is deliberately not `Clone`, so no copy is made by accident.
//!
//! The wipe cannot reach copies the allocator made when the vector grew, nor buffers of the
//! kernel: the line reader and the helper channel wipe their own buffers for that reason.

use std::fmt;

use crate::limits::MAX_PASSWORD;

/// Overwrites `buf` with zeros in a way the optimiser keeps (the buffer is read through
/// `black_box` afterwards). For every buffer that held a password.
pub fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(&*buf);
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// A password as the client sent it. Kept whole even beyond [`MAX_PASSWORD`]: such a login
/// fails without being tried ([`Password::exceeds_limit`]), as vsftpd's privileged side refuses it.
#[derive(PartialEq, Eq)]
pub struct Password(Vec<u8>);

impl Password {
    /// Takes the bytes (ownership, so no copy is left behind).
    pub fn new(bytes: Vec<u8>) -> Password {
        Password(bytes)
    }

    /// The secret, for the authentication call and the anonymous login's log lines only.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for `PASS` with no argument.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Longer than [`MAX_PASSWORD`]: the login fails without trying it, and the helper
    /// message cannot carry it.
    pub fn exceeds_limit(&self) -> bool {
        self.0.len() > MAX_PASSWORD
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<password>")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<password>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let p = Password::new(b"hunter2".to_vec());
        assert_eq!(
            format!("{p:?} {p} {:?}", Some(&p)),
            "<password> <password> Some(<password>)"
        );
        assert_eq!(p.as_bytes(), b"hunter2");
        assert!(!p.exceeds_limit());
        assert!(Password::new(vec![b'x'; MAX_PASSWORD + 1]).exceeds_limit());
    }
}

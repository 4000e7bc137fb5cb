//! The transfer log in wu-ftpd's xferlog format, as vsftpd writes it (`xferlog_std_format`):
//! one line per upload or download, complete or not, fourteen fields separated by one space.
//!
//! ```text
//! Mon Nov 24 10:00:01 2026 1 192.0.2.7 1048576 /pub/file.iso b _ o r alice ftp 0 * c
//! `------ date ----------´ | `- host -´ `bytes´ `- name ----´ | | | | `user´ |  | | `- c complete, i incomplete
//!                   seconds (at least 1)     transfer type a/b | | |        |  | `- authenticated user id: none
//!                                              special action _ | |  service  `- authentication method: none
//!                                             direction o out, i in `- access mode: a anonymous, g guest, r real
//! ```
//!
//! The host is the client's address (never resolved); spaces in the file name become `_`, as
//! in vsftpd 3.0.3 and later (they would shift every field after it); the user of an
//! anonymous transfer is the e-mail password it gave (its spaces became `_` at login), and a
//! guest's is its virtual name, marked `g` (vsftpd 3.0.3 and later). Pure: the caller
//! sanitises the line.

/// xferlog's access mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Anonymous,
    Guest,
    Real,
}

/// One transfer's fields.
pub struct Transfer<'a> {
    /// Whole seconds it took, at least 1 (vsftpd's rule).
    pub seconds: u64,
    pub client: &'a str,
    pub bytes: u64,
    pub path: &'a [u8],
    /// TYPE A was in force (whether or not the data was converted).
    pub ascii: bool,
    pub upload: bool,
    pub access: Access,
    /// The anonymous password, or the user name.
    pub user: &'a [u8],
    pub complete: bool,
}

/// The line, without its newline; `date` is `%a %b %e %H:%M:%S %Y`.
pub fn line(t: &Transfer<'_>, date: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + t.path.len());
    out.extend_from_slice(date);
    out.extend_from_slice(format!(" {} {} {} ", t.seconds.max(1), t.client, t.bytes).as_bytes());
    push_field(&mut out, t.path);
    out.extend_from_slice(if t.ascii { b" a _ " } else { b" b _ " });
    out.extend_from_slice(if t.upload { b"i " } else { b"o " });
    out.extend_from_slice(match t.access {
        Access::Anonymous => b"a ",
        Access::Guest => b"g ",
        Access::Real => b"r ",
    });
    push_field(&mut out, t.user);
    out.extend_from_slice(b" ftp 0 * ");
    out.push(if t.complete { b'c' } else { b'i' });
    out
}

/// A field that must stay one field: spaces become `_`, and an empty one is `?` (vsftpd's
/// stand-in for an empty anonymous password), so a reader splitting on spaces always finds
/// fourteen.
fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    if field.is_empty() {
        out.push(b'?');
        return;
    }
    out.extend(field.iter().map(|&b| if b == b' ' { b'_' } else { b }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(access: Access, user: &'static [u8]) -> Transfer<'static> {
        Transfer {
            seconds: 0,
            client: "192.0.2.7",
            bytes: 1_048_576,
            path: b"/pub/file.iso",
            ascii: false,
            upload: false,
            access,
            user,
            complete: true,
        }
    }

    #[test]
    fn golden_lines() {
        let date = b"Mon Nov 24 10:00:01 2026";
        assert_eq!(
            String::from_utf8(line(&t(Access::Real, b"alice"), date)).unwrap(),
            "Mon Nov 24 10:00:01 2026 1 192.0.2.7 1048576 /pub/file.iso b _ o r alice ftp 0 * c"
        );
        let up = Transfer {
            seconds: 12,
            client: "::ffff:192.0.2.7",
            bytes: 3,
            path: b"/in/my report.txt",
            ascii: true,
            upload: true,
            complete: false,
            ..t(Access::Anonymous, b"me@example.com")
        };
        assert_eq!(
            String::from_utf8(line(&up, date)).unwrap(),
            "Mon Nov 24 10:00:01 2026 12 ::ffff:192.0.2.7 3 /in/my_report.txt a _ i a me@example.com ftp 0 * i"
        );
        assert_eq!(
            String::from_utf8(line(&t(Access::Guest, b""), b"D")).unwrap(),
            "D 1 192.0.2.7 1048576 /pub/file.iso b _ o g ? ftp 0 * c"
        );
    }

    #[test]
    fn always_fourteen_fields() {
        let odd = Transfer {
            path: b"a b  c",
            ..t(Access::Real, b"x y")
        };
        let l = String::from_utf8(line(&odd, b"Mon Nov 24 10:00:01 2026")).unwrap();
        assert_eq!(l.split(' ').filter(|f| !f.is_empty()).count(), 18, "{l}");
        assert_eq!(l.split(' ').count(), 18, "{l}");
    }
}

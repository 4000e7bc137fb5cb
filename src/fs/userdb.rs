//! text_userdb_names: owner and group names from the session root's own `/etc/passwd` and
//! `/etc/group`, parsed here, never through NSS. vsftpd calls getpwuid()/getgrgid() inside its
//! chroot, where glibc finds only the jail's files (or nothing); we read the same files
//! explicitly, beneath the root (so a symlink cannot lead out of it), whatever the process
//! model. Each file is read once per listing, at most [`MAX_USERDB_FILE`] bytes, and only if
//! it is a regular file; a missing or unreadable file just leaves the numbers.

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};

use crate::data::listing::IdNames;
use crate::sys::fs::{self, OpenKind};

/// The most of `/etc/passwd` or `/etc/group` read (the rest is ignored).
pub const MAX_USERDB_FILE: u64 = 1024 * 1024;
/// Longer names are ignored (the number is shown).
const MAX_NAME: usize = 256;

/// id → name, sorted by id; for a repeated id the first line wins (as getpwuid).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserDb {
    users: Vec<(u32, Vec<u8>)>,
    groups: Vec<(u32, Vec<u8>)>,
}

impl UserDb {
    /// Reads `<root>/etc/passwd` and `<root>/etc/group`.
    pub fn load(root: BorrowedFd<'_>) -> UserDb {
        UserDb {
            users: parse(&read_bounded(root, b"/etc/passwd")),
            groups: parse(&read_bounded(root, b"/etc/group")),
        }
    }

    /// From the two files' contents (for tests).
    pub fn from_bytes(passwd: &[u8], group: &[u8]) -> UserDb {
        UserDb {
            users: parse(passwd),
            groups: parse(group),
        }
    }

    fn find(list: &[(u32, Vec<u8>)], id: u32) -> Option<&[u8]> {
        let i = list.binary_search_by_key(&id, |e| e.0).ok()?;
        list.get(i).map(|e| e.1.as_slice())
    }
}

impl IdNames for UserDb {
    fn user(&self, uid: u32, out: &mut Vec<u8>) -> bool {
        Self::find(&self.users, uid).is_some_and(|n| {
            out.extend_from_slice(n);
            true
        })
    }

    fn group(&self, gid: u32, out: &mut Vec<u8>) -> bool {
        Self::find(&self.groups, gid).is_some_and(|n| {
            out.extend_from_slice(n);
            true
        })
    }
}

/// The home directory of `name` in `<root>/etc/passwd` (tilde_user_enable: `~name`), as the
/// file says it; `None` when there is no such line or the file cannot be read.
pub fn home_of(root: BorrowedFd<'_>, name: &[u8]) -> Option<Vec<u8>> {
    if name.is_empty() || name.len() > MAX_NAME {
        return None;
    }
    let text = read_bounded(root, b"/etc/passwd");
    text.split(|&b| b == b'\n').find_map(|line| {
        let mut fields = line.split(|&b| b == b':');
        (fields.next() == Some(name))
            .then(|| fields.nth(4))
            .flatten()
            .filter(|home| home.first() == Some(&b'/'))
            .map(<[u8]>::to_vec)
    })
}

fn read_bounded(root: BorrowedFd<'_>, path: &[u8]) -> Vec<u8> {
    let Ok(fd) = fs::open_in_root(root, path, OpenKind::Read) else {
        return Vec::new();
    };
    match fs::fstat(fd.as_fd()) {
        Ok(st) if st.is_regular() => {}
        _ => return Vec::new(),
    }
    let mut buf = Vec::new();
    let _ = std::fs::File::from(fd)
        .take(MAX_USERDB_FILE)
        .read_to_end(&mut buf);
    buf
}

/// `name:password:id:...` lines (passwd and group share the first three fields). Lines that do
/// not parse, empty names, names with control bytes or longer than 256 bytes are skipped.
fn parse(text: &[u8]) -> Vec<(u32, Vec<u8>)> {
    let mut out: Vec<(u32, Vec<u8>)> = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let mut fields = line.split(|&b| b == b':');
        let (Some(name), Some(_), Some(id)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        if name.is_empty()
            || name.len() > MAX_NAME
            || name.iter().any(|&b| b < 0x20 || b == 0x7f)
            || name.first() == Some(&b'#')
        {
            continue;
        }
        let Some(id) = std::str::from_utf8(id)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        out.push((id, name.to_vec()));
    }
    // Stable: for a repeated id the first line stays first, and dedup keeps it.
    out.sort_by_key(|e| e.0);
    out.dedup_by_key(|e| e.0);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn name(db: &UserDb, uid: u32) -> Option<String> {
        let mut v = Vec::new();
        db.user(uid, &mut v).then(|| String::from_utf8(v).unwrap())
    }

    #[test]
    fn parses_passwd_and_group() {
        let db = UserDb::from_bytes(
            b"root:x:0:0:root:/root:/bin/sh\nftp:x:14:50::/srv:/sbin/nologin\nbad line\n\
              dup:x:14:1::/:/bin/false\n:x:99:1::/:\nneg:x:-1:1\nbig:x:4294967296:1\n\
              ctl\x01:x:77:1\n#c:x:78:1\nlast:x:1000:1000",
            b"root:x:0:\nftp:x:50:\n",
        );
        assert_eq!(name(&db, 0).as_deref(), Some("root"));
        assert_eq!(name(&db, 14).as_deref(), Some("ftp"));
        assert_eq!(name(&db, 1000).as_deref(), Some("last"));
        for missing in [99, 77, 78, 1, u32::MAX] {
            assert_eq!(name(&db, missing), None, "{missing}");
        }
        let mut g = Vec::new();
        assert!(db.group(50, &mut g));
        assert_eq!(g, b"ftp");
        assert!(!db.group(14, &mut Vec::new()));
    }

    #[test]
    fn homes_from_the_roots_own_passwd() {
        let t = std::env::temp_dir().join(format!("vsftpd-rs-userdb-{}", std::process::id()));
        std::fs::create_dir_all(t.join("etc")).unwrap();
        std::fs::write(
            t.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\njoe:x:1000:1000:Joe:/home/joe:/bin/sh\nrel:x:1:1::home:/bin/sh\n",
        )
        .unwrap();
        let root = fs::open_dir(&t).unwrap();
        assert_eq!(
            home_of(root.as_fd(), b"joe").as_deref(),
            Some(&b"/home/joe"[..])
        );
        assert_eq!(home_of(root.as_fd(), b"jo"), None);
        assert_eq!(home_of(root.as_fd(), b"rel"), None);
        assert_eq!(home_of(root.as_fd(), b""), None);
        std::fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn garbage_never_panics() {
        let junk: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let db = UserDb::from_bytes(&junk, b":::::\n\n::\n");
        let _ = name(&db, 0);
    }
}

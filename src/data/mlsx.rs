//! MLSD and MLST (RFC 3659 section 7): machine-readable listings. Ours; vsftpd has neither.
//!
//! # Facts
//! `type`, `size`, `modify`, `perm`, `unique`, `UNIX.mode`, `UNIX.owner` and `UNIX.group`,
//! all on by default and chosen with `OPTS MLST type;size;...` ([`Facts`]). An entry is
//! `fact=value;...` (each fact ends with `;`), one space, then the name:
//! `type=file;size=3;modify=20240315123456;perm=r;unique=803g1a2b;UNIX.mode=0644;UNIX.owner=0;UNIX.group=0; a.txt`.
//! - `type`: `file`, `dir`, `cdir` (MLSD's `.`), `pdir` (MLSD's `..`; at the session root it is
//!   the root itself), or `OS.unix=slink` (a symlink that does not resolve inside the root),
//!   `OS.unix=fifo`, `OS.unix=socket`, `OS.unix=chr`, `OS.unix=blk`. Symlinks are followed
//!   beneath the session root (never outside it), so a link to a file is a file.
//! - `size`: bytes, for files and directories.
//! - `modify`: `YYYYMMDDHHMMSS`, always UTC (RFC 3659 section 2.3), whatever use_localtime says.
//! - `perm`: what this session may do, from the mode bits as its user sees them (owner bits if
//!   it owns the file, else the other bits; root reads everything; group bits are not
//!   consulted, which can only under-report). With anon_world_readable_only only the other bits
//!   count. The server is read-only for the sessions it serves so far: files get `r` (if
//!   readable and download_enable), directories `e` (if searchable) and `l` (if readable and
//!   dirlist_enable); never `a c d f m p w`.
//! - `unique`: device and inode in hex, `<dev>g<ino>`.
//! - `UNIX.mode`: the permission bits in octal, `0644` (the facts ProFTPD and pure-ftpd
//!   give, in RFC 3659's `OS.` spirit): `perm` says what this session may do, not what the file
//!   is, and a mirroring client (lftp) that has only `perm=r` saves a 0644 file as 0444.
//! - `UNIX.owner`, `UNIX.group`: numeric uid and gid, as ProFTPD's; left out with hide_ids
//!   (names would need the passwd file, which a jail does not have).
//!
//! # MLSD
//! Lists one directory (the argument, default the working directory) over the data
//! connection, sorted by name, `.` and `..` included. Dot files are listed whatever
//! force_dot_files says: a machine listing is complete (RFC 3659 7.2 has no options); hide hides
//! what hide_file names. Names containing CR or LF are left out (they cannot be represented).
//! The same bounds as LIST: at most [`MAX_DIR_ENTRIES`] entries, one lstat per entry.

use std::ffi::CStr;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::listing::{name_key, push_mdtm_timestamp, push_num, DayCache, HideFn};
use crate::limits::MAX_DIR_ENTRIES;
use crate::sys::fs::{self, FileStat, OpenKind};

/// The selected facts (a bit set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts(u8);

const TYPE: u8 = 1;
const SIZE: u8 = 2;
const MODIFY: u8 = 4;
const PERM: u8 = 8;
const UNIQUE: u8 = 16;
const UNIX_MODE: u8 = 32;
const UNIX_OWNER: u8 = 64;
const UNIX_GROUP: u8 = 128;
const FACT_NAMES: [(&str, u8); 8] = [
    ("type", TYPE),
    ("size", SIZE),
    ("modify", MODIFY),
    ("perm", PERM),
    ("unique", UNIQUE),
    ("UNIX.mode", UNIX_MODE),
    ("UNIX.owner", UNIX_OWNER),
    ("UNIX.group", UNIX_GROUP),
];

impl Facts {
    /// Every fact we support (the default).
    pub const ALL: Facts = Facts(255);
    /// No fact.
    pub const NONE: Facts = Facts(0);

    /// The facts named in `OPTS MLST <list>` (`type;size;`, any case); unknown names are
    /// ignored, as RFC 3659 7.9 asks.
    pub fn parse(list: &[u8]) -> Facts {
        let mut bits = 0u8;
        for item in list.split(|&b| b == b';') {
            for (name, bit) in FACT_NAMES {
                if item.eq_ignore_ascii_case(name.as_bytes()) {
                    bits |= bit;
                }
            }
        }
        Facts(bits)
    }

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// The list as OPTS MLST echoes it: `type;size;` (empty for none).
    pub fn list(self) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, bit) in FACT_NAMES {
            if self.0 & bit != 0 {
                out.extend_from_slice(name.as_bytes());
                out.push(b';');
            }
        }
        out
    }

    /// The raw bits (for keeping the selection in a session).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// From [`Facts::bits`].
    pub fn from_bits(bits: u8) -> Facts {
        Facts(bits & Facts::ALL.0)
    }
}

/// What MLSD and MLST need from the session.
#[derive(Clone, Copy)]
pub struct MlsxContext<'a> {
    pub facts: Facts,
    /// anon_world_readable_only for this session: only the other bits count, and a directory
    /// (MLSD) or object (MLST) must be world-readable.
    pub world_readable_only: bool,
    /// The session process's effective uid (for `perm`).
    pub euid: u32,
    /// download_enable (`r` on files).
    pub download_enable: bool,
    /// dirlist_enable (`l` on directories).
    pub dirlist_enable: bool,
    /// hide_file.
    pub hidden: Option<&'a HideFn>,
    /// hide_ids: no UNIX.owner and UNIX.group (LIST shows `ftp ftp` then).
    pub hide_ids: bool,
}

fn not_readable() -> io::Error {
    io::Error::from(io::ErrorKind::PermissionDenied)
}

/// Opens `path` (beneath `root`) for MLSD: it must be a directory, and world-readable when
/// [`MlsxContext::world_readable_only`] says so.
pub fn open_listable(
    root: BorrowedFd<'_>,
    path: &[u8],
    ctx: &MlsxContext<'_>,
) -> io::Result<OwnedFd> {
    let fd = fs::open_in_root(root, path, OpenKind::Directory)?;
    if ctx.world_readable_only && fs::fstat(fd.as_fd())?.mode & 0o004 == 0 {
        return Err(not_readable());
    }
    Ok(fd)
}

/// MLST: the fact line (without the leading space) for `path`, named `display` (the absolute
/// path the client sees). Follows a final symlink beneath the root.
pub fn mlst_line(
    root: BorrowedFd<'_>,
    path: &[u8],
    display: &[u8],
    ctx: &MlsxContext<'_>,
) -> io::Result<Vec<u8>> {
    let fd = fs::open_in_root(root, path, OpenKind::Path)?;
    let st = fs::fstat(fd.as_fd())?;
    if ctx.world_readable_only && st.mode & 0o004 == 0 {
        return Err(not_readable());
    }
    let mut out = Vec::with_capacity(display.len() + 96);
    push_facts(&mut out, &st, kind_of(&st), ctx, &mut DayCache::default());
    out.extend_from_slice(display);
    Ok(out)
}

/// MLSD: every entry of the open directory `dir` (whose path beneath `root` is `dir_path`),
/// sorted by name, one `facts name\r\n` line each, written to `out` in chunks.
pub fn write_mlsd<W: Write + ?Sized>(
    root: BorrowedFd<'_>,
    dir: BorrowedFd<'_>,
    dir_path: &[u8],
    ctx: &MlsxContext<'_>,
    out: &mut W,
) -> io::Result<()> {
    let at_root = match (fs::fstat(root), fs::fstat(dir)) {
        (Ok(r), Ok(d)) => (r.dev, r.ino) == (d.dev, d.ino),
        _ => false,
    };
    // Names in one flat buffer plus an index: no allocation per entry. They are sorted first
    // and looked up in output order, so the first lines travel while the kernel is still
    // answering lstat for the rest.
    let mut names: Vec<u8> = Vec::new();
    // Each name's sort key (see `name_key`) and where it is, its NUL included.
    let mut index: Vec<(u128, usize, usize)> = Vec::new();
    let _ = fs::for_each_dir_entry(dir, MAX_DIR_ENTRIES, |cname| {
        let name = cname.to_bytes();
        if name.iter().any(|&b| b == b'\r' || b == b'\n') {
            return true;
        }
        let dots = name == b"." || name == b"..";
        if !dots && ctx.hidden.is_some_and(|h| h(name)) {
            return true;
        }
        let start = names.len();
        names.extend_from_slice(name);
        names.push(0);
        index.push((name_key(name), start, names.len()));
        true
    });
    // Each name is kept with its NUL, which sorts below every other byte: the same order as
    // comparing the bare names. Names are unique, so the sort need not be stable.
    let entry = |r: &(u128, usize, usize)| names.get(r.1..r.2).unwrap_or_default();
    index.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| entry(a).cmp(entry(b))));
    let mut link_path: Vec<u8> = Vec::new();
    let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut dates = DayCache::default();
    for r in &index {
        let Ok(cname) = CStr::from_bytes_with_nul(entry(r)) else {
            continue;
        };
        let name = cname.to_bytes();
        let target = if at_root && name == b".." {
            c"."
        } else {
            cname
        };
        let Ok(mut st) = fs::lstat_at_cstr(dir, target) else {
            continue;
        };
        let mut kind = match name {
            b"." => "cdir",
            b".." => "pdir",
            _ => kind_of(&st),
        };
        if st.is_symlink() {
            link_path.clear();
            link_path.extend_from_slice(dir_path);
            if link_path.last() != Some(&b'/') {
                link_path.push(b'/');
            }
            link_path.extend_from_slice(name);
            match fs::open_in_root(root, &link_path, OpenKind::Path)
                .and_then(|fd| fs::fstat(fd.as_fd()))
            {
                Ok(t) => {
                    st = t;
                    kind = kind_of(&t);
                }
                Err(_) => kind = "OS.unix=slink",
            }
        }
        if !chunk.is_empty() && chunk.len() + 512 > CHUNK {
            out.write_all(&chunk)?;
            chunk.clear();
        }
        push_facts(&mut chunk, &st, kind, ctx, &mut dates);
        chunk.extend_from_slice(name);
        chunk.extend_from_slice(b"\r\n");
    }
    if !chunk.is_empty() {
        out.write_all(&chunk)?;
    }
    Ok(())
}

/// Appends `v` in lower-case hexadecimal, without leading zeros (`{:x}`; core::fmt cost a
/// tenth of an MLSD's instructions).
fn push_hex(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 16];
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = b"0123456789abcdef"[(v & 0xf) as usize];
        start -= 1;
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(start..).unwrap_or_default());
}

/// Appends a file mode as four octal digits (`0644`, `1777`), as ProFTPD and pure-ftpd
/// write UNIX.mode and as `chmod` reads it back.
fn push_octal(out: &mut Vec<u8>, mode: u32) {
    for shift in [9u32, 6, 3, 0] {
        // A digit 0-7: the cast cannot truncate.
        out.push(b'0' + ((mode >> shift) & 0o7) as u8);
    }
}

/// Bytes per write of an MLSD listing.
const CHUNK: usize = 16 * 1024;

fn kind_of(st: &FileStat) -> &'static str {
    match st.mode & 0o170_000 {
        0o100_000 => "file",
        0o040_000 => "dir",
        0o120_000 => "OS.unix=slink",
        0o010_000 => "OS.unix=fifo",
        0o140_000 => "OS.unix=socket",
        0o020_000 => "OS.unix=chr",
        0o060_000 => "OS.unix=blk",
        _ => "OS.unix=unknown",
    }
}

/// The `rwx` bits this session gets on `st` (see the module docs).
fn access_bits(st: &FileStat, ctx: &MlsxContext<'_>) -> u32 {
    if ctx.world_readable_only {
        st.mode & 0o7
    } else if ctx.euid == 0 {
        0o4 | if st.mode & 0o111 != 0 || st.is_dir() {
            0o1
        } else {
            0
        }
    } else if ctx.euid == st.uid {
        (st.mode >> 6) & 0o7
    } else {
        st.mode & 0o7
    }
}

/// Appends the selected facts, each ending in `;`, then one space.
fn push_facts(
    out: &mut Vec<u8>,
    st: &FileStat,
    kind: &str,
    ctx: &MlsxContext<'_>,
    dates: &mut DayCache,
) {
    let f = ctx.facts;
    if f.has(TYPE) {
        out.extend_from_slice(b"type=");
        out.extend_from_slice(kind.as_bytes());
        out.push(b';');
    }
    if f.has(SIZE) && (st.is_regular() || st.is_dir()) {
        out.extend_from_slice(b"size=");
        push_num(out, st.size, 0, b' ');
        out.push(b';');
    }
    if f.has(MODIFY) {
        out.extend_from_slice(b"modify=");
        push_mdtm_timestamp(out, st.mtime, 0, dates);
        out.push(b';');
    }
    if f.has(PERM) {
        out.extend_from_slice(b"perm=");
        let bits = access_bits(st, ctx);
        if st.is_dir() {
            if bits & 0o1 != 0 {
                out.push(b'e');
            }
            if bits & 0o4 != 0 && ctx.dirlist_enable {
                out.push(b'l');
            }
        } else if st.is_regular() && bits & 0o4 != 0 && ctx.download_enable {
            out.push(b'r');
        }
        out.push(b';');
    }
    if f.has(UNIQUE) {
        out.extend_from_slice(b"unique=");
        push_hex(out, st.dev);
        out.push(b'g');
        push_hex(out, st.ino);
        out.push(b';');
    }
    if f.has(UNIX_MODE) {
        out.extend_from_slice(b"UNIX.mode=");
        push_octal(out, st.mode & 0o7777);
        out.push(b';');
    }
    if !ctx.hide_ids {
        if f.has(UNIX_OWNER) {
            out.extend_from_slice(b"UNIX.owner=");
            push_num(out, u64::from(st.uid), 0, b' ');
            out.push(b';');
        }
        if f.has(UNIX_GROUP) {
            out.extend_from_slice(b"UNIX.group=");
            push_num(out, u64::from(st.gid), 0, b' ');
            out.push(b';');
        }
    }
    out.push(b' ');
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn st(mode: u32, uid: u32, size: u64, mtime: i64) -> FileStat {
        FileStat {
            mode,
            nlink: 1,
            uid,
            gid: 0,
            size,
            mtime,
            ino: 0x1a2b,
            dev: 0x803,
        }
    }

    fn ctx() -> MlsxContext<'static> {
        MlsxContext {
            facts: Facts::ALL,
            world_readable_only: true,
            euid: 1000,
            download_enable: true,
            dirlist_enable: true,
            hidden: None,
            hide_ids: false,
        }
    }

    fn facts(s: &FileStat, kind: &str, c: &MlsxContext<'_>) -> String {
        let mut v = Vec::new();
        push_facts(&mut v, s, kind, c, &mut DayCache::default());
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn fact_lines() {
        let mut c = ctx();
        c.facts = Facts::parse(b"type;size;modify;perm;unique;");
        assert_eq!(
            facts(&st(0o100644, 0, 3, 1_710_506_096), "file", &c),
            "type=file;size=3;modify=20240315123456;perm=r;unique=803g1a2b; "
        );
        assert_eq!(
            facts(&st(0o040755, 0, 4096, 0), "dir", &c),
            "type=dir;size=4096;modify=19700101000000;perm=el;unique=803g1a2b; "
        );
        // Not world-readable: nothing.
        assert_eq!(
            facts(&st(0o100640, 1000, 3, 0), "file", &c),
            "type=file;size=3;modify=19700101000000;perm=;unique=803g1a2b; "
        );
        // Without world_readable_only the owner bits count for the owner.
        let mut own = c;
        own.world_readable_only = false;
        assert!(facts(&st(0o100640, 1000, 3, 0), "file", &own).contains("perm=r;"));
        assert!(facts(&st(0o100004, 1000, 3, 0), "file", &own).contains("perm=;"));
        // download_enable / dirlist_enable.
        let mut nod = c;
        nod.download_enable = false;
        nod.dirlist_enable = false;
        assert!(facts(&st(0o100644, 0, 3, 0), "file", &nod).contains("perm=;"));
        assert!(facts(&st(0o040755, 0, 3, 0), "dir", &nod).contains("perm=e;"));
        // A selection.
        let mut sel = c;
        sel.facts = Facts::parse(b"Size;TYPE;bogus;");
        assert_eq!(
            facts(&st(0o100644, 0, 3, 0), "file", &sel),
            "type=file;size=3; "
        );
        sel.facts = Facts::NONE;
        assert_eq!(facts(&st(0o100644, 0, 3, 0), "file", &sel), " ");
    }

    #[test]
    fn unix_facts() {
        let mut c = ctx();
        let mut file = st(0o100644, 1000, 3, 0);
        file.gid = 100;
        assert_eq!(
            facts(&file, "file", &c),
            "type=file;size=3;modify=19700101000000;perm=r;unique=803g1a2b;UNIX.mode=0644;UNIX.owner=1000;UNIX.group=100; "
        );
        assert!(facts(&st(0o041777, 0, 3, 0), "dir", &c).contains(";UNIX.mode=1777;"));
        assert!(facts(&st(0o104755, 0, 3, 0), "file", &c).contains(";UNIX.mode=4755;"));
        c.hide_ids = true;
        assert!(facts(&file, "file", &c).ends_with(";UNIX.mode=0644; "));
        c.facts = Facts::parse(b"unix.MODE;");
        assert_eq!(facts(&file, "file", &c), "UNIX.mode=0644; ");
    }

    #[test]
    fn hex_as_core_fmt() {
        for v in [
            0u64,
            1,
            9,
            10,
            15,
            16,
            0x803,
            0x1a2b,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = b"x".to_vec();
            push_hex(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), format!("x{v:x}"));
        }
    }

    #[test]
    fn fact_selection() {
        assert_eq!(
            Facts::parse(b"type;size;modify;perm;unique;UNIX.mode;UNIX.owner;UNIX.group;"),
            Facts::ALL
        );
        assert_eq!(Facts::parse(b""), Facts::NONE);
        assert_eq!(Facts::parse(b"modify;type"), Facts::parse(b"type;modify;"));
        assert_eq!(Facts::parse(b"modify;type").list(), b"type;modify;");
        assert_eq!(
            Facts::ALL.list(),
            b"type;size;modify;perm;unique;UNIX.mode;UNIX.owner;UNIX.group;"
        );
        assert_eq!(Facts::NONE.list(), b"");
        assert_eq!(Facts::from_bits(Facts::ALL.bits()), Facts::ALL);
        assert_eq!(Facts::from_bits(0xff), Facts::ALL);
    }
}

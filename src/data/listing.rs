//! Directory listings as vsftpd 3.0.5 builds them (vsftpd: `ls.c`, the listing part of
//! `postlogin.c` `handle_dir_common`, `ftpdataio.c` `transfer_dir_internal`, and the statbuf
//! formatters of `sysutil.c`). vsftpd never runs `/bin/ls`; neither do we.
//!
//! # The argument (LIST, NLST, `STAT <arg>`)
//! - If it starts with `-`, everything up to the first space is options and the rest is the path
//!   or filter; options must come first (`-la /pub` works, `/pub -la` is a filter named that).
//!   Option letters are looked for anywhere in that word: `a` (dot files, `.` and `..`), `l` (long
//!   format, even for NLST), `R` (recurse, only with ls_recurse_enable), `r` (reverse), `t` (sort
//!   by modification time, newest first; `-tr` oldest first), `F` (LIST: `/` after directories;
//!   NLST: `/` after directories, `@` after symlinks). Others are ignored.
//! - `~` and `~/x` are resolved against the login directory.
//! - If the rest names a directory (resolved by the kernel as given, as vsftpd's opendir: so
//!   `link/..` is the directory above the link's target), that directory is listed. Otherwise, if it contains a `/`, the
//!   part after the last `/` filters the names of the directory before it (`/pub/*.txt`,
//!   `/pub/file` — so LIST of a plain file prints its one line); otherwise it filters the current
//!   directory. A filter starting with `.` implies `-a`.
//! - `STAT <arg>` lists in long format with `-a` added, for the control channel.
//!
//! # Output
//! - Long lines: `<perms> <nlink %4> <owner %-8> <group %-8> <size %8> <date> <name>[ -> target]\r\n`
//!   (see [`format_long_line`]); no `total` line.
//! - NLST lines: `<dir>/<name>\r\n`, where `<dir>` is the directory as the client wrote it (no
//!   prefix for the current directory), as vsftpd.
//! - Entries are sorted by name, byte-wise (memcmp order, shorter first), or by mtime with `-t`;
//!   `r` reverses. Sorting is stable, so `-t` ties keep readdir order (as glibc's qsort does).
//! - The filter ([`filter_matches`]) is matched as Debian's vsftpd 3.0.3 matches it: against the
//!   last component of the entry's real path ([`super::realpath::real_path`]), the entry's
//!   name looked up from the session's working directory (vsftpd's realpath() of the bare name,
//!   from its cwd, whatever directory is listed), or `/` when that is the root; against the
//!   entry's own name when that lookup fails (a dangling link, or a name the working directory
//!   does not have). So `LIST file.txt` also shows `link -> file.txt`, while `LIST link` shows
//!   nothing when `link` resolves to `file.txt`. Entries are still shown, and dot files still
//!   chosen, by their own names.
//! - Dot files appear only with `-a` or force_dot_files; `.` and `..` only with `-a`. At the
//!   session root `..` is reported as the root itself (as inside vsftpd's chroot), never as the
//!   directory above it.
//! - `-R` prints `<dir>:\r\n` before each directory's entries and `\r\n` before each
//!   subdirectory, depth first, subdirectories in listing order, with `<dir>` built as vsftpd
//!   (`.`, `./sub`, `./sub/deeper`; for `LIST -R /` the children are `//pub`). Symlinks are never
//!   followed; subdirectories that cannot be opened are skipped silently; the depth stops at
//!   [`MAX_LIST_DEPTH`]. The filter applies in every directory.
//!
//! # Cost
//! One readdir pass per directory, one lstat per entry only when something needs it (long format,
//! `-t`, `-F`, `-R`; plain NLST stats nothing), at most [`MAX_DIR_ENTRIES`] names per directory,
//! at most [`MAX_GLOB_STEPS`] filter steps per name. Per directory, the names go into one
//! growing buffer (plus an index) and are sorted; then each entry is looked up (unless `-t`
//! needed that before sorting), formatted and written in chunks of 16 KiB, so the first lines
//! travel while the kernel is still answering lstat for the rest, and no buffer holds the whole
//! listing. Nothing is allocated per entry. Memory is per directory, not per tree: `-R` streams.
//!
//! # What the caller replies
//! [`list`] returns [`ListOutcome::NotOpened`] when the directory could not be opened (missing,
//! not a directory, no permission) or, with [`ListContext::world_readable_only`], is not
//! world-readable; nothing is written then. vsftpd still opens the data connection and sends
//! `150 Here comes the directory listing.` and then `226 Transfer done (but failed to open
//! directory).` ([`crate::proto::reply::LIST_OPEN_FAILED`]) instead of `226 Directory send OK.`
//! An `Err` is a write error on `out` (`426 Failure writing network stream.`). Before calling,
//! the session checks deny_file against the path part of the argument (vsftpd replies `550
//! Permission denied.` then, without 150); [`parse_list_arg`] gives it.

use std::ffi::CStr;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::realpath;
use crate::limits::{MAX_DIR_ENTRIES, MAX_FILTER_LOOKUP_STEPS, MAX_GLOB_STEPS, MAX_LIST_DEPTH};
/// Re-exported for sessions: virtual paths live in [`crate::proto::path`].
pub use crate::proto::path::normalize_path;
use crate::proto::path::{prepend_cwd, resolve_tilde};
use crate::sys::fs::{self, FileStat, OpenKind};

/// vsftpd writes listings in chunks of this size (VSFTP_DIR_BUFSIZE).
const WRITE_CHUNK: usize = 16 * 1024;
/// Room left in the chunk before another line goes in: a typical long line is under 100 bytes,
/// and a longer one only makes that chunk larger, never splits it.
const MAX_LINE_GUESS: usize = 512;
/// vsftpd's "six months" (sysutil.c: 60*60*24*182 seconds).
const RECENT_SECONDS: i64 = 60 * 60 * 24 * 182;

/// The option letters of a LIST/NLST argument (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `l`: long format.
    pub long: bool,
    /// `a`: dot files, `.` and `..`.
    pub all: bool,
    /// `R`: recurse (only with [`ListContext::recurse_allowed`]).
    pub recurse: bool,
    /// `r`: reverse the order.
    pub reverse: bool,
    /// `t`: by modification time, newest first.
    pub by_time: bool,
    /// `F`: classify (`/` for directories; `@` for symlinks in NLST).
    pub classify: bool,
}

/// Which command the listing is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// LIST: long format.
    List,
    /// NLST: bare names (long with `-l`).
    Nlst,
    /// `STAT <arg>`: long format with `-a`, for the control channel (wrap the bytes with
    /// [`crate::proto::reply::multi_text`]).
    Stat,
}

/// Whether anything could be listed; see the module docs for the reply each one needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOutcome {
    /// The directory was opened and listed (possibly with no entries).
    Listed,
    /// The directory could not be opened, or is not world-readable when that is required.
    NotOpened,
}

/// Owner and group names for long lines (text_userdb_names). In a jail vsftpd-rs reads them from
/// `<root>/etc/passwd|group` itself; this trait keeps that out of the listing code.
pub trait IdNames {
    /// Appends the name of `uid` to `out` and returns true, or returns false to show the number.
    fn user(&self, uid: u32, out: &mut Vec<u8>) -> bool;
    /// Appends the name of `gid` to `out` and returns true, or returns false to show the number.
    fn group(&self, gid: u32, out: &mut Vec<u8>) -> bool;
}

/// hide_file's test: true for an entry name to leave out.
pub type HideFn = dyn Fn(&[u8]) -> bool;

/// What a listing needs from the session and the configuration.
#[derive(Clone, Copy)]
pub struct ListContext<'a> {
    /// Current time (seconds since the epoch), for the six-month date rule.
    pub now: i64,
    /// Added to every timestamp before formatting: 0 for GMT (vsftpd's default); the local
    /// offset with use_localtime (see [`ListContext::localtime`]).
    pub utc_offset: i64,
    /// use_localtime: each timestamp is shifted by the local zone's offset *at that time*
    /// ([`crate::sys::time::utc_offset_at`], DST-correct as vsftpd's `localtime()`), instead of
    /// the fixed [`ListContext::utc_offset`].
    pub localtime: bool,
    /// hide_ids: owner and group shown as `ftp`.
    pub hide_ids: bool,
    /// force_dot_files: dot files without `-a` (but `.` and `..` still only with `-a`).
    pub force_dot_files: bool,
    /// ls_recurse_enable: honour `-R`.
    pub recurse_allowed: bool,
    /// Anonymous session with anon_world_readable_only: the listed directory must be o+r.
    pub world_readable_only: bool,
    /// The login directory (virtual), for `~`.
    pub home: &'a [u8],
    /// text_userdb_names: owner/group names; `None` shows numbers.
    pub names: Option<&'a dyn IdNames>,
    /// hide_file: names for which this returns true are left out of listings.
    pub hidden: Option<&'a HideFn>,
}

impl Default for ListContext<'_> {
    /// [`ListContext::new`] at time 0 (set `now` before listing, or every date is "future").
    fn default() -> Self {
        ListContext::new(0)
    }
}

impl ListContext<'_> {
    /// vsftpd's defaults at time `now`: GMT, numeric ids, no dot files, no `-R`, home `/`.
    pub fn new(now: i64) -> Self {
        ListContext {
            now,
            utc_offset: 0,
            localtime: false,
            hide_ids: false,
            force_dot_files: false,
            recurse_allowed: false,
            world_readable_only: false,
            home: b"/",
            names: None,
            hidden: None,
        }
    }
}

impl ListContext<'_> {
    /// The offset to add to timestamp `t` before formatting it (listings and MDTM).
    pub fn offset_at(&self, t: i64) -> i64 {
        if self.localtime {
            crate::sys::time::utc_offset_at(t)
        } else {
            self.utc_offset
        }
    }
}

impl std::fmt::Debug for ListContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListContext")
            .field("now", &self.now)
            .field("utc_offset", &self.utc_offset)
            .field("localtime", &self.localtime)
            .field("hide_ids", &self.hide_ids)
            .field("force_dot_files", &self.force_dot_files)
            .field("recurse_allowed", &self.recurse_allowed)
            .field("world_readable_only", &self.world_readable_only)
            .field("home", &String::from_utf8_lossy(self.home))
            .field("names", &self.names.is_some())
            .field("hidden", &self.hidden.is_some())
            .finish()
    }
}

/// Splits a LIST/NLST/STAT argument into its options and the path-or-filter (possibly empty;
/// `~` not yet resolved). See the module docs.
pub fn parse_list_arg(arg: &[u8]) -> (ListOptions, Vec<u8>) {
    let Some(rest) = arg.strip_prefix(b"-") else {
        return (ListOptions::default(), arg.to_vec());
    };
    let (letters, filter) = match rest.iter().position(|&b| b == b' ') {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i + 1..).unwrap_or_default(),
        ),
        None => (rest, &[][..]),
    };
    let has = |c: u8| letters.contains(&c);
    let opts = ListOptions {
        long: has(b'l'),
        all: has(b'a'),
        recurse: has(b'R'),
        reverse: has(b'r'),
        by_time: has(b't'),
        classify: has(b'F'),
    };
    (opts, filter.to_vec())
}

/// LIST (`long`) or NLST of `arg` relative to the virtual directory `cwd`, with every path
/// opened beneath `root`; the lines go to `out`. See the module docs.
pub fn list<W: Write + ?Sized>(
    root: BorrowedFd<'_>,
    cwd: &[u8],
    arg: &[u8],
    long: bool,
    ctx: &ListContext<'_>,
    out: &mut W,
) -> io::Result<ListOutcome> {
    let kind = if long { ListKind::List } else { ListKind::Nlst };
    list_with(root, cwd, arg, kind, ctx, out)
}

/// [`list`] for any [`ListKind`] (STAT included).
pub fn list_with<W: Write + ?Sized>(
    root: BorrowedFd<'_>,
    cwd: &[u8],
    arg: &[u8],
    kind: ListKind,
    ctx: &ListContext<'_>,
    out: &mut W,
) -> io::Result<ListOutcome> {
    let (mut opts, mut filter) = parse_list_arg(arg);
    if kind == ListKind::Stat {
        opts.all = true;
    }
    let mut dir_name: Vec<u8> = b".".to_vec();
    let mut dir: Option<OwnedFd> = None;
    if !filter.is_empty() {
        filter = resolve_tilde(&filter, ctx.home);
        if let Ok(fd) = open_dir(root, cwd, &filter) {
            // An outright directory, as in "ls /pub".
            dir_name = std::mem::take(&mut filter);
            dir = Some(fd);
        } else if let Some(slash) = filter.iter().rposition(|&b| b == b'/') {
            // A path with a filter in its last component.
            let last = filter.get(slash + 1..).unwrap_or_default().to_vec();
            filter.truncate(slash);
            dir_name = if filter.is_empty() {
                b"/".to_vec()
            } else {
                std::mem::take(&mut filter)
            };
            filter = last;
        }
    }
    let dir = match dir {
        Some(fd) => fd,
        None => match open_dir(root, cwd, &dir_name) {
            Ok(fd) => fd,
            Err(_) => return Ok(ListOutcome::NotOpened),
        },
    };
    if ctx.world_readable_only {
        match fs::fstat(dir.as_fd()) {
            Ok(st) if st.mode & 0o004 != 0 => {}
            _ => return Ok(ListOutcome::NotOpened),
        }
    }
    let all = opts.all || filter.first() == Some(&b'.');
    let mut walker = Walker {
        ctx,
        verbose: kind != ListKind::Nlst || opts.long,
        all,
        by_time: opts.by_time,
        reverse: opts.reverse != opts.by_time,
        classify: opts.classify,
        recurse: opts.recurse && ctx.recurse_allowed,
        filter,
        root_id: fs::fstat(root).ok().map(|s| (s.dev, s.ino)),
        names: Vec::new(),
        entries: Vec::new(),
        order: Vec::new(),
        prefix: Vec::new(),
        at_root: false,
        link: Vec::new(),
        chunk: Vec::new(),
        glob: Vec::new(),
        dates: DayCache::default(),
        lookup: None,
        lookup_steps: MAX_FILTER_LOOKUP_STEPS,
    };
    if !walker.filter.is_empty() {
        // Where the filter's names are looked up: the working directory (a search-only
        // handle; without one every lookup fails and names match as they are).
        walker.lookup = fs::open_in_root(root, cwd, OpenKind::Path)
            .ok()
            .map(|fd| (root, fd, cwd.to_vec()));
    }
    walker.walk(dir.as_fd(), &dir_name, 0, out)?;
    Ok(ListOutcome::Listed)
}

/// The kernel resolves `name` as given (vsftpd's opendir): `link/..` is the directory above
/// the link's target, and `missing/..` or `file/..` fail.
fn open_dir(root: BorrowedFd<'_>, cwd: &[u8], name: &[u8]) -> io::Result<OwnedFd> {
    fs::open_in_root(root, &prepend_cwd(cwd, name), OpenKind::Directory)
}

/// One listed entry: where its name is in the walker's buffer (the NUL that follows it is not
/// counted), and its lstat once taken.
#[derive(Clone, Copy)]
struct Entry {
    name: (usize, usize),
    st: Option<FileStat>,
    /// Gone between readdir and its lstat: not listed, never recursed into.
    gone: bool,
}

struct Walker<'c, 'a> {
    ctx: &'c ListContext<'a>,
    /// With a filter: the session root, a handle on the working directory and its path, where
    /// entry names are looked up for the filter (see the module docs).
    lookup: Option<(BorrowedFd<'c>, OwnedFd, Vec<u8>)>,
    /// What is left of the listing's lookup budget (`limits::MAX_FILTER_LOOKUP_STEPS`).
    lookup_steps: usize,
    verbose: bool,
    all: bool,
    by_time: bool,
    /// Effective: `r` XOR `t`, as vsftpd.
    reverse: bool,
    classify: bool,
    recurse: bool,
    filter: Vec<u8>,
    root_id: Option<(u64, u64)>,
    /// The current directory's names, in readdir order, each followed by a NUL (ready for the
    /// system calls that take it).
    names: Vec<u8>,
    entries: Vec<Entry>,
    /// The output order: a sort key and an index into `entries` (sorting these moves 32 bytes
    /// per element instead of a whole entry).
    order: Vec<(u128, usize)>,
    /// NLST prefix of the current directory.
    prefix: Vec<u8>,
    /// Whether the current directory is the session root (its ".." is itself).
    at_root: bool,
    /// readlink buffer.
    link: Vec<u8>,
    /// Output chunk.
    chunk: Vec<u8>,
    /// Glob matcher scratch.
    glob: Vec<usize>,
    dates: DayCache,
}

impl Walker<'_, '_> {
    fn walk<W: Write + ?Sized>(
        &mut self,
        dir: BorrowedFd<'_>,
        base: &[u8],
        depth: usize,
        out: &mut W,
    ) -> io::Result<()> {
        if self.recurse {
            let mut header = Vec::with_capacity(base.len() + 3);
            header.extend_from_slice(base);
            header.extend_from_slice(b":\r\n");
            out.write_all(&header)?;
        }
        self.collect(dir, base);
        self.sort();
        self.write_sorted(dir, out)?;
        if !self.recurse || depth >= MAX_LIST_DEPTH {
            return Ok(());
        }
        let subdirs: Vec<Vec<u8>> = self
            .order
            .iter()
            .filter_map(|&(_, i)| self.entries.get(i))
            .filter(|e| !e.gone && e.st.is_some_and(|s| s.is_dir()))
            .map(|e| self.names.get(e.name.0..e.name.1).unwrap_or_default())
            .filter(|n| *n != b"." && *n != b"..")
            .map(<[u8]>::to_vec)
            .collect();
        for name in subdirs {
            // Opened by name inside its parent: a symlink swapped in since the lstat resolves
            // inside the parent, never outside the session root.
            let Ok(sub) = fs::open_in_root(dir, &name, OpenKind::Directory) else {
                continue;
            };
            let mut sub_base = Vec::with_capacity(base.len() + 1 + name.len());
            sub_base.extend_from_slice(base);
            sub_base.push(b'/');
            sub_base.extend_from_slice(&name);
            out.write_all(b"\r\n")?;
            self.walk(sub.as_fd(), &sub_base, depth + 1, out)?;
        }
        Ok(())
    }

    /// Whether entries need an lstat at all (long format, `-t`, `-F`, `-R`).
    fn needs_stat(&self) -> bool {
        self.verbose || self.by_time || self.classify || self.recurse
    }

    /// One readdir pass over `dir`, keeping the names that pass the filters. Only `-t` needs
    /// every lstat before sorting; otherwise they are taken in output order while writing,
    /// so the client receives the first lines while later entries are still being looked up.
    fn collect(&mut self, dir: BorrowedFd<'_>, base: &[u8]) {
        self.names.clear();
        self.entries.clear();
        self.order.clear();
        // NLST prefix: the directory as given, with one slash; none for ".".
        self.prefix.clear();
        if base != b"." {
            self.prefix.extend_from_slice(base);
            if self.prefix.last() != Some(&b'/') {
                self.prefix.push(b'/');
            }
        }
        self.at_root =
            self.root_id.is_some() && fs::fstat(dir).ok().map(|s| (s.dev, s.ino)) == self.root_id;
        // A readdir error part-way ends the listing with what was read, as vsftpd.
        let _ = fs::for_each_dir_entry(dir, MAX_DIR_ENTRIES, |name| {
            self.add(dir, name);
            true
        });
    }

    fn add(&mut self, dir: BorrowedFd<'_>, cname: &CStr) {
        let name = cname.to_bytes();
        if name.first() == Some(&b'.') {
            if !self.all && !self.ctx.force_dot_files {
                return;
            }
            if !self.all && (name == b"." || name == b"..") {
                return;
            }
        }
        if let Some(hidden) = self.ctx.hidden {
            if hidden(name) {
                return;
            }
        }
        if !self.filter.is_empty() {
            let real = self.filter_key(cname);
            let key = real.as_deref().map_or(name, realpath::last_component);
            if !passes(key, &self.filter, &mut 0, &mut self.glob) {
                return;
            }
        }
        let mut entry = Entry {
            name: (self.names.len(), self.names.len() + name.len()),
            st: None,
            gone: false,
        };
        if self.by_time {
            match self.lstat(dir, cname) {
                Some(st) => entry.st = Some(st),
                // Gone since readdir: skip, as vsftpd.
                None => return,
            }
        }
        self.names.extend_from_slice(name);
        self.names.push(0);
        self.entries.push(entry);
    }

    /// The real path of `cname` looked up from the working directory, when it is not simply
    /// the working directory's entry of that name (a symlink, `.` or `..`); `None` when the
    /// name itself is what the filter sees.
    fn filter_key(&mut self, cname: &CStr) -> Option<Vec<u8>> {
        let (root, cwd_fd, cwd) = self.lookup.as_ref()?;
        let name = cname.to_bytes();
        let st = fs::lstat_at_cstr(cwd_fd.as_fd(), cname).ok()?;
        if !st.is_symlink() && name != b"." && name != b".." {
            return None;
        }
        realpath::real_path_counted(*root, cwd, name, &mut self.lookup_steps)
    }

    fn lstat(&self, dir: BorrowedFd<'_>, cname: &CStr) -> Option<FileStat> {
        // At the session root ".." is the root itself, as inside a chroot.
        let target = if self.at_root && cname.to_bytes() == b".." {
            c"."
        } else {
            cname
        };
        fs::lstat_at_cstr(dir, target).ok()
    }

    fn sort(&mut self) {
        let names = &self.names;
        let name = |i: usize| {
            let e = self.entries.get(i);
            e.and_then(|e| names.get(e.name.0..e.name.1))
                .unwrap_or_default()
        };
        let by_time = self.by_time;
        self.order
            .extend(self.entries.iter().enumerate().map(|(i, e)| {
                let key = if by_time {
                    time_key(e.st.map_or(0, |s| s.mtime))
                } else {
                    name_key(names.get(e.name.0..e.name.1).unwrap_or_default())
                };
                (key, i)
            }));
        // The key decides unless two names share their first 16 bytes.
        let by_name = |a: &(u128, usize), b: &(u128, usize)| {
            a.0.cmp(&b.0).then_with(|| name(a.1).cmp(name(b.1)))
        };
        // Names are unique within a directory, so only `-t` (ties keep readdir order, as glibc's
        // qsort does for vsftpd) needs a stable sort.
        match (self.reverse, by_time) {
            (true, true) => self.order.sort_by_key(|e| std::cmp::Reverse(e.0)),
            (false, true) => self.order.sort_by_key(|e| e.0),
            (true, false) => self.order.sort_unstable_by(|a, b| by_name(b, a)),
            (false, false) => self.order.sort_unstable_by(by_name),
        }
    }

    /// Writes the sorted entries, taking each one's lstat first where `collect` did not.
    fn write_sorted<W: Write + ?Sized>(
        &mut self,
        dir: BorrowedFd<'_>,
        out: &mut W,
    ) -> io::Result<()> {
        self.chunk.clear();
        let stat = self.needs_stat();
        for k in 0..self.order.len() {
            let Some(&(_, i)) = self.order.get(k) else {
                break;
            };
            let Some(e) = self.entries.get(i).copied() else {
                continue;
            };
            let Some(cname) = self
                .names
                .get(e.name.0..=e.name.1)
                .and_then(|n| CStr::from_bytes_with_nul(n).ok())
            else {
                continue;
            };
            let st = match (e.st, stat) {
                (Some(st), _) => Some(st),
                (None, false) => None,
                (None, true) => {
                    let st = self.lstat(dir, cname);
                    if let Some(slot) = self.entries.get_mut(i) {
                        slot.st = st;
                        slot.gone = st.is_none();
                    }
                    match st {
                        Some(st) => Some(st),
                        // Gone since readdir: skip, as vsftpd.
                        None => continue,
                    }
                }
            };
            if !self.chunk.is_empty() && self.chunk.len() + MAX_LINE_GUESS > WRITE_CHUNK {
                out.write_all(&self.chunk)?;
                self.chunk.clear();
            }
            let name = cname.to_bytes();
            match (&st, self.verbose) {
                (Some(st), true) => {
                    let mut target: Option<&[u8]> = None;
                    if st.is_symlink()
                        && fs::readlink_at_cstr(dir, cname, &mut self.link).is_ok()
                        && !self.link.is_empty()
                    {
                        target = Some(&self.link);
                    }
                    let suffix = (self.classify && st.is_dir()).then_some(b'/');
                    let (chunk, dates) = (&mut self.chunk, &mut self.dates);
                    push_long_line(chunk, name, st, target, suffix, self.ctx, dates);
                }
                _ => {
                    self.chunk.extend_from_slice(&self.prefix);
                    self.chunk.extend_from_slice(name);
                    if let (true, Some(st)) = (self.classify, &st) {
                        if st.is_dir() {
                            self.chunk.push(b'/');
                        } else if st.is_symlink() {
                            self.chunk.push(b'@');
                        }
                    }
                    self.chunk.extend_from_slice(b"\r\n");
                }
            }
        }
        if !self.chunk.is_empty() {
            out.write_all(&self.chunk)?;
        }
        Ok(())
    }
}

/// A name's first 16 bytes as one big-endian number, zero-padded: comparing two keys orders
/// the names as comparing their bytes would, up to the 16th (a name holds no NUL byte, so the
/// padding sorts a prefix first). Sorting by key leaves a byte comparison only to names that
/// share their first 16 bytes; memcmp calls were a fifth of a long listing's instructions.
pub(crate) fn name_key(name: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    for (d, s) in b.iter_mut().zip(name) {
        *d = *s;
    }
    u128::from_be_bytes(b)
}

/// A sort key that orders mtimes as vsftpd does with its `%030ld` sort keys compared as
/// strings: non-negative times numerically, every negative time before them, negatives among
/// themselves by absolute value (`-1` before `-5`).
fn time_key(t: i64) -> u128 {
    match u64::try_from(t) {
        Ok(t) => (1 << 64) | u128::from(t),
        Err(_) => u128::from(t.unsigned_abs()),
    }
}

// ------------------------------------------------------------------------------------------------
// Line formatting.

/// Appends one `ls -l` line as vsftpd's `build_dir_line`:
/// `<perms> <nlink %4> <owner %-8> <group %-8> <size %8> <date> <name>[ -> target]\r\n`.
/// Owner and group are numeric, names through [`ListContext::names`], or `ftp` with hide_ids;
/// the date follows [`format_date`]. Fields wider than their column are not cut. One deliberate
/// difference: vsftpd stores ids in a C `int`, so an id of 2^31 or more prints sign-extended
/// (uid 4000000000 as `18446744073414584320`); we print the id.
pub fn format_long_line(
    out: &mut Vec<u8>,
    name: &[u8],
    st: &FileStat,
    link_target: Option<&[u8]>,
    ctx: &ListContext<'_>,
) {
    push_long_line(
        out,
        name,
        st,
        link_target,
        None,
        ctx,
        &mut DayCache::default(),
    );
}

fn push_long_line(
    out: &mut Vec<u8>,
    name: &[u8],
    st: &FileStat,
    link_target: Option<&[u8]>,
    suffix: Option<u8>,
    ctx: &ListContext<'_>,
    dates: &mut DayCache,
) {
    out.extend_from_slice(&format_perms(st.mode));
    out.push(b' ');
    push_num(out, st.nlink, 4, b' ');
    out.push(b' ');
    push_id(out, st.uid, ctx, |n, id, o| n.user(id, o));
    push_id(out, st.gid, ctx, |n, id, o| n.group(id, o));
    push_num(out, st.size, 8, b' ');
    out.push(b' ');
    format_date_cached(out, st.mtime, ctx.now, ctx.offset_at(st.mtime), dates);
    out.push(b' ');
    out.extend_from_slice(name);
    if let Some(t) = link_target {
        out.extend_from_slice(b" -> ");
        out.extend_from_slice(t);
    }
    if let Some(s) = suffix {
        out.push(s);
    }
    out.extend_from_slice(b"\r\n");
}

/// Owner or group, left-aligned in 8 columns (longer names are not cut), then a space.
fn push_id(
    out: &mut Vec<u8>,
    id: u32,
    ctx: &ListContext<'_>,
    lookup: impl Fn(&dyn IdNames, u32, &mut Vec<u8>) -> bool,
) {
    let start = out.len();
    if ctx.hide_ids {
        out.extend_from_slice(b"ftp");
    } else {
        let named = ctx.names.is_some_and(|n| {
            let ok = lookup(n, id, out);
            if !ok {
                out.truncate(start);
            }
            ok
        });
        if !named {
            // The common case, an id of up to 8 digits, fills the column exactly.
            let mut field = [b' '; 8];
            let mut v = id;
            let digits = id.checked_ilog10().map_or(1, |l| l as usize + 1);
            if digits <= field.len() {
                for slot in field.iter_mut().take(digits).rev() {
                    // A digit: the cast cannot truncate.
                    *slot = b'0' + (v % 10) as u8;
                    v /= 10;
                }
                out.extend_from_slice(&field);
            } else {
                push_num(out, u64::from(id), 0, b' ');
            }
        }
    }
    let width = out.len() - start;
    out.resize(out.len() + 8usize.saturating_sub(width), b' ');
    out.push(b' ');
}

/// vsftpd's permission string: the type letter (`-dlpscb`, `?` for anything else), then
/// `rwx` three times, with setuid/setgid as `s`/`S` over the owner/group `x` and sticky as
/// `t`/`T` over the other `x`.
pub fn format_perms(mode: u32) -> [u8; 10] {
    let mut p = *b"----------";
    p[0] = match mode & 0o170_000 {
        0o100_000 => b'-',
        0o040_000 => b'd',
        0o120_000 => b'l',
        0o010_000 => b'p',
        0o140_000 => b's',
        0o020_000 => b'c',
        0o060_000 => b'b',
        _ => b'?',
    };
    let bits: [(u32, usize, u8); 9] = [
        (0o400, 1, b'r'),
        (0o200, 2, b'w'),
        (0o100, 3, b'x'),
        (0o040, 4, b'r'),
        (0o020, 5, b'w'),
        (0o010, 6, b'x'),
        (0o004, 7, b'r'),
        (0o002, 8, b'w'),
        (0o001, 9, b'x'),
    ];
    for (bit, i, c) in bits {
        if mode & bit != 0 {
            p[i] = c;
        }
    }
    for (bit, i, set, unset) in [
        (0o4000, 3, b's', b'S'),
        (0o2000, 6, b's', b'S'),
        (0o1000, 9, b't', b'T'),
    ] {
        if mode & bit != 0 {
            p[i] = if p[i] == b'x' { set } else { unset };
        }
    }
    p
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A broken-down UTC time.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

/// A calendar date.
#[derive(Clone, Copy)]
struct Ymd {
    year: i64,
    month: u32,
    day: u32,
}

const DAY_SECONDS: i64 = 86_400;

/// The date of the last day a listing formatted, for its next entry: the entries of one
/// directory mostly share a few days, and working out a date from a day number was a sixth of
/// a long listing's instructions.
#[derive(Default)]
pub struct DayCache(Option<(i64, Ymd)>);

impl DayCache {
    fn date(&mut self, days: i64) -> Ymd {
        match self.0 {
            Some((d, ymd)) if d == days => ymd,
            _ => {
                let ymd = date_of_day(days);
                self.0 = Some((days, ymd));
                ymd
            }
        }
    }
}

/// `secs + offset` seconds after the epoch as a proleptic Gregorian date and time. Days and
/// seconds of the two are added apart, so no pair of `i64` overflows (128-bit arithmetic here
/// was a twentieth of a long listing's instructions).
fn civil(secs: i64, offset: i64, dates: &mut DayCache) -> Civil {
    let sod = secs.rem_euclid(DAY_SECONDS) + offset.rem_euclid(DAY_SECONDS);
    let days = secs.div_euclid(DAY_SECONDS) + offset.div_euclid(DAY_SECONDS) + sod / DAY_SECONDS;
    let sod = sod % DAY_SECONDS;
    let Ymd { year, month, day } = dates.date(days);
    let small = |v: i64| u32::try_from(v).unwrap_or(0);
    Civil {
        year,
        month,
        day,
        hour: small(sod / 3_600),
        minute: small(sod % 3_600 / 60),
        second: small(sod % 60),
    }
}

/// Days since the epoch to a date (H. Hinnant's days-to-civil); every intermediate stays far
/// inside `i64` for any day count [`civil`] can make.
fn date_of_day(days: i64) -> Ymd {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let small = |v: i64| u32::try_from(v).unwrap_or(0);
    Ymd {
        year: yoe + era * 400 + i64::from(month <= 2),
        month: small(month),
        day: small(day),
    }
}

/// `secs + utc_offset` seconds after the epoch as (year, month 1-12, day 1-31, hour, minute,
/// second), proleptic Gregorian: the dates of the logs (`crate::log`) come from here too.
pub fn civil_time(secs: i64, utc_offset: i64) -> (i64, u32, u32, u32, u32, u32) {
    let c = civil(secs, utc_offset, &mut DayCache::default());
    (c.year, c.month, c.day, c.hour, c.minute, c.second)
}

/// Appends strftime's `%Y` as glibc prints it (at least 4 digits).
fn push_year(out: &mut Vec<u8>, year: i64) {
    match u32::try_from(year) {
        Ok(y) if y < 10_000 => {
            push_2(out, y / 100);
            push_2(out, y % 100);
        }
        _ if year >= 0 => push_num(out, year.unsigned_abs(), 4, b'0'),
        _ => {
            let _ = write!(out, "{year}");
        }
    }
}

/// Appends the date column: `%b %d %H:%M` when `mtime` is neither in the future nor more than
/// 182 days before `now`, else `%b %d  %Y` (two spaces); `%d` zero-padded, C-locale month names.
/// `utc_offset` is added before formatting (the comparison uses raw seconds, as vsftpd).
pub fn format_date(out: &mut Vec<u8>, mtime: i64, now: i64, utc_offset: i64) {
    format_date_cached(out, mtime, now, utc_offset, &mut DayCache::default());
}

/// [`format_date`], taking the date from `dates` when it holds that day.
fn format_date_cached(
    out: &mut Vec<u8>,
    mtime: i64,
    now: i64,
    utc_offset: i64,
    dates: &mut DayCache,
) {
    // A difference too large for i64 is older than six months.
    let old = mtime > now || now.checked_sub(mtime).is_none_or(|d| d > RECENT_SECONDS);
    let c = civil(mtime, utc_offset, dates);
    let month = usize::try_from(c.month.saturating_sub(1)).unwrap_or(0);
    out.extend_from_slice(MONTHS.get(month).map_or(b"???", |m| *m));
    out.push(b' ');
    push_2(out, c.day);
    out.push(b' ');
    if old {
        out.push(b' ');
        push_year(out, c.year);
    } else {
        push_2(out, c.hour);
        out.push(b':');
        push_2(out, c.minute);
    }
}

/// MDTM's `YYYYMMDDHHMMSS` (vsftpd `vsf_sysutil_statbuf_get_numeric_date`), with `utc_offset`
/// added (0 for GMT).
pub fn mdtm_timestamp(mtime: i64, utc_offset: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(14);
    push_mdtm_timestamp(&mut out, mtime, utc_offset, &mut DayCache::default());
    out
}

/// The other way: `YYYYMMDDHHMMSS` (MDTM's set form, MFMT) as seconds since the epoch, taken as
/// UTC; `None` unless it is exactly 14 digits naming a real date and time (seconds up to 60).
pub fn parse_mdtm_timestamp(ts: &[u8]) -> Option<i64> {
    if ts.len() != 14 || !ts.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |a: usize, b: usize| {
        ts.get(a..b)?
            .iter()
            .try_fold(0i64, |acc, &d| Some(acc * 10 + i64::from(d - b'0')))
    };
    let (year, month, day) = (num(0, 4)?, num(4, 6)?, num(6, 8)?);
    let (hour, minute, second) = (num(8, 10)?, num(10, 12)?, num(12, 14)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let days_in_month = *month_days.get(usize::try_from(month - 1).ok()?)?;
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from civil (H. Hinnant), the inverse of `date_of_day`.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * DAY_SECONDS + hour * 3_600 + minute * 60 + second)
}

/// [`mdtm_timestamp`], appended to `out`.
pub fn push_mdtm_timestamp(out: &mut Vec<u8>, mtime: i64, utc_offset: i64, dates: &mut DayCache) {
    let c = civil(mtime, utc_offset, dates);
    push_year(out, c.year);
    for v in [c.month, c.day, c.hour, c.minute, c.second] {
        push_2(out, v);
    }
}

/// Appends `v % 100` as two digits (`%02d` of a date field).
fn push_2(out: &mut Vec<u8>, v: u32) {
    let v = v % 100;
    let (tens, ones) = (v / 10, v % 10);
    // Both are below 10: the casts cannot truncate.
    out.extend_from_slice(&[b'0' + tens as u8, b'0' + ones as u8]);
}

/// Appends `v` in decimal, right-aligned in `width` columns filled with `fill`; a wider
/// number is not cut. (core::fmt's padding machinery was a tenth of a long listing's time;
/// digits and padding are built in one buffer and copied once.)
#[inline]
pub fn push_num(out: &mut Vec<u8>, mut v: u64, width: usize, fill: u8) {
    // u64::MAX has 20 digits; the listings pad to at most 8 columns.
    const ROOM: usize = 24;
    let mut buf = [fill; ROOM];
    let mut start = ROOM;
    for slot in buf.iter_mut().rev() {
        // `v % 10` is a digit: the cast cannot truncate.
        *slot = b'0' + (v % 10) as u8;
        start -= 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if ROOM - start <= width && width <= ROOM {
        // The number fits its column: a copy of `width` bytes, a constant where this is
        // inlined (the listing columns), so no call to memcpy.
        out.extend_from_slice(buf.get(ROOM - width..).unwrap_or_default());
        return;
    }
    if width > ROOM {
        out.resize(out.len() + (width - (ROOM - start)), fill);
    }
    out.extend_from_slice(buf.get(start..).unwrap_or_default());
}

// ------------------------------------------------------------------------------------------------
// The filter.

/// vsftpd's filename filter (`vsf_filename_passes_filter`, 3.0.x upstream) with a fresh budget of
/// [`MAX_GLOB_STEPS`] steps. See [`filter_matches_counted`].
pub fn filter_matches(name: &[u8], pattern: &[u8]) -> bool {
    passes(name, pattern, &mut 0, &mut Vec::new())
}

/// vsftpd's filename filter, sharing a step counter across calls (a step is one token of the
/// pattern; `{}` alternatives recurse and count on). Exhausting [`MAX_GLOB_STEPS`] means no
/// match. Supported, exactly as vsftpd 3.0.5 upstream (not RHEL's patched matcher):
/// - `*`: any run of bytes; `?`: one byte;
/// - `{a,b,c}`: alternatives, not nested; the list ends at the first empty alternative
///   (`{a,,b}` tries only `a`); a `{` with no `}` after it matches a literal `{`;
/// - everything else literally, byte for byte.
///
/// The matching is vsftpd's greedy, non-backtracking one: a literal run after `*` is matched at
/// its first occurrence, a literal after `?`, `{..}` or at the start must come next. One
/// deliberate difference from upstream, as RHEL's vsftpd: a literal that ends the pattern after
/// a `*` must end the name, so `*.txt` matches `a.txt.txt` and `f*t` matches `file.txt` (upstream
/// says no to both — a hole when the same matcher serves deny_file). What greediness still
/// misses: `*?c` against `xyc` (the `?` is taken right after the `*`), as vsftpd.
///
/// The cost is bounded: at most [`MAX_GLOB_STEPS`] steps, each a linear-time (KMP) search, so
/// `*a*a*a*a*a*a*a*a*a*b` against a long name costs microseconds.
pub fn filter_matches_counted(name: &[u8], pattern: &[u8], steps: &mut usize) -> bool {
    passes(name, pattern, steps, &mut Vec::new())
}

fn passes(name: &[u8], filter: &[u8], steps: &mut usize, table: &mut Vec<usize>) -> bool {
    let mut filter_rest = filter;
    let mut name_rest = name;
    let mut last_token = 0u8;
    let mut anchored = true;
    while !filter_rest.is_empty() && *steps < MAX_GLOB_STEPS {
        *steps += 1;
        let needed;
        match filter_rest
            .iter()
            .position(|&c| c == b'*' || c == b'?' || c == b'{')
        {
            Some(i) => {
                needed = filter_rest.get(..i).unwrap_or_default();
                last_token = filter_rest.get(i).copied().unwrap_or(0);
                filter_rest = filter_rest.get(i + 1..).unwrap_or_default();
            }
            None => {
                needed = filter_rest;
                last_token = 0;
                filter_rest = &[];
            }
        }
        if !needed.is_empty() {
            if !anchored && last_token == 0 {
                // The pattern ends with a literal after a '*': it must end the name (RHEL's fix;
                // upstream matches it at its first occurrence and then fails on the leftover).
                return name_rest.ends_with(needed) && *steps < MAX_GLOB_STEPS;
            }
            let Some(at) = find(name_rest, needed, table) else {
                return false;
            };
            if anchored && at > 0 {
                return false;
            }
            name_rest = name_rest.get(at + needed.len()..).unwrap_or_default();
        }
        match last_token {
            b'?' => {
                let Some(rest) = name_rest.get(1..) else {
                    return false;
                };
                name_rest = rest;
                anchored = true;
            }
            b'{' => {
                anchored = true;
                if let Some(close) = filter_rest.iter().position(|&c| c == b'}') {
                    let mut list = filter_rest.get(..close).unwrap_or_default();
                    let after = filter_rest.get(close + 1..).unwrap_or_default();
                    loop {
                        let (item, tail) = match list.iter().position(|&c| c == b',') {
                            Some(i) => (
                                list.get(..i).unwrap_or_default(),
                                list.get(i + 1..).unwrap_or_default(),
                            ),
                            None => (list, &[][..]),
                        };
                        if item.is_empty() {
                            return false;
                        }
                        let mut alternative = Vec::with_capacity(item.len() + after.len());
                        alternative.extend_from_slice(item);
                        alternative.extend_from_slice(after);
                        if passes(name_rest, &alternative, steps, table) {
                            return true;
                        }
                        list = tail;
                    }
                }
                // No closing brace: a literal '{' must come next.
                match name_rest.split_first() {
                    Some((b'{', rest)) => name_rest = rest,
                    _ => return false,
                }
            }
            _ => anchored = false,
        }
    }
    if !name_rest.is_empty() && last_token != b'*' {
        return false;
    }
    *steps < MAX_GLOB_STEPS
}

/// First occurrence of `needle` in `hay` (Knuth-Morris-Pratt: linear time whatever the bytes),
/// with `table` as reusable scratch.
fn find(hay: &[u8], needle: &[u8], table: &mut Vec<usize>) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if needle.len() > hay.len() {
        return None;
    }
    table.clear();
    table.resize(needle.len(), 0);
    let at = |i: usize| needle.get(i).copied();
    let fail = |t: &[usize], i: usize| t.get(i).copied().unwrap_or(0);
    let mut k = 0usize;
    for i in 1..needle.len() {
        while k > 0 && at(i) != at(k) {
            k = fail(table, k - 1);
        }
        if at(i) == at(k) {
            k += 1;
        }
        if let Some(slot) = table.get_mut(i) {
            *slot = k;
        }
    }
    let mut q = 0usize;
    for (i, &c) in hay.iter().enumerate() {
        while q > 0 && at(q) != Some(c) {
            q = fail(table, q - 1);
        }
        if at(q) == Some(c) {
            q += 1;
        }
        if q == needle.len() {
            return Some(i + 1 - q);
        }
    }
    None
}

#[cfg(test)]
mod timestamp_tests {
    use super::*;

    #[test]
    fn parse_is_the_inverse_of_format() {
        for t in [
            0i64,
            1,
            59,
            86_399,
            951_782_400,
            1_700_000_000,
            253_402_300_799,
        ] {
            let s = mdtm_timestamp(t, 0);
            assert_eq!(
                parse_mdtm_timestamp(&s),
                Some(t),
                "{}",
                String::from_utf8_lossy(&s)
            );
        }
        assert_eq!(parse_mdtm_timestamp(b"20000229120000"), Some(951_825_600));
        for bad in [
            &b"19990229120000"[..],
            b"20001301000000",
            b"20000100000000",
            b"20000101240000",
            b"2000010100000",
            b"200001010000000",
            b"2000010100000x",
            b"",
        ] {
            assert_eq!(
                parse_mdtm_timestamp(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    const DAY: i64 = 86_400;
    /// 2024-03-15 12:34:56 UTC.
    const NOW: i64 = 1_710_506_096;

    fn st(mode: u32, nlink: u64, uid: u32, gid: u32, size: u64, mtime: i64) -> FileStat {
        FileStat {
            mode,
            nlink,
            uid,
            gid,
            size,
            mtime,
            ino: 1,
            dev: 1,
        }
    }

    fn long(name: &[u8], s: &FileStat, target: Option<&[u8]>, ctx: &ListContext<'_>) -> String {
        let mut out = Vec::new();
        format_long_line(&mut out, name, s, target, ctx);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn long_lines() {
        let ctx = ListContext::new(NOW);
        assert_eq!(
            long(
                b"file.txt",
                &st(0o100644, 1, 1000, 1000, 1234, NOW - 3600),
                None,
                &ctx
            ),
            "-rw-r--r--    1 1000     1000         1234 Mar 15 11:34 file.txt\r\n"
        );
        assert_eq!(
            long(
                b"cgi-bin",
                &st(0o040751, 2, 1003, 1003, 4096, NOW - 30 * DAY),
                None,
                &ctx
            ),
            "drwxr-x--x    2 1003     1003         4096 Feb 14 12:34 cgi-bin\r\n"
        );
        assert_eq!(
            long(
                b"link",
                &st(0o120777, 1, 0, 0, 11, NOW),
                Some(b"/etc/passwd"),
                &ctx
            ),
            "lrwxrwxrwx    1 0        0              11 Mar 15 12:34 link -> /etc/passwd\r\n"
        );
        // Wide fields are not cut.
        assert_eq!(
            long(
                b"big",
                &st(0o100600, 12345, 4_000_000_000, 7, 123_456_789_012, NOW),
                None,
                &ctx
            ),
            "-rw------- 12345 4000000000 7        123456789012 Mar 15 12:34 big\r\n"
        );
    }

    #[test]
    fn perms() {
        assert_eq!(&format_perms(0o104755), b"-rwsr-xr-x");
        assert_eq!(&format_perms(0o104644), b"-rwSr--r--");
        assert_eq!(&format_perms(0o102755), b"-rwxr-sr-x");
        assert_eq!(&format_perms(0o102745), b"-rwxr-Sr-x");
        assert_eq!(&format_perms(0o041777), b"drwxrwxrwt");
        assert_eq!(&format_perms(0o041776), b"drwxrwxrwT");
        assert_eq!(&format_perms(0o107777), b"-rwsrwsrwt");
        assert_eq!(&format_perms(0o107000), b"---S--S--T");
        assert_eq!(&format_perms(0o010600), b"prw-------");
        assert_eq!(&format_perms(0o140755), b"srwxr-xr-x");
        assert_eq!(&format_perms(0o020660), b"crw-rw----");
        assert_eq!(&format_perms(0o060660), b"brw-rw----");
        assert_eq!(&format_perms(0o000644), b"?rw-r--r--");
        assert_eq!(&format_perms(0o170644), b"?rw-r--r--");
    }

    #[test]
    fn dates() {
        let d = |mtime: i64, now: i64, off: i64| {
            let mut v = Vec::new();
            format_date(&mut v, mtime, now, off);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(d(NOW, NOW, 0), "Mar 15 12:34");
        // Exactly 182 days old is still recent; one second more is old.
        assert_eq!(d(NOW - 182 * DAY, NOW, 0), "Sep 15 12:34");
        assert_eq!(d(NOW - 182 * DAY - 1, NOW, 0), "Sep 15  2023");
        // One second in the future is old (year format).
        assert_eq!(d(NOW + 1, NOW, 0), "Mar 15  2024");
        assert_eq!(d(0, NOW, 0), "Jan 01  1970");
        assert_eq!(d(-1, NOW, 0), "Dec 31  1969");
        assert_eq!(d(951_782_400, NOW, 0), "Feb 29  2000");
        // An offset shifts the fields, not the six-month decision.
        assert_eq!(d(NOW, NOW, 3600), "Mar 15 13:34");
        assert_eq!(d(NOW - 13 * 3600, NOW, -3600), "Mar 14 22:34");
        // Absurd timestamps neither panic nor overflow (the years are those of 128-bit
        // arithmetic, which an earlier version used).
        assert_eq!(d(i64::MAX, i64::MIN, i64::MAX), "Nov 09  584554051223");
        assert_eq!(d(i64::MIN, i64::MAX, i64::MIN), "Feb 23  -584554047284");
        assert_eq!(d(i64::MAX, 0, 0), "Dec 04  292277026596");
        assert_eq!(d(i64::MIN, 0, 0), "Jan 27  -292277022657");
        assert_eq!(d(i64::MAX, 0, i64::MIN), "Dec 31  1969");
        assert_eq!(d(-1, 0, -1), "Dec 31 23:59");
        assert_eq!(d(-62_135_596_801, 0, 0), "Dec 31  0000");
        assert_eq!(d(-99_999_999_999, 0, 0), "Feb 15  -1199");
        assert_eq!(d(253_402_300_799, NOW, 0), "Dec 31  9999");
        assert_eq!(d(-62_135_596_800, NOW, 0), "Jan 01  0001");
    }

    #[test]
    fn cached_dates_are_the_dates() {
        let mut dates = DayCache::default();
        let mut t = -3 * DAY;
        while t < 3 * DAY {
            for off in [0, 3600, -7200] {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                format_date_cached(&mut a, t, NOW, off, &mut dates);
                format_date(&mut b, t, NOW, off);
                assert_eq!(a, b, "{t} {off}");
                let mut c = Vec::new();
                push_mdtm_timestamp(&mut c, t, off, &mut dates);
                assert_eq!(c, mdtm_timestamp(t, off), "{t} {off}");
            }
            t += 3_599;
        }
    }

    #[test]
    fn numbers_pad_as_printf() {
        for (v, width, fill) in [
            (0u64, 0usize, b' '),
            (7, 4, b' '),
            (1234, 4, b' '),
            (123_456, 4, b' '),
            (5, 2, b'0'),
            (u64::MAX, 8, b' '),
            (u64::MAX, 20, b'0'),
            (42, 24, b' '),
            (42, 30, b'0'),
            (u64::MAX, 31, b' '),
        ] {
            let mut out = b"x".to_vec();
            push_num(&mut out, v, width, fill);
            let want = if fill == b'0' {
                format!("x{v:0width$}")
            } else {
                format!("x{v:>width$}")
            };
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }

    #[test]
    fn mdtm() {
        assert_eq!(mdtm_timestamp(NOW, 0), b"20240315123456");
        assert_eq!(mdtm_timestamp(0, 0), b"19700101000000");
        assert_eq!(mdtm_timestamp(NOW, 7200), b"20240315143456");
        let m = |t: i64, off: i64| String::from_utf8(mdtm_timestamp(t, off)).unwrap();
        assert_eq!(m(i64::MAX, i64::MAX), "5845540512231109070014");
        assert_eq!(m(i64::MIN, i64::MIN), "-5845540472840223165944");
        assert_eq!(m(i64::MAX, 0), "2922770265961204153007");
        assert_eq!(m(i64::MIN, 0), "-2922770226570127082952");
        assert_eq!(m(i64::MAX, i64::MIN), "19691231235959");
        assert_eq!(m(-1, -1), "19691231235958");
        assert_eq!(m(-62_135_596_801, 0), "00001231235959");
        assert_eq!(m(-99_999_999_999, 0), "-11990215141321");
    }

    struct Names;
    impl IdNames for Names {
        fn user(&self, uid: u32, out: &mut Vec<u8>) -> bool {
            match uid {
                0 => out.extend_from_slice(b"root"),
                1000 => out.extend_from_slice(b"a-very-long-name"),
                _ => return false,
            }
            true
        }
        fn group(&self, gid: u32, out: &mut Vec<u8>) -> bool {
            out.extend_from_slice(b"partial");
            if gid == 0 {
                out.extend_from_slice(b"!");
                return true;
            }
            false
        }
    }

    #[test]
    fn owners() {
        let names = Names;
        let mut ctx = ListContext::new(NOW);
        ctx.names = Some(&names);
        assert_eq!(
            long(b"f", &st(0o100644, 1, 0, 0, 1, NOW), None, &ctx),
            "-rw-r--r--    1 root     partial!        1 Mar 15 12:34 f\r\n"
        );
        assert_eq!(
            long(b"f", &st(0o100644, 1, 1000, 5, 1, NOW), None, &ctx),
            "-rw-r--r--    1 a-very-long-name 5               1 Mar 15 12:34 f\r\n"
        );
        assert_eq!(
            long(b"f", &st(0o100644, 1, 42, 5, 1, NOW), None, &ctx),
            "-rw-r--r--    1 42       5               1 Mar 15 12:34 f\r\n"
        );
        ctx.hide_ids = true;
        assert_eq!(
            long(b"f", &st(0o100644, 1, 0, 0, 1, NOW), None, &ctx),
            "-rw-r--r--    1 ftp      ftp             1 Mar 15 12:34 f\r\n"
        );
    }

    #[test]
    fn options() {
        assert_eq!(parse_list_arg(b""), (ListOptions::default(), vec![]));
        assert_eq!(
            parse_list_arg(b"/pub"),
            (ListOptions::default(), b"/pub".to_vec())
        );
        let (o, f) = parse_list_arg(b"-laRrtF /pub/x y");
        assert_eq!(
            o,
            ListOptions {
                long: true,
                all: true,
                recurse: true,
                reverse: true,
                by_time: true,
                classify: true
            }
        );
        assert_eq!(f, b"/pub/x y");
        let (o, f) = parse_list_arg(b"-a");
        assert!(o.all && !o.long);
        assert!(f.is_empty());
        let (o, f) = parse_list_arg(b"-");
        assert_eq!(o, ListOptions::default());
        assert!(f.is_empty());
        // Options must come first; a second option word is a filter.
        let (o, f) = parse_list_arg(b"-a -l");
        assert!(o.all && !o.long);
        assert_eq!(f, b"-l");
        let (o, f) = parse_list_arg(b"/pub -la");
        assert_eq!(o, ListOptions::default());
        assert_eq!(f, b"/pub -la");
        let (o, _) = parse_list_arg(b"-xyzd");
        assert_eq!(o, ListOptions::default());
    }

    #[test]
    fn glob() {
        let m = |n: &str, p: &str| filter_matches(n.as_bytes(), p.as_bytes());
        assert!(m("file.txt", "file.txt"));
        assert!(!m("file.txt", "file"));
        assert!(!m("file.txt", "ile.txt"));
        assert!(m("file.txt", "*"));
        assert!(m("file.txt", "*.txt"));
        assert!(m("file.txt", "f*"));
        assert!(m("file.txt", "f*t"));
        assert!(m("file.txt", "*le*"));
        assert!(!m("file.txt", "*.doc"));
        assert!(m("file.txt", "fil?.txt"));
        assert!(m("file.txt", "????.???"));
        assert!(!m("file.txt", "???.txt"));
        assert!(!m("a", "a?"));
        assert!(m("a.c", "*.{c,h}"));
        assert!(m("a.h", "*.{c,h}"));
        assert!(!m("a.o", "*.{c,h}"));
        assert!(m("foo.tar.gz", "{foo,bar}.tar.*"));
        assert!(m("bar.tar.gz", "{foo,bar}.tar.*"));
        assert!(!m("baz.tar.gz", "{foo,bar}.tar.*"));
        // An empty alternative ends the list, as vsftpd.
        assert!(m("a", "{a,,b}"));
        assert!(!m("b", "{a,,b}"));
        assert!(!m("a", "{,a}"));
        // A '{' without '}' is literal.
        assert!(m("{x", "{x"));
        assert!(!m("x", "{x"));
        // A final literal after '*' anchors at the end (RHEL's fix of upstream's greedy miss).
        assert!(m("a.txt.txt", "*.txt"));
        assert!(m("aba", "*a"));
        assert!(!m("abab", "*a"));
        assert!(m("aba", "*a*"));
        assert!(m("x.mp3.mp3", "{*.mp3,*.mov}"));
        // What vsftpd's greedy matcher still misses.
        assert!(!m("xyc", "*?c"));
        assert!(m("aXbXc", "*X*Xc"));
        assert!(m("", ""));
        assert!(m("", "*"));
        assert!(!m("", "?"));
        // An empty pattern matches only an empty name (listings never filter with one).
        assert!(!m("x", ""));
        // Bytes, not characters.
        assert!(m("\u{e9}t\u{e9}", "??t*"));
        assert!(filter_matches(b"a\xffb", b"a?b"));
    }

    #[test]
    fn glob_is_bounded() {
        let name = vec![b'a'; 4000];
        let start = std::time::Instant::now();
        assert!(!filter_matches(&name, b"*a*a*a*a*a*a*a*a*a*b"));
        assert!(filter_matches(&name, b"*a*a*a*a*a*a*a*a*a*"));
        let mut nb = name.clone();
        nb.push(b'b');
        assert!(filter_matches(&nb, b"*a*a*a*a*a*a*a*a*a*b"));
        // A worst case for naive substring search.
        let mut needle_pat = b"*".to_vec();
        needle_pat.extend_from_slice(&[b'a'; 2000]);
        needle_pat.extend_from_slice(b"b*");
        assert!(!filter_matches(&name, &needle_pat));
        // Braces that would explode without the step budget.
        let bomb = "{a,b,c,d,e,f,g,h}".repeat(40) + "z";
        assert!(!filter_matches(&name, bomb.as_bytes()));
        assert!(!filter_matches(b"abcdefgh", bomb.as_bytes()));
        // A pattern longer than the step budget cannot match at all.
        let many = "?".repeat(MAX_GLOB_STEPS + 1);
        assert!(!filter_matches(
            &vec![b'x'; MAX_GLOB_STEPS + 1],
            many.as_bytes()
        ));
        let fits = "?".repeat(MAX_GLOB_STEPS - 1);
        assert!(filter_matches(
            &vec![b'x'; MAX_GLOB_STEPS - 1],
            fits.as_bytes()
        ));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        let mut steps = 0;
        assert!(!filter_matches_counted(b"q", bomb.as_bytes(), &mut steps));
        assert!(steps <= MAX_GLOB_STEPS);
    }

    #[test]
    fn kmp_find() {
        let mut t = Vec::new();
        assert_eq!(find(b"hello", b"ll", &mut t), Some(2));
        assert_eq!(find(b"aaab", b"aab", &mut t), Some(1));
        assert_eq!(find(b"abababc", b"ababc", &mut t), Some(2));
        assert_eq!(find(b"abc", b"abcd", &mut t), None);
        assert_eq!(find(b"abc", b"", &mut t), Some(0));
        assert_eq!(find(b"xyz", b"q", &mut t), None);
    }

    #[test]
    fn name_keys_order_as_bytes() {
        let names: Vec<&[u8]> = vec![
            b"",
            b"a",
            b"a\x01",
            b"ab",
            b"abcdefghijklmnop",
            b"abcdefghijklmnopq",
            b"abcdefghijklmnopa",
            b"abcdefghijklmnoq",
            b"\xff",
            b"\xff\xff",
            b"B",
            b"file00001.txt",
            b"file00001.txt.bak",
            b"file0000",
        ];
        for a in &names {
            for b in &names {
                let by_key = name_key(a).cmp(&name_key(b)).then_with(|| a.cmp(b));
                assert_eq!(by_key, a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn mtime_order() {
        let mut v = vec![5i64, -1, 0, -5, 3, i64::MIN, i64::MAX];
        v.sort_by_key(|t| time_key(*t));
        assert_eq!(v, vec![-1, -5, i64::MIN, 0, 3, 5, i64::MAX]);
    }

    // ---- Real directories ----

    struct TempDir(PathBuf);
    impl TempDir {
        fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "vsftpd-rs-listing-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
        fn path(&self) -> &Path {
            &self.0
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn set_mtime(p: &Path, t: i64) {
        let f = std::fs::File::options()
            .write(true)
            .open(p)
            .or_else(|_| std::fs::File::open(p))
            .unwrap();
        let time = if t >= 0 {
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(t as u64)
        } else {
            std::time::UNIX_EPOCH - std::time::Duration::from_secs(t.unsigned_abs())
        };
        f.set_modified(time).unwrap();
    }

    /// A tree: /pub/{b.txt, a.txt, .hidden, sub/{deep/, x}, link -> a.txt, c.doc}, /top.txt.
    fn tree() -> (TempDir, OwnedFd) {
        let t = TempDir::new("tree");
        let r = t.path();
        std::fs::create_dir_all(r.join("pub/sub/deep")).unwrap();
        std::fs::write(r.join("top.txt"), b"top").unwrap();
        std::fs::write(r.join("pub/b.txt"), b"bb").unwrap();
        std::fs::write(r.join("pub/a.txt"), b"a").unwrap();
        std::fs::write(r.join("pub/c.doc"), b"cccc").unwrap();
        std::fs::write(r.join("pub/.hidden"), b"").unwrap();
        std::fs::write(r.join("pub/sub/x"), b"xx").unwrap();
        std::os::unix::fs::symlink("a.txt", r.join("pub/link")).unwrap();
        set_mtime(&r.join("pub/a.txt"), NOW - 10);
        set_mtime(&r.join("pub/b.txt"), NOW - 30);
        set_mtime(&r.join("pub/c.doc"), NOW - 20);
        set_mtime(&r.join("pub/.hidden"), NOW - 40);
        set_mtime(&r.join("pub/sub/x"), NOW - 50);
        let fd = fs::open_dir(r).unwrap();
        (t, fd)
    }

    fn run(
        root: &OwnedFd,
        cwd: &str,
        arg: &str,
        kind: ListKind,
        ctx: &ListContext<'_>,
    ) -> (ListOutcome, String) {
        let mut out = Vec::new();
        let o = list_with(
            root.as_fd(),
            cwd.as_bytes(),
            arg.as_bytes(),
            kind,
            ctx,
            &mut out,
        )
        .unwrap();
        (o, String::from_utf8_lossy(&out).into_owned())
    }

    fn nlst(root: &OwnedFd, cwd: &str, arg: &str, ctx: &ListContext<'_>) -> String {
        let (o, s) = run(root, cwd, arg, ListKind::Nlst, ctx);
        assert_eq!(o, ListOutcome::Listed, "{arg}");
        s
    }

    /// The name column of each long line (after perms, nlink, owner, group, size and the three
    /// date fields).
    fn names_of(listing: &str) -> Vec<String> {
        listing
            .split_terminator("\r\n")
            .map(|l| {
                let mut rest = l;
                for _ in 0..8 {
                    rest = rest.trim_start();
                    rest = &rest[rest.find(' ').unwrap()..];
                }
                rest[1..].to_string()
            })
            .collect()
    }

    #[test]
    fn nlst_names_and_prefixes() {
        let (_t, root) = tree();
        let ctx = ListContext::new(NOW);
        assert_eq!(
            nlst(&root, "/pub", "", &ctx),
            "a.txt\r\nb.txt\r\nc.doc\r\nlink\r\nsub\r\n"
        );
        assert_eq!(
            nlst(&root, "/", "pub", &ctx),
            "pub/a.txt\r\npub/b.txt\r\npub/c.doc\r\npub/link\r\npub/sub\r\n"
        );
        assert_eq!(
            nlst(&root, "/", "/pub/", &ctx),
            "/pub/a.txt\r\n/pub/b.txt\r\n/pub/c.doc\r\n/pub/link\r\n/pub/sub\r\n"
        );
        // The link to a.txt matches by where it leads (Debian's vsftpd); from `/`, where no
        // `link` is, by its own name.
        assert_eq!(
            nlst(&root, "/pub", "*.txt", &ctx),
            "a.txt\r\nb.txt\r\nlink\r\n"
        );
        assert_eq!(nlst(&root, "/pub", "link", &ctx), "");
        assert_eq!(
            nlst(&root, "/", "pub/*.txt", &ctx),
            "pub/a.txt\r\npub/b.txt\r\n"
        );
        assert_eq!(nlst(&root, "/pub", "a.txt", &ctx), "a.txt\r\nlink\r\n");
        assert_eq!(nlst(&root, "/pub", "/top.txt", &ctx), "/top.txt\r\n");
        assert_eq!(nlst(&root, "/pub", "nothing", &ctx), "");
        assert_eq!(
            nlst(&root, "/pub", "-F", &ctx),
            "a.txt\r\nb.txt\r\nc.doc\r\nlink@\r\nsub/\r\n"
        );
        // A filter starting with '.' implies -a.
        assert_eq!(nlst(&root, "/pub", ".h*", &ctx), ".hidden\r\n");
        assert_eq!(
            nlst(&root, "/pub", "-a", &ctx),
            ".\r\n..\r\n.hidden\r\na.txt\r\nb.txt\r\nc.doc\r\nlink\r\nsub\r\n"
        );
        let mut dots = ctx;
        dots.force_dot_files = true;
        assert_eq!(
            nlst(&root, "/pub", "", &dots),
            ".hidden\r\na.txt\r\nb.txt\r\nc.doc\r\nlink\r\nsub\r\n"
        );
        // ~ is the login directory.
        let mut home = ctx;
        home.home = b"/pub";
        assert_eq!(
            nlst(&root, "/", "~/sub", &home),
            "/pub/sub/deep\r\n/pub/sub/x\r\n"
        );
        // hide_file.
        let hide = |n: &[u8]| n.ends_with(b".txt");
        let mut hidden = ctx;
        hidden.hidden = Some(&hide);
        assert_eq!(nlst(&root, "/pub", "", &hidden), "c.doc\r\nlink\r\nsub\r\n");
    }

    #[test]
    fn long_listing_and_order() {
        let (_t, root) = tree();
        let ctx = ListContext::new(NOW);
        let (o, s) = run(&root, "/pub", "", ListKind::List, &ctx);
        assert_eq!(o, ListOutcome::Listed);
        assert_eq!(
            names_of(&s),
            ["a.txt", "b.txt", "c.doc", "link -> a.txt", "sub"]
        );
        let meta = std::fs::metadata(_t.path().join("pub/a.txt")).unwrap();
        use std::os::unix::fs::MetadataExt;
        let first = s.split("\r\n").next().unwrap();
        assert_eq!(
            first,
            format!(
                "{}    1 {:<8} {:<8}        1 Mar 15 12:34 a.txt",
                std::str::from_utf8(&format_perms(meta.mode())).unwrap(),
                meta.uid(),
                meta.gid()
            )
        );
        // -t: newest first; -tr: oldest first; -r: reverse names.
        // (The link to a.txt matches `*.*` by where it leads.)
        let (_, s) = run(&root, "/pub", "-t *.*", ListKind::List, &ctx);
        assert_eq!(names_of(&s), ["link -> a.txt", "a.txt", "c.doc", "b.txt"]);
        let (_, s) = run(&root, "/pub", "-tr *.*", ListKind::List, &ctx);
        assert_eq!(names_of(&s), ["b.txt", "c.doc", "a.txt", "link -> a.txt"]);
        let (_, s) = run(&root, "/pub", "-r", ListKind::Nlst, &ctx);
        assert_eq!(s, "sub\r\nlink\r\nc.doc\r\nb.txt\r\na.txt\r\n");
        // NLST -l is long.
        let (_, s) = run(&root, "/pub", "-l a.txt", ListKind::Nlst, &ctx);
        assert_eq!(names_of(&s), ["a.txt", "link -> a.txt"]);
        // LIST of a plain file: its one line.
        let (_, s) = run(&root, "/", "pub/b.txt", ListKind::List, &ctx);
        assert_eq!(names_of(&s), ["b.txt"]);
        // -F in long format marks directories only.
        let (_, s) = run(&root, "/pub", "-F", ListKind::List, &ctx);
        assert_eq!(
            names_of(&s),
            ["a.txt", "b.txt", "c.doc", "link -> a.txt", "sub/"]
        );
        // STAT adds -a.
        let (_, s) = run(&root, "/pub", "", ListKind::Stat, &ctx);
        assert_eq!(
            names_of(&s),
            [
                ".",
                "..",
                ".hidden",
                "a.txt",
                "b.txt",
                "c.doc",
                "link -> a.txt",
                "sub"
            ]
        );
    }

    #[test]
    fn missing_and_unreadable() {
        let (t, root) = tree();
        let ctx = ListContext::new(NOW);
        assert_eq!(
            run(&root, "/", "nodir/", ListKind::List, &ctx),
            (ListOutcome::NotOpened, String::new())
        );
        assert_eq!(
            run(&root, "/", "nodir/*", ListKind::Nlst, &ctx),
            (ListOutcome::NotOpened, String::new())
        );
        assert_eq!(
            run(&root, "/gone", "", ListKind::List, &ctx),
            (ListOutcome::NotOpened, String::new())
        );
        // Not world-readable with anon_world_readable_only.
        std::fs::create_dir(t.path().join("private")).unwrap();
        std::fs::write(t.path().join("private/f"), b"").unwrap();
        let mut p = std::fs::metadata(t.path().join("private"))
            .unwrap()
            .permissions();
        use std::os::unix::fs::PermissionsExt;
        p.set_mode(0o750);
        std::fs::set_permissions(t.path().join("private"), p).unwrap();
        let mut anon = ctx;
        anon.world_readable_only = true;
        assert_eq!(
            run(&root, "/", "private", ListKind::Nlst, &anon),
            (ListOutcome::NotOpened, String::new())
        );
        assert_eq!(nlst(&root, "/", "private", &ctx), "private/f\r\n");
        assert_eq!(
            nlst(&root, "/", "pub/sub", &anon),
            "pub/sub/deep\r\npub/sub/x\r\n"
        );
    }

    #[test]
    fn confined_to_root() {
        let (t, root) = tree();
        let ctx = ListContext::new(NOW);
        // ".." beyond the root lists the root.
        let top = nlst(&root, "/", "", &ctx);
        assert_eq!(top, "pub\r\ntop.txt\r\n");
        assert_eq!(
            nlst(&root, "/", "../../..", &ctx),
            "../../../pub\r\n../../../top.txt\r\n"
        );
        assert_eq!(
            nlst(&root, "/pub", "../..", &ctx),
            "../../pub\r\n../../top.txt\r\n"
        );
        // A symlink out of the root resolves inside it.
        std::os::unix::fs::symlink("/", t.path().join("pub/escape")).unwrap();
        assert_eq!(
            nlst(&root, "/", "pub/escape", &ctx),
            "pub/escape/pub\r\npub/escape/top.txt\r\n"
        );
        // ".." at the root is the root itself (same inode line as ".").
        let (_, s) = run(&root, "/", "-a", ListKind::List, &ctx);
        let lines: Vec<&str> = s.split("\r\n").collect();
        assert!(lines[0].ends_with(" ."));
        assert!(lines[1].ends_with(" .."));
        assert_eq!(
            lines[0].trim_end_matches('.'),
            lines[1].trim_end_matches('.')
        );
        // Through the escape symlink too.
        let (_, s) = run(&root, "/", "-a pub/escape", ListKind::List, &ctx);
        let lines: Vec<&str> = s.split("\r\n").collect();
        assert_eq!(
            lines[0].trim_end_matches('.'),
            lines[1].trim_end_matches('.')
        );
        // NUL and overlong names fail cleanly.
        assert_eq!(
            run(&root, "/", "pub\0x", ListKind::Nlst, &ctx),
            (ListOutcome::Listed, String::new())
        );
        let long_name = "x".repeat(5000);
        assert_eq!(
            run(&root, "/", &long_name, ListKind::Nlst, &ctx),
            (ListOutcome::Listed, String::new())
        );
        let long_dir = format!("{long_name}/");
        assert_eq!(
            run(&root, "/", &long_dir, ListKind::Nlst, &ctx).0,
            ListOutcome::NotOpened
        );
    }

    #[test]
    fn recursion() {
        let (_t, root) = tree();
        let mut ctx = ListContext::new(NOW);
        // Without ls_recurse_enable, -R is ignored.
        assert_eq!(
            nlst(&root, "/pub", "-R", &ctx),
            "a.txt\r\nb.txt\r\nc.doc\r\nlink\r\nsub\r\n"
        );
        ctx.recurse_allowed = true;
        assert_eq!(
            nlst(&root, "/pub", "-R", &ctx),
            ".:\r\na.txt\r\nb.txt\r\nc.doc\r\nlink\r\nsub\r\n\r\n./sub:\r\n./sub/deep\r\n./sub/x\r\n\r\n./sub/deep:\r\n"
        );
        assert_eq!(
            nlst(&root, "/", "-R pub/sub", &ctx),
            "pub/sub:\r\npub/sub/deep\r\npub/sub/x\r\n\r\npub/sub/deep:\r\n"
        );
        assert_eq!(
            nlst(&root, "/", "-Ra /pub/sub", &ctx),
            "/pub/sub:\r\n/pub/sub/.\r\n/pub/sub/..\r\n/pub/sub/deep\r\n/pub/sub/x\r\n\r\n/pub/sub/deep:\r\n/pub/sub/deep/.\r\n/pub/sub/deep/..\r\n"
        );
        let (_, s) = run(&root, "/", "-R /", ListKind::List, &ctx);
        assert!(s.starts_with("/:\r\n"));
        assert!(s.contains("\r\n\r\n//pub:\r\n"));
        assert!(s.contains("\r\n\r\n//pub/sub:\r\n"));
        // Symlinks are not followed.
        assert!(!s.contains("//pub/link:"));
    }

    #[test]
    fn recursion_depth_is_bounded() {
        let t = TempDir::new("deep");
        let mut p = t.path().to_path_buf();
        for _ in 0..(MAX_LIST_DEPTH + 5) {
            p.push("d");
        }
        std::fs::create_dir_all(&p).unwrap();
        let root = fs::open_dir(t.path()).unwrap();
        let mut ctx = ListContext::new(NOW);
        ctx.recurse_allowed = true;
        let s = nlst(&root, "/", "-R", &ctx);
        let headers = s.matches(":\r\n").count();
        assert_eq!(headers, MAX_LIST_DEPTH + 1);
    }

    #[test]
    fn many_entries_one_pass() {
        let t = TempDir::new("many");
        for i in 0..2000 {
            std::fs::write(t.path().join(format!("f{i:05}")), b"").unwrap();
        }
        let root = fs::open_dir(t.path()).unwrap();
        let ctx = ListContext::new(NOW);
        let (_, s) = run(&root, "/", "", ListKind::List, &ctx);
        let lines: Vec<&str> = s.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), 2000);
        assert!(lines[0].ends_with(" f00000"));
        assert!(lines[1999].ends_with(" f01999"));
        // Chunked writes reach the sink whole.
        struct Counting(Vec<u8>, usize);
        impl Write for Counting {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.1 += 1;
                self.0.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut c = Counting(Vec::new(), 0);
        list(root.as_fd(), b"/", b"", true, &ctx, &mut c).unwrap();
        assert_eq!(String::from_utf8(c.0).unwrap(), s);
        assert!(
            c.1 >= s.len() / WRITE_CHUNK && c.1 <= s.len() / WRITE_CHUNK + 2,
            "{}",
            c.1
        );
    }

    #[test]
    fn write_errors_surface() {
        let (_t, root) = tree();
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from(io::ErrorKind::BrokenPipe))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let ctx = ListContext::new(NOW);
        let e = list(root.as_fd(), b"/pub", b"", true, &ctx, &mut Broken).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn odd_names_are_bytes() {
        let t = TempDir::new("odd");
        let names: [&[u8]; 4] = [b"sp ace", b"\xff\xfe", b"new\nline", b"tab\t"];
        for n in names {
            std::fs::write(t.path().join(OsStr::from_bytes(n)), b"").unwrap();
        }
        let root = fs::open_dir(t.path()).unwrap();
        let ctx = ListContext::new(NOW);
        let mut out = Vec::new();
        list(root.as_fd(), b"/", b"", false, &ctx, &mut out).unwrap();
        assert_eq!(
            out,
            b"new\nline\r\nsp ace\r\ntab\t\r\n\xff\xfe\r\n".to_vec()
        );
    }
}

//! File-system primitives that confine every path to a session root.
//!
//! `openat2(RESOLVE_IN_ROOT)` makes the kernel treat a directory fd as `/` for the whole
//! resolution, symlinks and `..` included, so a path from the network can never name a file
//! outside the root, with or without chroot(2).
//!
//! Kernels before 5.6 (RHEL 8's 4.18) have no openat2. There every path goes through a
//! confined walk instead (`walk_beneath`): one component at a time, each opened with
//! `openat(dir, name, O_PATH | O_NOFOLLOW | …)` so the kernel never follows a symlink itself;
//! a symlink is read with readlinkat and its target walked in its place (an absolute target
//! from the root), `..` pops a stack of the directories the walk opened (never above the
//! root, even if a directory is moved meanwhile), at most 40 symlinks in all (then ELOOP).
//! It gives openat2's answers (the unit tests compare the two on one tree), at the cost of one
//! openat per component. Which one is used is decided once per process ([`probe_openat2`],
//! which src/main.rs calls first thing, so the listener's sessions inherit the answer); a call
//! on the normal path costs one relaxed atomic load more.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use super::cerr;

/// What a listing or a SIZE needs to know about a file, without a dependency on libc types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub ino: u64,
    pub dev: u64,
}

impl FileStat {
    pub fn is_dir(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }
    pub fn is_regular(&self) -> bool {
        self.mode & 0o170000 == 0o100000
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & 0o170000 == 0o120000
    }

    fn from_libc(st: &libc::stat) -> Self {
        FileStat {
            mode: st.st_mode,
            nlink: st.st_nlink,
            uid: st.st_uid,
            gid: st.st_gid,
            size: u64::try_from(st.st_size).unwrap_or(0),
            mtime: st.st_mtime,
            ino: st.st_ino,
            dev: st.st_dev,
        }
    }
}

fn cstring(path: &[u8]) -> io::Result<CString> {
    CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))
}

/// How `open_in_root` should open the final component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenKind {
    /// A file to read (O_RDONLY).
    Read,
    /// A directory, for listing or as a cwd (O_RDONLY|O_DIRECTORY).
    Directory,
    /// Only a handle to stat (O_PATH); opens directories and files alike without reading.
    Path,
}

/// Opens `path` (relative or absolute, as the client gave it after our own normalising)
/// beneath `root`, with the root acting as `/` for symlinks and `..` (RESOLVE_IN_ROOT, or the
/// confined walk without openat2).
pub fn open_in_root(root: BorrowedFd<'_>, path: &[u8], kind: OpenKind) -> io::Result<OwnedFd> {
    // openat2 rejects flags that do not apply (O_PATH takes only O_CLOEXEC and friends).
    let flags = libc::O_CLOEXEC
        | match kind {
            OpenKind::Read => libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY,
            OpenKind::Directory => libc::O_RDONLY | libc::O_DIRECTORY,
            OpenKind::Path => libc::O_PATH,
        };
    let fd = open_beneath(root, path, flags, 0)?;
    if kind == OpenKind::Read {
        clear_nonblock(fd.as_raw_fd())?;
    }
    Ok(fd)
}

/// Whether openat2 is there: not probed yet, yes, no (ENOSYS: Linux before 5.6).
const OPENAT2_UNKNOWN: u8 = 0;
const OPENAT2_YES: u8 = 1;
const OPENAT2_NO: u8 = 2;
static OPENAT2: AtomicU8 = AtomicU8::new(OPENAT2_UNKNOWN);

/// fs.protected_symlinks, which the walk applies itself since the kernel never follows a
/// symlink for it; read by [`probe_openat2`] when it finds no openat2 (before any chroot),
/// assumed on (every distribution's default) when it could not be read.
static PROTECTED_SYMLINKS: AtomicBool = AtomicBool::new(true);

/// Decides, once per process, whether paths are resolved by openat2 or by the confined walk,
/// and says which (`true`: openat2). Call it at start-up, before any chroot and before forking
/// sessions, so that they inherit the answer; otherwise the first path opened decides (an
/// ENOSYS from openat2). A seccomp filter of a container that answers EPERM for system calls
/// it does not know (Docker before 20.10) counts as "no openat2" here.
pub fn probe_openat2() -> bool {
    match OPENAT2.load(Ordering::Relaxed) {
        OPENAT2_YES => return true,
        OPENAT2_NO => return false,
        _ => {}
    }
    match openat2_raw(libc::AT_FDCWD, c"/", libc::O_PATH | libc::O_CLOEXEC, 0) {
        Ok(_) => {
            OPENAT2.store(OPENAT2_YES, Ordering::Relaxed);
            true
        }
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
            if let Ok(v) = std::fs::read("/proc/sys/fs/protected_symlinks") {
                PROTECTED_SYMLINKS.store(v.first() != Some(&b'0'), Ordering::Relaxed);
            }
            OPENAT2.store(OPENAT2_NO, Ordering::Relaxed);
            false
        }
        // Something else went wrong (no fd left?): openat2 exists; let a later call decide.
        Err(_) => true,
    }
}

/// Opens `path` beneath `root` with open(2) `flags` (and `mode` when creating): openat2 with
/// RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, or the confined walk where there is none.
fn open_beneath(root: BorrowedFd<'_>, path: &[u8], flags: i32, mode: u32) -> io::Result<OwnedFd> {
    if OPENAT2.load(Ordering::Relaxed) != OPENAT2_NO {
        match openat2_beneath(root, path, flags, mode) {
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                OPENAT2.store(OPENAT2_NO, Ordering::Relaxed);
            }
            r => return r,
        }
    }
    walk_beneath(root, path, flags, mode)
}

/// openat2(root, path, {flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS}).
fn openat2_beneath(
    root: BorrowedFd<'_>,
    path: &[u8],
    flags: i32,
    mode: u32,
) -> io::Result<OwnedFd> {
    openat2_raw(root.as_raw_fd(), &cstring(path)?, flags, mode)
}

/// openat2 from `dirfd` (a directory fd, or AT_FDCWD for the probe).
fn openat2_raw(dirfd: i32, path: &CStr, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    // open_how is non-exhaustive in libc (the kernel may grow it); zero it, then fill.
    // SAFETY: open_how is a plain C struct of integers, for which all-zero is valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = u64::try_from(flags).unwrap_or(0);
    how.mode = u64::from(mode & 0o7777);
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `path` is a valid NUL-terminated string, `how` a valid open_how whose size we
    // pass; the kernel reads both and returns a new fd or -1.
    let fd = cerr(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dirfd,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })?;
    let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The kernel's limits: a path of PATH_MAX bytes or more is ENAMETOOLONG, and one resolution
/// follows at most MAXSYMLINKS symlinks in all (then ELOOP).
const PATH_MAX: usize = 4096;
const MAXSYMLINKS: u32 = 40;

fn errno(e: i32) -> io::Error {
    io::Error::from_raw_os_error(e)
}

/// openat(dir, name, flags, mode).
fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: a directory fd we borrow and a NUL-terminated name; openat returns a new fd or -1.
    let fd = cerr(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags,
            libc::c_uint::from(mode & 0o7777),
        )
    })?;
    // SAFETY: a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The target of the symlink `name` in `dir`, or of the symlink `dir` itself when `name` is
/// empty (an O_PATH | O_NOFOLLOW fd); EINVAL when it is not a symlink.
fn readlink(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; PATH_MAX];
    // SAFETY: `buf` has buf.len() writable bytes; readlinkat writes at most that many.
    let n = cerr(unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast::<libc::c_char>(),
            buf.len(),
        )
    })?;
    let n = usize::try_from(n).unwrap_or(PATH_MAX);
    if n >= PATH_MAX {
        return Err(errno(libc::ENAMETOOLONG));
    }
    buf.truncate(n);
    Ok(buf)
}

/// The kernel's fs.protected_symlinks check (may_follow_link), made before the walk follows
/// the symlink `name` in `dir`: in a sticky world-writable directory, only a symlink owned by
/// the follower or by the directory's owner is followed; EACCES otherwise.
fn may_follow(dir: BorrowedFd<'_>, name: &CStr, protected: bool) -> io::Result<()> {
    if !protected {
        return Ok(());
    }
    let parent = fstat(dir)?;
    if parent.mode & 0o1002 != 0o1002 {
        return Ok(());
    }
    let link = lstat_at_cstr(dir, name)?;
    // SAFETY: geteuid cannot fail. (The kernel compares the fsuid, which follows the euid.)
    let euid = unsafe { libc::geteuid() };
    if link.uid == euid || link.uid == parent.uid {
        Ok(())
    } else {
        Err(errno(libc::EACCES))
    }
}

/// What one component turned out to be.
enum Step {
    /// A directory to go on from.
    Dir(OwnedFd),
    /// The last component, opened.
    Done(OwnedFd),
    /// A symlink, with its target.
    Link(Vec<u8>),
}

/// The confined walk: `openat2(root, path, {flags, mode, RESOLVE_IN_ROOT |
/// RESOLVE_NO_MAGICLINKS})` done one component at a time, for kernels without openat2.
///
/// - `path` splits at `/`; an absolute path, or a symlink whose target is absolute, starts at
///   the root; `.` is skipped; `..` pops the stack of the directories the walk opened (at the
///   root it stays there), after the search-permission check the kernel's lookup makes;
/// - every component before the last is opened with O_PATH | O_DIRECTORY | O_NOFOLLOW: a
///   directory is pushed; a symlink (ENOTDIR) is read with readlinkat and its target takes its
///   place in the rest of the path, walked from the directory holding it; anything else is
///   ENOTDIR;
/// - the last one is opened with the caller's flags and O_NOFOLLOW, and a symlink there (ELOOP;
///   ENOTDIR with O_DIRECTORY; with O_PATH, the fd of a symlink) is resolved the same way, also
///   with O_CREAT: creating through a dangling symlink creates its target beneath the root.
///   With O_CREAT | O_EXCL it is EEXIST, as the kernel does not follow it then;
/// - a trailing `/` makes the last component a directory (with O_CREAT: EISDIR); a last `.` or
///   `..`, or `/` alone, opens the directory reached (with O_CREAT: EISDIR, EEXIST with
///   O_EXCL);
/// - more than 40 symlinks in all: ELOOP; fs.protected_symlinks applies as in the kernel.
///
/// The kernel never follows a symlink itself here, so nothing can lead it out of the root. One
/// difference with openat2 remains: RESOLVE_NO_MAGICLINKS refuses /proc's magic links (ELOOP),
/// which the walk reads as text and resolves beneath the root like any other symlink; both
/// stay inside (and a /proc inside a session root is nothing we serve).
fn walk_beneath(root: BorrowedFd<'_>, path: &[u8], flags: i32, mode: u32) -> io::Result<OwnedFd> {
    walk(
        root,
        path,
        flags,
        mode,
        PROTECTED_SYMLINKS.load(Ordering::Relaxed),
    )
}

/// [`walk_beneath`], with fs.protected_symlinks given (`protected`).
fn walk(
    root: BorrowedFd<'_>,
    path: &[u8],
    flags: i32,
    mode: u32,
    protected: bool,
) -> io::Result<OwnedFd> {
    if path.is_empty() || path.contains(&0) {
        return Err(errno(libc::ENOENT));
    }
    if path.len() >= PATH_MAX {
        return Err(errno(libc::ENAMETOOLONG));
    }
    let create = flags & libc::O_CREAT != 0;
    let excl = create && flags & libc::O_EXCL != 0;
    // The kernel looks the last component up (search permission on its directory) before it
    // can say EISDIR or EEXIST; so does the walk, with a throw-away O_PATH open of ".".
    let search = |dir: BorrowedFd<'_>| openat(dir, c".", libc::O_PATH | libc::O_CLOEXEC, 0);
    let open_dot = |dir: BorrowedFd<'_>| {
        if create {
            drop(search(dir)?);
            Err(errno(if excl { libc::EEXIST } else { libc::EISDIR }))
        } else {
            openat(dir, c".", flags, 0)
        }
    };
    // The directories the walk opened beneath the root, each a child of the one before; it is
    // in the last one (in the root when there is none).
    let mut dirs: Vec<OwnedFd> = Vec::new();
    // What is left to walk, from `pos`; a symlink's target is spliced in where it stood.
    let mut rest: Vec<u8> = path.to_vec();
    let mut pos = 0usize;
    let mut links = 0u32;
    loop {
        while rest.get(pos) == Some(&b'/') {
            pos += 1;
        }
        let tail = rest.get(pos..).unwrap_or_default();
        let len = tail.iter().position(|&b| b == b'/').unwrap_or(tail.len());
        let comp = tail.get(..len).unwrap_or_default();
        // Empty, or what follows the component from its slash on.
        let after = tail.get(len..).unwrap_or_default();
        let last = after.iter().all(|&b| b == b'/');
        let cur = dirs.last().map_or(root, |d| d.as_fd());
        match comp {
            b"" => return open_dot(cur),
            b"." if last => return open_dot(cur),
            b"." => {}
            b".." => {
                // Only a permission check: the fd is the real parent, which may be above the
                // root; the walk goes back to the one it came from.
                drop(openat(cur, c"..", libc::O_PATH | libc::O_CLOEXEC, 0)?);
                dirs.pop();
                if last {
                    return open_dot(dirs.last().map_or(root, |d| d.as_fd()));
                }
            }
            _ => {
                let name = cstring(comp)?;
                let link_or = |e: io::Error| match readlink(cur, &name) {
                    Ok(target) => Ok(Step::Link(target)),
                    Err(_) => Err(e),
                };
                let step = if !last {
                    let dir_flags =
                        libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                    match openat(cur, &name, dir_flags, 0) {
                        Ok(fd) => Step::Dir(fd),
                        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => link_or(e)?,
                        Err(e) => return Err(e),
                    }
                } else if !after.is_empty() {
                    // `name/`: a directory, or a symlink to one.
                    if create {
                        drop(search(cur)?);
                        return Err(errno(libc::EISDIR));
                    }
                    let f = flags | libc::O_DIRECTORY | libc::O_NOFOLLOW;
                    match openat(cur, &name, f, 0) {
                        Ok(fd) => Step::Done(fd),
                        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP)) => {
                            link_or(e)?
                        }
                        Err(e) => return Err(e),
                    }
                } else if excl {
                    return openat(cur, &name, flags | libc::O_NOFOLLOW, mode);
                } else {
                    match openat(cur, &name, flags | libc::O_NOFOLLOW, mode) {
                        // O_PATH | O_NOFOLLOW opens a symlink itself.
                        Ok(fd) if flags & libc::O_PATH != 0 && fstat(fd.as_fd())?.is_symlink() => {
                            Step::Link(readlink(fd.as_fd(), c"")?)
                        }
                        Ok(fd) => Step::Done(fd),
                        Err(e)
                            if e.raw_os_error() == Some(libc::ELOOP)
                                || (e.raw_os_error() == Some(libc::ENOTDIR)
                                    && flags & libc::O_DIRECTORY != 0) =>
                        {
                            link_or(e)?
                        }
                        Err(e) => return Err(e),
                    }
                };
                match step {
                    Step::Done(fd) => return Ok(fd),
                    Step::Dir(fd) => dirs.push(fd),
                    Step::Link(target) => {
                        links += 1;
                        if links > MAXSYMLINKS {
                            return Err(errno(libc::ELOOP));
                        }
                        may_follow(cur, &name, protected)?;
                        let mut next = target;
                        next.extend_from_slice(after);
                        if next.first() == Some(&b'/') {
                            dirs.clear();
                        }
                        rest = next;
                        pos = 0;
                        continue;
                    }
                }
            }
        }
        pos += len;
    }
}

/// O_NONBLOCK at open keeps a FIFO planted in the tree from hanging the session; reads are
/// then done blocking as usual.
fn clear_nonblock(fd: i32) -> io::Result<()> {
    // SAFETY: fcntl on an fd we own, with integer arguments only.
    let fl = cerr(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    // SAFETY: as above.
    cerr(unsafe { libc::fcntl(fd, libc::F_SETFL, fl & !libc::O_NONBLOCK) })?;
    Ok(())
}

/// How an upload opens its file (vsftpd: STOR, APPE, STOU, REST+STOR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteHow {
    /// Create it or open it as it is (no O_TRUNC: the caller truncates once it holds the lock,
    /// as vsftpd does, so a locked reader never sees it emptied under it).
    CreateOrOpen,
    /// Create it; fail if it exists (STOU).
    CreateNew,
    /// Create it or append to it (APPE).
    Append,
}

/// Opens `path` beneath `root` for writing, creating it with `mode` (the process umask applies).
/// A FIFO or device never blocks the open (O_NONBLOCK, cleared again) and is refused after.
pub fn open_for_write(
    root: BorrowedFd<'_>,
    path: &[u8],
    how: WriteHow,
    mode: u32,
) -> io::Result<OwnedFd> {
    let flags = libc::O_CLOEXEC
        | libc::O_WRONLY
        | libc::O_CREAT
        | libc::O_NONBLOCK
        | libc::O_NOCTTY
        | match how {
            WriteHow::CreateOrOpen => 0,
            WriteHow::CreateNew => libc::O_EXCL,
            WriteHow::Append => libc::O_APPEND,
        };
    let owned = open_beneath(root, path, flags, mode & 0o7777)?;
    let fd = owned.as_raw_fd();
    clear_nonblock(fd)?;
    if !fstat(owned.as_fd())?.is_regular() {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    Ok(owned)
}

/// The directory holding the last component of `path` (opened beneath `root`) and that
/// component's name. `.`, `..` and an empty name are refused (EINVAL): no write command may
/// name a directory by them.
fn parent_and_name(root: BorrowedFd<'_>, path: &[u8]) -> io::Result<(OwnedFd, CString)> {
    let trimmed = {
        let mut end = path.len();
        while end > 1 && path.get(end - 1) == Some(&b'/') {
            end -= 1;
        }
        path.get(..end).unwrap_or(path)
    };
    let (dir, name) = match trimmed.iter().rposition(|&b| b == b'/') {
        Some(0) => (&b"/"[..], trimmed.get(1..).unwrap_or_default()),
        Some(i) => (
            trimmed.get(..i).unwrap_or_default(),
            trimmed.get(i + 1..).unwrap_or_default(),
        ),
        None => (&b"."[..], trimmed),
    };
    if name.is_empty() || name == b"." || name == b".." {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let parent = open_in_root(root, dir, OpenKind::Directory)?;
    Ok((parent, cstring(name)?))
}

/// mkdir beneath `root` (the process umask applies to `mode`).
pub fn mkdir_in_root(root: BorrowedFd<'_>, path: &[u8], mode: u32) -> io::Result<()> {
    let (dir, name) = parent_and_name(root, path)?;
    // SAFETY: a directory fd we own and a NUL-terminated single-component name.
    cerr(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode & 0o7777) })?;
    Ok(())
}

/// Removes a file (not a directory) beneath `root`; a symlink itself, not its target.
pub fn unlink_in_root(root: BorrowedFd<'_>, path: &[u8]) -> io::Result<()> {
    let (dir, name) = parent_and_name(root, path)?;
    // SAFETY: as in `mkdir_in_root`.
    cerr(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) })?;
    Ok(())
}

/// Removes an empty directory beneath `root`.
pub fn rmdir_in_root(root: BorrowedFd<'_>, path: &[u8]) -> io::Result<()> {
    let (dir, name) = parent_and_name(root, path)?;
    // SAFETY: as in `mkdir_in_root`.
    cerr(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), libc::AT_REMOVEDIR) })?;
    Ok(())
}

/// Renames `from` to `to`, both beneath `root` (replacing `to` as rename(2) does).
pub fn rename_in_root(root: BorrowedFd<'_>, from: &[u8], to: &[u8]) -> io::Result<()> {
    let (fdir, fname) = parent_and_name(root, from)?;
    let (tdir, tname) = parent_and_name(root, to)?;
    // SAFETY: two directory fds we own and two NUL-terminated single-component names.
    cerr(unsafe {
        libc::renameat(
            fdir.as_raw_fd(),
            fname.as_ptr(),
            tdir.as_raw_fd(),
            tname.as_ptr(),
        )
    })?;
    Ok(())
}

/// chmod of what `path` names beneath `root` (a final symlink is followed, within the root).
pub fn chmod_in_root(root: BorrowedFd<'_>, path: &[u8], mode: u32) -> io::Result<()> {
    let target = open_in_root(root, path, OpenKind::Path)?;
    // fchmodat2 (Linux 6.6) changes an O_PATH fd's file; older kernels say ENOSYS, and
    // then the file is opened for reading to fchmod it.
    // SAFETY: an O_PATH fd we own, the empty NUL-terminated path and AT_EMPTY_PATH.
    let r = unsafe {
        libc::syscall(
            FCHMODAT2,
            target.as_raw_fd(),
            c"".as_ptr(),
            mode & 0o7777,
            libc::AT_EMPTY_PATH,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() != Some(libc::ENOSYS) {
        return Err(e);
    }
    let readable = open_in_root(root, path, OpenKind::Read)?;
    // SAFETY: fchmod on an fd we own.
    cerr(unsafe { libc::fchmod(readable.as_raw_fd(), mode & 0o7777) })?;
    Ok(())
}

/// The fchmodat2 system call's number (the same on x86_64 and aarch64; libc may not name it).
const FCHMODAT2: libc::c_long = 452;

/// Sets the access and modification times of what `path` names beneath `root` to `secs`
/// (MDTM's set form, MFMT).
pub fn set_mtime_in_root(root: BorrowedFd<'_>, path: &[u8], secs: i64) -> io::Result<()> {
    let target = open_in_root(root, path, OpenKind::Path)?;
    let t = libc::timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: an O_PATH fd we own, the empty path with AT_EMPTY_PATH, and two timespecs.
    cerr(unsafe {
        libc::utimensat(
            target.as_raw_fd(),
            c"".as_ptr(),
            times.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    })?;
    Ok(())
}

/// Cuts (or extends) an open file to `len` bytes.
pub fn truncate(fd: BorrowedFd<'_>, len: u64) -> io::Result<()> {
    let len = i64::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    // SAFETY: ftruncate on an fd we borrow.
    cerr(unsafe { libc::ftruncate(fd.as_raw_fd(), len) })?;
    Ok(())
}

/// Waits for an advisory lock on the whole file (lock_upload_files): a write lock for an
/// upload, a read lock for a download. Released when the fd is closed.
pub fn lock_whole(fd: BorrowedFd<'_>, write: bool) -> io::Result<()> {
    // SAFETY: flock is a plain C struct of integers; all-zero is valid (whole file from 0).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = if write { libc::F_WRLCK } else { libc::F_RDLCK } as i16;
    fl.l_whence = libc::SEEK_SET as i16;
    loop {
        // SAFETY: fcntl F_SETLKW with a valid flock struct on an fd we borrow.
        let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETLKW, &fl) };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Gives an open file to `uid`:`gid` (chown_uploads, in the helper).
pub fn fchown(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: fchown on an fd we borrow, integer ids.
    cerr(unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) })?;
    Ok(())
}

/// Sets an open file's mode.
pub fn fchmod(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    // SAFETY: fchmod on an fd we borrow.
    cerr(unsafe { libc::fchmod(fd.as_raw_fd(), mode & 0o7777) })?;
    Ok(())
}

/// Sets the process umask; returns the previous one.
pub fn set_umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask & 0o777) }
}

/// Opens a directory by an ordinary path, for the session root itself (outside any root).
pub fn open_dir(path: &std::path::Path) -> io::Result<OwnedFd> {
    let c = cstring(path.as_os_str().as_bytes())?;
    // SAFETY: `c` is NUL-terminated; open returns a new fd or -1.
    let fd = cerr(unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Can this process write to the directory `fd`, by its effective ids (faccessat with
/// AT_EACCESS on the fd itself)? vsftpd's test of a jail's root.
pub fn writable(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: faccessat with a directory fd we borrow and the constant NUL-terminated path "."
    // (the directory itself); it only reads its arguments.
    unsafe { libc::faccessat(fd.as_raw_fd(), c".".as_ptr(), libc::W_OK, libc::AT_EACCESS) == 0 }
}

/// fstat(2) of an open file.
pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<FileStat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is a valid out-pointer for one struct stat.
    cerr(unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: fstat returned 0, so it filled `st`.
    Ok(FileStat::from_libc(unsafe { &st.assume_init() }))
}

/// Calls `f` with the name of every entry of an open directory, "." and ".." included, in
/// readdir order, until `max` names have been seen or `f` returns `false`. One pass and no
/// allocation per entry: the name is borrowed from libc's dirent buffer for the call only.
/// The fd is duplicated, so the caller keeps its own for the `*_cstr` calls below.
pub fn for_each_dir_entry(
    dir: BorrowedFd<'_>,
    max: usize,
    mut f: impl FnMut(&std::ffi::CStr) -> bool,
) -> io::Result<()> {
    /// Closes the DIR* however the walk ends (also on a panic in `f`).
    struct DirGuard(*mut libc::DIR);
    impl Drop for DirGuard {
        fn drop(&mut self) {
            // SAFETY: the pointer came from a successful fdopendir and is closed only here.
            unsafe { libc::closedir(self.0) };
        }
    }
    let dup = dir.try_clone_to_owned()?;
    let raw = dup.as_raw_fd();
    // SAFETY: fdopendir takes ownership of `raw` on success (we forget `dup` then); NULL on error,
    // in which case `dup` still owns and closes the fd.
    let dirp = unsafe { libc::fdopendir(raw) };
    if dirp.is_null() {
        return Err(io::Error::last_os_error());
    }
    std::mem::forget(dup);
    let guard = DirGuard(dirp);
    // SAFETY: a valid DIR*; restart at the top in case the fd was read before.
    unsafe { libc::rewinddir(guard.0) };
    let mut seen = 0usize;
    while seen < max {
        // SAFETY: errno is thread-local; reset it to tell end-of-directory from an error.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: `guard.0` is a valid DIR* until the guard drops.
        let ent = unsafe { libc::readdir64(guard.0) };
        if ent.is_null() {
            let err = io::Error::last_os_error();
            return if err.raw_os_error() == Some(0) {
                Ok(())
            } else {
                Err(err)
            };
        }
        seen += 1;
        // SAFETY: readdir returned a valid dirent whose d_name is NUL-terminated; the borrow ends
        // before the next readdir call on this DIR*.
        let name = unsafe { std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()) };
        if !f(name) {
            break;
        }
    }
    Ok(())
}

/// lstat of one entry of an open directory, named as readdir gives it (no allocation).
pub fn lstat_at_cstr(dir: BorrowedFd<'_>, name: &std::ffi::CStr) -> io::Result<FileStat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: valid dirfd, NUL-terminated name, and an out-pointer for one struct stat.
    cerr(unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    // SAFETY: fstatat returned 0, so it filled `st`.
    Ok(FileStat::from_libc(unsafe { &st.assume_init() }))
}

/// readlink of one entry of an open directory into `buf` (replacing its contents), at most
/// 4095 bytes of target as vsftpd; `buf` is reused across calls, so no allocation per link.
pub fn readlink_at_cstr(
    dir: BorrowedFd<'_>,
    name: &std::ffi::CStr,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    buf.clear();
    buf.resize(4095, 0);
    // SAFETY: `buf` has buf.len() writable bytes; readlinkat writes at most that many.
    let n = cerr(unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast::<libc::c_char>(),
            buf.len(),
        )
    });
    match n {
        Ok(n) => {
            buf.truncate(usize::try_from(n).unwrap_or(0));
            Ok(())
        }
        Err(e) => {
            buf.clear();
            Err(e)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::AtomicUsize;

    /// A fresh directory in the temp dir, removed on drop.
    struct Tmp(PathBuf);

    impl Tmp {
        fn new(what: &str) -> Tmp {
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p = std::env::temp_dir()
                .join(format!("vsftpd-rs-fs-{what}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir(&p).unwrap();
            Tmp(p)
        }
    }

    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const READ: i32 = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
    const DIR: i32 = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    const PATH: i32 = libc::O_PATH | libc::O_CLOEXEC;
    const WRITE: i32 =
        libc::O_WRONLY | libc::O_CREAT | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;

    fn long_name(n: usize) -> String {
        "n".repeat(n)
    }

    /// The test tree: nested directories, `..`, relative and absolute symlinks, a loop, links
    /// that point outside (to /etc, to `/`, up past the root, to `outside`), dangling ones, a
    /// chain of 41 links, a FIFO; an `etc/passwd` of its own so that an escape that stays
    /// inside finds something.
    fn build(root: &Path, outside: &Path) {
        let mk = |p: &str| std::fs::create_dir_all(root.join(p)).unwrap();
        let file = |p: &str, text: &str| std::fs::write(root.join(p), text).unwrap();
        let ln = |p: &str, target: &str| symlink(target, root.join(p)).unwrap();
        mk("d1/d2/d3");
        mk("etc");
        mk("empty");
        file("d1/f", "f");
        file("d1/d2/d3/file", "file");
        file("etc/passwd", "not the real one\n");
        file(&long_name(255), "long");
        ln("d1/up", "..");
        ln("d1/l_f", "f");
        ln("d1/l_d2", "d2");
        ln("d1/l_d2_slash", "d2/");
        ln("d1/d2/abs_up", "/d1");
        ln("d1/d2/d3/deep_up", "../../../../../..");
        ln("abs_d3", "/d1/d2/d3");
        ln("abs_file", "/d1/f");
        ln("loop1", "loop2");
        ln("loop2", "loop1");
        ln("selfl", "selfl");
        ln("esc_etc", "/etc");
        ln("esc_up", "../../../../../../../../etc");
        ln("esc_root", "/");
        ln("esc_dotdot", "..");
        ln("esc_dotdots", "../..//../.");
        ln("dang", "nonexistent");
        ln("dang_abs", "/newdir/x");
        ln("dang_nested", "d1/missing");
        ln("dang_up", "../../../../newtop");
        let out = format!("{}/created", outside.display());
        ln("dang_out", &out);
        ln("dang_dir", "nodir/");
        ln("dang_chain", "dang");
        ln("slash_link", "d1/");
        ln("file_slash_link", "d1/f/");
        ln("dot_link", ".");
        ln("dotdot_link", "..");
        ln("to_fifo", "fifo");
        ln("to_loop_dir", "loop1/x");
        for i in 0..=40 {
            let target = if i == 40 {
                "d1/f".to_string()
            } else {
                format!("chain_{}", i + 1)
            };
            ln(&format!("chain_{i}"), &target);
        }
        let fifo = CString::new(root.join("fifo").as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path; mkfifo only reads it.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    }

    fn atoms() -> Vec<String> {
        let mut v: Vec<String> = [
            "",
            ".",
            "..",
            "d1",
            "d1/f",
            "d1/d2",
            "d1/d2/d3/file",
            "d1/up",
            "d1/up/d1/f",
            "d1/l_f",
            "d1/l_d2",
            "d1/l_d2_slash",
            "d1/l_d2/d3",
            "d1/d2/abs_up",
            "d1/d2/abs_up/f",
            "d1/d2/d3/deep_up",
            "d1/d2/d3/deep_up/etc/passwd",
            "abs_d3",
            "abs_d3/file",
            "abs_d3/../..",
            "abs_file",
            "loop1",
            "loop1/x",
            "selfl",
            "to_loop_dir",
            "esc_etc",
            "esc_etc/passwd",
            "esc_up",
            "esc_up/passwd",
            "esc_root",
            "esc_root/etc/passwd",
            "esc_dotdot",
            "esc_dotdot/etc",
            "esc_dotdots",
            "dang",
            "dang_abs",
            "dang_nested",
            "dang_up",
            "dang_out",
            "dang_dir",
            "dang_chain",
            "slash_link",
            "slash_link/f",
            "file_slash_link",
            "dot_link",
            "dot_link/d1",
            "dotdot_link",
            "chain_0",
            "chain_1",
            "chain_20/..",
            "fifo",
            "to_fifo",
            "missing",
            "missing/..",
            "etc/passwd",
            "d1/f/x",
            "d1/f/..",
            "../../etc/passwd",
            "/etc/passwd",
            "//d1///d2//",
            "empty/..",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(long_name(255));
        v.push(long_name(256));
        v.push(format!("d1/{}", long_name(256)));
        v
    }

    fn paths() -> Vec<Vec<u8>> {
        let atoms = atoms();
        let mut out: Vec<String> = Vec::new();
        for a in &atoms {
            for form in [
                a.clone(),
                format!("/{a}"),
                format!("{a}/"),
                format!("{a}/."),
                format!("{a}/.."),
                format!("./{a}"),
                format!("../{a}"),
                format!("{a}//"),
            ] {
                out.push(form);
            }
        }
        let seconds = ["d1", "f", "..", "etc/passwd", "esc_etc", "x", "."];
        for a in &atoms {
            for b in seconds {
                out.push(format!("{a}/{b}"));
            }
        }
        out.push("/".into());
        out.push("//".into());
        out.push("d1/\0f".into());
        out.push("a/".repeat(2100));
        let mut v: Vec<Vec<u8>> = out.into_iter().map(String::into_bytes).collect();
        v.push(b"d1/\xff".to_vec());
        v
    }

    /// Every inode of the tree under `root` (symlinks not followed), by its path from `root`.
    fn inodes(root: &Path) -> BTreeMap<(u64, u64), String> {
        let mut map = BTreeMap::new();
        let mut todo = vec![(root.to_path_buf(), String::from("/"))];
        while let Some((p, name)) = todo.pop() {
            let md = std::fs::symlink_metadata(&p).unwrap();
            map.insert((md.dev(), md.ino()), name.clone());
            if md.is_dir() {
                for e in std::fs::read_dir(&p).unwrap() {
                    let e = e.unwrap();
                    let n = e.file_name().to_string_lossy().into_owned();
                    let child = if name == "/" {
                        format!("/{n}")
                    } else {
                        format!("{name}/{n}")
                    };
                    todo.push((e.path(), child));
                }
            }
        }
        map
    }

    /// The tree as text: every entry with its type, symlink target and size.
    fn listing(root: &Path) -> Vec<String> {
        let mut v = Vec::new();
        let mut todo = vec![root.to_path_buf()];
        while let Some(p) = todo.pop() {
            let md = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let what = if md.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&p).unwrap().display())
            } else if md.is_dir() {
                for e in std::fs::read_dir(&p).unwrap() {
                    todo.push(e.unwrap().path());
                }
                "dir".to_string()
            } else {
                format!("{:o} {}", md.mode() & 0o170000, md.len())
            };
            v.push(format!("{rel} {what}"));
        }
        v.sort();
        v
    }

    /// What an open gave, comparable across two trees: the errno, or the path from the root of
    /// the file opened and its access mode.
    fn outcome(
        r: io::Result<OwnedFd>,
        map: &BTreeMap<(u64, u64), String>,
    ) -> Result<(String, i32), i32> {
        match r {
            Err(e) => Err(e.raw_os_error().unwrap()),
            Ok(fd) => {
                let st = fstat(fd.as_fd()).unwrap();
                // SAFETY: fcntl F_GETFL on an fd we own.
                let fl = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
                let name = map
                    .get(&(st.dev, st.ino))
                    .cloned()
                    .unwrap_or_else(|| format!("OUTSIDE THE ROOT: {st:?}"));
                Ok((name, fl & (libc::O_ACCMODE | libc::O_PATH | libc::O_APPEND)))
            }
        }
    }

    fn protected_symlinks_sysctl() -> bool {
        std::fs::read("/proc/sys/fs/protected_symlinks").map_or(true, |v| v.first() != Some(&b'0'))
    }

    /// openat2 is there on the machines the tests run on; without it there is nothing to
    /// compare the walk with.
    fn have_openat2() -> bool {
        let t = Tmp::new("probe");
        let root = open_dir(&t.0).unwrap();
        match openat2_beneath(root.as_fd(), b".", PATH, 0) {
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                eprintln!("no openat2 on this kernel: nothing to compare the walk with");
                false
            }
            _ => true,
        }
    }

    #[test]
    fn walk_reads_as_openat2() {
        if !have_openat2() {
            return;
        }
        let protected = protected_symlinks_sysctl();
        let t = Tmp::new("read");
        let tree = t.0.join("tree");
        let outside = t.0.join("outside");
        std::fs::create_dir(&tree).unwrap();
        std::fs::create_dir(&outside).unwrap();
        build(&tree, &outside);
        let root = open_dir(&tree).unwrap();
        let map = inodes(&tree);
        let (mut n, mut opened) = (0, 0);
        let mut errors: BTreeMap<i32, usize> = BTreeMap::new();
        let mut differ = Vec::new();
        for path in paths() {
            for (what, flags) in [("read", READ), ("dir", DIR), ("path", PATH)] {
                let kernel = outcome(openat2_beneath(root.as_fd(), &path, flags, 0), &map);
                let ours = outcome(walk(root.as_fd(), &path, flags, 0, protected), &map);
                if kernel != ours {
                    differ.push(format!(
                        "{what} {:?}: openat2 {kernel:?}, walk {ours:?}",
                        String::from_utf8_lossy(&path)
                    ));
                }
                match &ours {
                    Ok((name, _)) => {
                        assert!(!name.starts_with("OUTSIDE"), "{path:?}: {name}");
                        opened += 1;
                    }
                    Err(e) => *errors.entry(*e).or_insert(0) += 1,
                }
                n += 1;
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
        // Enough of each outcome for the comparison to mean something.
        eprintln!("{n} opens, {opened} opened, errors by errno: {errors:?}");
        assert!(n > 2500 && opened > 800, "{n} {opened}");
        for e in [libc::ENOENT, libc::ENOTDIR, libc::ELOOP, libc::ENAMETOOLONG] {
            assert!(errors.get(&e).copied().unwrap_or(0) > 0, "{e}: {errors:?}");
        }
    }

    #[test]
    fn walk_creates_as_openat2() {
        if !have_openat2() {
            return;
        }
        let protected = protected_symlinks_sysctl();
        let t = Tmp::new("write");
        let outside = t.0.join("outside");
        std::fs::create_dir(&outside).unwrap();
        let (a, b) = (t.0.join("a"), t.0.join("b"));
        for tree in [&a, &b] {
            std::fs::create_dir(tree).unwrap();
            build(tree, &outside);
        }
        let (ra, rb) = (open_dir(&a).unwrap(), open_dir(&b).unwrap());
        let writes = [
            ("create", WRITE),
            ("excl", WRITE | libc::O_EXCL),
            ("append", WRITE | libc::O_APPEND),
        ];
        let mut differ = Vec::new();
        let mut errors: BTreeMap<i32, usize> = BTreeMap::new();
        let mut paths = paths();
        paths.extend(
            [
                "new1",
                "d1/new2",
                "d1/up/new3",
                "abs_d3/new4",
                "esc_etc/new5",
                "esc_up/new6",
                "esc_root/new7",
                "esc_dotdot/new8",
                "d1/d2/d3/deep_up/new9",
                "dang",
                "dang_chain",
                "dang_abs",
                "dang_nested",
                "dang_up",
                "dang_out",
                "dang_dir",
                "missing/",
                "d1/l_f",
            ]
            .iter()
            .map(|s| s.as_bytes().to_vec()),
        );
        // Each tree gets the same opens in the same order, so the files created by one open
        // are there for the next in both.
        for (what, flags) in writes {
            for path in &paths {
                let ka = openat2_beneath(ra.as_fd(), path, flags, 0o644);
                let kb = walk(rb.as_fd(), path, flags, 0o644, protected);
                let kernel = outcome(ka, &inodes(&a));
                let ours = outcome(kb, &inodes(&b));
                if let Err(e) = &ours {
                    *errors.entry(*e).or_insert(0) += 1;
                }
                if kernel != ours {
                    differ.push(format!(
                        "{what} {:?}: openat2 {kernel:?}, walk {ours:?}",
                        String::from_utf8_lossy(path)
                    ));
                }
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
        for e in [libc::EISDIR, libc::EEXIST, libc::ELOOP, libc::ENOENT] {
            assert!(errors.get(&e).copied().unwrap_or(0) > 0, "{e}: {errors:?}");
        }
        assert_eq!(listing(&a), listing(&b));
        // Created through links, beneath the root: the dangling ones made their targets.
        for p in [
            "nonexistent",
            "newtop",
            "d1/missing",
            "etc/new5",
            "new7",
            "new9",
        ] {
            assert!(b.join(p).is_file(), "{p}");
        }
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert!(!t.0.join("newtop").exists());
    }

    #[test]
    fn walk_counts_links_as_the_kernel() {
        let t = Tmp::new("links");
        let outside = t.0.join("outside");
        std::fs::create_dir(&outside).unwrap();
        let tree = t.0.join("tree");
        std::fs::create_dir(&tree).unwrap();
        build(&tree, &outside);
        let root = open_dir(&tree).unwrap();
        let w = |p: &str| walk(root.as_fd(), p.as_bytes(), READ, 0, false);
        // chain_1 .. chain_40: 40 links; chain_0 one more.
        assert!(w("chain_1").is_ok());
        assert_eq!(w("chain_0").unwrap_err().raw_os_error(), Some(libc::ELOOP));
        assert_eq!(w("loop1").unwrap_err().raw_os_error(), Some(libc::ELOOP));
        let passwd = fstat(w("esc_up/passwd").unwrap().as_fd()).unwrap();
        let ours = std::fs::metadata(tree.join("etc/passwd")).unwrap();
        assert_eq!((passwd.dev, passwd.ino), (ours.dev(), ours.ino()));
    }

    #[test]
    fn walk_applies_protected_symlinks() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return; // giving a symlink to another user needs root
        }
        let t = Tmp::new("sticky");
        let sticky = t.0.join("sticky");
        std::fs::create_dir(&sticky).unwrap();
        std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::fs::write(sticky.join("f"), "f").unwrap();
        symlink("f", sticky.join("theirs")).unwrap();
        symlink("f", sticky.join("mine")).unwrap();
        std::os::unix::fs::lchown(sticky.join("theirs"), Some(65534), Some(65534)).unwrap();
        let root = open_dir(&t.0).unwrap();
        let w = |p: &str, protected: bool| walk(root.as_fd(), p.as_bytes(), READ, 0, protected);
        assert_eq!(
            w("sticky/theirs", true).unwrap_err().raw_os_error(),
            Some(libc::EACCES)
        );
        assert!(w("sticky/theirs", false).is_ok());
        assert!(w("sticky/mine", true).is_ok());
        // Not sticky: followed whoever owns it.
        std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(w("sticky/theirs", true).is_ok());
        std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
        if protected_symlinks_sysctl() && have_openat2() {
            let k = openat2_beneath(root.as_fd(), b"sticky/theirs", READ, 0);
            assert_eq!(k.unwrap_err().raw_os_error(), Some(libc::EACCES));
        }
    }

    /// Makes this thread's file-system accesses as `uid` (setfsuid is per thread, so other
    /// tests are not affected); back to root on drop.
    struct FsUid;

    impl FsUid {
        fn set(uid: u32) -> FsUid {
            // SAFETY: setfsuid with an integer; it changes only this thread's fsuid.
            unsafe { libc::setfsuid(uid) };
            // SAFETY: as above; an invalid id (-1) changes nothing and returns the current one.
            assert_eq!(unsafe { libc::setfsuid(u32::MAX) }, uid as i32);
            FsUid
        }
    }

    impl Drop for FsUid {
        fn drop(&mut self) {
            // SAFETY: as in `set`.
            unsafe { libc::setfsuid(0) };
        }
    }

    /// Search and read permissions, checked as a user without privileges, give the same
    /// answers: directories without x, without r, without either, and links into them.
    #[test]
    fn walk_checks_permissions_as_openat2() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 || !have_openat2() {
            return; // needs setfsuid to another user
        }
        let t = Tmp::new("perms");
        let tree = t.0.join("tree");
        std::fs::create_dir(&tree).unwrap();
        for (dir, mode) in [
            ("nox", 0o644),
            ("nor", 0o311),
            ("none", 0o000),
            ("ok", 0o755),
        ] {
            let d = tree.join(dir);
            std::fs::create_dir(&d).unwrap();
            std::fs::create_dir(d.join("sub")).unwrap();
            std::fs::write(d.join("f"), "f").unwrap();
            symlink("f", d.join("lf")).unwrap();
            symlink(format!("{dir}/sub"), tree.join(format!("to_{dir}"))).unwrap();
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        std::fs::write(tree.join("unreadable"), "u").unwrap();
        std::fs::set_permissions(
            tree.join("unreadable"),
            std::fs::Permissions::from_mode(0o000),
        )
        .unwrap();
        let root = open_dir(&tree).unwrap();
        let map = inodes(&tree);
        let mut differ = Vec::new();
        let mut denied = 0;
        {
            let _as_nobody = FsUid::set(65534);
            for dir in ["nox", "nor", "none", "ok"] {
                let forms = [
                    dir.to_string(),
                    format!("{dir}/"),
                    format!("{dir}/."),
                    format!("{dir}/.."),
                    format!("{dir}/f"),
                    format!("{dir}/lf"),
                    format!("{dir}/sub"),
                    format!("{dir}/sub/"),
                    format!("{dir}/sub/.."),
                    format!("{dir}/sub/../f"),
                    format!("to_{dir}"),
                    format!("to_{dir}/"),
                    format!("to_{dir}/.."),
                    format!("{dir}/new"),
                    "unreadable".to_string(),
                ];
                for path in forms {
                    for (what, flags, mode) in [
                        ("read", READ, 0),
                        ("dir", DIR, 0),
                        ("path", PATH, 0),
                        ("create", WRITE, 0o644),
                    ] {
                        let k = openat2_beneath(root.as_fd(), path.as_bytes(), flags, mode);
                        let w = walk(root.as_fd(), path.as_bytes(), flags, mode, false);
                        let (kernel, ours) = (outcome(k, &map), outcome(w, &map));
                        if ours == Err(libc::EACCES) {
                            denied += 1;
                        }
                        if kernel != ours {
                            differ.push(format!(
                                "{what} {path:?}: openat2 {kernel:?}, walk {ours:?}"
                            ));
                        }
                    }
                }
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
        assert!(denied > 20, "{denied}");
    }

    #[test]
    fn probe_decides_once() {
        let first = probe_openat2();
        assert_eq!(probe_openat2(), first);
        assert_ne!(OPENAT2.load(Ordering::Relaxed), OPENAT2_UNKNOWN);
    }
}

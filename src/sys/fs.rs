//! File-system primitives that confine every path to a session root.
//!
//! `openat2(RESOLVE_IN_ROOT)` makes the kernel treat a directory fd as `/` for the whole
//! resolution, symlinks and `..` included, so a path from the network can never name a file
//! outside the root, with or without chroot(2).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

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
/// beneath `root`, with the root acting as `/` for symlinks and `..` (RESOLVE_IN_ROOT).
pub fn open_in_root(root: BorrowedFd<'_>, path: &[u8], kind: OpenKind) -> io::Result<OwnedFd> {
    let c = cstring(path)?;
    // openat2 rejects flags that do not apply (O_PATH takes only O_CLOEXEC and friends).
    let flags = libc::O_CLOEXEC
        | match kind {
            OpenKind::Read => libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY,
            OpenKind::Directory => libc::O_RDONLY | libc::O_DIRECTORY,
            OpenKind::Path => libc::O_PATH,
        };
    // open_how is non-exhaustive in libc (the kernel may grow it); zero it, then fill.
    // SAFETY: open_how is a plain C struct of integers, for which all-zero is valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = u64::try_from(flags).unwrap_or(0);
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `c` is a valid NUL-terminated string, `how` a valid open_how whose size we pass;
    // the kernel reads both and returns a new fd or -1.
    let fd = cerr(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })?;
    let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    if kind == OpenKind::Read {
        clear_nonblock(fd)?;
    }
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
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
    let c = cstring(path)?;
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
    // SAFETY: open_how is a plain C struct of integers, for which all-zero is valid.
    let mut how_: libc::open_how = unsafe { std::mem::zeroed() };
    how_.flags = u64::try_from(flags).unwrap_or(0);
    how_.mode = u64::from(mode & 0o7777);
    how_.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: as in `open_in_root`.
    let fd = cerr(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            c.as_ptr(),
            &how_ as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })?;
    let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    clear_nonblock(fd)?;
    if !fstat(std::os::fd::AsFd::as_fd(&owned))?.is_regular() {
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

//! What the logs (`crate::log`) need from the kernel beyond std: vsftpd's lock around each line
//! it appends to a log file, and a session process's standard error pointed at its helper.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::cerr;

/// Waits for a write lock on the whole file (fcntl F_SETLKW, as vsftpd takes before each line
/// unless no_log_lock): lines of sessions sharing a file never mix, even where O_APPEND alone
/// would not keep them apart (NFS). [`unlock`] right after the write.
pub fn lock(fd: BorrowedFd<'_>) -> io::Result<()> {
    set_lock(fd, libc::F_WRLCK, libc::F_SETLKW)
}

/// Releases [`lock`].
pub fn unlock(fd: BorrowedFd<'_>) -> io::Result<()> {
    set_lock(fd, libc::F_UNLCK, libc::F_SETLK)
}

fn set_lock(fd: BorrowedFd<'_>, kind: libc::c_int, cmd: libc::c_int) -> io::Result<()> {
    // SAFETY: flock is a plain C struct of integers; all-zero is valid (whole file from 0).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    loop {
        // SAFETY: fcntl with a lock command and a valid flock struct on an fd we borrow.
        match cerr(unsafe { libc::fcntl(fd.as_raw_fd(), cmd, &fl) }) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other.map(drop),
        }
    }
}

/// Makes `fd` this process's standard error (fd 2): what a confined session process writes
/// there (the seccomp trap's report, a panic) reaches its helper, which logs it.
pub fn redirect_stderr(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: dup2 of an fd we borrow onto fd 2; the old fd 2 is closed by the call.
    cerr(unsafe { libc::dup2(fd.as_raw_fd(), 2) })?;
    Ok(())
}

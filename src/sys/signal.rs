//! Signals as events on a pipe (the self-pipe trick), so the listener's poll loop sees them.
//!
//! std retries EINTR inside accept() and read(), so a flag set by a handler would not be seen
//! until the next connection; a byte on a pipe wakes poll() at once.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use super::cerr;

pub use libc::{SIGCHLD, SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGTERM};

static PIPE_WRITE_END: AtomicI32 = AtomicI32::new(-1);
/// The signals that arrived since the last drain, one bit per number: a loop busy with other
/// work (the listener accepting a crowd) asks without a system call.
static PENDING: AtomicU64 = AtomicU64::new(0);

fn bit(sig: i32) -> u64 {
    u32::try_from(sig).map_or(0, |s| 1u64.checked_shl(s).unwrap_or(0))
}

extern "C" fn on_signal(sig: libc::c_int) {
    // Lock-free, hence async-signal-safe.
    PENDING.fetch_or(bit(sig), Ordering::Relaxed);
    let fd = PIPE_WRITE_END.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = u8::try_from(sig).unwrap_or(0);
        let saved = io::Error::last_os_error().raw_os_error().unwrap_or(0);
        // SAFETY: write(2) is async-signal-safe; the buffer is one valid byte on our stack.
        // A full pipe just drops the byte: a pending byte for the same signal already exists.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
        // SAFETY: restore errno so the interrupted code sees its own error value.
        unsafe { *libc::__errno_location() = saved };
    }
}

/// The read end of the signal pipe: each byte read is the number of a signal that arrived.
pub struct SignalPipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl SignalPipe {
    /// Routes `signals` to a new pipe. Call once, before any fork.
    pub fn install(signals: &[i32]) -> io::Result<SignalPipe> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: pipe2 writes two fds into the array we pass.
        cerr(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) })?;
        // SAFETY: both fds were just created and are owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        PIPE_WRITE_END.store(write.as_raw_fd(), Ordering::Relaxed);
        for &sig in signals {
            set_handler(sig, on_signal as *const () as usize)?;
        }
        Ok(SignalPipe { read, write })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// True when `sig` arrived and has not been drained yet.
    pub fn pending(&self, sig: i32) -> bool {
        PENDING.load(Ordering::Relaxed) & bit(sig) != 0
    }

    /// Reads every pending signal number.
    pub fn drain(&self) -> Vec<i32> {
        // Before the read: a signal between the two leaves its bit set and its byte read,
        // which costs at most one early return from a busy loop.
        PENDING.store(0, Ordering::Relaxed);
        let mut out = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: read into a stack buffer of buf.len() bytes.
            let n =
                unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            let Ok(n) = usize::try_from(n) else { break };
            if n == 0 {
                break;
            }
            out.extend(buf.iter().take(n).map(|&b| i32::from(b)));
        }
        out
    }

    /// In a forked session: restore default dispositions and close this copy of the pipe, so
    /// the session neither writes into the listener's pipe nor keeps its fds. The object must
    /// not be used again in that process (the session leaves through `exit_now`).
    pub fn detach_child_copy(&self, signals: &[i32]) {
        PIPE_WRITE_END.store(-1, Ordering::Relaxed);
        for &sig in signals {
            let _ = set_handler(sig, libc::SIG_DFL);
        }
        super::process::close_inherited(&[self.read.as_fd(), self.write.as_fd()]);
    }
}

fn set_handler(sig: i32, handler: usize) -> io::Result<()> {
    // SAFETY: a zeroed sigaction is valid; we then set the handler and flags.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = handler;
    sa.sa_flags = libc::SA_RESTART;
    // SAFETY: sa_mask is a valid sigset inside `sa`.
    unsafe { libc::sigemptyset(&mut sa.sa_mask) };
    // SAFETY: installs a handler that only performs async-signal-safe work (see on_signal).
    cerr(unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) })?;
    Ok(())
}

/// Ignores SIGPIPE: a client that closes its data connection must give EPIPE, not kill us.
pub fn ignore_sigpipe() -> io::Result<()> {
    set_handler(libc::SIGPIPE, libc::SIG_IGN)
}

//! fork, exit, reaping, sessions and process attributes.

use std::io;

use super::cerr;

/// What `fork` returned, in the process that sees it.
pub enum Fork {
    Parent(i32),
    Child,
}

/// Forks the process, after checking that it is single-threaded.
///
/// After a fork only the calling thread exists in the child, so a lock held by another thread
/// (malloc's, stdout's) would stay locked forever. The daemon never starts threads; this check
/// turns a future mistake into an error instead of a rare deadlock, and keeps the call safe.
pub fn fork() -> io::Result<Fork> {
    if thread_count()? != 1 {
        return Err(io::Error::other(
            "refusing to fork a multi-threaded process",
        ));
    }
    // SAFETY: the process has exactly one thread (checked above), so the child inherits no lock
    // held by a thread that does not exist in it.
    let pid = cerr(unsafe { libc::fork() })?;
    Ok(if pid == 0 {
        Fork::Child
    } else {
        Fork::Parent(pid)
    })
}

/// The number of threads of this process: /proc/self/task has one entry per thread, and the
/// kernel reports its link count as 2 + threads, so one stat answers (fork is on every
/// session's path, and reading /proc/self/stat cost ten system calls).
fn thread_count() -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let links = std::fs::metadata("/proc/self/task")?.nlink();
    links
        .checked_sub(2)
        .filter(|&n| n > 0)
        .ok_or_else(|| io::Error::other("unexpected link count of /proc/self/task"))
}

/// Runs `f` in a forked child and returns its result (0–255), for a check that must run with
/// other credentials than this process's (the child may change them freely: they die with
/// it). The child leaves through [`exit_now`]; nothing of it reaches this process but the code.
pub fn run_in_child(f: impl FnOnce() -> i32) -> io::Result<i32> {
    match fork()? {
        Fork::Child => exit_now(f()),
        Fork::Parent(pid) => wait_child(pid),
    }
}

/// Ends the process at once, without running atexit handlers or flushing stdio buffers that
/// a forked child shares with its parent's copy.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Reaps one exited child without blocking: `Some(pid)` or `None` when none is waiting.
pub fn reap_one() -> Option<i32> {
    let mut status = 0;
    // SAFETY: waitpid with a valid out-pointer for the status.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    (pid > 0).then_some(pid)
}

/// Waits for a given child, blocking; returns its exit code (128+signal when killed).
pub fn wait_child(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid with a valid out-pointer for the status.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == -1 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        break;
    }
    if libc::WIFEXITED(status) {
        Ok(libc::WEXITSTATUS(status))
    } else {
        Ok(128 + libc::WTERMSIG(status))
    }
}

/// Starts a new session so the daemon loses its controlling terminal (background=YES).
pub fn setsid() -> io::Result<()> {
    // SAFETY: no arguments; fails harmlessly if already a group leader.
    cerr(unsafe { libc::setsid() })?;
    Ok(())
}

pub fn getpid() -> i32 {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() }
}

pub fn getppid() -> i32 {
    // SAFETY: getppid cannot fail.
    unsafe { libc::getppid() }
}

pub fn geteuid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// Sets no_new_privs: nothing this process or its descendants run can gain privilege.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cerr(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
    Ok(())
}

/// Asks the kernel to send `sig` to this process when its parent dies.
pub fn set_parent_death_signal(sig: i32) -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cerr(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig, 0, 0, 0) })?;
    Ok(())
}

/// Sends a signal to a process.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill with integer arguments only.
    cerr(unsafe { libc::kill(pid, sig) })?;
    Ok(())
}

/// Lets a session keep the memory that one large listing freed, for the next, up to `bytes`.
/// By default glibc returns buffers over 128 KiB to the kernel when they are freed, and the
/// next LIST of a 10,000-entry directory faulted them in again page by page (a twentieth of its
/// time). Buffers above `bytes` are still mapped and unmapped on their own.
pub fn keep_freed_memory(bytes: usize) {
    let limit = i32::try_from(bytes).unwrap_or(i32::MAX);
    // SAFETY: mallopt takes two integers and only changes malloc's thresholds; called before
    // the session allocates its working buffers, in a single-threaded process.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, limit);
        libc::mallopt(libc::M_TRIM_THRESHOLD, limit.saturating_mul(2));
    }
}

/// Closes fds that a forked child inherited from objects it will never use again (the
/// listener's sockets and pipes): the child cannot drop objects it only borrows, and it leaves
/// through `exit_now`, so no destructor closes them a second time.
pub fn close_inherited(fds: &[std::os::fd::BorrowedFd<'_>]) {
    use std::os::fd::AsRawFd;
    for fd in fds {
        // SAFETY: closing an fd in a child that never touches the owning object again.
        unsafe { libc::close(fd.as_raw_fd()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_refuses_a_multi_threaded_process() {
        let (stop, wait) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || {
            let _ = wait.recv();
        });
        assert!(thread_count().unwrap() >= 2);
        match fork() {
            Err(e) => assert!(e.to_string().contains("multi-threaded"), "{e}"),
            Ok(Fork::Child) => exit_now(0),
            Ok(Fork::Parent(pid)) => {
                let _ = wait_child(pid);
                panic!("forked a multi-threaded process");
            }
        }
        drop(stop);
        other.join().unwrap();
    }
}

//! Landlock: the file-system rights an FTP session never needs, taken away for good.
//!
//! seccomp decides which system calls the post-login process may make; Landlock decides what
//! the file calls it keeps may do. The ruleset here *handles* only the rights FTP never uses —
//! executing a file, and making character and block devices, sockets and FIFOs — and grants
//! none of them anywhere, so the kernel refuses them (EACCES) on every path, whatever the Unix
//! permissions say. Every other right (read, write, create files and directories, remove,
//! truncate) is not handled, so Unix permissions alone still govern it: a real user without a
//! jail sees the file system exactly as before.
//!
//! One right is handled by any Landlock ruleset whether it names it or not: moving a file to
//! another directory (`LANDLOCK_ACCESS_FS_REFER`, ABI 2). Left so, RNFR/RNTO across directories
//! would fail with EXDEV; the ruleset therefore handles it and grants it beneath `/` (the
//! session's root, after chroot), which gives it back everywhere. ABI 1 (Linux 5.13–5.18) has
//! no such right and refuses every such move, so it counts as no Landlock here ([`MIN_ABI`]).
//! A rename still counts as making what it moves: an existing FIFO, socket or device node
//! cannot be renamed either (a regular file or a directory can).
//!
//! The restriction needs no_new_privs (set before) and lasts for the life of the process. The
//! three calls run before the seccomp filter is loaded, so the filter need not allow them.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::cerr;

/// Access rights (include/uapi/linux/landlock.h, "Filesystem flags").
const ACCESS_FS_EXECUTE: u64 = 1 << 0;
const ACCESS_FS_MAKE_CHAR: u64 = 1 << 6;
const ACCESS_FS_MAKE_SOCK: u64 = 1 << 9;
const ACCESS_FS_MAKE_FIFO: u64 = 1 << 10;
const ACCESS_FS_MAKE_BLOCK: u64 = 1 << 11;
const ACCESS_FS_REFER: u64 = 1 << 13;

/// `landlock_create_ruleset` flag: return the highest ABI version instead of a ruleset.
const CREATE_RULESET_VERSION: u32 = 1 << 0;
/// `enum landlock_rule_type`: a rule on a directory and everything beneath it.
const RULE_PATH_BENEATH: u32 = 1;

/// What the session may never do, anywhere.
const DENIED: u64 = ACCESS_FS_EXECUTE
    | ACCESS_FS_MAKE_CHAR
    | ACCESS_FS_MAKE_BLOCK
    | ACCESS_FS_MAKE_SOCK
    | ACCESS_FS_MAKE_FIFO;

/// The lowest ABI used: the first with `LANDLOCK_ACCESS_FS_REFER` (Linux 5.19).
pub const MIN_ABI: u32 = 2;

/// `struct landlock_ruleset_attr` as of ABI 1; the kernel takes its size from the call, so
/// the later fields (network rights, scopes) stay zero: nothing of them is handled.
#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
}

/// `struct landlock_path_beneath_attr` (packed in the kernel's header too).
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// The kernel's Landlock ABI version; `None` when it has none (ENOSYS: not built in;
/// EOPNOTSUPP: not enabled at boot, e.g. missing from `lsm=`).
pub fn abi_version() -> Option<u32> {
    // SAFETY: with the VERSION flag the kernel reads neither pointer (NULL, size 0) and
    // returns a number or -1.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(v).ok().filter(|&v| v >= 1)
}

/// True when the kernel's Landlock can take the rights away without taking renames too.
pub fn usable() -> bool {
    abi_version().is_some_and(|v| v >= MIN_ABI)
}

/// Restricts this process (and anything it could start) for good: no execute, no device
/// node, socket or FIFO made, on any path. Needs no_new_privs.
pub fn deny_exec_and_special_files() -> io::Result<()> {
    let attr = RulesetAttr {
        handled_access_fs: DENIED | ACCESS_FS_REFER,
    };
    // SAFETY: a valid attribute struct and its exact size; the kernel returns a new fd or -1.
    let fd = cerr(unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &attr as *const RulesetAttr,
            std::mem::size_of::<RulesetAttr>(),
            0u32,
        )
    })?;
    let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    let ruleset = unsafe { OwnedFd::from_raw_fd(fd) };
    // O_PATH: the rule only names the directory, which the user need not be able to read.
    // SAFETY: a NUL-terminated path; the kernel returns a new fd or -1.
    let root = cerr(unsafe {
        libc::open(
            c"/".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })?;
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    let root = unsafe { OwnedFd::from_raw_fd(root) };
    let rule = PathBeneathAttr {
        allowed_access: ACCESS_FS_REFER,
        parent_fd: root.as_raw_fd(),
    };
    // SAFETY: two fds we own and a valid packed rule struct the kernel only reads.
    cerr(unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            RULE_PATH_BENEATH,
            &rule as *const PathBeneathAttr,
            0u32,
        )
    })?;
    // SAFETY: a ruleset fd we own and no flags.
    cerr(unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset.as_raw_fd(), 0u32) })?;
    Ok(())
}

/// The two attempts of the debug-only `SITE SELFTEST` command (session/postlogin/selftest.rs),
/// which shows from outside that the rights are gone. Not in release builds.
#[cfg(debug_assertions)]
pub mod selftest {
    use std::ffi::CString;
    use std::io;
    use std::os::fd::{AsRawFd, BorrowedFd};

    use super::super::cerr;

    /// What kind of node `mknod_at` makes.
    #[derive(Clone, Copy, Debug)]
    pub enum Node {
        Fifo,
        Socket,
    }

    /// execveat of the file `file` (an O_PATH fd) with no arguments: it returns only when the
    /// kernel refused (a close-on-exec fd makes a script fail with ENOENT once its open has
    /// been allowed; a file that is no program fails with ENOEXEC).
    pub fn exec_fd(file: BorrowedFd<'_>) -> io::Error {
        // The kernel never writes through these (C's `char *const argv[]`).
        let argv: [*mut libc::c_char; 2] = [c"selftest".as_ptr().cast_mut(), std::ptr::null_mut()];
        let envp: [*mut libc::c_char; 1] = [std::ptr::null_mut()];
        // SAFETY: an fd we borrow, the empty path with AT_EMPTY_PATH and NULL-terminated
        // arrays of valid strings; on success the process is replaced, else -1 and errno.
        unsafe {
            libc::execveat(
                file.as_raw_fd(),
                c"".as_ptr(),
                argv.as_ptr(),
                envp.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
        io::Error::last_os_error()
    }

    /// mknodat of a FIFO or a socket named `name` in the directory `dir`, mode 0644.
    pub fn mknod_at(dir: BorrowedFd<'_>, name: &[u8], node: Node) -> io::Result<()> {
        let c = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))?;
        let kind = match node {
            Node::Fifo => libc::S_IFIFO,
            Node::Socket => libc::S_IFSOCK,
        };
        // SAFETY: a directory fd we borrow and a NUL-terminated name.
        cerr(unsafe { libc::mknodat(dir.as_raw_fd(), c.as_ptr(), kind | 0o644, 0) })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of include/uapi/linux/landlock.h: from the installed header (linux-libc-dev)
    /// when there is one, else as Linux 6.x defines them.
    #[test]
    fn constants_are_the_kernels() {
        let ours = [
            ("LANDLOCK_ACCESS_FS_EXECUTE", ACCESS_FS_EXECUTE, 0x1),
            ("LANDLOCK_ACCESS_FS_MAKE_CHAR", ACCESS_FS_MAKE_CHAR, 0x40),
            ("LANDLOCK_ACCESS_FS_MAKE_SOCK", ACCESS_FS_MAKE_SOCK, 0x200),
            ("LANDLOCK_ACCESS_FS_MAKE_FIFO", ACCESS_FS_MAKE_FIFO, 0x400),
            ("LANDLOCK_ACCESS_FS_MAKE_BLOCK", ACCESS_FS_MAKE_BLOCK, 0x800),
            ("LANDLOCK_ACCESS_FS_REFER", ACCESS_FS_REFER, 0x2000),
            (
                "LANDLOCK_CREATE_RULESET_VERSION",
                u64::from(CREATE_RULESET_VERSION),
                1,
            ),
        ];
        let header = std::fs::read_to_string("/usr/include/linux/landlock.h").ok();
        for (name, value, known) in ours {
            assert_eq!(value, known, "{name}");
            let Some(h) = &header else { continue };
            // `#define NAME (1ULL << N)` or `(1U << N)`.
            let shift = h
                .lines()
                .find_map(|l| l.strip_prefix("#define ")?.trim().strip_prefix(name))
                .and_then(|rest| rest.split("<<").nth(1))
                .and_then(|n| n.trim().trim_end_matches(')').trim().parse::<u32>().ok())
                .unwrap_or_else(|| panic!("{name} not in the installed landlock.h"));
            assert_eq!(value, 1 << shift, "{name}");
        }
        if let Some(h) = &header {
            assert!(h.contains("LANDLOCK_RULE_PATH_BENEATH = 1,"));
        }
        assert_eq!(RULE_PATH_BENEATH, 1);
        assert_eq!(std::mem::size_of::<RulesetAttr>(), 8);
        assert_eq!(std::mem::size_of::<PathBeneathAttr>(), 12);
    }

    #[test]
    fn the_probe_answers() {
        // Any answer is fine; the integration test insists on a kernel with Landlock.
        if let Some(v) = abi_version() {
            assert!(v >= 1);
        }
    }
}

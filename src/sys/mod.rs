//! The only place where the daemon talks to the kernel or libc directly.
//!
//! vsftpd routes every external API through sysutil.c "as a convenient audit point"; this module
//! is ours. Each wrapper is small and safe to call (fork, whose precondition cannot be checked,
//! is the one `unsafe fn`); each `unsafe` block carries a `// SAFETY:` line. Nothing outside
//! `src/sys/` may use `libc::`, `nix::` or `unsafe`.

pub mod creds;
pub mod crypt;
pub mod fdpass;
pub mod fs;
pub mod landlock;
pub mod logfile;
pub mod net;
pub mod pam;
pub mod process;
pub mod random;
pub mod seccomp;
pub mod signal;
pub mod time;

use std::io;

/// Turns the C convention (-1 and errno) into `io::Result`, once, for every wrapper here.
pub(crate) fn cerr<T: IsMinusOne>(ret: T) -> io::Result<T> {
    if ret.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

pub(crate) trait IsMinusOne {
    fn is_minus_one(&self) -> bool;
}

macro_rules! impl_minus_one {
    ($($t:ty)*) => {$(
        impl IsMinusOne for $t {
            fn is_minus_one(&self) -> bool { *self == -1 }
        }
    )*};
}
impl_minus_one!(i32 i64 isize);

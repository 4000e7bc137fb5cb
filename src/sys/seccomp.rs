//! A system-call allow-list (seccomp-BPF) with a loud failure mode.
//!
//! After login the protocol process parses everything a client sends, so it is the process an
//! attacker gets to run code in. The filter bounds what such code can do to what an FTP
//! session needs: no new sockets (socket(2) fails with EACCES; the helper makes every data
//! socket and passes it over), no exec, no fork, no ptrace, no mount, no executable memory.
//!
//! vsftpd's seccompsandbox.c kills the process on any unexpected call (its "500 OOPS:
//! priv_sock_get_cmd" is what a client then sees, with nothing in any log). Ours traps instead:
//! the default action is SECCOMP_RET_TRAP, and a SIGSYS handler writes
//! `vsftpd: seccomp: blocked system call N` to stderr (fd 2) and exits with status 1, so a
//! missing entry in the list is one `ausyscall N` away from being fixed.
//!
//! The program is classic BPF written by hand, in this order:
//! 1. the audit architecture must be the one we were built for (x86_64 or aarch64), else trap
//!    (a 32-bit `int 0x80` call on x86_64 has other numbers and must not match our list);
//! 2. on x86_64, numbers with the x32 bit (0x4000_0000) set trap, for the same reason;
//! 3. a balanced binary search (`JGE`) on the syscall number over the ranges of numbers that
//!    get the same decision: allow, an errno, trap, or (for one number) an argument check,
//!    whose value must equal one of a list, compared on all 64 bits, else trap.
//!
//! The rules decide as a list read in order would: errno rules first, then allow rules, the
//! first match wins, anything else traps. The search is only the shape of the program: the
//! kernel runs the filter over every syscall number when it is attached (Linux 5.11+, to
//! cache the always-allowed ones) with interrupts off. Over numbers 0..=600 the old linear
//! chain (one `JEQ` per rule) ran ~5x as many instructions, and loading it cost ~130 µs
//! instead of ~20-45 µs, twice per session (docs/PERFORMANCE.md).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::raw::{c_int, c_void};

use super::cerr;

/// Syscall numbers for the build architecture, for callers that grow the list (`nr::SYS_…`).
pub mod nr {
    pub use libc::{
        SYS_brk, SYS_clock_gettime, SYS_clock_nanosleep, SYS_close, SYS_exit, SYS_exit_group,
        SYS_fchmodat, SYS_fcntl, SYS_fstat, SYS_fsync, SYS_ftruncate, SYS_futex, SYS_getdents64,
        SYS_getegid, SYS_geteuid, SYS_getgid, SYS_getpeername, SYS_getpid, SYS_getrandom,
        SYS_getsockname, SYS_getsockopt, SYS_gettid, SYS_gettimeofday, SYS_getuid, SYS_ioctl,
        SYS_lseek, SYS_madvise, SYS_mkdirat, SYS_mmap, SYS_mprotect, SYS_mremap, SYS_munmap,
        SYS_nanosleep, SYS_newfstatat, SYS_openat, SYS_openat2, SYS_ppoll, SYS_pread64,
        SYS_pwrite64, SYS_read, SYS_readlinkat, SYS_readv, SYS_recvfrom, SYS_recvmsg,
        SYS_renameat2, SYS_restart_syscall, SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn,
        SYS_sched_yield, SYS_sendfile, SYS_sendmsg, SYS_sendto, SYS_setsockopt, SYS_shutdown,
        SYS_sigaltstack, SYS_socket, SYS_statx, SYS_tgkill, SYS_unlinkat, SYS_utimensat, SYS_write,
        SYS_writev,
    };
    /// Legacy calls that exist only on x86_64 (aarch64 has just the *at/ppoll/renameat2
    /// forms). glibc 2.36 on x86_64 still uses them: poll(), readlink(), mkdir(), rmdir(),
    /// unlink() and rename() go to these numbers, not to the *at ones (checked with strace).
    #[cfg(target_arch = "x86_64")]
    pub use libc::{
        SYS_mkdir, SYS_poll, SYS_readlink, SYS_rename, SYS_renameat, SYS_rmdir, SYS_time,
        SYS_unlink,
    };
}

pub use libc::{EACCES, ENOSYS, EPERM};

/// AUDIT_ARCH_* of the build target (linux/audit.h: EM_* | 64-bit | little-endian).
#[cfg(all(target_arch = "x86_64", target_endian = "little"))]
const NATIVE_ARCH: Option<u32> = Some(0xC000_003E);
#[cfg(all(target_arch = "aarch64", target_endian = "little"))]
const NATIVE_ARCH: Option<u32> = Some(0xC000_00B7);
#[cfg(not(any(
    all(target_arch = "x86_64", target_endian = "little"),
    all(target_arch = "aarch64", target_endian = "little")
)))]
const NATIVE_ARCH: Option<u32> = None;

/// x86_64's x32 ABI marks its syscall numbers with this bit.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// BPF opcodes (linux/filter.h), as u16 like `sock_filter.code`.
const LD_W_ABS: u16 = 0x20; // BPF_LD (0) | BPF_W (0) | BPF_ABS
const JEQ_K: u16 = 0x05 | 0x10; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K: u16 = 0x05 | 0x30; // BPF_JMP | BPF_JGE | BPF_K
const JA: u16 = 0x05; // BPF_JMP | BPF_JA
const RET_K: u16 = 0x06; // BPF_RET | BPF_K

/// Offsets in `struct seccomp_data`: nr, arch, instruction_pointer, args[6].
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARGS: u32 = 16;
/// Within one 64-bit argument, where its low and high 32-bit halves are.
#[cfg(target_endian = "little")]
const ARG_LO: u32 = 0;
#[cfg(target_endian = "big")]
const ARG_LO: u32 = 4;
const ARG_HI: u32 = 4 - ARG_LO;

/// The kernel's limit on one program (BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Allow,
    Errno(u16),
}

impl Action {
    fn ret_value(self) -> u32 {
        match self {
            Action::Allow => libc::SECCOMP_RET_ALLOW,
            Action::Errno(e) => libc::SECCOMP_RET_ERRNO | u32::from(e),
        }
    }
}

#[derive(Clone, Debug)]
struct Rule {
    nr: u32,
    action: Action,
    /// `Some((index, values))`: the rule matches only if argument `index` equals a value.
    arg: Option<(u32, Vec<u64>)>,
}

/// What the program does for one syscall number.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Decision {
    /// Return this SECCOMP_RET_* value.
    Ret(u32),
    /// Allow if any `(index, values)` check matches (argument `index` equals one of
    /// `values`), else trap.
    Args(Vec<(u32, Vec<u64>)>),
}

/// Syscall numbers `first..=last` that all get `decision` (`None`: trap).
#[derive(Debug)]
struct Range {
    first: u32,
    last: u32,
    decision: Option<Decision>,
}

/// The whole u32 number space cut into ranges of one decision each, in order, merging
/// neighbours that return the same value.
fn ranges(decisions: BTreeMap<u32, Decision>) -> Vec<Range> {
    let mut out: Vec<Range> = Vec::new();
    let mut next = 0u32; // the first number not covered yet
    for (nr, decision) in decisions {
        if nr > next {
            out.push(Range {
                first: next,
                last: nr - 1,
                decision: None,
            });
        }
        match out.last_mut() {
            Some(prev)
                if prev.last.checked_add(1) == Some(nr)
                    && matches!(decision, Decision::Ret(_))
                    && prev.decision.as_ref() == Some(&decision) =>
            {
                prev.last = nr;
            }
            _ => out.push(Range {
                first: nr,
                last: nr,
                decision: Some(decision),
            }),
        }
        match nr.checked_add(1) {
            Some(n) => next = n,
            None => return out,
        }
    }
    out.push(Range {
        first: next,
        last: u32::MAX,
        decision: None,
    });
    out
}

/// A seccomp allow-list under construction. Everything not listed traps (unless
/// [`Filter::allow_by_default`]).
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Filter {
    rules: Vec<Rule>,
    /// The first invalid input given to a builder method; reported by `install`.
    invalid: Option<&'static str>,
    /// Numbers without a rule are allowed instead of trapping.
    allow_unlisted: bool,
}

fn syscall_number(nr: i64) -> Option<u32> {
    u32::try_from(nr).ok().filter(|&n| n < X32_SYSCALL_BIT)
}

impl Filter {
    /// An empty list: every system call traps until allowed.
    pub fn new() -> Filter {
        Filter::default()
    }

    fn push(mut self, nr: i64, action: Action, arg: Option<(u32, Vec<u64>)>) -> Filter {
        match syscall_number(nr) {
            Some(nr) => self.rules.push(Rule { nr, action, arg }),
            None => {
                self.invalid.get_or_insert("syscall number out of range");
            }
        }
        self
    }

    /// Allows system call `nr` with any arguments.
    pub fn allow(self, nr: i64) -> Filter {
        self.push(nr, Action::Allow, None)
    }

    /// Allows each of `nrs` with any arguments.
    pub fn allow_many(self, nrs: &[i64]) -> Filter {
        nrs.iter().fold(self, |f, &nr| f.allow(nr))
    }

    /// Allows `nr` only when argument `arg` (0-based, < 6) equals one of `values` exactly
    /// (all 64 bits). Other values fall through to later rules, then trap.
    pub fn allow_arg(self, nr: i64, arg: usize, values: &[u64]) -> Filter {
        let Some(arg) = u32::try_from(arg).ok().filter(|&a| a < 6) else {
            let mut f = self;
            f.invalid.get_or_insert("argument index out of range");
            return f;
        };
        self.push(nr, Action::Allow, Some((arg, values.to_vec())))
    }

    /// Allows every system call without a rule, instead of trapping it: a deny-list, for
    /// test filters that only make a few calls fail (the debug builds' old-kernel simulation
    /// in src/main.rs). Still trapped: another architecture's or the x32 ABI's calls, and an
    /// argument-checked call whose argument matches none of the values.
    pub fn allow_by_default(mut self) -> Filter {
        self.allow_unlisted = true;
        self
    }

    /// Makes `nr` fail with `errno` instead of running or trapping (e.g. socket -> EACCES, so
    /// std code sees an ordinary error). Errno rules are checked before allow rules.
    pub fn errno(self, nr: i64, errno: i32) -> Filter {
        match u16::try_from(errno)
            .ok()
            .filter(|&e| (1..=4095).contains(&e))
        {
            Some(e) => self.push(nr, Action::Errno(e), None),
            None => {
                let mut f = self;
                f.invalid.get_or_insert("errno out of range");
                f
            }
        }
    }

    /// What each syscall number gets, as if the rules were read in order (errno rules
    /// first, then allow rules; the first that matches wins). Numbers not in the map trap.
    fn decisions(&self) -> BTreeMap<u32, Decision> {
        let mut d: BTreeMap<u32, Decision> = BTreeMap::new();
        for rule in &self.rules {
            if let Action::Errno(_) = rule.action {
                // Only the first errno rule of a number is ever reached.
                d.entry(rule.nr)
                    .or_insert(Decision::Ret(rule.action.ret_value()));
            }
        }
        let allow = libc::SECCOMP_RET_ALLOW;
        for rule in self.rules.iter().filter(|r| r.action == Action::Allow) {
            let entry = d.entry(rule.nr).or_insert(Decision::Args(Vec::new()));
            let Decision::Args(checks) = entry else {
                continue; // an errno rule or a plain allow already decides
            };
            match &rule.arg {
                None => *entry = Decision::Ret(allow),
                Some(check) => checks.push(check.clone()),
            }
        }
        d
    }

    /// The BPF program for `arch`.
    fn program(&self, arch: u32) -> io::Result<Vec<libc::sock_filter>> {
        if let Some(why) = self.invalid {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
        }
        let mut p = Program::default();
        p.header(arch)?;
        let mut ranges = ranges(self.decisions());
        if self.allow_unlisted {
            for r in ranges.iter_mut().filter(|r| r.decision.is_none()) {
                r.decision = Some(Decision::Ret(libc::SECCOMP_RET_ALLOW));
            }
        }
        p.search(&ranges)?;
        if p.0.len() > MAX_INSNS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seccomp filter longer than BPF_MAXINSNS",
            ));
        }
        Ok(p.0)
    }

    /// Confines the calling process for good: [`Filter::compile`], then [`Compiled::install`].
    pub fn install(&self) -> io::Result<()> {
        self.compile()?.install()
    }

    /// The program to load, with write(2) and exit_group(2) added (the SIGSYS reporter needs
    /// them), and [`OWN_PID`] still standing for the pid of the process that will load it.
    /// Compiling is pure computation: the daemon does it once, before any session forks.
    /// Fails on an architecture we have no audit number for.
    pub fn compile(&self) -> io::Result<Compiled> {
        let arch = NATIVE_ARCH.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "seccomp filter: unsupported architecture",
            )
        })?;
        let with_reporter = self
            .clone()
            .allow(libc::SYS_write)
            .allow(libc::SYS_exit_group);
        let prog = with_reporter.program(arch)?;
        u16::try_from(prog.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        Ok(Compiled(prog))
    }
}

/// Stands for "the pid of the process that loads the filter" in an argument check, since a
/// filter compiled before the fork cannot know it. It is above any pid (pid_max is at most
/// 2^22), so no real argument is mistaken for it; [`Compiled::install`] puts the loader's
/// pid in its place.
pub const OWN_PID: u64 = 0x7EAD_BEEF;

/// A compiled filter, ready to load (see [`Filter::compile`]).
#[derive(Clone)]
pub struct Compiled(Vec<libc::sock_filter>);

/// Replaces every comparison with [`OWN_PID`] by one with `pid`; returns how many it replaced.
/// A pid is positive, so the high half of the 64-bit argument (compared separately) is 0 for
/// both.
fn patch_own_pid(prog: &mut [libc::sock_filter], pid: u32) -> usize {
    let slot = OWN_PID as u32;
    let mut n = 0;
    for insn in prog.iter_mut().filter(|i| i.code == JEQ_K && i.k == slot) {
        insn.k = pid;
        n += 1;
    }
    n
}

impl Compiled {
    /// Confines the calling process for good: sets no_new_privs, installs the SIGSYS
    /// reporter, and loads the filter (SECCOMP_FILTER_FLAG_TSYNC, so any other thread is
    /// confined too).
    pub fn install(&self) -> io::Result<()> {
        let mut prog = self.0.clone();
        // SAFETY: getpid cannot fail.
        let pid = unsafe { libc::getpid() };
        patch_own_pid(&mut prog, u32::try_from(pid).unwrap_or(0));
        let len =
            u16::try_from(prog.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        install_sigsys_reporter()?;
        // SAFETY: prctl with integer arguments only.
        cerr(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })?;
        let fprog = libc::sock_fprog {
            len,
            filter: prog.as_mut_ptr(),
        };
        // SAFETY: `fprog` points at `len` valid sock_filter instructions that outlive the call
        // (the kernel copies them); the other arguments are integers.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::SECCOMP_FILTER_FLAG_TSYNC,
                &fprog as *const libc::sock_fprog,
            )
        };
        match r {
            0 => Ok(()),
            r if r > 0 => Err(io::Error::other(format!(
                "seccomp: thread {r} could not be synchronised"
            ))),
            _ => {
                let e = io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::ENOSYS) {
                    return Err(e);
                }
                // Kernels before 3.17 have no seccomp(2); prctl loads for this thread only,
                // which is the whole process in the daemon (it never starts threads).
                // SAFETY: as above; prctl copies the program.
                cerr(unsafe {
                    libc::prctl(
                        libc::PR_SET_SECCOMP,
                        libc::SECCOMP_MODE_FILTER,
                        &fprog as *const libc::sock_fprog,
                        0,
                        0,
                    )
                })?;
                Ok(())
            }
        }
    }
}

/// A BPF program under construction.
#[derive(Default)]
struct Program(Vec<libc::sock_filter>);

fn offset(n: usize) -> io::Result<u8> {
    u8::try_from(n).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "seccomp rule too long for a BPF jump",
        )
    })
}

impl Program {
    /// What every program starts with: another architecture or the x32 ABI traps, and the
    /// accumulator is left holding the syscall number.
    fn header(&mut self, arch: u32) -> io::Result<()> {
        let trap = libc::SECCOMP_RET_TRAP;
        self.stmt(LD_W_ABS, OFF_ARCH);
        self.jump(JEQ_K, arch, 1, 0)?;
        self.stmt(RET_K, trap);
        self.stmt(LD_W_ABS, OFF_NR);
        if cfg!(target_arch = "x86_64") {
            self.jump(JGE_K, X32_SYSCALL_BIT, 0, 1)?;
            self.stmt(RET_K, trap);
        }
        Ok(())
    }

    fn stmt(&mut self, code: u16, k: u32) {
        self.0.push(libc::sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        });
    }

    fn jump(&mut self, code: u16, k: u32, jt: usize, jf: usize) -> io::Result<()> {
        self.0.push(libc::sock_filter {
            code,
            jt: offset(jt)?,
            jf: offset(jf)?,
            k,
        });
        Ok(())
    }

    /// Appends a binary search over `ranges` (contiguous, in order, at least one), with the
    /// syscall number in the accumulator; every path ends in a RET.
    fn search(&mut self, ranges: &[Range]) -> io::Result<()> {
        let (left, right) = match ranges {
            [] => return Ok(()),
            [only] => return self.leaf(only.decision.as_ref()),
            _ => ranges.split_at(ranges.len() / 2),
        };
        let boundary = right.first().map_or(0, |r| r.first);
        let mut low = Program::default();
        low.search(left)?;
        if let Ok(skip) = u8::try_from(low.0.len()) {
            // JGE boundary ? past the lower half : into it
            self.jump(JGE_K, boundary, usize::from(skip), 0)?;
        } else {
            // Too far for an 8-bit jump: go through a JA (32-bit offset).
            self.jump(JGE_K, boundary, 0, 1)?;
            let skip = u32::try_from(low.0.len()).map_err(|_| too_long())?;
            self.stmt(JA, skip);
        }
        self.0.append(&mut low.0);
        self.search(right)
    }

    /// The end of one search path: the decision for the number in the accumulator.
    fn leaf(&mut self, decision: Option<&Decision>) -> io::Result<()> {
        let trap = libc::SECCOMP_RET_TRAP;
        let checks = match decision {
            None => {
                self.stmt(RET_K, trap);
                return Ok(());
            }
            Some(Decision::Ret(k)) => {
                self.stmt(RET_K, *k);
                return Ok(());
            }
            Some(Decision::Args(checks)) => checks,
        };
        // Per argument, the values grouped by their high half, in chunks of at most
        // `LOS_PER_BLOCK` low halves (so every jump fits in 8 bits), m + 4 instructions each:
        //   LD hi; JEQ hi ? next : past the block; LD lo;
        //   JEQ lo_1 ? RET allow : next; …; JEQ lo_m ? RET allow : past it; RET allow
        const LOS_PER_BLOCK: usize = 200;
        for (arg, values) in checks {
            let arg_off = OFF_ARGS + 8 * arg;
            let mut by_hi: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
            for &v in values {
                let hi = u32::try_from(v >> 32).unwrap_or(u32::MAX);
                let lo = u32::try_from(v & 0xffff_ffff).unwrap_or(u32::MAX);
                by_hi.entry(hi).or_default().insert(lo);
            }
            for (hi, los) in by_hi {
                let los: Vec<u32> = los.into_iter().collect();
                for block in los.chunks(LOS_PER_BLOCK) {
                    let m = block.len();
                    self.stmt(LD_W_ABS, arg_off + ARG_HI);
                    self.jump(JEQ_K, hi, 0, m + 2)?;
                    self.stmt(LD_W_ABS, arg_off + ARG_LO);
                    for (i, &lo) in block.iter().enumerate() {
                        let to_ret = m - 1 - i;
                        self.jump(JEQ_K, lo, to_ret, usize::from(to_ret == 0))?;
                    }
                    self.stmt(RET_K, libc::SECCOMP_RET_ALLOW);
                }
            }
        }
        self.stmt(RET_K, trap);
        Ok(())
    }
}

fn too_long() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "seccomp filter longer than BPF_MAXINSNS",
    )
}

/// The part of a SIGSYS `siginfo_t` the reporter reads (asm-generic/siginfo.h, 64-bit):
/// three ints and padding, then the `_sigsys` member of the union.
#[repr(C)]
struct SigsysInfo {
    si_signo: c_int,
    si_errno: c_int,
    si_code: c_int,
    _pad: c_int,
    call_addr: *mut c_void,
    syscall: c_int,
    arch: u32,
}

// siginfo_t is 128 bytes; our view must stay inside it.
const _: () = assert!(std::mem::size_of::<SigsysInfo>() <= std::mem::size_of::<libc::siginfo_t>());

/// A fixed buffer for the report, filled without allocating or panicking.
struct Line {
    buf: [u8; 128],
    len: usize,
}

impl Line {
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
    }

    fn push_decimal(&mut self, n: i64) {
        if n < 0 {
            self.push(b"-");
        }
        let mut v = n.unsigned_abs();
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || i == 0 {
                break;
            }
        }
        self.push(digits.get(i..).unwrap_or(&[]));
    }

    fn push_hex(&mut self, v: u32) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for shift in (0..8).rev() {
            let nibble = ((v >> (shift * 4)) & 0xf) as usize;
            self.push(HEX.get(nibble..=nibble).unwrap_or(b"?"));
        }
    }
}

/// The report line for a trapped call (pure, so it is unit-tested).
fn format_report(nr: i64, arch: u32, line: &mut Line) {
    line.push(b"vsftpd: seccomp: blocked system call ");
    line.push_decimal(nr);
    if Some(arch) != NATIVE_ARCH {
        line.push(b" (foreign ABI, audit arch 0x");
        line.push_hex(arch);
        line.push(b")");
    } else if cfg!(target_arch = "x86_64") && (nr as u64) & u64::from(X32_SYSCALL_BIT) != 0 {
        line.push(b" (x32 ABI)");
    }
    line.push(b"\n");
}

/// The SIGSYS handler: only async-signal-safe work (stack buffer, write(2), _exit(2)).
extern "C" fn on_sigsys(_sig: c_int, info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    let (nr, arch) = if info.is_null() {
        (-1, 0)
    } else {
        // SAFETY: the kernel passes a valid siginfo_t (SA_SIGINFO); for a seccomp SIGSYS its
        // union holds `_sigsys`, whose layout SigsysInfo mirrors within the struct's size.
        let si = unsafe { &*info.cast::<SigsysInfo>() };
        (i64::from(si.syscall), si.arch)
    };
    let mut line = Line {
        buf: [0; 128],
        len: 0,
    };
    format_report(nr, arch, &mut line);
    // SAFETY: write(2) from a valid stack buffer of `line.len` bytes; async-signal-safe.
    unsafe { libc::write(2, line.buf.as_ptr().cast(), line.len) };
    // SAFETY: _exit never returns and is async-signal-safe; no destructor or atexit runs.
    unsafe { libc::_exit(1) }
}

fn install_sigsys_reporter() -> io::Result<()> {
    // SAFETY: an all-zero sigaction is valid; handler, flags and mask are set below.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = on_sigsys as *const () as usize;
    sa.sa_flags = libc::SA_SIGINFO;
    // SAFETY: sa_mask is a valid sigset_t inside `sa`.
    unsafe { libc::sigemptyset(&mut sa.sa_mask) };
    // SAFETY: installs a handler that does only async-signal-safe work (see on_sigsys).
    cerr(unsafe { libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut()) })?;
    // A blocked SIGSYS would make the kernel reset it to the default action (a core dump
    // without our message), so make sure it is deliverable.
    // SAFETY: a zeroed sigset_t is filled by sigemptyset/sigaddset before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGSYS);
    }
    // SAFETY: changes this thread's mask with a valid set; the old mask is not wanted.
    let r = unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(())
}

/// System calls the post-login process may make with any arguments, as needed by our session
/// code, Rust std and glibc 2.36 on this architecture. See [`post_login_filter`] for the
/// calls that are allowed only with certain arguments, and for socket(2).
pub fn post_login_allow_list() -> Vec<i64> {
    use libc::*;
    #[allow(unused_mut)]
    let mut v = vec![
        // I/O on fds the process already holds.
        SYS_read,
        SYS_write,
        SYS_readv,
        SYS_writev,
        SYS_pread64,
        SYS_pwrite64,
        SYS_lseek,
        SYS_close,
        SYS_sendfile,
        // Uploads move socket to pipe to file without a copy through the process.
        SYS_splice,
        SYS_pipe2,
        // Files beneath the session root.
        SYS_openat,
        SYS_openat2,
        SYS_newfstatat,
        SYS_fstat,
        SYS_statx,
        SYS_getdents64,
        SYS_readlinkat,
        // The write commands (issue #8), on paths beneath the root or on fds the process
        // opened: STOR/APPE/STOU (creating through openat2, truncating, locking), MKD, RMD,
        // DELE, RNFR/RNTO, SITE CHMOD (fchmodat2 on an O_PATH fd, else fchmod), SITE UMASK,
        // MDTM's set form and MFMT (utimensat on an O_PATH fd), chown_upload_mode.
        SYS_mkdirat,
        SYS_unlinkat,
        SYS_renameat2,
        SYS_ftruncate,
        SYS_fchmod,
        FCHMODAT2,
        SYS_utimensat,
        SYS_umask,
        // Waiting on the control and data sockets.
        SYS_ppoll,
        // The helper channel (SCM_RIGHTS) and std's TcpStream read/write (recv/send).
        SYS_recvmsg,
        SYS_sendmsg,
        SYS_recvfrom,
        SYS_sendto,
        // Existing sockets only: timeouts, TCP_NODELAY, SO_ERROR, addresses, half-close.
        SYS_setsockopt,
        SYS_getsockopt,
        SYS_getsockname,
        SYS_getpeername,
        SYS_shutdown,
        // Memory (glibc malloc); mmap and mprotect are argument-checked in post_login_filter.
        SYS_brk,
        SYS_munmap,
        SYS_mremap,
        SYS_madvise,
        SYS_futex,
        // Time: SystemTime/Instant::now when the vDSO falls back, rate-limit sleeps.
        SYS_clock_gettime,
        SYS_gettimeofday,
        SYS_clock_nanosleep,
        SYS_nanosleep,
        // HashMap's RandomState.
        SYS_getrandom,
        // Signals and process basics.
        SYS_rt_sigreturn,
        SYS_rt_sigprocmask,
        SYS_rt_sigaction,
        SYS_sigaltstack,
        SYS_restart_syscall,
        SYS_sched_yield,
        SYS_exit,
        SYS_exit_group,
        SYS_getpid,
        SYS_gettid,
        SYS_getuid,
        SYS_geteuid,
        SYS_getgid,
        SYS_getegid,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend_from_slice(&[
        // glibc 2.36 on x86_64 uses these legacy numbers for poll(), readlink() and time(),
        // and renameat() goes to renameat, not renameat2.
        SYS_poll,
        SYS_readlink,
        SYS_time,
        SYS_renameat,
    ]);
    v
}

/// fchmodat2 (Linux 6.6), which libc may not name yet: the same number on x86_64 and aarch64.
const FCHMODAT2: i64 = 452;

/// The post-login filter: [`post_login_allow_list`], the argument-checked calls, and
/// socket(2) failing with EACCES. Install it last, after chroot and the uid switch.
pub fn post_login_filter() -> Filter {
    Filter::new()
        .allow_many(&post_login_allow_list())
        .errno(libc::SYS_socket, libc::EACCES)
        // No executable memory: mmap/mprotect only with PROT_NONE, PROT_READ, PROT_READ|WRITE.
        .allow_arg(libc::SYS_mmap, 2, &prot_values())
        .allow_arg(libc::SYS_mprotect, 2, &prot_values())
        // fcntl: flags, close-on-exec, dup for try_clone, record locks (lock_upload_files),
        // the upload pipe's size; not F_SETOWN/F_SETSIG (signals to other processes) nor leases.
        .allow_arg(libc::SYS_fcntl, 1, &post_login_fcntl_values())
        // ioctl: only FIONBIO (std's set_nonblocking); no terminal ioctls such as TIOCSTI.
        .allow_arg(libc::SYS_ioctl, 1, &[libc::FIONBIO])
        // tgkill: only to this process (abort() raises SIGABRT through it).
        .allow_arg(libc::SYS_tgkill, 0, &[OWN_PID])
}

/// System calls the pre-login process may make with any arguments. It only talks on the
/// control connection it holds and to the helper, so unlike the post-login list there is no
/// file system call at all (its root is an empty directory anyway) and no sendfile. Being
/// shorter, the program is also cheaper to attach, once per session.
pub fn pre_login_allow_list() -> Vec<i64> {
    use libc::*;
    #[allow(unused_mut)]
    let mut v = vec![
        // The control connection and the helper channel.
        SYS_read,
        SYS_write,
        SYS_readv,
        SYS_writev,
        SYS_close,
        SYS_recvfrom,
        SYS_sendto,
        SYS_recvmsg,
        SYS_sendmsg,
        SYS_setsockopt,
        SYS_getsockopt,
        SYS_getsockname,
        SYS_getpeername,
        SYS_shutdown,
        SYS_ppoll,
        // Memory (glibc malloc); mmap and mprotect are argument-checked in pre_login_filter.
        SYS_brk,
        SYS_munmap,
        SYS_mremap,
        SYS_madvise,
        SYS_futex,
        // Time: Instant::now when the vDSO falls back.
        SYS_clock_gettime,
        SYS_gettimeofday,
        SYS_clock_nanosleep,
        SYS_nanosleep,
        SYS_getrandom,
        // Signals and process basics.
        SYS_rt_sigreturn,
        SYS_rt_sigprocmask,
        SYS_rt_sigaction,
        SYS_sigaltstack,
        SYS_restart_syscall,
        SYS_sched_yield,
        SYS_exit,
        SYS_exit_group,
        SYS_getpid,
        SYS_gettid,
        SYS_getuid,
        SYS_geteuid,
        SYS_getgid,
        SYS_getegid,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend_from_slice(&[SYS_poll, SYS_time]);
    v
}

/// The pre-login filter: [`pre_login_allow_list`], the same argument-checked calls as
/// [`post_login_filter`] (memory protections, fcntl, FIONBIO, tgkill to itself), and
/// socket(2) failing with EACCES. Everything else, every file system call included, traps.
pub fn pre_login_filter() -> Filter {
    Filter::new()
        .allow_many(&pre_login_allow_list())
        .errno(libc::SYS_socket, libc::EACCES)
        .allow_arg(libc::SYS_mmap, 2, &prot_values())
        .allow_arg(libc::SYS_mprotect, 2, &prot_values())
        .allow_arg(libc::SYS_fcntl, 1, &fcntl_values())
        .allow_arg(libc::SYS_ioctl, 1, &[libc::FIONBIO])
        .allow_arg(libc::SYS_tgkill, 0, &[OWN_PID])
}

fn prot_values() -> [u64; 3] {
    let v = |p: c_int| u64::try_from(p).unwrap_or(u64::MAX);
    [
        v(libc::PROT_NONE),
        v(libc::PROT_READ),
        v(libc::PROT_READ | libc::PROT_WRITE),
    ]
}

fn post_login_fcntl_values() -> Vec<u64> {
    let mut v = fcntl_values();
    v.extend(u64::try_from(libc::F_SETPIPE_SZ));
    v
}

fn fcntl_values() -> Vec<u64> {
    [
        libc::F_GETFD,
        libc::F_SETFD,
        libc::F_GETFL,
        libc::F_SETFL,
        libc::F_DUPFD_CLOEXEC,
        libc::F_GETLK,
        libc::F_SETLK,
        libc::F_SETLKW,
    ]
    .iter()
    .map(|&c| u64::try_from(c).unwrap_or(u64::MAX))
    .collect()
}

/// Checks, at start-up, that the kernel can run the post-login filter; the error says what is
/// missing, for a message such as "seccomp_sandbox=YES needs …; set seccomp_sandbox=NO".
pub fn kernel_supports_seccomp() -> Result<(), String> {
    if NATIVE_ARCH.is_none() {
        return Err(
            "seccomp filter: this architecture is not supported (x86_64 and aarch64 are)".into(),
        );
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } == -1 {
        return Err(format!(
            "the kernel has no seccomp support (CONFIG_SECCOMP): prctl(PR_GET_SECCOMP): {}",
            io::Error::last_os_error()
        ));
    }
    match std::fs::read_to_string("/proc/self/status") {
        Ok(s) if s.lines().any(|l| l.starts_with("Seccomp:")) => {}
        Ok(_) => {
            return Err(
                "the kernel has no seccomp support: /proc/self/status has no Seccomp: line".into(),
            )
        }
        Err(e) => {
            return Err(format!(
                "cannot read /proc/self/status to check for seccomp: {e}"
            ))
        }
    }
    for (action, name) in [
        (libc::SECCOMP_RET_TRAP, "SECCOMP_RET_TRAP"),
        (libc::SECCOMP_RET_ERRNO, "SECCOMP_RET_ERRNO"),
        (libc::SECCOMP_RET_ALLOW, "SECCOMP_RET_ALLOW"),
    ] {
        // SAFETY: SECCOMP_GET_ACTION_AVAIL reads one u32 through the pointer we pass.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_GET_ACTION_AVAIL,
                0,
                &action as *const u32,
            )
        };
        if r != 0 {
            let e = io::Error::last_os_error();
            let what = match e.raw_os_error() {
                Some(libc::ENOSYS) => "the kernel has no seccomp() system call (Linux 3.17+)",
                Some(libc::EINVAL) => {
                    "the kernel has no seccomp filters (CONFIG_SECCOMP_FILTER, Linux 4.14+)"
                }
                _ => "the kernel cannot run seccomp filters",
            };
            return Err(format!("{what}: SECCOMP_GET_ACTION_AVAIL({name}): {e}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seccomp_data a test evaluates the program on.
    struct Data {
        nr: u32,
        arch: u32,
        args: [u64; 6],
    }

    impl Data {
        fn word(&self, off: u32) -> u32 {
            let mut bytes = [0u8; 64];
            bytes[0..4].copy_from_slice(&self.nr.to_ne_bytes());
            bytes[4..8].copy_from_slice(&self.arch.to_ne_bytes());
            for (i, a) in self.args.iter().enumerate() {
                bytes[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
            }
            let o = off as usize;
            u32::from_ne_bytes(bytes[o..o + 4].try_into().unwrap())
        }
    }

    /// A classic-BPF interpreter for the five instructions the builder emits, with the
    /// kernel's checks: jumps forward only, inside the program, ending in RET.
    fn run(prog: &[libc::sock_filter], d: &Data) -> u32 {
        run_counted(prog, d).0
    }

    /// [`run`], also returning how many instructions the path executed.
    fn run_counted(prog: &[libc::sock_filter], d: &Data) -> (u32, usize) {
        let (mut pc, mut acc, mut steps) = (0usize, 0u32, 0usize);
        loop {
            let i = prog[pc];
            pc += 1;
            steps += 1;
            match i.code {
                LD_W_ABS => acc = d.word(i.k),
                JEQ_K | JGE_K => {
                    let taken = if i.code == JEQ_K {
                        acc == i.k
                    } else {
                        acc >= i.k
                    };
                    pc += usize::from(if taken { i.jt } else { i.jf });
                }
                JA => pc += i.k as usize,
                RET_K => return (i.k, steps),
                c => panic!("unexpected opcode {c:#x}"),
            }
            assert!(pc < prog.len(), "jump past the end");
        }
    }

    /// The program as built before the binary search (a linear chain: errno rules, then allow
    /// rules, each `JEQ nr` and its action), kept as the reference the search must agree with.
    fn linear_program(f: &Filter, arch: u32) -> io::Result<Vec<libc::sock_filter>> {
        if let Some(why) = f.invalid {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
        }
        let trap = libc::SECCOMP_RET_TRAP;
        let mut p = Program::default();
        p.header(arch)?;
        let errno_rules = f.rules.iter().filter(|r| r.action != Action::Allow);
        let allow_rules = f.rules.iter().filter(|r| r.action == Action::Allow);
        for rule in errno_rules.chain(allow_rules) {
            linear_rule(&mut p, rule)?;
        }
        p.stmt(RET_K, trap);
        Ok(p.0)
    }

    /// One rule of [`linear_program`]; the accumulator holds the number on entry and exit.
    fn linear_rule(p: &mut Program, rule: &Rule) -> io::Result<()> {
        let ret = rule.action.ret_value();
        let Some((arg, values)) = &rule.arg else {
            p.jump(JEQ_K, rule.nr, 0, 1)?;
            p.stmt(RET_K, ret);
            return Ok(());
        };
        let n = values.len();
        p.jump(JEQ_K, rule.nr, 0, 4 * n + 3)?;
        let arg_off = OFF_ARGS + 8 * arg;
        for (i, &v) in values.iter().enumerate() {
            let after = 4 * (n - i - 1);
            p.stmt(LD_W_ABS, arg_off + ARG_HI);
            p.jump(JEQ_K, (v >> 32) as u32, 0, 2)?;
            p.stmt(LD_W_ABS, arg_off + ARG_LO);
            p.jump(JEQ_K, v as u32, after + 1, 0)?;
        }
        p.jump(JA, 1, 0, 0)?;
        p.stmt(RET_K, ret);
        p.stmt(LD_W_ABS, OFF_NR);
        Ok(())
    }

    const ARCH: u32 = 0xC000_003E;

    fn data(nr: i64, args: [u64; 6]) -> Data {
        Data {
            nr: nr as u32,
            arch: ARCH,
            args,
        }
    }

    #[test]
    fn program_decides_as_written() {
        let f = Filter::new()
            .allow(libc::SYS_read)
            .allow_many(&[libc::SYS_write, libc::SYS_close])
            .errno(libc::SYS_socket, libc::EACCES)
            .errno(libc::SYS_close, libc::EPERM) // errno wins over allow
            .allow_arg(libc::SYS_ioctl, 1, &[0x5421, 0x1_0000_0002])
            .allow_arg(libc::SYS_fcntl, 1, &[]);
        let p = f.program(ARCH).unwrap();
        let trap = libc::SECCOMP_RET_TRAP;
        let allow = libc::SECCOMP_RET_ALLOW;
        let r = |nr, args| run(&p, &data(nr, args));
        assert_eq!(r(libc::SYS_read, [0; 6]), allow);
        assert_eq!(r(libc::SYS_write, [0; 6]), allow);
        assert_eq!(
            r(libc::SYS_close, [0; 6]),
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32
        );
        assert_eq!(
            r(libc::SYS_socket, [0; 6]),
            libc::SECCOMP_RET_ERRNO | libc::EACCES as u32
        );
        assert_eq!(r(libc::SYS_mkdirat, [0; 6]), trap);
        assert_eq!(r(libc::SYS_ioctl, [3, 0x5421, 0, 0, 0, 0]), allow);
        assert_eq!(r(libc::SYS_ioctl, [3, 0x1_0000_0002, 0, 0, 0, 0]), allow);
        assert_eq!(r(libc::SYS_ioctl, [3, 0x2, 0, 0, 0, 0]), trap);
        assert_eq!(r(libc::SYS_ioctl, [3, 0x1_0000_5421, 0, 0, 0, 0]), trap);
        assert_eq!(r(libc::SYS_ioctl, [0x5421, 0x5401, 0, 0, 0, 0]), trap);
        assert_eq!(r(libc::SYS_fcntl, [0; 6]), trap);
        // Another architecture, or x32 numbers, never match the list.
        let foreign = Data {
            nr: libc::SYS_read as u32,
            arch: 0x4000_0003,
            args: [0; 6],
        };
        assert_eq!(run(&p, &foreign), trap);
        if cfg!(target_arch = "x86_64") {
            assert_eq!(r(libc::SYS_read | 0x4000_0000, [0; 6]), trap);
        }
    }

    #[test]
    fn allow_by_default_allows_the_unlisted() {
        let p = Filter::new()
            .allow_by_default()
            .errno(libc::SYS_openat2, libc::ENOSYS)
            .errno(446, libc::ENOSYS)
            .program(ARCH)
            .unwrap();
        let r = |nr| run(&p, &data(nr, [0; 6]));
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(r(libc::SYS_openat2), enosys);
        assert_eq!(r(446), enosys);
        for nr in [0, libc::SYS_openat, 445, 447, 0x3fff_ffff] {
            assert_eq!(r(nr), libc::SECCOMP_RET_ALLOW, "{nr}");
        }
    }

    #[test]
    fn post_login_program_is_sound() {
        let mut p = post_login_filter().program(ARCH).unwrap();
        // The loader's pid is put in after the fork: exactly one comparison stands for it.
        assert_eq!(patch_own_pid(&mut p, 4242), 1);
        assert_eq!(patch_own_pid(&mut p, 4242), 0);
        assert!(p.len() < MAX_INSNS);
        let r = |nr, args| run(&p, &data(nr, args));
        let allow = libc::SECCOMP_RET_ALLOW;
        let trap = libc::SECCOMP_RET_TRAP;
        for nr in post_login_allow_list() {
            assert_eq!(r(nr, [0; 6]), allow, "{nr}");
        }
        assert_eq!(
            r(libc::SYS_socket, [2, 1, 0, 0, 0, 0]),
            libc::SECCOMP_RET_ERRNO | 13
        );
        assert_eq!(r(libc::SYS_mmap, [0, 4096, 3, 0x22, u64::MAX, 0]), allow);
        assert_eq!(r(libc::SYS_mmap, [0, 4096, 7, 0x22, u64::MAX, 0]), trap);
        assert_eq!(r(libc::SYS_mprotect, [0, 4096, 0, 0, 0, 0]), allow);
        assert_eq!(r(libc::SYS_mprotect, [0, 4096, 5, 0, 0, 0]), trap);
        assert_eq!(r(libc::SYS_ioctl, [0, libc::FIONBIO, 0, 0, 0, 0]), allow);
        assert_eq!(r(libc::SYS_ioctl, [0, libc::TIOCSTI, 0, 0, 0, 0]), trap);
        assert_eq!(
            r(libc::SYS_fcntl, [0, libc::F_SETFL as u64, 0, 0, 0, 0]),
            allow
        );
        assert_eq!(
            r(libc::SYS_fcntl, [0, libc::F_SETOWN as u64, 0, 0, 0, 0]),
            trap
        );
        assert_eq!(r(libc::SYS_tgkill, [4242, 1, 6, 0, 0, 0]), allow);
        assert_eq!(r(libc::SYS_tgkill, [OWN_PID, 1, 6, 0, 0, 0]), trap);
        assert_eq!(r(libc::SYS_tgkill, [4242 | 1 << 32, 1, 6, 0, 0, 0]), trap);
        assert_eq!(r(libc::SYS_tgkill, [1, 1, 9, 0, 0, 0]), trap);
        for nr in [
            libc::SYS_execve,
            libc::SYS_clone,
            libc::SYS_clone3,
            libc::SYS_ptrace,
            libc::SYS_connect,
            libc::SYS_bind,
            libc::SYS_socketpair,
            // Giving files away is the helper's (chown_uploads), never the session's.
            libc::SYS_fchown,
            libc::SYS_fchownat,
            libc::SYS_mknodat,
            libc::SYS_symlinkat,
            libc::SYS_linkat,
            libc::SYS_kill,
            libc::SYS_chroot,
            libc::SYS_setuid,
        ] {
            assert_eq!(r(nr, [0; 6]), trap, "{nr}");
        }
    }

    #[test]
    fn bad_input_is_reported_not_ignored() {
        assert!(Filter::new().allow(-1).program(ARCH).is_err());
        assert!(Filter::new().allow(0x4000_0000).program(ARCH).is_err());
        assert!(Filter::new().errno(0, 0).program(ARCH).is_err());
        assert!(Filter::new().errno(0, 4096).program(ARCH).is_err());
        assert!(Filter::new().allow_arg(0, 6, &[1]).program(ARCH).is_err());
        // A long value list (too long for the old chain's 8-bit jumps) decides right.
        let many: Vec<u64> = (0..450).chain([1 << 32]).collect();
        let p = Filter::new().allow_arg(0, 0, &many).program(ARCH).unwrap();
        assert_eq!(
            run(&p, &data(0, [449, 0, 0, 0, 0, 0])),
            libc::SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(&p, &data(0, [1 << 32, 0, 0, 0, 0, 0])),
            libc::SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(&p, &data(0, [450, 0, 0, 0, 0, 0])),
            libc::SECCOMP_RET_TRAP
        );
        let allow = libc::SECCOMP_RET_ALLOW;
        assert_eq!(run(&p, &data(0, [99, 0, 0, 0, 0, 0])), allow);
        assert_eq!(run(&p, &data(0, [0, 0, 0, 0, 0, 0])), allow);
        assert_eq!(
            run(&p, &data(0, [(1 << 32) | 1, 0, 0, 0, 0, 0])),
            libc::SECCOMP_RET_TRAP
        );
    }

    /// A small deterministic generator (64-bit LCG), so failures reproduce.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A random filter: numbers clustered in 0..620 plus a few at the top of the range, each
    /// rule an allow, an errno or an argument check, with repeats and conflicts.
    fn random_filter(g: &mut Lcg) -> Filter {
        let mut f = Filter::new();
        let n = g.below(50);
        for _ in 0..n {
            let nr = match g.below(10) {
                0 => 0x3fff_fff0 + g.below(16) as i64,
                1 => g.below(8) as i64,
                _ => g.below(620) as i64,
            };
            f = match g.below(6) {
                0 => f.errno(nr, 1 + g.below(4095) as i32),
                1 | 2 => {
                    let pool = [0, 1, 2, 3, 1 << 32, (1 << 32) | 3, u64::MAX, 0x5421];
                    let count = g.below(6) as usize;
                    let values: Vec<u64> = (0..count)
                        .map(|_| match g.below(9) {
                            8 => g.next() << 20 | g.next(),
                            i => pool[i as usize],
                        })
                        .collect();
                    f.allow_arg(nr, g.below(6) as usize, &values)
                }
                _ => f.allow(nr),
            };
        }
        f
    }

    /// The syscall numbers and argument vectors worth asking both programs about.
    fn probes(f: &Filter) -> (Vec<u32>, Vec<[u64; 6]>) {
        let mut nrs: Vec<u32> = (0..=600).collect();
        for r in &f.rules {
            nrs.extend([r.nr.wrapping_sub(1), r.nr, r.nr.wrapping_add(1)]);
        }
        nrs.extend([
            0x3fff_ffff,
            0x4000_0000,
            0x4000_0001,
            0x4000_0000 | 1,
            0x8000_0000,
            u32::MAX - 1,
            u32::MAX,
        ]);
        let mut args = vec![[0u64; 6], [u64::MAX; 6], [1, 2, 3, 4, 5, 6]];
        for r in &f.rules {
            let Some((idx, values)) = &r.arg else {
                continue;
            };
            for &v in values {
                for w in [v, v ^ (1 << 32), v.wrapping_add(1), v ^ 1, v ^ (1 << 63)] {
                    let mut a = [0u64; 6];
                    a[*idx as usize] = w;
                    args.push(a);
                    let mut b = [u64::MAX; 6];
                    b[*idx as usize] = w;
                    args.push(b);
                }
            }
        }
        (nrs, args)
    }

    /// The search program decides every probe exactly as the old linear chain did.
    fn assert_same_decisions(f: &Filter, what: &str) {
        let new = f.program(ARCH).unwrap();
        let old = linear_program(f, ARCH).unwrap();
        let (nrs, args) = probes(f);
        // Every argument vector for the numbers of a rule and their neighbours; the three
        // plain ones (all zero, all ones, 1..6) for the rest.
        let near: BTreeSet<u32> = f
            .rules
            .iter()
            .flat_map(|r| [r.nr.wrapping_sub(1), r.nr, r.nr.wrapping_add(1)])
            .collect();
        for &nr in &nrs {
            let args = if near.contains(&nr) {
                &args[..]
            } else {
                &args[..3]
            };
            for a in args {
                let d = Data {
                    nr,
                    arch: ARCH,
                    args: *a,
                };
                assert_eq!(run(&new, &d), run(&old, &d), "{what}: nr {nr} args {a:x?}");
            }
            let foreign = Data {
                nr,
                arch: 0x4000_0003,
                args: [0; 6],
            };
            assert_eq!(run(&new, &foreign), libc::SECCOMP_RET_TRAP, "{what}: {nr}");
        }
    }

    #[test]
    fn pre_login_program_is_sound() {
        let mut pre = pre_login_filter().program(ARCH).unwrap();
        let post = post_login_filter().program(ARCH).unwrap();
        assert!(pre.len() < post.len(), "{} >= {}", pre.len(), post.len());
        assert_eq!(patch_own_pid(&mut pre, 4242), 1);
        let r = |nr, args| run(&pre, &data(nr, args));
        let allow = libc::SECCOMP_RET_ALLOW;
        let trap = libc::SECCOMP_RET_TRAP;
        for nr in pre_login_allow_list() {
            assert_eq!(r(nr, [0; 6]), allow, "{nr}");
        }
        // Everything it has is also allowed after login: it is the narrower of the two.
        let post_list = post_login_allow_list();
        assert!(pre_login_allow_list()
            .iter()
            .all(|nr| post_list.contains(nr)));
        assert_eq!(
            r(libc::SYS_socket, [2, 1, 0, 0, 0, 0]),
            libc::SECCOMP_RET_ERRNO | 13
        );
        assert_eq!(r(libc::SYS_tgkill, [4242, 1, 6, 0, 0, 0]), allow);
        assert_eq!(r(libc::SYS_mmap, [0, 4096, 7, 0x22, u64::MAX, 0]), trap);
        for nr in [
            libc::SYS_openat,
            libc::SYS_openat2,
            libc::SYS_newfstatat,
            libc::SYS_statx,
            libc::SYS_getdents64,
            libc::SYS_readlinkat,
            libc::SYS_sendfile,
            libc::SYS_execve,
            libc::SYS_clone,
            libc::SYS_connect,
        ] {
            assert_eq!(r(nr, [0; 6]), trap, "{nr}");
        }
    }

    #[test]
    fn search_decides_as_the_linear_chain() {
        assert_same_decisions(&post_login_filter(), "post-login filter");
        assert_same_decisions(&pre_login_filter(), "pre-login filter");
        let written = Filter::new()
            .allow(libc::SYS_read)
            .allow_many(&[libc::SYS_write, libc::SYS_close])
            .errno(libc::SYS_socket, libc::EACCES)
            .errno(libc::SYS_close, libc::EPERM)
            .allow_arg(libc::SYS_ioctl, 1, &[0x5421, 0x1_0000_0002])
            .allow_arg(libc::SYS_fcntl, 1, &[]);
        assert_same_decisions(&written, "written filter");
        assert_same_decisions(&Filter::new(), "empty filter");
        assert_same_decisions(&Filter::new().allow(0), "only 0");
        assert_same_decisions(&Filter::new().allow(0x3fff_ffff), "only the top");
        // Plain allow, argument checks and errno on one number, in every order.
        let mixes = [
            Filter::new().allow_arg(3, 0, &[1]).allow(3),
            Filter::new().allow(3).allow_arg(3, 0, &[1]),
            Filter::new().allow_arg(3, 0, &[1]).errno(3, 5),
            Filter::new()
                .allow_arg(3, 0, &[1])
                .allow_arg(3, 1, &[2, 1 << 40]),
            Filter::new().errno(3, 5).errno(3, 6).allow(3),
            Filter::new()
                .allow_many(&[1, 2, 3])
                .errno(2, 1)
                .allow_arg(4, 5, &[0]),
        ];
        for (i, f) in mixes.iter().enumerate() {
            assert_same_decisions(f, &format!("mix {i}"));
        }
        // Big argument blocks: the lower halves of the search pass 255 instructions, so
        // the JGE goes through a JA.
        let mut big = Filter::new();
        for nr in 0..80 {
            big = big.allow_arg(nr * 3, 2, &[1, 2, 3, 4, 5, 1 << 33]);
        }
        let p = big.program(ARCH).unwrap();
        assert!(p.iter().any(|i| i.code == JA), "no long jump exercised");
        assert_same_decisions(&big, "big argument blocks");
        let mut g = Lcg(0x5eed);
        for i in 0..60 {
            let f = random_filter(&mut g);
            assert_same_decisions(&f, &format!("random filter {i}: {f:?}"));
        }
    }

    /// What the search buys: the path the kernel emulates for each number when it attaches
    /// the filter (its action cache) is a few comparisons instead of the whole chain.
    #[test]
    fn search_paths_are_short() {
        let f = post_login_filter();
        let new = f.program(ARCH).unwrap();
        let old = linear_program(&f, ARCH).unwrap();
        let total = |p: &[libc::sock_filter]| -> usize {
            (0..=600)
                .map(|nr| run_counted(p, &data(nr, [0; 6])).1)
                .sum()
        };
        // The search itself; an argument check adds 5 instructions per value after it.
        let checked: Vec<u32> = f
            .rules
            .iter()
            .filter(|r| r.arg.is_some())
            .map(|r| r.nr)
            .collect();
        let longest = |p: &[libc::sock_filter]| -> usize {
            (0..=600)
                .filter(|nr| !checked.contains(nr))
                .map(|nr| run_counted(p, &data(i64::from(nr), [0; 6])).1)
                .max()
                .unwrap_or(0)
        };
        let (new_total, old_total) = (total(&new), total(&old));
        eprintln!(
            "post-login filter: {} instructions (linear: {}); numbers 0..=600 run {} \
             instructions (linear: {}), longest path {} (linear: {})",
            new.len(),
            old.len(),
            new_total,
            old_total,
            longest(&new),
            longest(&old)
        );
        assert!(longest(&new) <= 20, "longest path {}", longest(&new));
        assert!(new_total * 4 < old_total, "{new_total} vs {old_total}");
        assert!(
            new.len() <= old.len() + 16,
            "{} vs {}",
            new.len(),
            old.len()
        );
    }

    /// Forks `n` children that each load `prog` (none: just exit) as the session does, and
    /// returns the wall time in µs per child. The child makes only raw system calls.
    fn fork_and_load(prog: Option<&[libc::sock_filter]>, n: u32) -> f64 {
        let mut prog = prog.map(<[libc::sock_filter]>::to_vec);
        let fprog = prog.as_mut().map(|p| libc::sock_fprog {
            len: u16::try_from(p.len()).unwrap(),
            filter: p.as_mut_ptr(),
        });
        let start = std::time::Instant::now();
        for _ in 0..n {
            // SAFETY: the child only calls prctl, seccomp and _exit (async-signal-safe, no
            // allocation), so the other threads of the test harness do not matter.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
            if pid == 0 {
                let mut code = 0;
                if let Some(fprog) = &fprog {
                    // SAFETY: integer prctl; seccomp reads `fprog`, valid for the call.
                    unsafe {
                        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                            || libc::syscall(
                                libc::SYS_seccomp,
                                libc::SECCOMP_SET_MODE_FILTER,
                                libc::SECCOMP_FILTER_FLAG_TSYNC,
                                fprog as *const libc::sock_fprog,
                            ) != 0
                        {
                            code = 1;
                        }
                    }
                }
                // SAFETY: ends the child at once, without running the harness's destructors.
                unsafe { libc::_exit(code) };
            }
            let mut status = 0;
            // SAFETY: waits for our own child, writing its status to a local.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "child {status:#x}"
            );
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    }

    /// What loading the post-login filter costs, search against the old chain (run by hand:
    /// `cargo test --release --lib seccomp_load_cost -- --ignored --nocapture`).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn seccomp_load_cost() {
        let f = post_login_filter()
            .allow(libc::SYS_write)
            .allow(libc::SYS_exit_group);
        let new = f.program(ARCH).unwrap();
        let old = linear_program(&f, ARCH).unwrap();
        let n = 3000;
        let (mut none, mut lin, mut search) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..5 {
            none.push(fork_and_load(None, n));
            lin.push(fork_and_load(Some(&old), n));
            search.push(fork_and_load(Some(&new), n));
            eprintln!(
                "round {round}: fork+exit {:.1} µs; + linear filter {:.1} µs; + search {:.1} µs",
                none[round], lin[round], search[round]
            );
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (b, l, s) = (median(&mut none), median(&mut lin), median(&mut search));
        eprintln!(
            "median per child: fork+exit {b:.1} µs; loading the linear chain adds {:.1} µs, \
             the search {:.1} µs",
            l - b,
            s - b
        );
    }

    #[test]
    fn report_line() {
        let mut l = Line {
            buf: [0; 128],
            len: 0,
        };
        format_report(83, NATIVE_ARCH.unwrap(), &mut l);
        assert_eq!(
            &l.buf[..l.len],
            b"vsftpd: seccomp: blocked system call 83\n"
        );
        let mut l = Line {
            buf: [0; 128],
            len: 0,
        };
        format_report(-1, 0x4000_0003, &mut l);
        assert_eq!(
            &l.buf[..l.len],
            b"vsftpd: seccomp: blocked system call -1 (foreign ABI, audit arch 0x40000003)\n"
        );
        let mut l = Line {
            buf: [0; 128],
            len: 0,
        };
        format_report(i64::MIN, 0, &mut l);
        assert!(l.buf[..l.len]
            .starts_with(b"vsftpd: seccomp: blocked system call -9223372036854775808 "));
    }

    #[test]
    fn this_kernel_supports_seccomp() {
        assert_eq!(kernel_supports_seccomp(), Ok(()));
    }
}

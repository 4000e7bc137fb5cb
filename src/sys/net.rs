//! Sockets that std cannot make: a chosen backlog, IPV6_V6ONLY, a bound-but-not-connected
//! passive socket, a connect from a chosen source address within a timeout; plus poll(2),
//! sendfile(2) and splice(2).

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use super::cerr;

fn new_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket(2) with constant arguments; returns a new fd or -1.
    let fd = cerr(unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: the fd was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn setsockopt_int(fd: RawFd, level: i32, opt: i32, value: i32) -> io::Result<()> {
    // SAFETY: the option value is a valid int whose size we pass.
    cerr(unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

fn to_sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe {
                &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            let sin6 = unsafe {
                &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn bind(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (ss, len) = to_sockaddr(addr);
    // SAFETY: `ss` holds a valid socket address of `len` bytes.
    cerr(unsafe { libc::bind(fd, (&ss as *const libc::sockaddr_storage).cast(), len) })?;
    Ok(())
}

/// Which listening socket to make.
#[derive(Clone, Copy, Debug)]
pub struct ListenSpec {
    pub addr: SocketAddr,
    /// For IPv6: accept IPv4 too, as v4-mapped addresses (vsftpd's listen_ipv6 on "::").
    pub dual_stack: bool,
    pub backlog: i32,
    pub nonblocking: bool,
}

/// A listening TCP socket with SO_REUSEADDR, the given backlog and IPV6_V6ONLY as asked.
pub fn listen(spec: &ListenSpec) -> io::Result<TcpListener> {
    let fd = new_socket(&spec.addr)?;
    let raw = fd.as_raw_fd();
    setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    if spec.addr.is_ipv6() {
        setsockopt_int(
            raw,
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            i32::from(!spec.dual_stack),
        )?;
    }
    bind(raw, &spec.addr)?;
    // SAFETY: listen on a bound socket we own.
    cerr(unsafe { libc::listen(raw, spec.backlog) })?;
    let listener = TcpListener::from(fd);
    listener.set_nonblocking(spec.nonblocking)?;
    Ok(listener)
}

/// A TCP connection to `to` from the local address `from` (port 0: an ephemeral one), made
/// within `timeout`: SO_REUSEADDR (so several sessions can share a fixed source port such as
/// ftp_data_port, as vsftpd does), bind, a non-blocking connect(2), poll(2) for the outcome.
/// Both addresses must be of one family. A connect that does not finish in time fails with
/// `TimedOut`; with no timeout it takes as long as the kernel tries. The stream is returned in
/// blocking mode.
pub fn connect_from(
    from: SocketAddr,
    to: SocketAddr,
    timeout: Option<Duration>,
) -> io::Result<TcpStream> {
    if from.is_ipv4() != to.is_ipv4() {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let fd = new_socket(&from)?;
    let raw = fd.as_raw_fd();
    setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    if let SocketAddr::V6(v6) = from {
        if v6.ip().to_ipv4_mapped().is_some() {
            // A v4-mapped source (an IPv4 client of a dual-stack listener) needs a socket that
            // speaks IPv4, whatever net.ipv6.bindv6only says.
            setsockopt_int(raw, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 0)?;
        }
    }
    bind(raw, &from)?;
    let stream = TcpStream::from(fd);
    stream.set_nonblocking(true)?;
    let (ss, len) = to_sockaddr(&to);
    // SAFETY: `ss` holds a valid socket address of `len` bytes; the fd is a socket we own.
    let r = unsafe { libc::connect(raw, (&ss as *const libc::sockaddr_storage).cast(), len) };
    if r == -1 {
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINPROGRESS) | Some(libc::EINTR) => {}
            _ => return Err(e),
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let ms = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(io::Error::from(io::ErrorKind::TimedOut));
                    }
                    i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1)
                }
            };
            let ready = poll(
                &[PollFd {
                    fd: stream.as_fd(),
                    read: false,
                    write: true,
                    urgent: false,
                }],
                ms,
            )?;
            if ready.iter().any(|r| r.write || r.hangup) {
                break;
            }
        }
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
    }
    stream.set_nonblocking(false)?;
    Ok(stream)
}

/// The kernel's maximum backlog (vsftpd's fixed 32 overflows at 64 clients).
pub const SOMAXCONN: i32 = libc::SOMAXCONN;

/// What poll(2) should wait for on one fd.
#[derive(Clone, Copy)]
pub struct PollFd<'a> {
    pub fd: BorrowedFd<'a>,
    pub read: bool,
    pub write: bool,
    pub urgent: bool,
}

/// What happened on one fd.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ready {
    pub read: bool,
    pub write: bool,
    pub urgent: bool,
    pub hangup: bool,
}

/// poll(2); `timeout_ms` < 0 waits forever. EINTR is returned as zero ready fds, so the caller
/// can look at its signal pipe.
pub fn poll(fds: &[PollFd<'_>], timeout_ms: i32) -> io::Result<Vec<Ready>> {
    let mut raw: Vec<libc::pollfd> = fds
        .iter()
        .map(|p| libc::pollfd {
            fd: p.fd.as_raw_fd(),
            events: (if p.read { libc::POLLIN } else { 0 })
                | (if p.write { libc::POLLOUT } else { 0 })
                | (if p.urgent { libc::POLLPRI } else { 0 }),
            revents: 0,
        })
        .collect();
    // SAFETY: `raw` is a valid array of raw.len() pollfd structs.
    let r = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, timeout_ms) };
    if r == -1 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![Ready::default(); fds.len()]);
        }
        return Err(e);
    }
    Ok(raw
        .iter()
        .map(|p| Ready {
            read: p.revents & libc::POLLIN != 0,
            write: p.revents & libc::POLLOUT != 0,
            urgent: p.revents & libc::POLLPRI != 0,
            hangup: p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0,
        })
        .collect())
}

/// sendfile(2) of up to `count` bytes from `file`'s current offset to `sock`.
/// Returns the bytes sent; 0 means end of file.
pub fn sendfile(sock: BorrowedFd<'_>, file: BorrowedFd<'_>, count: usize) -> io::Result<usize> {
    let count = count.min(0x7fff_f000);
    // SAFETY: both fds are valid for the call; a NULL offset uses and advances the file offset.
    let n = cerr(unsafe {
        libc::sendfile(
            sock.as_raw_fd(),
            file.as_raw_fd(),
            std::ptr::null_mut(),
            count,
        )
    })?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// A non-blocking pipe for [`splice`], grown to `size` bytes when the kernel allows (an
/// unprivileged process is held to pipe-max-size and its user's pipe budget: a refusal keeps
/// the default size, which still works).
pub fn splice_pipe(size: usize) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two fds into the array it is given, which has room for two.
    cerr(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) })?;
    // SAFETY: pipe2 succeeded, so both fds are open and owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let size = i32::try_from(size).unwrap_or(i32::MAX);
    // SAFETY: fcntl with integer arguments on a valid fd.
    let _ = unsafe { libc::fcntl(write.as_raw_fd(), libc::F_SETPIPE_SZ, size) };
    Ok((read, write))
}

/// splice(2) of up to `len` bytes from `from` to `to` at their current offsets, one of them a
/// pipe; without waiting on the pipe. Returns the bytes moved; 0 means end of input.
pub fn splice(from: BorrowedFd<'_>, to: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
    let null = std::ptr::null_mut();
    let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK;
    // SAFETY: both fds are valid for the call; NULL offsets use and advance the fds' own.
    let n =
        cerr(unsafe { libc::splice(from.as_raw_fd(), null, to.as_raw_fd(), null, len, flags) })?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The file system (or the kernel) cannot splice into this file.
pub fn splice_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

/// lseek(SEEK_SET) on an open file (REST offsets).
pub fn seek_to(file: BorrowedFd<'_>, offset: u64) -> io::Result<()> {
    let off = i64::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: lseek with integer arguments on a valid fd.
    cerr(unsafe { libc::lseek(file.as_raw_fd(), off, libc::SEEK_SET) })?;
    Ok(())
}

/// True when fd is a socket (inetd mode expects one on stdin).
pub fn is_socket(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: fstat into a valid out-pointer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let r = unsafe { libc::fstat(fd.as_raw_fd(), &mut st) };
    r == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
}

/// Takes ownership of stdin as a TCP stream (inetd mode), leaving fd 0 pointing at /dev/null.
pub fn stdin_stream() -> io::Result<TcpStream> {
    // SAFETY: dup of fd 0, which the process owns.
    let fd = cerr(unsafe { libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3) })?;
    // SAFETY: a fresh fd owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(TcpStream::from(owned))
}

/// Borrowed handle on stdin, for `is_socket`.
pub fn stdin_fd() -> BorrowedFd<'static> {
    // SAFETY: fd 0 stays open for the life of the process (inetd gives it to us).
    unsafe { BorrowedFd::borrow_raw(0) }
}

/// Points fds 0, 1 and 2 at /dev/null (a daemon's session must not write to a terminal or to
/// the socket inetd gave it as stdout).
pub fn null_stdio(keep_stderr: bool) -> io::Result<()> {
    let c = c"/dev/null";
    // SAFETY: open a constant path.
    let fd = cerr(unsafe { libc::open(c.as_ptr(), libc::O_RDWR) })?;
    let last = if keep_stderr { 1 } else { 2 };
    for target in 0..=last {
        if fd != target {
            // SAFETY: dup2 of an fd we own onto a standard fd.
            cerr(unsafe { libc::dup2(fd, target) })?;
        }
    }
    if fd > 2 {
        // SAFETY: closing the fd we opened above.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// errno values the transfer loop tells apart.
pub const EINVAL: i32 = libc::EINVAL;
pub const ENOSYS: i32 = libc::ENOSYS;
pub const EIO: i32 = libc::EIO;

/// SO_OOBINLINE on the control connection (as vsftpd): urgent data (the DM byte of a Telnet
/// "synch", or the last byte of an ABOR line sent with MSG_OOB) stays in the ordinary stream,
/// where the line reader sees and strips it, instead of waiting out of band forever.
pub fn set_oob_inline(sock: BorrowedFd<'_>) -> io::Result<()> {
    setsockopt_int(sock.as_raw_fd(), libc::SOL_SOCKET, libc::SO_OOBINLINE, 1)
}

/// TCP_NOTSENT_LOWAT: at most `bytes` of not yet sent data wait in the socket (a data
/// connection; see `limits::DATA_NOTSENT_LOWAT`). Kernels before 3.12 refuse it, which only
/// costs speed.
pub fn set_notsent_lowat(sock: BorrowedFd<'_>, bytes: u32) -> io::Result<()> {
    let value = i32::try_from(bytes).unwrap_or(i32::MAX);
    setsockopt_int(
        sock.as_raw_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_NOTSENT_LOWAT,
        value,
    )
}

/// Copies up to `buf.len()` bytes already queued on `sock` without consuming them and without
/// waiting; `Ok(0)` means the peer closed, `WouldBlock` that nothing is queued.
pub fn peek_now(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for writes of buf.len() bytes for the duration of the call.
        let r = unsafe {
            libc::recv(
                sock.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        if r >= 0 {
            return Ok(usize::try_from(r).unwrap_or(0));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The host name of `ip` by reverse DNS (getnameinfo, NI_NAMEREQD), or `None` when it has none.
/// Only for reverse_lookup_enable (Red Hat's option: PAM gets the name instead of the address);
/// the result is never used to decide anything here.
pub fn host_name(ip: std::net::IpAddr) -> Option<String> {
    let (ss, len) = to_sockaddr(&SocketAddr::new(ip, 0));
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: `ss` holds a valid sockaddr of length `len`; `host` is a writable buffer of the
    // length given; no service buffer is asked for.
    let r = unsafe {
        libc::getnameinfo(
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
            host.as_mut_ptr(),
            1025,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if r != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    name.to_str().ok().map(str::to_owned)
}

//! A SOCK_SEQPACKET socketpair that carries whole datagrams and passes fds (SCM_RIGHTS).
//!
//! This is the transport under `privsep::channel`: the session helper and the protocol process
//! talk over one such pair. SEQPACKET keeps message boundaries (one `send_msg` is one
//! `recv_msg`), is reliable and ordered, and reports a datagram longer than the receive buffer
//! with MSG_TRUNC instead of silently splitting it, so a peer can never make us parse half a
//! message or glue two together.
//!
//! Received fds are the dangerous part of SCM_RIGHTS: the kernel installs them in our fd table
//! whether we wanted them or not. `recv_msg` therefore wraps every fd it finds in an `OwnedFd`
//! before doing anything else, so an fd the caller did not ask for is closed when the
//! `Received` is dropped, and never leaks into the process (there is no exec after fork, so
//! CLOEXEC alone would protect nothing). MSG_CMSG_CLOEXEC is still set, as a second line.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::cerr;

/// Most fds one datagram may carry in either direction. The kernel's own cap (SCM_MAX_FD) is
/// 253; our protocol never passes more than one, so a small bound keeps buffers small.
pub const MAX_FDS: usize = 4;

/// One datagram as `recv_msg` got it.
#[derive(Debug)]
pub struct Received {
    /// Bytes written into the caller's buffer. 0 means the peer closed its end (our protocol
    /// never sends an empty datagram, so an empty one is treated the same way by the channel).
    pub len: usize,
    /// Every fd that arrived, already owned: dropping them closes them. This can hold more
    /// than `max_fds` when the extra ones fitted in the control buffer's alignment padding;
    /// the caller compares the count with what it expects.
    pub fds: Vec<OwnedFd>,
    /// The datagram did not fit the buffer (MSG_TRUNC) or its fds did not fit the control
    /// buffer (MSG_CTRUNC; the kernel closes those it could not deliver). Either way the
    /// message is incomplete and must be treated as a protocol violation.
    pub truncated: bool,
}

/// A connected SOCK_SEQPACKET pair, both ends close-on-exec.
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [RawFd; 2] = [-1, -1];
    // SAFETY: socketpair writes two fds into the two-element array we pass.
    cerr(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    let [a, b] = fds;
    // SAFETY: both fds were just created by the kernel for us and nobody else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(a), OwnedFd::from_raw_fd(b)) })
}

/// Bytes of control buffer needed for `n` fds (CMSG_SPACE), or `None` when `n` is absurd.
fn cmsg_space(n: usize) -> Option<usize> {
    let payload = n.checked_mul(size_of::<RawFd>())?;
    let payload = u32::try_from(payload).ok()?;
    // SAFETY: CMSG_SPACE is pure arithmetic on its argument (an `unsafe fn` only by libc's
    // convention); it dereferences nothing.
    usize::try_from(unsafe { libc::CMSG_SPACE(payload) }).ok()
}

/// CMSG_LEN(0): the size of a cmsghdr as the kernel counts it in `cmsg_len`.
fn cmsg_header_len() -> usize {
    // SAFETY: CMSG_LEN is pure arithmetic on its argument.
    usize::try_from(unsafe { libc::CMSG_LEN(0) }).unwrap_or(usize::MAX)
}

/// A zeroed control buffer of at least `bytes` bytes, aligned for `cmsghdr` (whose fields
/// are at most 8-byte aligned on every Linux ABI; u64 elements give that alignment).
fn control_buffer(bytes: usize) -> Vec<u64> {
    vec![0u64; bytes.div_ceil(size_of::<u64>())]
}

/// Sends `bytes` as one datagram, with `fds` attached as SCM_RIGHTS when there are any.
/// EINTR is retried; MSG_NOSIGNAL turns a closed peer into EPIPE instead of SIGPIPE.
pub fn send_msg(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    if fds.len() > MAX_FDS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many fds for one datagram",
        ));
    }
    let raw: Vec<RawFd> = fds.iter().map(|fd| fd.as_raw_fd()).collect();
    let mut iov = libc::iovec {
        // The kernel only reads through this pointer (sendmsg); the cast to *mut is the C API.
        iov_base: bytes.as_ptr().cast_mut().cast(),
        iov_len: bytes.len(),
    };
    let space = if raw.is_empty() {
        0
    } else {
        cmsg_space(raw.len()).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?
    };
    let mut control = control_buffer(space);
    // SAFETY: msghdr is a plain C struct for which all-zero is a valid (empty) value; the
    // glibc definition has private padding fields, so it cannot be built with a literal.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !raw.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space;
        // SAFETY: msg_control points at `space` >= CMSG_SPACE(n * 4) zeroed, aligned bytes, so
        // CMSG_FIRSTHDR returns a non-null pointer to a cmsghdr inside that buffer.
        let cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
        if cmsg.is_null() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let payload = raw.len() * size_of::<RawFd>();
        // SAFETY: `cmsg` points at a writable, aligned cmsghdr inside `control` (see above).
        unsafe {
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = cmsg_header_len() + payload;
        }
        // SAFETY: CMSG_DATA of that header points `cmsg_header_len()` bytes into `control`,
        // which has room for `payload` more bytes (CMSG_SPACE); the copy is bytewise, so the
        // destination needs no alignment, and source and destination do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                raw.as_ptr().cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                payload,
            );
        }
    }
    loop {
        // SAFETY: `msg` points at one valid iovec over `bytes` and, when fds are passed, at a
        // control buffer filled above; all of them outlive the call.
        let sent = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
        match cerr(sent) {
            Ok(n) if usize::try_from(n).ok() == Some(bytes.len()) => return Ok(()),
            // SEQPACKET sends whole datagrams or fails; a short count would be a kernel oddity.
            Ok(_) => return Err(io::Error::new(io::ErrorKind::WriteZero, "short datagram")),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Receives one datagram into `buf`, accepting up to `max_fds` fds (capped at [`MAX_FDS`]).
/// Blocks until a datagram arrives, the peer closes (`len` 0), or the receive timeout (see
/// [`set_recv_timeout`]) expires (`ErrorKind::WouldBlock`). EINTR is retried.
pub fn recv_msg(sock: BorrowedFd<'_>, buf: &mut [u8], max_fds: usize) -> io::Result<Received> {
    // Room for at least one fd even when none is expected: an unwanted fd then arrives here and
    // is closed by us, and the caller learns that one came, instead of only seeing MSG_CTRUNC.
    let space = cmsg_space(max_fds.clamp(1, MAX_FDS))
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut control = control_buffer(space);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: all-zero is a valid msghdr (see send_msg).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    let n = loop {
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space;
        msg.msg_flags = 0;
        // SAFETY: `msg` describes `buf` (buf.len() writable bytes) and `control` (`space`
        // writable, aligned bytes); the kernel writes at most that much into each.
        let r = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        match cerr(r) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    // Take ownership of the fds first, before anything else can return early.
    let fds = take_fds(&control, msg.msg_controllen.min(space));
    let truncated = msg.msg_flags & (libc::MSG_TRUNC | libc::MSG_CTRUNC) != 0;
    // recvmsg without MSG_TRUNC in the flags argument returns at most buf.len().
    let len = usize::try_from(n).unwrap_or(0).min(buf.len());
    Ok(Received {
        len,
        fds,
        truncated,
    })
}

/// Walks the control messages the kernel wrote into the first `used` bytes of `control` and
/// wraps every SCM_RIGHTS fd in an `OwnedFd`. Other control messages (SCM_CREDENTIALS, …)
/// are skipped. Every length is checked against the buffer, so a malformed header cannot make
/// us read outside it.
fn take_fds(control: &[u64], used: usize) -> Vec<OwnedFd> {
    let base = control.as_ptr().cast::<u8>();
    let total = used.min(std::mem::size_of_val(control));
    let header = cmsg_header_len();
    let mut fds = Vec::new();
    let mut offset = 0usize;
    while offset.saturating_add(header) <= total {
        // SAFETY: `offset + header <= total`, so a whole cmsghdr lies inside `control`; it is
        // read unaligned-tolerant into a local copy.
        let hdr: libc::cmsghdr =
            unsafe { std::ptr::read_unaligned(base.add(offset).cast::<libc::cmsghdr>()) };
        let len = hdr.cmsg_len;
        if len < header || len > total - offset {
            break;
        }
        if hdr.cmsg_level == libc::SOL_SOCKET && hdr.cmsg_type == libc::SCM_RIGHTS {
            let count = (len - header) / size_of::<RawFd>();
            for i in 0..count {
                let at = offset + header + i * size_of::<RawFd>();
                // SAFETY: `at + 4 <= offset + len <= total`, inside `control`; unaligned read.
                let fd: RawFd = unsafe { std::ptr::read_unaligned(base.add(at).cast::<RawFd>()) };
                if fd >= 0 {
                    // SAFETY: the kernel installed this fd in our table for this message and
                    // nothing else refers to it; from here on the OwnedFd closes it.
                    fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        // Headers are aligned like CMSG_ALIGN (to the size of usize).
        let step = len.div_ceil(size_of::<usize>()) * size_of::<usize>();
        match offset.checked_add(step) {
            Some(next) if next > offset => offset = next,
            _ => break,
        }
    }
    fds
}

/// Sets (or, with `None`, clears) SO_RCVTIMEO: a blocked `recv_msg` then fails with
/// `ErrorKind::WouldBlock` after `timeout`. A zero duration is rounded up to 1 µs (the kernel
/// reads zero as "no timeout").
pub fn set_recv_timeout(sock: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<()> {
    let tv = match timeout {
        None => libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        Some(d) => {
            let secs = libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX);
            let mut usec = libc::suseconds_t::from(d.subsec_micros());
            if secs == 0 && usec == 0 {
                usec = 1;
            }
            libc::timeval {
                tv_sec: secs,
                tv_usec: usec,
            }
        }
    };
    let len = libc::socklen_t::try_from(size_of::<libc::timeval>())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: the option value is one valid timeval whose size we pass.
    cerr(unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            len,
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn control_space_fits_the_kernel_layout() {
        assert_eq!(cmsg_header_len(), size_of::<libc::cmsghdr>());
        assert_eq!(cmsg_space(1), Some(24));
        assert_eq!(cmsg_space(usize::MAX), None);
    }

    #[test]
    fn datagram_boundaries_are_kept() {
        let (a, b) = seqpacket_pair().unwrap();
        send_msg(a.as_fd(), b"one", &[]).unwrap();
        send_msg(a.as_fd(), b"two!", &[]).unwrap();
        let mut buf = [0u8; 16];
        let r = recv_msg(b.as_fd(), &mut buf, 0).unwrap();
        assert_eq!((r.len, r.fds.len(), r.truncated), (3, 0, false));
        assert_eq!(&buf[..3], b"one");
        let r = recv_msg(b.as_fd(), &mut buf, 0).unwrap();
        assert_eq!(&buf[..r.len], b"two!");
        drop(a);
        let r = recv_msg(b.as_fd(), &mut buf, 0).unwrap();
        assert_eq!((r.len, r.truncated), (0, false));
    }

    #[test]
    fn too_many_fds_to_send_is_refused() {
        let (a, _b) = seqpacket_pair().unwrap();
        let fds = vec![a.as_fd(); MAX_FDS + 1];
        assert!(send_msg(a.as_fd(), b"x", &fds).is_err());
    }
}

//! Sending a file over a data connection: sendfile(2) in binary mode, a read/write loop when
//! use_sendfile=NO or the kernel declines.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;

use crate::sys::net;

/// Why a transfer stopped early; each maps to one vsftpd reply.
#[derive(Debug)]
pub enum TransferError {
    /// 451 Failure reading local file. (also when the file shrank under us)
    Read,
    /// 426 Failure writing network stream.
    Write,
}

const COPY_BUFFER: usize = 64 * 1024;

/// Sends `len` bytes of `file` from its current offset; returns the bytes sent.
pub fn send_file(
    file: &mut File,
    sock: &mut TcpStream,
    len: u64,
    use_sendfile: bool,
) -> Result<u64, TransferError> {
    let mut sent = 0u64;
    if use_sendfile {
        while sent < len {
            let want = usize::try_from(len - sent).unwrap_or(usize::MAX);
            match net::sendfile(sock.as_fd(), file.as_fd(), want) {
                Ok(0) => return Err(TransferError::Read),
                Ok(n) => sent += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if matches!(e.raw_os_error(), Some(code) if code == net::EINVAL || code == net::ENOSYS) =>
                {
                    break;
                }
                Err(e) if e.raw_os_error() == Some(net::EIO) => return Err(TransferError::Read),
                Err(_) => return Err(TransferError::Write),
            }
        }
        if sent == len {
            return Ok(sent);
        }
    }
    let mut buf = vec![0u8; COPY_BUFFER];
    while sent < len {
        let want = usize::try_from(len - sent)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let chunk = buf.get_mut(..want).ok_or(TransferError::Read)?;
        let n = match file.read(chunk) {
            Ok(0) => return Err(TransferError::Read),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(TransferError::Read),
        };
        let data = chunk.get(..n).ok_or(TransferError::Read)?;
        sock.write_all(data).map_err(|_| TransferError::Write)?;
        sent += n as u64;
    }
    Ok(sent)
}

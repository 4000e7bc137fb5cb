//! A test hook of debug builds only (the module is compiled out of release builds, where
//! `SITE SELFTEST` is an unknown SITE command like any other): it lets tests/landlock.rs show
//! from outside that the post-login process cannot execute a file or make a FIFO or a socket
//! even where the user's permissions allow it.
//!
//! ```text
//! SITE SELFTEST EXEC path          execveat of the file (opened in the session root)
//! SITE SELFTEST MKNOD FIFO path    mknodat of a FIFO, mode 0644 before the umask
//! SITE SELFTEST MKNOD SOCK path    the same for a socket node
//! ```
//!
//! Each is answered `200 errno=N` (0: it worked). An exec that works replaces the session
//! process: tests use files that fail after the kernel's permission checks (ENOEXEC).
#![forbid(unsafe_code)]

use std::os::fd::AsFd;

use super::Session;
use crate::proto::path::normalize_path;
use crate::session::control::Ended;
use crate::sys::fs::{self as sysfs, OpenKind};
use crate::sys::landlock::selftest::{self as hook, Node};

impl Session<'_> {
    /// `Some` when `line` is a `SITE SELFTEST` command, answered; `None` for any other line.
    pub(super) fn selftest(&mut self, line: &[u8]) -> Option<Result<(), Ended>> {
        let words: Vec<&[u8]> = line
            .split(|&b| b == b' ')
            .filter(|w| !w.is_empty())
            .collect();
        let is = |i: usize, w: &str| {
            words
                .get(i)
                .is_some_and(|x| x.eq_ignore_ascii_case(w.as_bytes()))
        };
        if !(is(0, "SITE") && is(1, "SELFTEST")) {
            return None;
        }
        let result = match (words.get(2), words.get(3), words.get(4)) {
            (_, Some(path), None) if is(2, "EXEC") => self.try_exec(path),
            (_, _, Some(path)) if is(2, "MKNOD") && is(3, "FIFO") => {
                self.try_mknod(path, Node::Fifo)
            }
            (_, _, Some(path)) if is(2, "MKNOD") && is(3, "SOCK") => {
                self.try_mknod(path, Node::Socket)
            }
            _ => {
                return Some(
                    self.ctrl
                        .send(b"501 SITE SELFTEST EXEC path | MKNOD FIFO|SOCK path\r\n"),
                )
            }
        };
        let errno = match result {
            Ok(()) => 0,
            Err(e) => e.raw_os_error().unwrap_or(-1),
        };
        Some(self.ctrl.send(format!("200 errno={errno}\r\n").as_bytes()))
    }

    fn try_exec(&self, arg: &[u8]) -> std::io::Result<()> {
        let path = normalize_path(&self.cwd, arg);
        let file = sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Path)?;
        Err(hook::exec_fd(file.as_fd()))
    }

    fn try_mknod(&self, arg: &[u8], node: Node) -> std::io::Result<()> {
        let path = normalize_path(&self.cwd, arg);
        let cut = path.iter().rposition(|&b| b == b'/').unwrap_or(0);
        let (dir, name) = (&path[..cut.max(1)], &path[cut + 1..]);
        let dir = sysfs::open_in_root(self.root.as_fd(), dir, OpenKind::Directory)?;
        hook::mknod_at(dir.as_fd(), name, node)
    }
}

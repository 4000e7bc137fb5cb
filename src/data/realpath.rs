//! The real path of a name beneath the session root, as vsftpd's process sees it through the
//! kernel inside its chroot: what `getcwd()` reports after a `chdir()` (PWD after CWD into a
//! symlink shows the directory's own path), and what `realpath()` gives for a listing entry
//! (Debian's vsftpd matches a LIST/NLST/STAT filter against the last component of that).
//!
//! The walk is realpath's, one component at a time, beneath the root: `.` is skipped, `..` goes
//! up (never above `/`), a symlink's target is walked in its place (an absolute one from the
//! root, as inside a chroot), at most [`MAX_SYMLINKS`] of them; every component but the last
//! must be a directory, and every one must exist. Each step is an lstat (and a readlink for a
//! symlink) in the directory reached so far, opened beneath the root, so the walk never looks
//! outside it, whatever the links say. Work is bounded: the pending path never grows past
//! [`MAX_PENDING`] bytes and the result is at most [`MAX_PATH`] bytes.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::limits::MAX_PATH;
use crate::sys::fs::{self, OpenKind};

/// Symlinks followed in one walk before it fails (the kernel's and glibc's ELOOP limit).
pub const MAX_SYMLINKS: usize = 40;
/// The longest path still to walk (the argument plus the link targets spliced in).
const MAX_PENDING: usize = 4 * MAX_PATH;

/// The real path of `path` (absolute, or relative to `cwd`, itself a real path such as
/// [`real_path`] returns) beneath `root`, as an absolute virtual path; `None` when a component
/// is missing, unreachable, not a directory where one is needed, or the walk hits a limit.
pub fn real_path(root: BorrowedFd<'_>, cwd: &[u8], path: &[u8]) -> Option<Vec<u8>> {
    let mut steps = MAX_PENDING;
    real_path_counted(root, cwd, path, &mut steps)
}

/// [`real_path`], taking one step from `steps` per component looked up (a caller walking many
/// names shares one budget); `None` once it is spent.
pub fn real_path_counted(
    root: BorrowedFd<'_>,
    cwd: &[u8],
    path: &[u8],
    steps: &mut usize,
) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = if path.first() == Some(&b'/') {
        b"/".to_vec()
    } else {
        cwd.to_vec()
    };
    if out.first() != Some(&b'/') {
        return None;
    }
    // The directory `out` names, for the next lookup; opened when first needed.
    let mut dir: Option<OwnedFd> = None;
    let mut pending: Vec<u8> = path.to_vec();
    let mut at = 0usize;
    let mut links = 0usize;
    let mut link = Vec::new();
    while at < pending.len() {
        let rest = pending.get(at..).unwrap_or_default();
        let len = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
        let comp = rest.get(..len).unwrap_or_default().to_vec();
        at += len + 1;
        match comp.as_slice() {
            b"" | b"." => continue,
            b".." => {
                let keep = out.iter().rposition(|&b| b == b'/').unwrap_or(0).max(1);
                out.truncate(keep);
                dir = None;
                continue;
            }
            _ => {}
        }
        *steps = steps.checked_sub(1)?;
        if dir.is_none() {
            dir = Some(fs::open_in_root(root, &out, OpenKind::Path).ok()?);
        }
        let here = dir.as_ref()?.as_fd();
        let name = CString::new(comp.clone()).ok()?;
        let st = fs::lstat_at_cstr(here, &name).ok()?;
        if st.is_symlink() {
            links += 1;
            if links > MAX_SYMLINKS {
                return None;
            }
            fs::readlink_at_cstr(here, &name, &mut link).ok()?;
            if link.is_empty() {
                return None;
            }
            // The target, then what was left after the link.
            let left = pending.get(at.min(pending.len())..).unwrap_or_default();
            let mut next = Vec::with_capacity(link.len() + 1 + left.len());
            next.extend_from_slice(&link);
            next.push(b'/');
            next.extend_from_slice(left);
            if next.len() > MAX_PENDING {
                return None;
            }
            if link.first() == Some(&b'/') {
                out.truncate(1);
                dir = None;
            }
            pending = next;
            at = 0;
            continue;
        }
        if !st.is_dir() {
            // Only the last component may be other than a directory.
            let left = pending.get(at.min(pending.len())..).unwrap_or_default();
            if left.split(|&b| b == b'/').any(|c| !c.is_empty()) {
                return None;
            }
        }
        if out.len() > 1 {
            out.push(b'/');
        }
        out.extend_from_slice(&comp);
        if out.len() > MAX_PATH {
            return None;
        }
        dir = if st.is_dir() {
            // The child, looked up in its parent: one component, never a walk from the root.
            Some(fs::open_in_root(here, &comp, OpenKind::Path).ok()?)
        } else {
            None
        };
    }
    Some(out)
}

/// The last component of a real path (`/` for the root itself): what Debian's vsftpd matches a
/// listing filter against.
pub fn last_component(real: &[u8]) -> &[u8] {
    match real.iter().rposition(|&b| b == b'/') {
        Some(i) if i + 1 < real.len() => real.get(i + 1..).unwrap_or(real),
        _ => real,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn walks_as_realpath_in_a_chroot() {
        let t = std::env::temp_dir().join(format!("vsftpd-rs-realpath-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        std::fs::create_dir_all(t.join("pub/sub")).unwrap();
        std::fs::write(t.join("pub/file"), "x").unwrap();
        for (link, target) in [
            ("up", "pub/sub/.."),
            ("abs", "/pub/sub"),
            ("out", "../../../.."),
            ("loop", "loop"),
            ("dangling", "missing"),
            ("file-link", "pub/file"),
            ("chain", "file-link"),
            ("empty-target", ""),
        ] {
            let _ = symlink(target, t.join(link));
        }
        let root = fs::open_dir(&t).unwrap();
        let r = |cwd: &[u8], p: &[u8]| real_path(root.as_fd(), cwd, p);
        assert_eq!(r(b"/", b"up").as_deref(), Some(&b"/pub"[..]));
        assert_eq!(r(b"/", b"abs/..").as_deref(), Some(&b"/pub"[..]));
        assert_eq!(r(b"/pub", b"../abs").as_deref(), Some(&b"/pub/sub"[..]));
        // Links and `..` never lead above the root.
        assert_eq!(r(b"/", b"out").as_deref(), Some(&b"/"[..]));
        assert_eq!(
            r(b"/pub", b"../../../out/pub").as_deref(),
            Some(&b"/pub"[..])
        );
        assert_eq!(r(b"/", b"chain").as_deref(), Some(&b"/pub/file"[..]));
        assert_eq!(r(b"/", b".").as_deref(), Some(&b"/"[..]));
        // Failures: a loop, a dangling link, a file used as a directory, a missing name.
        assert_eq!(r(b"/", b"loop"), None);
        assert_eq!(r(b"/", b"dangling"), None);
        assert_eq!(r(b"/", b"pub/file/.."), None);
        assert_eq!(r(b"/", b"chain/x"), None);
        assert_eq!(r(b"/", b"missing"), None);
        assert_eq!(r(b"/", b"nul\0byte"), None);
        assert_eq!(r(b"relative", b"pub"), None);
        // A budget spent is a failure.
        let mut steps = 2;
        assert_eq!(
            real_path_counted(root.as_fd(), b"/", b"pub/sub/file", &mut steps),
            None
        );
        assert_eq!(steps, 0);
        assert_eq!(last_component(b"/pub/sub"), b"sub");
        assert_eq!(last_component(b"/"), b"/");
        std::fs::remove_dir_all(&t).unwrap();
    }
}

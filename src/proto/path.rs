//! Virtual paths: what the client sees (`/pub/file`), independent of where the session root is on
//! disk. The session keeps its working directory as a normalised virtual path and opens files
//! with [`crate::sys::fs::open_in_root`], which confines the kernel's resolution (symlinks
//! included) to the root; normalising here as well keeps `..` from ever naming anything above
//! `/`, even in what we print.
//!
//! These functions never fail and never panic; their output is at most
//! `cwd.len() + arg.len() + 1` bytes (or `home.len() + arg.len()`), so bounded by the bounded
//! inputs (a control line is at most [`crate::limits::MAX_COMMAND_LINE`] bytes; the session's
//! cwd at most [`MAX_PATH`] when set through [`normalize_path_checked`]).

use crate::limits::MAX_PATH;

/// Joins `arg` to `cwd` (unless `arg` is absolute) and collapses `.`, `..` and repeated slashes
/// lexically; `..` at `/` stays at `/`. The result is absolute, has no trailing slash (except
/// `/` itself), and keeps every other byte as given (NUL, CR, non-UTF-8 alike). `cwd` should be
/// absolute; a relative one is treated as if it started with `/`.
pub fn normalize_path(cwd: &[u8], arg: &[u8]) -> Vec<u8> {
    let base: &[u8] = if arg.first() == Some(&b'/') { &[] } else { cwd };
    let mut out: Vec<u8> = Vec::with_capacity(base.len() + arg.len() + 1);
    out.push(b'/');
    // Where each component of `out` starts (its slash), for `..` without rescanning.
    let mut starts: Vec<usize> = Vec::new();
    for comp in base.split(|&b| b == b'/').chain(arg.split(|&b| b == b'/')) {
        match comp {
            b"" | b"." => {}
            b".." => {
                let keep = starts.pop().unwrap_or(1).max(1);
                out.truncate(keep);
            }
            _ => {
                if out.len() > 1 {
                    starts.push(out.len());
                    out.push(b'/');
                } else {
                    starts.push(1);
                }
                out.extend_from_slice(comp);
            }
        }
    }
    out
}

/// [`normalize_path`], or `None` when the result is longer than [`MAX_PATH`] (the caller then
/// fails the command, e.g. `550 Failed to change directory.`). Use it for anything that becomes
/// the session's working directory.
pub fn normalize_path_checked(cwd: &[u8], arg: &[u8]) -> Option<Vec<u8>> {
    let p = normalize_path(cwd, arg);
    (p.len() <= MAX_PATH).then_some(p)
}

/// vsftpd's `resolve_tilde`: `~` or `~/rest` becomes `home` + `/rest` (so `~/x` with home `/`
/// gives `//x`, as vsftpd; [`normalize_path`] collapses it). `~user` is left alone (that needs
/// tilde_user_enable and a user database: the session's job). Anything else is returned as is.
pub fn resolve_tilde(arg: &[u8], home: &[u8]) -> Vec<u8> {
    match arg {
        [b'~'] | [b'~', b'/', ..] => {
            let rest = arg.get(1..).unwrap_or_default();
            let mut out = Vec::with_capacity(home.len() + rest.len());
            out.extend_from_slice(home);
            out.extend_from_slice(rest);
            out
        }
        _ => arg.to_vec(),
    }
}

/// A relative `arg` prefixed with `cwd` and one slash (none added if `cwd` ends with one); an
/// absolute `arg` as is. Nothing is normalised: `.`, `..` and repeated slashes stay. Two uses:
/// - the path the session hands the kernel: [`crate::sys::fs::open_in_root`] walks it beneath
///   the session root (RESOLVE_IN_ROOT), so a `..` cannot climb out of the root, and a
///   component that does not exist fails as it would with vsftpd's chdir/open (which
///   [`normalize_path`] would hide by collapsing `missing/..`);
/// - vsftpd's `prepend_path_to_filename`, the path shown in the MKD reply
///   ([`super::reply::mkd_created`]) and in log lines.
pub fn prepend_cwd(cwd: &[u8], arg: &[u8]) -> Vec<u8> {
    if arg.first() == Some(&b'/') {
        return arg.to_vec();
    }
    let mut out = Vec::with_capacity(cwd.len() + 1 + arg.len());
    out.extend_from_slice(cwd);
    if out.last() != Some(&b'/') {
        out.push(b'/');
    }
    out.extend_from_slice(arg);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn n(cwd: &str, arg: &str) -> String {
        String::from_utf8(normalize_path(cwd.as_bytes(), arg.as_bytes())).unwrap()
    }

    #[test]
    fn joins_and_collapses() {
        assert_eq!(n("/", ""), "/");
        assert_eq!(n("/", "."), "/");
        assert_eq!(n("/pub", ""), "/pub");
        assert_eq!(n("/pub", "a"), "/pub/a");
        assert_eq!(n("/pub", "a/"), "/pub/a");
        assert_eq!(n("/pub", "./a//b/./c/"), "/pub/a/b/c");
        assert_eq!(n("/pub", "/etc"), "/etc");
        assert_eq!(n("/pub/x", ".."), "/pub");
        assert_eq!(n("/pub/x", "../y"), "/pub/y");
        assert_eq!(n("/pub", "a/../../b"), "/b");
        assert_eq!(n("pub", "a"), "/pub/a");
        assert_eq!(n("/", "..."), "/...");
        assert_eq!(n("/", "a..b/.c"), "/a..b/.c");
    }

    #[test]
    fn never_above_root() {
        assert_eq!(n("/", ".."), "/");
        assert_eq!(n("/", "../../../etc/passwd"), "/etc/passwd");
        assert_eq!(n("/pub", "../../.."), "/");
        assert_eq!(n("/pub", "/../../x/../.."), "/");
        assert_eq!(n("/a/b", "../../../../c"), "/c");
        let deep = "../".repeat(2000);
        assert_eq!(n("/pub/x", &deep), "/");
    }

    #[test]
    fn odd_bytes_pass_through() {
        assert_eq!(
            normalize_path(b"/pub", b"a\0b/\xff\r\n"),
            b"/pub/a\0b/\xff\r\n".to_vec()
        );
    }

    #[test]
    fn bounded() {
        let cwd = vec![b'c'; MAX_PATH - 1];
        let mut cwd_abs = b"/".to_vec();
        cwd_abs.extend_from_slice(&cwd);
        let arg = vec![b'a'; 4096];
        let p = normalize_path(&cwd_abs, &arg);
        assert_eq!(p.len(), cwd_abs.len() + 1 + arg.len());
        assert!(normalize_path_checked(&cwd_abs, &arg).is_none());
        assert_eq!(normalize_path_checked(&cwd_abs, b"..").unwrap(), b"/");
        assert_eq!(normalize_path_checked(b"/", &cwd).unwrap().len(), MAX_PATH);
    }

    #[test]
    fn tilde() {
        assert_eq!(resolve_tilde(b"~", b"/home/u"), b"/home/u");
        assert_eq!(resolve_tilde(b"~/x", b"/home/u"), b"/home/u/x");
        assert_eq!(resolve_tilde(b"~/x", b"/"), b"//x");
        assert_eq!(resolve_tilde(b"~user/x", b"/home/u"), b"~user/x");
        assert_eq!(resolve_tilde(b"a~", b"/h"), b"a~");
        assert_eq!(resolve_tilde(b"", b"/h"), b"");
    }

    #[test]
    fn prepend() {
        assert_eq!(prepend_cwd(b"/", b"x"), b"/x");
        assert_eq!(prepend_cwd(b"/pub", b"x"), b"/pub/x");
        assert_eq!(prepend_cwd(b"/pub", b"/x"), b"/x");
        assert_eq!(prepend_cwd(b"/pub", b"../x"), b"/pub/../x");
        assert_eq!(prepend_cwd(b"/pub", b""), b"/pub/");
        // A cwd that ends with a slash gets no second one; `..` and `.` stay for the kernel.
        assert_eq!(prepend_cwd(b"/pub/", b"x"), b"/pub/x");
        assert_eq!(prepend_cwd(b"/", b"../.."), b"/../..");
        assert_eq!(prepend_cwd(b"/pub", b"missing/../x"), b"/pub/missing/../x");
        assert_eq!(prepend_cwd(b"/pub", b"a//./b"), b"/pub/a//./b");
        // Every byte passes through as given.
        assert_eq!(prepend_cwd(b"/p\xff", b"a\0b\r\n"), b"/p\xff/a\0b\r\n");
        assert_eq!(prepend_cwd(b"/pub", b"/"), b"/");
    }
}

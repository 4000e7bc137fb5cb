//! deny_file and hide_file: vsftpd's name patterns (`*`, `?`, `{a,b}`; the matcher is
//! [`crate::data::listing::filter_matches_counted`], bounded by [`crate::limits::MAX_GLOB_STEPS`]).
//!
//! # What vsftpd matches, and what we match
//! vsftpd (`access.c`) tests a pattern against a string in two ways: the filter matches the
//! whole string, or the pattern's text occurs in it literally. hide_file is tested against each
//! directory entry's name. deny_file is tested against the command's argument *as the client
//! typed it* (after `~` expansion): `RETR .private` is refused with `deny_file={.private}`, but
//! `RETR sub/.private` or `RETR .private/file` is not — a well-known way around it.
//!
//! Ours, for deny_file ([`NamePattern::denies_path`]): the same two tests against the path the
//! kernel will resolve (the argument joined to the working directory), against its lexically
//! normalised form, and against **every named component** of it. So a denied name cannot be
//! reached through a longer path, and nothing inside a denied directory can be reached either
//! (vsftpd's manual: "any attempt to do anything to them (download, change into directory,
//! affect something within directory etc.) will be denied"). Symlinks are not followed for
//! the test, as vsftpd. Denied entries still appear in listings, as vsftpd.

use crate::data::listing::filter_matches_counted;
use crate::proto::path::normalize_path;

/// A deny_file or hide_file pattern (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamePattern {
    text: Vec<u8>,
}

impl NamePattern {
    /// The pattern of a tunable's value; `None` for an unset or empty value (nothing matches).
    pub fn new(text: Option<&str>) -> Option<NamePattern> {
        let text = text?.as_bytes();
        (!text.is_empty()).then(|| NamePattern {
            text: text.to_vec(),
        })
    }

    /// vsftpd's test of one string: the filter matches it whole, or the pattern text occurs in
    /// it literally. Each call has its own step budget.
    pub fn matches(&self, s: &[u8]) -> bool {
        let mut steps = 0;
        filter_matches_counted(s, &self.text, &mut steps) || contains(s, &self.text)
    }

    /// hide_file: is this directory entry left out of listings?
    pub fn hides(&self, name: &[u8]) -> bool {
        self.matches(name)
    }

    /// deny_file: is this path (relative to the session root, `..` and all) refused? See the
    /// module docs.
    pub fn denies_path(&self, path: &[u8]) -> bool {
        if self.matches(path) {
            return true;
        }
        let normal = normalize_path(b"/", path);
        if self.matches(&normal) {
            return true;
        }
        path.split(|&b| b == b'/')
            .chain(normal.split(|&b| b == b'/'))
            .filter(|c| !c.is_empty() && *c != b"." && *c != b"..")
            .any(|c| self.matches(c))
    }
}

/// Does `needle` occur in `hay`? (Both are short: a name and a config value.)
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_none() {
        assert!(NamePattern::new(None).is_none());
        assert!(NamePattern::new(Some("")).is_none());
        assert!(NamePattern::new(Some("*")).is_some());
    }

    #[test]
    fn hide_names() {
        let p = NamePattern::new(Some("{*.mp3,*.mov,.private}")).unwrap();
        assert!(p.hides(b"song.mp3"));
        assert!(p.hides(b"a.mov"));
        assert!(p.hides(b".private"));
        assert!(!p.hides(b"song.ogg"));
        assert!(!p.hides(b"private"));
        // The literal-text test, as vsftpd.
        let lit = NamePattern::new(Some("secret")).unwrap();
        assert!(lit.hides(b"secret"));
        assert!(lit.hides(b"my-secret-file"));
        assert!(!lit.hides(b"secre"));
    }

    #[test]
    fn deny_paths() {
        let p = NamePattern::new(Some("{*.mp3,.private}")).unwrap();
        for denied in [
            &b".private"[..],
            b"/.private",
            b"/pub/.private",
            b"/pub/.private/file",
            b"/pub/../.private/x",
            b"/pub/x.mp3",
            b"x.mp3",
            b"/a.mp3/inside",
        ] {
            assert!(p.denies_path(denied), "{}", String::from_utf8_lossy(denied));
        }
        for allowed in [
            &b"/pub"[..],
            b"/pub/private",
            b"/pub/x.mp4",
            b"/",
            b"..",
            b"/pub/..",
        ] {
            assert!(
                !p.denies_path(allowed),
                "{}",
                String::from_utf8_lossy(allowed)
            );
        }
        // A pattern with a slash matches the whole (normalised) path.
        let abs = NamePattern::new(Some("/pub/secret*")).unwrap();
        assert!(abs.denies_path(b"/pub/secret1"));
        assert!(abs.denies_path(b"/pub/../pub/secret1"));
        assert!(!abs.denies_path(b"/other/secret1"));
        // A pattern matching every name denies every named path, not the root.
        let all = NamePattern::new(Some("*")).unwrap();
        assert!(all.denies_path(b"/x"));
    }

    #[test]
    fn bounded() {
        let bomb = "{a,b,c,d,e,f,g,h}".repeat(40) + "z";
        let p = NamePattern::new(Some(&bomb)).unwrap();
        let long = vec![b'a'; 4000];
        let start = std::time::Instant::now();
        assert!(!p.hides(&long));
        let mut path = Vec::new();
        for _ in 0..1000 {
            path.extend_from_slice(b"/abcdefg");
        }
        assert!(!p.denies_path(&path));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}

//! deny_file and hide_file: names a session may not touch, or does not see (the patterns and
//! what exactly they are matched against: [`crate::fs::pattern`]).

use super::Session;
use crate::fs::pattern::NamePattern;

impl Session<'_> {
    /// Is this path (as the kernel will resolve it: the argument joined to the cwd) refused by
    /// deny_file? Callers answer `550 Permission denied.`
    pub(super) fn denied(&self, path: &[u8]) -> bool {
        NamePattern::new(self.settings.config.deny_file.as_deref())
            .is_some_and(|p| p.denies_path(path))
    }

    /// hide_file's pattern, if set: entries it matches are left out of LIST, NLST, STAT and
    /// MLSD.
    pub(super) fn hide_pattern(&self) -> Option<NamePattern> {
        NamePattern::new(self.settings.config.hide_file.as_deref())
    }
}

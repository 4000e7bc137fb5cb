//! Local time for listings and MDTM with use_localtime (issue #4).

/// Loads the time zone while /etc/localtime is still visible: before any chroot.
pub fn init_local_time() {}

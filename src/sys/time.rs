//! Local time for listings and MDTM with use_localtime.
//!
//! glibc loads the time zone (`TZ`, else /etc/localtime) the first time it needs it and caches
//! it; inside a chroot those files are usually missing and glibc silently falls back to UTC.
//! So [`init_local_time`] runs `tzset()` once per process before any chroot, and
//! [`utc_offset_at`] uses `localtime_r`, which never reloads the zone (unlike `tzset` and
//! `localtime`), so it makes no system call and works under the seccomp filter.

use std::sync::Once;

static INIT: Once = Once::new();

extern "C" {
    /// POSIX tzset(3) (not bound by the libc crate).
    fn tzset();
}

/// Loads the time zone while /etc/localtime is still visible: before any chroot. Only the
/// first call in a process does anything (a later one may run inside the chroot, where a
/// reload would lose the zone); a forked child inherits the loaded zone.
pub fn init_local_time() {
    INIT.call_once(|| {
        // SAFETY: tzset takes no arguments and only updates libc's time-zone state; we call it
        // once, before the process has any other thread that could read that state.
        unsafe { tzset() };
    });
}

/// The local time zone's offset from UTC, in seconds east, at `t` (seconds since the epoch):
/// 19800 for Asia/Kolkata, 3600 or 7200 for Europe/Paris depending on DST. 0 if `t` cannot be
/// converted.
pub fn utc_offset_at(t: i64) -> i64 {
    // time_t is i64 on every 64-bit Linux; the conversion only matters elsewhere.
    #[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
    let t = libc::time_t::try_from(t).unwrap_or(libc::time_t::MAX);
    let mut tm = std::mem::MaybeUninit::<libc::tm>::zeroed();
    // SAFETY: `t` is a valid time_t and `tm` a writable struct tm; localtime_r fills it and
    // returns NULL on failure (then we read nothing from it).
    let r = unsafe { libc::localtime_r(&t, tm.as_mut_ptr()) };
    if r.is_null() {
        return 0;
    }
    // SAFETY: localtime_r succeeded, so `tm` is initialised.
    let tm = unsafe { tm.assume_init() };
    // tm_gmtoff is a C long: i64 on 64-bit Linux.
    #[allow(clippy::useless_conversion)]
    let offset = i64::from(tm.tm_gmtoff);
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_bounded_and_stable() {
        init_local_time();
        init_local_time();
        let off = utc_offset_at(1_710_506_096);
        assert!(off.abs() <= 14 * 3600, "{off}");
        assert!(utc_offset_at(i64::MAX).abs() <= 14 * 3600);
    }
}

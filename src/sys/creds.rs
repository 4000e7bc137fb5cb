//! Users, chroot and the switch to an unprivileged identity.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::cerr;

/// A system account, looked up before any chroot (NSS does not work inside a jail).
#[derive(Clone, Debug)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

/// getpwnam_r through nix; `Ok(None)` when the account does not exist.
pub fn lookup_user(name: &str) -> io::Result<Option<Account>> {
    match nix::unistd::User::from_name(name) {
        Ok(Some(u)) => Ok(Some(Account {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            home: u.dir,
        })),
        Ok(None) => Ok(None),
        Err(e) => Err(io::Error::from(e)),
    }
}

fn cpath(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in path"))
}

/// chroot(2) into `dir`, then chdir("/") so no directory outside the jail stays reachable.
pub fn chroot(dir: &Path) -> io::Result<()> {
    let c = cpath(dir)?;
    // SAFETY: chroot with a NUL-terminated path.
    cerr(unsafe { libc::chroot(c.as_ptr()) })?;
    // SAFETY: chdir with a constant NUL-terminated path.
    cerr(unsafe { libc::chdir(c"/".as_ptr()) })?;
    Ok(())
}

/// Becomes `uid`/`gid` for good: supplementary groups set to just `gid`, then gid, then uid
/// (the order matters: after setuid we could no longer change groups).
pub fn become_user(uid: u32, gid: u32) -> io::Result<()> {
    switch_ids(uid, uid, gid, &[gid])
}

/// As [`become_user`], with `groups` as the supplementary groups (a real user's, from
/// [`groups_of`]).
pub fn become_user_in_groups(uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    switch_ids(uid, uid, gid, groups)
}

/// The groups an account belongs to (initgroups' list: its primary group and every group that
/// names it), looked up through NSS: call it before any chroot.
pub fn groups_of(name: &str, gid: u32) -> io::Result<Vec<u32>> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in user name"))?;
    let groups =
        nix::unistd::getgrouplist(&c, nix::unistd::Gid::from_raw(gid)).map_err(io::Error::from)?;
    Ok(groups.into_iter().map(|g| g.as_raw()).collect())
}

/// The real uid `real_uid`, every other uid `uid`, every gid `gid`, supplementary `groups`.
fn switch_ids(real_uid: u32, uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
    // SAFETY: setgroups with a pointer to `groups.len()` valid gids.
    cerr(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })?;
    // SAFETY: setresgid/setresuid with integer arguments; all three ids set so none is kept.
    cerr(unsafe { libc::setresgid(gid, gid, gid) })?;
    // SAFETY: as above.
    cerr(unsafe { libc::setresuid(real_uid, uid, uid) })?;
    Ok(())
}

/// Set once this process has emptied its bounding set; a forked child inherits both the empty
/// set and this flag, so the daemon pays the ~40 prctl calls once, not twice per session.
static BOUNDING_SET_EMPTY: AtomicBool = AtomicBool::new(false);

/// Empties the capability bounding set and the ambient set, so that no later exec or setuid
/// can bring a capability back. Needs CAP_SETPCAP: call it while still root, before
/// `become_user` (which clears the permitted and effective sets itself). Does nothing in a
/// process (or the fork of one) where it already succeeded: neither set can grow back.
pub fn drop_bounding_set() -> io::Result<()> {
    if BOUNDING_SET_EMPTY.load(Ordering::Relaxed) {
        return Ok(());
    }
    for cap in 0..64 {
        // SAFETY: prctl with integer arguments only.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
        if r == -1 {
            let e = io::Error::last_os_error();
            // EINVAL: past the kernel's last capability.
            if e.raw_os_error() == Some(libc::EINVAL) {
                break;
            }
            return Err(e);
        }
    }
    // SAFETY: prctl with integer arguments only.
    cerr(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    })?;
    BOUNDING_SET_EMPTY.store(true, Ordering::Relaxed);
    Ok(())
}

/// The limits of a confined process: RLIMIT_NPROC 0 (it can no longer fork, which a session
/// never needs) and RLIMIT_CORE 0 (a crash leaves no core file, which could hold a password
/// or a client's data).
pub fn confined_limits() -> io::Result<()> {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    for resource in [libc::RLIMIT_NPROC, libc::RLIMIT_CORE] {
        // SAFETY: setrlimit with a valid rlimit struct.
        cerr(unsafe { libc::setrlimit(resource, &zero) })?;
    }
    Ok(())
}

/// The capabilities a helper may keep after login; no other one is ever kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// CAP_CHOWN: give anonymous uploads to chown_username (chown_uploads).
    Chown,
    /// CAP_NET_BIND_SERVICE: connect from a reserved ftp_data_port (connect_from_port_20).
    NetBindService,
}

impl Capability {
    fn to_caps(self) -> caps::Capability {
        match self {
            Capability::Chown => caps::Capability::CAP_CHOWN,
            Capability::NetBindService => caps::Capability::CAP_NET_BIND_SERVICE,
        }
    }
}

/// Becomes `uid`/`gid` as [`become_user`] does, except that the real uid is `real_uid`, keeping
/// exactly `keep` in the permitted and effective sets, and nothing inheritable or ambient. Call
/// it as root, after [`drop_bounding_set`]: with an empty bounding set nothing dropped here can
/// come back.
pub fn become_user_keeping(
    real_uid: u32,
    uid: u32,
    gid: u32,
    keep: &[Capability],
) -> io::Result<()> {
    let to_io = |e: caps::errors::CapsError| io::Error::other(e.to_string());
    // Without keepcaps the switch away from uid 0 empties the permitted set.
    // SAFETY: prctl with integer arguments only.
    cerr(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) })?;
    let switched = switch_ids(real_uid, uid, gid, &[gid]);
    // SAFETY: prctl with integer arguments only.
    let reset = cerr(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) });
    switched?;
    reset?;
    let set: caps::CapsHashSet = keep.iter().map(|c| c.to_caps()).collect();
    // The effective set must stay within the permitted one at every step: narrow it first.
    caps::set(None, caps::CapSet::Effective, &set).map_err(to_io)?;
    caps::set(None, caps::CapSet::Permitted, &set).map_err(to_io)?;
    caps::set(None, caps::CapSet::Inheritable, &caps::CapsHashSet::new()).map_err(to_io)?;
    caps::clear(None, caps::CapSet::Ambient).map_err(to_io)?;
    Ok(())
}

/// Makes the process not dumpable: no core file, and no process of the same uid may ptrace it
/// or read its memory through /proc (whose files then belong to root).
pub fn set_not_dumpable() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cerr(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) })?;
    Ok(())
}

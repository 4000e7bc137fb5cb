//! Readiness and status for a service manager (sd_notify), when NOTIFY_SOCKET is set.
//!
//! Failures are ignored on purpose: a daemon started without a service manager, or whose
//! manager went away, must serve all the same.

use sd_notify::NotifyState;

pub fn status(text: &str) {
    let _ = sd_notify::notify(false, &[NotifyState::Status(text)]);
}

pub fn ready() {
    let _ = sd_notify::notify(false, &[NotifyState::Ready]);
}

pub fn reloading() {
    let _ = sd_notify::notify(false, &[NotifyState::Reloading]);
}

pub fn stopping() {
    let _ = sd_notify::notify(false, &[NotifyState::Stopping]);
}

/// Forgets the notify socket in a session process: only the listener speaks for the service.
pub fn forget() {
    std::env::remove_var("NOTIFY_SOCKET");
}

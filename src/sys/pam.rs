//! A thin, safe binding of libpam (Linux-PAM), declared by hand.
//!
//! No generated bindings and no PAM crate: the few functions and constants we need are written
//! out below (their values are those of Linux-PAM's `<security/_pam_types.h>`), and we own the
//! conversation, so we know where every copy of the password lives.
//!
//! Rules for callers:
//! - All PAM work happens in the privileged helper, outside any chroot: the modules read
//!   /etc/pam.d, /etc/shadow and NSS, and dlopen shared objects, none of which a jail has.
//! - Never in a forked child of a process that holds a [`Pam`]: the child's copy would run
//!   `pam_end` on Drop and tear down the parent's session (credentials, session state). A child
//!   that must not touch it leaves with `_exit`, which runs no Drop.
//! - Not thread-safe: libpam and its modules keep global state. [`Pam`] is neither `Send` nor
//!   `Sync` (it holds raw pointers), so one handle stays on the thread that made it; do not run
//!   two handles on two threads either.
//! - pam_unix (and most modules) log through glibc's `syslog()`, to the system log socket,
//!   whatever socket the daemon's own log uses.
//! - [`Pam::close_session`] and [`Pam::delete_cred`] are the caller's to call: Drop only ends
//!   the transaction (`pam_end` with the last status), it does not close an open session.
//!
//! The conversation answers every echo-off prompt with the password given to
//! [`Pam::authenticate`] (only while it runs: at any other time such a prompt fails the
//! conversation) and every echo-on prompt with the user name given to [`Pam::start`]; error and
//! info messages get an empty answer; anything else fails the conversation, as does a password
//! or name with a NUL byte (a C string would cut it short). Our copy
//! of the password is overwritten with zeros as soon as `pam_authenticate` returns, and again
//! when the handle is dropped. The answers handed to libpam are its to free (Linux-PAM wipes
//! them before it frees them).

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::proto::password::wipe;

// Return codes.
/// Success.
pub const PAM_SUCCESS: c_int = 0;
/// A system error (also: a service or user name that is not a C string).
pub const PAM_SYSTEM_ERR: c_int = 4;
/// Memory could not be allocated.
pub const PAM_BUF_ERR: c_int = 5;
/// Authentication failed (wrong password, unknown user, locked account).
pub const PAM_AUTH_ERR: c_int = 7;
/// The account has expired.
pub const PAM_ACCT_EXPIRED: c_int = 13;
/// The conversation failed.
pub const PAM_CONV_ERR: c_int = 19;
/// An item could not be set (also: an item value that is not a C string).
pub const PAM_BAD_ITEM: c_int = 29;

// Message styles of the conversation.
/// Ask for a secret, without echo: the password.
pub const PAM_PROMPT_ECHO_OFF: c_int = 1;
/// Ask for a visible answer: the user name.
pub const PAM_PROMPT_ECHO_ON: c_int = 2;
/// An error message to show.
pub const PAM_ERROR_MSG: c_int = 3;
/// An informational message to show.
pub const PAM_TEXT_INFO: c_int = 4;

// Items.
/// The user name.
pub const PAM_USER: c_int = 2;
/// The terminal name (vsftpd sets "ftp").
pub const PAM_TTY: c_int = 3;
/// The remote host (the client's address).
pub const PAM_RHOST: c_int = 4;
/// The remote user name.
pub const PAM_RUSER: c_int = 8;

// Flags.
/// pam_setcred: establish the user's credentials.
pub const PAM_ESTABLISH_CRED: c_int = 0x2;
/// pam_setcred: delete them.
pub const PAM_DELETE_CRED: c_int = 0x4;

/// Linux-PAM's own bound on the messages of one conversation call (PAM_MAX_NUM_MSG).
const MAX_NUM_MSG: c_int = 32;

/// `pam_handle_t`, opaque.
#[repr(C)]
struct PamHandle {
    _private: [u8; 0],
}

/// `struct pam_message`.
#[repr(C)]
struct PamMessage {
    msg_style: c_int,
    msg: *const c_char,
}

/// `struct pam_response`; `resp_retcode` is unused and must be zero.
#[repr(C)]
struct PamResponse {
    resp: *mut c_char,
    resp_retcode: c_int,
}

/// libpam's functions of the handle and flags alone.
type PamCall = unsafe extern "C" fn(*mut PamHandle, c_int) -> c_int;

type ConvFn = unsafe extern "C" fn(
    num_msg: c_int,
    msg: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata_ptr: *mut c_void,
) -> c_int;

/// `struct pam_conv`.
#[repr(C)]
struct PamConv {
    conv: ConvFn,
    appdata_ptr: *mut c_void,
}

#[link(name = "pam")]
extern "C" {
    fn pam_start(
        service_name: *const c_char,
        user: *const c_char,
        pam_conversation: *const PamConv,
        pamh: *mut *mut PamHandle,
    ) -> c_int;
    fn pam_end(pamh: *mut PamHandle, pam_status: c_int) -> c_int;
    fn pam_authenticate(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_setcred(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_acct_mgmt(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_open_session(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_close_session(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_set_item(pamh: *mut PamHandle, item_type: c_int, item: *const c_void) -> c_int;
    fn pam_get_item(pamh: *const PamHandle, item_type: c_int, item: *mut *const c_void) -> c_int;
    fn pam_strerror(pamh: *mut PamHandle, errnum: c_int) -> *const c_char;
}

/// A PAM failure: the code a libpam call returned and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PamError {
    /// The PAM return code (`PAM_AUTH_ERR`, …).
    pub code: i32,
    /// `pam_strerror`'s text for `code`; for a name or item refused before libpam saw it
    /// (a NUL byte), our own text saying so.
    pub text: String,
}

impl PamError {
    /// The error for `code`, with libpam's text for it.
    fn from_code(pamh: *mut PamHandle, code: c_int) -> PamError {
        // SAFETY: Linux-PAM's pam_strerror does not use the handle (it may be null) and returns
        // a pointer to a constant (possibly translated) string, or null; we copy it at once.
        let p = unsafe { pam_strerror(pamh, code) };
        let text = if p.is_null() {
            format!("unknown PAM error {code}")
        } else {
            // SAFETY: a non-null result of pam_strerror is a NUL-terminated string.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        };
        PamError { code, text }
    }

    /// A value refused before libpam saw it because it holds a NUL byte.
    fn nul_in(what: &str, code: c_int) -> PamError {
        PamError {
            code,
            text: format!("NUL byte in {what}"),
        }
    }
}

impl fmt::Display for PamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (PAM code {})", self.text, self.code)
    }
}

impl std::error::Error for PamError {}

/// What the conversation answers with; reached by libpam through `appdata_ptr`.
struct ConvState {
    /// The name given to [`Pam::start`], for echo-on prompts.
    user: Vec<u8>,
    /// The password, present only while `pam_authenticate` runs: an echo-off prompt at any
    /// other time fails the conversation.
    password: Option<Vec<u8>>,
}

impl ConvState {
    /// Wipes and forgets the password.
    fn forget_password(&mut self) {
        if let Some(mut p) = self.password.take() {
            wipe(&mut p);
        }
    }
}

/// One PAM transaction (`pam_handle_t`), ended with `pam_end` on Drop. Neither `Send` nor
/// `Clone`: see the module documentation.
pub struct Pam {
    handle: *mut PamHandle,
    /// The status of the last libpam call, handed to `pam_end`.
    last_status: c_int,
    /// From `Box::into_raw`; libpam holds a pointer to it (or to its copy) until `pam_end`.
    conv: *mut PamConv,
    /// From `Box::into_raw`; `conv.appdata_ptr` points here. Only touched through this raw
    /// pointer, never while a libpam call (and so the conversation) may be running.
    state: *mut ConvState,
}

impl Pam {
    /// `pam_start(service, user, conv)`. A `service` or `user` holding a NUL byte is refused
    /// with `PAM_SYSTEM_ERR` before libpam sees it.
    pub fn start(service: &str, user: &[u8]) -> Result<Pam, PamError> {
        let c_service = CString::new(service)
            .map_err(|_| PamError::nul_in("PAM service name", PAM_SYSTEM_ERR))?;
        let c_user =
            CString::new(user).map_err(|_| PamError::nul_in("PAM user name", PAM_SYSTEM_ERR))?;
        let state = Box::into_raw(Box::new(ConvState {
            user: user.to_vec(),
            password: None,
        }));
        let conv = Box::into_raw(Box::new(PamConv {
            conv: converse,
            appdata_ptr: state.cast::<c_void>(),
        }));
        let mut handle: *mut PamHandle = ptr::null_mut();
        // SAFETY: both strings are NUL-terminated and live across the call (libpam copies
        // them); `conv` is a valid pam_conv that stays allocated until Drop; `handle` is a
        // valid place for the result.
        let rc = unsafe { pam_start(c_service.as_ptr(), c_user.as_ptr(), conv, &mut handle) };
        if rc != PAM_SUCCESS || handle.is_null() {
            // On failure libpam has freed whatever it allocated: no pam_end.
            // SAFETY: both pointers come from Box::into_raw above and libpam keeps no use of
            // them after a failed pam_start.
            unsafe {
                drop(Box::from_raw(conv));
                drop(Box::from_raw(state));
            }
            let code = if rc == PAM_SUCCESS {
                PAM_SYSTEM_ERR
            } else {
                rc
            };
            return Err(PamError::from_code(ptr::null_mut(), code));
        }
        Ok(Pam {
            handle,
            last_status: PAM_SUCCESS,
            conv,
            state,
        })
    }

    /// Records `rc` as the last status and turns it into a `Result`.
    fn check(&mut self, rc: c_int) -> Result<(), PamError> {
        self.last_status = rc;
        if rc == PAM_SUCCESS {
            Ok(())
        } else {
            Err(PamError::from_code(self.handle, rc))
        }
    }

    /// pam_set_item for a string item; a value with a NUL byte is refused with `PAM_BAD_ITEM`.
    fn set_string_item(&mut self, item: c_int, value: &[u8], what: &str) -> Result<(), PamError> {
        let c = CString::new(value).map_err(|_| PamError::nul_in(what, PAM_BAD_ITEM))?;
        // SAFETY: the handle is live (from a successful pam_start, not yet ended); `c` is a
        // NUL-terminated string that libpam copies.
        let rc = unsafe { pam_set_item(self.handle, item, c.as_ptr().cast::<c_void>()) };
        self.check(rc)
    }

    /// Sets PAM_RHOST, the client's address.
    pub fn set_rhost(&mut self, host: &str) -> Result<(), PamError> {
        self.set_string_item(PAM_RHOST, host.as_bytes(), "PAM_RHOST")
    }

    /// Sets PAM_TTY (vsftpd sets "ftp").
    pub fn set_tty(&mut self, tty: &str) -> Result<(), PamError> {
        self.set_string_item(PAM_TTY, tty.as_bytes(), "PAM_TTY")
    }

    /// Sets PAM_RUSER, the remote user name.
    pub fn set_ruser(&mut self, user: &[u8]) -> Result<(), PamError> {
        self.set_string_item(PAM_RUSER, user, "PAM_RUSER")
    }

    /// `pam_authenticate(0)`, the conversation answering with `password`. Our copy of the
    /// password is wiped before this returns. A password holding a NUL byte fails the
    /// conversation (`PAM_CONV_ERR`), so the stack fails it (the code is the stack's).
    pub fn authenticate(&mut self, password: &[u8]) -> Result<(), PamError> {
        {
            // SAFETY: `state` is the live allocation from start(); no libpam call runs now,
            // so nothing else accesses it.
            let state = unsafe { &mut *self.state };
            state.forget_password();
            let mut copy = Vec::with_capacity(password.len());
            copy.extend_from_slice(password);
            state.password = Some(copy);
        }
        // SAFETY: the handle is live; the conversation reaches `state`, alive until Drop.
        let rc = unsafe { pam_authenticate(self.handle, 0) };
        // SAFETY: as above; pam_authenticate has returned, so the conversation is done.
        unsafe { &mut *self.state }.forget_password();
        self.check(rc)
    }

    /// One of libpam's calls that take the handle and flags: the status recorded, as a
    /// `Result`.
    fn call(&mut self, f: PamCall, flags: c_int) -> Result<(), PamError> {
        // SAFETY: the handle is live (from a successful pam_start, not yet ended); `f` is one
        // of libpam's (pamh, flags) functions.
        let rc = unsafe { f(self.handle, flags) };
        self.check(rc)
    }

    /// `pam_acct_mgmt(0)`: is the account usable now (not expired, not locked by policy)?
    pub fn acct_mgmt(&mut self) -> Result<(), PamError> {
        self.call(pam_acct_mgmt, 0)
    }

    /// `pam_setcred(PAM_ESTABLISH_CRED)`. Call it before giving up root.
    pub fn establish_cred(&mut self) -> Result<(), PamError> {
        self.call(pam_setcred, PAM_ESTABLISH_CRED)
    }

    /// `pam_setcred(PAM_DELETE_CRED)`.
    pub fn delete_cred(&mut self) -> Result<(), PamError> {
        self.call(pam_setcred, PAM_DELETE_CRED)
    }

    /// `pam_open_session(0)`.
    pub fn open_session(&mut self) -> Result<(), PamError> {
        self.call(pam_open_session, 0)
    }

    /// `pam_close_session(0)`.
    pub fn close_session(&mut self) -> Result<(), PamError> {
        self.call(pam_close_session, 0)
    }

    /// PAM_USER as the stack left it (a module may have mapped the name), as bytes; `None`
    /// when it is unset or cannot be read.
    pub fn user(&self) -> Option<Vec<u8>> {
        let mut item: *const c_void = ptr::null();
        // SAFETY: the handle is live; `item` is a valid place for the result.
        let rc = unsafe { pam_get_item(self.handle, PAM_USER, &mut item) };
        if rc != PAM_SUCCESS || item.is_null() {
            return None;
        }
        // SAFETY: PAM_USER is a NUL-terminated string owned by libpam, valid until the item
        // changes or pam_end; we copy it at once.
        Some(
            unsafe { CStr::from_ptr(item.cast::<c_char>()) }
                .to_bytes()
                .to_vec(),
        )
    }
}

impl Drop for Pam {
    fn drop(&mut self) {
        // SAFETY: the handle is live and ended exactly once, here.
        unsafe { pam_end(self.handle, self.last_status) };
        // SAFETY: both pointers come from Box::into_raw in start(); after pam_end libpam no
        // longer uses them, and they are freed exactly once, here.
        unsafe {
            let mut state = Box::from_raw(self.state);
            state.forget_password();
            drop(state);
            drop(Box::from_raw(self.conv));
        }
    }
}

/// A malloc'd, NUL-terminated copy of `bytes` (libpam frees it with free()); `Err` with the PAM
/// code when `bytes` holds a NUL (it would be cut short) or memory runs out.
fn malloc_cstring(bytes: &[u8]) -> Result<*mut c_char, c_int> {
    if bytes.contains(&0) {
        return Err(PAM_CONV_ERR);
    }
    // SAFETY: malloc with a non-zero size; the result is checked for null.
    let p = unsafe { libc::malloc(bytes.len() + 1) }.cast::<u8>();
    if p.is_null() {
        return Err(PAM_BUF_ERR);
    }
    // SAFETY: `p` has room for `bytes.len() + 1` bytes and does not overlap `bytes`.
    unsafe {
        ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        *p.add(bytes.len()) = 0;
    }
    Ok(p.cast::<c_char>())
}

/// Frees the first `n` answers of `replies` and then the array itself, wiping each answer first
/// (one may be the password).
///
/// # Safety
/// `replies` comes from calloc with at least `n` elements, each `resp` null or from malloc
/// holding a NUL-terminated string.
unsafe fn free_replies(replies: *mut PamResponse, n: usize) {
    for i in 0..n {
        // SAFETY: `i < n`, within the array, per the contract.
        let r = unsafe { &mut *replies.add(i) };
        if !r.resp.is_null() {
            // SAFETY: a NUL-terminated malloc'd string, per the contract.
            let len = unsafe { libc::strlen(r.resp) };
            // SAFETY: `len` bytes at `r.resp` are ours to write.
            wipe(unsafe { std::slice::from_raw_parts_mut(r.resp.cast::<u8>(), len) });
            // SAFETY: from malloc, freed once.
            unsafe { libc::free(r.resp.cast::<c_void>()) };
            r.resp = ptr::null_mut();
        }
    }
    // SAFETY: from calloc, freed once.
    unsafe { libc::free(replies.cast::<c_void>()) };
}

/// The conversation function libpam calls. Never unwinds into C: a panic becomes PAM_CONV_ERR.
///
/// # Safety
/// As [`converse_inner`]: libpam calls it with valid arguments.
unsafe extern "C" fn converse(
    num_msg: c_int,
    msg: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata_ptr: *mut c_void,
) -> c_int {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: libpam passes what `converse_inner` expects; every pointer is checked for
        // null there before use.
        unsafe { converse_inner(num_msg, msg, resp, appdata_ptr) }
    }))
    .unwrap_or(PAM_CONV_ERR)
}

/// The body of [`converse`].
///
/// # Safety
/// When non-null: `msg` points to `num_msg` pointers to pam_messages, `resp` is writable, and
/// `appdata_ptr` is the `ConvState` of a live [`Pam`] that nothing else accesses meanwhile.
unsafe fn converse_inner(
    num_msg: c_int,
    msg: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata_ptr: *mut c_void,
) -> c_int {
    if resp.is_null() {
        return PAM_CONV_ERR;
    }
    // SAFETY: `resp` is non-null and writable; no answer until we succeed.
    unsafe { *resp = ptr::null_mut() };
    if msg.is_null() || appdata_ptr.is_null() || !(1..=MAX_NUM_MSG).contains(&num_msg) {
        return PAM_CONV_ERR;
    }
    // SAFETY: a non-null appdata_ptr is the ConvState of a live Pam, per the contract; we
    // only read it.
    let state = unsafe { &*appdata_ptr.cast::<ConvState>() };
    let Ok(n) = usize::try_from(num_msg) else {
        return PAM_CONV_ERR;
    };
    // SAFETY: calloc with small non-zero sizes; the result is checked for null.
    let replies =
        unsafe { libc::calloc(n, std::mem::size_of::<PamResponse>()) }.cast::<PamResponse>();
    if replies.is_null() {
        return PAM_BUF_ERR;
    }
    for i in 0..n {
        // SAFETY: `msg` holds `num_msg` pointers (Linux-PAM's layout: an array of pointers).
        let m = unsafe { *msg.add(i) };
        if m.is_null() {
            // SAFETY: `replies` from calloc with `n` elements, the first `i` filled by us.
            unsafe { free_replies(replies, i) };
            return PAM_CONV_ERR;
        }
        // SAFETY: a non-null message pointer from libpam points to a pam_message.
        let style = unsafe { (*m).msg_style };
        let answer = match style {
            PAM_PROMPT_ECHO_OFF => match &state.password {
                Some(p) => malloc_cstring(p),
                None => Err(PAM_CONV_ERR),
            },
            PAM_PROMPT_ECHO_ON => malloc_cstring(&state.user),
            PAM_ERROR_MSG | PAM_TEXT_INFO => Ok(ptr::null_mut()),
            _ => Err(PAM_CONV_ERR),
        };
        match answer {
            // SAFETY: `i < n`, within the calloc'd array.
            Ok(p) => unsafe { (*replies.add(i)).resp = p },
            Err(code) => {
                // SAFETY: as above.
                unsafe { free_replies(replies, i) };
                return code;
            }
        }
    }
    // SAFETY: `resp` is non-null and writable; libpam now owns `replies`.
    unsafe { *resp = replies };
    PAM_SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_service_or_user_is_an_error() {
        let e = Pam::start("vsftpd\0x", b"alice").err().expect("refused");
        assert_eq!(e.code, PAM_SYSTEM_ERR);
        assert!(e.text.contains("service"), "{e}");
        let e = Pam::start("vsftpd", b"al\0ice").err().expect("refused");
        assert_eq!(e.code, PAM_SYSTEM_ERR);
        assert!(e.text.contains("user"), "{e}");
    }

    #[test]
    fn display_shows_text_and_code() {
        let e = PamError::from_code(ptr::null_mut(), PAM_AUTH_ERR);
        assert_eq!(e.code, 7);
        assert!(!e.text.is_empty());
        assert_eq!(e.to_string(), format!("{} (PAM code 7)", e.text));
        let e = PamError {
            code: 19,
            text: "Conversation error".into(),
        };
        assert_eq!(e.to_string(), "Conversation error (PAM code 19)");
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(boxed.to_string().contains("19"));
    }

    /// Runs the conversation on `styles` with `state`; the answers as Rust values, freed.
    fn run(styles: &[c_int], state: &mut ConvState) -> Result<Vec<Option<Vec<u8>>>, c_int> {
        let prompt = c"prompt:";
        let messages: Vec<PamMessage> = styles
            .iter()
            .map(|&s| PamMessage {
                msg_style: s,
                msg: prompt.as_ptr(),
            })
            .collect();
        let mut ptrs: Vec<*const PamMessage> = messages.iter().map(|m| m as *const _).collect();
        let mut resp: *mut PamResponse = ptr::null_mut();
        let n = c_int::try_from(styles.len()).unwrap();
        // SAFETY: every pointer is valid, `ptrs` holds `n` message pointers.
        let rc = unsafe {
            converse(
                n,
                ptrs.as_mut_ptr(),
                &mut resp,
                (state as *mut ConvState).cast(),
            )
        };
        if rc != PAM_SUCCESS {
            assert!(resp.is_null());
            return Err(rc);
        }
        assert!(!resp.is_null());
        let mut out = Vec::new();
        for i in 0..styles.len() {
            // SAFETY: the conversation returned `n` answers.
            let r = unsafe { &*resp.add(i) };
            assert_eq!(r.resp_retcode, 0);
            out.push(if r.resp.is_null() {
                None
            } else {
                // SAFETY: a NUL-terminated malloc'd string.
                Some(unsafe { CStr::from_ptr(r.resp) }.to_bytes().to_vec())
            });
        }
        // SAFETY: the answers as the conversation made them.
        unsafe { free_replies(resp, styles.len()) };
        Ok(out)
    }

    fn state() -> ConvState {
        ConvState {
            user: b"alice".to_vec(),
            password: Some(b"s3cret".to_vec()),
        }
    }

    #[test]
    fn conversation_answers_each_style() {
        let mut s = state();
        let out = run(
            &[
                PAM_TEXT_INFO,
                PAM_PROMPT_ECHO_ON,
                PAM_PROMPT_ECHO_OFF,
                PAM_ERROR_MSG,
            ],
            &mut s,
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                None,
                Some(b"alice".to_vec()),
                Some(b"s3cret".to_vec()),
                None
            ]
        );
    }

    #[test]
    fn conversation_refuses_what_it_cannot_answer() {
        let mut s = state();
        assert_eq!(run(&[PAM_PROMPT_ECHO_ON, 5], &mut s), Err(PAM_CONV_ERR));
        assert_eq!(run(&[], &mut s), Err(PAM_CONV_ERR));
        assert_eq!(run(&[PAM_TEXT_INFO; 33], &mut s), Err(PAM_CONV_ERR));
        assert_eq!(run(&[PAM_TEXT_INFO; 32], &mut s).unwrap().len(), 32);
        s.password = Some(b"pass\0word".to_vec());
        assert_eq!(
            run(&[PAM_PROMPT_ECHO_ON, PAM_PROMPT_ECHO_OFF], &mut s),
            Err(PAM_CONV_ERR)
        );
    }

    #[test]
    fn conversation_checks_its_pointers() {
        let mut s = state();
        let mut resp: *mut PamResponse = ptr::null_mut();
        let sp: *mut c_void = (&mut s as *mut ConvState).cast();
        let m = PamMessage {
            msg_style: PAM_PROMPT_ECHO_OFF,
            msg: ptr::null(),
        };
        let mut one: [*const PamMessage; 1] = [&m];
        let mut null_msg: [*const PamMessage; 1] = [ptr::null()];
        // SAFETY: each call passes valid pointers or nulls, which the conversation checks.
        unsafe {
            assert_eq!(converse(1, ptr::null_mut(), &mut resp, sp), PAM_CONV_ERR);
            assert_eq!(
                converse(1, null_msg.as_mut_ptr(), &mut resp, sp),
                PAM_CONV_ERR
            );
            assert!(resp.is_null());
            assert_eq!(
                converse(1, one.as_mut_ptr(), ptr::null_mut(), sp),
                PAM_CONV_ERR
            );
            assert_eq!(
                converse(1, one.as_mut_ptr(), &mut resp, ptr::null_mut()),
                PAM_CONV_ERR
            );
            assert_eq!(converse(-1, one.as_mut_ptr(), &mut resp, sp), PAM_CONV_ERR);
            assert!(resp.is_null());
        }
    }

    #[test]
    fn echo_off_without_a_password_fails() {
        let mut s = state();
        s.password = None;
        assert_eq!(run(&[PAM_PROMPT_ECHO_OFF], &mut s), Err(PAM_CONV_ERR));
        assert_eq!(
            run(&[PAM_PROMPT_ECHO_ON], &mut s),
            Ok(vec![Some(b"alice".to_vec())])
        );
    }

    #[test]
    fn forget_password_forgets() {
        let mut s = state();
        s.forget_password();
        assert!(s.password.is_none());
    }
}

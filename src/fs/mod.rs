//! Paths inside the session root. Resolution itself is the kernel's (openat2 with
//! RESOLVE_IN_ROOT, see sys::fs). Here: the deny_file / hide_file patterns ([`pattern`]) and the
//! session root's own user database for text_userdb_names ([`userdb`]).
#![forbid(unsafe_code)]

pub mod pattern;
pub mod userdb;

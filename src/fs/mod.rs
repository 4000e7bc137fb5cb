//! Paths inside the session root. Resolution itself is the kernel's (openat2 with
//! RESOLVE_IN_ROOT, see sys::fs); deny_file / hide_file patterns come with issue #4.
#![forbid(unsafe_code)]

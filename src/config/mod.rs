//! (stub: replaced by the config work)
#![forbid(unsafe_code)]

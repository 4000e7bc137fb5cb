//! Data connections and their payloads: directory listings ([`listing`]: vsftpd's `ls -l`
//! output byte for byte, NLST, the bounded glob filter and `LIST -R`), passive sockets
//! ([`passive`]) and file transfers ([`transfer`]).
#![forbid(unsafe_code)]

pub mod active;
pub mod ascii;
pub mod listing;
pub mod mlsx;
pub mod passive;
pub mod transfer;

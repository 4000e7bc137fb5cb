//! Data connections and their payloads: directory listings ([`listing`]: vsftpd's `ls -l`
//! output byte for byte, NLST, the bounded glob filter and `LIST -R`), passive sockets
//! ([`passive`]), file transfers ([`transfer`]), and real paths beneath the session root as
//! vsftpd's getcwd()/realpath() see them in its chroot ([`realpath`]: PWD, the listing filter).
#![forbid(unsafe_code)]

pub mod active;
pub mod ascii;
pub mod listing;
pub mod mlsx;
pub mod passive;
pub mod realpath;
pub mod transfer;

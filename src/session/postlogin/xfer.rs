//! Data connections and downloads: PASV, EPSV, REST, RETR (and, with issue #5, PORT, EPRT, ABOR).

use std::fs::File;
use std::io::Seek;
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use super::Session;
use crate::data::passive::{self, AcceptError};
use crate::data::transfer::{self, TransferError};
use crate::log::Kind;
use crate::proto::reply::{self};
use crate::session::control::Ended;
use crate::sys::fs::{self as sysfs, OpenKind};
use crate::tls::data::{DataConn, Endings};

impl Session<'_> {
    /// The address to put in a 227 reply: pasv_address, or the control connection's own
    /// (IPv4) address.
    pub(super) fn pasv_reply_ip(&self) -> Ipv4Addr {
        if let Some(a) = self.settings.config.pasv_address.as_deref() {
            if let Ok(ip) = a.parse::<Ipv4Addr>() {
                return ip;
            }
        }
        match passive::canonical_ip(self.ctrl.local.ip()) {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        }
    }

    pub(super) fn open_pasv(&mut self) -> Option<u16> {
        self.port_target = None;
        self.passive.listen().ok()
    }

    pub(super) fn pasv(&mut self, _extended: bool) -> Result<(), Ended> {
        if !self.settings.config.pasv_enable || self.epsv_all {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let Some(port) = self.open_pasv() else {
            return self.ctrl.reply(reply::PASV_FAILED);
        };
        let r = reply::pasv(self.pasv_reply_ip(), port);
        self.ctrl.send(&r)
    }

    pub(super) fn epsv(&mut self, arg: &[u8]) -> Result<(), Ended> {
        if !self.settings.config.pasv_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        if arg.eq_ignore_ascii_case(b"ALL") {
            self.epsv_all = true;
            return self.ctrl.reply(reply::EPSV_ALL_OK);
        }
        let family_ok = match arg {
            b"" => true,
            b"1" => passive::canonical_ip(self.ctrl.local.ip()).is_ipv4(),
            b"2" => passive::canonical_ip(self.ctrl.local.ip()).is_ipv6(),
            _ => false,
        };
        if !family_ok {
            return self.ctrl.reply(reply::EPSV_BAD_PROTOCOL);
        }
        let Some(port) = self.open_pasv() else {
            return self.ctrl.reply(reply::PASV_FAILED);
        };
        let r = reply::epsv(port);
        self.ctrl.send(&r)
    }

    /// Takes the data connection the client was told about, or sends the reply that says
    /// why there is none.
    pub(super) fn data_connection(&mut self) -> Result<Option<TcpStream>, Ended> {
        let anonymous = self.login.has_anonymous_rights();
        if crate::session::secure::data_refused(&self.settings.config, anonymous, &self.ctrl) {
            self.ctrl.reply(reply::DATA_MUST_ENCRYPT)?;
            return Ok(None);
        }
        if let Some(target) = self.port_target.take() {
            return self.active_connection(target);
        }
        if !self.passive.is_listening() {
            self.ctrl.reply(reply::USE_PORT_OR_PASV)?;
            return Ok(None);
        }
        match self.passive.accept() {
            Ok(s) => {
                self.ready_data_socket(&s);
                Ok(Some(s))
            }
            Err(AcceptError::BadIp) => {
                self.ctrl.reply(reply::BAD_IP_CONNECTING)?;
                Ok(None)
            }
            Err(AcceptError::NotListening) => {
                self.ctrl.reply(reply::USE_PORT_OR_PASV)?;
                Ok(None)
            }
            Err(_) => {
                self.ctrl.reply(reply::FAILED_TO_ESTABLISH)?;
                Ok(None)
            }
        }
    }

    /// After the 150 reply (clients start TLS on the data connection only once they have
    /// read it, as vsftpd expects): under PROT P the handshake, which with require_ssl_reuse
    /// must resume this session's TLS session. A failure sends vsftpd's 522 and gives `None`.
    pub(super) fn secure_data(&mut self, mut sock: TcpStream) -> Result<Option<DataConn>, Ended> {
        if !self.ctrl.secure.data {
            return Ok(Some(DataConn::Plain(sock)));
        }
        let c = &self.settings.config;
        let Some(config) = crate::tls::session_config() else {
            self.ctrl.reply(reply::SSL_FAILED)?;
            return Ok(None);
        };
        let timeout = (c.data_connection_timeout > 0)
            .then(|| Duration::from_secs(u64::from(c.data_connection_timeout)));
        // TLS writes whole records; Nagle would only hold back the handshake's last flight
        // and the close_notify behind the client's delayed ACK (up to 200 ms a transfer).
        let _ = sock.set_nodelay(true);
        let conn = match crate::tls::accept(config, &mut sock, timeout) {
            Ok(conn) => conn,
            Err(why) => {
                crate::log::note(&format!("TLS handshake on a data connection failed: {why}"));
                self.ctrl.reply(reply::SSL_FAILED)?;
                return Ok(None);
            }
        };
        crate::tls::debug(c, "data connection", &conn);
        if c.require_ssl_reuse && !crate::tls::resumed(&conn) {
            self.ctrl.reply(reply::SSL_REUSE_REQUIRED)?;
            return Ok(None);
        }
        let endings = Endings {
            strict_read_eof: c.strict_ssl_read_eof,
            strict_write_shutdown: c.strict_ssl_write_shutdown,
        };
        Ok(Some(DataConn::tls(conn, sock, endings)))
    }

    /// What every data connection gets once it is up, passive or active: the write timeout
    /// (data_connection_timeout) and a short queue of unsent bytes (speed only; a kernel
    /// that refuses it changes nothing else).
    pub(super) fn ready_data_socket(&self, s: &TcpStream) {
        let d = u64::from(self.settings.config.data_connection_timeout);
        if d > 0 {
            let _ = s.set_write_timeout(Some(Duration::from_secs(d)));
        }
        let _ = crate::sys::net::set_notsent_lowat(s.as_fd(), crate::limits::DATA_NOTSENT_LOWAT);
    }

    pub(super) fn retr(&mut self, arg: &[u8], rest: u64) -> Result<(), Ended> {
        if !self.settings.config.download_enable {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        // vsftpd's order: a data connection must be set up, then a resume in ASCII mode (TYPE
        // A, whether or not ascii_download_enable converts) is refused, then the file opened.
        if self.port_target.is_none() && !self.passive.is_listening() {
            return self.ctrl.reply(reply::USE_PORT_OR_PASV);
        }
        if self.ascii && rest != 0 {
            return self.ctrl.reply(reply::NO_ASCII_RESUME);
        }
        let path = self.arg_path(arg);
        // Logged from here on, either way (vsftpd: after the data connection and ASCII checks).
        self.ctrl
            .log
            .start(Kind::Download, path.clone(), self.ascii);
        if self.denied(&path)
            || !super::write::name_allowed(self.settings.config.download_file.as_deref(), &path)
        {
            return self.ctrl.reply(reply::PERMISSION_DENIED);
        }
        let opened = sysfs::open_in_root(self.root.as_fd(), &path, OpenKind::Read)
            .and_then(|fd| sysfs::fstat(fd.as_fd()).map(|st| (fd, st)));
        let (fd, st) = match opened {
            Ok((fd, st)) if st.is_regular() && self.may_read(st.mode) => (fd, st),
            _ => return self.ctrl.reply(reply::OPEN_FAILED),
        };
        let mut file = File::from(fd);
        if self.settings.config.lock_upload_files && sysfs::lock_whole(file.as_fd(), false).is_err()
        {
            return self.ctrl.reply(reply::OPEN_FAILED);
        }
        // An offset at or past the end is accepted: the transfer then sends nothing (vsftpd;
        // no seek, which could fail beyond the filesystem's largest offset).
        if rest > 0 && rest < st.size && crate::sys::net::seek_to(file.as_fd(), rest).is_err() {
            return self.ctrl.reply(reply::OPEN_FAILED);
        }
        let Some(data) = self.data_connection()? else {
            return Ok(());
        };
        let c = &self.settings.config;
        let ascii = self.ascii && c.ascii_download_enable;
        let opts = transfer::SendOptions {
            use_sendfile: c.use_sendfile,
            ascii,
            rate_max: self.rate_max(),
            trans_chunk_size: c.trans_chunk_size,
            data_timeout: (c.data_connection_timeout > 0)
                .then(|| Duration::from_secs(u64::from(c.data_connection_timeout))),
        };
        let opening = reply::retr_opening(ascii, arg, st.size);
        self.ctrl.send(&opening)?;
        let Some(mut data) = self.secure_data(data)? else {
            return Ok(());
        };
        let len = st.size.saturating_sub(rest);
        let result =
            transfer::send_file(&mut file, &mut data, len, opts, &mut self.ctrl).and_then(|n| {
                data.finish(true)
                    .map(|()| n)
                    .map_err(|_| TransferError::Write)
            });
        drop(data);
        // A failed transfer's count: how far the file was read.
        let start = if rest < st.size { rest } else { 0 };
        let bytes = match result {
            Ok(n) => n,
            Err(_) => (&file)
                .stream_position()
                .map_or(0, |p| p.saturating_sub(start)),
        };
        self.ctrl.log.done(result.is_ok(), bytes);
        self.transfer_end(result.map(drop), false)
    }

    /// The reply that ends a transfer, either way (vsftpd's texts); a data timeout or a lost
    /// control connection ends the session.
    pub(super) fn transfer_end(
        &mut self,
        result: Result<(), TransferError>,
        upload: bool,
    ) -> Result<(), Ended> {
        match result {
            Ok(()) => self.ctrl.reply(reply::TRANSFER_OK),
            Err(TransferError::Read) => self.ctrl.reply(reply::READ_FAILED),
            Err(TransferError::Write) => self.ctrl.reply(reply::WRITE_FAILED),
            Err(TransferError::NetRead) => self.ctrl.reply(reply::NETWORK_READ_FAILED),
            Err(TransferError::LocalWrite) => self.ctrl.reply(reply::LOCAL_WRITE_FAILED),
            Err(TransferError::Aborted) => {
                self.ctrl.reply(if upload {
                    reply::NETWORK_READ_FAILED
                } else {
                    reply::WRITE_FAILED
                })?;
                self.ctrl.reply(reply::ABOR_OK)
            }
            Err(TransferError::DataTimeout) => {
                let _ = self.ctrl.reply(reply::DATA_TIMEOUT);
                Err(Ended::Timeout)
            }
            Err(TransferError::ControlLost) => Err(Ended::Closed),
        }
    }

    /// The session's rate limit in bytes per second (0: none): anon_max_rate for anonymous
    /// sessions, local_max_rate for the others (vsftpd).
    pub(super) fn rate_max(&self) -> u64 {
        let c = &self.settings.config;
        if self.login.has_anonymous_rights() {
            u64::from(c.anon_max_rate)
        } else {
            u64::from(c.local_max_rate)
        }
    }

    /// REST as vsftpd parses it: up to 15 decimal digits and nothing else, or the offset is 0
    /// (`REST -5`, `REST abc`, `REST 12abc` and an empty argument all give 0).
    pub(super) fn rest_cmd(&mut self, arg: &[u8]) -> Result<(), Ended> {
        let value = if arg.len() <= 15 && arg.iter().all(u8::is_ascii_digit) {
            arg.iter()
                .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'))
        } else {
            0
        };
        self.rest = value;
        self.ctrl.send(&reply::rest_ok(value))
    }
}

//! Issue #5, transfers: ASCII downloads, REST, the rate limit, a file that shrinks under the
//! transfer, the idle/data/accept timeouts and ABOR during a transfer (raw client, Python's
//! ftplib). Timing assertions are lower bounds with a generous upper bound.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

/// Reads `n` bytes (or to EOF) from the data connection.
fn read_some(data: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut got = vec![0u8; n];
    let mut at = 0;
    while at < n {
        match data.read(&mut got[at..]) {
            Ok(0) => break,
            Ok(k) => at += k,
            // A socket with a receive timeout returns EINTR when the process was stopped and
            // continued (signal(7)), even without a handler: not the server's doing.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("reading the data connection after {at} bytes: {e}"),
        }
    }
    got.truncate(at);
    got
}

/// PASV/EPSV, then `REST arg` (asserting vsftpd's 350 with `offset`), then `cmd`: REST comes
/// right before the transfer, as clients send it.
fn transfer_at(c: &mut FtpClient, arg: &str, offset: u64, cmd: &str) -> Transfer {
    let mut data = c.open_data();
    c.cmd(&format!("REST {arg}"))
        .assert_is(&format!("350 Restart position accepted ({offset})."));
    let start = c.cmd(cmd);
    if !start.is_preliminary() {
        return Transfer {
            start,
            data: Vec::new(),
            end: None,
            end_error: None,
        };
    }
    let bytes = read_to_end(&mut data);
    drop(data);
    let end = c.read_reply().ok();
    Transfer {
        start,
        data: bytes,
        end,
        end_error: None,
    }
}

fn read_to_end(data: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    data.read_to_end(&mut got)
        .unwrap_or_else(|e| panic!("reading the data connection after {} bytes: {e}", got.len()));
    got
}

/// vsftpd 3's conversion: LF not preceded by CR becomes CRLF.
fn to_crlf(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = 0u8;
    for &b in input {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Text with LF, CRLF and bare CR line ends, long enough to span many read buffers (and so
/// a CRLF split across two of them).
fn mixed_text() -> Vec<u8> {
    let mut t = Vec::new();
    for i in 0..20_000u32 {
        let end: &[u8] = match i % 3 {
            0 => b"\n",
            1 => b"\r\n",
            _ => b"\r",
        };
        t.extend_from_slice(format!("line {i}").as_bytes());
        t.extend_from_slice(end);
    }
    t
}

#[test]
fn ascii_download_converts_lf_to_crlf() {
    let text = mixed_text();
    let server = ServerBuilder::new("xfer_ascii")
        .file("t.txt", &text)
        .set("ascii_download_enable", "YES")
        .start();
    let mut c = server.login();
    c.cmd("TYPE A").assert_is("200 Switching to ASCII mode.");
    let t = c.transfer("RETR t.txt");
    t.start.assert_is(&format!(
        "150 Opening ASCII mode data connection for t.txt ({} bytes).",
        text.len()
    ));
    t.end
        .expect("a final reply")
        .assert_is("226 Transfer complete.");
    assert!(t.data == to_crlf(&text), "ASCII data differs");
    // SIZE reports the raw size, in either mode.
    c.cmd("SIZE t.txt")
        .assert_is(&format!("213 {}", text.len()));
    // TYPE I sends the bytes as stored.
    let (start, data, end) = c.retr("t.txt");
    start.assert_is(&format!(
        "150 Opening BINARY mode data connection for t.txt ({} bytes).",
        text.len()
    ));
    end.assert_is("226 Transfer complete.");
    assert!(data == text);
}

#[test]
fn ascii_type_without_ascii_download_enable_sends_raw_bytes() {
    let server = ServerBuilder::new("xfer_ascii_off")
        .file("t.txt", "a\nb\n")
        .start();
    let mut c = server.login();
    c.cmd("TYPE A").assert_is("200 Switching to ASCII mode.");
    let t = c.transfer("RETR t.txt");
    t.start
        .assert_is("150 Opening BINARY mode data connection for t.txt (4 bytes).");
    t.end
        .expect("a final reply")
        .assert_is("226 Transfer complete.");
    assert_eq!(t.data, b"a\nb\n");
}

/// vsftpd refuses a resume in ASCII mode at RETR time (REST itself is accepted), after the
/// check for a data connection, and whether or not ascii_download_enable is set.
#[test]
fn rest_in_ascii_mode_is_refused_at_retr() {
    for enable in ["YES", "NO"] {
        let server = ServerBuilder::new("xfer_rest_ascii")
            .file("t.txt", "hello\nworld\n")
            .set("ascii_download_enable", enable)
            .start();
        let mut c = server.login();
        c.cmd("TYPE A").assert_is("200 Switching to ASCII mode.");
        c.cmd("REST 3")
            .assert_is("350 Restart position accepted (3).");
        c.cmd("RETR t.txt").assert_is("425 Use PORT or PASV first.");
        let t = transfer_at(&mut c, "3", 3, "RETR t.txt");
        t.start
            .assert_is("550 No support for resume of ASCII transfer.");
        // Even for a file that does not exist: the refusal comes first.
        let t = transfer_at(&mut c, "3", 3, "RETR missing.txt");
        t.start
            .assert_is("550 No support for resume of ASCII transfer.");
        // REST applies to one command only: the next RETR is whole.
        let t = c.transfer("RETR t.txt");
        t.end
            .expect("a final reply")
            .assert_is("226 Transfer complete.");
        assert_eq!(t.data.len(), if enable == "YES" { 14 } else { 12 });
    }
}

#[test]
fn rest_offsets_as_vsftpd() {
    for sendfile in ["YES", "NO"] {
        let server = ServerBuilder::new("xfer_rest")
            .file("hello.txt", "hello world")
            .set("use_sendfile", sendfile)
            .start();
        let mut c = server.login();
        c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
        // (REST argument, the offset vsftpd accepts, the bytes RETR then sends)
        let cases: [(&str, u64, &[u8]); 9] = [
            ("6", 6, b"world"),
            ("0", 0, b"hello world"),
            ("11", 11, b""),
            ("100", 100, b""),
            ("999999999999999", 999_999_999_999_999, b""),
            // 16 digits, a sign, anything but digits: 0.
            ("1234567890123456", 0, b"hello world"),
            ("-5", 0, b"hello world"),
            ("abc", 0, b"hello world"),
            ("12abc", 0, b"hello world"),
        ];
        for (arg, offset, want) in cases {
            let t = transfer_at(&mut c, arg, offset, "RETR hello.txt");
            t.start
                .assert_is("150 Opening BINARY mode data connection for hello.txt (11 bytes).");
            t.end
                .unwrap_or_else(|| panic!("REST {arg}: no final reply"))
                .assert_is("226 Transfer complete.");
            assert_eq!(t.data, want, "REST {arg}, use_sendfile={sendfile}");
        }
        c.cmd("REST")
            .assert_is("350 Restart position accepted (0).");
        c.cmd("NOOP").assert_is("200 NOOP ok.");
    }
}

/// 200,000 bytes at 100,000 bytes/s take about 2 s (at least 0.9 x 2 s).
#[test]
fn anon_max_rate_throttles_downloads() {
    let size = 200_000;
    for (sendfile, chunk) in [("YES", "0"), ("NO", "8192")] {
        let server = ServerBuilder::new("xfer_rate")
            .pattern_file("big.bin", size)
            .set("anon_max_rate", 100_000)
            .set("trans_chunk_size", chunk)
            .set("use_sendfile", sendfile)
            .start();
        let mut c = server.login();
        c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
        let t0 = Instant::now();
        let t = c.transfer("RETR big.bin");
        let took = t0.elapsed();
        t.end
            .expect("a final reply")
            .assert_is("226 Transfer complete.");
        assert!(t.data == pattern_bytes(size), "data differs");
        assert!(
            took >= Duration::from_millis(1800),
            "use_sendfile={sendfile} trans_chunk_size={chunk}: {took:?} is too fast"
        );
        assert!(took < Duration::from_secs(20), "{took:?}");
    }
}

/// The file is truncated while a slow (rate-limited) transfer runs: 451, promptly.
#[test]
fn file_that_shrinks_under_the_transfer_fails_with_451() {
    for sendfile in ["YES", "NO"] {
        let size = 2_000_000;
        let server = ServerBuilder::new("xfer_shrink")
            .pattern_file("big.bin", size)
            .set("anon_max_rate", 200_000)
            .set("use_sendfile", sendfile)
            .start();
        let mut c = server.login();
        c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
        let mut data = c.open_data();
        c.cmd("RETR big.bin").assert_is(&format!(
            "150 Opening BINARY mode data connection for big.bin ({size} bytes)."
        ));
        let first = read_some(&mut data, 100_000);
        assert_eq!(first.len(), 100_000);
        fs::OpenOptions::new()
            .write(true)
            .open(server.tree_path().join("big.bin"))
            .unwrap()
            .set_len(1000)
            .unwrap();
        let t0 = Instant::now();
        let rest = read_to_end(&mut data);
        assert!(first.len() + rest.len() < size, "use_sendfile={sendfile}");
        c.read_reply()
            .unwrap()
            .assert_is("451 Failure reading local file.");
        assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
        c.cmd("NOOP").assert_is("200 NOOP ok.");
    }
}

/// idle_session_timeout=1: `421 Timeout.` and the connection closes, in both models.
#[test]
fn idle_session_timeout_ends_the_session() {
    for one_process in [false, true] {
        let mut b = ServerBuilder::new("xfer_idle").set("idle_session_timeout", 1);
        if one_process {
            b = b.set("run_as_launching_user", "YES");
        }
        let server = b.start();
        let mut c = server.login();
        c.cmd("NOOP").assert_is("200 NOOP ok.");
        let t0 = Instant::now();
        let got = c.wait_closed(Duration::from_secs(10)).unwrap();
        let took = t0.elapsed();
        assert_eq!(
            String::from_utf8_lossy(&got),
            "421 Timeout.\r\n",
            "one_process={one_process}"
        );
        assert!(took >= Duration::from_millis(900), "{took:?}");
        // Before login too (the pre-login process).
        let (mut c, _) = server.connect();
        let got = c.wait_closed(Duration::from_secs(10)).unwrap();
        assert_eq!(String::from_utf8_lossy(&got), "421 Timeout.\r\n");
    }
}

/// A client that stops reading mid-RETR: `421 Data timeout. Reconnect. Sorry.` and the
/// session ends (vsftpd exits the session), within bounded time.
#[test]
fn data_connection_timeout_ends_a_stalled_transfer() {
    for sendfile in ["YES", "NO"] {
        let size = 32 << 20;
        let server = ServerBuilder::new("xfer_data_timeout")
            .pattern_file("big.bin", size)
            .set("data_connection_timeout", 1)
            .set("use_sendfile", sendfile)
            .start();
        let mut c = server.login();
        c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
        let data = c.open_data();
        let t0 = Instant::now();
        c.cmd("RETR big.bin").assert_is(&format!(
            "150 Opening BINARY mode data connection for big.bin ({size} bytes)."
        ));
        let got = c.wait_closed(Duration::from_secs(15)).unwrap();
        let took = t0.elapsed();
        assert_eq!(
            String::from_utf8_lossy(&got),
            "421 Data timeout. Reconnect. Sorry.\r\n"
        );
        assert!(took >= Duration::from_millis(900), "{took:?}");
        drop(data);
        // The listener serves on.
        let mut c = server.login();
        c.cmd("NOOP").assert_is("200 NOOP ok.");
    }
}

/// accept_timeout=1: a PASV nobody connects to ends the RETR with 425; the session goes on.
#[test]
fn accept_timeout_fails_the_transfer_with_425() {
    for one_process in [false, true] {
        let mut b = ServerBuilder::new("xfer_accept_timeout")
            .file("hello.txt", "hello world")
            .set("accept_timeout", 1);
        if one_process {
            b = b.set("run_as_launching_user", "YES");
        }
        accept_timeout_case(&b.start());
    }
}

fn accept_timeout_case(server: &Server) {
    let mut c = server.login();
    c.pasv();
    let t0 = Instant::now();
    c.cmd("RETR hello.txt")
        .assert_is("425 Failed to establish connection.");
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
    let (_, data, end) = c.retr("hello.txt");
    end.assert_is("226 Transfer complete.");
    assert_eq!(data, b"hello world");
}

/// ABOR as a plain line and after Telnet IP/DM, while the server waits on a full data socket.
#[test]
fn abor_during_a_transfer_raw() {
    for sendfile in ["YES", "NO"] {
        let server = ServerBuilder::new("xfer_abor_raw")
            .pattern_file("big.bin", 32 << 20)
            .file("hello.txt", "hello world")
            .set("use_sendfile", sendfile)
            .start();
        abor_raw_case(&server, 32 << 20);
    }
}

fn abor_raw_case(server: &Server, size: usize) {
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    for abor in [
        &b"ABOR\r\n"[..],
        &b"\xff\xf4\xff\xf2ABOR\r\n"[..],
        b"abor\r\n",
    ] {
        let mut data = c.open_data();
        c.cmd("RETR big.bin").assert_code(150);
        assert_eq!(read_some(&mut data, 65536).len(), 65536);
        let t0 = Instant::now();
        c.send_raw(abor).unwrap();
        c.read_reply()
            .unwrap()
            .assert_is("426 Failure writing network stream.");
        c.read_reply().unwrap().assert_is("226 ABOR successful.");
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        // The data connection is closed (after at most what was in flight).
        let rest = read_to_end(&mut data);
        assert!(rest.len() < size, "the whole file was sent");
        c.cmd("NOOP").assert_is("200 NOOP ok.");
    }
    let (_, data, end) = c.retr("hello.txt");
    end.assert_is("226 Transfer complete.");
    assert_eq!(data, b"hello world");
    // ABOR with no transfer.
    c.cmd("ABOR").assert_is("225 No transfer to ABOR.");
}

/// Commands other than ABOR sent during a transfer are answered after it, in order; half a
/// line does not stall the transfer.
#[test]
fn commands_sent_during_a_transfer_wait_for_its_end() {
    let size = 300_000;
    let server = ServerBuilder::new("xfer_pipelined")
        .pattern_file("big.bin", size)
        .set("anon_max_rate", 300_000)
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let mut data = c.open_data();
    c.cmd("RETR big.bin").assert_code(150);
    let first = read_some(&mut data, 1000);
    c.send_raw(b"NOOP\r\nPWD\r\nNO").unwrap();
    let mut all = first;
    all.extend(read_to_end(&mut data));
    assert!(all == pattern_bytes(size), "data differs");
    c.read_reply().unwrap().assert_is("226 Transfer complete.");
    c.read_reply().unwrap().assert_is("200 NOOP ok.");
    c.read_reply()
        .unwrap()
        .assert_is("257 \"/\" is the current directory");
    c.send_raw(b"OP\r\n").unwrap();
    c.read_reply().unwrap().assert_is("200 NOOP ok.");
}

/// CPU time (user + system, in clock ticks) of a process, from /proc/PID/stat.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // After ")": state is field 3; utime and stime are fields 14 and 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// A transfer stalled on a full socket, with half a line pending on the control connection,
/// does not busy-loop; then ABOR still works.
#[test]
fn stalled_transfer_with_half_a_line_does_not_spin() {
    let size = 32 << 20;
    let server = ServerBuilder::new("xfer_no_spin")
        .pattern_file("big.bin", size)
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let _data = c.open_data();
    c.cmd("RETR big.bin").assert_code(150);
    c.send_raw(b"\xff\xf4\xff\xf2AB").unwrap();
    // The session process is the deepest descendant running as the test account (or the
    // one-process session): measure every descendant.
    let pids: Vec<u32> = descendants(server.pid()).iter().map(|p| p.pid).collect();
    assert!(!pids.is_empty());
    let before: u64 = pids.iter().filter_map(|&p| cpu_ticks(p)).sum();
    std::thread::sleep(Duration::from_millis(1500));
    let after: u64 = pids.iter().filter_map(|&p| cpu_ticks(p)).sum();
    // 1.5 s of spinning would be ~150 ticks; waking 20 times a second costs next to none.
    assert!(after - before < 30, "{} ticks in 1.5 s", after - before);
    c.send_raw(b"OR\r\n").unwrap();
    c.read_reply()
        .unwrap()
        .assert_is("426 Failure writing network stream.");
    c.read_reply().unwrap().assert_is("226 ABOR successful.");
    c.cmd("NOOP").assert_is("200 NOOP ok.");
}

/// Python's ftplib.FTP.abort() sends "ABOR\r\n" with MSG_OOB (urgent data); with
/// SO_OOBINLINE it is read as an ordinary line.
#[test]
fn abor_from_python_ftplib() {
    let size = 32 << 20;
    let server = ServerBuilder::new("xfer_abor_python")
        .pattern_file("big.bin", size)
        .file("hello.txt", "hello world")
        .start();
    let out = python_ftplib(
        server.addr(),
        "ftp.voidcmd('TYPE I')\n\
         conn = ftp.transfercmd('RETR big.bin')\n\
         got = conn.recv(65536)\n\
         assert got, 'no data'\n\
         print(ftp.abort())\n\
         conn.close()\n\
         print(ftp.getresp())\n\
         print(ftp.voidcmd('NOOP'))\n\
         print(ftp.size('hello.txt'))",
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "426 Failure writing network stream.\n226 ABOR successful.\n200 NOOP ok.\n11\n"
    );
}

/// A client that vanishes mid-transfer ends its own session only: the session process exits
/// and the server goes on serving.
#[test]
fn client_vanishing_mid_transfer_ends_that_session_only() {
    let size = 32 << 20;
    let server = ServerBuilder::new("xfer_vanish")
        .pattern_file("big.bin", size)
        .file("hello.txt", "hello world")
        .start();
    let mut other = server.login();
    let baseline = descendants(server.pid()).len();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    let mut data = c.open_data();
    c.cmd("RETR big.bin").assert_code(150);
    assert_eq!(read_some(&mut data, 65536).len(), 65536);
    drop(data);
    c.shutdown();
    drop(c);
    assert!(
        wait_until(Duration::from_secs(10), || descendants(server.pid()).len()
            <= baseline),
        "the session's processes are still there"
    );
    let (_, got, end) = other.retr("hello.txt");
    end.assert_is("226 Transfer complete.");
    assert_eq!(got, b"hello world");
    let mut c = server.login();
    let (_, got, _) = c.retr("hello.txt");
    assert_eq!(got, b"hello world");
    let _ = c.stream().write_all(b"QUIT\r\n");
}

/// curl stops a ranged download early: it closes the data connection and sends ABOR. The
/// transfer ends at once with 426; the ABOR then gets `226 ABOR successful.` when it arrived
/// during the transfer, or vsftpd's `225 No transfer to ABOR.` when the closed data connection
/// was noticed first (a race vsftpd has too). curl gets the bytes it asked for.
#[test]
fn abor_from_curl_range_download() {
    let size = 32 << 20;
    let server = ServerBuilder::new("xfer_abor_curl")
        .pattern_file("big.bin", size)
        .start();
    let url = format!("ftp://{}/big.bin", server.addr());
    let t0 = Instant::now();
    let out = curl(&["-v", "-r", "0-99", &url]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(out.stdout, pattern_bytes(100));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("> ABOR\r\n< 426 Failure writing network stream.\r\n")
            || err.contains("> ABOR\n< 426 Failure writing network stream.\n"),
        "{err}"
    );
    assert!(
        err.contains("< 226 ABOR successful.") || err.contains("< 225 No transfer to ABOR."),
        "{err}"
    );
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

/// lftp aborts a download whose reader went away (`cat FILE | head`): it sends ABOR; the
/// server answers at once (426, then 226, or 225 when the closed data connection was seen
/// first, as in the curl test) and the session stays usable for lftp's next command.
#[test]
fn abor_from_lftp() {
    let size = 32 << 20;
    let server = ServerBuilder::new("xfer_abor_lftp")
        .pattern_file("big.bin", size)
        .file("hello.txt", "hello world")
        .start();
    let t0 = Instant::now();
    let out = lftp(&format!(
        "debug 5; open -u anonymous,x ftp://{}; cat big.bin | head -c 100 >/dev/null; cat hello.txt",
        server.addr()
    ));
    assert!(out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let abor = err
        .find("---> ABOR")
        .unwrap_or_else(|| panic!("no ABOR sent: {err}"));
    let after = &err[abor..];
    // lftp may log the 426 before or after its ABOR line (it closes the data connection
    // first, which the server may notice first). On a quiet machine the whole file may also
    // already sit in the socket buffers when ABOR arrives: the transfer then completed, and
    // ABOR finds nothing to abort (vsftpd answers the same).
    let aborted = err.contains("<--- 426 Failure writing network stream.")
        && (after.contains("<--- 226 ABOR successful.")
            || after.contains("<--- 225 No transfer to ABOR."));
    let finished_first =
        after.contains("<--- 226 Transfer complete.\n<--- 225 No transfer to ABOR.");
    assert!(aborted || finished_first, "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("hello world"));
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
}

/// Bytes queued in the send buffer of the TCP socket from 127.0.0.1:`local` to `remote`
/// (`tx_queue` of /proc/net/tcp: sent but unacknowledged, plus not yet sent).
fn tx_queue(local: u16, remote: u16) -> Option<u64> {
    let table = fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
        if port(f.get(1)?)? != local || port(f.get(2)?)? != remote {
            return None;
        }
        u64::from_str_radix(f.get(4)?.split(':').next()?, 16).ok()
    })
}

/// A download keeps little unsent data in its socket (TCP_NOTSENT_LOWAT): once a client that
/// took 8 MiB stops reading, its window closes and what still waits in the server's socket is
/// the unsent queue: tens of KiB, not the megabytes an autotuned send buffer would hold.
#[test]
fn a_stalled_download_queues_little_unsent_data() {
    for sendfile in ["YES", "NO"] {
        let size = 64 << 20;
        let server = ServerBuilder::new("xfer_notsent_lowat")
            .pattern_file("big.bin", size)
            .set("use_sendfile", sendfile)
            .start();
        let mut c = server.login();
        c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
        let mut data = c.open_data();
        let (server_port, client_port) = (
            data.peer_addr().unwrap().port(),
            data.local_addr().unwrap().port(),
        );
        c.cmd("RETR big.bin").assert_code(150);
        assert_eq!(read_some(&mut data, 8 << 20).len(), 8 << 20);
        // Settled when the queue has not moved for 300 ms (the client's window is full and
        // the server blocks); at most 15 s.
        let deadline = Instant::now() + Duration::from_secs(15);
        let (mut last, mut since) = (None, Instant::now());
        let queued = loop {
            let q = tx_queue(server_port, client_port);
            if q != last {
                (last, since) = (q, Instant::now());
            } else if since.elapsed() >= Duration::from_millis(300) {
                break q.expect("the data connection in /proc/net/tcp");
            }
            assert!(Instant::now() < deadline, "the queue never settled: {q:?}");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            queued <= 256 * 1024,
            "use_sendfile={sendfile}: {queued} bytes wait in the server's socket"
        );
        drop(data);
    }
}

//! Issue #4, items 1-2: listings beyond vsftpd (MLSD, MLST, OPTS MLST) and the listing options
//! (use_localtime, text_userdb_names, hide_ids, hide_file, deny_file, ls_recurse_enable),
//! against the real binary: raw control channel, Python's ftplib `mlsd()` and lftp. As root
//! every server here runs in the two-process model, chrooted, with the seccomp filter.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use common::*;

/// 2020-01-01 20:00:00 UTC (in Asia/Kolkata, +05:30: 2020-01-02 01:30).
const OLD: i64 = 1_577_908_800;

fn set_mtime(p: &Path, t: i64) {
    let f = fs::File::options()
        .write(true)
        .open(p)
        .or_else(|_| fs::File::open(p))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    f.set_modified(UNIX_EPOCH + Duration::from_secs(t as u64))
        .unwrap();
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// `YYYYMMDDHHMMSS` of `t` (UTC).
fn stamp(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

fn unique(p: &Path) -> String {
    let md = fs::metadata(p).unwrap();
    format!("{:x}g{:x}", md.dev(), md.ino())
}

/// `unique=…;UNIX.mode=…;UNIX.owner=…;UNIX.group=…;`: the facts after `perm`.
fn unique_and_unix(p: &Path) -> String {
    let md = fs::metadata(p).unwrap();
    format!(
        "unique={};UNIX.mode={:04o};UNIX.owner={};UNIX.group={};",
        unique(p),
        md.mode() & 0o7777,
        md.uid(),
        md.gid()
    )
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// a.txt (3 bytes, OLD), sub/ (with inner.txt), .dot, private.txt (0640), link -> a.txt,
/// broken -> nowhere, closed/ (0750).
fn mlsx_builder(name: &str) -> ServerBuilder {
    ServerBuilder::new(name)
        .file("a.txt", "abc")
        .dir("sub")
        .file("sub/inner.txt", "inner")
        .file(".dot", "d")
        .file("private.txt", "p")
        .symlink("link", "a.txt")
        .symlink("broken", "nowhere")
        .dir("closed")
        .file("closed/x", "x")
}

fn mlsx_server(name: &str, b: ServerBuilder) -> Server {
    let _ = name;
    let server = b.start();
    let t = server.tree_path().to_path_buf();
    set_mtime(&t.join("a.txt"), OLD);
    chmod(&t.join("private.txt"), 0o640);
    chmod(&t.join("closed"), 0o750);
    server
}

#[test]
fn mlsd_lists_every_entry_with_its_facts() {
    let server = mlsx_server("mlsd_facts", mlsx_builder("mlsd_facts"));
    let tree = server.tree_path().to_path_buf();
    let mut c = server.login();
    let t = c.transfer("MLSD");
    t.start.assert_is("150 Here comes the directory listing.");
    t.end
        .as_ref()
        .expect("a final reply")
        .assert_is("226 Directory send OK.");
    let lines = crlf_lines(&t.data);
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l.split_once("; ").map_or("", |(_, n)| n))
        .collect();
    // Sorted by name, dot files included (a machine listing is complete).
    assert_eq!(
        names,
        [
            ".",
            "..",
            ".dot",
            "a.txt",
            "broken",
            "closed",
            "link",
            "private.txt",
            "sub"
        ],
        "{lines:?}"
    );
    let line = |n: &str| {
        lines
            .iter()
            .find(|l| l.ends_with(&format!("; {n}")))
            .unwrap()
            .clone()
    };
    assert_eq!(
        line("a.txt"),
        format!(
            "type=file;size=3;modify=20200101200000;perm=r;{} a.txt",
            unique_and_unix(&tree.join("a.txt"))
        )
    );
    assert!(line(".").starts_with("type=cdir;"), "{}", line("."));
    // At the session root ".." is the root itself.
    assert!(line("..").starts_with("type=pdir;"), "{}", line(".."));
    assert!(line("..").contains(&format!("unique={};", unique(&tree))));
    assert!(line("sub").starts_with("type=dir;"), "{}", line("sub"));
    assert!(line("sub").contains(";perm=el;"), "{}", line("sub"));
    // A symlink is followed inside the root; a broken one is a slink.
    assert!(
        line("link").starts_with("type=file;size=3;"),
        "{}",
        line("link")
    );
    assert!(
        line("broken").starts_with("type=OS.unix=slink;"),
        "{}",
        line("broken")
    );
    // anon_world_readable_only: not o+r, so no r and no l.
    assert!(
        line("private.txt").contains(";perm=;"),
        "{}",
        line("private.txt")
    );
    assert!(line("closed").contains(";perm=;"), "{}", line("closed"));
    // A subdirectory by path.
    let t = c.transfer("MLSD sub");
    t.start.assert_is("150 Here comes the directory listing.");
    let lines = crlf_lines(&t.data);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[2].ends_with("; inner.txt"), "{lines:?}");
    assert!(lines[1].starts_with("type=pdir;"), "{lines:?}");
    c.cmd("QUIT").assert_is("221 Goodbye.");
}

#[test]
fn mlsd_refusals_come_before_the_data_connection() {
    let server = mlsx_server("mlsd_refusals", mlsx_builder("mlsd_refusals"));
    let mut c = server.login();
    c.cmd("MLSD").assert_is("425 Use PORT or PASV first.");
    c.transfer("MLSD a.txt")
        .start
        .assert_is("550 Failed to open directory.");
    c.transfer("MLSD nothing")
        .start
        .assert_is("550 Failed to open directory.");
    // Not world-readable, with anon_world_readable_only (the default).
    c.transfer("MLSD closed")
        .start
        .assert_is("550 Failed to open directory.");
    // Still serving normally.
    let t = c.transfer("MLSD /sub");
    t.start.assert_is("150 Here comes the directory listing.");

    let server = mlsx_server(
        "mlsd_nodirlist",
        mlsx_builder("mlsd_nodirlist").set("dirlist_enable", "NO"),
    );
    let mut c = server.login();
    c.transfer("MLSD").start.assert_is("550 Permission denied.");
    c.cmd("MLST a.txt").assert_is("550 Permission denied.");
}

#[test]
fn mlst_and_opts_mlst() {
    let server = mlsx_server("mlst", mlsx_builder("mlst"));
    let tree = server.tree_path().to_path_buf();
    let mut c = server.login();
    let u = unique_and_unix(&tree.join("a.txt"));
    c.cmd("MLST a.txt").assert_is(&format!(
        "250-Listing /a.txt\r\n type=file;size=3;modify=20200101200000;perm=r;{u} /a.txt\r\n250 End"
    ));
    c.cmd("CWD sub")
        .assert_is("250 Directory successfully changed.");
    let r = c.cmd("MLST ../a.txt");
    assert!(
        r.raw_str().starts_with("250-Listing /a.txt\r\n type=file;"),
        "{}",
        r.raw_str()
    );
    let r = c.cmd("MLST");
    assert!(
        r.raw_str().starts_with("250-Listing /sub\r\n type=dir;"),
        "{}",
        r.raw_str()
    );
    assert!(
        r.raw_str().ends_with("; /sub\r\n250 End\r\n"),
        "{}",
        r.raw_str()
    );
    // Confined to the root, whatever the path says.
    let r = c.cmd("MLST ../../../..");
    assert!(
        r.raw_str().starts_with("250-Listing /\r\n type=dir;"),
        "{}",
        r.raw_str()
    );
    let r = c.cmd_bytes(b"MLST a\0b").unwrap();
    r.assert_is("550 Could not get file information.");
    let long = format!("MLST /{}", "x".repeat(4000));
    c.cmd(&long)
        .assert_is("550 Could not get file information.");
    c.cmd("MLST /nothing")
        .assert_is("550 Could not get file information.");
    c.cmd("MLST /private.txt")
        .assert_is("550 Could not get file information.");

    // OPTS MLST chooses the facts, in the fixed order, ignoring unknown ones.
    c.cmd("OPTS MLST size;TYPE;colour;")
        .assert_is("200 MLST OPTS type;size;");
    c.cmd("MLST /a.txt")
        .assert_is("250-Listing /a.txt\r\n type=file;size=3; /a.txt\r\n250 End");
    let t = c.transfer("MLSD /");
    assert!(
        crlf_lines(&t.data).contains(&"type=file;size=3; a.txt".to_string()),
        "{:?}",
        crlf_lines(&t.data)
    );
    c.cmd("OPTS MLST").assert_is("200 MLST OPTS");
    c.cmd("MLST /a.txt")
        .assert_is("250-Listing /a.txt\r\n  /a.txt\r\n250 End");
    c.cmd("OPTS MLST modify;")
        .assert_is("200 MLST OPTS modify;");
    c.cmd("MLST /a.txt")
        .assert_is("250-Listing /a.txt\r\n modify=20200101200000; /a.txt\r\n250 End");
    // OPTS UTF8 ON is unchanged; other options are still not understood.
    c.cmd("OPTS UTF8 ON").assert_is("200 Always in UTF8 mode.");
    c.cmd("OPTS FOO").assert_is("501 Option not understood.");
}

#[test]
fn python_ftplib_mlsd() {
    let server = mlsx_server("py_mlsd", mlsx_builder("py_mlsd"));
    let o = python_ftplib(
        server.addr(),
        "for name, facts in ftp.mlsd('/', ['type', 'size', 'perm']):\n    \
         print(name, facts.get('type'), facts.get('size'), facts.get('perm'))",
    );
    assert!(o.status.success(), "{}", describe(&o));
    let out = text(&o.stdout);
    for want in [
        "a.txt file 3 r",
        "sub dir ",
        "link file 3 r",
        "private.txt file 1 ",
        ". cdir ",
        ".dot file 1 r",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(want)),
            "missing {want:?} in:\n{out}"
        );
    }
    // ftplib asked for the facts with OPTS MLST: modify was not sent.
    let o = python_ftplib(
        server.addr(),
        "print(sorted(dict(ftp.mlsd('/', ['type'])).get('a.txt').keys()))",
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(text(&o.stdout).trim(), "['type']", "{}", describe(&o));
}

#[test]
fn lftp_uses_mlsd() {
    let server = mlsx_server("lftp_mlsd", mlsx_builder("lftp_mlsd"));
    // A long listing through MLSD: lftp shows the dot file MLSD sends (LIST would hide it).
    let o = lftp(&format!(
        "set ftp:use-mlsd yes; debug -o /dev/stderr 9; open ftp://127.0.0.1:{}/; cls -a -1",
        server.port()
    ));
    assert!(o.status.success(), "{}", describe(&o));
    // The protocol trace (stderr) shows lftp chose MLSD, after FEAT advertised MLST.
    assert!(text(&o.stderr).contains("---> MLSD"), "{}", describe(&o));
    let out = text(&o.stdout);
    for want in [".dot", "a.txt", "sub/", "private.txt"] {
        assert!(
            out.lines().any(|l| l == want),
            "missing {want:?} in:\n{out}"
        );
    }
}

/// use_localtime with the zone given by TZ (Asia/Kolkata: +05:30, no DST), in the chrooted
/// two-process model: the zone must have been loaded before the chroot.
#[test]
fn use_localtime_shifts_list_and_mdtm() {
    let now = now_secs();
    // A recent file, on a minute boundary, 10 days old.
    let recent = (now - 10 * 86_400) / 60 * 60;
    let build = |name: &str, local: bool| {
        let s = ServerBuilder::new(name)
            .file("old.txt", "o")
            .file("recent.txt", "r")
            .env("TZ", "Asia/Kolkata")
            .set("use_localtime", if local { "YES" } else { "NO" })
            .start();
        set_mtime(&s.tree_path().join("old.txt"), OLD);
        set_mtime(&s.tree_path().join("recent.txt"), recent);
        s
    };
    let hhmm = |t: i64| {
        let s = t.rem_euclid(86_400);
        format!("{:02}:{:02}", s / 3600, s % 3600 / 60)
    };

    let server = build("localtime_yes", true);
    let mut c = server.login();
    let listing = text(&c.list(""));
    assert!(listing.contains(" Jan 02  2020 old.txt\r\n"), "{listing}");
    assert!(
        listing.contains(&format!(" {} recent.txt\r\n", hhmm(recent + 19_800))),
        "{listing}"
    );
    c.cmd("MDTM old.txt").assert_is("213 20200102013000");
    c.cmd("MDTM recent.txt")
        .assert_is(&format!("213 {}", stamp(recent + 19_800)));
    // MLSx facts stay in UTC (RFC 3659).
    c.cmd("OPTS MLST modify;")
        .assert_is("200 MLST OPTS modify;");
    c.cmd("MLST old.txt")
        .assert_is("250-Listing /old.txt\r\n modify=20200101200000; /old.txt\r\n250 End");
    drop(c);

    // The same zone without use_localtime: GMT, as vsftpd's default.
    let server = build("localtime_no", false);
    let mut c = server.login();
    let listing = text(&c.list(""));
    assert!(listing.contains(" Jan 01  2020 old.txt\r\n"), "{listing}");
    assert!(
        listing.contains(&format!(" {} recent.txt\r\n", hhmm(recent))),
        "{listing}"
    );
    c.cmd("MDTM old.txt").assert_is("213 20200101200000");
}

/// text_userdb_names reads the jail's own /etc/passwd and /etc/group, never the host's.
#[test]
fn text_userdb_names_from_the_jail() {
    let build = |name: &str, hide: bool| {
        let s = ServerBuilder::new(name)
            .file("owned.txt", "x")
            .file("rooted.txt", "y")
            .file("etc/passwd", "jailuser:x:4242:4343::/:/bin/false\n")
            .file("etc/group", "jailgroup:x:4343:\n")
            .set("text_userdb_names", "YES")
            .set("hide_ids", if hide { "YES" } else { "NO" })
            .start();
        std::os::unix::fs::chown(s.tree_path().join("owned.txt"), Some(4242), Some(4343)).unwrap();
        std::os::unix::fs::chown(s.tree_path().join("rooted.txt"), Some(0), Some(0)).unwrap();
        s
    };
    let server = build("userdb_names", false);
    let mut c = server.login();
    let listing = text(&c.list(""));
    let owned = listing
        .lines()
        .map(|l| parse_list_line(l).unwrap())
        .find(|e| e.name == "owned.txt")
        .unwrap();
    assert_eq!(
        (owned.owner.as_str(), owned.group.as_str()),
        ("jailuser", "jailgroup")
    );
    // uid 0 is not in the jail's passwd: a number, not the host's "root".
    let rooted = listing
        .lines()
        .map(|l| parse_list_line(l).unwrap())
        .find(|e| e.name == "rooted.txt")
        .unwrap();
    assert_eq!((rooted.owner.as_str(), rooted.group.as_str()), ("0", "0"));
    // STAT <path> too.
    let r = c.cmd("STAT owned.txt");
    assert!(
        r.raw_str().contains(" jailuser jailgroup "),
        "{}",
        r.raw_str()
    );

    // hide_ids wins.
    let server = build("userdb_hide_ids", true);
    let mut c = server.login();
    let listing = text(&c.list(""));
    for l in listing.lines() {
        let e = parse_list_line(l).unwrap();
        assert_eq!((e.owner.as_str(), e.group.as_str()), ("ftp", "ftp"), "{l}");
    }
}

#[test]
fn text_userdb_names_off_shows_numbers() {
    let server = ServerBuilder::new("userdb_off")
        .file("owned.txt", "x")
        .file("etc/passwd", "jailuser:x:4242:4343::/:/bin/false\n")
        .start();
    std::os::unix::fs::chown(server.tree_path().join("owned.txt"), Some(4242), Some(4343)).unwrap();
    let mut c = server.login();
    let listing = text(&c.list("owned.txt"));
    let e = parse_list_line(listing.trim_end()).unwrap();
    assert_eq!((e.owner.as_str(), e.group.as_str()), ("4242", "4343"));
}

#[test]
fn hide_file_hides_but_keeps_access() {
    let server = ServerBuilder::new("hide_file")
        .file("song.mp3", "music")
        .file("secret-plans.txt", "plans")
        .file("visible.txt", "v")
        .dir("pub")
        .file("pub/tune.mp3", "t")
        .set("hide_file", "{*.mp3,secret*}")
        .start();
    let mut c = server.login();
    assert_eq!(text(&c.nlst("")), "pub\r\nvisible.txt\r\n");
    let listing = text(&c.list("-a"));
    assert!(
        !listing.contains("song.mp3") && !listing.contains("secret"),
        "{listing}"
    );
    assert_eq!(text(&c.nlst("pub")), "");
    let r = c.cmd("STAT /");
    assert!(!r.raw_str().contains("song.mp3"), "{}", r.raw_str());
    let t = c.transfer("MLSD");
    assert!(!text(&t.data).contains("song.mp3"), "{}", text(&t.data));
    assert!(
        text(&t.data).contains("; visible.txt\r\n"),
        "{}",
        text(&t.data)
    );
    // Still accessible by name.
    let (_, data, end) = c.retr("song.mp3");
    assert_eq!(data, b"music");
    end.assert_is("226 Transfer complete.");
    c.cmd("SIZE secret-plans.txt").assert_is("213 5");
    assert!(c.cmd("MLST /song.mp3").raw_str().starts_with("250-"));
}

#[test]
fn deny_file_refuses_every_access() {
    let server = ServerBuilder::new("deny_file")
        .file("song.mp3", "music")
        .file("ok.txt", "ok")
        .dir(".private")
        .file(".private/inside.txt", "in")
        .dir("pub")
        .file("pub/tune.mp3", "t")
        .set("deny_file", "{*.mp3,.private}")
        .set("force_dot_files", "YES")
        .start();
    let mut c = server.login();
    c.cmd("TYPE I").assert_is("200 Switching to Binary mode.");
    for cmd in [
        "RETR song.mp3",
        "RETR pub/tune.mp3",
        "RETR .private/inside.txt",
        "LIST .private",
        "NLST pub/tune.mp3",
        "MLSD .private",
    ] {
        c.transfer(cmd).start.assert_is("550 Permission denied.");
    }
    for cmd in [
        "SIZE song.mp3",
        "MDTM /pub/tune.mp3",
        "CWD .private",
        "CWD /pub/../.private",
        "STAT .private",
        "MLST song.mp3",
    ] {
        c.cmd(cmd).assert_is("550 Permission denied.");
    }
    // The refusal of a listing comes after the PORT/PASV check, as vsftpd (and a refused
    // listing leaves the passive socket waiting, as vsftpd).
    let mut fresh = server.login();
    fresh
        .cmd("LIST .private")
        .assert_is("425 Use PORT or PASV first.");
    fresh.cmd("PASV").assert_code(227);
    fresh
        .cmd("LIST .private")
        .assert_is("550 Permission denied.");
    fresh
        .cmd("LIST .private")
        .assert_is("550 Permission denied.");
    // Denied names are not hidden (vsftpd), and the rest works.
    assert_eq!(
        text(&c.nlst("")),
        ".private\r\nok.txt\r\npub\r\nsong.mp3\r\n"
    );
    let (_, data, _) = c.retr("ok.txt");
    assert_eq!(data, b"ok");
    c.cmd("CWD pub")
        .assert_is("250 Directory successfully changed.");
}

#[test]
fn ls_recurse_enable_honours_dash_r() {
    let build = |name: &str, on: bool| {
        ServerBuilder::new(name)
            .file("top.txt", "t")
            .dir("sub")
            .file("sub/inner.txt", "i")
            .set("ls_recurse_enable", if on { "YES" } else { "NO" })
            .start()
    };
    let server = build("recurse_on", true);
    let mut c = server.login();
    assert_eq!(
        text(&c.nlst("-R")),
        ".:\r\nsub\r\ntop.txt\r\n\r\n./sub:\r\n./sub/inner.txt\r\n"
    );
    let listing = text(&c.list("-R"));
    assert!(listing.starts_with(".:\r\n"), "{listing}");
    assert!(listing.contains("\r\n\r\n./sub:\r\n"), "{listing}");
    assert!(listing.contains(" inner.txt\r\n"), "{listing}");

    let server = build("recurse_off", false);
    let mut c = server.login();
    assert_eq!(text(&c.nlst("-R")), "sub\r\ntop.txt\r\n");
}

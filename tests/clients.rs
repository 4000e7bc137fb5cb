//! Issue #2: real clients (curl, wget, lftp, Python's ftplib) list and download from the
//! anonymous server.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const DATA_SIZE: usize = 1024 * 1024 + 17;

/// hello.txt, pub/data.bin (1 MiB + 17 of the pattern), pub/notes.txt, pub/deeper/leaf.txt.
fn builder(name: &str) -> ServerBuilder {
    ServerBuilder::new(name)
        .file("hello.txt", "hello world")
        .dir("pub")
        .pattern_file("pub/data.bin", DATA_SIZE)
        .file("pub/notes.txt", "some notes\nand more\n")
        .file("pub/deeper/leaf.txt", "leaf\n")
}

fn url(server: &Server, path: &str) -> String {
    format!("ftp://127.0.0.1:{}/{path}", server.port())
}

#[track_caller]
fn assert_ok(o: &std::process::Output, what: &str) {
    assert!(o.status.success(), "{what} failed: {}", describe(o));
}

#[track_caller]
fn assert_same_file(got: &Path, want: &[u8]) {
    let bytes = fs::read(got).unwrap_or_else(|e| panic!("{}: {e}", got.display()));
    assert_eq!(bytes.len(), want.len(), "{}: wrong size", got.display());
    assert!(bytes == want, "{}: content differs", got.display());
}

#[test]
fn curl_lists_root() {
    let server = builder("curl_list").start();
    let o = curl(&[&url(&server, "")]);
    assert_ok(&o, "curl list");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let names: Vec<String> = text
        .lines()
        .map(|l| {
            parse_list_line(l)
                .unwrap_or_else(|| panic!("not a LIST line: {l:?}"))
                .name
        })
        .collect();
    assert!(names.contains(&"hello.txt".to_string()), "{text}");
    assert!(names.contains(&"pub".to_string()), "{text}");
}

#[test]
fn curl_list_only_uses_nlst() {
    let server = builder("curl_nlst").start();
    let o = curl(&["-l", &url(&server, "pub/")]);
    assert_ok(&o, "curl -l");
    let mut names: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.rsplit('/').next().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, vec!["data.bin", "deeper", "notes.txt"]);
}

#[test]
fn curl_downloads() {
    let server = builder("curl_download").start();
    let out = server.dir_path().join("curl-data.bin");
    let o = curl(&["-o", out.to_str().unwrap(), &url(&server, "pub/data.bin")]);
    assert_ok(&o, "curl download");
    assert_same_file(&out, &pattern_bytes(DATA_SIZE));
    let o = curl(&[&url(&server, "hello.txt")]);
    assert_ok(&o, "curl hello.txt");
    assert_eq!(o.stdout, b"hello world");
}

#[test]
fn curl_downloads_with_pasv() {
    let server = builder("curl_pasv").start();
    let out = server.dir_path().join("curl-pasv.bin");
    let o = curl(&[
        "--disable-epsv",
        "-o",
        out.to_str().unwrap(),
        &url(&server, "pub/data.bin"),
    ]);
    assert_ok(&o, "curl --disable-epsv");
    assert_same_file(&out, &pattern_bytes(DATA_SIZE));
    let o = curl(&["--disable-epsv", &url(&server, "pub/")]);
    assert_ok(&o, "curl --disable-epsv list");
    assert!(String::from_utf8_lossy(&o.stdout).contains(" notes.txt"));
}

#[test]
fn curl_missing_file_fails() {
    let server = builder("curl_missing").start();
    let o = curl(&[&url(&server, "no-such-file")]);
    // curl: 78 = "The resource referenced in the URL does not exist" (550 to RETR).
    assert_eq!(o.status.code(), Some(78), "{}", describe(&o));
}

#[test]
fn wget_downloads() {
    let server = builder("wget_download").start();
    let out = server.dir_path().join("wget-data.bin");
    let o = wget(&["-O", out.to_str().unwrap(), &url(&server, "pub/data.bin")]);
    assert_ok(&o, "wget");
    assert_same_file(&out, &pattern_bytes(DATA_SIZE));
}

/// wget -r parses the LIST output (unix ls format) to find what to fetch.
#[test]
fn wget_recursive() {
    let server = builder("wget_recursive").start();
    let dest = server.temp().mkdir("wget-mirror");
    let o = wget(&[
        "-r",
        "-nH",
        "-P",
        dest.to_str().unwrap(),
        &url(&server, "pub/"),
    ]);
    assert_ok(&o, "wget -r");
    assert_same_file(&dest.join("pub/data.bin"), &pattern_bytes(DATA_SIZE));
    assert_same_file(&dest.join("pub/notes.txt"), b"some notes\nand more\n");
    assert_same_file(&dest.join("pub/deeper/leaf.txt"), b"leaf\n");
}

#[test]
fn lftp_ls() {
    let server = builder("lftp_ls").start();
    let o = lftp(&format!("open {}; ls", url(&server, "")));
    assert_ok(&o, "lftp ls");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.lines().any(|l| l.ends_with(" hello.txt")), "{text}");
    assert!(text.lines().any(|l| l.ends_with(" pub")), "{text}");
    let o = lftp(&format!("open {}; cls -1 pub", url(&server, "")));
    assert_ok(&o, "lftp cls");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("data.bin"), "{text}");
}

#[test]
fn lftp_get() {
    let server = builder("lftp_get").start();
    let dest = server.temp().mkdir("lftp-get");
    let o = lftp(&format!(
        "open {}; get pub/data.bin -o {}",
        url(&server, ""),
        dest.join("data.bin").display()
    ));
    assert_ok(&o, "lftp get");
    assert_same_file(&dest.join("data.bin"), &pattern_bytes(DATA_SIZE));
}

#[test]
fn lftp_mirror() {
    let server = builder("lftp_mirror").start();
    let dest = server.temp().join("lftp-mirror");
    let o = lftp(&format!(
        "open {}; mirror pub {}",
        url(&server, ""),
        dest.display()
    ));
    assert_ok(&o, "lftp mirror");
    assert_same_file(&dest.join("data.bin"), &pattern_bytes(DATA_SIZE));
    assert_same_file(&dest.join("notes.txt"), b"some notes\nand more\n");
    assert_same_file(&dest.join("deeper/leaf.txt"), b"leaf\n");
}

#[test]
fn python_ftplib_session() {
    let server = builder("python_ftplib").start();
    let out = server.dir_path().join("py-data.bin");
    let body = format!(
        "lines = []\n\
         ftp.retrlines('LIST', lines.append)\n\
         for l in lines: print('LIST', l)\n\
         print('NLST', ','.join(sorted(ftp.nlst())))\n\
         print('NLSTPUB', ','.join(sorted(n.rsplit('/', 1)[-1] for n in ftp.nlst('pub'))))\n\
         buf = bytearray()\n\
         resp = ftp.retrbinary('RETR pub/data.bin', buf.extend)\n\
         print('RETR', resp)\n\
         open({out:?}, 'wb').write(buf)\n\
         print('SIZE', ftp.size('pub/data.bin'))\n\
         print('PWD0', ftp.pwd())\n\
         print('CWD', ftp.cwd('pub'))\n\
         print('PWD1', ftp.pwd())\n\
         print('CDUP', ftp.cwd('..'))\n\
         print('PWD2', ftp.pwd())\n\
         try:\n    ftp.size('missing')\nexcept ftplib.error_perm as e:\n    print('ERR', e)\n\
         print('WELCOME', ftp.getwelcome())\n",
        out = out.to_str().unwrap()
    );
    let o = python_ftplib(server.addr(), &body);
    assert_ok(&o, "python ftplib");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let get = |key: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(&format!("{key} ")).map(str::to_string))
            .collect()
    };
    let list = get("LIST");
    assert_eq!(list.len(), 2, "{text}");
    for l in &list {
        assert!(parse_list_line(l).is_some(), "not a LIST line: {l:?}");
    }
    assert_eq!(get("NLST"), vec!["hello.txt,pub"], "{text}");
    assert_eq!(get("NLSTPUB"), vec!["data.bin,deeper,notes.txt"], "{text}");
    assert_eq!(get("RETR"), vec!["226 Transfer complete."], "{text}");
    assert_same_file(&out, &pattern_bytes(DATA_SIZE));
    assert_eq!(get("SIZE"), vec![DATA_SIZE.to_string()], "{text}");
    assert_eq!(get("PWD0"), vec!["/"], "{text}");
    assert_eq!(
        get("CWD"),
        vec!["250 Directory successfully changed."],
        "{text}"
    );
    assert_eq!(get("PWD1"), vec!["/pub"], "{text}");
    assert_eq!(get("PWD2"), vec!["/"], "{text}");
    assert_eq!(get("ERR"), vec!["550 Could not get file size."], "{text}");
    assert_eq!(get("WELCOME"), vec![default_banner()], "{text}");
}

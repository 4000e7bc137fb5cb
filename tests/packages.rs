//! The packages: rpm/vsftpd-rs.spec (both variants) and debian/, built from a source tarball
//! as `git archive` makes it, then installed, used and removed — never on the machine itself:
//! the rpm into a scratch root with `rpm --root`, the deb into a throwaway overlay of the whole
//! file system in private mount, network and PID namespaces (as tests/service.rs).
//!
//! The package builds share the test build's target directory, so they recompile only this
//! crate (in the release profile). The slow builds stay in one test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory of this build (the binary is TARGET/PROFILE/vsftpd).
fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_vsftpd"));
    bin.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_ascii_whitespace().nth(1).map(|id| id == "0"))
        })
        .unwrap_or(false)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `sh -c script` in `dir` with the shared target dir; its output, stdout and stderr.
fn sh(dir: &Path, script: &str) -> (Output, String) {
    let out = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .env("LANG", "C")
        .stdin(Stdio::null())
        .output()
        .expect("sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[track_caller]
fn sh_ok(dir: &Path, script: &str) -> String {
    let (out, text) = sh(dir, script);
    assert!(out.status.success(), "`{script}` failed:\n{text}");
    text
}

/// A work directory, removed on Drop (pass or fail).
struct Work(PathBuf);

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The source tree as `git archive --prefix=vsftpd-rs-VERSION/ HEAD` makes it, but of the
/// working tree (tracked and new files, .gitignore respected), so uncommitted changes are
/// tested too.
fn source_tarball(work: &Path, version: &str) -> PathBuf {
    let tarball = work.join(format!("vsftpd-rs-{version}.tar.gz"));
    sh_ok(
        repo(),
        &format!(
            "git ls-files -z -co --exclude-standard | xargs -0 sh -c 'for f; do [ -e \"$f\" ] || [ -L \"$f\" ] && printf \"%s\\0\" \"$f\"; done' _ \
             | tar --null -T - --transform 's,^,vsftpd-rs-{version}/,S' -czf {}",
            tarball.display()
        ),
    );
    tarball
}

/// Copies `files` and the libraries they load (with the loader) into `root`, at their paths.
fn copy_with_libs(root: &Path, files: &[&str]) {
    let list = files.join(" ");
    sh_ok(
        root,
        &format!(
            "for f in {list} $(for b in {list}; do ldd \"$b\"; done | grep -o '/[^ ]*' | sort -u); do
               mkdir -p \"./$(dirname \"$f\")\"; cp -L \"$f\" \"./$f\"
             done"
        ),
    );
}

const RPM_FILES: &[&str] = &[
    "/usr/sbin/vsftpd",
    "/etc/vsftpd",
    "/etc/vsftpd/vsftpd.conf",
    "/etc/vsftpd/ftpusers",
    "/etc/vsftpd/user_list",
    "/etc/pam.d/vsftpd",
    "/etc/logrotate.d/vsftpd",
    "/usr/lib/tmpfiles.d/vsftpd.conf",
    "/usr/share/man/man5/vsftpd.conf.5",
    "/usr/share/man/man8/vsftpd.8",
    "/var/ftp/pub",
];

const SYSTEMD_FILES: &[&str] = &[
    "/usr/lib/systemd/system/vsftpd.service",
    "/usr/lib/systemd/system/vsftpd@.service",
    "/usr/lib/systemd/system/vsftpd.target",
    "/usr/lib/systemd/system-generators/vsftpd-generator",
];

/// Builds the rpm of one variant, checks it and installs, runs and removes it in a scratch root.
fn rpm_variant(work: &Path, tarball: &Path, sysv: bool) {
    let top = work.join("rpmbuild");
    let define = if sysv { "--define 'with_sysv 1'" } else { "" };
    sh_ok(
        work,
        &format!(
            "rm -rf {top}/RPMS && mkdir -p {top}/SOURCES && cp {tar} {top}/SOURCES/
             rpmbuild -bb --nodeps --define '_topdir {top}' {define} {spec} >{top}/build.log 2>&1 \
               || {{ tail -40 {top}/build.log; exit 1; }}",
            top = top.display(),
            tar = tarball.display(),
            spec = repo().join("rpm/vsftpd-rs.spec").display(),
        ),
    );
    let rpm = sh_ok(
        work,
        &format!("ls {}/RPMS/*/vsftpd-rs-*.rpm", top.display()),
    );
    let rpm = rpm.trim();
    let lint = sh(
        work,
        &format!(
            "rpmlint -r {rc} {spec} {rpm}",
            rc = repo().join("rpm/vsftpd-rs.rpmlintrc").display(),
            spec = repo().join("rpm/vsftpd-rs.spec").display(),
        ),
    )
    .1;
    assert!(
        !lint.contains(": E: "),
        "rpmlint errors (sysv={sysv}):\n{lint}"
    );

    let list = sh_ok(work, &format!("rpm -qpl {rpm}"));
    let listed: Vec<&str> = list.lines().collect();
    for file in RPM_FILES {
        assert!(listed.contains(file), "{file} not in the rpm:\n{list}");
    }
    // The licence texts, where the build's rpm puts them (licenses/NAME on Fedora,
    // licenses/NAME-VERSION with older rpm macros).
    for text in ["LICENSE-APACHE", "LICENSE-MIT"] {
        assert!(
            listed
                .iter()
                .any(|f| f.starts_with("/usr/share/licenses/vsftpd-rs") && f.ends_with(text)),
            "{text} not in the rpm:\n{list}"
        );
    }
    for file in SYSTEMD_FILES {
        assert_eq!(
            listed.contains(file),
            !sysv,
            "{file} (sysv={sysv}):\n{list}"
        );
    }
    let init = listed.iter().any(|f| f.ends_with("init.d/vsftpd"));
    assert_eq!(init, sysv, "the init script (sysv={sysv}):\n{list}");
    let dump = sh_ok(work, &format!("rpm -qp --dump {rpm}"));
    for conf in ["vsftpd.conf", "ftpusers", "user_list"] {
        let line = dump
            .lines()
            .find(|l| l.starts_with(&format!("/etc/vsftpd/{conf} ")))
            .unwrap_or_else(|| panic!("{conf} in the dump:\n{dump}"));
        // path size mtime digest mode owner group isconfig ...
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields[4], "0100600", "{conf}: {line}");
        assert_eq!(fields[7], "1", "{conf} is %config: {line}");
    }
    let provides = sh_ok(work, &format!("rpm -qp --provides --obsoletes {rpm}"));
    assert!(provides.contains("vsftpd = 3.0.5-1"), "{provides}");
    assert!(provides.contains("vsftpd < 3.0.6"), "{provides}");
    let scripts = sh_ok(work, &format!("rpm -qp --scripts {rpm}"));
    if sysv {
        assert!(scripts.contains("chkconfig --add vsftpd"), "{scripts}");
        assert!(scripts.contains("chkconfig --del vsftpd"), "{scripts}");
        assert!(scripts.contains("service vsftpd condrestart"), "{scripts}");
    } else {
        let unit = sh_ok(
            work,
            &format!("rpm2cpio {rpm} | cpio -i --to-stdout ./usr/lib/systemd/system/vsftpd.service 2>/dev/null"),
        );
        assert!(
            unit.contains("ExecStart=/usr/sbin/vsftpd /etc/vsftpd/vsftpd.conf")
                && !unit.contains("/etc/vsftpd.conf"),
            "the unit names the rhel config:\n{unit}"
        );
    }

    // The scratch root: a shell and its libraries for the scriptlets, the binary's libraries,
    // a chkconfig that logs its calls.
    let root = work.join(if sysv { "root-sysv" } else { "root-systemd" });
    std::fs::create_dir_all(root.join("sbin")).expect("scratch root");
    let bin = target_dir().join("release/vsftpd");
    copy_with_libs(&root, &["/bin/sh", &bin.display().to_string()]);
    std::fs::remove_file(root.join(bin.strip_prefix("/").expect("absolute"))).expect("rm");
    std::fs::write(
        root.join("sbin/chkconfig"),
        "#!/bin/sh\necho \"chkconfig $*\" >> /chkconfig.log\n",
    )
    .expect("chkconfig shim");
    sh_ok(&root, "chmod 0755 sbin/chkconfig");
    let r = root.display();
    let db = "--dbpath /var/lib/rpm";
    sh_ok(
        work,
        &format!("rpm --root {r} {db} --initdb && rpm --root {r} {db} -ivh --nodeps {rpm}"),
    );
    sh_ok(work, &format!("rpm --root {r} {db} -V --nodeps vsftpd-rs"));
    let what = sh_ok(
        work,
        &format!("rpm --root {r} {db} -q --whatprovides vsftpd"),
    );
    assert!(what.starts_with("vsftpd-rs-"), "{what}");
    let version = sh_ok(work, &format!("chroot {r} /usr/sbin/vsftpd -v"));
    assert!(version.contains("vsftpd"), "{version}");
    // The rhel layout: the default config is /etc/vsftpd/vsftpd.conf, the installed one, and
    // it passes the check (with /proc, which the daemon reads, in a private mount namespace).
    std::fs::create_dir_all(root.join("proc")).expect("proc");
    let chrooted =
        format!("unshare -m -p --fork --mount-proc={r}/proc chroot {r} /usr/sbin/vsftpd");
    let config = sh_ok(work, &format!("{chrooted} --print-config"));
    assert!(
        config.contains("rhel"),
        "built in the rhel layout:\n{config}"
    );
    assert!(config.contains("/etc/vsftpd/vsftpd.conf"), "{config}");
    // `-t` also checks the machine (issue #22): what a RHEL base system has (the nobody
    // account of `setup`, /usr/share/empty of `filesystem`) is given to the scratch root.
    std::fs::create_dir_all(root.join("usr/share/empty")).expect("empty dir");
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin\n",
    )
    .expect("passwd");
    std::fs::write(root.join("etc/group"), "root:x:0:\nnobody:x:65534:\n").expect("group");
    std::fs::write(
        root.join("etc/nsswitch.conf"),
        "passwd: files\ngroup: files\n",
    )
    .expect("nsswitch.conf");
    sh_ok(work, &format!("{chrooted} -t"));
    sh_ok(work, &format!("rpm --root {r} {db} -e vsftpd-rs"));
    let log = std::fs::read_to_string(root.join("chkconfig.log")).unwrap_or_default();
    if sysv {
        assert_eq!(log, "chkconfig --add vsftpd\nchkconfig --del vsftpd\n");
    } else {
        assert_eq!(log, "", "no chkconfig in the systemd variant");
    }
    for file in RPM_FILES.iter().chain(SYSTEMD_FILES) {
        let path = root.join(file.trim_start_matches('/'));
        assert!(!path.exists(), "{file} left after rpm -e");
    }
    let (q, _) = sh(work, &format!("rpm --root {r} {db} -q vsftpd-rs"));
    assert!(!q.status.success(), "still installed after rpm -e");
}

/// What runs inside the throwaway root for the deb.
const DEB_SCRIPT: &str = r#"set -e
exec </dev/null
ip link set lo up
# Services start only when the test says so (as on a machine with this policy).
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 0755 /usr/sbin/policy-rc.d
# The oracle goes (it may be absent).
dpkg --purge vsftpd >/dev/null 2>&1 || true
userdel -r ftp >/dev/null 2>&1 || true
dpkg -i /tmp/vsftpd-rs.deb
echo "FTPUSER $(getent passwd ftp | cut -d: -f6)"
test -d /srv/ftp && echo "SRVFTP"
test -d /run/vsftpd/empty && echo "EMPTYDIR"
useradd -m -s /bin/sh pkguser
echo 'pkguser:pkg-secret' | chpasswd
echo 'hello from the deb' > /home/pkguser/hello.txt
service vsftpd start
for i in $(seq 100); do
  if got=$(curl -s --max-time 5 ftp://pkguser:pkg-secret@127.0.0.1/hello.txt); then break; fi
  sleep 0.1
done
echo "DOWNLOAD $got"
# An upgrade over an edited conffile keeps the edit (no prompt: stdin is closed).
echo 'ftpd_banner=Edited by the administrator.' >> /etc/vsftpd.conf
dpkg -i /tmp/vsftpd-rs.deb
grep -q '^ftpd_banner=Edited by the administrator.$' /etc/vsftpd.conf && echo "KEPT"
/usr/sbin/vsftpd -t && echo "CHECKED"
/usr/sbin/vsftpd --print-config | head -1
dpkg -r vsftpd-rs
test -e /usr/sbin/vsftpd || echo "REMOVED"
test -e /etc/vsftpd.conf && echo "CONFFILE-STAYS"
dpkg --purge vsftpd-rs
test -e /etc/vsftpd.conf || echo "PURGED"
"#;

fn deb(work: &Path, tarball: &Path) {
    sh_ok(
        work,
        &format!(
            "mkdir -p deb && tar -xzf {tar} -C deb && cd deb/vsftpd-rs-* \
             && dpkg-buildpackage -us -uc -b -d >../build.log 2>&1 \
             || {{ tail -40 ../build.log; exit 1; }}",
            tar = tarball.display()
        ),
    );
    let deb = sh_ok(work, "ls deb/vsftpd-rs_*.deb");
    let deb = work.join(deb.trim());
    let lint = sh(work, "lintian deb/*.changes").1;
    assert!(
        !lint.lines().any(|l| l.starts_with("E: ")),
        "lintian:\n{lint}"
    );
    let info = sh_ok(
        work,
        &format!("dpkg-deb -f {} Provides Conflicts Replaces", deb.display()),
    );
    for field in ["Provides", "Conflicts", "Replaces"] {
        let line = info
            .lines()
            .find(|l| l.starts_with(field))
            .unwrap_or_else(|| panic!("{field}:\n{info}"));
        assert!(
            line.contains("vsftpd") && line.contains("ftp-server"),
            "{line}"
        );
    }
    let contents = sh_ok(work, &format!("dpkg -c {}", deb.display()));
    for file in [
        "./usr/sbin/vsftpd",
        "./etc/vsftpd.conf",
        "./etc/ftpusers",
        "./etc/pam.d/vsftpd",
        "./etc/init.d/vsftpd",
        "./lib/systemd/system/vsftpd.service",
        "./usr/lib/tmpfiles.d/vsftpd.conf",
        "./usr/share/doc/vsftpd-rs/copyright",
    ] {
        assert!(
            contents.lines().any(|l| l.ends_with(&format!(" {file}"))),
            "{file} not in the deb:\n{contents}"
        );
    }

    let t = work.join("overlay");
    std::fs::create_dir_all(&t).expect("overlay dir");
    std::fs::write(work.join("deb.sh"), DEB_SCRIPT).expect("script");
    let t = t.display();
    let setup = format!(
        "set -e
mount --make-rprivate /
mount -t tmpfs tmpfs {t}
mkdir {t}/u {t}/w {t}/r
mount -t overlay overlay -o lowerdir=/,upperdir={t}/u,workdir={t}/w {t}/r
mount -t proc proc {t}/r/proc
mount --rbind /dev {t}/r/dev
cp {deb} {work}/deb.sh {t}/r/root/
mount -t tmpfs tmpfs {t}/r/run
mount -t tmpfs tmpfs {t}/r/tmp
mv {t}/r/root/deb.sh {t}/r/root/vsftpd-rs-test.sh
cp {t}/r/root/$(basename {deb}) {t}/r/tmp/vsftpd-rs.deb
exec chroot {t}/r env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C sh /root/vsftpd-rs-test.sh",
        deb = deb.display(),
        work = work.display(),
    );
    let out = Command::new("timeout")
        .args(["-k", "5", "300", "unshare", "-m", "-n", "-p", "--fork"])
        .args(["--kill-child", "sh", "-c", &setup])
        .stdin(Stdio::null())
        .output()
        .expect("unshare");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the deb in the throwaway root:\n{text}"
    );
    for marker in [
        "FTPUSER /srv/ftp",
        "SRVFTP",
        "EMPTYDIR",
        "DOWNLOAD hello from the deb",
        "KEPT",
        "CHECKED",
        "# layout: upstream",
        "REMOVED",
        "CONFFILE-STAYS",
        "PURGED",
    ] {
        assert!(text.lines().any(|l| l == marker), "{marker}:\n{text}");
    }
}

#[test]
fn rpm_and_deb_build_install_run_and_remove() {
    if !running_as_root() {
        eprintln!("skipped: needs root");
        return;
    }
    for tool in [
        "git",
        "rpmbuild",
        "rpmlint",
        "rpm2cpio",
        "cpio",
        "dpkg-buildpackage",
        "dh",
        "lintian",
        "unshare",
        "curl",
    ] {
        if !have(tool) {
            eprintln!("skipped: needs {tool}");
            return;
        }
    }
    let version = env!("CARGO_PKG_VERSION");
    let spec = std::fs::read_to_string(repo().join("rpm/vsftpd-rs.spec")).expect("spec");
    assert!(
        spec.lines()
            .any(|l| l.split_whitespace().eq(["Version:", version])),
        "the spec's Version is Cargo.toml's"
    );
    let changelog = std::fs::read_to_string(repo().join("debian/changelog")).expect("changelog");
    assert!(
        changelog.starts_with(&format!("vsftpd-rs ({version})")),
        "debian/changelog's version is Cargo.toml's"
    );
    let work =
        Work(std::env::temp_dir().join(format!("vsftpd-rs-packages-{}", std::process::id())));
    std::fs::create_dir_all(&work.0).expect("work dir");
    let tarball = source_tarball(&work.0, version);
    rpm_variant(&work.0, &tarball, false);
    rpm_variant(&work.0, &tarball, true);
    deb(&work.0, &tarball);
}

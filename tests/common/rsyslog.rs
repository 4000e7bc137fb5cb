//! A real rsyslogd for the tests of syslog_enable: the logging and PROXY protocol suites.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::server::ProcessGuard;
use super::tools::wait_until;

/// A real rsyslogd in the foreground on a private socket, with its own config; killed on Drop.
/// `all.log` has the traditional file format, `pri.log` `facility.severity tag message`.
pub struct Rsyslog {
    _guard: ProcessGuard,
    pub socket: PathBuf,
    pub all: PathBuf,
    pub pri: PathBuf,
}

impl Rsyslog {
    pub fn start(dir: &Path) -> Rsyslog {
        let d = dir.display();
        let conf = dir.join("rsyslog.conf");
        std::fs::write(
            &conf,
            format!(
                "global(workDirectory=\"{d}\")\n\
                 module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
                 input(type=\"imuxsock\" Socket=\"{d}/log.sock\" RateLimit.Interval=\"0\")\n\
                 template(name=\"pri\" type=\"string\" string=\"%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\\n\")\n\
                 *.* action(type=\"omfile\" file=\"{d}/all.log\" template=\"RSYSLOG_TraditionalFileFormat\")\n\
                 *.* action(type=\"omfile\" file=\"{d}/pri.log\" template=\"pri\")\n"
            ),
        )
        .unwrap();
        let child = Command::new("rsyslogd")
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rsyslogd (package rsyslog)");
        let r = Rsyslog {
            _guard: ProcessGuard::new(child, false),
            socket: dir.join("log.sock"),
            all: dir.join("all.log"),
            pri: dir.join("pri.log"),
        };
        assert!(
            wait_until(Duration::from_secs(10), || r.socket.exists()),
            "rsyslogd made no socket"
        );
        r
    }
}

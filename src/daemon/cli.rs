//! The command line, as vsftpd's: `vsftpd [-v] [-oKEY=VALUE | FILE]...`, applied left to right,
//! plus ours: `-t`, `--print-config`, `--quick-start [DIR]`, `--pid-file PATH`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

/// One configuration source, in command-line order.
#[derive(Clone, Debug)]
pub enum Source {
    Option(String),
    File(PathBuf),
}

/// What the command line asks for.
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    pub version: bool,
    pub check_only: bool,
    pub print_config: bool,
    /// `Some(None)`: --quick-start without DIR (./demo).
    pub quick_start: Option<Option<PathBuf>>,
    pub pid_file: Option<PathBuf>,
    pub sources: Vec<Source>,
}

fn command() -> Command {
    Command::new("vsftpd")
        .about("vsftpd-rs: a memory-safe reimplementation of vsftpd, the Very Secure FTP Daemon")
        .disable_version_flag(true)
        .arg(
            Arg::new("version")
                .short('v')
                .action(ArgAction::SetTrue)
                .help("print the version and exit"),
        )
        .arg(
            Arg::new("option")
                .short('o')
                .value_name("KEY=VALUE")
                .action(ArgAction::Append)
                .allow_hyphen_values(true)
                .help("set one option, as a line of vsftpd.conf would"),
        )
        .arg(
            Arg::new("check")
                .short('t')
                .long("check-config")
                .action(ArgAction::SetTrue)
                .help("check the configuration and what sessions need from this machine, then exit (0: valid, 1: invalid)"),
        )
        .arg(
            Arg::new("print_config")
                .long("print-config")
                .action(ArgAction::SetTrue)
                .help("print the effective settings and where each came from, then exit"),
        )
        .arg(
            Arg::new("quick_start")
                .long("quick-start")
                .value_name("DIR")
                .num_args(0..=1)
                .value_parser(clap::value_parser!(PathBuf))
                .help("ignore every config file and serve DIR (default ./demo) anonymously, read-only, on 127.0.0.1:2121"),
        )
        .arg(
            Arg::new("pid_file")
                .long("pid-file")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .help("write the listener's pid to PATH, removed when it stops"),
        )
        .arg(
            Arg::new("file")
                .value_name("FILE")
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(PathBuf))
                .help("configuration file (vsftpd.conf syntax, or TOML when it ends in .toml)"),
        )
}

/// Parses the command line; on `--help` or a usage error returns clap's error to print.
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Invocation, clap::Error> {
    let m = command().try_get_matches_from(args)?;
    let mut ordered: Vec<(usize, Source)> = Vec::new();
    if let (Some(idx), Some(vals)) = (m.indices_of("option"), m.get_many::<String>("option")) {
        ordered.extend(idx.zip(vals).map(|(i, v)| (i, Source::Option(v.clone()))));
    }
    if let (Some(idx), Some(vals)) = (m.indices_of("file"), m.get_many::<PathBuf>("file")) {
        ordered.extend(idx.zip(vals).map(|(i, v)| (i, Source::File(v.clone()))));
    }
    ordered.sort_by_key(|(i, _)| *i);
    let quick_start = if m.contains_id("quick_start") && m.value_source("quick_start").is_some() {
        Some(m.get_one::<PathBuf>("quick_start").cloned())
    } else {
        None
    };
    Ok(Invocation {
        version: m.get_flag("version"),
        check_only: m.get_flag("check"),
        print_config: m.get_flag("print_config"),
        quick_start,
        pid_file: m.get_one::<PathBuf>("pid_file").cloned(),
        sources: ordered.into_iter().map(|(_, s)| s).collect(),
    })
}

//! Configuration: vsftpd's tunables, their two file formats, validation and `-o` overrides.
//!
//! Every tunable is declared once, in the table of `table.rs`; the typed [`Config`], the
//! defaults of each [`Layout`], the vsftpd.conf setter, the TOML mapping, the validators,
//! [`tunables()`] and docs/TUNABLES.md ([`render_tunables_md`]) all come from it.
//!
//! A [`Loader`] applies, left to right, what the command line names: `-oKEY=VALUE` options
//! ([`Loader::set_option`]), files ([`Loader::load_file`], vsftpd's `key=value` format or TOML when
//! the name ends in `.toml`) and built-in settings ([`Loader::set_builtin`]). Later settings win.
//! [`Loader::finish`] runs the start-up checks that involve several tunables and returns the
//! [`Settings`]: the [`Config`], where each value came from, and the start-up warnings.
//!
//! Every tunable has a [`State`]. A *planned* or *refused* tunable is accepted at its default
//! value and refused at any other with `FILE:LINE: OPTION=VALUE: ...`; a *planned, accepted*
//! one (set by the stock Debian, RHEL and upstream configs) and an *accepted, no effect* one
//! are accepted with a start-up warning when they differ from the default. Nothing is ignored
//! silently.
//!
//! The key=value rules are vsftpd's: one `name=value` per line; blank lines and lines whose
//! first non-blank character is `#` are skipped; leading blanks are skipped and values are
//! trimmed (as Red Hat's build does); booleans are YES/TRUE/1 or NO/FALSE/0 in any case;
//! numbers are decimal, or octal when they start with 0; `name=` (or a bare `name`) unsets a
//! string tunable and is an error for the others; the file must be a regular file owned by
//! the running user, at most [`limits::MAX_CONFIG_FILE`](crate::limits::MAX_CONFIG_FILE) bytes.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod load;
mod render;
mod table;
mod value;

#[cfg(test)]
mod tests;

pub use render::{render_tunables_md, render_vsftpd_conf_5};
pub use table::Config;

use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use value::{Fault, Value};

// ---- Layout --------------------------------------------------------------------------------

/// Where the distribution keeps vsftpd's files: chosen at build time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Upstream and Debian: /etc/vsftpd.conf, /etc/vsftpd.user_list, ...
    Upstream,
    /// Red Hat, Fedora and their rebuilds: /etc/vsftpd/vsftpd.conf, /etc/vsftpd/user_list, ...
    Rhel,
}

/// ASCII case-insensitive equality, usable in constants.
const fn const_eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    match (a, b) {
        ([], []) => true,
        ([x, rest_a @ ..], [y, rest_b @ ..]) => {
            x.eq_ignore_ascii_case(y) && const_eq_ignore_case(rest_a, rest_b)
        }
        _ => false,
    }
}

impl Layout {
    /// The layout this binary was built for: `VSFTPD_RS_LAYOUT=rhel` at build time selects
    /// [`Layout::Rhel`]; anything else, or nothing, [`Layout::Upstream`].
    pub const BUILT: Layout = match option_env!("VSFTPD_RS_LAYOUT") {
        Some(name) if const_eq_ignore_case(name.as_bytes(), b"rhel") => Layout::Rhel,
        _ => Layout::Upstream,
    };

    /// The config file loaded when the command line names none.
    pub fn default_config_file(self) -> &'static Path {
        match self {
            Layout::Upstream => Path::new("/etc/vsftpd.conf"),
            Layout::Rhel => Path::new("/etc/vsftpd/vsftpd.conf"),
        }
    }

    /// `upstream` or `rhel`.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Upstream => "upstream",
            Layout::Rhel => "rhel",
        }
    }

    /// The layout called `name` (`upstream` or `rhel`, any case).
    pub fn from_name(name: &str) -> Option<Layout> {
        [Layout::Upstream, Layout::Rhel]
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(name))
    }
}

// ---- The table's vocabulary ----------------------------------------------------------------

/// The type of a tunable's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// YES/NO.
    Bool,
    /// An unsigned number, decimal (or octal with a leading 0, as vsftpd reads every number).
    Uint,
    /// A number shown and usually written in octal: a umask or a file mode.
    Octal,
    /// A string; unset is vsftpd's "(none)".
    Str,
}

/// How far vsftpd-rs supports a tunable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Works as in vsftpd.
    Implemented,
    /// Not yet: accepted at its default value, any other value is refused. Names the issue
    /// (`"#7"`) or the feature (`"FTPS"`) that brings it.
    Planned(&'static str),
    /// Not yet, but any value is accepted (with a start-up warning when it is not the
    /// default), because the stock configs of Debian, RHEL or upstream set it.
    PlannedAccepted(&'static str),
    /// Accepted at any value (with a warning when not the default) and without effect, for
    /// the reason given.
    NoEffect(&'static str),
    /// Will not be supported, for the reason given: refused unless at its default value.
    Refused(&'static str),
}

impl State {
    /// "planned in #7" or "planned with FTPS".
    fn planned_text(what: &str) -> String {
        if what.starts_with('#') {
            format!("planned in {what}")
        } else {
            format!("planned with {what}")
        }
    }
}

/// Which vsftpd parser knows a tunable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Upstream vsftpd 3.0.5 (and so Debian and Red Hat too, except for renames).
    Upstream,
    /// Red Hat's patched vsftpd only.
    Rhel,
    /// Debian's patched vsftpd only.
    Debian,
    /// Ours: vsftpd has no such option (the configs that use it do not load in vsftpd).
    Ours,
}

/// A validator of one tunable's parsed value.
pub(crate) type Check = fn(&Value) -> Result<(), String>;

/// One entry of the table of tunables.
#[derive(Clone, Copy, Debug)]
pub struct Tunable {
    /// The vsftpd.conf key, also the [`Config`] field's name.
    pub name: &'static str,
    /// Other spellings accepted for the same tunable (e.g. Red Hat's `ssl_tlsv1_1`).
    pub aliases: &'static [&'static str],
    /// The type of its value.
    pub kind: Kind,
    /// vsftpd's compiled-in default in vsftpd.conf syntax (`""` is "(none)"), upstream layout.
    pub default_upstream: &'static str,
    /// The same for the RHEL layout (Red Hat's compiled-in default).
    pub default_rhel: &'static str,
    /// One line of description.
    pub doc: &'static str,
    /// How far it is supported.
    pub state: State,
    /// Which vsftpd knows it.
    pub dialect: Dialect,
    /// Largest value of a numeric tunable.
    max: u32,
    /// Validator of the parsed value, if any.
    check: Option<Check>,
}

impl Tunable {
    /// Largest accepted value of a numeric tunable (`None` for booleans and strings).
    pub fn max(&self) -> Option<u32> {
        match self.kind {
            Kind::Uint | Kind::Octal => Some(self.max),
            Kind::Bool | Kind::Str => None,
        }
    }

    /// The default in vsftpd.conf syntax for `layout`.
    pub fn default_for(&self, layout: Layout) -> &'static str {
        match layout {
            Layout::Upstream => self.default_upstream,
            Layout::Rhel => self.default_rhel,
        }
    }

    /// True when `name` is this tunable's name or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }

    /// The typed default for `layout` (every table default parses; a unit test says so).
    fn default_value(&self, layout: Layout) -> Value {
        value::parse_conf(self, self.default_for(layout)).unwrap_or(match self.kind {
            Kind::Bool => Value::Bool(false),
            Kind::Uint | Kind::Octal => Value::Uint(0),
            Kind::Str => Value::Str(None),
        })
    }
}

/// Every tunable vsftpd-rs knows, in the table's order.
pub fn tunables() -> &'static [Tunable] {
    table::all()
}

/// The tunable called `name` (its name or an alias).
pub fn find_tunable(name: &str) -> Option<&'static Tunable> {
    tunables().iter().find(|t| t.answers_to(name))
}

impl Config {
    /// A required string tunable's value (`field` is the tunable `name`'s field). The
    /// validators refuse an unset value, so this is the value as configured; were it ever
    /// unset, the table's default stands in: no second copy of a default outside the table.
    pub fn str_or_default<'a>(&'a self, name: &str, field: &'a Option<String>) -> &'a str {
        match field {
            Some(s) => s,
            None => find_tunable(name).map_or("", |t| t.default_upstream),
        }
    }

    /// vsftpd's compiled-in defaults for `layout`.
    pub fn defaults(layout: Layout) -> Config {
        let mut config = Config::blank();
        for t in tunables() {
            // Every field exists and every default has the field's kind (unit-tested).
            let _ = config.put(t.name, t.default_value(layout));
        }
        config
    }
}

// ---- Origins and errors --------------------------------------------------------------------

/// Where a tunable's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The compiled-in default of the layout.
    Default,
    /// A line of a config file (for TOML, the line of the key).
    File {
        /// The file as named on the command line.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A `-o` option.
    CommandLine,
    /// A setting of the binary itself, with the reason (e.g. `"--quick-start"`).
    Builtin(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::CommandLine => write!(f, "command line"),
            Origin::Builtin(why) => write!(f, "builtin ({why})"),
        }
    }
}

/// What a [`ConfigError`] is about.
#[derive(Clone, Debug)]
enum At {
    /// A setting, or a line of a file.
    Origin(Origin),
    /// A whole file (missing, not owned, too big, not a regular file).
    File(PathBuf),
}

/// A configuration that cannot be used: the file, line, option and value at fault and why.
///
/// Displays as `FILE:LINE: OPTION=VALUE: message`, `command line: OPTION=VALUE: message` or
/// `FILE: message`; the binary prints it as `vsftpd: {err}`. [`ConfigError::oops_text`] gives
/// vsftpd's own wording for the `500 OOPS:` reply of inetd mode.
#[derive(Clone, Debug)]
pub struct ConfigError(Box<ErrorDetail>);

#[derive(Clone, Debug)]
struct ErrorDetail {
    at: At,
    option: Option<String>,
    value: Option<String>,
    message: String,
    oops: Option<String>,
}

impl ConfigError {
    fn whole_file(path: &Path, message: String, oops: String) -> ConfigError {
        ConfigError(Box::new(ErrorDetail {
            at: At::File(path.to_path_buf()),
            option: None,
            value: None,
            message,
            oops: Some(oops),
        }))
    }

    fn at_line(path: &Path, line: usize, message: String) -> ConfigError {
        ConfigError(Box::new(ErrorDetail {
            at: At::Origin(Origin::File {
                path: path.to_path_buf(),
                line,
            }),
            option: None,
            value: None,
            message,
            oops: None,
        }))
    }

    fn setting(origin: Origin, option: &str, value: &str, message: String) -> ConfigError {
        ConfigError(Box::new(ErrorDetail {
            at: At::Origin(origin),
            option: Some(value::shown(option)),
            value: Some(value::shown(value)),
            message,
            oops: None,
        }))
    }

    fn with_oops(mut self, oops: String) -> ConfigError {
        self.0.oops = Some(oops);
        self
    }

    fn fault(origin: Origin, option: &str, value: &str, fault: Fault) -> ConfigError {
        let name = value::shown(option);
        match fault {
            Fault::Missing => ConfigError::setting(origin, option, value, "missing value".into())
                .with_oops(format!("missing value in config file for: {name}")),
            Fault::BadBool => ConfigError::setting(
                origin,
                option,
                value,
                "not a boolean (use YES or NO)".into(),
            )
            .with_oops(format!("bad bool value in config file for: {name}")),
            Fault::Invalid(message) => ConfigError::setting(origin, option, value, message),
        }
    }

    fn unknown(origin: Origin, option: &str, value: &str) -> ConfigError {
        let mut message = "unknown option".to_string();
        if let Some(near) = suggestion(option) {
            message = format!("unknown option (did you mean {near}?)");
        }
        let oops = format!(
            "unrecognised variable in config file: {}",
            value::shown(option)
        );
        ConfigError::setting(origin, option, value, message).with_oops(oops)
    }

    /// vsftpd's text for the `500 OOPS: ...` reply where vsftpd has one (e.g.
    /// "unrecognised variable in config file: X"); otherwise the same text as `Display`.
    pub fn oops_text(&self) -> String {
        self.0.oops.clone().unwrap_or_else(|| self.to_string())
    }

    /// The file at fault, if the error is about a file.
    pub fn path(&self) -> Option<&Path> {
        match &self.0.at {
            At::File(path) | At::Origin(Origin::File { path, .. }) => Some(path),
            At::Origin(_) => None,
        }
    }

    /// The line at fault, if the error is about a line of a file.
    pub fn line(&self) -> Option<usize> {
        match &self.0.at {
            At::Origin(Origin::File { line, .. }) => Some(*line),
            _ => None,
        }
    }

    /// The option at fault, as written.
    pub fn option(&self) -> Option<&str> {
        self.0.option.as_deref()
    }

    /// What is wrong, without the place.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = &self.0;
        match &detail.at {
            At::File(path) => write!(f, "{}: ", path.display())?,
            At::Origin(origin) => write!(f, "{origin}: ")?,
        }
        if let Some(option) = &detail.option {
            write!(f, "{option}={}: ", detail.value.as_deref().unwrap_or(""))?;
        }
        write!(f, "{}", detail.message)
    }
}

impl std::error::Error for ConfigError {}

/// The tunable closest to an unknown name, if one is close enough to be a likely typo.
fn suggestion(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    tunables()
        .iter()
        .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
        .map(|candidate| (value::distance(&lower, candidate), candidate))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

// ---- Loader --------------------------------------------------------------------------------

/// Builds the configuration from files, `-o` options and built-in settings, in order.
#[derive(Clone, Debug)]
pub struct Loader {
    layout: Layout,
    config: Config,
    origins: HashMap<&'static str, Origin>,
}

impl Loader {
    /// Starts from the compiled-in defaults of `layout`.
    pub fn new(layout: Layout) -> Loader {
        Loader {
            layout,
            config: Config::defaults(layout),
            origins: HashMap::new(),
        }
    }

    /// The layout whose defaults this loader started from.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Applies a `-o` argument, `KEY=VALUE`, by the rules of a config file line.
    pub fn set_option(&mut self, arg: &str) -> Result<(), ConfigError> {
        let arg = arg.trim_ascii_start();
        let (key, value) = match arg.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (arg, None),
        };
        self.set_raw(key, value, Origin::CommandLine)
    }

    /// Applies a setting of the binary itself (e.g. `--quick-start`'s), recorded as
    /// [`Origin::Builtin`]`(why)`.
    pub fn set_builtin(
        &mut self,
        key: &str,
        value: &str,
        why: &'static str,
    ) -> Result<(), ConfigError> {
        self.set_raw(key, Some(value), Origin::Builtin(why))
    }

    /// Loads a config file: vsftpd's key=value format, or TOML when the name ends in `.toml`.
    /// The file must be a regular file owned by the running user and at most
    /// [`MAX_CONFIG_FILE`](crate::limits::MAX_CONFIG_FILE) bytes.
    pub fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let bytes = load::read_config_file(path)?;
        self.apply_text(path, &bytes)
    }

    /// Applies config text held in memory as if it had been read from a file called `name`
    /// (key=value, or TOML when `name` ends in `.toml`): the same parser as
    /// [`load_file`](Self::load_file) without the file checks, and errors cite `name`. Text
    /// longer than [`MAX_CONFIG_FILE`](crate::limits::MAX_CONFIG_FILE) is refused as a file
    /// would be. For the fuzz targets and tests.
    pub fn load_text(&mut self, name: &str, text: &[u8]) -> Result<(), ConfigError> {
        let path = Path::new(name);
        if u64::try_from(text.len()).unwrap_or(u64::MAX) > crate::limits::MAX_CONFIG_FILE {
            return Err(load::too_big(path));
        }
        self.apply_text(path, text)
    }

    /// The format chosen by the file name, then the bytes applied line by line (key=value) or
    /// as one document (TOML).
    fn apply_text(&mut self, path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
        let is_toml = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".toml"));
        if is_toml {
            load::apply_toml(self, path, bytes)
        } else {
            load::apply_key_value(self, path, bytes)
        }
    }

    /// One `key[=value]` setting in vsftpd.conf syntax.
    fn set_raw(
        &mut self,
        key: &str,
        value: Option<&str>,
        origin: Origin,
    ) -> Result<(), ConfigError> {
        let key = key.trim_ascii();
        let raw = value.map(str::trim_ascii).unwrap_or("");
        let Some(t) = find_tunable(key) else {
            return Err(ConfigError::unknown(origin, key, raw));
        };
        if raw.len() > crate::limits::MAX_CONFIG_VALUE {
            return Err(ConfigError::fault(origin, key, raw, value::too_long()));
        }
        let parsed = match value::parse_conf(t, raw) {
            Ok(v) => v,
            Err(fault) => return Err(ConfigError::fault(origin, key, raw, fault)),
        };
        self.accept(t, key, raw, parsed, origin)
    }

    /// Validates a parsed value against the tunable's validator and state, then stores it.
    fn accept(
        &mut self,
        t: &'static Tunable,
        written: &str,
        shown: &str,
        value: Value,
        origin: Origin,
    ) -> Result<(), ConfigError> {
        if let Some(check) = t.check {
            if let Err(message) = check(&value) {
                return Err(ConfigError::setting(origin, written, shown, message));
            }
        }
        if value != t.default_value(self.layout) {
            match t.state {
                State::Planned(what) => {
                    return Err(ConfigError::setting(
                        origin,
                        written,
                        shown,
                        format!(
                            "recognised but not supported yet ({})",
                            State::planned_text(what)
                        ),
                    ));
                }
                State::Refused(why) => {
                    return Err(ConfigError::setting(
                        origin,
                        written,
                        shown,
                        format!("not supported: {why}"),
                    ));
                }
                State::Implemented | State::PlannedAccepted(_) | State::NoEffect(_) => {}
            }
        }
        if !self.config.put(t.name, value) {
            return Err(ConfigError::setting(
                origin,
                written,
                shown,
                "internal error: value of the wrong type".to_string(),
            ));
        }
        self.origins.insert(t.name, origin);
        Ok(())
    }

    fn origin_of(&self, name: &str) -> Origin {
        self.origins.get(name).cloned().unwrap_or(Origin::Default)
    }

    /// The error for a cross-field check, blamed on the first of `names` that was set
    /// explicitly (or the first one, if all are defaults).
    fn blame(&self, names: &[&'static str], message: String, oops: Option<&str>) -> ConfigError {
        let chosen = names
            .iter()
            .copied()
            .find(|n| self.origins.contains_key(n))
            .or_else(|| names.first().copied())
            .unwrap_or("");
        let shown = self.shown_value(chosen);
        let error = ConfigError::setting(self.origin_of(chosen), chosen, &shown, message);
        match oops {
            Some(text) => error.with_oops(text.to_string()),
            None => error,
        }
    }

    /// A tunable's current value in vsftpd.conf syntax.
    fn shown_value(&self, name: &str) -> String {
        match (find_tunable(name), self.config.get(name)) {
            (Some(t), Some(v)) => value::format_value(t.kind, &v),
            _ => String::new(),
        }
    }

    /// "listen_ipv6=YES (from FILE:LINE)" for messages that cite another tunable.
    fn cite(&self, name: &str) -> String {
        let from = match self.origin_of(name) {
            Origin::Default => "the default".to_string(),
            other => format!("from {other}"),
        };
        format!("{name}={} ({from})", self.shown_value(name))
    }

    /// Runs the start-up checks that involve several tunables and returns the settings, with
    /// a warning for every accepted tunable that is set but has no effect yet.
    pub fn finish(self) -> Result<Settings, ConfigError> {
        let c = &self.config;
        if c.listen && c.listen_ipv6 {
            return Err(self.blame(
                &["listen_ipv6", "listen"],
                format!(
                    "conflicts with {}: run two copies of vsftpd for IPv4 and IPv6 \
                     (an IPv6 listener on :: also accepts IPv4 clients)",
                    self.cite_other(&["listen_ipv6", "listen"])
                ),
                Some("run two copies of vsftpd for IPv4 and IPv6"),
            ));
        }
        if !c.anonymous_enable && !c.local_enable {
            return Err(self.blame(
                &["anonymous_enable", "local_enable"],
                format!(
                    "with {}, both local and anonymous access disabled!",
                    self.cite_other(&["anonymous_enable", "local_enable"])
                ),
                Some("vsftpd: both local and anonymous access disabled!"),
            ));
        }
        if c.pasv_max_port != 0 && c.pasv_min_port > c.pasv_max_port {
            return Err(self.blame(
                &["pasv_max_port", "pasv_min_port"],
                format!(
                    "the passive port range is empty: pasv_min_port must not be above \
                     pasv_max_port (see {})",
                    self.cite_other(&["pasv_max_port", "pasv_min_port"])
                ),
                None,
            ));
        }
        if let Some(address) = &c.pasv_address {
            let ok = if c.pasv_addr_resolve {
                value::host_name(address)
            } else {
                address.parse::<Ipv4Addr>().is_ok()
            };
            if !ok {
                let message = if c.pasv_addr_resolve {
                    "not a valid host name".to_string()
                } else {
                    "not an IPv4 address (set pasv_addr_resolve=YES to give a host name)"
                        .to_string()
                };
                return Err(self.blame(&["pasv_address"], message, Some("invalid pasv_address")));
            }
        }
        let warnings = self.warnings();
        Ok(Settings {
            config: self.config,
            layout: self.layout,
            warnings,
            origins: self.origins,
        })
    }

    /// The other tunable of a pair, cited with its value and origin: the one `blame` did not
    /// choose.
    fn cite_other(&self, pair: &[&'static str; 2]) -> String {
        let [first, second] = *pair;
        if self.origins.contains_key(first) {
            self.cite(second)
        } else if self.origins.contains_key(second) {
            self.cite(first)
        } else {
            self.cite(second)
        }
    }

    fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        for t in tunables() {
            let Some(current) = self.config.get(t.name) else {
                continue;
            };
            if current == t.default_value(self.layout) {
                continue;
            }
            let what = match t.state {
                State::PlannedAccepted(what) => format!(
                    "recognised but not supported yet ({}); accepted so that the \
                     distribution's stock configuration loads",
                    State::planned_text(what)
                ),
                State::NoEffect(why) => format!("accepted, no effect: {why}"),
                State::Implemented | State::Planned(_) | State::Refused(_) => continue,
            };
            warnings.push(format!(
                "{}: {}={}: {what}",
                self.origin_of(t.name),
                t.name,
                value::shown(&value::format_value(t.kind, &current))
            ));
        }
        warnings
    }
}

// ---- Settings ------------------------------------------------------------------------------

/// The effective configuration, where each value came from, and the start-up warnings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Every tunable's value.
    pub config: Config,
    /// The layout whose defaults were used.
    pub layout: Layout,
    /// One line per accepted setting that has no effect yet, to log at start-up
    /// (`FILE:LINE: OPTION=VALUE: ...`).
    pub warnings: Vec<String>,
    origins: HashMap<&'static str, Origin>,
}

impl Settings {
    /// The compiled-in defaults of `layout`, as if no file or option had been given.
    pub fn defaults(layout: Layout) -> Settings {
        Settings {
            config: Config::defaults(layout),
            layout,
            warnings: Vec::new(),
            origins: HashMap::new(),
        }
    }

    /// A login's own settings (user_config_dir): these, with the file `dir/user` applied on
    /// top — always vsftpd's key=value format, with the checks of any config file (a regular
    /// file owned by the running user, bounded). A missing file changes nothing; a name that
    /// could leave `dir` (empty, `.`, `..`, a `/`) names no file.
    pub fn for_user(&self, dir: &str, user: &str) -> Result<Settings, ConfigError> {
        if user.is_empty() || user == "." || user == ".." || user.contains('/') {
            return Ok(self.clone());
        }
        let path = Path::new(dir).join(user);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(self.clone());
        }
        let mut loader = Loader {
            layout: self.layout,
            config: self.config.clone(),
            origins: self.origins.clone(),
        };
        let bytes = load::read_config_file(&path)?;
        load::apply_key_value(&mut loader, &path, &bytes)?;
        loader.finish()
    }

    /// Where the value of tunable `name` (or alias) came from; `None` for an unknown name.
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        static DEFAULT: Origin = Origin::Default;
        let t = find_tunable(name)?;
        Some(self.origins.get(t.name).unwrap_or(&DEFAULT))
    }

    /// `--print-config`: `# layout: NAME`, then one `name=value    # origin` line per
    /// tunable in vsftpd syntax (YES/NO, octal tunables with a leading 0, unset strings as
    /// `name=` with `(none)` in the comment).
    pub fn write_effective(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        render::write_effective(self, w)
    }
}

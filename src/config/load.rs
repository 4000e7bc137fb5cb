//! Reading config files: the ownership and size checks, the key=value format and TOML.

use super::value::{self, Fault, Value};
use super::{find_tunable, ConfigError, Kind, Loader, Origin, Tunable};
use crate::limits::MAX_CONFIG_FILE;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// vsftpd's text for a file that is not a regular file owned by the running user.
const NOT_OWNED_OOPS: &str = "config file not owned by correct user, or not a file";

/// The effective user id of this process, from /proc (no libc here).
///
/// /proc/self/status gives it even when the process is not dumpable (when /proc/self itself
/// would be owned by root); the owner of /proc/self is the fallback.
fn effective_uid() -> std::io::Result<u32> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        let euid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_ascii_whitespace().nth(1))
            .and_then(|id| id.parse::<u32>().ok());
        if let Some(euid) = euid {
            return Ok(euid);
        }
    }
    fs::metadata("/proc/self").map(|m| m.uid())
}

/// Reads a config file after vsftpd's checks: a regular file, owned by the running user, at
/// most [`MAX_CONFIG_FILE`] bytes. The checks are repeated on the opened file, so that what is
/// read is what was checked.
pub(super) fn read_config_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let cannot_read = || format!("cannot read config file: {}", path.display());
    let before = fs::metadata(path).map_err(|e| {
        ConfigError::whole_file(path, format!("cannot read config file: {e}"), cannot_read())
    })?;
    check_metadata(path, &before)?;
    let mut file = File::open(path).map_err(|e| {
        ConfigError::whole_file(path, format!("cannot read config file: {e}"), cannot_read())
    })?;
    let opened = file.metadata().map_err(|e| {
        ConfigError::whole_file(path, format!("cannot read config file: {e}"), cannot_read())
    })?;
    if opened.dev() != before.dev() || opened.ino() != before.ino() {
        return Err(ConfigError::whole_file(
            path,
            "the file changed while it was being opened".to_string(),
            cannot_read(),
        ));
    }
    check_metadata(path, &opened)?;
    let mut bytes = Vec::new();
    file.by_ref()
        .take(MAX_CONFIG_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            ConfigError::whole_file(path, format!("cannot read config file: {e}"), cannot_read())
        })?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_CONFIG_FILE {
        return Err(too_big(path));
    }
    Ok(bytes)
}

pub(super) fn too_big(path: &Path) -> ConfigError {
    ConfigError::whole_file(
        path,
        format!("file too big (the limit is {MAX_CONFIG_FILE} bytes)"),
        format!("cannot read config file: {}", path.display()),
    )
}

fn check_metadata(path: &Path, meta: &fs::Metadata) -> Result<(), ConfigError> {
    if !meta.is_file() {
        return Err(ConfigError::whole_file(
            path,
            "not a regular file".to_string(),
            NOT_OWNED_OOPS.to_string(),
        ));
    }
    let euid = effective_uid().map_err(|e| {
        ConfigError::whole_file(
            path,
            format!("cannot tell which user is running (is /proc mounted?): {e}"),
            NOT_OWNED_OOPS.to_string(),
        )
    })?;
    if meta.uid() != euid {
        return Err(ConfigError::whole_file(
            path,
            format!(
                "not owned by the running user (owner uid {}, running as uid {euid})",
                meta.uid()
            ),
            NOT_OWNED_OOPS.to_string(),
        ));
    }
    if meta.len() > MAX_CONFIG_FILE {
        return Err(too_big(path));
    }
    Ok(())
}

// ---- key=value -----------------------------------------------------------------------------

/// Applies a file in vsftpd's key=value format, line by line.
pub(super) fn apply_key_value(
    loader: &mut Loader,
    path: &Path,
    bytes: &[u8],
) -> Result<(), ConfigError> {
    for (index, raw_line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = index + 1;
        let Ok(text) = std::str::from_utf8(raw_line) else {
            return Err(ConfigError::at_line(
                path,
                line,
                "the line is not valid UTF-8 text".to_string(),
            ));
        };
        let text = text.trim_ascii_start();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (key, value) = match text.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (text, None),
        };
        let origin = Origin::File {
            path: path.to_path_buf(),
            line,
        };
        loader.set_raw(key, value, origin)?;
    }
    Ok(())
}

// ---- TOML ----------------------------------------------------------------------------------

/// A TOML value as written, before it is checked against a tunable's kind.
enum Scalar {
    Bool(bool),
    Int(i64),
    Str(String),
    /// Anything else: floats, arrays, tables, dates (named for the message).
    Other(&'static str),
}

impl Scalar {
    fn describe(&self) -> &'static str {
        match self {
            Scalar::Bool(_) => "a boolean",
            Scalar::Int(_) => "an integer",
            Scalar::Str(_) => "a string",
            Scalar::Other(what) => what,
        }
    }

    /// The value as it appears in messages.
    fn shown(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(n) => n.to_string(),
            Scalar::Str(s) => s.clone(),
            Scalar::Other(what) => format!("({what})"),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean, an integer or a string")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Int(i64::try_from(v).unwrap_or(i64::MAX)))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other("a float"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("a table or a date"))
    }
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    let before = text.get(..at).unwrap_or(text);
    before.bytes().filter(|b| *b == b'\n').count() + 1
}

/// Converts a TOML value to the tunable's kind: booleans are `true`/`false`, numbers are
/// integers (octal tunables also take a string in vsftpd syntax, `"022"`, since TOML has no
/// leading-zero octal), strings are strings (`""` unsets, as `name=` does).
fn scalar_value(t: &Tunable, scalar: &Scalar) -> Result<Value, Fault> {
    let mismatch = |expected: &str| {
        Fault::Invalid(format!("expected {expected}, found {}", scalar.describe()))
    };
    match (t.kind, scalar) {
        (Kind::Bool, Scalar::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::Bool, _) => Err(mismatch("true or false")),
        (Kind::Uint | Kind::Octal, Scalar::Int(n)) => {
            value::check_integer(*n, t.kind, t.max).map(Value::Uint)
        }
        (Kind::Octal, Scalar::Str(s)) => {
            value::parse_number(s.trim_ascii(), t.kind, t.max).map(Value::Uint)
        }
        (Kind::Octal, _) => Err(mismatch("an integer (0o22) or an octal string (\"022\")")),
        (Kind::Uint, _) => Err(mismatch("an integer")),
        (Kind::Str, Scalar::Str(s)) => value::parse_string(s).map(Value::Str),
        (Kind::Str, _) => Err(mismatch("a string")),
    }
}

type TomlDocument = BTreeMap<toml::Spanned<String>, toml::Spanned<Scalar>>;

/// Applies a TOML file: a flat table whose keys are the tunables' names.
///
/// Unknown keys are refused as in the key=value format (the table is the list of fields);
/// two spellings of one tunable (e.g. `ssl_tlsv11` and `ssl_tlsv1_1`) are refused, since TOML
/// itself forbids setting a key twice.
pub(super) fn apply_toml(
    loader: &mut Loader,
    path: &Path,
    bytes: &[u8],
) -> Result<(), ConfigError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or(&[]);
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            return Err(ConfigError::at_line(
                path,
                line,
                "the line is not valid UTF-8 text".to_string(),
            ));
        }
    };
    let document: TomlDocument = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |span| line_of(text, span.start));
        ConfigError::at_line(path, line, e.message().trim_end().replace('\n', "; "))
    })?;
    let mut entries: Vec<_> = document.into_iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    let mut seen: HashMap<&'static str, (String, usize)> = HashMap::new();
    for (key, scalar) in entries {
        let line = line_of(text, key.span().start);
        let origin = Origin::File {
            path: path.to_path_buf(),
            line,
        };
        let name = key.get_ref().as_str();
        let scalar = scalar.get_ref();
        let shown = scalar.shown();
        let Some(t) = find_tunable(name) else {
            return Err(ConfigError::unknown(origin, name, &shown));
        };
        if let Some((other, other_line)) = seen.insert(t.name, (name.to_string(), line)) {
            return Err(ConfigError::setting(
                origin,
                name,
                &shown,
                format!("already set as {other} on line {other_line}"),
            ));
        }
        let parsed = scalar_value(t, scalar)
            .map_err(|fault| ConfigError::fault(origin.clone(), name, &shown, fault))?;
        loader.accept(t, name, &shown, parsed, origin)?;
    }
    Ok(())
}

//! Typed values, the value parsers shared by both file formats, and the per-tunable validators.

use super::{Kind, Tunable};
use crate::limits;
use std::fmt::Write as _;

/// One tunable's value, whatever its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Bool(bool),
    Uint(u32),
    Str(Option<String>),
}

/// The Rust types of [`Config`](super::Config) fields, seen through [`Value`].
pub(crate) trait Field {
    /// Stores `value`; false when it is of another kind.
    fn store(&mut self, value: Value) -> bool;
    /// The current value.
    fn load(&self) -> Value;
}

impl Field for bool {
    fn store(&mut self, value: Value) -> bool {
        match value {
            Value::Bool(b) => {
                *self = b;
                true
            }
            _ => false,
        }
    }
    fn load(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Field for u32 {
    fn store(&mut self, value: Value) -> bool {
        match value {
            Value::Uint(n) => {
                *self = n;
                true
            }
            _ => false,
        }
    }
    fn load(&self) -> Value {
        Value::Uint(*self)
    }
}

impl Field for Option<String> {
    fn store(&mut self, value: Value) -> bool {
        match value {
            Value::Str(s) => {
                *self = s;
                true
            }
            _ => false,
        }
    }
    fn load(&self) -> Value {
        Value::Str(self.clone())
    }
}

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// `key=` or a bare `key` for a boolean or a number (vsftpd: "missing value in config file").
    Missing,
    /// Not one of YES/TRUE/1/NO/FALSE/0 (vsftpd: "bad bool value in config file").
    BadBool,
    /// Anything else, with our message.
    Invalid(String),
}

/// Parses a vsftpd.conf value, already trimmed, for tunable `t`.
///
/// Booleans: YES/TRUE/1 or NO/FALSE/0 in any case. Numbers: decimal, or octal when they start
/// with 0 (so `022` is 18), within the tunable's range. Strings: as written; empty is unset.
pub(crate) fn parse_conf(t: &Tunable, raw: &str) -> Result<Value, Fault> {
    match t.kind {
        Kind::Bool => parse_bool(raw).map(Value::Bool),
        Kind::Uint | Kind::Octal => parse_number(raw, t.kind, t.max).map(Value::Uint),
        Kind::Str => parse_string(raw).map(Value::Str),
    }
}

fn parse_bool(raw: &str) -> Result<bool, Fault> {
    if raw.is_empty() {
        return Err(Fault::Missing);
    }
    let yes = ["YES", "TRUE", "1"];
    let no = ["NO", "FALSE", "0"];
    if yes.iter().any(|w| raw.eq_ignore_ascii_case(w)) {
        Ok(true)
    } else if no.iter().any(|w| raw.eq_ignore_ascii_case(w)) {
        Ok(false)
    } else {
        Err(Fault::BadBool)
    }
}

/// The accepted range of a numeric tunable, written in its own syntax.
pub(crate) fn range_text(kind: Kind, max: u32) -> String {
    match kind {
        Kind::Octal => format!("0-0{max:o}"),
        _ => format!("0-{max}"),
    }
}

fn out_of_range(kind: Kind, max: u32) -> Fault {
    Fault::Invalid(format!("number out of range ({})", range_text(kind, max)))
}

/// Decimal, or octal after a leading 0, as vsftpd reads numbers; bounded by `max`.
pub(crate) fn parse_number(raw: &str, kind: Kind, max: u32) -> Result<u32, Fault> {
    if raw.is_empty() {
        return Err(Fault::Missing);
    }
    if raw.starts_with('-') {
        return Err(Fault::Invalid(
            "negative numbers are not allowed".to_string(),
        ));
    }
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Fault::Invalid(
            "not a number (digits only; a leading 0 means octal)".to_string(),
        ));
    }
    let (digits, radix) = match raw.strip_prefix('0') {
        Some(rest) if !rest.is_empty() => (rest, 8),
        _ => (raw, 10),
    };
    if radix == 8 && digits.bytes().any(|b| b == b'8' || b == b'9') {
        return Err(Fault::Invalid(
            "not an octal number (a leading 0 means octal, where 8 and 9 are not digits)"
                .to_string(),
        ));
    }
    match u32::from_str_radix(digits, radix) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(out_of_range(kind, max)),
    }
}

/// A number that arrived as an integer (TOML), checked against the tunable's range.
pub(crate) fn check_integer(n: i64, kind: Kind, max: u32) -> Result<u32, Fault> {
    if n < 0 {
        return Err(Fault::Invalid(
            "negative numbers are not allowed".to_string(),
        ));
    }
    match u32::try_from(n) {
        Ok(v) if v <= max => Ok(v),
        _ => Err(out_of_range(kind, max)),
    }
}

/// A string value: empty means unset (vsftpd's "(none)"); control characters are refused.
pub(crate) fn parse_string(raw: &str) -> Result<Option<String>, Fault> {
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.len() > limits::MAX_CONFIG_VALUE {
        return Err(too_long());
    }
    if raw.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Fault::Invalid(
            "control characters are not allowed in a value".to_string(),
        ));
    }
    Ok(Some(raw.to_string()))
}

/// The fault for a value longer than [`limits::MAX_CONFIG_VALUE`].
pub(crate) fn too_long() -> Fault {
    Fault::Invalid(format!(
        "value too long (more than {} bytes)",
        limits::MAX_CONFIG_VALUE
    ))
}

/// A value in vsftpd.conf syntax: YES/NO, decimal, octal with a leading 0, the string itself
/// (empty when unset).
pub(crate) fn format_value(kind: Kind, value: &Value) -> String {
    match (kind, value) {
        (_, Value::Bool(true)) => "YES".to_string(),
        (_, Value::Bool(false)) => "NO".to_string(),
        (Kind::Octal, Value::Uint(0)) => "0".to_string(),
        (Kind::Octal, Value::Uint(n)) => format!("0{n:o}"),
        (_, Value::Uint(n)) => n.to_string(),
        (_, Value::Str(Some(s))) => s.clone(),
        (_, Value::Str(None)) => String::new(),
    }
}

/// Text from a config file or command line made safe to print: control characters escaped and
/// the length bounded.
pub(crate) fn shown(text: &str) -> String {
    const MAX_SHOWN: usize = 200;
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count >= MAX_SHOWN {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

// ---- Validators named in the table --------------------------------------------------------

/// An IPv4 address literal, when set.
pub(crate) fn ipv4_literal(v: &Value) -> Result<(), String> {
    match v {
        Value::Str(Some(s)) if s.parse::<std::net::Ipv4Addr>().is_err() => {
            Err("not an IPv4 address (a dotted quad such as 192.0.2.1)".to_string())
        }
        _ => Ok(()),
    }
}

/// An IPv6 address literal, when set.
pub(crate) fn ipv6_literal(v: &Value) -> Result<(), String> {
    match v {
        Value::Str(Some(s)) if s.parse::<std::net::Ipv6Addr>().is_err() => {
            Err("not an IPv6 address (such as 2001:db8::1, without brackets)".to_string())
        }
        _ => Ok(()),
    }
}

/// A user name: required, at most [`limits::MAX_USERNAME`] bytes, no blanks, `:` or `/`.
pub(crate) fn user_name(v: &Value) -> Result<(), String> {
    match v {
        Value::Str(Some(s)) => {
            if s.len() > limits::MAX_USERNAME {
                Err(format!(
                    "user name too long (more than {} bytes)",
                    limits::MAX_USERNAME
                ))
            } else if s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '/')
            {
                Err("not a valid user name".to_string())
            } else {
                Ok(())
            }
        }
        Value::Str(None) => Err("a user name is required".to_string()),
        _ => Ok(()),
    }
}

/// A name without `/` or blanks, required (e.g. a PAM service).
pub(crate) fn plain_name(v: &Value) -> Result<(), String> {
    match v {
        Value::Str(Some(s)) if s.chars().any(|c| c.is_whitespace() || c == '/') => {
            Err("must be a plain name, without '/' or blanks".to_string())
        }
        Value::Str(None) => Err("a name is required".to_string()),
        _ => Ok(()),
    }
}

/// An absolute path, required.
pub(crate) fn absolute_path(v: &Value) -> Result<(), String> {
    match v {
        Value::Str(Some(s)) if !s.starts_with('/') => Err("must be an absolute path".to_string()),
        Value::Str(None) => Err("a directory is required".to_string()),
        _ => Ok(()),
    }
}

/// ssl_ciphers: every name must be a suite rustls offers or an OpenSSL keyword.
pub(crate) fn cipher_list(v: &Value) -> Result<(), String> {
    match v {
        Value::Str(Some(s)) => crate::tls::cipher_list(s).map(drop),
        _ => Ok(()),
    }
}

/// An absolute path, or unset.
pub(crate) fn absolute_path_or_none(v: &Value) -> Result<(), String> {
    match v {
        Value::Str(Some(s)) if !s.starts_with('/') => Err("must be an absolute path".to_string()),
        _ => Ok(()),
    }
}

/// proxy_protocol_trusted: addresses and CIDR blocks, comma-separated.
pub(crate) fn cidr_list(v: &Value) -> Result<(), String> {
    match v {
        Value::Str(Some(s)) => crate::proto::proxy::Trusted::parse(s).map(|_| ()),
        _ => Ok(()),
    }
}

/// A host name or address for pasv_address with pasv_addr_resolve=YES.
pub(crate) fn host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
}

/// Edit distance between two short names, for "did you mean" hints.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let far = usize::MAX / 2;
            let substitute = prev.get(j).copied().unwrap_or(far) + usize::from(ca != *cb);
            let delete = prev.get(j + 1).copied().unwrap_or(far) + 1;
            let insert = cur.last().copied().unwrap_or(far) + 1;
            cur.push(substitute.min(delete).min(insert));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

//! Text generated from the table: docs/TUNABLES.md and `--print-config`.

use super::value::{self, Value};
use super::{tunables, Dialect, Kind, Layout, Origin, Settings, State, Tunable};
use std::fmt::Write as _;

/// The name of a state in the docs.
fn state_text(state: State) -> String {
    match state {
        State::Implemented => "implemented".to_string(),
        State::Planned(what) => format!("planned ({what})"),
        State::PlannedAccepted(what) => format!("planned ({what}), accepted"),
        State::NoEffect(why) => format!("accepted, no effect: {why}"),
        State::Refused(why) => format!("refused: {why}"),
    }
}

fn kind_text(t: &Tunable) -> String {
    match t.kind {
        Kind::Bool => "bool".to_string(),
        Kind::Str => "string".to_string(),
        Kind::Uint if t.max == u32::MAX => "number".to_string(),
        Kind::Uint => format!("number ({})", value::range_text(t.kind, t.max)),
        Kind::Octal => format!("octal ({})", value::range_text(t.kind, t.max)),
    }
}

/// A default as shown in the docs: `` `YES` ``, `` `077` ``, `(none)`.
fn default_text(t: &Tunable, layout: Layout) -> String {
    let shown = value::format_value(t.kind, &t.default_value(layout));
    if shown.is_empty() {
        "(none)".to_string()
    } else {
        format!("`{shown}`")
    }
}

/// Markdown table cells cannot hold `|` or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The whole text of docs/TUNABLES.md.
pub fn render_tunables_md() -> String {
    let all = tunables();
    let count = |dialect: Option<Dialect>, kinds: &[Kind]| {
        all.iter()
            .filter(|t| dialect.is_none_or(|d| t.dialect == d) && kinds.contains(&t.kind))
            .count()
    };
    let numeric = [Kind::Uint, Kind::Octal];
    let mut out = String::new();
    let _ = write!(
        out,
        "# Tunables\n\
         \n\
         <!-- Generated from the table in src/config/table.rs by render_tunables_md(); do not \
         edit. Regenerate with: UPDATE_DOCS=1 cargo test --test config_table -->\n\
         \n\
         Every option of vsftpd's configuration file that vsftpd-rs knows: the {up} names of \
         upstream vsftpd 3.0.5's parser ({ub} booleans, {un} numbers, {us} strings), the ones \
         Red Hat's and Debian's builds add, and Red Hat's spellings of the TLS version options. \
         Nothing else is accepted: an unknown name stops the daemon at start-up, as it stops \
         vsftpd.\n\
         \n\
         ## States\n\
         \n\
         - **implemented**: works as in vsftpd.\n\
         - **planned (#N)**: not supported yet; the issue (or feature) that brings it is named. \
         The option is accepted at its default value, so configs that spell out the default \
         keep working; any other value stops the daemon with \
         `FILE:LINE: OPTION=VALUE: recognised but not supported yet (planned in #N)`.\n\
         - **planned (#N), accepted**: not supported yet, but any value is accepted, because \
         the stock configuration of upstream, Debian 12 or RHEL 9 sets it and those must load. \
         A value other than the default is logged at start-up as a warning \
         (`FILE:LINE: OPTION=VALUE: recognised but not supported yet (planned in #N); accepted \
         so that the distribution's stock configuration loads`).\n\
         - **accepted, no effect**: accepted at any value, for the reason given; a value other \
         than the default is logged at start-up as a warning.\n\
         - **refused**: will not be supported, for the reason given; accepted only at its \
         default value (`FILE:LINE: OPTION=VALUE: not supported: REASON`).\n\
         \n\
         ## Syntax\n\
         \n\
         vsftpd.conf (`key=value`): one `name=value` per line; blank lines and lines starting \
         with `#` are skipped; blanks around the value are trimmed (as Red Hat's build does); \
         names are case-sensitive; a later line overrides an earlier one. Booleans are \
         `YES`/`TRUE`/`1` or `NO`/`FALSE`/`0` in any case. Numbers are decimal, or octal when \
         they start with `0` (`022` is 18, as in vsftpd: this applies to every number, not only \
         to the octal ones). `name=` (or a bare `name`) unsets a string option, as vsftpd does \
         (it becomes \"(none)\"), and is an error for a boolean or a number. The file must be a \
         regular file owned by the user running the daemon, at most 100 KiB.\n\
         \n\
         TOML (a file whose name ends in `.toml`): the same names as keys of one flat table, \
         with TOML's types: `true`/`false`, integers (`0o22` for an octal value, or the string \
         `\"022\"`), strings (`\"\"` unsets). Unknown keys are refused. Per-user files in \
         `user_config_dir` are always `key=value`.\n\
         \n\
         The command line applies `-oname=value` options and files left to right: the last \
         setting of an option wins. `vsftpd --print-config` shows every effective value and \
         where it came from.\n\
         \n\
         ## Table\n\
         \n\
         {total} tunables ({tb} booleans, {tn} numbers, {ts} strings). \"RHEL default\" is \
         given where Red Hat's build (the `rhel` layout) differs from upstream. Options only Red \
         Hat's or Debian's vsftpd knows are accepted with either layout.\n\
         \n\
         | Option | Type | Default | RHEL default | State | Description |\n\
         |---|---|---|---|---|---|\n",
        up = count(
            Some(Dialect::Upstream),
            &[Kind::Bool, Kind::Uint, Kind::Octal, Kind::Str]
        ),
        ub = count(Some(Dialect::Upstream), &[Kind::Bool]),
        un = count(Some(Dialect::Upstream), &numeric),
        us = count(Some(Dialect::Upstream), &[Kind::Str]),
        total = all.len(),
        tb = count(None, &[Kind::Bool]),
        tn = count(None, &numeric),
        ts = count(None, &[Kind::Str]),
    );
    for t in all {
        let mut name = format!("`{}`", t.name);
        for alias in t.aliases {
            let _ = write!(name, " (also `{alias}`)");
        }
        let rhel = if t.default_value(Layout::Rhel) == t.default_value(Layout::Upstream) {
            String::new()
        } else {
            default_text(t, Layout::Rhel)
        };
        let origin = match t.dialect {
            Dialect::Upstream => "",
            Dialect::Rhel => "Red Hat only. ",
            Dialect::Debian => "Debian only. ",
            Dialect::Ours => "vsftpd-rs only (vsftpd has no such option). ",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {}{} |",
            name,
            kind_text(t),
            cell(&default_text(t, Layout::Upstream)),
            cell(&rhel),
            cell(&state_text(t.state)),
            origin,
            cell(t.doc),
        );
    }
    out
}

/// `--print-config`: the effective value of every tunable and where it came from.
pub(super) fn write_effective(
    settings: &Settings,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    writeln!(w, "# layout: {}", settings.layout.name())?;
    for t in tunables() {
        let current = settings.config.get(t.name).unwrap_or(Value::Str(None));
        let origin = match settings.origin(t.name) {
            None | Some(Origin::Default) => "default".to_string(),
            Some(Origin::File { path, line }) => format!("from {}:{line}", path.display()),
            Some(Origin::CommandLine) => "command line".to_string(),
            Some(Origin::Builtin(why)) => format!("builtin ({why})"),
        };
        let note = if current == Value::Str(None) {
            format!("(none), {origin}")
        } else {
            origin
        };
        let assignment = format!(
            "{}={}",
            t.name,
            value::shown(&value::format_value(t.kind, &current))
        );
        writeln!(w, "{assignment:<40}    # {note}")?;
    }
    Ok(())
}

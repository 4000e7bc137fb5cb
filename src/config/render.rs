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
    let _ = write!(
        out,
        "\n## Where the defaults differ from Debian's vsftpd\n\
         \n\
         The defaults of the `upstream` layout are those of Debian's vsftpd 3.0.3 (listen=NO: \
         without a `listen` line the daemon runs in inetd mode; secure_chroot_dir is \
         `/var/run/vsftpd/empty`), checked against Debian's own binary by tests/defaults.rs, \
         option by option, where a client, the file system or the process list can see the \
         default. The `rhel` layout has Red Hat's. These differ on purpose:\n\
         \n\
         | Option | Debian's vsftpd | vsftpd-rs | Why |\n\
         |---|---|---|---|\n"
    );
    for (name, theirs, ours, why) in DIFFERENCES_FROM_DEBIAN {
        let _ = writeln!(out, "| `{name}` | {theirs} | {ours} | {why} |");
    }
    out
}

/// The defaults that differ from Debian's vsftpd on purpose: (option, what Debian's does,
/// what ours does, why). tests/defaults.rs probes each one and checks this list.
const DIFFERENCES_FROM_DEBIAN: &[(&str, &str, &str, &str)] = &[
    (
        "ftpd_banner",
        "unset: greets `220 (vsFTPd 3.0.3)`",
        "unset: greets `220 (vsFTPd-rs VERSION)`",
        "a client, a scanner or an admin must be able to tell the two apart; set ftpd_banner \
         for any other text",
    ),
    (
        "utf8_filesystem",
        "NO: FEAT leaves out `UTF8` (a Debian patch)",
        "NO: FEAT lists `UTF8`, as upstream vsftpd does",
        "names are passed through as bytes whatever the option says (accepted, no effect), so \
         FEAT says what upstream says",
    ),
];

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

// ---- man/vsftpd.conf.5 ---------------------------------------------------------------------

/// Text for a roff line: backslashes escaped, `` `code` `` in bold, characters outside ASCII
/// as `\[uXXXX]`, and a line that would start with `.` or `'` protected with `\&`.
fn roff(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut bold = false;
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '`' => {
                out.push_str(if bold { "\\fR" } else { "\\fB" });
                bold = !bold;
            }
            '-' => out.push_str("\\-"),
            '\n' => out.push(' '),
            c if c.is_ascii() => out.push(c),
            c => {
                let _ = write!(out, "\\[u{:04X}]", u32::from(c));
            }
        }
    }
    if bold {
        out.push_str("\\fR");
    }
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

/// A default as shown in the man page: `YES`, `077`, `(none)`.
fn man_default(t: &Tunable, layout: Layout) -> String {
    let shown = value::format_value(t.kind, &t.default_value(layout));
    if shown.is_empty() {
        "(none)".to_string()
    } else {
        shown
    }
}

/// One `.TP` entry of the option list.
fn man_entry(out: &mut String, t: &Tunable) {
    let _ = writeln!(out, ".TP\n.B {}", roff(t.name));
    let origin = match t.dialect {
        Dialect::Upstream => "",
        Dialect::Rhel => "Red Hat only. ",
        Dialect::Debian => "Debian only. ",
        Dialect::Ours => "vsftpd\\-rs only (vsftpd has no such option). ",
    };
    let _ = writeln!(out, "{origin}{}", roff(t.doc));
    let _ = writeln!(out, ".br");
    let mut facts = format!(
        "Type: {}. Default: {}",
        kind_text(t),
        man_default(t, Layout::Upstream)
    );
    if t.default_value(Layout::Rhel) != t.default_value(Layout::Upstream) {
        let _ = write!(facts, " (rhel layout: {})", man_default(t, Layout::Rhel));
    }
    let _ = write!(facts, ". State: {}.", state_text(t.state));
    let _ = writeln!(out, "{}", roff(&facts));
    for alias in t.aliases {
        let _ = writeln!(out, ".br\nAlso spelt \\fB{}\\fR.", roff(alias));
    }
}

/// The whole text of man/vsftpd.conf.5, generated from the table like docs/TUNABLES.md.
pub fn render_vsftpd_conf_5() -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        ".\\\" Generated from the table in src/config/table.rs by render_vsftpd_conf_5(); do not\n\
         .\\\" edit. Regenerate with: UPDATE_DOCS=1 cargo test \\-\\-test man_pages\n\
         .TH VSFTPD.CONF 5 \"\" \"vsftpd\\-rs {version}\" \"File Formats\"\n\
         .SH NAME\n\
         vsftpd.conf \\- configuration file of vsftpd\\-rs, the Very Secure FTP Daemon\n\
         .SH SYNOPSIS\n\
         .B /etc/vsftpd.conf\n\
         (upstream and Debian layout)\n\
         .br\n\
         .B /etc/vsftpd/vsftpd.conf\n\
         (rhel layout)\n\
         .SH DESCRIPTION\n\
         .BR vsftpd (8)\n\
         reads its settings from the files and \\fB\\-o\\fRname=value options of its command \
         line, left to right: the last setting of an option wins. With no file on the command \
         line, the layout's default file above is read last, when it exists.\n\
         .PP\n\
         The file holds one \\fIname\\fB=\\fIvalue\\fR per line. Blank lines and lines whose \
         first non\\-blank character is \\fB#\\fR are skipped; blanks around the value are \
         trimmed; names are case\\-sensitive. Booleans are \\fBYES\\fR, \\fBTRUE\\fR or \
         \\fB1\\fR, and \\fBNO\\fR, \\fBFALSE\\fR or \\fB0\\fR, in any case. Numbers are \
         decimal, or octal when they start with \\fB0\\fR (\\fB022\\fR is 18, for every \
         number). \\fIname\\fB=\\fR with no value unsets a string option (it becomes \
         \"(none)\") and is an error for the others. The file must be a regular file owned by \
         the user running the daemon.\n\
         .PP\n\
         A file whose name ends in \\fB.toml\\fR is read as TOML: the same names, as keys of \
         one flat table, with TOML's types (\\fBtrue\\fR/\\fBfalse\\fR, integers, \\fB0o22\\fR \
         or the string \\fB\"022\"\\fR for an octal value, strings; \\fB\"\"\\fR unsets). \
         Unknown keys are refused. Files in \\fBuser_config_dir\\fR are always name=value.\n\
         .PP\n\
         An unknown option, or a value that does not fit, stops the daemon at start\\-up with \
         \\fIFILE\\fB:\\fILINE\\fB: \\fIOPTION\\fB=\\fIVALUE\\fB: \\fImessage\\fR. \
         Check a file with \\fBvsftpd \\-t\\fR \\fIFILE\\fR; \\fBvsftpd \\-\\-print\\-config\\fR \
         shows every effective value and where it came from.\n\
         .SH STATES\n\
         Every option has a state, given with it below.\n\
         .TP\n\
         .B implemented\n\
         Works as in vsftpd.\n\
         .TP\n\
         .B planned (#N)\n\
         Not supported yet; the issue or feature that brings it is named. Accepted at its \
         default value only; any other value stops the daemon with \
         \"recognised but not supported yet\".\n\
         .TP\n\
         .B planned (#N), accepted\n\
         Not supported yet, but accepted at any value because the stock configuration of \
         upstream, Debian or Red Hat sets it; a value other than the default is logged at \
         start\\-up as a warning.\n\
         .TP\n\
         .B accepted, no effect\n\
         Accepted at any value, for the reason given; a value other than the default is logged \
         at start\\-up as a warning.\n\
         .TP\n\
         .B refused\n\
         Will not be supported, for the reason given; accepted at its default value only.\n",
        version = env!("CARGO_PKG_VERSION"),
    );
    let sections = [
        ("BOOLEAN OPTIONS", &[Kind::Bool][..]),
        ("NUMERIC OPTIONS", &[Kind::Uint, Kind::Octal][..]),
        ("STRING OPTIONS", &[Kind::Str][..]),
    ];
    for (title, kinds) in sections {
        let _ = writeln!(out, ".SH {title}");
        let mut list: Vec<&Tunable> = tunables()
            .iter()
            .filter(|t| kinds.contains(&t.kind))
            .collect();
        list.sort_by_key(|t| t.name);
        for t in list {
            man_entry(&mut out, t);
        }
    }
    out.push_str(
        ".SH FILES\n\
         .TP\n\
         .B /etc/vsftpd.conf\n\
         The configuration file (upstream and Debian layout).\n\
         .TP\n\
         .B /etc/vsftpd/*.conf\n\
         The configuration files (rhel layout): the init script and \\fBvsftpd.target\\fR run \
         one daemon per file.\n\
         .SH SEE ALSO\n\
         .BR vsftpd (8),\n\
         .BR pam (8)\n",
    );
    out
}

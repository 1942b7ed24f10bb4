//! Inline pragmas: `cdb-allow: RULE-ID reason: …` comments that allow one rule on one line.

use crate::fingerprint::location_fingerprint;
use crate::hit::Hit;

/// The pseudo-rule reported for a pragma that has no reason: such a pragma suppresses nothing.
pub const PRAGMA_MISSING_REASON: &str = "pragma-missing-reason";

const MARKER: &str = "cdb-allow:";

/// An allowance: these rules are allowed on this 1-based line.
#[derive(Debug)]
pub(crate) struct Allow {
    pub line: usize,
    pub rules: Vec<String>,
}

/// What the pragmas of a text say.
#[derive(Debug, Default)]
pub(crate) struct Pragmas {
    pub allows: Vec<Allow>,
    pub missing_reason: Vec<Hit>,
}

impl Pragmas {
    pub(crate) fn allows(&self, rule: &str, line: usize) -> bool {
        // Allowances are pushed in line order, so a binary search keeps many pragmas and many
        // hits in one file from costing their product.
        let from = self.allows.partition_point(|a| a.line < line);
        self.allows[from..]
            .iter()
            .take_while(|a| a.line == line)
            .any(|a| a.rules.iter().any(|r| r == rule))
    }
}

/// Reads every pragma of `text`. A pragma is the marker inside a comment: after `<!--` (markdown
/// and HTML), `#` (YAML, shell, TOML) or `//` (Rust and other C-like sources). A comment alone
/// on its line allows the next line; a trailing comment allows its own line.
pub(crate) fn parse(text: &str) -> Pragmas {
    let mut out = Pragmas::default();
    if memchr::memmem::find(text.as_bytes(), MARKER.as_bytes()).is_none() {
        return out;
    }
    let mut offset = 0;
    for (idx, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = idx + 1;
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let before = line[..at].trim_end();
        let opener = ["<!--", "//", "#"].iter().find(|o| before.ends_with(*o));
        let Some(opener) = opener else {
            continue;
        };
        let opener_at = before.len() - opener.len();
        let own_line = line[..opener_at].trim().is_empty();
        let mut rest = &line[at + MARKER.len()..];
        if *opener == "<!--" {
            rest = rest.split("-->").next().unwrap_or_default();
        }
        let (rules_part, reason) = match rest.split_once("reason:") {
            Some((r, why)) => (r, why.trim()),
            None => (rest, ""),
        };
        let rules: Vec<String> = rules_part
            .split([',', ' ', '\t'])
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        if reason.is_empty() || rules.is_empty() {
            let start = line_start + opener_at;
            let end = line_start + line.len();
            out.missing_reason.push(Hit {
                rule: PRAGMA_MISSING_REASON,
                start,
                end,
                line: line_no,
                column: line[..opener_at].chars().count() + 1,
                // The comment's text is not hashed: it could quote a value. The rank among
                // reason-less pragmas of the file is stable enough for a note to fix.
                fingerprint: location_fingerprint(
                    PRAGMA_MISSING_REASON,
                    "",
                    out.missing_reason.len(),
                ),
            });
            continue;
        }
        let target = if own_line { line_no + 1 } else { line_no };
        out.allows.push(Allow {
            line: target,
            rules,
        });
    }
    out
}

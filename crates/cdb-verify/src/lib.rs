//! The checks behind `cargo xtask verify`: a registry of rules over the [`cdb_docs::Hub`] model, and the reports.
//!
//! Every rule lives in a module of its own under [`rules`], has a stable
//! kebab-case id, a group, a default severity and a one-line summary, and is
//! registered in the one table [`rules::registry`]. Rules never panic and never
//! fail: what they find is data ([`Finding`]), rendered by [`report`].

pub mod finding;
pub mod report;
pub mod rules;
pub mod select;

pub use cdb_secrets::{Baseline, escape_controls, for_human, mask};
pub use finding::{Finding, Severity};
pub use rules::{Check, Ctx, ExternalStack, Rule, RuleMeta, registry};
pub use select::{Selection, SelectionError};

use cdb_docs::Hub;

/// What one run checks, and against which date and baseline.
#[derive(Debug)]
pub struct Config {
    pub today: jiff::civil::Date,
    pub selection: Selection,
    /// Accepted secret findings (`.secrets-baseline`), if any.
    pub baseline: Option<Baseline>,
    /// A real Compose folder to compare with the kit's description (`--stack DIR`).
    pub stack: Option<rules::ExternalStack>,
}

impl Config {
    pub fn new(today: jiff::civil::Date, selection: Selection) -> Config {
        Config {
            today,
            selection,
            baseline: None,
            stack: None,
        }
    }
}

/// Runs every selected rule over the hub and returns the findings sorted by path, line and rule.
pub fn check(hub: &Hub, config: &Config) -> Vec<Finding> {
    let mut ctx = Ctx::new(hub, config.today);
    ctx.external_stack = config.stack.as_ref();
    let mut out = Vec::new();
    let mut secret_rules = Vec::new();
    for rule in registry() {
        if !config.selection.includes(rule.meta) {
            continue;
        }
        match rule.check {
            Check::Hub(f) => {
                let mut sink = rules::Sink::new(rule.meta, &mut out);
                f(&ctx, &mut sink);
            }
            Check::Secret => secret_rules.push(rule.meta.id),
        }
    }
    rules::secrets::check(&ctx, &secret_rules, config.baseline.as_ref(), &mut out);
    out.sort_by(|a, b| {
        (
            a.path.as_str(),
            a.line,
            a.column,
            a.rule.as_str(),
            a.message.as_str(),
        )
            .cmp(&(
                b.path.as_str(),
                b.line,
                b.column,
                b.rule.as_str(),
                b.message.as_str(),
            ))
    });
    out.dedup_by(|a, b| {
        a.rule == b.rule && a.path == b.path && a.line == b.line && a.message == b.message
    });
    cap_per_file_and_rule(out, MAX_PER_FILE_AND_RULE)
}

/// At most this many findings of one rule in one file are listed; the rest become one summary finding.
pub const MAX_PER_FILE_AND_RULE: usize = 100;

/// Keeps the first `max` findings of each (path, rule) and replaces the rest
/// by one finding of the same rule and severity, at the first one left out,
/// saying how many were. 3,000 broken links on one line otherwise made a
/// report of 170 MB. `findings` is sorted by path first.
pub fn cap_per_file_and_rule(findings: Vec<Finding>, max: usize) -> Vec<Finding> {
    let mut counts: std::collections::HashMap<(String, String), usize> =
        std::collections::HashMap::new();
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len().min(1 << 16));
    // Where the summary of each capped (path, rule) sits in `out`.
    let mut summary_at: std::collections::HashMap<(String, String), usize> =
        std::collections::HashMap::new();
    for f in findings {
        let key = (f.path.clone(), f.rule.clone());
        let n = counts.entry(key.clone()).or_insert(0);
        *n += 1;
        if *n <= max {
            out.push(f);
        } else if *n == max + 1 {
            summary_at.insert(key, out.len());
            out.push(f);
        }
    }
    for ((path, rule), at) in summary_at {
        let more = counts.get(&(path, rule.clone())).copied().unwrap_or(0) - max;
        let f = &mut out[at];
        f.message = format!(
            "{more} more `{rule}` findings in this file from here on are not listed (at most {max} per file and rule)"
        );
        f.fingerprint = finding::fnv1a(&[&rule, &f.path, "capped"]);
        f.mask_chars = None;
    }
    out
}

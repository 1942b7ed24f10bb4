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

pub use cdb_secrets::Baseline;
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
    out
}

//! The checks behind `cargo xtask verify`: a registry of rules over the [`cdb_docs::Hub`] model, and the reports.
//!
//! Every rule lives in a module of its own under [`rules`], has a stable
//! kebab-case id, a group, a default severity and a one-line summary, and is
//! registered in the one table [`rules::REGISTRY`]. Rules never panic and never
//! fail: what they find is data ([`Finding`]), rendered by [`report`].

pub mod finding;
pub mod report;
pub mod rules;
pub mod select;

pub use finding::{Finding, Severity};
pub use rules::{Ctx, REGISTRY, RuleMeta};
pub use select::{Selection, SelectionError};

use cdb_docs::Hub;

/// Runs every selected rule over the hub and returns the findings sorted by path, line and rule.
pub fn check(hub: &Hub, today: jiff::civil::Date, selection: &Selection) -> Vec<Finding> {
    let ctx = Ctx::new(hub, today);
    let mut out = Vec::new();
    for rule in rules::REGISTRY {
        if selection.includes(rule.meta) {
            let mut sink = rules::Sink::new(rule.meta, &mut out);
            (rule.check)(&ctx, &mut sink);
        }
    }
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

//! Rule `playbook-section`: the leak playbook has every section an incident needs.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;

pub static META: RuleMeta = RuleMeta {
    id: "playbook-section",
    group: "structure",
    severity: Severity::Error,
    summary: "the incident playbook has severity, roles, containment, revocation, communication, approvals, escalation and the post-incident checklist",
};

pub const RULE: Rule = Rule::hub(&META, check);

/// Each required section, as words that must all appear in one heading's anchor.
const REQUIRED: &[(&str, &[&str])] = &[
    ("severity", &["severity"]),
    ("roles", &["roles"]),
    ("containment", &["contain"]),
    ("revocation", &["revo"]),
    ("communication", &["communicat"]),
    ("approvals", &["approval"]),
    ("escalation", &["escalat"]),
    (
        "post-incident verification checklist",
        &["post-incident", "checklist"],
    ),
];

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let path = &ctx.hub.layout.playbook;
    let Some(doc) = ctx.doc(path) else {
        sink.at(path, 1, 1, "the incident-response playbook is missing");
        return;
    };
    for (name, words) in REQUIRED {
        let found = doc
            .md
            .headings
            .iter()
            .any(|h| words.iter().all(|w| h.anchor.contains(w)));
        if !found {
            sink.at(
                path,
                1,
                1,
                format!(
                    "no `{name}` section (a heading containing {})",
                    words.join(" and ")
                ),
            );
        }
    }
}

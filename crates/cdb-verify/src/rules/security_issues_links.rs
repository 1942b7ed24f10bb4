//! Rule `security-issues-links`: SECURITY_ISSUES.md links to the runbook, the playbook, the inventory and the matrix.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use cdb_docs::LinkTarget;

pub static META: RuleMeta = RuleMeta {
    id: "security-issues-links",
    group: "structure",
    severity: Severity::Error,
    summary: "SECURITY_ISSUES.md links to the runbook, the playbook, the inventory and the matrix",
};

pub const RULE: Rule = Rule::hub(&META, check);

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let layout = &ctx.hub.layout;
    let Some(doc) = ctx.doc(&layout.security_issues) else {
        sink.at(
            &layout.security_issues,
            1,
            1,
            "SECURITY_ISSUES.md is missing",
        );
        return;
    };
    let targets: Vec<String> = doc
        .md
        .links
        .iter()
        .filter_map(|l| match &l.target {
            LinkTarget::File { path, .. } => ctx.hub.resolve(&doc.path, path),
            _ => None,
        })
        .collect();
    for (what, path) in [
        ("rotation runbook", &layout.runbook),
        ("incident playbook", &layout.playbook),
        ("secret inventory", &layout.inventory),
        ("rotation matrix", &layout.matrix),
    ] {
        if !targets.iter().any(|t| t == path) {
            sink.at(&doc.path, 1, 1, format!("no link to the {what} `{path}`"));
        }
    }
}

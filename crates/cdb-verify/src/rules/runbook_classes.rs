//! Rule `runbook-class-section`: the rotation runbook has, for every matrix class, owner and contact, the four phases and an inventory link.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use cdb_docs::matrix::split_ref;
use cdb_docs::{LinkTarget, Phase};

pub static META: RuleMeta = RuleMeta {
    id: "runbook-class-section",
    group: "structure",
    severity: Severity::Error,
    summary: "each class's runbook section names owner and contact, has pre-check, rotate, verify and rollback steps, and links its inventory entry",
};

pub const RULE: Rule = Rule::hub(&META, check);

/// The phases every class section must have steps for.
const REQUIRED: [Phase; 4] = [
    Phase::PreCheck,
    Phase::Rotate,
    Phase::Verify,
    Phase::Rollback,
];

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let layout = &ctx.hub.layout;
    let Some(runbook) = ctx.doc(&layout.runbook) else {
        sink.at(&layout.runbook, 1, 1, "the rotation runbook is missing");
        return;
    };
    let Some(matrix) = ctx.matrix() else { return };
    for class in &matrix.classes {
        let id = class.id.value.as_str();
        let (rb_path, frag) = split_ref(&class.runbook.value);
        if layout.hub_path(rb_path) != runbook.path {
            continue; // The matrix rule reports a runbook reference to another file.
        }
        let Some(heading) = frag.and_then(|f| runbook.md.headings.iter().find(|h| h.anchor == f))
        else {
            continue; // `matrix-runbook` reports the missing section.
        };
        let range = runbook.md.section_range(heading, runbook.text.len());
        let body = &runbook.text[range.clone()];
        let mut missing = Vec::new();
        if !body.contains("Owner:") {
            missing.push("an `Owner:` field".to_owned());
        }
        if !body.contains("Contact:") {
            missing.push("a `Contact:` field".to_owned());
        }
        for (label, owner_ref) in [
            ("owner", &class.owner),
            ("backup owner", &class.backup_owner),
        ] {
            if !body.contains(owner_ref.value.as_str()) {
                missing.push(format!("the matrix's {label} `{}`", owner_ref.value));
            }
        }
        if let Some(contact) = matrix
            .owner(&class.owner.value)
            .map(|o| o.contact.value.as_str())
            && !body.contains(contact)
        {
            missing.push(format!(
                "the owner's contact `{contact}` (as in the matrix)"
            ));
        }
        let inv_target = layout.hub_path(split_ref(&class.inventory.value).0);
        let inv_frag = split_ref(&class.inventory.value).1;
        let links_inventory = runbook.md.links.iter().any(|l| {
            range.contains(&l.span.start)
                && matches!(&l.target, LinkTarget::File { path, fragment }
                    if ctx.hub.resolve(&runbook.path, path).as_deref() == Some(inv_target.as_str())
                        && (inv_frag.is_none() || fragment.as_deref() == inv_frag))
        });
        if !links_inventory {
            missing.push(format!(
                "a link to its inventory entry `{}`",
                class.inventory.value
            ));
        }
        for phase in REQUIRED {
            let has = runbook
                .steps
                .iter()
                .any(|s| s.class == id && s.phase == phase && range.contains(&s.span.start));
            if !has {
                missing.push(format!("a `{phase}` step"));
            }
        }
        if !missing.is_empty() {
            sink.at_offset(
                runbook,
                heading.span.start,
                format!(
                    "section `{}` of class `{id}` lacks {}",
                    heading.text,
                    missing.join(", ")
                ),
            );
        }
    }
}

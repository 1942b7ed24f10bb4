//! Rule `matrix-owner`: every owner, backup owner, approver, reviewer and escalation target resolves to the owners table.

use super::{Ctx, Rule, RuleMeta, Sink, mpos};
use crate::Severity;
use cdb_docs::matrix::Spanned;
use std::collections::HashSet;

pub static META: RuleMeta = RuleMeta {
    id: "matrix-owner",
    group: "matrix",
    severity: Severity::Error,
    summary: "owner references resolve to the owners table, owner ids are unique, contacts are not empty, every class names an emergency approver, and every role an S1 pages names a `paging` reference",
};

pub const RULE: Rule = Rule::hub(&META, check);

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(m) = ctx.matrix() else { return };
    let path = ctx.matrix_path();
    let mut seen = HashSet::new();
    for o in &m.owners {
        let (l, c) = mpos(&o.id);
        if !seen.insert(o.id.value.as_str()) {
            sink.at(
                path,
                l,
                c,
                format!("owner id `{}` is defined twice", o.id.value),
            );
        }
        if o.contact.value.trim().is_empty() {
            let (l, c) = mpos(&o.contact);
            sink.at(
                path,
                l,
                c,
                format!("owner `{}` has an empty contact", o.id.value),
            );
        }
    }
    let mut refer = |what: String, r: &Spanned<String>| {
        if m.owner(&r.value).is_none() {
            let (l, c) = mpos(r);
            sink.at(
                path,
                l,
                c,
                format!("{what} `{}` is not in the owners table", r.value),
            );
        }
    };
    refer("review.reviewer".into(), &m.review.reviewer);
    for o in &m.owners {
        if let Some(e) = &o.escalation {
            refer(format!("escalation of `{}`", o.id.value), e);
        }
    }
    for class in &m.classes {
        let id = &class.id.value;
        refer(format!("owner of `{id}`"), &class.owner);
        refer(format!("backup owner of `{id}`"), &class.backup_owner);
        for a in &class.approvals.routine {
            refer(format!("routine approver of `{id}`"), a);
        }
        for a in &class.approvals.emergency {
            refer(format!("emergency approver of `{id}`"), a);
        }
    }
    // An S1 at 3 a.m. pages class owners, backup owners and emergency approvers; a chat
    // message does not wake anyone, so each of them names its private on-call reference.
    let mut paged: Vec<&str> = Vec::new();
    for class in &m.classes {
        paged.push(&class.owner.value);
        paged.push(&class.backup_owner.value);
        paged.extend(class.approvals.emergency.iter().map(|a| a.value.as_str()));
    }
    for o in m
        .owners
        .iter()
        .filter(|o| paged.contains(&o.id.value.as_str()))
    {
        if o.paging.as_ref().is_none_or(|p| p.value.trim().is_empty()) {
            let (l, c) = mpos(&o.id);
            sink.at(
                path,
                l,
                c,
                format!(
                    "owner `{}` is paged in an S1 (class owner, backup owner or emergency approver) but names no `paging` reference (a private on-call entry kept outside the repository)",
                    o.id.value
                ),
            );
        }
    }
    for class in m
        .classes
        .iter()
        .filter(|c| c.approvals.emergency.is_empty())
    {
        let (l, c) = mpos(&class.id);
        sink.at(
            path,
            l,
            c,
            format!(
                "class `{}` names no approver for an emergency rotation",
                class.id.value
            ),
        );
    }
}

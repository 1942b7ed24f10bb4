//! Rule `step-unexercised`: a verify or rollback step that no drill scenario and no sweep case
//! runs. Dead verification is a defect: nobody knows whether it detects or recovers anything.
//!
//! Decided statically by `cdb_model::coverage` from the hub's steps, the scenarios' class and
//! trigger and the fault catalogue: nothing runs, nothing is written.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;

pub static META: RuleMeta = RuleMeta {
    id: "step-unexercised",
    group: "steps",
    severity: Severity::Error,
    summary: "a verify or rollback step that no drill scenario and no sweep case of the fault catalogue runs",
};

pub const RULE: Rule = Rule::hub(&META, check);

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let hub = ctx.hub;
    let steps: Vec<&cdb_docs::Step> = hub.docs.iter().flat_map(|d| d.steps.iter()).collect();
    if !steps.iter().any(|s| cdb_model::coverage::is_checked(s)) {
        return;
    }
    let scenarios = cdb_model::coverage::scenarios(&hub.root);
    let done = cdb_model::coverage::exercised(&steps, &scenarios);
    for doc in &hub.docs {
        for s in doc
            .steps
            .iter()
            .filter(|s| cdb_model::coverage::is_checked(s))
        {
            if done.contains(&s.id) {
                continue;
            }
            let when = match s.when {
                cdb_docs::Trigger::Leak => " on a leak",
                cdb_docs::Trigger::Routine => " on a routine rotation",
                cdb_docs::Trigger::Any => "",
            };
            sink.at_offset(
                doc,
                s.fence_span.start,
                format!(
                    "{} step `{}` is exercised by no drill scenario and no sweep case: no scenario of class `{}`{when} and no catalogue fault (crates/cdb-drill/src/faults.rs) that takes effect in it",
                    s.phase.as_str(),
                    s.id,
                    s.class
                ),
            );
        }
    }
}

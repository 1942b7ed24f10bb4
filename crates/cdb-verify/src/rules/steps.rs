//! Rules `step-format`, `step-duplicate-id`, `step-unknown-class` and `step-proven-by`:
//! executable steps are well formed.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use std::collections::HashMap;

pub static FORMAT_META: RuleMeta = RuleMeta {
    id: "step-format",
    group: "steps",
    severity: Severity::Error,
    summary: "a `.step` block breaks the executable-step format (docs/step-format.md)",
};
pub static DUPLICATE_META: RuleMeta = RuleMeta {
    id: "step-duplicate-id",
    group: "steps",
    severity: Severity::Error,
    summary: "two executable steps share an id",
};
pub static UNKNOWN_CLASS_META: RuleMeta = RuleMeta {
    id: "step-unknown-class",
    group: "steps",
    severity: Severity::Error,
    summary: "a step names a class the rotation matrix does not define",
};

pub static PROVEN_BY_META: RuleMeta = RuleMeta {
    id: "step-proven-by",
    group: "steps",
    severity: Severity::Error,
    summary: "a step's `proven-by=` names no earlier executable step of its class that runs before it",
};

pub const FORMAT: Rule = Rule::hub(&FORMAT_META, format);
pub const PROVEN_BY: Rule = Rule::hub(&PROVEN_BY_META, proven_by);
pub const DUPLICATE: Rule = Rule::hub(&DUPLICATE_META, duplicate);
pub const UNKNOWN_CLASS: Rule = Rule::hub(&UNKNOWN_CLASS_META, unknown_class);

fn format(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    for doc in &ctx.hub.docs {
        for p in &doc.step_problems {
            sink.at_offset(doc, p.offset, p.message.clone());
        }
    }
}

fn duplicate(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let mut first: HashMap<&str, (&str, usize)> = HashMap::new();
    for doc in &ctx.hub.docs {
        for step in &doc.steps {
            let here = doc.lines.line_col(&doc.text, step.fence_span.start);
            match first.get(step.id.as_str()) {
                Some((path, line)) => sink.at(
                    &doc.path,
                    here.line,
                    here.column,
                    format!("step id `{}` is already used at {path}:{line}", step.id),
                ),
                None => {
                    first.insert(&step.id, (&doc.path, here.line));
                }
            }
        }
    }
}

fn unknown_class(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(m) = ctx.matrix() else { return };
    for doc in &ctx.hub.docs {
        for step in &doc.steps {
            if m.class(&step.class).is_none() {
                let known: Vec<_> = m.classes.iter().map(|c| c.id.value.as_str()).collect();
                sink.at_offset(
                    doc,
                    step.fence_span.start,
                    format!(
                        "step `{}` names unknown class `{}` (matrix classes: {})",
                        step.id,
                        step.class,
                        known.join(", ")
                    ),
                );
            }
        }
    }
}

/// `proven-by=ID` is the gate a deletion before Verify relies on (`cargo xtask rotate` runs the
/// step only after ID passed in the same rotation): ID must be an executable (not manual) step
/// of the same class and document, above it, in a phase that runs before it (pre-check or the
/// same phase), so it has run whenever this step runs.
fn proven_by(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    use cdb_docs::Phase;
    for doc in &ctx.hub.docs {
        for (i, step) in doc.steps.iter().enumerate() {
            let Some(proof) = &step.proven_by else {
                continue;
            };
            let why = match doc.steps[..i].iter().find(|s| &s.id == proof) {
                None => Some(format!(
                    "`proven-by={proof}` of step `{}` names no step above it in this document",
                    step.id
                )),
                Some(p) if p.class != step.class => Some(format!(
                    "`proven-by={proof}` of step `{}` is a step of class `{}`, not `{}`",
                    step.id, p.class, step.class
                )),
                Some(p) if p.manual => Some(format!(
                    "`proven-by={proof}` of step `{}` is a manual step: the proof must be a command that can fail",
                    step.id
                )),
                Some(p) if p.phase != step.phase && p.phase != Phase::PreCheck => Some(format!(
                    "`proven-by={proof}` of step `{}` runs in phase `{}`, not before it in `{}`",
                    step.id,
                    p.phase.as_str(),
                    step.phase.as_str()
                )),
                Some(_) => None,
            };
            if let Some(why) = why {
                sink.at_offset(doc, step.fence_span.start, why);
            }
        }
    }
}

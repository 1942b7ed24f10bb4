//! Rules `step-format`, `step-duplicate-id` and `step-unknown-class`: executable steps are well formed.

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

pub const FORMAT: Rule = Rule::hub(&FORMAT_META, format);
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

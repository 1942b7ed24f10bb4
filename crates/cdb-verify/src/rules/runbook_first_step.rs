//! Rule `runbook-first-step-far`: the first command of every class is within one screen of its heading.
//!
//! During an outage the reader jumps to the class heading; if the first
//! command is not on that screen, the prose above it has grown too long.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use cdb_docs::matrix::split_ref;

/// One screen of a laptop terminal or browser window, in source lines.
pub const SCREEN_LINES: usize = 40;

pub static META: RuleMeta = RuleMeta {
    id: "runbook-first-step-far",
    group: "structure",
    severity: Severity::Error,
    summary: "a class's first executable step is more than one screen (40 lines) below its heading",
};

pub const RULE: Rule = Rule::hub(&META, check);

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let (Some(matrix), Some(runbook)) = (ctx.matrix(), ctx.doc(&ctx.hub.layout.runbook)) else {
        return;
    };
    for class in &matrix.classes {
        let Some(frag) = split_ref(&class.runbook.value).1 else {
            continue;
        };
        let Some(h) = runbook.md.headings.iter().find(|h| h.anchor == frag) else {
            continue;
        };
        let range = runbook.md.section_range(h, runbook.text.len());
        let Some(first) = runbook.steps.iter().find(|s| range.contains(&s.span.start)) else {
            continue;
        };
        let head_line = runbook.lines.line_col(&runbook.text, h.span.start).line;
        let step_line = runbook
            .lines
            .line_col(&runbook.text, first.fence_span.start)
            .line;
        if step_line - head_line > SCREEN_LINES {
            sink.at_offset(
                runbook,
                h.span.start,
                format!(
                    "the first step of `{}` (`{}`) is {} lines below its heading; keep it within {SCREEN_LINES}",
                    class.id.value,
                    first.id,
                    step_line - head_line
                ),
            );
        }
    }
}

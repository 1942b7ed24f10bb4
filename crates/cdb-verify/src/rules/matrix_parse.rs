//! Rule `matrix-invalid`: the rotation matrix exists, is valid YAML and matches the schema.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;

pub static META: RuleMeta = RuleMeta {
    id: "matrix-invalid",
    group: "matrix",
    severity: Severity::Error,
    summary: "the rotation matrix is missing, not valid YAML, or does not match its schema",
};

pub const RULE: Rule = Rule::hub(&META, check);

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let path = ctx.matrix_path();
    match &ctx.hub.matrix {
        None => sink.at(path, 1, 1, "the rotation matrix is missing"),
        Some(Err(e)) => sink.at(path, e.line, e.column, e.message.clone()),
        Some(Ok(m)) if m.version != 1 => sink.at(
            path,
            1,
            1,
            format!("unsupported matrix version {} (expected 1)", m.version),
        ),
        Some(Ok(_)) => {}
    }
}

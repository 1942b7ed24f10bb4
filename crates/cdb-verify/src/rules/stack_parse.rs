//! Rule `stack-parse`: the kit's Compose description parses within the stack model; the shared loading of it for the `stack` rules.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use cdb_stack::{Description, Source, StackError};

pub static META: RuleMeta = RuleMeta {
    id: "stack-parse",
    group: "stack",
    severity: Severity::Error,
    summary: "the kit's Compose files (stack/compose) are valid YAML within the stack model: known keys, no extends or include, every secret read from a file",
};

pub const RULE: Rule = Rule::hub(&META, check);

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    if let Some(Err(errors)) = kit(ctx) {
        for e in errors {
            sink.at(&e.at.file, e.at.line, e.at.column, e.message);
        }
    }
}

/// The kit's Compose files as the hub loaded them (`Layout::stack_dir`), by path.
pub(crate) fn kit_sources(hub: &cdb_docs::Hub) -> Vec<Source> {
    hub.files
        .iter()
        .filter(|f| hub.layout.is_stack_file(&f.path))
        .map(|f| Source {
            path: f.path.clone(),
            text: f.text.clone(),
        })
        .collect()
}

/// The kit's description; `None` when the tree has no stack folder (then the
/// `stack` rules have nothing to check, as for a plain folder of markdown).
pub(crate) fn kit(ctx: &Ctx<'_>) -> Option<Result<Description, Vec<StackError>>> {
    let sources = kit_sources(ctx.hub);
    (!sources.is_empty()).then(|| Description::parse(&sources))
}

/// The kit's description when it parsed; the other `stack` rules stay silent
/// on a broken one, which `stack-parse` reports.
pub(crate) fn kit_ok(ctx: &Ctx<'_>) -> Option<Description> {
    kit(ctx).and_then(Result::ok)
}

/// Reports at a position of a Compose file.
pub(crate) fn at_pos(sink: &mut Sink<'_>, p: &cdb_stack::Pos, message: String) {
    sink.at(&p.file, p.line, p.column, message);
}

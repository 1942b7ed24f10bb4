//! Rule `matrix-scope`: every service in a class's scope is a known consumer.

use super::{Ctx, Rule, RuleMeta, Sink, mpos};
use crate::Severity;

pub static META: RuleMeta = RuleMeta {
    id: "matrix-scope",
    group: "matrix",
    severity: Severity::Error,
    summary: "scope entries name services listed under `services`, and no class has an empty scope",
};

pub const RULE: Rule = Rule::hub(&META, check);

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(m) = ctx.matrix() else { return };
    let path = ctx.matrix_path();
    for class in &m.classes {
        if class.scope.is_empty() {
            let (l, c) = mpos(&class.id);
            sink.at(
                path,
                l,
                c,
                format!("class `{}` has an empty scope", class.id.value),
            );
        }
        for s in &class.scope {
            if !m.known_services().any(|k| k == s.value) {
                let (l, c) = mpos(s);
                sink.at(
                    path,
                    l,
                    c,
                    format!(
                        "scope of `{}` names unknown service `{}`",
                        class.id.value, s.value
                    ),
                );
            }
        }
    }
}

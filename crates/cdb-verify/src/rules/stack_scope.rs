//! Rule `stack-scope-service-gone`: every service the matrix names (class scopes, project lists) exists in the kit's Compose description.

use super::stack_parse::kit_ok;
use super::{Ctx, Rule, RuleMeta, Sink, mpos};
use crate::Severity;

pub static META: RuleMeta = RuleMeta {
    id: "stack-scope-service-gone",
    group: "stack",
    severity: Severity::Error,
    summary: "services named by class scopes and by the matrix's project lists exist in the kit's Compose description (external ones excepted), and each project's services are listed",
};

pub const RULE: Rule = Rule::hub(&META, check);

/// The matrix's list of consumers outside Compose (`services.external`).
const EXTERNAL: &str = "external";

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(d) = kit_ok(ctx) else { return };
    let Some(m) = ctx.matrix() else { return };
    let path = ctx.matrix_path();
    let external: Vec<&str> = m
        .services
        .get(EXTERNAL)
        .map(|v| v.iter().map(|s| s.value.as_str()).collect())
        .unwrap_or_default();
    let defined = |name: &str| d.project_of(name).is_some();
    for class in &m.classes {
        for s in &class.scope {
            if !defined(&s.value) && !external.contains(&s.value.as_str()) {
                let (l, c) = mpos(s);
                sink.at(
                    path,
                    l,
                    c,
                    format!(
                        "scope of `{}` names `{}`, which no Compose file of the kit's description defines",
                        class.id.value, s.value
                    ),
                );
            }
        }
    }
    for (group, listed) in &m.services {
        let Some(project) = d.projects.iter().find(|p| p.name.as_deref() == Some(group)) else {
            continue;
        };
        for s in listed {
            if project.service(&s.value).is_none() {
                let (l, c) = mpos(s);
                sink.at(
                    path,
                    l,
                    c,
                    format!(
                        "`{}` is listed under `{group}` but project `{group}` does not define it",
                        s.value
                    ),
                );
            }
        }
        for svc in &project.services {
            if !listed.iter().any(|s| s.value == svc.name.value) {
                let at = &svc.name.at;
                sink.at(
                    &at.file,
                    at.line,
                    at.column,
                    format!(
                        "service `{}` of project `{group}` is not listed under `services.{group}` in the matrix",
                        svc.name.value
                    ),
                );
            }
        }
    }
}

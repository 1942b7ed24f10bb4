//! Rule `matrix-runbook`: matrix classes and runbook sections match in both directions.

use super::{Ctx, Rule, RuleMeta, Sink, mpos};
use crate::Severity;
use cdb_docs::matrix::split_ref;
use std::collections::BTreeMap;

pub static META: RuleMeta = RuleMeta {
    id: "matrix-runbook",
    group: "matrix",
    severity: Severity::Error,
    summary: "every matrix class has a runbook section, and every runbook section with steps has a matrix class",
};

pub const RULE: Rule = Rule::hub(&META, check);

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(matrix) = ctx.matrix() else { return };
    let mpath = ctx.matrix_path();
    let layout = &ctx.hub.layout;
    let mut referenced: Vec<(String, String)> = Vec::new();
    for class in &matrix.classes {
        let (line, col) = mpos(&class.runbook);
        let (file, frag) = split_ref(&class.runbook.value);
        let target = layout.hub_path(file);
        let Some(doc) = ctx.doc(&target) else {
            sink.at(
                mpath,
                line,
                col,
                format!(
                    "class `{}`: runbook `{file}` does not exist",
                    class.id.value
                ),
            );
            continue;
        };
        match frag {
            None => sink.at(
                mpath,
                line,
                col,
                format!(
                    "class `{}`: runbook reference has no `#section`",
                    class.id.value
                ),
            ),
            Some(f) if !doc.md.has_anchor(f) => sink.at(
                mpath,
                line,
                col,
                format!(
                    "class `{}`: no section `#{f}` in `{target}`",
                    class.id.value
                ),
            ),
            Some(f) => referenced.push((target.clone(), f.to_owned())),
        }
    }
    // The reverse direction: a level-2 runbook section that holds steps must be some class's section.
    if let Some(runbook) = ctx.doc(&layout.runbook) {
        let mut sections: BTreeMap<&str, usize> = BTreeMap::new();
        for step in &runbook.steps {
            if let Some(sec) = &step.section {
                sections.entry(sec.as_str()).or_insert(step.span.start);
            }
        }
        for (sec, _) in sections {
            let Some(h) = runbook.md.headings.iter().find(|h| h.anchor == sec) else {
                continue;
            };
            let is_class = referenced
                .iter()
                .any(|(p, f)| p == &runbook.path && f == sec);
            // Sections shared by all classes (emergency rotation, checklists) hold steps of several classes.
            let classes: std::collections::BTreeSet<&str> = runbook
                .steps
                .iter()
                .filter(|s| s.section.as_deref() == Some(sec))
                .map(|s| s.class.as_str())
                .collect();
            let known_classes = classes.iter().all(|c| matrix.class(c).is_some());
            if !is_class && classes.len() == 1 && known_classes {
                let class = classes.iter().next().copied().unwrap_or_default();
                sink.at_offset(
                    runbook,
                    h.span.start,
                    format!("section `{}` holds only `{class}` steps but the matrix's runbook reference for `{class}` points elsewhere", h.text),
                );
            } else if !is_class && !known_classes {
                let unknown: Vec<_> = classes
                    .iter()
                    .filter(|c| matrix.class(c).is_none())
                    .copied()
                    .collect();
                sink.at_offset(
                    runbook,
                    h.span.start,
                    format!(
                        "section `{}` has steps of class {} with no matrix entry",
                        h.text,
                        unknown.join(", ")
                    ),
                );
            }
        }
    }
}

//! Rules `stack-secret-not-in-inventory` and `stack-consumer-not-in-inventory`: every secret file the stack mounts, and every service that mounts it, is in the inventory.

use super::stack_parse::{at_pos, kit_ok};
use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use cdb_docs::Doc;
use std::collections::BTreeSet;

pub static SECRET: RuleMeta = RuleMeta {
    id: "stack-secret-not-in-inventory",
    group: "stack",
    severity: Severity::Error,
    summary: "every secret file a service of the kit's Compose description mounts has an inventory entry",
};

pub static CONSUMER: RuleMeta = RuleMeta {
    id: "stack-consumer-not-in-inventory",
    group: "stack",
    severity: Severity::Error,
    summary: "every service that mounts a secret file is listed among that entry's consumers in the inventory",
};

pub const SECRET_RULE: Rule = Rule::hub(&SECRET, check_secrets);
pub const CONSUMER_RULE: Rule = Rule::hub(&CONSUMER, check_consumers);

/// One inventory entry: a `### \`NAME\`` section.
struct Entry {
    name: String,
    /// Every inline code span of the section (file names, aliases, mount paths).
    spans: Vec<String>,
    /// The code spans of its `**Consumers:**` line.
    consumers: Vec<String>,
}

fn entries(ctx: &Ctx<'_>, doc: &Doc) -> Vec<Entry> {
    let mut starts: Vec<usize> = doc.md.headings.iter().map(|h| h.span.start).collect();
    starts.sort_unstable();
    ctx.inventory_names
        .iter()
        .map(|(name, offset)| {
            let end = starts
                .iter()
                .copied()
                .find(|&s| s > *offset)
                .unwrap_or(doc.text.len());
            let section = &doc.text[*offset..end];
            let consumers_line = section.find("**Consumers:**").map(|i| {
                let from = offset + i;
                let to = doc.text[from..].find('\n').map_or(end, |n| from + n);
                from..to
            });
            let mut spans = Vec::new();
            let mut consumers = Vec::new();
            for (text, span) in &doc.md.code_spans {
                if span.start >= *offset && span.end <= end {
                    spans.push(text.clone());
                    if consumers_line
                        .as_ref()
                        .is_some_and(|l| span.start >= l.start && span.end <= l.end)
                    {
                        consumers.push(text.clone());
                    }
                }
            }
            Entry {
                name: name.clone(),
                spans,
                consumers,
            }
        })
        .collect()
}

/// The entry that documents secret file `file`: the one named so, else one
/// that names the file in a code span (an alias such as `MEXC_API_KEY.txt`).
fn documenting<'e>(entries: &'e [Entry], file: &str) -> Option<&'e Entry> {
    let in_path = format!("$SECRETS_PATH/{file}");
    entries.iter().find(|e| e.name == file).or_else(|| {
        entries
            .iter()
            .find(|e| e.spans.iter().any(|s| s == file || *s == in_path))
    })
}

/// Every secret use of every file of the description: (service, secret use, file name).
fn uses(d: &cdb_stack::Description) -> Vec<(&cdb_stack::Service, &cdb_stack::SecretUse, String)> {
    let mut out = Vec::new();
    for f in &d.files {
        for s in &f.services {
            for u in &s.secrets {
                let def = f.secret(&u.source.value).or_else(|| {
                    d.project_of(&s.name.value)
                        .and_then(|p| p.secret(&u.source.value))
                });
                if let Some(def) = def {
                    out.push((s, u, def.file_name().to_owned()));
                }
            }
        }
    }
    out
}

/// The kit's description, the inventory and its entries, when both exist.
fn load<'a>(ctx: &Ctx<'a>) -> Option<(cdb_stack::Description, &'a Doc, Vec<Entry>)> {
    let d = kit_ok(ctx)?;
    let doc = ctx.doc(&ctx.hub.layout.inventory)?;
    let entries = entries(ctx, doc);
    Some((d, doc, entries))
}

fn check_secrets(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some((d, doc, entries)) = load(ctx) else {
        return;
    };
    let mut seen = BTreeSet::new();
    for (s, u, file) in uses(&d) {
        if documenting(&entries, &file).is_none() && seen.insert(file.clone()) {
            at_pos(
                sink,
                &u.source.at,
                format!(
                    "secret file `{file}` (secret `{}`, mounted by `{}`) has no entry in the inventory `{}`",
                    u.source.value, s.name.value, doc.path
                ),
            );
        }
    }
}

fn check_consumers(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some((d, _, entries)) = load(ctx) else {
        return;
    };
    for (s, u, file) in uses(&d) {
        let Some(entry) = documenting(&entries, &file) else {
            continue;
        };
        if !entry.consumers.iter().any(|c| c == &s.name.value) {
            at_pos(
                sink,
                &u.source.at,
                format!(
                    "`{}` mounts `{file}`, but the inventory entry `{}` does not list it among its consumers",
                    s.name.value, entry.name
                ),
            );
        }
    }
}

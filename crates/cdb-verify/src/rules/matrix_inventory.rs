//! Rule `matrix-inventory`: every matrix secret is in the inventory, and every inventory secret belongs to a class.

use super::{Ctx, Rule, RuleMeta, Sink, mpos};
use crate::Severity;
use cdb_docs::matrix::split_ref;
use std::collections::HashMap;

pub static META: RuleMeta = RuleMeta {
    id: "matrix-inventory",
    group: "matrix",
    severity: Severity::Error,
    summary: "matrix secrets and inventory entries match in both directions, and each class's inventory reference resolves",
};

pub const RULE: Rule = Rule::hub(&META, check);

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(m) = ctx.matrix() else { return };
    let mpath = ctx.matrix_path();
    let layout = &ctx.hub.layout;
    let Some(inventory) = ctx.doc(&layout.inventory) else {
        sink.at(&layout.inventory, 1, 1, "the secret inventory is missing");
        return;
    };
    let mut owners: HashMap<&str, Vec<&str>> = HashMap::new();
    for class in &m.classes {
        let (file, frag) = split_ref(&class.inventory.value);
        let (l, c) = mpos(&class.inventory);
        if layout.hub_path(file) != inventory.path {
            sink.at(
                mpath,
                l,
                c,
                format!(
                    "class `{}`: inventory reference `{file}` is not the inventory `{}`",
                    class.id.value, inventory.path
                ),
            );
        } else if let Some(f) = frag
            && !inventory.md.has_anchor(f)
        {
            sink.at(
                mpath,
                l,
                c,
                format!(
                    "class `{}`: no entry `#{f}` in the inventory",
                    class.id.value
                ),
            );
        }
        for s in &class.secrets {
            owners
                .entry(s.value.as_str())
                .or_default()
                .push(class.id.value.as_str());
            if !ctx.inventory_names.iter().any(|(n, _)| n == &s.value) {
                let (l, c) = mpos(s);
                sink.at(
                    mpath,
                    l,
                    c,
                    format!(
                        "secret `{}` of class `{}` is not in the inventory",
                        s.value, class.id.value
                    ),
                );
            }
        }
    }
    for (name, offset) in &ctx.inventory_names {
        match owners.get(name.as_str()) {
            None => sink.at_offset(
                inventory,
                *offset,
                format!("inventory secret `{name}` belongs to no class in the matrix"),
            ),
            Some(classes) if classes.len() > 1 => sink.at_offset(
                inventory,
                *offset,
                format!(
                    "inventory secret `{name}` belongs to several classes: {}",
                    classes.join(", ")
                ),
            ),
            Some(_) => {}
        }
    }
}

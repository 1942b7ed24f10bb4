//! Rules `link-missing-file`, `link-missing-anchor`, `link-escapes-root`: every relative link and fragment resolves.
//!
//! External URLs are never fetched. Fragments are checked against the anchors
//! the target markdown file defines, with GitHub's slug rules.

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use cdb_docs::LinkTarget;

pub static MISSING_FILE_META: RuleMeta = RuleMeta {
    id: "link-missing-file",
    group: "links",
    severity: Severity::Error,
    summary: "a relative link points to a file that does not exist",
};
pub static MISSING_ANCHOR_META: RuleMeta = RuleMeta {
    id: "link-missing-anchor",
    group: "links",
    severity: Severity::Error,
    summary: "a link's #fragment names no heading or anchor in its target",
};
pub static ESCAPES_META: RuleMeta = RuleMeta {
    id: "link-escapes-root",
    group: "links",
    severity: Severity::Error,
    summary: "a relative link climbs out of the checked root",
};

pub const MISSING_FILE: Rule = Rule::hub(&MISSING_FILE_META, check_files);
pub const MISSING_ANCHOR: Rule = Rule::hub(&MISSING_ANCHOR_META, check_anchors);
pub const ESCAPES_ROOT: Rule = Rule::hub(&ESCAPES_META, check_escapes);

fn check_files(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    for doc in &ctx.hub.docs {
        for link in &doc.md.links {
            if let LinkTarget::File { path, .. } = &link.target
                && let Some(target) = ctx.hub.resolve(&doc.path, path)
                && !ctx.hub.exists(&target)
            {
                sink.at_offset(
                    doc,
                    link.span.start,
                    format!("link to `{}`: no file `{target}`", link.dest),
                );
            }
        }
    }
}

fn check_escapes(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    for doc in &ctx.hub.docs {
        for link in &doc.md.links {
            if let LinkTarget::File { path, .. } = &link.target
                && ctx.hub.resolve(&doc.path, path).is_none()
            {
                sink.at_offset(
                    doc,
                    link.span.start,
                    format!("link to `{}` leaves the root", link.dest),
                );
            }
        }
    }
}

fn check_anchors(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    for doc in &ctx.hub.docs {
        for link in &doc.md.links {
            let (target_doc, fragment) = match &link.target {
                LinkTarget::Fragment(f) => (Some(doc), f.as_str()),
                LinkTarget::File {
                    path,
                    fragment: Some(f),
                } => {
                    let Some(target) = ctx.hub.resolve(&doc.path, path) else {
                        continue;
                    };
                    // A fragment on a file that is not markdown (a YAML line anchor, say) is not checked.
                    let target_doc = if path.is_empty() {
                        Some(doc)
                    } else {
                        ctx.hub.doc(&target)
                    };
                    (target_doc, f.as_str())
                }
                _ => continue,
            };
            let Some(target_doc) = target_doc else {
                continue;
            };
            // GitHub treats an empty fragment and `#top` as the top of the page.
            if fragment.is_empty() || fragment == "top" {
                continue;
            }
            let wanted = cdb_docs::markdown::percent_decode(fragment);
            if !target_doc.md.has_anchor(&wanted)
                && !target_doc.md.has_anchor(&wanted.to_lowercase())
            {
                sink.at_offset(
                    doc,
                    link.span.start,
                    format!(
                        "link to `{}`: no heading or anchor `#{fragment}` in `{}`",
                        link.dest, target_doc.path
                    ),
                );
            }
        }
    }
}

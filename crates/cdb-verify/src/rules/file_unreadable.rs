//! Rules `file-unreadable` (files verify could not read: permissions, invalid UTF-8, too large, symlinks
//! leaving the root) and `file-special` (FIFOs, sockets and devices, named but never opened).

use super::{Ctx, Rule, RuleMeta, Sink};
use crate::Severity;
use cdb_docs::LoadProblemKind;

pub static META: RuleMeta = RuleMeta {
    id: "file-unreadable",
    group: "io",
    severity: Severity::Error,
    summary: "a file under the root could not be read as UTF-8 text",
};

pub static SPECIAL_META: RuleMeta = RuleMeta {
    id: "file-special",
    group: "io",
    severity: Severity::Note,
    summary: "a FIFO, socket or device under the root was not read (opening one can block forever)",
};

pub const RULE: Rule = Rule::hub(&META, check);
pub const SPECIAL: Rule = Rule::hub(&SPECIAL_META, special);

fn special(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    for p in &ctx.hub.problems {
        if let LoadProblemKind::Special { kind } = &p.kind {
            sink.at(
                &p.path,
                1,
                1,
                format!("{kind}, not a regular file; not read"),
            );
        }
    }
}

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    for p in &ctx.hub.problems {
        let (line, msg) = match &p.kind {
            LoadProblemKind::Unreadable(e) => (1, format!("cannot read: {e}")),
            LoadProblemKind::InvalidUtf8 { line } => {
                (*line, "not valid UTF-8 from this line on".to_owned())
            }
            LoadProblemKind::TooLarge { bytes } => (
                1,
                format!(
                    "{bytes} bytes is over the {} byte limit; the file was not read",
                    cdb_docs::hub::MAX_FILE_BYTES
                ),
            ),
            LoadProblemKind::SymlinkEscapes => (
                1,
                "symlink points outside the root; not followed".to_owned(),
            ),
            LoadProblemKind::Special { .. } => continue,
        };
        sink.at(&p.path, line, 1, msg);
    }
}

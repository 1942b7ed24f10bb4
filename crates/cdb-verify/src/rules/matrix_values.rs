//! Rule `matrix-value`: cadences, recovery-time objectives and dates parse, dates are not in the future, class ids are unique.

use super::{Ctx, Rule, RuleMeta, Sink, mpos};
use crate::Severity;
use cdb_docs::matrix::Spanned;
use std::collections::HashSet;

pub static META: RuleMeta = RuleMeta {
    id: "matrix-value",
    group: "matrix",
    severity: Severity::Error,
    summary: "cadences, RTOs and dates parse, no date lies in the future, and class ids are unique",
};

pub const RULE: Rule = Rule::hub(&META, check);

/// Parses a `YYYY-MM-DD` matrix date.
pub(crate) fn date(s: &Spanned<String>) -> Result<jiff::civil::Date, String> {
    s.value
        .parse::<jiff::civil::Date>()
        .map_err(|e| format!("`{}` is not a date (YYYY-MM-DD): {e}", s.value))
}

fn check(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(m) = ctx.matrix() else { return };
    let path = ctx.matrix_path();
    let mut at = |s: &Spanned<String>, msg: String| {
        let (l, c) = mpos(s);
        sink.at(path, l, c, msg);
    };
    let check_date = |at: &mut dyn FnMut(&Spanned<String>, String),
                      what: &str,
                      s: &Spanned<String>| match date(s) {
        Err(e) => at(s, format!("{what}: {e}")),
        Ok(d) if d > ctx.today => at(
            s,
            format!("{what} {d} is in the future (today is {})", ctx.today),
        ),
        Ok(_) => {}
    };
    check_date(&mut at, "review.last_reviewed", &m.review.last_reviewed);
    if let Err(e) = m.review.cadence() {
        at(&m.review.cadence, format!("review.cadence: {e}"));
    }
    let mut ids = HashSet::new();
    for class in &m.classes {
        let id = &class.id.value;
        if !ids.insert(id.as_str()) {
            at(&class.id, format!("class id `{id}` is defined twice"));
        }
        if let Err(e) = class.cadence() {
            at(&class.cadence, format!("cadence of `{id}`: {e}"));
        }
        if let Err(e) = class.rto() {
            at(&class.rto, format!("rto of `{id}`: {e}"));
        }
        if let Some(lr) = &class.last_rotated {
            check_date(&mut at, &format!("last_rotated of `{id}`"), lr);
        }
    }
}

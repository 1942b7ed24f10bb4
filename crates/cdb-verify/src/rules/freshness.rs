//! Rules `rotation-overdue`, `rotation-never` and `review-stale`: rotations and the hub review keep to their cadence.
//!
//! `--today` pins the date so a run reproduces.

use super::matrix_values::date;
use super::{Ctx, Rule, RuleMeta, Sink, mpos};
use crate::Severity;

pub static OVERDUE_META: RuleMeta = RuleMeta {
    id: "rotation-overdue",
    group: "freshness",
    severity: Severity::Error,
    summary: "a class was last rotated longer ago than its cadence",
};
pub static NEVER_META: RuleMeta = RuleMeta {
    id: "rotation-never",
    group: "freshness",
    severity: Severity::Note,
    summary: "a class has no recorded rotation (`last_rotated: null`)",
};
pub static REVIEW_META: RuleMeta = RuleMeta {
    id: "review-stale",
    group: "freshness",
    severity: Severity::Error,
    summary: "the hub's last review is older than its review cadence",
};

pub const OVERDUE: Rule = Rule::hub(&OVERDUE_META, overdue);
pub const NEVER: Rule = Rule::hub(&NEVER_META, never);
pub const REVIEW: Rule = Rule::hub(&REVIEW_META, review);

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: jiff::civil::Date, to: jiff::civil::Date) -> i64 {
    // Cannot fail: two civil dates are at most about 7.3 million days apart, well inside a
    // span's range, and days are a date's default unit.
    let span = to.since(from).unwrap_or_default();
    i64::from(span.get_days())
}

fn days_since(ctx: &Ctx<'_>, d: jiff::civil::Date) -> i64 {
    days_between(d, ctx.today)
}

fn overdue(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(m) = ctx.matrix() else { return };
    for class in &m.classes {
        let (Some(lr), Ok(cadence)) = (&class.last_rotated, class.cadence()) else {
            continue;
        };
        let Ok(d) = date(lr) else { continue };
        let age = days_since(ctx, d);
        let limit = cadence.days() as i64;
        if age > limit {
            let (l, c) = mpos(lr);
            // Keyed on the class and its rotation date: the same overdue rotation is the same
            // alert every day, a new `last_rotated` a new one.
            sink.at_keyed(
                ctx.matrix_path(),
                l,
                c,
                format!(
                    "class `{}` was last rotated {d}, {age} days ago; its cadence is {} ({} days overdue)",
                    class.id.value,
                    class.cadence.value,
                    age - limit
                ),
                &format!("{} {d}", class.id.value),
            );
        }
    }
}

fn never(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(m) = ctx.matrix() else { return };
    for class in m.classes.iter().filter(|c| c.last_rotated.is_none()) {
        let (l, c) = mpos(&class.id);
        sink.at(
            ctx.matrix_path(),
            l,
            c,
            format!(
                "class `{}` has no recorded rotation; set `last_rotated` after the first one",
                class.id.value
            ),
        );
    }
}

fn review(ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
    let Some(m) = ctx.matrix() else { return };
    let (Ok(d), Ok(cadence)) = (date(&m.review.last_reviewed), m.review.cadence()) else {
        return;
    };
    let age = days_since(ctx, d);
    if age > cadence.days() as i64 {
        let (l, c) = mpos(&m.review.last_reviewed);
        sink.at_keyed(
            ctx.matrix_path(),
            l,
            c,
            format!(
                "the hub was last reviewed {d}, {age} days ago; its review cadence is {} — run the quarterly review and update `review.last_reviewed`",
                m.review.cadence.value
            ),
            &format!("review {d}"),
        );
    }
}

//! Schedule computation: due dates, statuses and the hub's next review, from the matrix and a pinned today.

use cdb_docs::matrix::{Spanned, pos, split_ref};
use cdb_docs::{Duration, Layout, Matrix};
use jiff::civil::Date;

/// Why the schedule could not be computed: a value of the matrix at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ReviewError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// An error at a matrix value. The message quotes matrix strings, so it is
/// masked here, where every `ReviewError` is made.
fn at<T>(s: &Spanned<T>, message: String) -> ReviewError {
    let (line, column) = pos(s);
    ReviewError {
        line,
        column,
        message: masked(&message),
    }
}

/// A matrix string as the schedule keeps it: through `cdb_secrets::mask`, so
/// no renderer (human, JSON, iCalendar) can print a value the scanner flags.
fn masked(s: &str) -> String {
    cdb_secrets::mask(s).into_owned()
}

/// Where a class stands on `today`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// No rotation is recorded: due now, whatever the cadence.
    NeverRotated,
    /// The due date has passed by this many days (at least 1).
    Overdue { days: i64 },
    /// Due within the window, in this many days (0 = today).
    Due { in_days: i64 },
    /// Due after the window ends, in this many days.
    Later { in_days: i64 },
}

impl Status {
    /// The kebab-case name used by the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NeverRotated => "never-rotated",
            Status::Overdue { .. } => "overdue",
            Status::Due { .. } => "due",
            Status::Later { .. } => "later",
        }
    }

    /// Whether the entry falls due within the window (or already has).
    pub fn is_due(self) -> bool {
        !matches!(self, Status::Later { .. })
    }
}

/// One secret class and when it is next due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub class: String,
    pub title: String,
    pub owner: String,
    pub contact: String,
    pub backup_owner: String,
    /// The cadence as the matrix writes it (`90d`, `quarterly`).
    pub cadence: String,
    pub cadence_days: i64,
    pub last_rotated: Option<Date>,
    /// `last_rotated + cadence`, or `today` when never rotated.
    pub due: Date,
    pub status: Status,
    /// Root-relative runbook reference (`Claire_de_Binare_Docs/docs/…md#class`).
    pub runbook: String,
}

/// The hub's own quarterly review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubReview {
    pub last_reviewed: Date,
    pub cadence: String,
    pub cadence_days: i64,
    /// `last_reviewed + cadence`.
    pub next: Date,
    pub status: Status,
    pub reviewer: String,
    pub contact: String,
    /// Root-relative procedure reference.
    pub procedure: String,
}

/// Everything `cargo xtask review` reports, for one `today` and window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub today: Date,
    pub within_days: i64,
    /// Every class, ordered by due date, then class id.
    pub entries: Vec<Entry>,
    pub review: HubReview,
}

/// `date + days`, or `None` when the result leaves the calendar's range.
pub fn add_days(date: Date, days: i64) -> Option<Date> {
    let span = jiff::Span::new().try_days(days).ok()?;
    date.checked_add(span).ok()
}

/// Whole days from `from` to `to` (negative when `to` is earlier), as `cdb-verify`'s freshness rules count them.
fn days_between(from: Date, to: Date) -> i64 {
    // Cannot fail: two civil dates are at most about 7.3 million days apart, well inside a
    // span's range, and days are a date's default unit.
    to.since(from)
        .map(|span| i64::from(span.get_days()))
        .unwrap_or_default()
}

/// Parses a `--within` window (`30d`, `2w`, `quarterly`) into whole days.
pub fn parse_window(s: &str) -> Result<i64, String> {
    let d: Duration = s
        .parse()
        .map_err(|e: cdb_docs::duration::DurationError| e.0)?;
    if !d.secs.is_multiple_of(86_400) {
        return Err(format!("`{s}` is not a whole number of days"));
    }
    i64::try_from(d.days()).map_err(|_| format!("`{s}` is too large"))
}

fn parse_date(s: &Spanned<String>, what: &str) -> Result<Date, ReviewError> {
    s.value.parse::<Date>().map_err(|e| {
        at(
            s,
            format!("{what} `{}` is not a date (YYYY-MM-DD): {e}", s.value),
        )
    })
}

fn parse_cadence(s: &Spanned<String>, what: &str) -> Result<i64, ReviewError> {
    let d = cdb_docs::matrix::parse_cadence(&s.value).map_err(|e| at(s, format!("{what}: {e}")))?;
    i64::try_from(d.days()).map_err(|_| at(s, format!("{what} `{}` is too large", s.value)))
}

fn status(today: Date, due: Date, window_end: Date) -> Status {
    let in_days = days_between(today, due);
    if due < today {
        Status::Overdue { days: -in_days }
    } else if due <= window_end {
        Status::Due { in_days }
    } else {
        Status::Later { in_days }
    }
}

/// `docs/…md#frag` (relative to the hub directory) as a root-relative reference.
fn root_ref(layout: &Layout, r: &str) -> String {
    match split_ref(r) {
        (p, Some(frag)) => format!("{}#{frag}", layout.hub_path(p)),
        (p, None) => layout.hub_path(p),
    }
}

impl Schedule {
    /// Computes the schedule. Errors name the matrix value (line and column) that stopped it:
    /// a date or cadence that does not parse, a due date out of range, an owner missing from the owners table.
    pub fn compute(
        matrix: &Matrix,
        layout: &Layout,
        today: Date,
        within_days: i64,
    ) -> Result<Schedule, ReviewError> {
        let window_end = add_days(today, within_days).ok_or_else(|| ReviewError {
            line: 1,
            column: 1,
            message: format!("the window of {within_days} days from {today} leaves the calendar"),
        })?;
        let contact_of = |id: &Spanned<String>, what: &str| -> Result<String, ReviewError> {
            matrix
                .owner(&id.value)
                .map(|o| masked(&o.contact.value))
                .ok_or_else(|| {
                    at(
                        id,
                        format!("{what} `{}` is not in the owners table", id.value),
                    )
                })
        };
        let mut entries = Vec::with_capacity(matrix.classes.len());
        for class in &matrix.classes {
            let id = &class.id.value;
            let cadence_days = parse_cadence(&class.cadence, &format!("cadence of `{id}`"))?;
            let last_rotated = class
                .last_rotated
                .as_ref()
                .map(|lr| parse_date(lr, &format!("last_rotated of `{id}`")).map(|d| (lr, d)))
                .transpose()?;
            let (due, status) = match last_rotated {
                None => (today, Status::NeverRotated),
                Some((lr, d)) => {
                    let due = add_days(d, cadence_days).ok_or_else(|| {
                        at(
                            lr,
                            format!("the due date of `{id}` ({d} + {cadence_days} days) leaves the calendar"),
                        )
                    })?;
                    (due, status(today, due, window_end))
                }
            };
            entries.push(Entry {
                class: masked(id),
                title: masked(&class.title),
                owner: masked(&class.owner.value),
                contact: contact_of(&class.owner, &format!("owner of `{id}`"))?,
                backup_owner: masked(&class.backup_owner.value),
                cadence: masked(&class.cadence.value),
                cadence_days,
                last_rotated: last_rotated.map(|(_, d)| d),
                due,
                status,
                runbook: masked(&root_ref(layout, &class.runbook.value)),
            });
        }
        entries.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.class.cmp(&b.class)));

        let r = &matrix.review;
        let last_reviewed = parse_date(&r.last_reviewed, "review.last_reviewed")?;
        let cadence_days = parse_cadence(&r.cadence, "review.cadence")?;
        let next = add_days(last_reviewed, cadence_days).ok_or_else(|| {
            at(
                &r.last_reviewed,
                format!(
                    "the next review ({last_reviewed} + {cadence_days} days) leaves the calendar"
                ),
            )
        })?;
        let review = HubReview {
            last_reviewed,
            cadence: masked(&r.cadence.value),
            cadence_days,
            next,
            status: status(today, next, window_end),
            reviewer: masked(&r.reviewer.value),
            contact: contact_of(&r.reviewer, "review.reviewer")?,
            procedure: masked(&root_ref(layout, &r.procedure.value)),
        };
        Ok(Schedule {
            today,
            within_days,
            entries,
            review,
        })
    }

    /// The last day of the window.
    pub fn window_end(&self) -> Date {
        add_days(self.today, self.within_days).unwrap_or(self.today)
    }

    /// The classes that are overdue, never rotated, or fall due within the window.
    pub fn due(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.status.is_due())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_error_is_line_column_message() {
        let e = ReviewError {
            line: 4,
            column: 18,
            message: "`sometimes` is not a duration".into(),
        };
        assert_eq!(e.to_string(), "4:18: `sometimes` is not a duration");
    }

    const SAMPLE: &str = "version: 1
review:
  last_reviewed: 2026-11-01
  cadence: quarterly
  reviewer: owner-operator
  procedure: docs/r.md#quarterly-review
services:
  cdb-blue: [cdb_postgres]
owners:
  - id: owner-operator
    role: Owner
    contact: '@org/team'
    escalation: null
classes:
  - id: database
    title: Database
    owner: owner-operator
    backup_owner: owner-operator
    cadence: 90d
    scope: [cdb_postgres]
    secrets: [POSTGRES_PASSWORD]
    last_rotated: 2026-09-01
    runbook: docs/r.md#database
    inventory: docs/i.md#database
    rto: 30m
    approvals:
      routine: [owner-operator]
      emergency: [owner-operator]
";

    fn date(s: &str) -> Date {
        s.parse().expect("test date")
    }

    fn schedule(text: &str, today: &str, within: i64) -> Result<Schedule, ReviewError> {
        let m = Matrix::parse(text).expect("sample parses");
        Schedule::compute(&m, &Layout::default(), date(today), within)
    }

    #[test]
    fn due_date_is_last_rotated_plus_cadence() {
        let s = schedule(SAMPLE, "2026-11-28", 30).expect("schedule");
        let e = &s.entries[0];
        assert_eq!(e.due, date("2026-11-30"));
        assert_eq!(e.status, Status::Due { in_days: 2 });
        assert_eq!(e.contact, "@org/team");
        assert_eq!(
            e.runbook, "Claire_de_Binare_Docs/docs/r.md#database",
            "references are made root-relative"
        );
        assert_eq!(s.review.next, date("2027-01-31"));
        assert_eq!(s.review.status, Status::Later { in_days: 64 });
    }

    #[test]
    fn the_due_day_itself_is_not_overdue_as_in_verify() {
        let s = schedule(SAMPLE, "2026-11-30", 0).expect("schedule");
        assert_eq!(s.entries[0].status, Status::Due { in_days: 0 });
        let s = schedule(SAMPLE, "2026-12-01", 0).expect("schedule");
        assert_eq!(s.entries[0].status, Status::Overdue { days: 1 });
    }

    #[test]
    fn never_rotated_is_due_today() {
        let text = SAMPLE.replace("last_rotated: 2026-09-01", "last_rotated: null");
        let s = schedule(&text, "2026-11-28", 0).expect("schedule");
        assert_eq!(s.entries[0].status, Status::NeverRotated);
        assert_eq!(s.entries[0].due, date("2026-11-28"));
        assert_eq!(s.due().count(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let text = SAMPLE.replace("last_rotated: 2026-09-01", "last_rotated: 2026-13-01");
        let e = schedule(&text, "2026-11-28", 30).expect_err("bad date");
        assert_eq!(e.line, 22, "{e}");
        assert!(e.message.contains("last_rotated of `database`"), "{e}");

        let text = SAMPLE.replace("    owner: owner-operator", "    owner: nobody");
        let e = schedule(&text, "2026-11-28", 30).expect_err("unknown owner");
        assert_eq!((e.line, e.column), (17, 12), "{e}");

        let text = SAMPLE.replace("cadence: 90d", "cadence: 90");
        let e = schedule(&text, "2026-11-28", 30).expect_err("bad cadence");
        assert_eq!(e.line, 19, "{e}");
    }

    #[test]
    fn windows_are_whole_days() {
        assert_eq!(parse_window("30d"), Ok(30));
        assert_eq!(parse_window("2w"), Ok(14));
        assert_eq!(parse_window("quarterly"), Ok(91));
        assert!(parse_window("36h").is_err());
        assert!(parse_window("soon").is_err());
    }
}

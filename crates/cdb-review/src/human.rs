//! The human report: what is due, who owns it and how to reach them, and the hub's next review.
//!
//! It is also the body of the reminder issue that the scheduled workflow opens,
//! so it is plain text that reads the same in a terminal and in markdown.

use crate::{Entry, Schedule, Status};
use std::fmt::Write;

fn when(status: Status, due: jiff::civil::Date) -> String {
    match status {
        Status::NeverRotated => "never rotated, due now".to_owned(),
        Status::Overdue { days } => format!("overdue since {due} ({days} days)"),
        Status::Due { in_days: 0 } => format!("due today ({due})"),
        Status::Due { in_days: 1 } => format!("due {due} (in 1 day)"),
        Status::Due { in_days } | Status::Later { in_days } => {
            format!("due {due} (in {in_days} days)")
        }
    }
}

fn entry(out: &mut String, e: &Entry) {
    // Writing to a String cannot fail (here and below).
    let _ = writeln!(
        out,
        "- {} ({}): {}",
        show(&e.class),
        show(&e.title),
        when(e.status, e.due)
    );
    let _ = writeln!(out, "  owner:   {} ({})", show(&e.owner), show(&e.contact));
    let last = e
        .last_rotated
        .map_or_else(|| "never".to_owned(), |d| d.to_string());
    let _ = writeln!(
        out,
        "  cadence: {} (last rotated: {last})",
        show(&e.cadence)
    );
    let _ = writeln!(out, "  runbook: {}", show(&e.runbook));
}

/// A matrix string as shown: masked already when the schedule was made; its
/// control characters and line breaks are escaped here, so a crafted title
/// cannot move the cursor or forge a line of the report.
fn show(s: &str) -> String {
    cdb_secrets::escape_controls(s)
        .replace('\n', "\\u{a}")
        .replace('\t', "\\u{9}")
}

/// Renders the report; ends with a newline.
pub fn render(s: &Schedule) -> String {
    // Every `let _ = writeln!` below writes to this String, which cannot fail.
    let mut out = String::new();
    let due: Vec<&Entry> = s.due().collect();
    let _ = writeln!(
        out,
        "Secret rotations due by {} (today {}, within {} days): {} of {} classes",
        s.window_end(),
        s.today,
        s.within_days,
        due.len(),
        s.entries.len()
    );
    out.push('\n');
    if due.is_empty() {
        out.push_str("Nothing falls due in this window.\n");
    }
    for e in due {
        entry(&mut out, e);
    }
    let r = &s.review;
    out.push('\n');
    let _ = writeln!(
        out,
        "Hub review: {}; last reviewed {}, cadence {}",
        when(r.status, r.next),
        r.last_reviewed,
        show(&r.cadence)
    );
    let _ = writeln!(
        out,
        "  reviewer:  {} ({})",
        show(&r.reviewer),
        show(&r.contact)
    );
    let _ = writeln!(out, "  procedure: {}", show(&r.procedure));
    out
}

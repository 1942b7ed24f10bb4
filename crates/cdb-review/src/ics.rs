//! The iCalendar (RFC 5545) feed: one all-day event per class at its next due date, and one for the hub review.
//!
//! The calendar holds every class, not only those inside `--within`, so that a
//! subscribed calendar shows each rotation ahead of time. Output is
//! deterministic: `DTSTAMP` is `today` at midnight UTC, never the wall clock,
//! and each `UID` is built from the class and its due date, so re-publishing
//! the same schedule updates events instead of duplicating them.

use crate::{Entry, Schedule, Status, add_days};
use jiff::civil::Date;

/// The longest content line, in octets, before folding (RFC 5545 §3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// The domain part of every `UID`; `.invalid` never resolves, so it can never collide with a real host.
pub const UID_DOMAIN: &str = "claire-de-binare.invalid";

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                // A CRLF pair is one line break, not two.
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Folds one content line into CRLF-terminated physical lines of at most 75 octets,
/// breaking only between UTF-8 characters; continuation lines start with one space.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 64 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
    out
}

/// Undoes [`fold`] over a whole calendar: removes every CRLF followed by a space or tab.
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "").replace("\r\n\t", "")
}

fn ymd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

struct Event {
    uid: String,
    start: Date,
    summary: String,
    description: String,
    categories: &'static str,
}

fn class_event(e: &Entry, today: Date) -> Event {
    let last = e
        .last_rotated
        .map_or_else(|| "never".to_owned(), |d| d.to_string());
    let state = match e.status {
        Status::NeverRotated => "Never rotated: due now.".to_owned(),
        Status::Overdue { days } => format!("Overdue since {} ({days} days).", e.due),
        Status::Due { .. } | Status::Later { .. } => format!("Due {}.", e.due),
    };
    // An overdue or never-rotated class is shown today, where someone will see it; its UID keeps the real due date.
    let start = e.due.max(today);
    Event {
        uid: format!("{}-{}@{UID_DOMAIN}", e.class, ymd(e.due)),
        start,
        summary: format!("Rotate {} secrets ({})", e.class, e.owner),
        description: format!(
            "{state}\nClass: {} ({})\nOwner: {} ({})\nBackup owner: {}\nCadence: {} (last rotated: {last})\nRunbook: {}",
            e.class, e.title, e.owner, e.contact, e.backup_owner, e.cadence, e.runbook
        ),
        categories: "SECRET-ROTATION",
    }
}

fn review_event(s: &Schedule) -> Event {
    let r = &s.review;
    Event {
        uid: format!("hub-review-{}@{UID_DOMAIN}", ymd(r.next)),
        start: r.next.max(s.today),
        summary: format!("Review the secret-rotation hub ({})", r.reviewer),
        description: format!(
            "Next review due {}.\nReviewer: {} ({})\nCadence: {} (last reviewed: {})\nProcedure: {}",
            r.next, r.reviewer, r.contact, r.cadence, r.last_reviewed, r.procedure
        ),
        categories: "SECRET-ROTATION-REVIEW",
    }
}

/// Renders the calendar with CRLF line endings and folded lines.
pub fn render(s: &Schedule) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Claire de Binare//cdb-review//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "X-WR-CALNAME:Claire de Binare secret rotations".into(),
    ];
    let stamp = format!("{}T000000Z", ymd(s.today));
    let events = s
        .entries
        .iter()
        .map(|e| class_event(e, s.today))
        .chain(std::iter::once(review_event(s)));
    for ev in events {
        // DTEND of an all-day event is exclusive: the next day.
        let end = add_days(ev.start, 1).unwrap_or(ev.start);
        lines.extend([
            "BEGIN:VEVENT".into(),
            format!("UID:{}", escape_text(&ev.uid)),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART;VALUE=DATE:{}", ymd(ev.start)),
            format!("DTEND;VALUE=DATE:{}", ymd(end)),
            format!("SUMMARY:{}", escape_text(&ev.summary)),
            format!("DESCRIPTION:{}", escape_text(&ev.description)),
            format!("CATEGORIES:{}", ev.categories),
            "TRANSP:TRANSPARENT".into(),
            "END:VEVENT".into(),
        ]);
    }
    lines.push("END:VCALENDAR".into());
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_specials() {
        assert_eq!(escape_text("a\\b;c,d\ne\r\nf"), "a\\\\b\\;c\\,d\\ne\\nf");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let line = format!("DESCRIPTION:{}", "é".repeat(60));
        let folded = fold(&line);
        for l in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= MAX_LINE_OCTETS, "{l:?} is {} octets", l.len());
        }
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
        assert_eq!(fold("SHORT"), "SHORT\r\n");
    }
}

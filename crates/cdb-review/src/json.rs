//! The JSON report: one object with the window, the classes that are due and the hub review.
//!
//! Field names are part of the interface (the reminder workflow reads `due`),
//! so they are snake_case and never renamed.

use crate::{Entry, HubReview, Schedule, Status};
use serde::Serialize;

#[derive(Serialize)]
struct Out<'a> {
    today: String,
    within_days: i64,
    window_end: String,
    classes: usize,
    due: Vec<OutEntry<'a>>,
    review: OutReview<'a>,
}

#[derive(Serialize)]
struct OutEntry<'a> {
    class: &'a str,
    title: &'a str,
    status: &'static str,
    due: String,
    days_until_due: i64,
    last_rotated: Option<String>,
    cadence: &'a str,
    owner: &'a str,
    contact: &'a str,
    backup_owner: &'a str,
    runbook: &'a str,
}

#[derive(Serialize)]
struct OutReview<'a> {
    status: &'static str,
    next: String,
    days_until_due: i64,
    last_reviewed: String,
    cadence: &'a str,
    reviewer: &'a str,
    contact: &'a str,
    procedure: &'a str,
}

fn days_until(status: Status) -> i64 {
    match status {
        Status::NeverRotated => 0,
        Status::Overdue { days } => -days,
        Status::Due { in_days } | Status::Later { in_days } => in_days,
    }
}

fn entry(e: &Entry) -> OutEntry<'_> {
    OutEntry {
        class: &e.class,
        title: &e.title,
        status: e.status.as_str(),
        due: e.due.to_string(),
        days_until_due: days_until(e.status),
        last_rotated: e.last_rotated.map(|d| d.to_string()),
        cadence: &e.cadence,
        owner: &e.owner,
        contact: &e.contact,
        backup_owner: &e.backup_owner,
        runbook: &e.runbook,
    }
}

fn review(r: &HubReview) -> OutReview<'_> {
    OutReview {
        status: r.status.as_str(),
        next: r.next.to_string(),
        days_until_due: days_until(r.status),
        last_reviewed: r.last_reviewed.to_string(),
        cadence: &r.cadence,
        reviewer: &r.reviewer,
        contact: &r.contact,
        procedure: &r.procedure,
    }
}

/// Renders pretty-printed JSON ending with a newline.
pub fn render(s: &Schedule) -> String {
    let out = Out {
        today: s.today.to_string(),
        within_days: s.within_days,
        window_end: s.window_end().to_string(),
        classes: s.entries.len(),
        due: s.due().map(entry).collect(),
        review: review(&s.review),
    };
    // Serializing plain strings and integers cannot fail; an empty object is the safe fallback.
    let mut text = serde_json::to_string_pretty(&out).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

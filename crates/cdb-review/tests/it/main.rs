//! Integration tests of `cdb-review`: exact renderings of a small matrix, and proptests of the invariants.

#![allow(clippy::unwrap_used)]

use cdb_docs::{Layout, Matrix};
use cdb_review::{Schedule, Status, add_days, human, ics, json};
use jiff::civil::Date;
use proptest::prelude::*;

fn matrix(last_rotated: &str, cadence: &str) -> String {
    format!(
        "version: 1
review:
  last_reviewed: 2026-11-01
  cadence: quarterly
  reviewer: owner-operator
  procedure: docs/r.md#quarterly-review
services:
  cdb-blue: [cdb_postgres, cdb_redis]
owners:
  - id: owner-operator
    role: Owner
    contact: 'chat: #sec, private; ask first'
    escalation: null
classes:
  - id: database
    title: Database
    owner: owner-operator
    backup_owner: owner-operator
    cadence: {cadence}
    scope: [cdb_postgres]
    secrets: [POSTGRES_PASSWORD]
    last_rotated: {last_rotated}
    runbook: docs/r.md#database
    inventory: docs/i.md#database
    rto: 30m
    approvals:
      routine: [owner-operator]
      emergency: [owner-operator]
  - id: cache
    title: Cache
    owner: owner-operator
    backup_owner: owner-operator
    cadence: 90d
    scope: [cdb_redis]
    secrets: [REDIS_PASSWORD]
    last_rotated: null
    runbook: docs/r.md#cache
    inventory: docs/i.md#cache
    rto: 30m
    approvals:
      routine: [owner-operator]
      emergency: [owner-operator]
"
    )
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn schedule(last_rotated: &str, today: &str, within: i64) -> Schedule {
    let m = Matrix::parse(&matrix(last_rotated, "90d")).unwrap();
    Schedule::compute(&m, &Layout::default(), date(today), within).unwrap()
}

#[test]
fn human_report_lists_due_classes_with_contacts() {
    let s = schedule("2026-09-01", "2026-11-28", 30);
    assert_eq!(
        human::render(&s),
        "\
Secret rotations due by 2026-12-28 (today 2026-11-28, within 30 days): 2 of 2 classes

- cache (Cache): never rotated, due now
  owner:   owner-operator (chat: #sec, private; ask first)
  cadence: 90d (last rotated: never)
  runbook: Claire_de_Binare_Docs/docs/r.md#cache
- database (Database): due 2026-11-30 (in 2 days)
  owner:   owner-operator (chat: #sec, private; ask first)
  cadence: 90d (last rotated: 2026-09-01)
  runbook: Claire_de_Binare_Docs/docs/r.md#database

Hub review: due 2027-01-31 (in 64 days); last reviewed 2026-11-01, cadence quarterly
  reviewer:  owner-operator (chat: #sec, private; ask first)
  procedure: Claire_de_Binare_Docs/docs/r.md#quarterly-review
"
    );
}

#[test]
fn json_report_holds_only_what_is_due() {
    let s = schedule("2026-09-01", "2026-11-28", 1);
    let v: serde_json::Value = serde_json::from_str(&json::render(&s)).unwrap();
    assert_eq!(v["window_end"], "2026-11-29");
    assert_eq!(v["classes"], 2);
    let due = v["due"].as_array().unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0]["class"], "cache");
    assert_eq!(due[0]["status"], "never-rotated");
    assert_eq!(due[0]["last_rotated"], serde_json::Value::Null);
    assert_eq!(v["review"]["next"], "2027-01-31");
    assert_eq!(v["review"]["status"], "later");
}

#[test]
fn ics_is_crlf_folded_escaped_and_deterministic() {
    let s = schedule("2026-09-01", "2026-11-28", 30);
    let cal = ics::render(&s);
    assert_eq!(cal, ics::render(&s));
    assert!(cal.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
    assert!(cal.ends_with("END:VCALENDAR\r\n"));
    assert_eq!(cal.matches("\n").count(), cal.matches("\r\n").count());
    for line in cal.split("\r\n") {
        assert!(line.len() <= ics::MAX_LINE_OCTETS, "{line:?}");
    }
    let flat = ics::unfold(&cal);
    assert_eq!(flat.matches("BEGIN:VEVENT").count(), 3);
    assert!(flat.contains("UID:database-20261130@claire-de-binare.invalid\r\n"));
    assert!(flat.contains("UID:cache-20261128@claire-de-binare.invalid\r\n"));
    assert!(flat.contains("UID:hub-review-20270131@claire-de-binare.invalid\r\n"));
    assert!(flat.contains("DTSTAMP:20261128T000000Z\r\n"));
    assert!(flat.contains("DTSTART;VALUE=DATE:20261130\r\nDTEND;VALUE=DATE:20261201\r\n"));
    assert!(flat.contains("SUMMARY:Rotate database secrets (owner-operator)\r\n"));
    assert!(
        flat.contains("\\nOwner: owner-operator (chat: #sec\\, private\\; ask first)\\n"),
        "{flat}"
    );
}

#[test]
fn overdue_rotations_are_shown_today_under_their_real_uid() {
    let s = schedule("2026-01-01", "2026-11-28", 30);
    assert_eq!(s.entries[0].status, Status::Overdue { days: 241 });
    let flat = ics::unfold(&ics::render(&s));
    assert!(flat.contains(
        "UID:database-20260401@claire-de-binare.invalid\r\nDTSTAMP:20261128T000000Z\r\nDTSTART;VALUE=DATE:20261128\r\n"
    ));
    assert!(
        human::render(&s).contains("- database (Database): overdue since 2026-04-01 (241 days)\n")
    );
}

fn any_date() -> impl Strategy<Value = Date> {
    (0i64..20_000).prop_map(|n| add_days(date("1990-01-01"), n).unwrap())
}

proptest! {
    #[test]
    fn folded_lines_fit_and_unfold_restores(text in "\\PC{0,300}") {
        let line = format!("DESCRIPTION:{}", ics::escape_text(&text));
        let folded = ics::fold(&line);
        for l in folded.split("\r\n") {
            prop_assert!(l.len() <= ics::MAX_LINE_OCTETS);
        }
        prop_assert_eq!(ics::unfold(&folded), format!("{line}\r\n"));
    }

    #[test]
    fn escaped_text_has_no_raw_specials(text in "[a-z;,\\\\\n\r ]{0,60}") {
        let e = ics::escape_text(&text);
        prop_assert!(!e.contains('\n') && !e.contains('\r'));
        // Every `;` and `,` is preceded by an odd run of backslashes, i.e. escaped.
        let bytes = e.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b';' || *b == b',' {
                let run = bytes[..i].iter().rev().take_while(|c| **c == b'\\').count();
                prop_assert!(run % 2 == 1, "{e:?}");
            }
        }
    }

    #[test]
    fn due_dates_are_monotonic_in_last_rotated(a in any_date(), b in any_date(), cadence in 1u32..800) {
        let (early, late) = if a <= b { (a, b) } else { (b, a) };
        let due = |d: Date| {
            let m = Matrix::parse(&matrix(&d.to_string(), &format!("{cadence}d"))).unwrap();
            let s = Schedule::compute(&m, &Layout::default(), date("2026-11-28"), 30).unwrap();
            s.entries.iter().find(|e| e.class == "database").unwrap().due
        };
        let (de, dl) = (due(early), due(late));
        prop_assert!(de <= dl);
        prop_assert_eq!(dl, add_days(late, i64::from(cadence)).unwrap());
    }
}

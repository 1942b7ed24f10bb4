//! `cargo xtask review` over the fixture hub: exact human, JSON and iCalendar output for a pinned today, and config errors.

use crate::support::{Fixture, MATRIX, Run, xtask};

/// Runs `xtask review --root <fixture>` with the given arguments.
fn review(fx: &Fixture, args: &[&str]) -> Run {
    let mut all = vec![
        "review".as_ref(),
        "--root".as_ref(),
        fx.dir.path().as_os_str(),
    ];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    xtask(all)
}

const RUNBOOK_REF: &str = "Claire_de_Binare_Docs/docs/content/security/secret-rotation-runbook.md";

#[test]
fn human_lists_what_is_due_with_owner_and_contact() {
    let fx = Fixture::hub();
    let run = review(&fx, &["--today", "2026-11-28"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "\
Secret rotations due by 2026-12-28 (today 2026-11-28, within 30 days): 1 of 2 classes

- cache (Cache): never rotated, due now
  owner:   session-lead (#fixture-ops)
  cadence: 90d (last rotated: never)
  runbook: {RUNBOOK_REF}#cache

Hub review: due 2027-01-31 (in 64 days); last reviewed 2026-11-01, cadence quarterly
  reviewer:  owner-operator (@fixture-org/maintainers)
  procedure: {RUNBOOK_REF}#quarterly-review
"
        )
    );
}

#[test]
fn within_widens_the_window() {
    let fx = Fixture::hub();
    let run = review(&fx, &["--today", "2026-11-28", "--within", "45d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with(
        "Secret rotations due by 2027-01-12 (today 2026-11-28, within 45 days): 2 of 2 classes\n"
    ));
    assert!(
        run.stdout
            .contains("- database (Database): due 2026-12-30 (in 32 days)\n  owner:   owner-operator (@fixture-org/maintainers)\n")
    );
}

#[test]
fn overdue_classes_exit_zero() {
    let fx = Fixture::hub();
    let run = review(&fx, &["--today", "2027-03-01"]);
    assert_eq!(run.code, 0, "review is informational: {}", run.stderr);
    assert!(
        run.stdout
            .contains("- database (Database): overdue since 2026-12-30 (61 days)\n")
    );
    assert!(
        run.stdout
            .contains("Hub review: overdue since 2027-01-31 (29 days);")
    );
}

#[test]
fn json_is_one_object_of_what_is_due() {
    let fx = Fixture::hub();
    let run = review(&fx, &["--today", "2026-11-28", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "today": "2026-11-28",
            "within_days": 30,
            "window_end": "2026-12-28",
            "classes": 2,
            "due": [{
                "class": "cache",
                "title": "Cache",
                "status": "never-rotated",
                "due": "2026-11-28",
                "days_until_due": 0,
                "last_rotated": null,
                "cadence": "90d",
                "owner": "session-lead",
                "contact": "#fixture-ops",
                "backup_owner": "owner-operator",
                "runbook": format!("{RUNBOOK_REF}#cache"),
            }],
            "review": {
                "status": "later",
                "next": "2027-01-31",
                "days_until_due": 64,
                "last_reviewed": "2026-11-01",
                "cadence": "quarterly",
                "reviewer": "owner-operator",
                "contact": "@fixture-org/maintainers",
                "procedure": format!("{RUNBOOK_REF}#quarterly-review"),
            }
        })
    );
}

#[test]
fn ics_is_an_exact_deterministic_calendar() {
    let fx = Fixture::hub();
    let run = review(&fx, &["--today", "2026-11-28", "--format", "ics"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Claire de Binare//cdb-review//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Claire de Binare secret rotations",
        "BEGIN:VEVENT",
        "UID:cache-20261128@claire-de-binare.invalid",
        "DTSTAMP:20261128T000000Z",
        "DTSTART;VALUE=DATE:20261128",
        "DTEND;VALUE=DATE:20261129",
        "SUMMARY:Rotate cache secrets (session-lead)",
        "DESCRIPTION:Never rotated: due now.\\nClass: cache (Cache)\\nOwner: session-l",
        " ead (#fixture-ops)\\nBackup owner: owner-operator\\nCadence: 90d (last rotat",
        " ed: never)\\nRunbook: Claire_de_Binare_Docs/docs/content/security/secret-ro",
        " tation-runbook.md#cache",
        "CATEGORIES:SECRET-ROTATION",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:database-20261230@claire-de-binare.invalid",
        "DTSTAMP:20261128T000000Z",
        "DTSTART;VALUE=DATE:20261230",
        "DTEND;VALUE=DATE:20261231",
        "SUMMARY:Rotate database secrets (owner-operator)",
        "DESCRIPTION:Due 2026-12-30.\\nClass: database (Database)\\nOwner: owner-opera",
        " tor (@fixture-org/maintainers)\\nBackup owner: session-lead\\nCadence: 90d (",
        " last rotated: 2026-10-01)\\nRunbook: Claire_de_Binare_Docs/docs/content/sec",
        " urity/secret-rotation-runbook.md#database",
        "CATEGORIES:SECRET-ROTATION",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:hub-review-20270131@claire-de-binare.invalid",
        "DTSTAMP:20261128T000000Z",
        "DTSTART;VALUE=DATE:20270131",
        "DTEND;VALUE=DATE:20270201",
        "SUMMARY:Review the secret-rotation hub (owner-operator)",
        "DESCRIPTION:Next review due 2027-01-31.\\nReviewer: owner-operator (@fixture",
        " -org/maintainers)\\nCadence: quarterly (last reviewed: 2026-11-01)\\nProcedu",
        " re: Claire_de_Binare_Docs/docs/content/security/secret-rotation-runbook.md",
        " #quarterly-review",
        "CATEGORIES:SECRET-ROTATION-REVIEW",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n");
    assert_eq!(run.stdout, expected);
    let again = review(&fx, &["--today", "2026-11-28", "--format", "ics"]);
    assert_eq!(again.stdout, run.stdout, "same inputs, same bytes");
}

#[test]
fn ics_escapes_text_values() {
    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "\"#fixture-ops\"",
        "\"#ops; pager, then \\\\ mail\"",
    );
    let run = review(&fx, &["--today", "2026-11-28", "--format", "ics"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let flat = run.stdout.replace("\r\n ", "");
    assert!(
        flat.contains("Owner: session-lead (#ops\\; pager\\, then \\\\ mail)\\n"),
        "{flat}"
    );
}

#[test]
fn missing_matrix_is_a_config_error_naming_the_file() {
    let fx = Fixture::empty();
    let run = review(&fx, &["--today", "2026-11-28"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr
            .starts_with("error: cannot read the rotation matrix ")
            && run.stderr.contains(MATRIX),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_matrix_values_name_file_and_line() {
    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "last_rotated: 2026-10-01",
        "last_rotated: 2026-10-41",
    );
    let line = fx.line_of(MATRIX, "2026-10-41");
    let run = review(&fx, &["--today", "2026-11-28"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!("{MATRIX}:{line}:"))
            && run.stderr.contains("last_rotated of `database`"),
        "{}",
        run.stderr
    );

    let fx = Fixture::hub();
    fx.edit(
        MATRIX,
        "    rto: 30m\n    approvals:\n      routine: [owner-operator]",
        "    rto: 30m\n    colour: red\n    approvals:\n      routine: [owner-operator]",
    );
    let line = fx.line_of(MATRIX, "colour: red");
    let run = review(&fx, &["--today", "2026-11-28"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!("{MATRIX}:{line}:")) && run.stderr.contains("colour"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    let fx = Fixture::hub();
    for (args, needle) in [
        (&["--today", "2026-13-01"][..], "--today `2026-13-01`"),
        (
            &["--today", "2026-11-28", "--within", "soon"][..],
            "--within",
        ),
        (&["--today", "2026-11-28", "--format", "xml"][..], "xml"),
    ] {
        let run = review(&fx, args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
}

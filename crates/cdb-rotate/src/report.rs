//! What the journal becomes for people: the incident timeline in the playbook's terms (the
//! scribe's "times, step ids run, their outcome, decisions. Never values", incident playbook,
//! Roles) and the runbook's post-rotation checklist with each item's status from the journal.

use crate::journal::{Record, StepRecord};
use cdb_docs::Hub;
use std::fmt::Write as _;
use std::path::Path;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The journal as a markdown timeline: one row per phase, step, decision and mark.
pub fn timeline(records: &[Record]) -> String {
    let mut out = String::new();
    let (class, trigger, incident) = match records.first() {
        Some(Record::Start {
            class,
            trigger,
            incident,
            ..
        }) => (class.as_str(), trigger.as_str(), incident.clone()),
        _ => ("?", "?", None),
    };
    // Writing to a `String` cannot fail: the `fmt::Result`s in this file are dropped.
    let _ = writeln!(
        out,
        "## Timeline — {}rotation of `{class}` ({trigger})\n",
        incident.map(|i| format!("{i} · ")).unwrap_or_default()
    );
    out.push_str("| time (UTC) | step / event | outcome | decision |\n|---|---|---|---|\n");
    for r in records {
        let row = match r {
            Record::Start { time, world, .. } => (
                time.clone(),
                "rotation started".into(),
                String::new(),
                cell(world),
            ),
            Record::Session { time, resumed } if *resumed => (
                time.clone(),
                "resumed".into(),
                String::new(),
                "--resume".into(),
            ),
            Record::Session { .. } | Record::Begin { .. } | Record::Files { .. } => continue,
            Record::Phase { time, phase, why } => (
                time.clone(),
                format!("**{phase}**"),
                String::new(),
                cell(why),
            ),
            Record::Step(s) => (
                s.time.clone(),
                format!("`{}`", s.id),
                outcome(s),
                match &s.reason {
                    Some(r) => format!("{}: {}", s.decision, cell(r)),
                    None => s.decision.clone(),
                },
            ),
            Record::Mark { time, mark } => (
                time.clone(),
                format!("**{mark}**"),
                String::new(),
                String::new(),
            ),
            Record::Quit { time, at } => (
                time.clone(),
                "operator quit".into(),
                String::new(),
                format!("before `{at}`"),
            ),
            Record::End {
                time,
                outcome,
                passed,
                ..
            } => (
                time.clone(),
                "rotation ended".into(),
                outcome.clone(),
                if *passed { "passed" } else { "failed" }.into(),
            ),
            Record::Note { time, text } => (time.clone(), cell(text), String::new(), String::new()),
        };
        let _ = writeln!(out, "| {} | {} | {} | {} |", row.0, row.1, row.2, row.3);
    }
    out
}

/// A step's outcome in the timeline: its verdict line (`PASS id` / `FAIL id: …`) when it
/// printed one, else passed / failed / not run.
fn outcome(s: &StepRecord) -> String {
    match s.decision.as_str() {
        "refused" | "declined" => return "not run".into(),
        "skipped" => return "skipped".into(),
        _ => {}
    }
    let verdict = s
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("PASS ") || l.starts_with("FAIL "));
    match verdict {
        Some(v) => cell(v),
        None if s.passed => "passed".into(),
        None => format!(
            "failed (exit {})",
            s.exit.map_or("?".into(), |c| c.to_string())
        ),
    }
}

/// The runbook's post-rotation checklist (the `- [ ]` items under its heading), each with a
/// status read from this rotation's journal, the secrets folder or the matrix edit; an item
/// nothing here can see says so.
pub fn checklist(
    hub: &Hub,
    class: &str,
    done: &[StepRecord],
    secrets: &Path,
    names: &[String],
    matrix_set: Option<String>,
) -> String {
    let items: Vec<String> = hub
        .docs
        .iter()
        .filter_map(|d| {
            let start = d.text.find("## Post-rotation verification checklist")?;
            let rest = &d.text[start..];
            let body = rest[3..].find("\n## ").map_or(rest, |end| &rest[..end + 3]);
            Some(
                body.lines()
                    .filter_map(|l| l.strip_prefix("- [ ] ").map(str::to_owned))
                    .collect::<Vec<_>>(),
            )
        })
        .next()
        .unwrap_or_default();
    // The last run of a phase (its consecutive records) passed when every step of it did.
    let phase_passed = |phase: &str| {
        let mut runs: Vec<Vec<&StepRecord>> = Vec::new();
        let mut prev: Option<&str> = None;
        for s in done {
            if prev != Some(s.phase.as_str()) {
                runs.push(Vec::new());
            }
            prev = Some(s.phase.as_str());
            if let Some(r) = runs.last_mut() {
                r.push(s);
            }
        }
        runs.iter()
            .rev()
            .find(|r| r.first().is_some_and(|s| s.phase == phase))
            .is_some_and(|r| r.iter().all(|s| s.passed))
    };
    let mut out = String::from("\nPost-rotation checklist (runbook), status from this rotation:\n");
    for item in items {
        let lower = item.to_lowercase();
        let short: String = item.chars().take(110).collect();
        let status = if lower.starts_with("cache:") && class != "cache" {
            "n/a (not the cache class)".to_owned()
        } else if lower.contains("verify and revoke gates") || lower.contains("no consumer left") {
            match (phase_passed("verify"), phase_passed("revoke")) {
                (true, true) => "done: Verify and Revoke passed (journal)".into(),
                (v, r) => format!(
                    "OPEN: Verify {} · Revoke {} (journal)",
                    if v { "passed" } else { "not passed" },
                    if r { "passed" } else { "not passed" }
                ),
            }
        } else if lower.contains("no `.prev`") {
            let left = crate::runner::staging_files(secrets, names);
            if left.is_empty() {
                "done: none left for the class (SECRETS_PATH)".into()
            } else {
                format!("OPEN: left: {}", left.join(", "))
            }
        } else if lower.contains("last_rotated") {
            match &matrix_set {
                Some(d) => format!("done: set to {d}"),
                None => "OPEN: not set by this rotation".into(),
            }
        } else if lower.contains("trading resumed") {
            let engaged = done
                .iter()
                .any(|s| s.id.ends_with("engage-kill-switch") && s.passed);
            if engaged {
                "OPEN: the kill switch was engaged; only the owner-operator releases it".into()
            } else {
                "n/a: the kill switch was not engaged by this rotation".into()
            }
        } else if lower.starts_with("cache:") {
            let ok = [
                "cache-revoke-end-old-connections",
                "cache-revoke-confirm-old-rejected",
            ]
            .iter()
            .all(|id| {
                done.iter()
                    .rev()
                    .find(|s| s.id == *id)
                    .is_some_and(|s| s.passed)
            });
            if ok {
                "done: both steps passed (journal)".into()
            } else {
                "OPEN: the steps did not both pass".into()
            }
        } else {
            "check by hand (no step of this class proves it)".into()
        };
        let _ = writeln!(
            out,
            "  - {short}{}\n      → {status}",
            if item.chars().count() > 110 {
                "…"
            } else {
                ""
            }
        );
    }
    out
}

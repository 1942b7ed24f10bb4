//! The sweep's human report (the class-by-fault table and every gap) and its JSON lines.

use super::{Outcome, Sweep};
use cdb_model::faults::CATALOGUE;
use std::collections::BTreeMap;
// Writing into a String cannot fail: each `let _ = write!(…)` below drops an `Ok(())`.
use std::fmt::Write as _;

/// The class-by-fault table: per cell the count of each outcome.
pub fn table(s: &Sweep) -> String {
    let mut classes: Vec<&str> = Vec::new();
    for c in &s.cases {
        if !classes.contains(&c.class.as_str()) {
            classes.push(&c.class);
        }
    }
    let width = classes.iter().map(|c| c.len()).max().unwrap_or(0).max(12) + 2;
    let fw = CATALOGUE.iter().map(|f| f.id.len()).max().unwrap_or(10) + 2;
    let mut out = format!("{:fw$}", "fault \\ class");
    for c in &classes {
        let _ = write!(out, "{c:width$}");
    }
    out.push('\n');
    for spec in CATALOGUE {
        let mut row = format!("{:fw$}", spec.id);
        let mut any = false;
        for class in &classes {
            let mut counts: BTreeMap<char, usize> = BTreeMap::new();
            for c in s
                .cases
                .iter()
                .filter(|c| c.class == *class && c.fault == spec.id)
            {
                *counts.entry(c.outcome.letter()).or_default() += 1;
            }
            let cell = if counts.is_empty() {
                ".".to_owned()
            } else {
                any = true;
                ['R', 'D', 'U', 'N']
                    .iter()
                    .filter_map(|l| counts.get(l).map(|n| format!("{l}{n}")))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let _ = write!(row, "{cell:width$}");
        }
        if any {
            out.push_str(row.trim_end());
            out.push('\n');
        }
    }
    out.push_str(
        "R detected and recovered · D detected, not recovered · U undetected · N not applicable (no effect there) · . fault does not apply\n",
    );
    out
}

/// The human report: baselines, the table, every gap with the steps that should have caught it.
pub fn human(s: &Sweep) -> String {
    let mut out = String::new();
    for b in s.baselines.iter().filter(|b| !b.passed) {
        let _ = writeln!(
            out,
            "BASELINE {}/{} fails without any fault: {}",
            b.class,
            b.trigger.as_str(),
            b.reasons.join("; ")
        );
    }
    out.push_str(&table(s));
    let count = |o: Outcome| s.cases.iter().filter(|c| c.outcome == o).count();
    let _ = writeln!(
        out,
        "\n{} case(s): {} recovered, {} detected but not recovered, {} undetected, {} not applicable",
        s.cases.len(),
        count(Outcome::Recovered),
        count(Outcome::DetectedNotRecovered),
        count(Outcome::Undetected),
        count(Outcome::NotApplicable)
    );
    for g in s.gaps() {
        let target = g
            .target
            .as_ref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "GAP {}{target}: {}: {}",
            g.case,
            match g.outcome {
                Outcome::Undetected => "undetected",
                _ => "detected but not recovered",
            },
            g.reason
        );
        if let Some(d) = &g.detected_by {
            let _ = writeln!(out, "    detected by `{d}`");
        }
        if g.outcome == Outcome::Undetected {
            if g.should_have_caught.is_empty() {
                let _ = writeln!(
                    out,
                    "    no verify step of the class ran after the injection"
                );
            } else {
                let _ = writeln!(
                    out,
                    "    should have been caught by: {}",
                    g.should_have_caught.join(", ")
                );
            }
        }
    }
    out
}

/// One JSON object per case (baselines first, as `{"baseline": …}`, its fields in the order
/// of a `serde_json::Value`'s map).
pub fn json_lines(s: &Sweep) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for b in &s.baselines {
        let mut line = serde_json::Map::new();
        line.insert("baseline".into(), serde_json::to_value(b)?);
        out.push_str(&serde_json::Value::Object(line).to_string());
        out.push('\n');
    }
    for c in &s.cases {
        out.push_str(&serde_json::to_string(c)?);
        out.push('\n');
    }
    Ok(out)
}

//! Human output of a drill: the timeline a rehearsal follows, and the markdown after-action report.
//!
//! Both are rendered from the journal only, which never holds a secret value.

use crate::journal::{Event, Journal, clock};
use std::fmt::Write;

fn fault_label(fault: &str, target: &Option<String>) -> String {
    match target {
        Some(t) => format!("{fault} ({t})"),
        None => fault.to_owned(),
    }
}

fn short(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// The timeline for a rehearsal.
pub fn human(j: &Journal) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "DRILL {} — {}", j.scenario, j.title);
    let _ = writeln!(
        o,
        "class {} · trigger {} · seed {} · budget {}",
        j.class,
        j.trigger,
        j.seed,
        clock(j.budget_secs)
    );
    let _ = writeln!(o);
    for l in j.briefing.lines() {
        let _ = writeln!(o, "  │ {l}");
    }
    let _ = writeln!(o);
    for e in &j.events {
        match e {
            Event::Phase { phase, t, why } => {
                let _ = writeln!(o, "{}  ── {phase} ── {why}", clock(*t));
            }
            Event::Step(s) => {
                let mark = match s.status.as_str() {
                    "passed" => "ok  ",
                    "timed-out" => "TIME",
                    _ => "FAIL",
                };
                let detected = j
                    .detection
                    .as_ref()
                    .is_some_and(|d| d.step == s.id && d.t == s.t_end);
                let _ = writeln!(
                    o,
                    "{}  [{mark}] {}{}{}",
                    clock(s.t_start),
                    s.id,
                    if s.manual { " (manual)" } else { "" },
                    if detected {
                        "   ◀ DETECTED the fault"
                    } else {
                        ""
                    }
                );
                let cmd = if s.manual {
                    format!("effect {}", s.effect.clone().unwrap_or_default())
                } else {
                    short(&s.command, 90)
                };
                let _ = writeln!(o, "             $ {cmd}");
                if s.status != "passed" {
                    let tail: Vec<&str> = s
                        .stdout
                        .lines()
                        .chain(s.stderr.lines())
                        .filter(|l| !l.trim().is_empty())
                        .collect();
                    for l in tail.iter().rev().take(3).rev() {
                        let _ = writeln!(o, "             > {}", short(l, 100));
                    }
                } else if s.manual {
                    let _ = writeln!(
                        o,
                        "             > {}",
                        short(s.stdout.trim_start_matches("[manual] "), 100)
                    );
                }
            }
            Event::Inject {
                fault,
                target,
                after,
                t,
                note,
            } => {
                let _ = writeln!(
                    o,
                    "{}  ⚡ INJECT {} after {after}{}",
                    clock(*t),
                    fault_label(fault, target),
                    note.as_ref()
                        .map(|n| format!(" — {}", n.trim()))
                        .unwrap_or_default()
                );
            }
            Event::Trip {
                fault,
                target,
                step,
            } => {
                let _ = writeln!(
                    o,
                    "             ⚡ fault {} took effect{}",
                    fault_label(fault, target),
                    step.as_ref()
                        .map(|s| format!(" in {s}"))
                        .unwrap_or_default()
                );
            }
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "INVARIANTS");
    for i in &j.invariants {
        let _ = writeln!(
            o,
            "  [{}] {}: {}",
            if i.passed { "ok  " } else { "FAIL" },
            i.name,
            i.detail
        );
    }
    for g in &j.gaps {
        let _ = writeln!(o, "  [gap ] {g}");
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "detected: {} · recovered: {} · outcome: {} (expected {})",
        j.detection
            .as_ref()
            .map_or("—".into(), |d| format!("{} by {}", clock(d.t), d.step)),
        j.recovery.as_ref().map_or("—".into(), |r| clock(r.t)),
        j.outcome,
        j.expected_outcome
    );
    if j.verdict.passed {
        let _ = writeln!(
            o,
            "VERDICT: PASS — the runbook handled `{}` as expected",
            j.scenario
        );
    } else {
        let _ = writeln!(o, "VERDICT: FAIL");
        for r in &j.verdict.reasons {
            let _ = writeln!(o, "  - {r}");
        }
    }
    o
}

/// The after-action report (markdown).
pub fn markdown(j: &Journal) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# After-action report: drill `{}`\n", j.scenario);
    let _ = writeln!(o, "{}\n", j.title);
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| class | `{}` |", j.class);
    let _ = writeln!(o, "| trigger | {} |", j.trigger);
    let _ = writeln!(o, "| seed | {} |", j.seed);
    let _ = writeln!(
        o,
        "| verdict | **{}** |",
        if j.verdict.passed { "pass" } else { "fail" }
    );
    let _ = writeln!(
        o,
        "| outcome | {} (expected {}) |",
        j.outcome, j.expected_outcome
    );
    let _ = writeln!(
        o,
        "| time to detect | {} |",
        j.detection
            .as_ref()
            .map_or("not detected".into(), |d| format!(
                "{} (`{}`)",
                clock(d.t),
                d.step
            ))
    );
    let _ = writeln!(
        o,
        "| time to recover | {} |",
        j.recovery
            .as_ref()
            .map_or("not recovered".into(), |r| clock(r.t))
    );
    let _ = writeln!(o, "| budget (RTO) | {} |\n", clock(j.budget_secs));
    let _ = writeln!(o, "## Briefing\n\n{}\n", j.briefing);
    let _ = writeln!(
        o,
        "## Timeline\n\n| time | event | outcome |\n|---|---|---|"
    );
    for e in &j.events {
        match e {
            Event::Phase { phase, t, why } => {
                let _ = writeln!(o, "| {} | **{phase}** | {why} |", clock(*t));
            }
            Event::Step(s) => {
                let _ = writeln!(
                    o,
                    "| {} | `{}` ({}) | {} |",
                    clock(s.t_start),
                    s.id,
                    s.doc,
                    s.status
                );
            }
            Event::Inject {
                fault,
                target,
                after,
                t,
                ..
            } => {
                let _ = writeln!(
                    o,
                    "| {} | inject {} after `{after}` | armed |",
                    clock(*t),
                    fault_label(fault, target)
                );
            }
            Event::Trip {
                fault,
                target,
                step,
            } => {
                let _ = writeln!(
                    o,
                    "| | fault {} | took effect in `{}` |",
                    fault_label(fault, target),
                    step.clone().unwrap_or_default()
                );
            }
        }
    }
    let _ = writeln!(o, "\n## What worked\n");
    let worked: Vec<_> = j.invariants.iter().filter(|i| i.passed).collect();
    if let Some(d) = &j.detection {
        let _ = writeln!(o, "- `{}` detected the fault at {}.", d.step, clock(d.t));
    }
    if let Some(r) = &j.recovery {
        let _ = writeln!(
            o,
            "- The stack recovered at {} (`{}`), budget {}.",
            clock(r.t),
            r.step,
            clock(j.budget_secs)
        );
    }
    for i in worked {
        let _ = writeln!(o, "- {}: {}", i.name, i.detail);
    }
    let _ = writeln!(o, "\n## Gaps found\n");
    let mut any = false;
    for r in &j.verdict.reasons {
        any = true;
        let _ = writeln!(o, "- {r}");
    }
    for g in &j.gaps {
        any = true;
        let _ = writeln!(o, "- {g}");
    }
    for s in j.steps().filter(|s| s.status != "passed") {
        let _ = writeln!(
            o,
            "- step `{}` ({}) {} in phase {}",
            s.id, s.doc, s.status, s.phase
        );
        any = true;
    }
    if !any {
        let _ = writeln!(o, "- none");
    }
    o
}

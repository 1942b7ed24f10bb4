//! Human output of a drill: the timeline a rehearsal follows, and the markdown after-action report.
//!
//! Both are rendered from the journal only, which never holds a secret value. The Mermaid
//! `gantt` of a report ([`Gantt`]) is built here for the automated drill and the `--shell`
//! rehearsal alike, so both pictures read the same way.

use crate::journal::{Event, Journal, StepStatus, clock};
use cdb_docs::Phase;
use cdb_model::faults::FaultKind;
// Writing into a String cannot fail: each `let _ = write!(…)` below drops an `Ok(())`.
use std::fmt::Write;

fn fault_label(fault: &FaultKind, target: &Option<String>) -> String {
    match target {
        Some(t) => format!("{fault} ({t})"),
        None => fault.as_str().to_owned(),
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

/// A step's status in four letters (`ok  `, `TIME`, `FAIL`).
fn status_mark(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Passed => "ok  ",
        StepStatus::TimedOut => "TIME",
        StepStatus::Failed => "FAIL",
    }
}

/// The last three non-empty lines a step printed (stdout, then stderr), each cut at `n`
/// characters and indented under the step.
fn output_tail(s: &crate::journal::StepEvent, n: usize) -> Vec<String> {
    let lines: Vec<&str> = s
        .stdout
        .lines()
        .chain(s.stderr.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(|l| format!("             > {}", short(l, n)))
        .collect()
}

/// The timeline for a rehearsal.
pub fn human(j: &Journal) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "DRILL {} — {}", j.scenario, j.title);
    let _ = writeln!(
        o,
        "class {} · trigger {} · seed {} · budget {}",
        j.class,
        j.trigger.as_str(),
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
                let mark = status_mark(s.status);
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
                if !s.status.passed() {
                    for l in output_tail(s, 100) {
                        let _ = writeln!(o, "{l}");
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
    let _ = writeln!(o, "| trigger | {} |", j.trigger.as_str());
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
        "## Phases against the budget\n\n{}",
        journal_gantt(j).mermaid()
    );
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
    for s in j.steps().filter(|s| !s.status.passed()) {
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

/// One bar of a [`Gantt`]: a phase from `start` to `end` on the drill clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub start: u64,
    pub end: u64,
    /// Drawn red: the path the runbook takes when something went wrong (rollback, escalate).
    pub crit: bool,
}

/// One milestone of a [`Gantt`]: a point on the drill clock (an injection, the detection…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Milestone {
    pub label: String,
    pub t: u64,
    pub crit: bool,
}

/// The picture of a drill for a report: its phases as bars on the simulated clock, the moments
/// that matter as milestones, and the recovery-time budget as the deadline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gantt {
    pub title: String,
    pub bars: Vec<Bar>,
    pub marks: Vec<Milestone>,
    /// The recovery-time budget in seconds (the deadline milestone and the budget bar).
    pub budget: u64,
}

/// The latest time a Mermaid `HH:mm:ss` date can hold; later times are drawn there.
const LAST_SECOND: u64 = 24 * 3600 - 1;

/// `HH:mm:ss` for Mermaid's `dateFormat` (the drill clock without its `T+`).
fn hms(t: u64) -> String {
    let t = t.min(LAST_SECOND);
    format!("{:02}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60)
}

/// A task name Mermaid reads as one: no `:` (it ends the name), `#` or `;` (comments and
/// statement ends), and no line break.
fn task_name(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| match c {
            ':' | '#' | ';' | '\n' | '\r' | '`' => ' ',
            c => c,
        })
        .collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() { "(unnamed)".into() } else { s }
}

/// A budget as people say it: `30m`, `1h`, `1h 30m`, `45s`.
pub fn span(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s}s"));
    }
    parts.join(" ")
}

impl Gantt {
    /// The fenced Mermaid block (GitHub renders it as a chart). Times are `HH:mm:ss` from the
    /// drill's start; `todayMarker off` because Mermaid reads such times as today's and would
    /// otherwise draw a line at the reader's wall-clock time.
    pub fn mermaid(&self) -> String {
        let mut o = String::from("```mermaid\ngantt\n");
        let _ = writeln!(o, "    title {}", task_name(&self.title));
        o.push_str("    dateFormat HH:mm:ss\n    axisFormat %H:%M:%S\n    todayMarker off\n");
        let clamped = self
            .bars
            .iter()
            .map(|b| b.end)
            .chain(self.marks.iter().map(|m| m.t))
            .chain([self.budget])
            .any(|t| t > LAST_SECOND);
        if clamped {
            o.push_str("    %% times past 23:59:59 are drawn at 23:59:59\n");
        }
        o.push_str("    section Phases\n");
        for (i, b) in self.bars.iter().enumerate() {
            let tags = if b.crit { "crit, " } else { "" };
            task(
                &mut o,
                &b.label,
                tags,
                &format!("p{}", i + 1),
                b.start,
                b.end.max(b.start),
            );
        }
        if !self.marks.is_empty() {
            o.push_str("    section Events\n");
        }
        for (i, m) in self.marks.iter().enumerate() {
            let tags = if m.crit {
                "milestone, crit, "
            } else {
                "milestone, "
            };
            task(&mut o, &m.label, tags, &format!("m{}", i + 1), m.t, m.t);
        }
        o.push_str("    section Budget\n");
        let label = format!("recovery-time budget {}", span(self.budget));
        task(&mut o, &label, "active, ", "budget", 0, self.budget);
        let label = format!("deadline (budget {})", span(self.budget));
        task(
            &mut o,
            &label,
            "milestone, crit, ",
            "deadline",
            self.budget,
            self.budget,
        );
        o.push_str("```\n");
        o
    }
}

/// One task line: `name :tags id, start, end` (`tags` empty or ending in `, `).
fn task(o: &mut String, name: &str, tags: &str, id: &str, start: u64, end: u64) {
    let _ = writeln!(
        o,
        "    {} :{tags}{id}, {}, {}",
        task_name(name),
        hms(start),
        hms(end)
    );
}

/// Whether a phase is the runbook's way out of trouble (drawn red).
fn troubled(phase: Phase) -> bool {
    matches!(phase, Phase::Rollback | Phase::Escalate)
}

/// The gantt of an automated drill: one bar per phase the journal entered (a phase entered
/// twice, as verify after a rollback, is two bars), from its start to the next phase's start
/// (the last one to its last step's end); the injections, the detection and the recovery (or
/// the end of the drill when it did not recover) as milestones.
pub fn journal_gantt(j: &Journal) -> Gantt {
    let end = j
        .steps()
        .map(|s| s.t_end)
        .chain(j.events.iter().filter_map(|e| match e {
            Event::Phase { t, .. } | Event::Inject { t, .. } => Some(*t),
            _ => None,
        }))
        .max()
        .unwrap_or(0);
    let starts: Vec<(Phase, u64)> = j
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Phase { phase, t, .. } => Some((*phase, *t)),
            _ => None,
        })
        .collect();
    let mut bars = Vec::new();
    for (k, (phase, t)) in starts.iter().enumerate() {
        let again = starts[..k].iter().any(|(p, _)| p == phase);
        bars.push(Bar {
            label: if again {
                format!("{phase} (again)")
            } else {
                phase.as_str().to_owned()
            },
            start: *t,
            end: starts.get(k + 1).map_or(end, |(_, n)| *n),
            crit: troubled(*phase),
        });
    }
    let mut marks = Vec::new();
    for e in &j.events {
        if let Event::Inject {
            fault, target, t, ..
        } = e
        {
            marks.push(Milestone {
                label: format!("inject {}", fault_label(fault, target)),
                t: *t,
                crit: true,
            });
        }
    }
    if let Some(d) = &j.detection {
        marks.push(Milestone {
            label: format!("detected by {}", d.step),
            t: d.t,
            crit: false,
        });
    }
    match &j.recovery {
        Some(r) => marks.push(Milestone {
            label: format!("recovered ({})", r.step),
            t: r.t,
            crit: false,
        }),
        None => marks.push(Milestone {
            label: format!("drill ended, {}", j.outcome),
            t: end,
            crit: true,
        }),
    }
    Gantt {
        title: format!("{} on the drill clock", j.scenario),
        bars,
        marks,
        budget: j.budget_secs,
    }
}

/// The part of a journal that tells what a fault did: from its injection on, every phase, step
/// (with the last lines of a failing step's output), trip, then the broken invariants and the
/// outcome. Plain lines; the sweep's HTML page shows them per case.
pub fn excerpt(j: &Journal) -> Vec<String> {
    let mut o = Vec::new();
    let from = j
        .events
        .iter()
        .position(|e| matches!(e, Event::Inject { .. }))
        .unwrap_or(0);
    for e in &j.events[from..] {
        match e {
            Event::Phase { phase, t, why } => o.push(format!("{}  ── {phase} ── {why}", clock(*t))),
            Event::Step(s) => {
                let mark = status_mark(s.status);
                o.push(format!(
                    "{}  [{mark}] {} ({})",
                    clock(s.t_start),
                    s.id,
                    s.doc
                ));
                if !s.status.passed() {
                    o.extend(output_tail(s, 120));
                }
            }
            Event::Inject {
                fault,
                target,
                after,
                t,
                ..
            } => o.push(format!(
                "{}  ⚡ inject {} after {after}",
                clock(*t),
                fault_label(fault, target)
            )),
            Event::Trip {
                fault,
                target,
                step,
            } => o.push(format!(
                "             ⚡ fault {} took effect{}",
                fault_label(fault, target),
                step.as_ref()
                    .map(|s| format!(" in {s}"))
                    .unwrap_or_default()
            )),
        }
    }
    for i in j.invariants.iter().filter(|i| !i.passed) {
        o.push(format!("invariant {} broken: {}", i.name, i.detail));
    }
    o.push(format!(
        "detected: {} · recovered: {} · outcome: {}",
        j.detection
            .as_ref()
            .map_or("—".into(), |d| format!("{} by {}", clock(d.t), d.step)),
        j.recovery.as_ref().map_or("—".into(), |r| clock(r.t)),
        j.outcome
    ));
    o
}

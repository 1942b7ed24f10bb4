//! The shell's after-action report: the automated drill's invariants and budget over what the
//! person did, the commands with their timings, which runbook steps were followed, skipped or
//! done out of order, when the fault was detected. Every world value is masked, and a line the
//! secret scanner still flags is withheld.

use super::hook::{leak_alive, sick};
use super::state::{State, StepInfo, phase_rank};
use crate::journal::{DrillOutcome, clock};
use crate::report::{Bar, Gantt, Milestone};
use crate::sandbox::Sandbox;
use crate::world::World;
use cdb_docs::{Phase, Trigger};
use cdb_model::scenario::Scenario;
// Writing into a String cannot fail: each `let _ = write!(…)` below drops an `Ok(())`.
use std::fmt::Write;

/// What became of one runbook step.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fate {
    Followed(usize),
    OutOfOrder(usize, String),
    Skipped,
    NotNeeded(&'static str),
    WrongTrigger(usize),
}

fn first_done(st: &State, id: &str) -> Option<usize> {
    st.commands
        .iter()
        .find(|c| c.steps.iter().any(|s| s == id))
        .map(|c| c.n)
}

/// Whether step `a` comes before step `b` in the runbook (phase order, then the hub's order).
fn before(st: &State, a: &StepInfo, b: &StepInfo) -> bool {
    let pos = |s: &StepInfo| st.steps.iter().position(|x| x.id == s.id).unwrap_or(0);
    (phase_rank(a.phase), pos(a)) < (phase_rank(b.phase), pos(b))
}

fn fates(st: &State, verify_failed: bool, recovered: bool) -> Vec<(StepInfo, Fate)> {
    let mut out = Vec::new();
    for s in &st.steps {
        let done = first_done(st, &s.id);
        let fate = match done {
            Some(n) if !s.applies => Fate::WrongTrigger(n),
            Some(n) => {
                // Out of order: an earlier step of the path was first done after this one.
                let late = st.steps.iter().filter(|e| e.applies).find(|e| {
                    before(st, e, s)
                        && e.phase != Phase::Rollback
                        && s.phase != Phase::Rollback
                        && first_done(st, &e.id).is_some_and(|m| m > n)
                });
                match late {
                    Some(e) => Fate::OutOfOrder(n, e.id.clone()),
                    None => Fate::Followed(n),
                }
            }
            None if !s.applies => Fate::NotNeeded("not for this trigger"),
            None if s.phase == Phase::Rollback && !verify_failed => {
                Fate::NotNeeded("verify passed")
            }
            None if s.phase == Phase::Escalate && recovered => Fate::NotNeeded("recovered"),
            None => Fate::Skipped,
        };
        out.push((s.clone(), fate));
    }
    out
}

fn cell(text: &str, n: usize) -> String {
    let first = text.lines().next().unwrap_or("").trim();
    let more = text.lines().count() > 1;
    let mut s: String = first.chars().take(n).collect();
    if first.chars().count() > n || more {
        s.push_str(" …");
    }
    format!("`{}`", s.replace('`', "'").replace('|', "\\|"))
}

/// The rehearsal's gantt: a bar per run of commands in one runbook phase (a command's phase is
/// its first step's; a command that did no step belongs to the run it is in, or to
/// `orientation` before the first step), the injections, the detection and the recovery or
/// escalation as milestones, the budget as the deadline.
fn gantt(st: &State, recovered: Option<u64>, escalated: Option<u64>) -> Gantt {
    let mut bars: Vec<Bar> = Vec::new();
    // The phase of the last bar, if there is one (`Some(None)`: orientation); its label may
    // say `(again)`.
    let mut current: Option<Option<Phase>> = None;
    for c in &st.commands {
        let phase = c.steps.iter().find_map(|id| st.step(id)).map(|s| s.phase);
        let extend = match (phase, current) {
            (None, Some(_)) => true,
            (Some(p), Some(Some(q))) => p == q,
            _ => false,
        };
        match bars.last_mut() {
            Some(b) if extend => b.end = c.t_end,
            _ => {
                let p = phase.map_or("orientation", Phase::as_str);
                let again = bars.iter().any(|b| b.label == p);
                bars.push(Bar {
                    label: if again {
                        format!("{p} (again)")
                    } else {
                        p.to_owned()
                    },
                    start: c.t_start,
                    end: c.t_end,
                    crit: matches!(phase, Some(Phase::Rollback | Phase::Escalate)),
                });
                current = Some(phase);
            }
        }
    }
    let mut marks = Vec::new();
    for f in &st.faults {
        if let Some(t) = f.t.or((f.fired == Some(0)).then_some(0)) {
            marks.push(Milestone {
                label: format!(
                    "inject {}{}",
                    f.kind,
                    f.target
                        .as_ref()
                        .map(|t| format!(" ({t})"))
                        .unwrap_or_default()
                ),
                t,
                crit: true,
            });
        }
    }
    if let Some(d) = &st.detection {
        marks.push(Milestone {
            label: match &d.step {
                Some(s) => format!("detected by {s}"),
                None => format!("detected ({})", d.how),
            },
            t: d.t,
            crit: false,
        });
    }
    match (recovered, escalated) {
        (Some(t), _) => marks.push(Milestone {
            label: "recovered".into(),
            t,
            crit: false,
        }),
        (None, Some(t)) => marks.push(Milestone {
            label: "escalated".into(),
            t,
            crit: true,
        }),
        (None, None) => marks.push(Milestone {
            label: "session ended, not recovered".into(),
            t: st.t,
            crit: true,
        }),
    }
    Gantt {
        title: format!("{} (shell) on the drill clock", st.scenario),
        bars,
        marks,
        budget: st.budget,
    }
}

/// Judges the session and renders the report: (markdown, passed, reasons).
pub fn evaluate(
    sc: &Scenario,
    st: &State,
    world: &World,
    sandbox: &Sandbox,
    transcript: &str,
) -> (String, bool, Vec<String>) {
    let mut reasons = Vec::new();
    let last_t = st.t;
    // Recovery: the first command from which the stack stayed good to the end.
    let mut recovered_at: Option<(usize, u64)> = None;
    for c in st.commands.iter().rev() {
        if c.good_after {
            recovered_at = Some((c.n, c.t_end));
        } else {
            break;
        }
    }
    let good_now =
        !leak_alive(world) && sick(world, &st.degraded).is_empty() && recovered_at.is_some();
    if !good_now {
        recovered_at = None;
    }
    let escalated_at = st
        .commands
        .iter()
        .find(|c| {
            c.steps
                .iter()
                .filter_map(|id| st.step(id))
                .any(|s| s.phase == Phase::Escalate)
        })
        .map(|c| c.t_end)
        .filter(|_| recovered_at.is_none());
    let outcome = if recovered_at.is_some() {
        DrillOutcome::Recovered
    } else if escalated_at.is_some() {
        DrillOutcome::Escalated
    } else {
        DrillOutcome::NotRecovered
    };
    let verify_failed = st.commands.iter().any(|c| {
        c.exit != 0
            && c.steps.iter().filter_map(|id| st.step(id)).any(|s| {
                s.phase == Phase::Verify || s.phase == Phase::Rotate || s.phase == Phase::Revoke
            })
    });
    let fates = fates(st, verify_failed, recovered_at.is_some());

    // The same invariants as the automated drill, over the person's commands and terminal.
    let mut leaks = Vec::new();
    for c in &st.commands {
        let names = world.secrets_in(&c.text);
        if !names.is_empty() {
            leaks.push((format!("command #{}", c.n), names));
        }
    }
    let shown = world.secrets_in(transcript);
    if !shown.is_empty() {
        leaks.push(("the terminal".to_owned(), shown));
    }
    let mut hits = Vec::new();
    let rules = crate::scan::scan(transcript);
    if !rules.is_empty() {
        hits.push(format!(
            "the terminal showed something the secret scanner flags ({})",
            rules.join(", ")
        ));
    }
    let invariants = crate::engine::invariants(
        sc,
        world,
        &leaks,
        hits,
        recovered_at.map(|(_, t)| t),
        escalated_at,
        st.budget,
    );
    for i in &invariants {
        if !i.passed {
            if i.name == "leaked-values-dead" {
                let revived = st
                    .commands
                    .windows(2)
                    .find(|w| !w[0].leak_alive_after && w[1].leak_alive_after)
                    .map(|w| w[1].n);
                reasons.push(match revived {
                    Some(n) => format!(
                        "a leaked credential is valid again (since command #{n}): {}",
                        i.detail
                    ),
                    None => format!("a leaked credential is still valid: {}", i.detail),
                });
            } else {
                reasons.push(format!("invariant `{}` broken: {}", i.name, i.detail));
            }
        }
    }
    for (s, f) in &fates {
        if let Fate::WrongTrigger(n) = f
            && st.leak
            && s.when == Trigger::Routine
            && s.phase == Phase::Rollback
        {
            reasons.push(format!(
                "command #{n} ran `{}` (routine rollback) on a leak: a leaked value never comes back",
                s.id
            ));
        }
    }
    // Detection.
    let fired: Vec<String> = st
        .faults
        .iter()
        .filter(|f| f.fired.is_some())
        .map(|f| {
            format!(
                "fault `{}`{} injected after `{}`",
                f.kind,
                f.target
                    .as_ref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default(),
                f.after
            )
        })
        .collect();
    if !fired.is_empty() && st.detection.is_none() {
        reasons.push(format!(
            "{} went undetected: no runbook check failed after it and no drill-status showed it",
            fired.join(", ")
        ));
    }
    for f in st.faults.iter().filter(|f| f.fired.is_none()) {
        reasons.push(format!(
            "fault `{}` was never injected: step `{}` was not done",
            f.kind, f.after
        ));
    }
    let mut skipped_by_phase: Vec<(Phase, Vec<String>)> = Vec::new();
    for (s, f) in &fates {
        if *f == Fate::Skipped {
            match skipped_by_phase.iter_mut().find(|(p, _)| *p == s.phase) {
                Some((_, v)) => v.push(format!("`{}`", s.id)),
                None => skipped_by_phase.push((s.phase, vec![format!("`{}`", s.id)])),
            }
        }
    }
    for (phase, ids) in &skipped_by_phase {
        reasons.push(format!("{phase} steps skipped: {}", ids.join(", ")));
    }
    // `validate` allows only `recovered` or `escalated` (the engine's `typed` checks the same).
    if sc.expect.outcome.value != outcome {
        reasons.push(format!(
            "expected outcome `{}`, got `{outcome}`",
            sc.expect.outcome.value
        ));
    }
    let passed = reasons.is_empty();

    // The report.
    let mut o = String::new();
    let _ = writeln!(o, "# After-action report: shell drill `{}`\n", st.scenario);
    let _ = writeln!(o, "| | |\n|---|---|");
    let _ = writeln!(o, "| class | `{}` |", st.class);
    let _ = writeln!(o, "| trigger | {} |", st.trigger.as_str());
    let _ = writeln!(o, "| seed | {} |", world.seed);
    let _ = writeln!(
        o,
        "| verdict | **{}** |",
        if passed { "pass" } else { "fail" }
    );
    let _ = writeln!(
        o,
        "| outcome | {outcome} (expected {}) |",
        sc.expect.outcome.value
    );
    let _ = writeln!(
        o,
        "| fault detected | {} |",
        match &st.detection {
            Some(d) => format!(
                "{} — {}{}",
                clock(d.t),
                d.how,
                d.step
                    .as_ref()
                    .map(|s| format!(" (`{s}`)"))
                    .unwrap_or_default()
            ),
            None if fired.is_empty() => "no fault was injected".into(),
            None => "not detected".into(),
        }
    );
    let _ = writeln!(
        o,
        "| recovered | {} |",
        recovered_at.map_or("not recovered".into(), |(n, t)| format!(
            "{} (after command #{n})",
            clock(t)
        ))
    );
    let done_at = recovered_at.map(|(_, t)| t).or(escalated_at);
    let _ = writeln!(
        o,
        "| budget (RTO) | {}: {} |",
        clock(st.budget),
        match done_at {
            Some(t) if t <= st.budget => "met",
            Some(_) => "exceeded",
            None => "not met",
        }
    );
    let _ = writeln!(
        o,
        "| commands | {} typed, drill clock at the end {} |\n",
        st.commands.len(),
        clock(last_t)
    );
    let _ = writeln!(
        o,
        "## Situation\n\n{}\n",
        sc.situation
            .clone()
            .unwrap_or_else(|| format!(
                "A `{}` drill of class `{}`.",
                st.trigger.as_str(),
                st.class
            ))
            .trim()
    );
    let _ = writeln!(
        o,
        "## Phases against the budget\n\n{}",
        gantt(st, recovered_at.map(|(_, t)| t), escalated_at).mermaid()
    );
    let _ = writeln!(
        o,
        "## Commands\n\n| # | time | took | exit | command | runbook step |\n|---|---|---|---|---|---|"
    );
    for c in &st.commands {
        let steps = if c.steps.is_empty() {
            "—".to_owned()
        } else {
            format!(
                "{} ({})",
                c.steps
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                c.how
            )
        };
        let mut flags = String::new();
        if st.detection.as_ref().is_some_and(|d| d.n == c.n) {
            flags.push_str(" ◀ detected");
        }
        for f in st.faults.iter().filter(|f| f.fired == Some(c.n)) {
            let _ = write!(flags, " ⚡ inject `{}`", f.kind);
        }
        let _ = writeln!(
            o,
            "| {} | {} | {} s | {} | {} | {steps}{flags} |",
            c.n,
            clock(c.t_start),
            c.t_end - c.t_start,
            c.exit,
            cell(&c.text, 80)
        );
    }
    if !st.looks.is_empty() {
        let _ = writeln!(o, "\n## Dashboard looks (drill-status)\n");
        for l in &st.looks {
            let _ = writeln!(
                o,
                "- {} (command #{}): {}",
                clock(l.t),
                l.n,
                if l.shown.is_empty() {
                    "all services up".to_owned()
                } else {
                    format!("not healthy: {}", l.shown.join(", "))
                }
            );
        }
    }
    let _ = writeln!(
        o,
        "\n## Runbook steps\n\n| step | phase | time= | done | |\n|---|---|---|---|---|"
    );
    for (s, f) in &fates {
        let (done, what) = match f {
            Fate::Followed(n) => (format!("#{n}"), "followed".to_owned()),
            Fate::OutOfOrder(n, e) => (format!("#{n}"), format!("out of order (before `{e}`)")),
            Fate::Skipped => ("—".into(), "**skipped**".to_owned()),
            Fate::NotNeeded(why) => ("—".into(), format!("not needed ({why})")),
            Fate::WrongTrigger(n) => (
                format!("#{n}"),
                format!("done, but when={}", s.when.as_str()),
            ),
        };
        let _ = writeln!(
            o,
            "| `{}` ({}) | {} | {} s | {done} | {what} |",
            s.id, s.doc, s.phase, s.secs
        );
    }
    let _ = writeln!(o, "\n## Faults (revealed after the drill)\n");
    if st.faults.is_empty() {
        let _ = writeln!(o, "- none");
    }
    for f in &st.faults {
        let target = f
            .target
            .as_ref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        let when = match (f.fired, f.t) {
            (Some(0), _) => "at the start".to_owned(),
            (Some(n), Some(t)) => format!("after command #{n} at {}", clock(t)),
            _ => "never: the step was not done".to_owned(),
        };
        let trips: Vec<String> = world
            .trips
            .iter()
            .filter(|t| t.kind == f.kind)
            .map(|t| t.step.clone().unwrap_or_else(|| "at once".into()))
            .collect();
        let _ = writeln!(
            o,
            "- `{}`{target}, injected after `{}`: {when}{}{}",
            f.kind,
            f.after,
            if trips.is_empty() {
                String::new()
            } else {
                format!("; took effect in {}", trips.join(", "))
            },
            f.note
                .as_ref()
                .map(|n| format!(" — {}", n.trim()))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(o, "\n## Invariants\n");
    for i in &invariants {
        let _ = writeln!(
            o,
            "- [{}] {}: {}",
            if i.passed { "x" } else { " " },
            i.name,
            i.detail
        );
    }
    let _ = writeln!(o, "\n## Verdict\n");
    if passed {
        let _ = writeln!(
            o,
            "**pass**: recovered within the budget, the fault detected, every step of the runbook's path done."
        );
    } else {
        let _ = writeln!(o, "**fail**:\n");
        for r in &reasons {
            let _ = writeln!(o, "- {r}");
        }
    }
    let md = mask(world, sandbox, &o);
    let reasons = reasons
        .iter()
        .map(|r| mask(world, sandbox, r).trim_end().to_owned())
        .collect();
    (md, passed, reasons)
}

/// Masks every value the world ever held and the sandbox path; withholds a line the secret
/// scanner still flags.
fn mask(world: &World, sandbox: &Sandbox, text: &str) -> String {
    let text = sandbox.sanitize(&world.redact(text));
    text.lines()
        .map(|l| {
            if crate::scan::scan(l).is_empty() {
                l.to_owned()
            } else {
                "(line withheld: the secret scanner flags it)".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

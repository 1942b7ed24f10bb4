//! The drill journal: every step, inject, fault trip and invariant with its status, as JSON.
//!
//! Like Chaos Toolkit's journal, it is the machine-readable record of a run. It holds no
//! wall-clock time and no temp path (the sandbox is `$SANDBOX`), so the same seed gives a
//! byte-identical journal; secret values are replaced by `[secret:NAME]` before they get here.
//! `isolation` says what confined the steps (jail.rs); it depends on the machine, not the run,
//! so journals are byte-identical per seed on one machine (compare across machines without it).

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Journal {
    pub version: u32,
    pub scenario: String,
    pub title: String,
    pub class: String,
    pub trigger: String,
    pub seed: u64,
    /// What confined the steps: `namespaces (…)` or `none (why)` (jail.rs).
    pub isolation: String,
    pub briefing: String,
    pub budget_secs: u64,
    pub events: Vec<Event>,
    pub invariants: Vec<Invariant>,
    pub detection: Option<Mark>,
    pub recovery: Option<Mark>,
    pub outcome: String,
    pub expected_outcome: String,
    pub gaps: Vec<String>,
    pub verdict: Verdict,
}

/// A point on the simulated clock, and the step that marks it.
#[derive(Clone, Debug, Serialize)]
pub struct Mark {
    pub step: String,
    pub t: u64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Event {
    Phase {
        phase: String,
        t: u64,
        why: String,
    },
    Step(StepEvent),
    Inject {
        fault: String,
        target: Option<String>,
        after: String,
        t: u64,
        note: Option<String>,
    },
    Trip {
        fault: String,
        target: Option<String>,
        step: Option<String>,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct StepEvent {
    pub id: String,
    pub phase: String,
    /// `path:line` of the step's fence in the hub.
    pub doc: String,
    pub manual: bool,
    pub effect: Option<String>,
    /// The first line of the body (what an operator sees first).
    pub command: String,
    /// `passed`, `failed` or `timed-out`.
    pub status: String,
    pub exit: Option<i32>,
    pub t_start: u64,
    pub t_end: u64,
    pub stdout: String,
    pub stderr: String,
    /// The mock tools the step called, with their arguments.
    pub calls: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Invariant {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct Verdict {
    pub passed: bool,
    pub reasons: Vec<String>,
}

impl Journal {
    pub fn steps(&self) -> impl Iterator<Item = &StepEvent> {
        self.events.iter().filter_map(|e| match e {
            Event::Step(s) => Some(s),
            _ => None,
        })
    }

    /// Every string in the journal that did not come from the engine's own text (step output,
    /// commands, calls, scenario text, details and reasons that quote them), each with the step
    /// it came from when it is a step's output: what the masking point (scan.rs) rewrites.
    pub fn strings_mut(&mut self) -> Vec<(Option<String>, &mut String)> {
        let mut out: Vec<(Option<String>, &mut String)> = vec![
            (None, &mut self.scenario),
            (None, &mut self.title),
            (None, &mut self.briefing),
        ];
        for e in &mut self.events {
            match e {
                Event::Phase { .. } | Event::Trip { .. } => {}
                Event::Inject { note, .. } => out.extend(note.as_mut().map(|n| (None, n))),
                Event::Step(s) => {
                    let id = Some(s.id.clone());
                    out.push((None, &mut s.command));
                    out.push((id.clone(), &mut s.stdout));
                    out.push((id.clone(), &mut s.stderr));
                    for c in &mut s.calls {
                        out.push((id.clone(), c));
                    }
                }
            }
        }
        for i in &mut self.invariants {
            out.push((None, &mut i.detail));
        }
        for g in &mut self.gaps {
            out.push((None, g));
        }
        for r in &mut self.verdict.reasons {
            out.push((None, r));
        }
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// `T+hh:mm:ss` on the simulated clock.
pub fn clock(t: u64) -> String {
    format!("T+{:02}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60)
}

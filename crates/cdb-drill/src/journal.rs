//! The drill journal: every step, inject, fault trip and invariant with its status, as JSON.
//!
//! Like Chaos Toolkit's journal, it is the machine-readable record of a run. It holds no
//! wall-clock time and no temp path (the sandbox is `$SANDBOX`), so the same seed gives a
//! byte-identical journal; secret values are replaced by `[secret:NAME]` before they get here.
//! `isolation` says what confined the steps (jail.rs); it depends on the machine, not the run,
//! so journals are byte-identical per seed on one machine (compare across machines without it).

use cdb_docs::{Phase, Trigger};
use cdb_model::faults::FaultKind;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Serialize)]
pub struct Journal {
    pub version: u32,
    pub scenario: String,
    pub title: String,
    pub class: String,
    #[serde(with = "trigger_name")]
    pub trigger: Trigger,
    pub seed: u64,
    /// What confined the steps: `namespaces (…)` or `none (why)` (jail.rs).
    pub isolation: String,
    pub briefing: String,
    pub budget_secs: u64,
    pub events: Vec<Event>,
    pub invariants: Vec<Invariant>,
    pub detection: Option<Mark>,
    pub recovery: Option<Mark>,
    pub outcome: DrillOutcome,
    pub expected_outcome: DrillOutcome,
    pub gaps: Vec<String>,
    pub verdict: Verdict,
}

/// How a step ended; serialised as `passed`, `failed` or `timed-out`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    Passed,
    Failed,
    TimedOut,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
            StepStatus::TimedOut => "timed-out",
        }
    }

    pub fn passed(self) -> bool {
        self == StepStatus::Passed
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How a drill ended; it lives in `cdb-model`, where the scenario schema parses
/// `expect.outcome` into it (re-exported here, its path before).
pub use cdb_model::outcome::DrillOutcome;

/// Serde for `cdb_docs::Phase`, which `cdb-docs` keeps free of serde's derives
/// (`#[serde(with = "phase_name")]`): written as its `as_str`, the string the journal held when
/// the field was a string, and read back from it (the shell's state file).
pub(crate) mod phase_name {
    use super::Phase;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Phase, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Phase, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|()| D::Error::custom(format!("unknown phase `{s}`")))
    }
}

/// Serde for `cdb_docs::Trigger`, as [`phase_name`] for `Phase`.
pub(crate) mod trigger_name {
    use super::Trigger;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Trigger, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Trigger, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|()| D::Error::custom(format!("unknown trigger `{s}`")))
    }
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
        #[serde(with = "phase_name")]
        phase: Phase,
        t: u64,
        why: String,
    },
    Step(StepEvent),
    Inject {
        fault: FaultKind,
        target: Option<String>,
        after: String,
        t: u64,
        note: Option<String>,
    },
    Trip {
        fault: FaultKind,
        target: Option<String>,
        step: Option<String>,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct StepEvent {
    pub id: String,
    #[serde(with = "phase_name")]
    pub phase: Phase,
    /// `path:line` of the step's fence in the hub.
    pub doc: String,
    pub manual: bool,
    pub effect: Option<String>,
    /// The first line of the body (what an operator sees first).
    pub command: String,
    pub status: StepStatus,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn step(phase: Phase, status: StepStatus) -> StepEvent {
        StepEvent {
            id: "database-verify-x".into(),
            phase,
            doc: "runbook.md:1".into(),
            manual: false,
            effect: None,
            command: "psql".into(),
            status,
            exit: Some(0),
            t_start: 0,
            t_end: 1,
            stdout: String::new(),
            stderr: String::new(),
            calls: Vec::new(),
        }
    }

    /// The typed fields are written as the strings the journal held before they were typed
    /// (docs/drill-world.md, the journal's consumers, the byte-identical journals per seed).
    #[test]
    fn typed_fields_serialise_to_the_journal_strings() {
        for (status, text) in [
            (StepStatus::Passed, "passed"),
            (StepStatus::Failed, "failed"),
            (StepStatus::TimedOut, "timed-out"),
        ] {
            assert_eq!(status.as_str(), text);
            assert_eq!(status.to_string(), text);
            let v = serde_json::to_value(Event::Step(step(Phase::PostCheck, status)))
                .expect("a step event serialises");
            assert_eq!(v["status"], text);
            assert_eq!(v["phase"], "post-check");
            assert_eq!(v["type"], "step");
        }
        for o in DrillOutcome::ALL {
            let v = serde_json::to_value(o).expect("an outcome serialises");
            assert_eq!(v, o.as_str());
            assert_eq!(o.as_str().parse::<DrillOutcome>(), Ok(o));
        }
        assert_eq!(DrillOutcome::NotRecovered.as_str(), "not-recovered");
        assert!("not recovered".parse::<DrillOutcome>().is_err());
        for p in Phase::ALL {
            let e = Event::Phase {
                phase: p,
                t: 3,
                why: "w".into(),
            };
            let v = serde_json::to_value(e).expect("a phase event serialises");
            assert_eq!(v["phase"], p.as_str());
        }
        // Width and alignment apply as they did to the strings.
        assert_eq!(format!("[{:<8}]", StepStatus::Passed), "[passed  ]");
        assert_eq!(format!("[{:>10}]", DrillOutcome::Escalated), "[ escalated]");
    }
}

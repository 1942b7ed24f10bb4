//! The run of one scenario: the plan of its class's steps, the phases in the procedure's order,
//! each step in the sandbox, and the faults armed after their `after` step.

use super::judge::judge;
use super::replay::LateInject;
use super::{Config, DrillError, Recording, Snapshot, budget_secs, start_world};
use crate::effects;
use crate::journal::{DrillOutcome, Event, Journal, Mark, StepEvent, StepStatus};
use crate::sandbox::Sandbox;
use crate::world::World;
use cdb_docs::{Phase, Step, Trigger};
use cdb_model::scenario::{self, Scenario};
use std::io;
use std::time::Duration;

/// A step with its location.
pub(super) struct Planned<'h> {
    pub(super) step: &'h Step,
    pub(super) line: usize,
}

pub(super) struct Run<'h> {
    pub(super) sandbox: Sandbox,
    pub(super) timeout: Duration,
    pub(super) plan: Vec<Planned<'h>>,
    pub(super) faults: Vec<(&'h scenario::Fault, bool)>,
    pub(super) t: u64,
    pub(super) events: Vec<Event>,
    /// (step id, secret names) found in a step's raw output.
    pub(super) transcript_leaks: Vec<(String, Vec<String>)>,
    pub(super) scanner_hits: Vec<String>,
    pub(super) first_inject: Option<usize>,
    pub(super) failures: Vec<(usize, String, String)>,
    pub(super) calls_seen: usize,
    /// Every step run so far (plan index, id, passed).
    pub(super) trace: Vec<(usize, String, bool)>,
    /// Take a snapshot after the first run of these steps.
    pub(super) snap_at: Vec<String>,
    pub(super) snapshots: Vec<Snapshot>,
    pub(super) probes_seen: usize,
    /// Replay these steps without running them, then continue from the snapshot.
    pub(super) replay: Option<&'h Snapshot>,
    /// Armed faults to inject, at the end of the replay, as if at this earlier point.
    pub(super) late: Option<LateInject>,
    /// The scenario's trigger and expected outcome (as `scenario::parse` typed them).
    pub(super) trigger: Trigger,
    pub(super) expected: DrillOutcome,
}

impl<'h> Run<'h> {
    pub(super) fn world<T>(&self, f: impl FnOnce(&mut World) -> T) -> io::Result<T> {
        crate::world::with_world(&self.sandbox.world_file(), f)
    }

    /// Runs every step of `phase`; with `stop`, stops at the first failure. Returns whether all passed.
    fn phase(&mut self, phase: Phase, stop: bool, why: &str) -> io::Result<bool> {
        let idx: Vec<usize> = (0..self.plan.len())
            .filter(|&i| self.plan[i].step.phase == phase)
            .collect();
        if idx.is_empty() {
            return Ok(true);
        }
        self.events.push(Event::Phase {
            phase,
            t: self.t,
            why: why.into(),
        });
        let mut ok = true;
        for i in idx {
            if !self.step(i)? {
                ok = false;
                if stop {
                    break;
                }
            }
        }
        Ok(ok)
    }

    fn step(&mut self, i: usize) -> io::Result<bool> {
        if let Some(passed) = self.replayed(i)? {
            return Ok(passed);
        }
        let step = self.plan[i].step;
        let t_start = self.t;
        let id = step.id.clone();
        self.world(|w| {
            w.current_step = Some(id.clone());
            w.clock = t_start;
        })?;
        let (status, exit, stdout, stderr) = if step.manual {
            let effect = step.effect.clone().unwrap_or_default();
            let body = step.body.clone();
            match self.world(|w| effects::apply(w, &effect, &body))? {
                Ok(msg) => (
                    StepStatus::Passed,
                    Some(0),
                    format!("[manual] {msg}\n"),
                    String::new(),
                ),
                Err(msg) => (
                    StepStatus::Failed,
                    Some(1),
                    String::new(),
                    format!("[manual] {msg}\n"),
                ),
            }
        } else {
            let r = self.sandbox.run(&step.id, &step.body, self.timeout)?;
            let status = if r.timed_out {
                StepStatus::TimedOut
            } else if r.code == Some(0) {
                StepStatus::Passed
            } else {
                StepStatus::Failed
            };
            (status, r.code, r.stdout, r.stderr)
        };
        // The bot trades wherever its order path is open; a leaked trade key must not trade.
        let phase = step.phase;
        self.world(|w| crate::exchange::after_step(w, phase))?;
        self.t += step.time.secs;
        // Judge and redact with the world as it is after the step (it knows every value made so far).
        let world = World::load(&self.sandbox.world_file())?;
        let found = world.secrets_in(&format!("{stdout}\n{stderr}"));
        if !found.is_empty() {
            self.transcript_leaks.push((id.clone(), found));
        }
        let rules = crate::scan::scan(&format!("{stdout}\n{stderr}"));
        if !rules.is_empty() {
            self.scanner_hits.push(format!(
                "`{id}` printed something the secret scanner flags ({})",
                rules.join(", ")
            ));
        }
        let clean = |s: &str| self.sandbox.sanitize(&world.redact(s));
        let mut step_calls: Vec<&crate::world::Call> = world.calls
            [self.calls_seen.min(world.calls.len())..]
            .iter()
            .collect();
        // The order the step started them in, not the order they took the log's lock (world.rs).
        let pids: Vec<u32> = step_calls.iter().map(|c| c.pid).collect();
        let order = start_order(&pids, pid_max());
        step_calls.sort_by_key(|c| order(c.pid));
        let calls: Vec<String> = step_calls
            .iter()
            .map(|c| clean(&format!("{} {}", c.tool, c.argv.join(" "))))
            .collect();
        self.calls_seen = world.calls.len();
        self.probes_seen = world.probes.as_ref().map_or(0, Vec::len);
        let ev = StepEvent {
            id: id.clone(),
            phase: step.phase,
            doc: format!("{}:{}", step.path, self.plan[i].line),
            manual: step.manual,
            effect: step.effect.clone(),
            command: headline(&step.body),
            status,
            exit,
            t_start,
            t_end: self.t,
            stdout: clean(&stdout),
            stderr: clean(&stderr),
            calls,
        };
        let passed = status.passed();
        if !passed {
            let last = ev
                .stdout
                .lines()
                .chain(ev.stderr.lines())
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_owned();
            let why = if status == StepStatus::TimedOut {
                format!("timed out after {} s of wall time", self.timeout.as_secs())
            } else {
                format!(
                    "exit {}: {last}",
                    exit.map_or("?".into(), |c| c.to_string())
                )
            };
            self.failures.push((self.events.len(), id.clone(), why));
        }
        self.events.push(Event::Step(ev));
        self.trips(&world);
        self.trace.push((i, id.clone(), passed));
        if self.snap_at.contains(&id) && !self.snapshots.iter().any(|s| s.after() == id) {
            let snap = self.snapshot()?;
            self.snapshots.push(snap);
        }
        self.arm_after(&id)?;
        Ok(passed)
    }

    fn trips(&mut self, world: &World) {
        let seen = self
            .events
            .iter()
            .filter(|e| matches!(e, Event::Trip { .. }))
            .count();
        for t in world.trips.iter().skip(seen) {
            self.events.push(Event::Trip {
                fault: t.kind,
                target: t.service.clone(),
                step: t.step.clone(),
            });
        }
    }

    pub(super) fn arm_after(&mut self, after: &str) -> io::Result<()> {
        for k in 0..self.faults.len() {
            let (f, done) = self.faults[k];
            // Faults injected late are armed at the end of the replay.
            let late = self.late.as_ref().is_some_and(|l| l.after == f.after.value);
            if done || late || f.after.value != after {
                continue;
            }
            self.faults[k].1 = true;
            let kind = f.kind.value;
            let target = f.target.as_ref().map(|t| t.value.clone());
            let times = f.times;
            let w_res = self.world(|w| {
                w.current_step = None;
                crate::inject::inject(w, kind, target.as_deref(), times);
            });
            w_res?;
            if self.first_inject.is_none() {
                self.first_inject = Some(self.events.len());
            }
            self.events.push(Event::Inject {
                fault: kind,
                target,
                after: after.to_owned(),
                t: self.t,
                note: f.note.clone(),
            });
            let world = World::load(&self.sandbox.world_file())?;
            self.trips(&world);
        }
        Ok(())
    }
}

/// The kernel's `pid_max`: process ids wrap after it (32,768 unless raised).
fn pid_max() -> u32 {
    static MAX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|t| t.trim().parse().ok())
            // Linux's default, where the file cannot be read.
            .unwrap_or(32_768)
    })
}

/// A sort key that orders a step's calls by when they started, from their process ids. In the
/// jail a step's ids count up from 1 in its own namespace. Unconfined, they are the host's,
/// which wrap at `pid_max`: a step can straddle the wrap, and then a later call has the smaller
/// id (the drill's journal changed between runs when it did). A step's calls start within far
/// less than half a cycle of each other, so when their ids span more than half of it, the
/// small ones are taken as after the wrap.
fn start_order(pids: &[u32], pid_max: u32) -> impl Fn(u32) -> u64 + use<> {
    let (lo, hi) = pids
        .iter()
        .fold((u32::MAX, 0), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    let wrapped = hi >= lo && hi - lo > pid_max / 2;
    move |p| {
        if wrapped && p <= pid_max / 2 {
            u64::from(p) + u64::from(pid_max)
        } else {
            u64::from(p)
        }
    }
}

/// The line of a body an operator recognises: the first that calls a stack tool.
fn headline(body: &str) -> String {
    const TOOLS: &[&str] = &[
        "docker ",
        "curl ",
        "gh ",
        "openssl ",
        "psql ",
        "redis-cli",
        "grafana",
    ];
    // The paste format's subshell, guard and verdict lines (docs/step-format.md) are the same
    // in every step: they are not what the operator recognises it by.
    let own = |l: &&str| {
        !l.is_empty()
            && !l.starts_with("( set -euo pipefail")
            && !l.starts_with(": \"${SECRETS_PATH:?")
            && !l.starts_with(": \"${CDB_TLS_DIR:?")
            && !l.starts_with("); case $? in")
    };
    let mut lines = body.lines().map(str::trim).filter(own);
    body.lines()
        .map(str::trim)
        .filter(own)
        .find(|l| TOOLS.iter().any(|t| l.contains(t)))
        .or_else(|| lines.next())
        .unwrap_or("")
        .to_owned()
}

pub(super) fn run_with<'h>(
    cfg: &Config,
    hub: &'h cdb_docs::Hub,
    sc: &'h Scenario,
    record: Option<&[String]>,
    replay: Option<&'h Snapshot>,
    late: Option<LateInject>,
) -> Result<(Journal, Recording), DrillError> {
    // `scenario::parse` gave both their types, refusing what a drill cannot run or expect.
    let (trigger, expected) = (sc.trigger.value, sc.expect.outcome.value);
    let budget = budget_secs(hub, sc)?;
    let mut plan = Vec::new();
    for doc in &hub.docs {
        for s in &doc.steps {
            if s.class == sc.class.value && s.when.applies_to(trigger) {
                let line = doc.lines.line_col(&doc.text, s.fence_span.start).line;
                plan.push(Planned { step: s, line });
            }
        }
    }
    let (sandbox, mut world) = start_world(cfg, sc)?;
    sandbox.hold_world();
    if record.is_some() {
        world.probes = Some(Vec::new());
    }
    world.save(&sandbox.world_file())?;
    let mut run = Run {
        sandbox,
        timeout: cfg.step_timeout,
        plan,
        faults: sc.faults.iter().map(|f| (f, false)).collect(),
        t: 0,
        events: Vec::new(),
        transcript_leaks: Vec::new(),
        scanner_hits: Vec::new(),
        first_inject: None,
        failures: Vec::new(),
        calls_seen: 0,
        trace: Vec::new(),
        snap_at: record.unwrap_or_default().to_vec(),
        snapshots: Vec::new(),
        probes_seen: 0,
        replay,
        late,
        trigger,
        expected,
    };
    run.arm_after("start")?;

    // The phase order and the decisions are cdb_model::procedure's, shared with the rotation
    // planner: the engine only runs what it says and keeps the marks.
    let mut procedure = cdb_model::procedure::Procedure::new(sc.is_leak());
    let mut recovered_at: Option<Mark> = None;
    let mut escalated_at: Option<u64> = None;
    let mut rolled_back = false;
    let mut post_ok = true;
    let last_id = |run: &Run| -> String {
        run.events
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::Step(s) => Some(s.id.clone()),
                _ => None,
            })
            .unwrap_or_default()
    };
    while let Some(next) = procedure.next() {
        let passed = run.phase(next.phase, next.stop_at_first_failure, next.why)?;
        if next.phase == Phase::PostCheck {
            post_ok = passed;
        }
        match procedure.record(passed) {
            Some(cdb_model::procedure::Mark::Recovered) => {
                recovered_at = Some(Mark {
                    step: last_id(&run),
                    t: run.t,
                });
            }
            Some(cdb_model::procedure::Mark::Escalated) => escalated_at = Some(run.t),
            Some(cdb_model::procedure::Mark::RolledBack) => rolled_back = true,
            None => {}
        }
    }
    if run.replay.is_some() {
        return Err(DrillError::Io(io::Error::other(
            "the snapshot's steps did not all run: it belongs to another drill",
        )));
    }
    let rec = Recording {
        failed_steps: run.failures.len(),
        snapshots: std::mem::take(&mut run.snapshots),
        probes: if record.is_some() {
            World::load(&run.sandbox.world_file())?
                .probes
                .unwrap_or_default()
        } else {
            Vec::new()
        },
    };
    let j = judge(
        sc,
        run,
        budget,
        recovered_at,
        escalated_at,
        post_ok,
        rolled_back,
    )?;
    Ok((j, rec))
}

#[cfg(test)]
mod tests {
    use super::start_order;

    fn ordered(pids: &[u32], pid_max: u32) -> Vec<u32> {
        let key = start_order(pids, pid_max);
        let mut v = pids.to_vec();
        v.sort_by_key(|p| key(*p));
        v
    }

    #[test]
    fn calls_are_ordered_by_start_across_a_wrap_of_process_ids() {
        // In a namespace, or on the host between wraps: by id.
        assert_eq!(ordered(&[9, 4, 7], 32_768), [4, 7, 9]);
        assert_eq!(ordered(&[20_001, 19_990], 32_768), [19_990, 20_001]);
        // Across the wrap (ids restart above 300): the large ids came first.
        assert_eq!(
            ordered(&[305, 32_760, 301, 32_767], 32_768),
            [32_760, 32_767, 301, 305]
        );
        assert_eq!(ordered(&[], 32_768), Vec::<u32>::new());
    }
}

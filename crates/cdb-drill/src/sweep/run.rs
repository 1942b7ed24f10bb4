//! Running the cases: one case from scratch or from a snapshot, the recorded baselines, and
//! the thread pool that runs them on every core.

use super::plan::{
    NO_OVERLAYS, Stack, baseline_scenario, case_scenario, never_trips, no_effect, scenario,
    scenario_yaml_on, trip_matches,
};
use super::{Baseline, Case, CaseResult, Outcome, class_steps, resume_step};
use crate::engine::{self, Config, DrillError};
use crate::journal::{DrillOutcome, Event, Journal};
use cdb_docs::{Phase, Trigger};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// Classifies a case's journal.
pub fn classify(case: &Case, j: &Journal) -> CaseResult {
    let kind = case.fault.fault_kind();
    let inject_at = j
        .events
        .iter()
        .position(|e| matches!(e, Event::Inject { .. }));
    let tripped = j
        .events
        .iter()
        .any(|e| matches!(e, Event::Trip { fault, .. } if *fault == kind));
    let after_inject = j.events.iter().skip(inject_at.unwrap_or(j.events.len()));
    let mut failed = Vec::new();
    let mut verify_ran = Vec::new();
    for e in after_inject {
        if let Event::Step(s) = e {
            if !s.status.passed() && !failed.contains(&s.id) {
                failed.push(s.id.clone());
            }
            let v = format!("{} ({})", s.id, s.doc);
            if s.phase == Phase::Verify && !verify_ran.contains(&v) {
                verify_ran.push(v);
            }
        }
    }
    let all_ok = j.invariants.iter().all(|i| i.passed);
    let recovered = j.outcome == DrillOutcome::Recovered && all_ok;
    let broken: Vec<String> = j
        .invariants
        .iter()
        .filter(|i| !i.passed)
        .map(|i| format!("{}: {}", i.name, i.detail))
        .collect();
    let (outcome, reason) = if inject_at.is_none() {
        (
            Outcome::NotApplicable,
            format!("never injected: step `{}` did not run", case.after),
        )
    } else if !tripped
        && !case.fault.start_overlays().is_empty()
        && (!failed.is_empty() || !j.gaps.is_empty() || !recovered)
    {
        // The baseline of this case's stack (started with `overlays:`) is not reported: a
        // runbook that fails on that stack while the fault never took effect is a gap, never
        // "not applicable".
        let mut why: Vec<String> = failed
            .iter()
            .map(|f| format!("step `{f}` failed"))
            .collect();
        why.extend(j.gaps.iter().cloned());
        why.extend(broken.iter().cloned());
        (
            Outcome::DetectedNotRecovered,
            format!(
                "the stack started with {} fails without the fault: {}",
                case.fault.start_overlays().join(", "),
                why.join("; ")
            ),
        )
    } else if !tripped {
        (
            Outcome::NotApplicable,
            "no effect: the fault never took effect at this point".to_owned(),
        )
    } else if j.detection.is_none() {
        if recovered {
            (
                Outcome::NotApplicable,
                "no lasting effect: the runbook's own later steps undid it".to_owned(),
            )
        } else {
            (
                Outcome::Undetected,
                format!("every step after it passed; {}", broken.join("; ")),
            )
        }
    } else if recovered {
        (Outcome::Recovered, format!("outcome {}", j.outcome))
    } else {
        (
            Outcome::DetectedNotRecovered,
            format!(
                "outcome {}{}{}",
                j.outcome,
                if broken.is_empty() { "" } else { "; " },
                broken.join("; ")
            ),
        )
    };
    CaseResult {
        case: case.id(),
        class: case.class.clone(),
        trigger: case.trigger,
        fault: case.fault.id.to_owned(),
        target: (!case.target.is_empty()).then(|| case.target.to_owned()),
        after: case.after.clone(),
        outcome,
        detected_by: j.detection.as_ref().map(|d| d.step.clone()),
        failed,
        should_have_caught: if outcome.is_gap() {
            verify_ran
        } else {
            Vec::new()
        },
        reason,
        same_as: None,
        excerpt: if outcome == Outcome::NotApplicable {
            Vec::new()
        } else {
            crate::report::excerpt(j)
        },
    }
}
/// Runs one case from scratch.
pub fn run_case(cfg: &Config, hub: &cdb_docs::Hub, case: &Case) -> Result<CaseResult, DrillError> {
    let j = case_journal(cfg, hub, case, None)?;
    Ok(classify(case, &j))
}

/// A case's journal, from scratch or from the baseline's snapshot at its injection point.
pub fn case_journal(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    case: &Case,
    from: Option<&engine::Snapshot>,
) -> Result<Journal, DrillError> {
    let sc = case_scenario(hub, case)?;
    match from {
        Some(snap) => engine::run_from(cfg, hub, &sc, snap),
        None => engine::run_scenario(cfg, hub, &sc),
    }
}

/// The journal of an armed-fault case started from `resume`, a later snapshot of its baseline's
/// recording than its injection point `inject` (`None`: `start`), as [`engine::run_from_armed`]
/// runs it. The caller makes sure no trip the baseline asked for in between matches the fault.
pub fn case_journal_armed(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    case: &Case,
    inject: Option<&engine::Snapshot>,
    resume: &engine::Snapshot,
) -> Result<Journal, DrillError> {
    let sc = case_scenario(hub, case)?;
    engine::run_from_armed(cfg, hub, &sc, inject, resume)
}

/// Whether the fault of `case`, applied at once, changes nothing at `snap` (its injection
/// point): then a run is its baseline's from there on ([`engine::immediate_noop`]).
pub fn immediate_noop(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    case: &Case,
    snap: &engine::Snapshot,
) -> Result<bool, DrillError> {
    engine::immediate_noop(cfg, &case_scenario(hub, case)?, snap)
}
/// Runs the fault-free drill of a class and trigger, keeping a snapshot after the first run of
/// each step in `at` (the injection points of its cases) and every trip asked for.
pub fn record_baseline(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    class: &str,
    trigger: Trigger,
    at: &[String],
) -> Result<(Journal, engine::Recording), DrillError> {
    let sc = baseline_scenario(hub, class, trigger)?;
    engine::run_recording(cfg, hub, &sc, at)
}
/// Runs `jobs` on every core (each job its own sandbox); results in job order.
pub fn parallel<T: Sync, R: Send>(jobs: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    // Two jobs per core: a jailed step waits on namespace set-up and teardown (jail.rs), which
    // another job's work fills.
    let n = (2 * std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1))
    .min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let r = f(job);
                    // A lock poisoned by another job's panic still holds every result stored
                    // so far (the panic itself ends the scope below): never drop this one.
                    slots.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(r);
                }
            });
        }
    });
    // Every slot is filled: a job that panicked re-raises its panic at the end of the scope.
    slots
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}
/// `CDB_DRILL_FROM_SCRATCH=1`: every sweep case runs from scratch, no snapshot (to compare).
pub(super) fn from_scratch() -> bool {
    std::env::var_os("CDB_DRILL_FROM_SCRATCH").is_some_and(|v| v == "1")
}
pub fn run_cases<'a>(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    pairs: &[(&'a str, Trigger)],
    cases: &[&'a Case],
    share: bool,
) -> Result<(Vec<Baseline>, Vec<CaseResult>), DrillError> {
    let steps = super::hub_steps(hub);
    // (class, trigger, the overlays its stack starts with) → the injection points of its
    // cases. A fault that needs its own stack (the rollback pin) gets its own baseline, which
    // is not reported: it is the stack its cases run on, not a drill of the class.
    let mut groups: Vec<(&str, Trigger, Stack, Vec<String>)> = pairs
        .iter()
        .map(|(c, t)| (*c, *t, NO_OVERLAYS, Vec::new()))
        .collect();
    for c in cases {
        let stack = c.fault.start_overlays();
        let k = match groups
            .iter()
            .position(|(cl, t, o, _)| *cl == c.class && *t == c.trigger && *o == stack)
        {
            Some(k) => k,
            None => {
                groups.push((&c.class, c.trigger, stack, Vec::new()));
                groups.len() - 1
            }
        };
        if share && c.after != "start" && !groups[k].3.contains(&c.after) {
            groups[k].3.push(c.after.clone());
        }
        if share
            && let Some(p) = resume_step(&steps, c)
            && !groups[k].3.contains(&p)
        {
            groups[k].3.push(p);
        }
    }
    let plan_len = |class: &str, trigger: Trigger| class_steps(&steps, class, trigger).len();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&g| std::cmp::Reverse(plan_len(groups[g].0, groups[g].1)));
    let recorded = parallel(&order, |&g| {
        let (class, trigger, stack, at) = &groups[g];
        let sc = scenario(
            hub,
            &format!("{class}/{}/baseline", trigger.as_str()),
            &scenario_yaml_on(class, *trigger, None, stack),
        )?;
        engine::run_recording(cfg, hub, &sc, at)
    });
    let mut base_by_group: Vec<Option<(Baseline, engine::Recording)>> =
        (0..groups.len()).map(|_| None).collect();
    for (&g, r) in order.iter().zip(recorded) {
        let (j, mut rec) = r?;
        if !share {
            rec = engine::Recording::default();
        }
        let (class, trigger, _, _) = &groups[g];
        let mut reasons = j.verdict.reasons.clone();
        reasons.extend(j.gaps.iter().cloned());
        base_by_group[g] = Some((
            Baseline {
                class: (*class).to_owned(),
                trigger: *trigger,
                passed: j.verdict.passed && j.gaps.is_empty(),
                reasons,
            },
            rec,
        ));
    }
    let group_of = |c: &Case| -> Option<&(Baseline, engine::Recording)> {
        let stack = c.fault.start_overlays();
        let g = groups
            .iter()
            .position(|(cl, t, o, _)| *cl == c.class && *t == c.trigger && *o == stack)?;
        base_by_group[g].as_ref()
    };
    let snapshot_of = |c: &Case| -> Option<&engine::Snapshot> {
        group_of(c)?
            .1
            .snapshots
            .iter()
            .find(|s| s.after() == c.after)
    };
    // An armed fault's case from the snapshot before the first step that could trip it, when
    // the baseline asked for no matching trip from its injection point to there.
    let resume_of = |c: &Case, inject: Option<&engine::Snapshot>| -> Option<&engine::Snapshot> {
        if c.after != "start" && inject.is_none() {
            return None;
        }
        let p = resume_step(&steps, c)?;
        let rec = &group_of(c)?.1;
        let r = rec.snapshots.iter().find(|s| s.after() == p)?;
        let before: Vec<&str> = inject.map(|s| s.step_ids().collect()).unwrap_or_default();
        let follows =
            r.steps_run() > before.len() && r.step_ids().zip(&before).all(|(a, b)| a == *b);
        let seen = inject.map_or(0, engine::Snapshot::probes_seen);
        let trips = rec
            .probes
            .get(seen..r.probes_seen())?
            .iter()
            .any(|t| trip_matches(t, c));
        (follows && !trips).then_some(r)
    };
    let mut out: Vec<Option<CaseResult>> = vec![None; cases.len()];
    if share {
        for (i, c) in cases.iter().enumerate() {
            if let Some(r) = never_trips(c, group_of(c), snapshot_of(c)) {
                out[i] = Some(r);
            }
        }
    }
    // Longest first: the steps left to run after the snapshot (all of them without one).
    type Job<'s> = (
        usize,
        Option<&'s engine::Snapshot>,
        Option<&'s engine::Snapshot>,
        usize,
    );
    let mut jobs: Vec<Job> = cases
        .iter()
        .enumerate()
        .filter(|(i, _)| out[*i].is_none())
        .map(|(i, c)| {
            let snap = snapshot_of(c);
            let resume = if share { resume_of(c, snap) } else { None };
            let total = plan_len(&c.class, c.trigger);
            let done = resume.or(snap).map_or(0, |s| s.steps_run());
            (i, snap, resume, total.saturating_sub(done))
        })
        .collect();
    jobs.sort_by_key(|&(i, _, _, cost)| (std::cmp::Reverse(cost), i));
    let results = parallel(&jobs, |&(i, snap, resume, _)| {
        if let (Some(s), Some((base, rec))) = (snap, group_of(cases[i]))
            && base.passed
            && rec.failed_steps == 0
            && immediate_noop(cfg, hub, cases[i], s)?
        {
            // Applied there it changes nothing: the case is its clean baseline.
            return Ok((i, no_effect(cases[i])));
        }
        match resume {
            Some(r) => case_journal_armed(cfg, hub, cases[i], snap, r),
            None => case_journal(cfg, hub, cases[i], snap),
        }
        .map(|j| (i, classify(cases[i], &j)))
    });
    engine::drop_scratch_sandboxes();
    for r in results {
        let (i, r) = r?;
        out[i] = Some(r);
    }
    Ok((
        base_by_group
            .into_iter()
            .zip(&groups)
            .filter(|(_, (_, _, stack, _))| stack.is_empty())
            .filter_map(|(b, _)| b)
            .map(|(b, _)| b)
            .collect(),
        out.into_iter().flatten().collect(),
    ))
}

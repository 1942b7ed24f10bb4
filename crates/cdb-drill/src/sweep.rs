//! The sweep: every class × every applicable catalogue fault × every injection point, on
//! both triggers, each case a drill in its own sandbox, classified as detected and recovered,
//! detected but not recovered, undetected, or not applicable (the fault has no effect there).
//!
//! Planning is pure and lives in the model crate (`cdb_model::plan`), where the coverage rule
//! of `cdb-verify` uses it without running anything; this module runs and reports the cases.

use crate::engine::{self, Config, DrillError};
use crate::journal::{Event, Journal};
use cdb_model::faults::{CATALOGUE, Mechanism};
pub use cdb_model::plan::{
    Case, Plan, TRIGGERS, class_steps, hub_steps, leaked_files, plan, resume_step,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Recovered,
    DetectedNotRecovered,
    Undetected,
    NotApplicable,
}

impl Outcome {
    pub fn letter(self) -> char {
        match self {
            Outcome::Recovered => 'R',
            Outcome::DetectedNotRecovered => 'D',
            Outcome::Undetected => 'U',
            Outcome::NotApplicable => 'N',
        }
    }

    pub fn is_gap(self) -> bool {
        matches!(self, Outcome::DetectedNotRecovered | Outcome::Undetected)
    }
}

/// One classified case (one JSON object per case with `--format json`).
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    pub case: String,
    pub class: String,
    pub trigger: String,
    pub fault: String,
    pub target: Option<String>,
    pub after: String,
    pub outcome: Outcome,
    /// The first step that failed after the injection.
    pub detected_by: Option<String>,
    /// Every step that failed after the injection.
    pub failed: Vec<String>,
    /// For a gap: the verify steps of the class that ran after the injection (`id (path:line)`).
    pub should_have_caught: Vec<String>,
    pub reason: String,
    /// The case this one behaves as (not run itself).
    pub same_as: Option<String>,
    /// What the run's journal shows from the injection on ([`crate::report::excerpt`]), for a
    /// case the fault had an effect in (empty when not applicable, whether it ran or not, so
    /// the HTML page does not depend on which cases the sweep could decide without a run).
    #[serde(skip)]
    pub excerpt: Vec<String>,
}

/// Classifies a case's journal.
pub fn classify(case: &Case, j: &Journal) -> CaseResult {
    let kind = case.fault.kind();
    let inject_at = j
        .events
        .iter()
        .position(|e| matches!(e, Event::Inject { .. }));
    let tripped = j
        .events
        .iter()
        .any(|e| matches!(e, Event::Trip { fault, .. } if fault == kind));
    let after_inject = j.events.iter().skip(inject_at.unwrap_or(j.events.len()));
    let mut failed = Vec::new();
    let mut verify_ran = Vec::new();
    for e in after_inject {
        if let Event::Step(s) = e {
            if s.status != "passed" && !failed.contains(&s.id) {
                failed.push(s.id.clone());
            }
            let v = format!("{} ({})", s.id, s.doc);
            if s.phase == "verify" && !verify_ran.contains(&v) {
                verify_ran.push(v);
            }
        }
    }
    let all_ok = j.invariants.iter().all(|i| i.passed);
    let recovered = j.outcome == "recovered" && all_ok;
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
        trigger: case.trigger.to_owned(),
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

/// The scenario text of a case (or of a baseline without faults).
fn scenario_yaml(class: &str, trigger: &str, fault: Option<&Case>) -> String {
    let stack = fault.map_or(NO_OVERLAYS, |c| c.fault.start_overlays());
    scenario_yaml_on(class, trigger, fault, stack)
}

/// The overlays a stack starts with (beyond each class's own, `cdb_model::overlays`).
type Stack = &'static [&'static str];
const NO_OVERLAYS: Stack = &[];

/// [`scenario_yaml`] on a stack started with `stack`'s overlays (the rollback pin).
fn scenario_yaml_on(class: &str, trigger: &str, fault: Option<&Case>, stack: Stack) -> String {
    let mut y = format!(
        "title: sweep case\nclass: {class}\ntrigger: {trigger}\nbriefing: generated by the sweep\n"
    );
    if !stack.is_empty() {
        y.push_str(&format!("overlays: [{}]\n", stack.join(", ")));
    }
    if trigger == "leak" {
        let files = leaked_files(class).unwrap_or(&[]);
        let q: Vec<String> = files.iter().map(|f| format!("\"{f}\"")).collect();
        let _ = writeln!(y, "leaked: [{}]", q.join(", "));
    }
    if let Some(c) = fault {
        let _ = write!(
            y,
            "faults:\n  - kind: {}\n    after: {}\n",
            c.fault.kind(),
            c.after
        );
        if !c.target.is_empty() {
            let _ = writeln!(y, "    target: \"{}\"", c.target);
        }
    }
    y.push_str("expect:\n  outcome: recovered\n");
    y
}

fn scenario(
    hub: &cdb_docs::Hub,
    id: &str,
    yaml: &str,
) -> Result<cdb_model::scenario::Scenario, DrillError> {
    let mut sc = cdb_model::scenario::parse(yaml, &format!("(sweep) {id}"))?;
    sc.id = id.to_owned();
    sc.validate(hub)?;
    Ok(sc)
}

/// The fault-free drill of a class and trigger (a sweep's baseline).
pub(crate) fn baseline_scenario(
    hub: &cdb_docs::Hub,
    class: &str,
    trigger: &str,
) -> Result<cdb_model::scenario::Scenario, DrillError> {
    scenario(
        hub,
        &format!("{class}/{trigger}/baseline"),
        &scenario_yaml(class, trigger, None),
    )
}

fn case_scenario(
    hub: &cdb_docs::Hub,
    case: &Case,
) -> Result<cdb_model::scenario::Scenario, DrillError> {
    scenario(
        hub,
        &case.id(),
        &scenario_yaml(&case.class, case.trigger, Some(case)),
    )
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

/// Whether a trip asked for matches the armed fault of `case` (as `World::trip` matches).
fn trip_matches(p: &crate::world::Trip, case: &Case) -> bool {
    let target = (!case.target.is_empty()).then_some(case.target);
    p.kind == case.fault.kind() && (p.service.is_none() || p.service.as_deref() == target)
}

/// Runs the fault-free drill of a class and trigger, keeping a snapshot after the first run of
/// each step in `at` (the injection points of its cases) and every trip asked for.
pub fn record_baseline(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    class: &str,
    trigger: &str,
    at: &[String],
) -> Result<(Journal, engine::Recording), DrillError> {
    let sc = baseline_scenario(hub, class, trigger)?;
    engine::run_recording(cfg, hub, &sc, at)
}

/// A class and trigger run without any fault: every case assumes it passes.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    pub class: String,
    pub trigger: String,
    pub passed: bool,
    pub reasons: Vec<String>,
}

/// The result of a sweep.
#[derive(Debug, Default)]
pub struct Sweep {
    pub baselines: Vec<Baseline>,
    pub cases: Vec<CaseResult>,
}

impl Sweep {
    pub fn gaps(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| c.outcome.is_gap())
    }

    pub fn passed(&self) -> bool {
        self.baselines.iter().all(|b| b.passed) && self.gaps().next().is_none()
    }
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
                    if let Ok(mut g) = slots.lock() {
                        g[i] = Some(r);
                    }
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Plans and runs the sweep (optionally one class).
pub fn sweep(cfg: &Config, hub: &cdb_docs::Hub, class: Option<&str>) -> Result<Sweep, DrillError> {
    let steps = hub_steps(hub);
    let planned = plan(&steps, class);
    let to_run: Vec<&Case> = planned
        .iter()
        .filter(|(_, p)| *p == Plan::Run)
        .map(|(c, _)| c)
        .collect();
    let mut pairs: Vec<(&str, &'static str)> = Vec::new();
    for (c, _) in &planned {
        if !pairs.iter().any(|(k, t)| *k == c.class && *t == c.trigger) {
            pairs.push((&c.class, c.trigger));
        }
    }
    let (baselines, results) = run_cases(cfg, hub, &pairs, &to_run, !from_scratch())?;
    let mut ran = results.into_iter();
    let mut by_index: Vec<Option<CaseResult>> = vec![None; planned.len()];
    for (i, (case, p)) in planned.iter().enumerate() {
        let r = match p {
            Plan::Run => match ran.next() {
                Some(r) => r,
                None => continue,
            },
            Plan::Same(rep) => match by_index.get(*rep).and_then(Option::as_ref) {
                Some(r) => CaseResult {
                    case: case.id(),
                    after: case.after.clone(),
                    same_as: Some(r.case.clone()),
                    ..r.clone()
                },
                None => continue,
            },
            Plan::Static(why) => CaseResult {
                case: case.id(),
                class: case.class.clone(),
                trigger: case.trigger.to_owned(),
                fault: case.fault.id.to_owned(),
                target: (!case.target.is_empty()).then(|| case.target.to_owned()),
                after: case.after.clone(),
                outcome: Outcome::NotApplicable,
                detected_by: None,
                failed: Vec::new(),
                should_have_caught: Vec::new(),
                reason: why.clone(),
                same_as: None,
                excerpt: Vec::new(),
            },
        };
        by_index[i] = Some(r);
    }
    Ok(Sweep {
        baselines,
        cases: by_index.into_iter().flatten().collect(),
    })
}

/// The result of an armed-fault case decided from its baseline's recording: when the baseline
/// passed with every step passing and no trip asked for after the injection point matches the
/// fault, the case runs exactly as the baseline (an armed fault acts only when tripped) and a
/// run would classify it as not applicable. `None`: it must run.
fn never_trips(
    case: &Case,
    group: Option<&(Baseline, engine::Recording)>,
    snap: Option<&engine::Snapshot>,
) -> Option<CaseResult> {
    let Mechanism::Armed { .. } = case.fault.mechanism else {
        return None;
    };
    let (base, rec) = group?;
    if !base.passed {
        return None;
    }
    let seen = match snap {
        Some(s) => s.probes_seen(),
        None if case.after == "start" => 0,
        None => return None,
    };
    let trips = rec
        .probes
        .get(seen..)?
        .iter()
        .any(|p| trip_matches(p, case));
    if trips {
        return None;
    }
    Some(no_effect(case))
}

/// A case whose fault never took effect in a drill that otherwise is its passing baseline (every
/// step passing): what a run classifies it as.
fn no_effect(case: &Case) -> CaseResult {
    let target = (!case.target.is_empty()).then_some(case.target);
    CaseResult {
        case: case.id(),
        class: case.class.clone(),
        trigger: case.trigger.to_owned(),
        fault: case.fault.id.to_owned(),
        target: target.map(str::to_owned),
        after: case.after.clone(),
        outcome: Outcome::NotApplicable,
        detected_by: None,
        failed: Vec::new(),
        should_have_caught: Vec::new(),
        reason: "no effect: the fault never took effect at this point".to_owned(),
        same_as: None,
        excerpt: Vec::new(),
    }
}

/// `CDB_DRILL_FROM_SCRATCH=1`: every sweep case runs from scratch, no snapshot (to compare).
fn from_scratch() -> bool {
    std::env::var_os("CDB_DRILL_FROM_SCRATCH").is_some_and(|v| v == "1")
}

/// Runs `cases` on every core. With `share`, each class's fault-free prefix is shared: first
/// one baseline per class and trigger (the drill without faults, every case assumes it
/// passes), recorded with a snapshot after each step some case injects after and a log of
/// every trip the mocks asked for; then every case from the snapshot at its injection point,
/// so it runs only the steps from there on (a case injected at `start`, or after a step the
/// baseline never ran, runs from scratch). An armed fault that no trip asked for after its
/// injection point matches behaves exactly as the clean baseline: not applicable, without a
/// run. The results are the ones runs from scratch give (`tests/it/sweep.rs` compares them).
/// Jobs go longest first. Returns the baselines (of `pairs`, then of any other class and
/// trigger of `cases`) and the cases' results, in order.
pub fn run_cases<'a>(
    cfg: &Config,
    hub: &cdb_docs::Hub,
    pairs: &[(&'a str, &'static str)],
    cases: &[&'a Case],
    share: bool,
) -> Result<(Vec<Baseline>, Vec<CaseResult>), DrillError> {
    let steps = hub_steps(hub);
    // (class, trigger, the overlays its stack starts with) → the injection points of its
    // cases. A fault that needs its own stack (the rollback pin) gets its own baseline, which
    // is not reported: it is the stack its cases run on, not a drill of the class.
    let mut groups: Vec<(&str, &'static str, Stack, Vec<String>)> = pairs
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
    let plan_len = |class: &str, trigger: &str| class_steps(&steps, class, trigger).len();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&g| std::cmp::Reverse(plan_len(groups[g].0, groups[g].1)));
    let recorded = parallel(&order, |&g| {
        let (class, trigger, stack, at) = &groups[g];
        let sc = scenario(
            hub,
            &format!("{class}/{trigger}/baseline"),
            &scenario_yaml_on(class, trigger, None, stack),
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
                trigger: (*trigger).to_owned(),
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
            b.trigger,
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

/// One JSON object per case (baselines first, as `{"baseline": …}`).
pub fn json_lines(s: &Sweep) -> String {
    let mut out = String::new();
    for b in &s.baselines {
        let _ = writeln!(out, "{}", serde_json::json!({ "baseline": b }));
    }
    for c in &s.cases {
        let _ = writeln!(out, "{}", serde_json::to_string(c).unwrap_or_default());
    }
    out
}

/// Loads the hub for a sweep or mutation run (exit 2 when it cannot).
pub fn load_hub(root: &std::path::Path) -> Result<cdb_docs::Hub, DrillError> {
    cdb_docs::Hub::load(
        root,
        cdb_docs::Layout::default(),
        cdb_docs::hub::LoadOptions {
            text_files: false,
            parse_markdown: true,
        },
    )
    .map_err(|e| DrillError::Hub(format!("{}: cannot load the Docs Hub: {e}", root.display())))
}

/// `drill --sweep` and `drill --mutate`: exit 0 no gap, 1 gaps (or dead verify steps), 2 errors.
pub fn main(
    o: &crate::cli::Options,
    exe: &std::path::Path,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> u8 {
    let cfg = Config {
        root: o.root.clone(),
        seed: o.seed,
        step_timeout: o.step_timeout,
        mock_exe: exe.to_path_buf(),
    };
    if o.mutate {
        return crate::mutate::main(&cfg, o.class.as_deref(), o.format, out, err);
    }
    let hub = match load_hub(&o.root) {
        Ok(h) => h,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
    };
    if let Some(c) = &o.class
        && !cdb_model::faults::classes().contains(&c.as_str())
    {
        let _ = writeln!(
            err,
            "error: no catalogue fault applies to class `{c}` (classes: {})",
            cdb_model::faults::classes().join(", ")
        );
        return 2;
    }
    if let Err(e) = crate::summary::check_outputs(o.report.as_deref(), false, o.summary.as_deref())
    {
        let _ = writeln!(err, "error: {e}");
        return 2;
    }
    let s = match sweep(&cfg, &hub, o.class.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return 2;
        }
    };
    let text = match o.format {
        // Step ids and reasons come from the runbook: no control character reaches a terminal.
        crate::cli::Format::Human => cdb_secrets::escape_controls(&human(&s)).into_owned(),
        crate::cli::Format::Json => json_lines(&s),
        crate::cli::Format::Html => crate::page::html(&s, o.seed),
    };
    // `--report FILE`: the output goes there instead of stdout (the page CI uploads).
    match &o.report {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &text) {
                let _ = writeln!(err, "error: cannot write the report {}: {e}", p.display());
                return 2;
            }
        }
        None => {
            let _ = write!(out, "{text}");
        }
    }
    if let Some(p) = &o.summary
        && let Err(e) = crate::summary::append(p, &crate::summary::sweep(&s))
    {
        let _ = writeln!(err, "error: {e}");
        return 2;
    }
    if s.passed() {
        0
    } else {
        let _ = writeln!(
            err,
            "sweep: {} gap(s), {} failing baseline(s)",
            s.gaps().count(),
            s.baselines.iter().filter(|b| !b.passed).count()
        );
        1
    }
}

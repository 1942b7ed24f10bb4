//! The sweep's plan, decided from data alone: every class × applicable catalogue fault ×
//! injection point, on both triggers, and how each case is decided (run it, same as an
//! earlier case, or not applicable without running).
//!
//! Pure (no process, no sandbox): `cdb-drill`'s sweep runs the cases it plans, and the
//! coverage rule of `cdb-verify` (through [`crate::coverage`]) uses it without running
//! anything. Armed faults injected at points with no step between them that could trip them
//! behave identically, so only the first of each such group runs; the others say `same as`.

use crate::faults::{CATALOGUE, FaultSpec, Mechanism, Points};
use cdb_docs::{Phase, Step, Trigger};
use std::collections::BTreeMap;

/// The triggers the sweep runs every case on, in the order it runs them.
pub const TRIGGERS: &[Trigger] = &[Trigger::Routine, Trigger::Leak];

/// What leaks in a class's leak cases (files, or `ci:NAME`); `None`: no leak case for the class
/// (the world holds no value of it to leak).
pub fn leaked_files(class: &str) -> Option<&'static [&'static str]> {
    match class {
        "database" => Some(&["POSTGRES_PASSWORD", "POSTGRES_PASSWORD_DSN"]),
        "cache" => Some(&["REDIS_PASSWORD"]),
        "exchange" => Some(&["MEXC_TRADE_API_KEY", "MEXC_TRADE_API_SECRET"]),
        "monitoring" => Some(&["GRAFANA_PASSWORD"]),
        "alerting-mail" => Some(&["SMTP_PASSWORD"]),
        "ci" => Some(&["ci:AI_PROVIDER_API_KEY"]),
        // The past Docs Hub leak: the TLS private keys.
        "tls" => Some(&["ca.key", "redis.key", "postgres.key", "client.key"]),
        _ => None,
    }
}

/// The steps of `class` a drill on `trigger` plans, in document order (as the engine does).
pub fn class_steps<'a>(steps: &[&'a Step], class: &str, trigger: Trigger) -> Vec<&'a Step> {
    steps
        .iter()
        .copied()
        .filter(|s| s.class == class && s.when.applies_to(trigger))
        .collect()
}

/// Every step of the hub (runbook and playbook), in document order.
pub fn hub_steps(hub: &cdb_docs::Hub) -> Vec<&Step> {
    hub.docs.iter().flat_map(|d| d.steps.iter()).collect()
}

/// One sweep case.
#[derive(Clone, Debug)]
pub struct Case {
    pub class: String,
    /// `Leak` or `Routine` (one of [`TRIGGERS`]).
    pub trigger: Trigger,
    pub fault: &'static FaultSpec,
    pub target: &'static str,
    /// A step id, or `start`.
    pub after: String,
}

impl Case {
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}@{}",
            self.class,
            self.trigger.as_str(),
            self.fault.id,
            self.after
        )
    }
}

/// How a planned case is decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Run it.
    Run,
    /// Behaves as the case at this index (an armed fault with no possible trip in between).
    Same(usize),
    /// Not applicable, decided without running: why.
    Static(String),
}

/// The injection points of a fault in a class's plan: the start of the rotation (after the
/// last pre-check: a fault before it is a broken stack, which the pre-checks refuse to rotate)
/// and every rotate step (or the rotate steps that name the target file, for write faults).
fn points(plan: &[&Step], spec: &FaultSpec, target: &str) -> Vec<String> {
    let rotate = plan.iter().filter(|s| s.phase == Phase::Rotate);
    let start = plan
        .iter()
        .rfind(|s| s.phase == Phase::PreCheck)
        .map_or_else(|| "start".to_owned(), |s| s.id.clone());
    match spec.points {
        Points::Rotation => std::iter::once(start)
            .chain(rotate.map(|s| s.id.clone()))
            .collect(),
        Points::Writes => rotate
            .filter(|s| !target.is_empty() && s.body.contains(target))
            .map(|s| s.id.clone())
            .collect(),
    }
}

/// The steps that may run after `after` (rest of the rotate phase, then every later phase).
fn later<'a>(plan: &[&'a Step], after: &str) -> Vec<&'a Step> {
    let rotate: Vec<&Step> = plan
        .iter()
        .copied()
        .filter(|s| s.phase == Phase::Rotate)
        .collect();
    // `start` or a pre-check step: the whole rotate phase is still ahead.
    let from = rotate
        .iter()
        .position(|s| s.id == after)
        .map_or(0, |i| i + 1);
    rotate[from..]
        .iter()
        .copied()
        .chain(
            plan.iter()
                .copied()
                .filter(|s| !matches!(s.phase, Phase::Contain | Phase::PreCheck | Phase::Rotate)),
        )
        .collect()
}

/// The order a drill runs the steps of its plan when every step passes: phase by phase
/// (containment only on a leak), in document order within a phase.
fn run_order<'a>(plan: &[&'a Step], trigger: Trigger) -> Vec<&'a Step> {
    let contain: &[Phase] = if trigger == Trigger::Leak {
        &[Phase::Contain]
    } else {
        &[]
    };
    contain
        .iter()
        .chain(&[
            Phase::PreCheck,
            Phase::Rotate,
            Phase::Verify,
            Phase::Revoke,
            Phase::Communicate,
            Phase::PostCheck,
        ])
        .flat_map(|ph| plan.iter().copied().filter(move |s| s.phase == *ph))
        .collect()
}

/// For a case of an armed fault: the step after which its run can start instead of at its
/// injection point, the last step a passing drill runs before the first one after the
/// injection point that could trip the fault (until then the fault does nothing, so the drill
/// is its baseline's). `None`: that step comes right after the injection point, or none could
/// trip it. Whether the baseline really asked for no matching trip in between is checked
/// against its recording when the case runs.
pub fn resume_step(steps: &[&Step], case: &Case) -> Option<String> {
    let Mechanism::Armed { pattern, .. } = case.fault.mechanism else {
        return None;
    };
    let order = run_order(&class_steps(steps, &case.class, case.trigger), case.trigger);
    let from = if case.after == "start" {
        0
    } else {
        order.iter().position(|s| s.id == case.after)? + 1
    };
    let first = from
        + order[from..]
            .iter()
            .position(|s| crate::faults::could_trip(pattern, case.target, s))?;
    (first > from).then(|| order[first - 1].id.clone())
}

/// The whole sweep, planned without running anything: every case and how it is decided.
pub fn plan(steps: &[&Step], class_filter: Option<&str>) -> Vec<(Case, Plan)> {
    let mut out: Vec<(Case, Plan)> = Vec::new();
    let classes = crate::faults::classes();
    for class in classes
        .iter()
        .filter(|c| class_filter.is_none_or(|f| f == **c))
    {
        for &trigger in TRIGGERS {
            if trigger == Trigger::Leak && leaked_files(class).is_none() {
                continue;
            }
            let cplan = class_steps(steps, class, trigger);
            if !cplan.iter().any(|s| s.phase == Phase::Rotate) {
                continue;
            }
            for spec in CATALOGUE {
                let Some(target) = spec.target_in(class) else {
                    continue;
                };
                // Representatives of armed faults by the first step that could trip them.
                let mut reps: BTreeMap<String, usize> = BTreeMap::new();
                for after in points(&cplan, spec, target) {
                    let case = Case {
                        class: (*class).to_owned(),
                        trigger,
                        fault: spec,
                        target,
                        after: after.clone(),
                    };
                    let decided = match spec.mechanism {
                        Mechanism::Immediate { .. } => Plan::Run,
                        Mechanism::Armed { pattern, .. } => {
                            let first = later(&cplan, &after)
                                .into_iter()
                                .find(|s| crate::faults::could_trip(pattern, target, s));
                            match first {
                                None => Plan::Static(format!(
                                    "no effect: no step after `{after}` could trip it ({})",
                                    describe(pattern, target)
                                )),
                                Some(s) => match reps.get(&s.id) {
                                    Some(&i) => Plan::Same(i),
                                    None => {
                                        reps.insert(s.id.clone(), out.len());
                                        Plan::Run
                                    }
                                },
                            }
                        }
                    };
                    out.push((case, decided));
                }
            }
        }
    }
    out
}

fn describe(t: crate::faults::Trigger, target: &str) -> String {
    match t {
        crate::faults::Trigger::Body(b) => format!("none contains `{b}`"),
        crate::faults::Trigger::Effect(e) => format!("none applies `{e}…`"),
        crate::faults::Trigger::Tool => format!("none calls `{target}`"),
    }
}

/// A class and trigger the sweep leaves without a case that runs: no drill of the sweep ever
/// rotates that class on that trigger, so a broken runbook section would go unnoticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub class: String,
    pub trigger: Trigger,
    /// Why, in words (which of the plan's inputs is missing).
    pub why: &'static str,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "class `{}` has no {} sweep case: {}",
            self.class,
            self.trigger.as_str(),
            self.why
        )
    }
}

/// The classes of `classes` (the rotation matrix's) that lack, on either trigger, a sweep case
/// that runs (one decided statically as having no effect does not count), with the reason. A
/// class the matrix gains needs catalogue faults, its leaked files and rotate steps on both
/// triggers before the sweep drills it; this says which is missing.
pub fn class_gaps(classes: &[&str], steps: &[&Step]) -> Vec<Gap> {
    let planned = plan(steps, None);
    let catalogued = crate::faults::classes();
    let mut gaps = Vec::new();
    for class in classes {
        for &trigger in TRIGGERS {
            let runs = planned.iter().any(|(c, p)| {
                c.class == *class && c.trigger == trigger && !matches!(p, Plan::Static(_))
            });
            if runs {
                continue;
            }
            let why = if !catalogued.contains(class) {
                "no fault of the catalogue (`cdb_model::faults::CATALOGUE`) applies to it"
            } else if trigger == Trigger::Leak && leaked_files(class).is_none() {
                "no leaked files are known for it (`cdb_model::plan::leaked_files`)"
            } else if !class_steps(steps, class, trigger)
                .iter()
                .any(|s| s.phase == Phase::Rotate)
            {
                "it has no rotate step on this trigger (`when=`)"
            } else {
                "no catalogue fault can take effect at any of its injection points"
            };
            gaps.push(Gap {
                class: (*class).to_owned(),
                trigger,
                why,
            });
        }
    }
    gaps
}

/// [`class_gaps`] for every class of the hub's rotation matrix; `None` when the matrix is
/// missing or does not parse (`verify` reports that).
pub fn matrix_gaps(hub: &cdb_docs::Hub) -> Option<Vec<Gap>> {
    let matrix = hub.matrix()?;
    let classes: Vec<&str> = matrix.classes.iter().map(|c| c.id.value.as_str()).collect();
    Some(class_gaps(&classes, &hub_steps(hub)))
}

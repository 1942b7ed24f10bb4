//! Static coverage: which verify and rollback steps some drill case would run, decided from
//! data alone (the hub's steps, the scenarios' class and trigger, the fault catalogue), so
//! `cdb-verify`'s `step-unexercised` rule stays fast and read-only.
//!
//! A class and trigger is exercised when a scenario of it exists or the sweep runs a case of
//! it (a catalogue fault applies and has an injection point where it can take effect). Its
//! verify steps run in every such case; its rollback steps run after a failed verify, which
//! every detected case has, and only on their trigger (`when=routine`, `when=leak`).

use crate::plan::{self, Plan};
use cdb_docs::{Phase, Step, Trigger};
use std::collections::BTreeSet;
use std::path::Path;

/// The (class, trigger) of every scenario under `root/drills` that parses (others are the
/// drill's and `cargo xtask drill`'s to report).
pub fn scenarios(root: &Path) -> Vec<(String, Trigger)> {
    crate::scenario::list(root)
        .iter()
        .filter_map(|id| crate::scenario::load(root, id).ok())
        .map(|s| {
            // Unvalidated: a trigger other than `leak` counts as routine, as it always has (the
            // drill reports the scenario; the coverage only asks for more, never fewer).
            let t = match s.trigger.value.parse::<Trigger>() {
                Ok(Trigger::Leak) => Trigger::Leak,
                _ => Trigger::Routine,
            };
            (s.class.value, t)
        })
        .collect()
}

/// The (class, trigger) pairs of the sweep cases that run (not decided statically as no-effect).
pub fn sweep_pairs(steps: &[&Step]) -> Vec<(String, Trigger)> {
    let mut v: Vec<(String, Trigger)> = plan::plan(steps, None)
        .into_iter()
        .filter(|(_, p)| !matches!(p, Plan::Static(_)))
        .map(|(c, _)| (c.class, c.trigger))
        .collect();
    // By the trigger's text, the order this list had when it held strings.
    v.sort_by(|a, b| (a.0.as_str(), a.1.as_str()).cmp(&(b.0.as_str(), b.1.as_str())));
    v.dedup();
    v
}

/// Whether a step is one the coverage rule asks about.
pub fn is_checked(s: &Step) -> bool {
    matches!(s.phase, Phase::Verify | Phase::Rollback)
}

/// The ids of the verify and rollback steps that some scenario or sweep case runs.
pub fn exercised(steps: &[&Step], scenarios: &[(String, Trigger)]) -> BTreeSet<String> {
    let mut pairs = sweep_pairs(steps);
    pairs.extend(scenarios.iter().cloned());
    steps
        .iter()
        .filter(|s| is_checked(s))
        .filter(|s| {
            pairs
                .iter()
                .any(|(class, trigger)| *class == s.class && s.when.applies_to(*trigger))
        })
        .map(|s| s.id.clone())
        .collect()
}

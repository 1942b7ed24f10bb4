//! Properties: for random fault sequences and seeds a drill never panics, is deterministic
//! (same seed, same journal) and either every invariant holds or the verdict reports it.

use crate::mock_exe;
use cdb_drill::engine::{self, Config};
use cdb_model::faults::CATALOGUE;
use proptest::prelude::*;
use std::time::Duration;

fn scenario(class: &str, faults: &[(usize, usize)], points: &[String]) -> String {
    let mut y = format!("title: prop\nclass: {class}\ntrigger: routine\nbriefing: b\nfaults:\n");
    let specs: Vec<_> = CATALOGUE
        .iter()
        .filter(|f| f.target_in(class).is_some())
        .collect();
    for (fi, pi) in faults {
        let f = specs[fi % specs.len()];
        let t = f.target_in(class).unwrap_or("");
        y.push_str(&format!(
            "  - kind: {}\n    after: {}\n",
            f.kind(),
            points[pi % points.len()]
        ));
        if !t.is_empty() {
            y.push_str(&format!("    target: \"{t}\"\n"));
        }
    }
    y.push_str("expect:\n  outcome: recovered\n");
    y
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 8, .. ProptestConfig::default() })]
    #[test]
    fn drills_never_panic_are_deterministic_and_report_broken_invariants(
        class_i in 0usize..3,
        faults in proptest::collection::vec((0usize..32, 0usize..16), 1..3),
        seed in 0u64..1000,
    ) {
        let class = ["database", "cache", "monitoring"][class_i];
        let root = crate::workspace();
        let hub = cdb_drill::sweep::load_hub(&root).unwrap();
        let steps = cdb_drill::sweep::hub_steps(&hub);
        let points: Vec<String> = cdb_drill::sweep::class_steps(&steps, class, cdb_docs::Trigger::Routine)
            .iter()
            .filter(|s| s.phase == cdb_docs::Phase::Rotate)
            .map(|s| s.id.clone())
            .collect();
        let mut sc = cdb_model::scenario::parse(&scenario(class, &faults, &points), "prop.yaml").unwrap();
        sc.id = "prop".into();
        let sc = sc.validate(&hub).unwrap();
        let cfg = Config { root, seed, step_timeout: Duration::from_secs(10), mock_exe: mock_exe() };
        let a = engine::run_scenario(&cfg, &hub, &sc).unwrap();
        let b = engine::run_scenario(&cfg, &hub, &sc).unwrap();
        prop_assert_eq!(a.to_json(), b.to_json(), "same seed, same journal");
        for i in a.invariants.iter().filter(|i| !i.passed) {
            prop_assert!(!a.verdict.passed);
            prop_assert!(a.verdict.reasons.iter().any(|r| r.contains(&i.name)), "{} not reported", i.name);
        }
    }
}

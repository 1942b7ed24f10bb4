//! The shipped runbook handles every shipped scenario as the scenario expects.

use crate::{drill, fixture};

#[test]
fn every_shipped_scenario_passes() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    let ids = cdb_drill::scenario::list(d.path());
    for want in [
        "leak-db",
        "leak-cache",
        "leak-exchange-key",
        "failed-rotation-monitoring",
        "leak-ci-secret",
        "exchange-console-refuses",
        "routine-db-straggler",
        "leak-grafana-admin",
    ] {
        assert!(ids.iter().any(|i| i == want), "missing scenario {want}");
    }
    let (code, out, err) = drill(&["--all", "--root", root]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.matches("VERDICT: PASS").count(), ids.len(), "{out}");
}

#[test]
fn the_escalation_scenario_ends_escalated_and_safe() {
    let d = fixture();
    let (code, out, err) = drill(&[
        "exchange-console-refuses",
        "--root",
        d.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["outcome"], "escalated");
    let inv = j["invariants"].as_array().unwrap();
    for name in ["trading-paused", "leaked-values-dead"] {
        let i = inv.iter().find(|i| i["name"] == name).unwrap();
        assert_eq!(i["passed"], true, "{i}");
    }
}

//! The shipped runbook handles every shipped scenario as the scenario expects.

use crate::{drill, fixture};

#[test]
fn every_shipped_scenario_passes() {
    let run = crate::all_run::all_run();
    let ids = cdb_model::scenario::list(&run.root);
    for want in [
        "leak-db",
        "leak-cache",
        "leak-cache-live-connection",
        "leak-exchange-key",
        "failed-rotation-monitoring",
        "leak-ci-secret",
        "exchange-console-refuses",
        "routine-db-straggler",
        "leak-grafana-admin",
    ] {
        assert!(ids.iter().any(|i| i == want), "missing scenario {want}");
    }
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout.matches("VERDICT: PASS").count(),
        ids.len(),
        "{}",
        run.stdout
    );
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

/// `docs/drill-world.md` shows the behaviour table of `behaviour.rs`, unchanged: the page
/// cannot drift from what the world implements.
#[test]
fn drill_world_page_shows_the_behaviour_table() {
    let page = std::fs::read_to_string(crate::workspace().join("docs/drill-world.md")).unwrap();
    let start = "<!-- behaviour-table:start -->\n";
    let end = "<!-- behaviour-table:end -->";
    let a = page.find(start).expect("start marker") + start.len();
    let b = page.find(end).expect("end marker");
    let want = cdb_drill::behaviour::markdown();
    if std::env::var_os("CDB_BLESS").is_some() {
        let fixed = format!("{}{}{}", &page[..a], want, &page[b..]);
        std::fs::write(crate::workspace().join("docs/drill-world.md"), fixed).unwrap();
        return;
    }
    assert_eq!(
        &page[a..b],
        want,
        "docs/drill-world.md's behaviour table differs from behaviour.rs (CDB_BLESS=1 rewrites it)"
    );
}

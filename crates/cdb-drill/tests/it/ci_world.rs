//! GitHub Actions as the real repository has it (issue 12, defect 9; crates/cdb-drill/src/ci.rs):
//! no workflow needs the production Redis/PostgreSQL/Grafana passwords, `e2e.yml` cannot be
//! dispatched, and a dispatched run is listed only a moment later. On the world before this,
//! the first body passed without a violation, `gh workflow run e2e.yml` succeeded, and the
//! newest run right after a dispatch was the dispatched one.

const MATRIX: &str = "version: 1
review: {last_reviewed: 2026-11-01, cadence: quarterly, reviewer: o, procedure: docs/r.md#q}
services: {cdb-blue: [cdb_redis]}
owners: [{id: o, role: Owner, contact: '@org/team', escalation: null}]
classes:
  - {id: ci, title: CI, owner: o, backup_owner: o, cadence: 90d, scope: [cdb_redis],
     secrets: [GH_APP_PRIVATE_KEY], last_rotated: null, runbook: docs/r.md#ci,
     inventory: docs/i.md#ci, rto: 2h, approvals: {routine: [o], emergency: [o]}}
";

fn statuses(j: &serde_json::Value) -> Vec<String> {
    j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "step")
        .map(|e| e["status"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn pushing_a_production_password_no_workflow_needs_is_a_violation() {
    let (code, j) = crate::run_tiny(
        MATRIX,
        "ci",
        "10s",
        &["gh secret set REDIS_PASSWORD < \"$SECRETS_PATH/REDIS_PASSWORD\" 2>/dev/null"],
        &[],
    );
    assert_eq!(code, 1, "{j:#}");
    assert!(
        j.to_string()
            .contains("pushed the production value into GitHub Actions, which no workflow needs"),
        "{j:#}"
    );
}

#[test]
fn e2e_yml_cannot_be_dispatched_and_a_dispatched_run_shows_a_moment_later() {
    let ev = "gh run list --workflow e2e-tests.yml --limit 1 --json event --jq '.[0].event'";
    let bodies = [
        "! gh workflow run e2e.yml 2>/dev/null".to_owned(),
        // Right after the dispatch the newest run is last week's scheduled one; the next
        // listing shows the dispatched run.
        format!("gh workflow run e2e-tests.yml 2>/dev/null && test \"$({ev})\" = schedule && test \"$({ev})\" = workflow_dispatch"),
        "gh run list --workflow e2e-tests.yml --json databaseId,createdAt --jq '.[] | [.databaseId, .createdAt] | @tsv' | grep -Ec '^[0-9]+\t20[0-9-]+T[0-9:]+Z$' | grep -qx 2".to_owned(),
        // The SMTP copies e2e-tests.yml requires are in Actions.
        "gh secret list | cut -f1 | grep -qx SMTP_PASSWORD".to_owned(),
    ];
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let (code, j) = crate::run_tiny(MATRIX, "ci", "10s", &refs, &[]);
    let s = statuses(&j);
    assert_eq!(s.len(), bodies.len(), "{j:#}");
    for (n, st) in s.iter().enumerate() {
        assert_eq!(st, "passed", "step {n}: {j:#}");
    }
    assert_eq!(code, 0, "{j:#}");
}

//! GitHub Actions as the real repository has it (issue 12, defect 9; crates/cdb-drill/src/ci.rs):
//! no workflow needs the production Redis/PostgreSQL/Grafana passwords, `e2e.yml` cannot be
//! dispatched, and a dispatched run is listed only a moment later. On the world before this,
//! the first body passed without a violation, `gh workflow run e2e.yml` succeeded, and the
//! newest run right after a dispatch was the dispatched one.

use crate::dispatch::Stack;

#[test]
fn pushing_a_production_password_no_workflow_needs_is_a_violation() {
    let mut s = Stack::new(10);
    let pw = s.secret("REDIS_PASSWORD");
    // `gh secret set REDIS_PASSWORD < "$SECRETS_PATH/REDIS_PASSWORD"`.
    s.call_with("gh", &["secret", "set", "REDIS_PASSWORD"], &pw, &[]);
    // What the `no-forbidden-action` invariant names.
    let v: Vec<String> = s.w.violations.iter().map(|v| v.detail.clone()).collect();
    assert!(
        v.iter().any(|d| d
            .contains("pushed the production value into GitHub Actions, which no workflow needs")),
        "{v:?}"
    );
}

#[test]
fn e2e_yml_cannot_be_dispatched_and_a_dispatched_run_shows_a_moment_later() {
    let mut s = Stack::new(10);
    assert_ne!(s.call("gh", &["workflow", "run", "e2e.yml"]).code, 0);
    s.step();
    // Right after the dispatch the newest run is last week's scheduled one; the next
    // listing shows the dispatched run.
    s.call("gh", &["workflow", "run", "e2e-tests.yml"]).ok();
    let ev = [
        "run",
        "list",
        "--workflow",
        "e2e-tests.yml",
        "--limit",
        "1",
        "--json",
        "event",
        "--jq",
        ".[0].event",
    ];
    assert_eq!(s.call("gh", &ev).ok(), "schedule\n");
    assert_eq!(s.call("gh", &ev).ok(), "workflow_dispatch\n");
    s.step();
    let o = s.call(
        "gh",
        &[
            "run",
            "list",
            "--workflow",
            "e2e-tests.yml",
            "--json",
            "databaseId,createdAt",
            "--jq",
            ".[] | [.databaseId, .createdAt] | @tsv",
        ],
    );
    // `^[0-9]+\t20[0-9-]+T[0-9:]+Z$`, twice.
    let runs: Vec<&str> = o
        .ok()
        .lines()
        .filter(|l| {
            let Some((id, at)) = l.split_once('\t') else {
                return false;
            };
            let Some((date, time)) = at.strip_suffix('Z').and_then(|a| a.split_once('T')) else {
                return false;
            };
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && date.starts_with("20")
                && date.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                && !time.is_empty()
                && time.bytes().all(|b| b.is_ascii_digit() || b == b':')
        })
        .collect();
    assert_eq!(runs.len(), 2, "{o:?}");
    s.step();
    // The SMTP copies e2e-tests.yml requires are in Actions.
    let o = s.call("gh", &["secret", "list"]);
    assert!(
        o.ok()
            .lines()
            .any(|l| l.split('\t').next() == Some("SMTP_PASSWORD")),
        "{o:?}"
    );
    assert!(s.w.violations.is_empty(), "{:?}", s.w.violations);
}

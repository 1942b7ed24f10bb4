//! PostgreSQL and Grafana in the drill world behave as the real servers do (issue 11,
//! divergences 2, 4 and 7; `docs/real-server-facts.md`). Each test drives the mocks through
//! bash, as a runbook step does, and fails on the world before issue 11: there a session died
//! with its password, `pg_terminate_backend` ignored its `WHERE`, the exporter read the DSN,
//! `docker logs` did not exist, an empty password logged in, any datasource uid worked (and the
//! sandbox exported one), and Grafana had neither sessions nor a lockout.

use crate::mocks::MATRIX;

const MONITORING: &str = "version: 1
review: {last_reviewed: 2026-11-01, cadence: quarterly, reviewer: o, procedure: docs/r.md#q}
services: {cdb-red: [cdb_grafana]}
owners: [{id: o, role: Owner, contact: '@org/team', escalation: null}]
classes:
  - {id: monitoring, title: Monitoring, owner: o, backup_owner: o, cadence: 90d, scope: [cdb_grafana],
     secrets: [GRAFANA_PASSWORD], last_rotated: null, runbook: docs/r.md#monitoring,
     inventory: docs/i.md#monitoring, rto: 30m, approvals: {routine: [o], emergency: [o]}}
";

/// Every step passed (the bodies are assertions).
fn all_passed(code: u8, j: &serde_json::Value) {
    let failed: Vec<String> = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "step" && e["status"] != "passed")
        .map(|e| e.to_string())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}\n{j:#}");
    assert_eq!(code, 0, "{j:#}");
}

fn invariant(j: &serde_json::Value, name: &str) -> (bool, String) {
    let i = j["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no invariant {name}: {j:#}"));
    (
        i["passed"] == true,
        i["detail"].as_str().unwrap_or("").to_owned(),
    )
}

/// SQL on stdin to the server over the local socket, tuples only.
const PSQL: &str =
    "docker exec -i cdb_postgres psql -U claire_user -d claire_de_binare -v ON_ERROR_STOP=1 -qtA";
const COUNT_CLIENTS: &str = "SELECT count(*) FROM pg_stat_activity WHERE usename = 'claire_user' AND backend_type = 'client backend' AND pid <> pg_backend_pid();";

#[test]
fn sessions_survive_alter_role_and_terminate_honours_its_where() {
    let alter = format!(
        "openssl rand -hex 16 > \"$TMPDIR/new\" && printf \"ALTER ROLE claire_user PASSWORD '%s';\\nSELECT ceil(extract(epoch FROM now()))::bigint;\\n\" \"$(cat \"$TMPDIR/new\")\" | {PSQL} > \"$TMPDIR/cut\" && grep -qx '[0-9]*' \"$TMPDIR/cut\""
    );
    let (code, j) = crate::run_tiny(
        MATRIX,
        "database",
        "1m",
        &[
            // Eight consumers hold a pooled session each (Grafana connects on its first query); the
            // launcher runs as claire_user too.
            &format!("test \"$(printf \"%s\" \"{COUNT_CLIENTS}\" | {PSQL})\" = 8"),
            &format!(
                "test \"$(printf \"SELECT count(*) FROM pg_stat_activity WHERE usename = 'claire_user' AND backend_type = 'logical replication launcher';\" | {PSQL})\" = 1"
            ),
            &alter,
            // After ALTER ROLE every session lives on, and the exporter's ping still passes.
            &format!("test \"$(printf \"%s\" \"{COUNT_CLIENTS}\" | {PSQL})\" = 8"),
            "curl -fsS http://127.0.0.1:9187/metrics | grep -qx 'pg_up 1'",
            // A WHERE that selects nothing ends nothing.
            &format!(
                "test -z \"$(printf \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'nobody';\" | {PSQL})\""
            ),
            &format!("test \"$(printf \"%s\" \"{COUNT_CLIENTS}\" | {PSQL})\" = 8"),
            // Client sessions before the cut-off end; pools reconnect with what they read at
            // their start (the old password), are refused, and the server logs each refusal.
            &format!(
                "test \"$(printf \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'claire_user' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND backend_start < to_timestamp(%s);\" \"$(cat \"$TMPDIR/cut\")\" | {PSQL} | grep -cx t)\" = 8"
            ),
            &format!("test \"$(printf \"%s\" \"{COUNT_CLIENTS}\" | {PSQL})\" = 0"),
            "curl -fsS http://127.0.0.1:9187/metrics | grep -qx 'pg_up 0'",
            "test \"$(docker logs --since \"$(cat \"$TMPDIR/cut\")\" cdb_postgres 2>&1 | grep -c 'FATAL:  password authentication failed for user \"claire_user\"')\" -ge 7",
            // The launcher is still there: the WHERE kept it out.
            &format!(
                "test \"$(printf \"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'logical replication launcher';\" | {PSQL})\" = 1"
            ),
        ],
        &[],
    );
    // The consumers were left on the old password on purpose: the final invariant sees it.
    let failed: Vec<String> = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "step" && e["status"] != "passed")
        .map(|e| e.to_string())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(code, 1);
    assert!(!invariant(&j, "services-healthy").0);
}

#[test]
fn terminating_by_user_alone_ends_the_replication_launcher() {
    let (code, j) = crate::run_tiny(
        MATRIX,
        "database",
        "1m",
        &[&format!(
            "printf \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'claire_user' AND pid <> pg_backend_pid();\" | {PSQL} | grep -cx t | grep -qx 9"
        )],
        &[],
    );
    let (ok, detail) = invariant(&j, "no-forbidden-action");
    assert!(!ok && detail.contains("launcher"), "{detail}\n{j:#}");
    assert_eq!(code, 1);
}

#[test]
fn own_session_ends_when_the_where_selects_it() {
    let (code, j) = crate::run_tiny(
        MATRIX,
        "database",
        "1m",
        &[&format!(
            "rc=0; out=\"$(printf \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend';\" | {PSQL} 2>&1)\" || rc=$?; test \"$rc\" = 2 && printf '%s' \"$out\" | grep -q 'terminating connection due to administrator command'"
        )],
        &[],
    );
    // The consumers' sessions ended too, and their pools reconnected with the right password.
    all_passed(code, &j);
}

#[test]
fn server_clock_log_empty_password_and_the_exporter() {
    let (code, j) = crate::run_tiny(
        MATRIX,
        "database",
        "1m",
        &[
            // The server's clock is the Docker VM's, ahead of the host's `date`.
            &format!(
                "test \"$(printf 'SELECT floor(extract(epoch FROM now()))::bigint;' | {PSQL})\" = \"$(( $(date -u +%s) + 300 ))\""
            ),
            // A refused login is in the server's log, with the server's time.
            "! PGPASSWORD=wrong docker exec -e PGPASSWORD cdb_postgres psql -h cdb_postgres -U claire_user -d claire_de_binare -tAc 'SELECT 1' 2>/dev/null",
            "docker logs -t cdb_postgres 2>&1 | grep -q 'UTC \\[[0-9]*\\] FATAL:  password authentication failed for user \"claire_user\"'",
            "test \"$(docker logs --since 1h cdb_postgres 2>&1 | grep -c 'password authentication failed')\" = 1",
            // The exporter logs in with the password file (PGPASSWORD), never the DSN file.
            "printf 'not-a-uri-at-all' > \"$SECRETS_PATH/POSTGRES_PASSWORD_DSN\" && docker compose -f compose.red.yml up -d --no-deps --force-recreate cdb_postgres_exporter >/dev/null 2>&1 && curl -fsS http://127.0.0.1:9187/metrics | grep -qx 'pg_up 1'",
            // An empty password clears the role's password: nobody logs in, not even with none.
            &format!(
                "printf \"ALTER ROLE claire_user PASSWORD '';\" | {PSQL} 2>&1 | grep -q 'clearing password'"
            ),
            "! PGPASSWORD= docker exec -e PGPASSWORD cdb_postgres psql -h cdb_postgres -U claire_user -d claire_de_binare -tAc 'SELECT 1' 2>/dev/null",
        ],
        &[],
    );
    let failed: Vec<String> = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "step" && e["status"] != "passed")
        .map(|e| e.to_string())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    // The role was left without a password on purpose.
    assert_eq!(code, 1);
}

#[test]
fn grafana_datasource_is_found_by_name_and_no_uid_is_exported() {
    let auth = "printf 'user = \"admin:%s\"\\n' \"$(cat \"$SECRETS_PATH/GRAFANA_PASSWORD\")\"";
    let (code, j) = crate::run_tiny(
        MONITORING,
        "monitoring",
        "1m",
        &[
            "test -z \"${GRAFANA_PG_DS_UID:-}\"",
            &format!(
                "! {auth} | curl -fsS -K - http://127.0.0.1:3000/api/datasources/uid/cdb-postgres/health 2>/dev/null"
            ),
            &format!(
                "uid=\"$({auth} | curl -fsS -K - http://127.0.0.1:3000/api/datasources/name/PostgreSQL | sed -n 's/.*\"uid\":\"\\([^\"]*\\)\".*/\\1/p')\" && test -n \"$uid\" && {auth} | curl -fsS -K - \"http://127.0.0.1:3000/api/datasources/uid/$uid/health\" | grep -q '\"status\":\"OK\"'"
            ),
            &format!(
                "! {auth} | curl -fsS -K - http://127.0.0.1:3000/api/datasources/name/Postgres 2>/dev/null"
            ),
        ],
        &[],
    );
    all_passed(code, &j);
}

#[test]
fn grafana_blocks_the_admin_after_five_failed_logins() {
    let good = "printf 'user = \"admin:%s\"\\n' \"$(cat \"$SECRETS_PATH/GRAFANA_PASSWORD\")\"";
    let bad = "printf 'user = \"admin:wrong-password\"\\n'";
    let (code, j) = crate::run_tiny(
        MONITORING,
        "monitoring",
        "10s",
        &[
            &format!(
                "for i in 1 2 3 4 5; do ! {bad} | curl -fsS -o /dev/null -K - http://127.0.0.1:3000/api/user 2>/dev/null; done"
            ),
            // The right password is refused too, within five minutes.
            &format!(
                "{good} | curl -sS -K - http://127.0.0.1:3000/api/user | grep -q 'temporarily blocked'"
            ),
        ],
        &[],
    );
    all_passed(code, &j);
}

/// A leak drill of one monitoring step: the leaker's Grafana session outlives the CLI reset.
fn leak_drill(bodies: &[&str]) -> (u8, serde_json::Value) {
    let d = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "Claire_de_Binare_Docs/data/secret-rotation-matrix.yaml",
        MONITORING,
    );
    let mut md = String::from("# Runbook\n\n## monitoring\n\n");
    for (i, b) in bodies.iter().enumerate() {
        md.push_str(&format!(
            "```bash {{#monitoring-rotate-s{i} .step class=monitoring phase=rotate time=10s}}\n{b}\n```\n\n"
        ));
    }
    write(crate::RUNBOOK, &md);
    write(
        "drills/t.yaml",
        "title: t\nclass: monitoring\ntrigger: leak\nbriefing: b\nleaked: [GRAFANA_PASSWORD]\nexpect: {outcome: recovered}\n",
    );
    let (code, out, err) = crate::drill(&[
        "t",
        "--root",
        d.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}")),
    )
}

const RESET: &str = "openssl rand -hex 16 | tr -d '\\n' > \"$TMPDIR/n\" && docker exec -i cdb_grafana grafana cli admin reset-admin-password --password-from-stdin < \"$TMPDIR/n\" >/dev/null && cp \"$TMPDIR/n\" \"$SECRETS_PATH/GRAFANA_PASSWORD\"";

#[test]
fn a_leaked_grafana_session_outlives_the_password_reset_until_logout() {
    let list = "printf 'user = \"admin:%s\"\\n' \"$(cat \"$SECRETS_PATH/GRAFANA_PASSWORD\")\" | curl -fsS -K - http://127.0.0.1:3000/api/admin/users/1/auth-tokens";
    let (_, j) = leak_drill(&[RESET, &format!("{list} | grep -q '\"clientIp\"'")]);
    let (ok, detail) = invariant(&j, "leaked-values-dead");
    assert!(
        !ok && detail.contains("Grafana admin session"),
        "{detail}\n{j:#}"
    );

    let logout = "printf 'user = \"admin:%s\"\\n' \"$(cat \"$SECRETS_PATH/GRAFANA_PASSWORD\")\" | curl -fsS -o /dev/null -K - -X POST http://127.0.0.1:3000/api/admin/users/1/logout";
    let (_, j) = leak_drill(&[RESET, logout, &format!("test \"$({list})\" = '[]'")]);
    let (ok, detail) = invariant(&j, "leaked-values-dead");
    assert!(ok, "{detail}\n{j:#}");
}

/// Inserts `step` (a whole fenced block) into the fixture's runbook before the block `before`.
fn insert_before(root: &std::path::Path, before: &str, step: &str) {
    let p = root.join(crate::RUNBOOK);
    let text = std::fs::read_to_string(&p).unwrap();
    let at = text.find(&format!("```bash {{#{before} ")).unwrap();
    std::fs::write(&p, format!("{}{step}\n\n{}", &text[..at], &text[at..])).unwrap();
}

#[test]
fn the_database_rotation_keeps_the_dsn_query_parameters() {
    let root = crate::fixture();
    insert_before(
        root.path(),
        "database-pre-check-current-credential",
        "```bash {#database-pre-check-t-dsn-param .step class=database phase=pre-check time=5s}\nprintf '?sslmode=verify-ca' >> \"$SECRETS_PATH/POSTGRES_PASSWORD_DSN\" && docker compose -f compose.red.yml up -d --no-deps --force-recreate cdb_reports >/dev/null 2>&1\n```",
    );
    insert_before(
        root.path(),
        "database-verify-grafana-datasource",
        "```bash {#database-verify-t-dsn-param .step class=database phase=verify time=5s}\ngrep -q '@cdb_postgres:5432/claire_de_binare?sslmode=verify-ca$' \"$SECRETS_PATH/POSTGRES_PASSWORD_DSN\"\n```",
    );
    std::fs::write(
        root.path().join("drills/t.yaml"),
        "title: t\nclass: database\ntrigger: routine\nbriefing: b\nexpect: {outcome: recovered}\n",
    )
    .unwrap();
    let (code, out, err) = crate::drill(&[
        "t",
        "--root",
        root.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let j: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}"));
    all_passed(code, &j);
}

//! PostgreSQL and Grafana in the drill world behave as the real servers do (issue 11,
//! divergences 2, 4 and 7; `docs/real-server-facts.md`). Each test calls the mocks in process
//! (`crate::dispatch`) as the runbook steps it replaced did, and fails on the world before
//! issue 11 (the ones that need a drill say why): there a session died
//! with its password, `pg_terminate_backend` ignored its `WHERE`, the exporter read the DSN,
//! `docker logs` did not exist, an empty password logged in, any datasource uid worked (and the
//! sandbox exported one), and Grafana had neither sessions nor a lockout.

use crate::dispatch::{Out, Stack};

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

/// SQL on stdin to the server over the local socket, tuples only.
const PSQL: [&str; 11] = [
    "exec",
    "-i",
    "cdb_postgres",
    "psql",
    "-U",
    "claire_user",
    "-d",
    "claire_de_binare",
    "-v",
    "ON_ERROR_STOP=1",
    "-qtA",
];
const COUNT_CLIENTS: &str = "SELECT count(*) FROM pg_stat_activity WHERE usename = 'claire_user' AND backend_type = 'client backend' AND pid <> pg_backend_pid();";

/// `printf SQL | docker exec -i cdb_postgres psql … -qtA`.
fn psql(s: &mut Stack, sql: &str) -> Out {
    s.call_with("docker", &PSQL, sql, &[])
}

/// A password login over TCP (`-h cdb_postgres`), with `PGPASSWORD` passed by `-e`.
fn tcp_login(s: &mut Stack, password: &str) -> Out {
    s.call_with(
        "docker",
        &[
            "exec",
            "-e",
            "PGPASSWORD",
            "cdb_postgres",
            "psql",
            "-h",
            "cdb_postgres",
            "-U",
            "claire_user",
            "-d",
            "claire_de_binare",
            "-tAc",
            "SELECT 1",
        ],
        "",
        &[("PGPASSWORD", password)],
    )
}

/// `docker logs ARGS… cdb_postgres`, standard output and error (`2>&1`).
fn pg_log(s: &mut Stack, args: &[&str]) -> String {
    let argv = [&["logs"], args, &["cdb_postgres"]].concat();
    s.call("docker", &argv).both()
}

fn count_clients(s: &mut Stack) -> String {
    psql(s, COUNT_CLIENTS).ok().trim_end().to_owned()
}

#[test]
fn sessions_survive_alter_role_and_terminate_honours_its_where() {
    let mut s = Stack::new(60);
    // Eight consumers hold a pooled session each (Grafana connects on its first query); the
    // launcher runs as claire_user too.
    assert_eq!(count_clients(&mut s), "8");
    s.step();
    let o = psql(
        &mut s,
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'claire_user' AND backend_type = 'logical replication launcher';",
    );
    assert_eq!(o.ok(), "1\n");
    s.step();
    let new = s
        .call("openssl", &["rand", "-hex", "16"])
        .ok()
        .trim_end()
        .to_owned();
    let o = psql(
        &mut s,
        &format!(
            "ALTER ROLE claire_user PASSWORD '{new}';\nSELECT ceil(extract(epoch FROM now()))::bigint;\n"
        ),
    );
    let cut = o.ok().trim_end().to_owned();
    assert!(
        !cut.is_empty() && cut.bytes().all(|b| b.is_ascii_digit()),
        "{o:?}"
    );
    s.step();
    // After ALTER ROLE every session lives on, and the exporter's ping still passes.
    assert_eq!(count_clients(&mut s), "8");
    s.step();
    let m = s.call("curl", &["-fsS", "http://127.0.0.1:9187/metrics"]);
    assert!(m.ok().lines().any(|l| l == "pg_up 1"), "{m:?}");
    s.step();
    // A WHERE that selects nothing ends nothing.
    let o = psql(
        &mut s,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'nobody';",
    );
    assert_eq!(o.ok(), "");
    s.step();
    assert_eq!(count_clients(&mut s), "8");
    s.step();
    // Client sessions before the cut-off end; pools reconnect with what they read at
    // their start (the old password), are refused, and the server logs each refusal.
    let o = psql(
        &mut s,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'claire_user' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND backend_start < to_timestamp({cut});"
        ),
    );
    assert_eq!(o.ok().lines().filter(|l| *l == "t").count(), 8, "{o:?}");
    s.step();
    assert_eq!(count_clients(&mut s), "0");
    s.step();
    let m = s.call("curl", &["-fsS", "http://127.0.0.1:9187/metrics"]);
    assert!(m.ok().lines().any(|l| l == "pg_up 0"), "{m:?}");
    s.step();
    let log = pg_log(&mut s, &["--since", &cut]);
    let refused = log
        .lines()
        .filter(|l| l.contains("FATAL:  password authentication failed for user \"claire_user\""))
        .count();
    assert!(refused >= 7, "{log}");
    s.step();
    // The launcher is still there: the WHERE kept it out.
    let o = psql(
        &mut s,
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'logical replication launcher';",
    );
    assert_eq!(o.ok(), "1\n");
    // The consumers were left on the old password on purpose: the final invariant sees it.
    assert!(!s.sick().is_empty());
}

#[test]
fn terminating_by_user_alone_ends_the_replication_launcher() {
    let mut s = Stack::new(60);
    let o = psql(
        &mut s,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'claire_user' AND pid <> pg_backend_pid();",
    );
    assert_eq!(o.ok().lines().filter(|l| *l == "t").count(), 9, "{o:?}");
    // What the `no-forbidden-action` invariant names.
    let v: Vec<String> = s.w.violations.iter().map(|v| v.detail.clone()).collect();
    assert!(v.iter().any(|d| d.contains("launcher")), "{v:?}");
}

#[test]
fn own_session_ends_when_the_where_selects_it() {
    let mut s = Stack::new(60);
    let o = psql(
        &mut s,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend';",
    );
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.both()
            .contains("terminating connection due to administrator command"),
        "{o:?}"
    );
    // The consumers' sessions ended too, and their pools reconnected with the right password.
    assert!(s.sick().is_empty(), "{:?}", s.sick());
    assert!(s.w.violations.is_empty(), "{:?}", s.w.violations);
}

#[test]
fn server_clock_log_empty_password_and_the_exporter() {
    let mut s = Stack::new(60);
    // The server's clock is the Docker VM's, ahead of the host's `date`.
    let now = psql(&mut s, "SELECT floor(extract(epoch FROM now()))::bigint;")
        .ok()
        .trim_end()
        .to_owned();
    let host: u64 = s
        .call("date", &["-u", "+%s"])
        .ok()
        .trim_end()
        .parse()
        .unwrap();
    assert_eq!(now, (host + 300).to_string());
    s.step();
    // A refused login is in the server's log, with the server's time.
    assert_ne!(tcp_login(&mut s, "wrong").code, 0);
    s.step();
    let log = pg_log(&mut s, &["-t"]);
    let line = log
        .lines()
        .find(|l| l.ends_with("FATAL:  password authentication failed for user \"claire_user\""))
        .unwrap_or_else(|| panic!("{log}"));
    let pid = line
        .split("UTC [")
        .nth(1)
        .and_then(|r| r.split("] FATAL:  ").next())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()),
        "{line}"
    );
    s.step();
    let log = pg_log(&mut s, &["--since", "1h"]);
    assert_eq!(
        log.matches("password authentication failed").count(),
        1,
        "{log}"
    );
    s.step();
    // The exporter logs in with the password file (PGPASSWORD), never the DSN file.
    s.write_secret("POSTGRES_PASSWORD_DSN", "not-a-uri-at-all");
    s.docker("compose -f compose.red.yml up -d --no-deps --force-recreate cdb_postgres_exporter")
        .ok();
    let m = s.call("curl", &["-fsS", "http://127.0.0.1:9187/metrics"]);
    assert!(m.ok().lines().any(|l| l == "pg_up 1"), "{m:?}");
    s.step();
    // An empty password clears the role's password: nobody logs in, not even with none.
    let o = psql(&mut s, "ALTER ROLE claire_user PASSWORD '';");
    assert!(o.both().contains("clearing password"), "{o:?}");
    s.step();
    assert_ne!(tcp_login(&mut s, "").code, 0);
    // The role was left without a password on purpose.
    assert!(!s.sick().is_empty());
}

/// `user = "admin:PASSWORD"`, the curl config the steps pipe to `curl -K -`.
fn curl_auth(password: &str) -> String {
    format!("user = \"admin:{password}\"\n")
}

/// `printf 'user = …' | curl ARGS… -K - URL` (the password never on the command line).
fn grafana(s: &mut Stack, password: &str, args: &[&str]) -> Out {
    let argv = [&["-K", "-"], args].concat();
    s.call_with("curl", &argv, &curl_auth(password), &[])
}

/// Through bash: the claim is about the environment every step gets (sandbox.rs), which no
/// mock sees.
#[test]
fn no_grafana_datasource_uid_is_exported_to_the_steps() {
    let (code, j) = crate::run_tiny(
        MONITORING,
        "monitoring",
        "1m",
        &["test -z \"${GRAFANA_PG_DS_UID:-}\""],
        &[],
    );
    all_passed(code, &j);
}

#[test]
fn grafana_datasource_is_found_by_name_not_by_a_fixed_uid() {
    let mut s = Stack::new(60);
    let pw = s.secret("GRAFANA_PASSWORD");
    let o = grafana(
        &mut s,
        &pw,
        &[
            "-fsS",
            "http://127.0.0.1:3000/api/datasources/uid/cdb-postgres/health",
        ],
    );
    assert_ne!(o.code, 0, "{o:?}");
    s.step();
    let o = grafana(
        &mut s,
        &pw,
        &[
            "-fsS",
            "http://127.0.0.1:3000/api/datasources/name/PostgreSQL",
        ],
    );
    let body = o.ok().to_owned();
    let uid = body
        .split("\"uid\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();
    assert!(!uid.is_empty(), "{body}");
    let url = format!("http://127.0.0.1:3000/api/datasources/uid/{uid}/health");
    let o = grafana(&mut s, &pw, &["-fsS", &url]);
    assert!(o.ok().contains("\"status\":\"OK\""), "{o:?}");
    s.step();
    let o = grafana(
        &mut s,
        &pw,
        &[
            "-fsS",
            "http://127.0.0.1:3000/api/datasources/name/Postgres",
        ],
    );
    assert_ne!(o.code, 0, "{o:?}");
    assert!(s.sick().is_empty(), "{:?}", s.sick());
}

#[test]
fn grafana_blocks_the_admin_after_five_failed_logins() {
    let mut s = Stack::new(10);
    for _ in 0..5 {
        let o = grafana(
            &mut s,
            "wrong-password",
            &["-fsS", "-o", "/dev/null", "http://127.0.0.1:3000/api/user"],
        );
        assert_ne!(o.code, 0, "{o:?}");
    }
    s.step();
    // The right password is refused too, within five minutes.
    let pw = s.secret("GRAFANA_PASSWORD");
    let o = grafana(&mut s, &pw, &["-sS", "http://127.0.0.1:3000/api/user"]);
    assert!(o.out.contains("temporarily blocked"), "{o:?}");
}

/// `openssl rand -hex 16 | tr -d '\\n' > n && docker exec -i cdb_grafana grafana cli admin
/// reset-admin-password --password-from-stdin < n && cp n "$SECRETS_PATH/GRAFANA_PASSWORD"`.
fn reset(s: &mut Stack) {
    let n = s
        .call("openssl", &["rand", "-hex", "16"])
        .ok()
        .trim_end()
        .to_owned();
    let argv = [
        "exec",
        "-i",
        "cdb_grafana",
        "grafana",
        "cli",
        "admin",
        "reset-admin-password",
        "--password-from-stdin",
    ];
    s.call_with("docker", &argv, &n, &[]).ok();
    s.write_secret("GRAFANA_PASSWORD", &n);
}

#[test]
fn a_leaked_grafana_session_outlives_the_password_reset_until_logout() {
    let tokens = "http://127.0.0.1:3000/api/admin/users/1/auth-tokens";
    let mut s = Stack::new(10);
    s.leak(&["GRAFANA_PASSWORD"]);
    reset(&mut s);
    s.step();
    let pw = s.secret("GRAFANA_PASSWORD");
    let o = grafana(&mut s, &pw, &["-fsS", tokens]);
    assert!(o.ok().contains("\"clientIp\""), "{o:?}");
    // What the `leaked-values-dead` invariant names.
    let alive: Vec<String> = s.w.leaked.iter().flat_map(|v| s.w.accepted_by(v)).collect();
    assert!(
        alive.iter().any(|a| a.contains("Grafana admin session")),
        "{alive:?}"
    );

    let mut s = Stack::new(10);
    s.leak(&["GRAFANA_PASSWORD"]);
    reset(&mut s);
    s.step();
    let pw = s.secret("GRAFANA_PASSWORD");
    grafana(
        &mut s,
        &pw,
        &[
            "-fsS",
            "-o",
            "/dev/null",
            "-X",
            "POST",
            "http://127.0.0.1:3000/api/admin/users/1/logout",
        ],
    )
    .ok();
    s.step();
    assert_eq!(grafana(&mut s, &pw, &["-fsS", tokens]).ok(), "[]");
    let alive: Vec<String> = s.w.leaked.iter().flat_map(|v| s.w.accepted_by(v)).collect();
    assert!(alive.is_empty(), "{alive:?}");
}

/// Inserts `step` (a whole fenced block) into the fixture's runbook before the block `before`.
fn insert_before(root: &std::path::Path, before: &str, step: &str) {
    let p = root.join(crate::RUNBOOK);
    let text = std::fs::read_to_string(&p).unwrap();
    let at = text.find(&format!("```bash {{#{before} ")).unwrap();
    std::fs::write(&p, format!("{}{step}\n\n{}", &text[..at], &text[at..])).unwrap();
}

/// Through bash: the claim is about the shipped runbook's own rotation steps.
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

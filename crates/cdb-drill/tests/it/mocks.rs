//! The mocks' real semantics, called in process (`crate::dispatch`); what needs bash, the
//! engine's judging or a step's time limit runs a tiny runbook generated at test time.

use crate::dispatch::Stack;

pub const MATRIX: &str = "version: 1
review: {last_reviewed: 2026-11-01, cadence: quarterly, reviewer: o, procedure: docs/r.md#q}
services: {cdb-blue: [cdb_postgres]}
owners: [{id: o, role: Owner, contact: '@org/team', escalation: null}]
classes:
  - {id: database, title: Database, owner: o, backup_owner: o, cadence: 90d, scope: [cdb_postgres],
     secrets: [POSTGRES_PASSWORD], last_rotated: null, runbook: docs/r.md#database,
     inventory: docs/i.md#database, rto: 30m, approvals: {routine: [o], emergency: [o]}}
";

fn json(bodies: &[&str], extra: &[&str]) -> (u8, serde_json::Value) {
    crate::run_tiny(MATRIX, "database", "1m", bodies, extra)
}

fn step_status(j: &serde_json::Value, n: usize) -> String {
    j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "step")
        .nth(n)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn real_semantics_the_runbooks_rely_on() {
    let mut s = Stack::new(60);
    let psql = ["exec", "cdb_postgres", "psql"];
    let tcp = |host: &'static str| {
        [
            "exec",
            "-e",
            "PGPASSWORD",
            "cdb_postgres",
            "psql",
            "-h",
            host,
            "-U",
            "claire_user",
            "-d",
            "claire_de_binare",
            "-tAc",
            "SELECT 1",
        ]
    };
    // psql -c sends a variable reference as is: a syntax error, not an interpolation.
    let o = s.call(
        "docker",
        &[
            &psql[..],
            &[
                "-U",
                "claire_user",
                "-d",
                "claire_de_binare",
                "-c",
                "ALTER ROLE claire_user PASSWORD :'pw'",
            ],
        ]
        .concat(),
    );
    assert_ne!(o.code, 0, "{o:?}");
    // The default role inside the container is root, which does not exist.
    let o = s.call("docker", &[&psql[..], &["-c", "SELECT 1"]].concat());
    assert_ne!(o.code, 0, "{o:?}");
    // A wrong password over TCP fails with exit 2.
    let o = s.call_with(
        "docker",
        &tcp("cdb_postgres"),
        "",
        &[("PGPASSWORD", "wrong")],
    );
    assert_eq!(o.code, 2, "{o:?}");
    // Inside the container the image's pg_hba.conf trusts loopback: a wrong password logs in,
    // which is why the runbook tests passwords with -h cdb_postgres.
    let o = s.call_with("docker", &tcp("127.0.0.1"), "", &[("PGPASSWORD", "wrong")]);
    assert_eq!(o.ok(), "1\n");
    // Without -e the exec'd psql does not see the caller's variable.
    let pw = s.secret("POSTGRES_PASSWORD");
    let mut no_e = tcp("cdb_postgres").to_vec();
    no_e.drain(1..3);
    let o = s.call_with("docker", &no_e, "", &[("PGPASSWORD", &pw)]);
    assert!(o.both().contains("no password supplied"), "{o:?}");
    // A restart runs the entrypoint again, which re-reads the file; `/health` stays constant.
    let redis = s.secret("REDIS_PASSWORD");
    s.write_secret("REDIS_PASSWORD", "xxx");
    s.docker("compose -f compose.blue.yml restart cdb_market");
    s.call("curl", &["-fsS", "http://127.0.0.1:8009/health"])
        .ok();
    s.write_secret("REDIS_PASSWORD", &redis);
    s.docker("compose -f compose.blue.yml restart cdb_market");
    // Any host but the stack's 127.0.0.1 endpoints is unresolvable.
    assert_eq!(s.call("curl", &["-fsS", "https://example.com/"]).code, 6);
    // redis-cli without credentials: NOAUTH, exit 0.
    let o = s.docker("exec cdb_redis redis-cli PING");
    assert_eq!(o.ok(), "NOAUTH Authentication required.\n");
    // openssl rand is seeded and hex.
    let o = s.call("openssl", &["rand", "-hex", "4"]);
    let hex = o.text();
    assert!(
        hex.len() == 8
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{o:?}"
    );
    // What the drill's final invariants would name: nothing.
    assert!(s.sick().is_empty(), "{:?}", s.sick());
    assert!(s.w.violations.is_empty(), "{:?}", s.w.violations);
}

/// Through bash: the claim is the drill's verdict on a step (the invariants the engine judges,
/// the transcript of `cat` that only bash prints, and the journal's redaction of it).
#[test]
fn leaks_and_destruction_are_violations() {
    let (code, j) = json(
        &[
            "REDISCLI_AUTH=x docker exec cdb_redis redis-cli -a \"$(cat \"$SECRETS_PATH/REDIS_PASSWORD\")\" --no-auth-warning PING",
            "docker compose -f compose.blue.yml down -v 2>/dev/null; docker compose -f compose.blue.yml up -d 2>/dev/null",
            "cat \"$SECRETS_PATH/GRAFANA_PASSWORD\"",
        ],
        &[],
    );
    assert_eq!(code, 1);
    let inv = j["invariants"].as_array().unwrap();
    let failed: Vec<&str> = inv
        .iter()
        .filter(|i| i["passed"] == false)
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    for name in [
        "no-secret-in-argv",
        "no-forbidden-action",
        "no-secret-in-transcript",
    ] {
        assert!(failed.contains(&name), "{name} should fail: {j:#}");
    }
    let text = j.to_string();
    assert!(
        text.contains("[secret:GRAFANA_PASSWORD]"),
        "the journal redacts: {text}"
    );
}

/// Through bash: the claim is the engine's time limit on a step's shell.
#[test]
fn a_hanging_step_times_out_instead_of_hanging() {
    let start = std::time::Instant::now();
    let (code, j) = json(&["while :; do :; done"], &["--timeout", "1"]);
    assert_eq!(code, 1);
    assert_eq!(step_status(&j, 0), "timed-out");
    assert!(start.elapsed().as_secs() < 8);
}

/// Issue 11, divergence 1: health proves what the Compose files' checks prove, nothing more.
/// A Python service recreated on a password Redis refuses still answers `/health` 200 and shows
/// healthy (its handler is constant); `cdb_risk`, which validates its credentials at start
/// (behaviour `auth-at-start`), exits instead. The old world turned both unhealthy.
#[test]
fn health_proves_nothing_about_a_refused_credential() {
    let mut s = Stack::new(60);
    s.write_secret("REDIS_PASSWORD", "not-the-password");
    s.docker("compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_market cdb_risk");
    let o = s.call("curl", &["-fsS", "http://127.0.0.1:8009/health"]);
    assert!(o.ok().contains("\"ok\""), "{o:?}");
    assert_eq!(
        s.inspect("{{.State.Health.Status}}", "cdb_market"),
        "healthy"
    );
    assert_eq!(s.inspect("{{.State.Running}}", "cdb_risk"), "false");
    // The world knows better than the checks: the final invariant names the refused credential.
    let sick = s.sick();
    assert!(
        sick.iter().any(|p| p.starts_with("cdb_market: ")),
        "{sick:?}"
    );
}

/// Issue 11, divergence 4: entrypoints read `$(cat /run/secrets/…)` at every start, through a
/// bind mount of the host file. A file edited in place is what a restart reads; one replaced
/// by rename is not (the mount keeps the old inode until the container is recreated). The old
/// world kept what a container read at creation across every restart.
#[test]
fn a_restart_rereads_files_edited_in_place_but_not_replaced_by_rename() {
    // In place (`printf … >`, as `std::fs::write`: the same inode).
    let mut s = Stack::new(60);
    s.write_secret("REDIS_PASSWORD", "not-the-password");
    s.docker("restart cdb_risk").ok();
    assert_eq!(
        s.inspect("{{.State.Running}}", "cdb_risk"),
        "false",
        "in place"
    );

    // Replaced by rename (`mv`: a new inode).
    let mut s = Stack::new(60);
    let f = s.secrets().join("REDIS_PASSWORD");
    std::fs::write(f.with_extension("tmp"), "not-the-password").unwrap();
    std::fs::rename(f.with_extension("tmp"), &f).unwrap();
    s.docker("restart cdb_risk").ok();
    assert_eq!(
        s.inspect("{{.State.Running}}", "cdb_risk"),
        "true",
        "renamed"
    );
    s.docker("compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_risk");
    assert_eq!(
        s.inspect("{{.State.Running}}", "cdb_risk"),
        "false",
        "recreated"
    );
}

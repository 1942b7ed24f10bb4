//! A tiny runbook generated at test time exercises the mocks' real semantics through bash.

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
    let (code, j) = json(
        &[
            // psql -c sends a variable reference as is: a syntax error, not an interpolation.
            "! docker exec cdb_postgres psql -U claire_user -d claire_de_binare -c \"ALTER ROLE claire_user PASSWORD :'pw'\" 2>/dev/null",
            // The default role inside the container is root, which does not exist.
            "! docker exec cdb_postgres psql -c 'SELECT 1' 2>/dev/null",
            // A wrong password over TCP fails with exit 2.
            "PGPASSWORD=wrong docker exec -e PGPASSWORD cdb_postgres psql -h cdb_postgres -U claire_user -d claire_de_binare -tAc 'SELECT 1' || test $? = 2",
            // Inside the container the image's pg_hba.conf trusts loopback: a wrong password logs in,
            // which is why the runbook tests passwords with -h cdb_postgres.
            "PGPASSWORD=wrong docker exec -e PGPASSWORD cdb_postgres psql -h 127.0.0.1 -U claire_user -d claire_de_binare -tAc 'SELECT 1' | grep -qx 1",
            // Without -e the exec'd psql does not see the caller's variable.
            "{ PGPASSWORD=\"$(cat \"$SECRETS_PATH/POSTGRES_PASSWORD\")\" docker exec cdb_postgres psql -h cdb_postgres -U claire_user -d claire_de_binare -tAc 'SELECT 1' 2>&1 || true; } | grep -q 'no password supplied'",
            // A restart runs the entrypoint again, which re-reads the file; `/health` stays constant.
            "cp \"$SECRETS_PATH/REDIS_PASSWORD\" \"$TMPDIR/r\"; printf 'x%.0s' 1 2 3 > \"$SECRETS_PATH/REDIS_PASSWORD\"; docker compose -f compose.blue.yml restart cdb_market 2>/dev/null; curl -fsS http://127.0.0.1:8009/health >/dev/null; cp \"$TMPDIR/r\" \"$SECRETS_PATH/REDIS_PASSWORD\"; docker compose -f compose.blue.yml restart cdb_market 2>/dev/null",
            // Any host but the stack's 127.0.0.1 endpoints is unresolvable.
            "curl -fsS https://example.com/ 2>/dev/null || test $? = 6",
            // redis-cli without credentials: NOAUTH, exit 0.
            "docker exec cdb_redis redis-cli PING | grep -qx 'NOAUTH Authentication required.'",
            // openssl rand is seeded and hex.
            "openssl rand -hex 4 | grep -Eqx '[0-9a-f]{8}'",
        ],
        &[],
    );
    assert_eq!(code, 0, "{j:#}");
    for n in 0..8 {
        assert_eq!(step_status(&j, n), "passed", "step {n}: {j:#}");
    }
}

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
    let (code, j) = json(
        &[
            "printf 'not-the-password' > \"$SECRETS_PATH/REDIS_PASSWORD\"
docker compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_market cdb_risk 2>/dev/null
curl -fsS http://127.0.0.1:8009/health | grep -q '\"ok\"'
test \"$(docker inspect -f '{{.State.Health.Status}}' cdb_market)\" = healthy
test \"$(docker inspect -f '{{.State.Running}}' cdb_risk)\" = false",
        ],
        &[],
    );
    assert_eq!(step_status(&j, 0), "passed", "{j:#}");
    // The world knows better than the checks: the final invariant names the refused credential.
    assert_eq!(code, 1, "{j:#}");
    assert!(j.to_string().contains("cdb_market"), "{j:#}");
}

/// Issue 11, divergence 4: entrypoints read `$(cat /run/secrets/…)` at every start, through a
/// bind mount of the host file. A file edited in place is what a restart reads; one replaced
/// by rename is not (the mount keeps the old inode until the container is recreated). The old
/// world kept what a container read at creation across every restart.
#[test]
fn a_restart_rereads_files_edited_in_place_but_not_replaced_by_rename() {
    let (_, j) = json(
        &[
            "printf 'not-the-password' > \"$SECRETS_PATH/REDIS_PASSWORD\"
docker restart cdb_risk >/dev/null
test \"$(docker inspect -f '{{.State.Running}}' cdb_risk)\" = false",
        ],
        &[],
    );
    assert_eq!(step_status(&j, 0), "passed", "in place: {j:#}");
    let (_, j) = json(
        &[
            "printf 'not-the-password' > \"$SECRETS_PATH/REDIS_PASSWORD.tmp\"
mv \"$SECRETS_PATH/REDIS_PASSWORD.tmp\" \"$SECRETS_PATH/REDIS_PASSWORD\"
docker restart cdb_risk >/dev/null
test \"$(docker inspect -f '{{.State.Running}}' cdb_risk)\" = true
docker compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_risk 2>/dev/null
test \"$(docker inspect -f '{{.State.Running}}' cdb_risk)\" = false",
        ],
        &[],
    );
    assert_eq!(step_status(&j, 0), "passed", "renamed: {j:#}");
}

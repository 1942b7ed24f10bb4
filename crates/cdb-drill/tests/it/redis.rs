//! Redis in the drill world behaves as the real server does (docs/real-server-facts.md, pinned by
//! crates/cdb-lab's `redis.rs` on a real server): connections survive password changes until
//! they are killed, `CLIENT KILL` honours its filters, a restart re-reads the password file and
//! drops runtime ACL state, and a leaker's connection keeps a leaked value alive. Each test runs
//! bash steps through the mocks, so it fails on a world without connections (issue 11,
//! divergences 2 and 4) and passes on this one.

/// One class, `cache`, with a tiny runbook of pre-check steps.
const MATRIX: &str = "version: 1
review: {last_reviewed: 2026-11-01, cadence: quarterly, reviewer: o, procedure: docs/r.md#q}
services: {cdb-blue: [cdb_redis]}
owners: [{id: o, role: Owner, contact: '@org/team', escalation: null}]
classes:
  - {id: cache, title: Cache, owner: o, backup_owner: o, cadence: 90d, scope: [cdb_redis],
     secrets: [REDIS_PASSWORD], last_rotated: null, runbook: docs/r.md#cache,
     inventory: docs/i.md#cache, rto: 30m, approvals: {routine: [o], emergency: [o]}}
";

/// Runs `bodies` as the cache class's pre-check steps (each advancing the clock by 1m) in a
/// drill of the given trigger; `leak` leaks REDIS_PASSWORD.
fn run(leak: bool, bodies: &[&str]) -> (u8, serde_json::Value) {
    let d = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "Claire_de_Binare_Docs/data/secret-rotation-matrix.yaml",
        MATRIX,
    );
    let mut md = String::from("# Runbook\n\n## cache\n\n");
    for (i, b) in bodies.iter().enumerate() {
        md.push_str(&format!(
            "```bash {{#cache-pre-check-s{i} .step class=cache phase=pre-check time=1m}}\n{b}\n```\n\n"
        ));
    }
    write(crate::RUNBOOK, &md);
    let (trigger, leaked) = if leak {
        ("leak", "leaked: [REDIS_PASSWORD]\n")
    } else {
        ("routine", "")
    };
    write(
        "drills/t.yaml",
        &format!(
            "title: t\nclass: cache\ntrigger: {trigger}\nbriefing: b\n{leaked}expect: {{outcome: recovered}}\n"
        ),
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

fn steps(j: &serde_json::Value) -> Vec<(String, String)> {
    j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "step")
        .map(|e| {
            (
                e["status"].as_str().unwrap_or_default().to_owned(),
                format!(
                    "{}{}",
                    e["stdout"].as_str().unwrap_or_default(),
                    e["stderr"].as_str().unwrap_or_default()
                ),
            )
        })
        .collect()
}

fn assert_all_passed(j: &serde_json::Value, n: usize) {
    let s = steps(j);
    assert_eq!(s.len(), n, "{j:#}");
    for (i, (status, out)) in s.iter().enumerate() {
        assert_eq!(status, "passed", "step {i}: {out}\n{j:#}");
    }
}

fn invariant(j: &serde_json::Value, name: &str) -> (bool, String) {
    let i = j["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no invariant {name}: {j:#}"));
    (
        i["passed"].as_bool().unwrap(),
        i["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

/// `rc ARGS…`: redis-cli in cdb_redis, authenticated with the password file.
const RC: &str = "rc() { REDISCLI_AUTH=\"$(cat \"$SECRETS_PATH/REDIS_PASSWORD\")\" docker exec -i -e REDISCLI_AUTH cdb_redis redis-cli \"$@\"; }
ip() { docker inspect -f '{{.NetworkSettings.Networks.cdb_network.IPAddress}}' \"$1\"; }
";

#[test]
fn connections_survive_a_password_change_until_killed_then_reconnect_with_what_they_hold() {
    let s0 = format!(
        "{RC}# Every Python service that mounts redis_password holds a connection, by its address.
rc CLIENT LIST | grep -F \" addr=$(ip cdb_market):\" | grep -q ' user=default '
test \"$(rc CLIENT LIST | grep -c '^id=')\" -ge 11"
    );
    // CONFIG SET requirepass replaces the password; live connections stay (cdb-lab:
    // connection_survives_config_set_requirepass). The old value gets WRONGPASS on a new login.
    let s1 = format!(
        "{RC}cp \"$SECRETS_PATH/REDIS_PASSWORD\" \"$SECRETS_PATH/old\"
openssl rand -hex 16 > \"$SECRETS_PATH/new\"
printf 'CONFIG SET requirepass %s\\n' \"$(cat \"$SECRETS_PATH/new\")\" | rc | grep -qx OK
cp \"$SECRETS_PATH/new\" \"$SECRETS_PATH/REDIS_PASSWORD\"
rc CLIENT LIST | grep -qF \" addr=$(ip cdb_market):\"
test \"$(REDISCLI_AUTH=\"$(cat \"$SECRETS_PATH/old\")\" docker exec -e REDISCLI_AUTH cdb_redis redis-cli PING 2>&1)\" != PONG"
    );
    // CLIENT KILL USER default SKIPME yes ends every other connection; each consumer reconnects
    // with the value it read at start, is refused, and the ACL LOG counts the failures.
    let s2 = format!(
        "{RC}n=\"$(rc CLIENT KILL USER default SKIPME yes)\"
test \"$n\" -ge 10
! rc CLIENT LIST | grep -qF \" addr=$(ip cdb_market):\"
test \"$(rc CLIENT LIST | grep -c '^id=')\" = 1
rc ACL LOG | grep -qx auth
rc ACL LOG | sed -n 2p | grep -Eqx '[0-9]+'"
    );
    let (_, j) = run(false, &[&s0, &s1, &s2]);
    assert_all_passed(&j, 3);
    // The world's truth: consumers on the old value are unhealthy now.
    let (ok, detail) = invariant(&j, "services-healthy");
    assert!(!ok && detail.contains("cdb_market"), "{detail}");
}

#[test]
fn client_kill_honours_id_maxage_addr_skipme_and_user() {
    // ID: exactly that connection (reply 1); the holder reconnects on a new id.
    let s0 = format!(
        "{RC}old=\"$(rc CLIENT LIST | grep -F \" addr=$(ip cdb_market):\" | sed 's/^id=\\([0-9]*\\) .*/\\1/')\"
test -n \"$old\"
test \"$(rc CLIENT KILL ID \"$old\")\" = 1
new=\"$(rc CLIENT LIST | grep -F \" addr=$(ip cdb_market):\" | sed 's/^id=\\([0-9]*\\) .*/\\1/')\"
test -n \"$new\" && test \"$new\" != \"$old\"
test \"$(rc CLIENT LIST | grep -c '^id=')\" -ge 11"
    );
    // MAXAGE (Redis 7.4+, the stack runs 8.8): only connections older than N seconds. A
    // recreated cdb_signal is younger than the others (each step advances the clock 1m).
    let s1 = format!(
        "{RC}docker compose -f compose.red.yml up -d --no-deps --force-recreate cdb_signal >/dev/null 2>&1
sig=\"$(rc CLIENT LIST | grep -F \" addr=$(ip cdb_signal):\")\"
test -n \"$sig\"
n=\"$(rc CLIENT KILL MAXAGE 30)\"
test \"$n\" -ge 9
test \"$(rc CLIENT LIST | grep -F \" addr=$(ip cdb_signal):\")\" = \"$sig\""
    );
    // ADDR: one connection by address; an unknown address kills nothing. SKIPME defaults to yes:
    // USER default spares the caller. An unknown user is an error.
    let s2 = format!(
        "{RC}a=\"$(rc CLIENT LIST | grep -F \" addr=$(ip cdb_ws):\" | sed 's/.* addr=\\([^ ]*\\) .*/\\1/')\"
test \"$(rc CLIENT KILL ADDR \"$a\")\" = 1
test \"$(rc CLIENT KILL ADDR 192.0.2.1:1)\" = 0
test \"$(printf 'CLIENT KILL USER default\\nPING\\n' | rc | tail -n 1)\" = PONG
rc CLIENT KILL USER nosuch | grep -q \"No such user 'nosuch'\""
    );
    let (_, j) = run(false, &[&s0, &s1, &s2]);
    assert_all_passed(&j, 3);
}

#[test]
fn a_restart_rereads_the_password_file_and_drops_runtime_acl_state() {
    // compose.blue.yml runs `redis-server --requirepass $(cat /run/secrets/redis_password)`:
    // a restart takes what the (bind-mounted) file holds now; ACL SETUSER changes are gone and
    // CONFIG REWRITE has no file to write (cdb-lab: restart_rereads_the_config_file).
    let s0 = format!(
        "{RC}openssl rand -hex 16 > \"$SECRETS_PATH/extra\"
printf 'ACL SETUSER default on >%s\\n' \"$(cat \"$SECRETS_PATH/extra\")\" | rc | grep -qx OK
printf 'ACL SETUSER other on >%s ~* +@all\\n' \"$(cat \"$SECRETS_PATH/extra\")\" | rc | grep -qx OK
test \"$(rc ACL USERS | tr '\\n' ' ')\" = 'default other '
rc CONFIG REWRITE | grep -q 'without a config file'
openssl rand -hex 16 > \"$SECRETS_PATH/next\"
printf 'ACL SETUSER default >%s\\n' \"$(cat \"$SECRETS_PATH/next\")\" | rc | grep -qx OK
cp \"$SECRETS_PATH/next\" \"$SECRETS_PATH/REDIS_PASSWORD\"
docker restart cdb_redis >/dev/null
rc PING | grep -qx PONG
test \"$(rc ACL USERS)\" = default
test \"$(REDISCLI_AUTH=\"$(cat \"$SECRETS_PATH/extra\")\" docker exec -e REDISCLI_AUTH cdb_redis redis-cli PING 2>/dev/null)\" != PONG"
    );
    let (_, j) = run(false, &[&s0]);
    assert_all_passed(&j, 1);
}

/// A leak: the rotation's steps up to dropping the leaked password, with or without ending the
/// connections opened before.
fn leak_rotation(kill: bool) -> serde_json::Value {
    let rotate = format!(
        "{RC}openssl rand -hex 16 > \"$SECRETS_PATH/REDIS_PASSWORD.next\"
printf 'ACL SETUSER default on >%s\\n' \"$(cat \"$SECRETS_PATH/REDIS_PASSWORD.next\")\" | rc | grep -qx OK
cp \"$SECRETS_PATH/REDIS_PASSWORD.next\" \"$SECRETS_PATH/REDIS_PASSWORD\"
docker compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_market cdb_candles cdb_regime cdb_allocation cdb_risk cdb_execution cdb_db_writer cdb_paper_runner >/dev/null 2>&1
docker compose -f compose.red.yml up -d --no-deps --force-recreate cdb_ws cdb_signal cdb_reports cdb_redis_exporter >/dev/null 2>&1
printf 'ACL SETUSER default on resetpass >%s\\n' \"$(cat \"$SECRETS_PATH/REDIS_PASSWORD\")\" | rc | grep -qx OK"
    );
    let kill_step = format!("{RC}test \"$(rc CLIENT KILL USER default SKIPME yes)\" -ge 11");
    let mut bodies = vec![rotate.as_str()];
    if kill {
        bodies.push(&kill_step);
    }
    let (_, j) = run(true, &bodies);
    assert_all_passed(&j, bodies.len());
    j
}

#[test]
fn a_leakers_connection_keeps_the_leaked_value_alive_until_it_is_killed() {
    // Dropping the leaked password ends no connection: the leaker's stays authenticated.
    let j = leak_rotation(false);
    let (ok, detail) = invariant(&j, "leaked-values-dead");
    assert!(!ok, "{detail}");
    assert!(detail.contains("a live Redis connection"), "{detail}");
    let (ok, detail) = invariant(&j, "services-healthy");
    assert!(
        !ok && detail.contains("the leaker holds a live Redis connection"),
        "{detail}"
    );
    // Ended after the drop, it cannot come back: every consumer reconnects on the new value.
    let j = leak_rotation(true);
    for name in ["leaked-values-dead", "services-healthy"] {
        let (ok, detail) = invariant(&j, name);
        assert!(ok, "{name}: {detail}");
    }
}

#[test]
fn redis_cli_accepts_the_tls_options_and_inspect_names_the_compose_files() {
    // Form 4 of the shared brief: the label decides, the options are accepted (h-tls makes
    // the overlay real).
    let s0 = format!(
        "{RC}docker inspect -f '{{{{index .Config.Labels \"com.docker.compose.project.config_files\"}}}}' cdb_redis | grep -q '/compose.blue.yml$'
test \"$(docker inspect -f '{{{{index .Config.Labels \"com.docker.compose.project\"}}}}' cdb_redis)\" = cdb-blue
rc --tls --cacert /tls/ca.crt --cert /tls/client.crt --key /tls/client.key PING | grep -qx PONG
rc CONFIG GET dir dbfilename | tr '\\n' ' ' | grep -qx 'dbfilename dump.rdb dir /data '
rc CONFIG SET dir /tmp | grep -q \"can't set protected config\"
test \"$(rc ACL LIST | grep '^user default ' | tr ' ' '\\n' | grep -c '^#')\" = 1"
    );
    let (_, j) = run(false, &[&s0]);
    assert_all_passed(&j, 1);
}

/// Removes the step `id` (its fence and body) from the fixture's runbook.
fn remove_step(root: &std::path::Path, id: &str) {
    let p = root.join(crate::RUNBOOK);
    let text = std::fs::read_to_string(&p).unwrap();
    let start = text.find(&format!("```bash {{#{id} ")).unwrap();
    let end = start + 3 + text[start + 3..].find("\n```\n").unwrap() + 5;
    std::fs::write(&p, format!("{}{}", &text[..start], &text[end..])).unwrap();
}

#[test]
fn without_ending_old_connections_the_leakers_connection_survives_the_rotation() {
    let root = crate::fixture();
    remove_step(root.path(), "cache-revoke-end-old-connections");
    let dir = root.path().to_str().unwrap();
    let (code, out, err) = crate::drill(&[
        "leak-cache-live-connection",
        "--root",
        dir,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (ok, detail) = invariant(&j, "leaked-values-dead");
    assert!(
        !ok && detail.contains("a live Redis connection"),
        "{detail}"
    );
}

//! Compose overlays (issue 11, divergences 5 and 6): the world knows the `-f` files each
//! container was created from, `docker inspect` shows them in the Compose labels, a recreate
//! with fewer files drops the overlay, and Redis under `tls.yml` is TLS-only. Each test failed
//! on the world before overlays (no labels, `.Image` a template error, plaintext `redis-cli`
//! answered with TLS on, `-f tls.yml` "not a Compose file of this stack").

const MATRIX: &str = "version: 1
review: {last_reviewed: 2026-11-01, cadence: quarterly, reviewer: o, procedure: docs/r.md#q}
services: {cdb-blue: [cdb_redis]}
owners: [{id: o, role: Owner, contact: '@org/team', escalation: null}]
classes:
  - {id: tls, title: TLS, owner: o, backup_owner: o, cadence: 365d, scope: [cdb_redis],
     secrets: [TLS_CA_KEY], last_rotated: null, runbook: docs/r.md#tls,
     inventory: docs/i.md#tls, rto: 2h, approvals: {routine: [o], emergency: [o]}}
  - {id: cache, title: Cache, owner: o, backup_owner: o, cadence: 90d, scope: [cdb_redis],
     secrets: [REDIS_PASSWORD], last_rotated: null, runbook: docs/r.md#cache,
     inventory: docs/i.md#cache, rto: 1h, approvals: {routine: [o], emergency: [o]}}
";

const LABEL: &str = "{{index .Config.Labels \"com.docker.compose.project.config_files\"}}";

fn run(class: &str, bodies: &[String]) -> (u8, serde_json::Value) {
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    crate::run_tiny(MATRIX, class, "10s", &refs, &[])
}

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
fn inspect_shows_the_files_a_container_was_created_from() {
    let bodies = [
        // The tls class starts with the overlay on: the project file, then tls.yml, absolute.
        format!("docker inspect -f '{LABEL}' cdb_redis | grep -Eqx '/.*/compose\\.blue\\.yml,/.*/tls\\.yml'"),
        "docker inspect -f '{{index .Config.Labels \"com.docker.compose.project\"}}' cdb_grafana | grep -qx cdb-red".to_owned(),
        "docker inspect -f '{{.Image}}' cdb_redis | grep -Eqx 'sha256:[0-9a-f]{64}'".to_owned(),
        // A recreate from the labels keeps the overlay and the image.
        format!("i=\"$(docker inspect -f '{{{{.Image}}}}' cdb_ws)\"; IFS=, read -r -a cfg <<< \"$(docker inspect -f '{LABEL}' cdb_ws)\"; a=(); for c in \"${{cfg[@]}}\"; do a+=(-f \"$c\"); done; docker compose -p cdb-red \"${{a[@]}}\" up -d --no-deps --force-recreate --pull never --no-build cdb_ws 2>/dev/null && docker inspect -f '{LABEL}' cdb_ws | grep -q 'tls\\.yml$' && test \"$(docker inspect -f '{{{{.Image}}}}' cdb_ws)\" = \"$i\""),
        // Another project name is another project: Docker refuses the container names.
        "! docker compose -p other -f compose.red.yml up -d --no-deps --force-recreate cdb_ws 2>/dev/null".to_owned(),
        // A recreate with one -f file drops the overlay from that container only.
        format!("docker compose -f compose.red.yml up -d --no-deps --force-recreate cdb_ws 2>/dev/null && docker inspect -f '{LABEL}' cdb_ws | grep -Eqx '/.*/compose\\.red\\.yml' && docker inspect -f '{LABEL}' cdb_signal | grep -q tls.yml"),
    ];
    let (_, j) = run("tls", &bodies);
    let s = statuses(&j);
    assert_eq!(s.len(), bodies.len(), "{j:#}");
    for (n, st) in s.iter().enumerate() {
        assert_eq!(st, "passed", "step {n}: {j:#}");
    }
    // The dropped overlay is what the final invariant names: TLS-only Redis refuses the
    // plain client, and the container runs without the overlay the stack runs with.
    let text = j.to_string();
    assert!(
        text.contains("cdb_ws: cdb_redis accepts TLS only (tls.yml) and it connects without TLS")
            && text.contains("it was recreated without the overlay tls.yml the stack runs with"),
        "{j:#}"
    );
}

#[test]
fn redis_under_the_tls_overlay_refuses_plain_clients() {
    let auth = "REDISCLI_AUTH=\"$(cat \"$SECRETS_PATH/REDIS_PASSWORD\")\"";
    let bodies = [
        // Plain redis-cli cannot connect to TLS-only Redis.
        format!(
            "out=\"$({auth} docker exec -e REDISCLI_AUTH cdb_redis redis-cli PING 2>&1)\" && false || test \"$out\" = 'Error: Connection reset by peer'"
        ),
        // Over TLS with the mounted CA it answers.
        format!(
            "{auth} docker exec -e REDISCLI_AUTH cdb_redis redis-cli --tls --cacert /tls/ca.crt PING | grep -qx PONG"
        ),
        format!(
            "{auth} docker exec -e REDISCLI_AUTH cdb_redis redis-cli --tls --cacert /tls/ca.crt --cert /tls/client.crt --key /tls/client.key PING | grep -qx PONG"
        ),
        // Without the stack's CA the server certificate does not verify.
        format!("! {auth} docker exec -e REDISCLI_AUTH cdb_redis redis-cli --tls PING 2>/dev/null"),
        // A client key that is not the certificate's is refused.
        format!(
            "! {auth} docker exec -e REDISCLI_AUTH cdb_redis redis-cli --tls --cacert /tls/ca.crt --cert /tls/client.crt --key /tls/redis.key PING 2>/dev/null"
        ),
    ];
    let (_, j) = run("tls", &bodies);
    let s = statuses(&j);
    assert_eq!(s.len(), bodies.len(), "{j:#}");
    for (n, st) in s.iter().enumerate() {
        assert_eq!(st, "passed", "step {n}: {j:#}");
    }
}

#[test]
fn without_the_overlay_redis_speaks_plain_text_only() {
    let auth = "REDISCLI_AUTH=\"$(cat \"$SECRETS_PATH/REDIS_PASSWORD\")\"";
    let bodies = [
        format!("docker inspect -f '{LABEL}' cdb_redis | grep -Eqx '/.*/compose\\.blue\\.yml'"),
        format!("{auth} docker exec -e REDISCLI_AUTH cdb_redis redis-cli PING | grep -qx PONG"),
        format!(
            "! {auth} docker exec -e REDISCLI_AUTH cdb_redis redis-cli --tls --cacert /tls/ca.crt PING 2>/dev/null"
        ),
    ];
    let (code, j) = run("cache", &bodies);
    let s = statuses(&j);
    assert_eq!(s.len(), bodies.len(), "{j:#}");
    for (n, st) in s.iter().enumerate() {
        assert_eq!(st, "passed", "step {n}: {j:#}");
    }
    assert_eq!(code, 0, "{j:#}");
}

//! The TLS overlay: the mock `openssl`'s semantics through bash, the shipped TLS scenarios,
//! and a runbook without its TLS verify steps failing them.

use crate::{RUNBOOK, drill, fixture, remove_steps};

const MATRIX: &str = "version: 1
review: {last_reviewed: 2026-11-01, cadence: quarterly, reviewer: o, procedure: docs/r.md#q}
services: {cdb-blue: [cdb_postgres]}
owners: [{id: o, role: Owner, contact: '@org/team', escalation: null}]
classes:
  - {id: tls, title: TLS, owner: o, backup_owner: o, cadence: 365d, scope: [cdb_postgres],
     secrets: [TLS_CA_KEY], last_rotated: null, runbook: docs/r.md#tls,
     inventory: docs/i.md#tls, rto: 2h, approvals: {routine: [o], emergency: [o]}}
";

/// Runs one pre-check step per body in a tiny hub; returns (exit code, journal).
fn run(bodies: &[&str]) -> (u8, serde_json::Value) {
    crate::run_tiny(MATRIX, "tls", "10s", bodies, &[])
}

fn steps(j: &serde_json::Value) -> Vec<serde_json::Value> {
    j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "step")
        .cloned()
        .collect()
}

#[test]
fn openssl_verify_checkend_and_pubout_answer_like_the_real_tool() {
    let d = "\"$SECRETS_PATH\"";
    let bodies = [
        // The world starts with a consistent set: verify prints `FILE: OK`, exit 0.
        format!(
            "openssl verify -CAfile {d}/TLS_CA_CERT {d}/TLS_SERVER_CERT {d}/TLS_CLIENT_CERT | grep -c ': OK$' | grep -qx 2"
        ),
        // Each key matches its certificate.
        format!(
            "cmp -s <(openssl x509 -in {d}/TLS_SERVER_CERT -noout -pubkey) <(openssl pkey -in {d}/TLS_SERVER_KEY -pubout)"
        ),
        // …and not the other one's.
        format!(
            "! cmp -s <(openssl x509 -in {d}/TLS_SERVER_CERT -noout -pubkey) <(openssl pkey -in {d}/TLS_CLIENT_KEY -pubout)"
        ),
        // The initial leaf certificates expire in 97 days.
        format!(
            "openssl x509 -in {d}/TLS_SERVER_CERT -noout -checkend 2592000 | grep -qx 'Certificate will not expire'"
        ),
        format!(
            "out=$(openssl x509 -in {d}/TLS_SERVER_CERT -noout -checkend 8640000 || true); test \"$out\" = 'Certificate will expire' && ! openssl x509 -in {d}/TLS_SERVER_CERT -noout -checkend 8640000 >/dev/null"
        ),
        format!(
            "openssl x509 -in {d}/TLS_SERVER_CERT -noout -subject -enddate | tr '\\n' '|' | grep -Eqx 'subject=CN = cdb_server\\|notAfter=Apr  8 09:00:00 2026 GMT\\|'"
        ),
        // A new CA does not verify the old server certificate: error 20, exit 2.
        format!(
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$TMPDIR/ca.key\" && openssl req -x509 -new -key \"$TMPDIR/ca.key\" -days 730 -subj /CN=cdb-internal-ca -out \"$TMPDIR/ca.crt\" && {{ openssl verify -CAfile \"$TMPDIR/ca.crt\" {d}/TLS_SERVER_CERT 2>\"$TMPDIR/err\"; test $? = 2; }} && grep -qx 'error 20 at 0 depth lookup: unable to get local issuer certificate' \"$TMPDIR/err\" && grep -q 'verification failed$' \"$TMPDIR/err\""
        ),
        // A certificate issued by the new CA through a pipe verifies against it, not the old one.
        format!(
            "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$TMPDIR/s.key\" && openssl req -new -key \"$TMPDIR/s.key\" -subj /CN=cdb_server -addext subjectAltName=DNS:cdb_redis | openssl x509 -req -CA \"$TMPDIR/ca.crt\" -CAkey \"$TMPDIR/ca.key\" -days 397 -copy_extensions copy -out \"$TMPDIR/s.crt\" 2>\"$TMPDIR/err2\" && grep -qx 'Certificate request self-signature ok' \"$TMPDIR/err2\" && openssl verify -CAfile \"$TMPDIR/ca.crt\" \"$TMPDIR/s.crt\" >/dev/null && ! openssl verify -CAfile {d}/TLS_CA_CERT \"$TMPDIR/s.crt\" 2>/dev/null"
        ),
        // A CA key that does not match the CA certificate: exit 1.
        format!(
            "! openssl req -new -key \"$TMPDIR/s.key\" -subj /CN=x | openssl x509 -req -CA \"$TMPDIR/ca.crt\" -CAkey {d}/TLS_CA_KEY -days 1 -out \"$TMPDIR/x.crt\" 2>/dev/null"
        ),
        // The purpose check: the client certificate is not for a server (error 26, exit 2).
        format!(
            "openssl verify -CAfile {d}/TLS_CA_CERT -purpose sslserver {d}/TLS_SERVER_CERT >/dev/null && {{ openssl verify -CAfile {d}/TLS_CA_CERT -purpose sslserver {d}/TLS_CLIENT_CERT 2>&1 >/dev/null || test $? = 2; }} | grep -qx 'error 26 at 0 depth lookup: unsupported certificate purpose'"
        ),
        // An empty certificate file does not load.
        "printf '' > \"$TMPDIR/empty\"; openssl x509 -in \"$TMPDIR/empty\" -noout -enddate 2>/dev/null || test $? = 1".to_owned(),
    ];
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let (code, j) = run(&refs);
    let s = steps(&j);
    for (n, step) in s.iter().enumerate() {
        assert_eq!(step["status"], "passed", "step {n}: {step:#}");
    }
    assert_eq!(s.len(), bodies.len());
    assert_eq!(code, 0, "{j:#}");
}

#[test]
fn printing_a_private_key_breaks_the_transcript_invariant() {
    let (code, j) = run(&["openssl pkey -in \"$SECRETS_PATH/TLS_CA_KEY\""]);
    assert_eq!(code, 1);
    let inv = j["invariants"].as_array().unwrap();
    let t = inv
        .iter()
        .find(|i| i["name"] == "no-secret-in-transcript")
        .unwrap();
    assert_eq!(t["passed"], false, "{t}");
    assert!(j.to_string().contains("[secret:TLS_CA_KEY]"));
}

#[test]
fn the_shipped_tls_scenarios_pass() {
    let d = fixture();
    let root = d.path().to_str().unwrap();
    for id in ["leak-tls", "routine-tls-short-lived"] {
        let (code, out, err) = drill(&[id, "--root", root, "--format", "json"]);
        assert_eq!(code, 0, "{id}: {out}\n{err}");
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(j["outcome"], "recovered", "{id}");
        let ran: Vec<&str> = j["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "step")
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        let rollback = if id == "leak-tls" {
            "tls-rollback-reissue"
        } else {
            "tls-rollback-restore-files"
        };
        assert!(ran.contains(&rollback), "{id}: {ran:?}");
        if id == "leak-tls" {
            let i = j["invariants"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == "leaked-values-dead")
                .unwrap()
                .clone();
            assert_eq!(i["passed"], true, "{i}");
        }
    }
}

#[test]
fn without_tls_verify_steps_leak_tls_fails() {
    let d = fixture();
    assert!(remove_steps(d.path(), RUNBOOK, "tls", "verify") >= 2);
    let (code, out, err) = drill(&["leak-tls", "--root", d.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("went undetected"), "{out}");
    assert!(
        out.contains("cdb_signal: its TLS CA does not verify"),
        "{out}"
    );
    assert!(out.contains("the TLS CA trusted by cdb_signal"), "{out}");
}

#[test]
fn an_old_ca_left_in_the_bundle_is_caught_by_the_chain_check() {
    // Everything connects through a bundle of the new and the old CA; only the chain check
    // sees that the old (leaked) CA is still trusted, and the leak rollback re-issues.
    let d = fixture();
    std::fs::write(
        d.path().join("drills/t.yaml"),
        "title: t\nclass: tls\ntrigger: leak\nbriefing: b\nleaked: [TLS_CA_KEY]\nfaults:\n  - {kind: tls-ca-bundle-kept, target: TLS_CA_CERT, after: tls-rotate-install}\nexpect: {outcome: recovered, detected_by: [tls-verify-chain]}\n",
    )
    .unwrap();
    let (code, out, err) = drill(&["t", "--root", d.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("still trusted: TLS_SERVER_CERT.prev"), "{out}");
    assert!(out.contains("[ok  ] tls-rollback-reissue"), "{out}");
}

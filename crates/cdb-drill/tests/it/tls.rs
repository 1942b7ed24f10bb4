//! The TLS overlay: the mock `openssl`'s semantics and the TLS set's files and mounts (called
//! in process, `crate::dispatch`), the shipped TLS scenarios, and a runbook without its TLS
//! verify steps failing them (drills).

use crate::dispatch::{Out, Stack, non_empty};
use crate::{RUNBOOK, drill, fixture, remove_steps};
use std::path::Path;

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

/// `openssl ARGS…` (paths as given).
fn openssl(s: &mut Stack, args: &[&str]) -> Out {
    s.call("openssl", args)
}

/// `… | openssl ARGS…`: `stdin` is what the command before the pipe printed.
fn openssl_in(s: &mut Stack, args: &[&str], stdin: &str) -> Out {
    s.call_with("openssl", args, stdin, &[])
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// A new P-256 key at `key`.
fn genpkey(s: &mut Stack, key: &str) {
    openssl(
        s,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            key,
        ],
    )
    .ok();
}

#[test]
fn openssl_verify_checkend_and_pubout_answer_like_the_real_tool() {
    let mut s = Stack::for_class(10, "tls");
    let tls = s.tls();
    let d = |f: &str| path(&tls.join(f));
    let tmp = s.tmp();
    let t = |f: &str| path(&tmp.join(f));
    // The world starts with a consistent set: verify prints `FILE: OK`, exit 0.
    let o = openssl(
        &mut s,
        &[
            "verify",
            "-CAfile",
            &d("ca.crt"),
            &d("redis.crt"),
            &d("postgres.crt"),
            &d("client.crt"),
        ],
    );
    assert_eq!(
        o.ok().lines().filter(|l| l.ends_with(": OK")).count(),
        3,
        "{o:?}"
    );
    s.step();
    // Each key matches its certificate.
    let pubkey = |s: &mut Stack, crt: &str| {
        openssl(s, &["x509", "-in", crt, "-noout", "-pubkey"])
            .ok()
            .to_owned()
    };
    let pubout =
        |s: &mut Stack, key: &str| openssl(s, &["pkey", "-in", key, "-pubout"]).ok().to_owned();
    assert_eq!(
        pubkey(&mut s, &d("redis.crt")),
        pubout(&mut s, &d("redis.key"))
    );
    s.step();
    // …and not another one's.
    assert_ne!(
        pubkey(&mut s, &d("redis.crt")),
        pubout(&mut s, &d("postgres.key"))
    );
    s.step();
    // The initial leaf certificates expire in 97 days.
    let o = openssl(
        &mut s,
        &[
            "x509",
            "-in",
            &d("redis.crt"),
            "-noout",
            "-checkend",
            "2592000",
        ],
    );
    assert_eq!(o.ok(), "Certificate will not expire\n");
    s.step();
    let o = openssl(
        &mut s,
        &[
            "x509",
            "-in",
            &d("postgres.crt"),
            "-noout",
            "-checkend",
            "8640000",
        ],
    );
    assert_eq!(
        (o.code, o.out.as_str()),
        (1, "Certificate will expire\n"),
        "{o:?}"
    );
    s.step();
    let o = openssl(
        &mut s,
        &[
            "x509",
            "-in",
            &d("redis.crt"),
            "-noout",
            "-subject",
            "-enddate",
        ],
    );
    assert_eq!(
        o.ok(),
        "subject=CN = cdb_redis\nnotAfter=Apr  8 09:00:00 2026 GMT\n"
    );
    s.step();
    // A new CA does not verify the old server certificate: error 20, exit 2.
    genpkey(&mut s, &t("ca.key"));
    openssl(
        &mut s,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &t("ca.key"),
            "-days",
            "730",
            "-subj",
            "/CN=cdb-internal-ca",
            "-out",
            &t("ca.crt"),
        ],
    )
    .ok();
    let o = openssl(
        &mut s,
        &["verify", "-CAfile", &t("ca.crt"), &d("redis.crt")],
    );
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.err
            .lines()
            .any(|l| l == "error 20 at 0 depth lookup: unable to get local issuer certificate"),
        "{o:?}"
    );
    assert!(
        o.err.lines().any(|l| l.ends_with("verification failed")),
        "{o:?}"
    );
    s.step();
    // A certificate issued by the new CA through a pipe verifies against it, not the old one.
    genpkey(&mut s, &t("s.key"));
    let csr = openssl(
        &mut s,
        &[
            "req",
            "-new",
            "-key",
            &t("s.key"),
            "-subj",
            "/CN=cdb_redis",
            "-addext",
            "subjectAltName=DNS:cdb_redis",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ],
    )
    .ok()
    .to_owned();
    let sign = |ca_key: &str, out: &str, days: &str| {
        vec![
            "x509".to_owned(),
            "-req".into(),
            "-CA".into(),
            t("ca.crt"),
            "-CAkey".into(),
            ca_key.to_owned(),
            "-days".into(),
            days.to_owned(),
            "-copy_extensions".into(),
            "copy".into(),
            "-out".into(),
            out.to_owned(),
        ]
    };
    let args = sign(&t("ca.key"), &t("s.crt"), "397");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = openssl_in(&mut s, &args, &csr);
    assert!(
        o.err
            .lines()
            .any(|l| l == "Certificate request self-signature ok"),
        "{o:?}"
    );
    o.ok();
    openssl(&mut s, &["verify", "-CAfile", &t("ca.crt"), &t("s.crt")]).ok();
    assert_ne!(
        openssl(&mut s, &["verify", "-CAfile", &d("ca.crt"), &t("s.crt")]).code,
        0
    );
    s.step();
    // A CA key that does not match the CA certificate: exit 1.
    let csr_x = openssl(
        &mut s,
        &["req", "-new", "-key", &t("s.key"), "-subj", "/CN=x"],
    )
    .ok()
    .to_owned();
    let args = sign(&d("ca.key"), &t("x.crt"), "1");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(openssl_in(&mut s, &args, &csr_x).code, 1);
    s.step();
    // The purpose check: a clientAuth certificate is not for a server (error 26, exit 2).
    genpkey(&mut s, &t("c.key"));
    let csr_c = openssl(
        &mut s,
        &[
            "req",
            "-new",
            "-key",
            &t("c.key"),
            "-subj",
            "/CN=cdb-client",
            "-addext",
            "extendedKeyUsage=clientAuth",
        ],
    )
    .ok()
    .to_owned();
    let args = sign(&t("ca.key"), &t("c.crt"), "397");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    openssl_in(&mut s, &args, &csr_c).ok();
    openssl(
        &mut s,
        &[
            "verify",
            "-CAfile",
            &t("ca.crt"),
            "-purpose",
            "sslserver",
            &t("s.crt"),
        ],
    )
    .ok();
    let o = openssl(
        &mut s,
        &[
            "verify",
            "-CAfile",
            &t("ca.crt"),
            "-purpose",
            "sslserver",
            &t("c.crt"),
        ],
    );
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.err
            .lines()
            .any(|l| l == "error 26 at 0 depth lookup: unsupported certificate purpose"),
        "{o:?}"
    );
    s.step();
    // An empty certificate file does not load.
    std::fs::write(tmp.join("empty"), "").unwrap();
    let o = openssl(&mut s, &["x509", "-in", &t("empty"), "-noout", "-enddate"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(s.sick().is_empty(), "{:?}", s.sick());
    assert!(s.w.violations.is_empty(), "{:?}", s.w.violations);
}

/// Through bash: the claim is the engine's transcript invariant and the journal's redaction
/// of what a step printed.
#[test]
fn printing_a_private_key_breaks_the_transcript_invariant() {
    let (code, j) = run(&["openssl pkey -in \"$CDB_TLS_DIR/ca.key\""]);
    assert_eq!(code, 1);
    let inv = j["invariants"].as_array().unwrap();
    let t = inv
        .iter()
        .find(|i| i["name"] == "no-secret-in-transcript")
        .unwrap();
    assert_eq!(t["passed"], false, "{t}");
    assert!(j.to_string().contains("[secret:ca.key]"));
}

/// Through bash: the claim is about the shipped scenarios and runbook. Their journals are the
/// shared `drill --all` run's (all_run.rs), which ran every shipped scenario.
#[test]
fn the_shipped_tls_scenarios_pass() {
    let run = crate::all_run::all_run();
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    for id in [
        "leak-tls",
        "routine-tls-short-lived",
        "routine-tls-overlay-dropped",
    ] {
        let text = std::fs::read_to_string(run.journals.join(format!("{id}.json")))
            .unwrap_or_else(|e| panic!("{id}: no journal from the shared run: {e}"));
        let j: serde_json::Value = serde_json::from_str(&text).unwrap();
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

/// Through bash: the claim is about the shipped runbook without its verify steps.
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

/// Through bash: the claim is a fault injected after a shipped runbook step, caught by another.
#[test]
fn an_old_ca_left_in_the_bundle_is_caught_by_the_chain_check() {
    // Everything connects through a bundle of the new and the old CA; only the chain check
    // sees that the old (leaked) CA is still trusted, and the leak rollback re-issues.
    let d = fixture();
    std::fs::write(
        d.path().join("drills/t.yaml"),
        "title: t\nclass: tls\ntrigger: leak\nbriefing: b\nleaked: [ca.key]\nfaults:\n  - {kind: tls-ca-bundle-kept, target: ca.crt, after: tls-rotate-install}\nexpect: {outcome: recovered, detected_by: [tls-verify-chain]}\n",
    )
    .unwrap();
    let (code, out, err) = drill(&["t", "--root", d.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}\n{err}");
    // The journal shows a failing step's last lines: the last certificate the loop names.
    assert!(out.contains("still trusted: client.crt.prev"), "{out}");
    assert!(out.contains("[ok  ] tls-rollback-reissue"), "{out}");
}

/// Issue 12, defect 7 and the TLS layout: the set is the overlay's folder (`CDB_TLS_DIR`,
/// upstream `.cdb_local/tls/`) with one certificate per server, mounted as tls.yml mounts it.
/// On the old layout (`TLS_*` files in `$SECRETS_PATH`, one server certificate, no
/// `CDB_TLS_DIR`) every one of these fails.
#[test]
fn the_tls_set_is_the_overlay_folder_with_a_certificate_per_server() {
    let mut s = Stack::for_class(10, "tls");
    let tls = s.tls();
    let d = |f: &str| path(&tls.join(f));
    let read = |f: &str| std::fs::read_to_string(tls.join(f)).unwrap();
    // The folder holds upstream generate_certs.sh's files; nothing TLS in SECRETS_PATH.
    for f in [
        "ca.key",
        "ca.crt",
        "redis.key",
        "redis.crt",
        "postgres.key",
        "postgres.crt",
        "client.key",
        "client.crt",
    ] {
        assert!(non_empty(&tls.join(f)), "{f}");
    }
    for e in std::fs::read_dir(s.secrets()).unwrap() {
        let name = e.unwrap().file_name();
        assert!(!name.to_string_lossy().starts_with("TLS_"), "{name:?}");
    }
    s.step();
    // One certificate per server, each for its own key and name.
    let subject = |s: &mut Stack, crt: &str| {
        openssl(s, &["x509", "-in", crt, "-noout", "-subject"])
            .ok()
            .to_owned()
    };
    assert_eq!(subject(&mut s, &d("redis.crt")), "subject=CN = cdb_redis\n");
    assert_eq!(
        subject(&mut s, &d("postgres.crt")),
        "subject=CN = cdb_postgres\n"
    );
    let pubkey = |s: &mut Stack, crt: &str| {
        openssl(s, &["x509", "-in", crt, "-noout", "-pubkey"])
            .ok()
            .to_owned()
    };
    assert_ne!(
        pubkey(&mut s, &d("redis.crt")),
        pubkey(&mut s, &d("postgres.crt"))
    );
    s.step();
    // Redis mounts the folder at /tls; PostgreSQL single files beside its data directory.
    let cat = |s: &mut Stack, service: &str, file: &str| {
        s.call("docker", &["exec", service, "cat", file])
            .ok()
            .to_owned()
    };
    assert_eq!(
        cat(&mut s, "cdb_redis", "/tls/redis.crt"),
        read("redis.crt")
    );
    assert_eq!(
        cat(&mut s, "cdb_postgres", "/var/lib/postgresql/server.crt"),
        read("postgres.crt")
    );
    assert_eq!(
        cat(&mut s, "cdb_postgres", "/var/lib/postgresql/root.crt"),
        read("ca.crt")
    );
    assert_eq!(
        cat(&mut s, "cdb_risk", "/tls/client.crt"),
        read("client.crt")
    );
    s.step();
    // The whole folder is in every client: the generator's CA key too (the exposure the
    // runbook ends by moving the CA key out of the folder).
    assert_eq!(cat(&mut s, "cdb_risk", "/tls/ca.key"), read("ca.key"));
    s.step();
    // A file replaced by rename inside the folder is seen at once through a folder mount
    // (Redis), not through PostgreSQL's single-file mount of the same file.
    let old = read("ca.crt");
    std::fs::copy(tls.join("client.crt"), s.tmp().join("new")).unwrap();
    std::fs::rename(s.tmp().join("new"), tls.join("ca.crt")).unwrap();
    assert_eq!(cat(&mut s, "cdb_redis", "/tls/ca.crt"), read("ca.crt"));
    assert_eq!(
        cat(&mut s, "cdb_postgres", "/var/lib/postgresql/root.crt"),
        old
    );
}

/// The body of runbook step `id`, as the shipped runbook has it.
fn runbook_step(id: &str) -> String {
    let text = std::fs::read_to_string(crate::workspace().join(RUNBOOK)).unwrap();
    let open = format!("```bash {{#{id} ");
    let start = text.find(&open).unwrap_or_else(|| panic!("no step {id}"));
    let body = &text[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("\n```\n").unwrap()].to_owned()
}

/// Defect 7 ("TLS silently skips"): with the class in scope, a file of the set that is missing
/// fails the TLS pre-check, Verify and the recreate (never a `skip` and a PASS), and a terminal
/// without `CDB_TLS_DIR` fails at once instead of reading `/ca.crt`.
///
/// Through bash: it runs the shipped runbook's own steps.
#[test]
fn a_missing_tls_file_or_folder_fails_never_skips() {
    for id in [
        "tls-pre-check-chain",
        "tls-verify-chain",
        "tls-rotate-recreate-all",
    ] {
        let body = runbook_step(id);
        let missing = format!("rm \"$CDB_TLS_DIR/postgres.key\"\n{body}");
        let unset = format!("unset CDB_TLS_DIR\n{body}");
        let (code, j) = run(&[&missing]);
        assert_eq!(code, 1, "{id}: {j:#}");
        let s = steps(&j);
        assert_eq!(s[0]["status"], "failed", "{id}: {:#}", s[0]);
        let out0 = s[0].to_string();
        assert!(out0.contains("postgres.key"), "{id}: {out0}");
        assert!(!out0.to_lowercase().contains("skip"), "{id}: {out0}");
        let (_, j) = run(&[&unset]);
        let s = steps(&j);
        assert_eq!(s[0]["status"], "failed", "{id}: {:#}", s[0]);
        assert!(
            s[0].to_string().contains("set CDB_TLS_DIR first"),
            "{id}: {:#}",
            s[0]
        );
    }
}

/// Git Bash's path conversion (issue 12: "Git Bash path conversion does not break the TLS
/// steps"): a step that hands a container path to `docker` sets `MSYS_NO_PATHCONV=1` (else
/// `/tls/ca.crt` becomes `C:/Program Files/Git/tls/ca.crt`); a step that issues certificates
/// must not, because Git Bash's `openssl` is a native program that needs its `/c/…` file
/// paths converted: it excludes only the subject (`MSYS2_ARG_CONV_EXCL='/CN='`).
///
/// No drill: it reads the shipped runbook's text.
#[test]
fn tls_steps_handle_git_bash_path_conversion() {
    let text = std::fs::read_to_string(crate::workspace().join(RUNBOOK)).unwrap();
    let mut seen = (0, 0);
    for block in text.split("```bash {#tls-").skip(1) {
        let id = block.split_whitespace().next().unwrap();
        let body = &block[..block.find("\n```\n").unwrap()];
        let container_paths = body.contains("docker exec")
            && (body.contains(" /tls/")
                || body.contains("/var/lib/postgresql/")
                || body.contains("/app/"))
            || body.contains("up -d --no-deps");
        if container_paths {
            seen.0 += 1;
            assert!(body.contains("export MSYS_NO_PATHCONV=1"), "tls-{id}");
        }
        if body.contains("-subj \"/CN=") {
            seen.1 += 1;
            assert!(
                body.contains("export MSYS2_ARG_CONV_EXCL='/CN='"),
                "tls-{id}"
            );
            assert!(!body.contains("MSYS_NO_PATHCONV"), "tls-{id}");
        }
    }
    // The mount checks and recreates; the stage and re-issue steps.
    assert!(seen.0 >= 4, "{seen:?}");
    assert_eq!(seen.1, 2, "{seen:?}");
}

/// PostgreSQL is asked where it reads its TLS files (`SHOW ssl…`, as PostgreSQL answers):
/// under the overlay the mounts, which the pre-check requires before anything changes; a
/// PostgreSQL that serves anything else (here: recreated without tls.yml, so PostgreSQL's
/// defaults; upstream: the first-init copy in its data directory) fails it, never a PASS.
///
/// Through bash: it runs the shipped runbook's own steps.
#[test]
fn the_postgres_pre_check_requires_the_mounted_set() {
    let check = runbook_step("tls-pre-check-postgres-serves-mount");
    let (code, j) = run(&[&check]);
    assert_eq!(code, 0, "{j:#}");
    let drop = "docker compose -f compose.blue.yml up -d --no-deps --force-recreate cdb_postgres >/dev/null 2>&1";
    let (code, j) = run(&[drop, &check]);
    assert_eq!(code, 1, "{j:#}");
    let s = steps(&j);
    assert_eq!(s[0]["status"], "passed", "{:#}", s[0]);
    assert_eq!(s[1]["status"], "failed", "{:#}", s[1]);
    assert!(
        s[1].to_string()
            .contains("does not serve the mounted set: ssl=off cert=server.crt"),
        "{:#}",
        s[1]
    );
}

/// Defect 7's last part: with the overlay on, Redis is TLS-only, and the cache steps (and the
/// evidence collection) speak TLS with the client set the overlay mounts in `cdb_redis`
/// (`/tls/ca.crt`, `/tls/client.*` of the folder): the shipped cache leak drills pass with
/// `tls.yml` on.
/// Through bash: the claim is about the shipped cache drills and runbook under tls.yml.
#[test]
fn cache_leak_drills_pass_on_tls_only_redis() {
    let d = fixture();
    for id in ["leak-cache", "leak-cache-live-connection"] {
        let text = std::fs::read_to_string(d.path().join(format!("drills/{id}.yaml"))).unwrap();
        let with = text.replacen(
            "\nclass: cache\n",
            "\nclass: cache\noverlays: [tls.yml]\n",
            1,
        );
        assert_ne!(with, text, "{id}");
        std::fs::write(d.path().join(format!("drills/{id}-tls.yaml")), with).unwrap();
        let name = format!("{id}-tls");
        let (code, out, err) = drill(&[&name, "--root", d.path().to_str().unwrap()]);
        assert_eq!(code, 0, "{id}: {out}\n{err}");
        assert!(out.contains("VERDICT: PASS"), "{id}: {out}");
    }
}

//! The `secrets` group of `verify`: planted fakes are found, never printed, and suppressed only with a reason.

use crate::support::{Fixture, RUNBOOK};

/// Every detector's own positive examples (generated at run time, obviously fake).
fn planted() -> Vec<(&'static str, String)> {
    cdb_secrets::detectors()
        .iter()
        .flat_map(|d| d.examples().positives.into_iter().map(move |p| (d.id, p)))
        .collect()
}

/// The values the scanner finds in an example, which no output may show.
fn values_of(example: &str) -> Vec<String> {
    let scanner = cdb_secrets::Scanner::new();
    scanner
        .scan_raw(example)
        .into_iter()
        .map(|h| example[h.start..h.end].to_owned())
        .collect()
}

#[test]
fn planted_fakes_of_every_detector_are_found() {
    let fx = Fixture::hub();
    let mut md = String::from("# Notes\n\n");
    for (_, example) in planted() {
        md.push_str(&format!("{example}\n\n"));
    }
    fx.write("notes/leaky.md", &md);
    let (code, findings) = fx.findings(&["--select", "secrets"]);
    assert_eq!(code, 1);
    let rules: std::collections::BTreeSet<_> = findings.iter().map(|f| f.0.clone()).collect();
    for d in cdb_secrets::detectors() {
        assert!(rules.contains(d.id), "no finding of {} in {rules:?}", d.id);
    }
    assert!(findings.iter().all(|f| f.1 == "notes/leaky.md"));
}

#[test]
fn no_format_ever_prints_a_planted_value() {
    let fx = Fixture::hub();
    let examples = planted();
    let mut md = String::from("# Notes\n\n");
    for (_, example) in &examples {
        md.push_str(&format!("{example}\n\n"));
    }
    fx.write("notes/leaky.md", &md);
    let values: Vec<String> = examples
        .iter()
        .flat_map(|(_, e)| values_of(e))
        .filter(|v| v.len() >= 8)
        .collect();
    assert!(values.len() >= cdb_secrets::detectors().len());
    for format in ["human", "json", "sarif", "github"] {
        let run = fx.verify(&["--select", "secrets", "--format", format]);
        assert_eq!(run.code, 1, "{format}");
        for v in &values {
            assert!(
                !run.stdout.contains(v.as_str()),
                "{format} stdout shows a planted value"
            );
            assert!(
                !run.stderr.contains(v.as_str()),
                "{format} stderr shows a planted value"
            );
        }
        if format == "human" {
            assert!(run.stdout.contains("[REDACTED]"), "{}", run.stdout);
        }
    }
}

#[test]
fn pragma_with_a_reason_suppresses_the_next_line_and_without_one_does_not() {
    let fx = Fixture::hub();
    let (rule, example) = planted()
        .into_iter()
        .find(|(r, e)| *r == "secret-uri-password" && !e.contains('\n'))
        .unwrap();
    fx.write(
        "notes/a.md",
        &format!("# A\n\n<!-- cdb-allow: {rule} reason: a drill fixture -->\n{example}\n"),
    );
    assert!(fx.findings(&["--select", "secrets"]).1.is_empty());
    // Assembled at run time so this source file holds no reason-less pragma itself.
    let marker = ["cdb", "-allow:"].concat();
    fx.write(
        "notes/a.md",
        &format!("# A\n\n<!-- {marker} {rule} -->\n{example}\n"),
    );
    let mut got: Vec<_> = fx
        .findings(&["--select", "secrets"])
        .1
        .into_iter()
        .map(|f| (f.0, f.2))
        .collect();
    got.sort();
    let mut want = vec![
        ("pragma-missing-reason".to_owned(), 3),
        (rule.to_owned(), 4),
    ];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn baseline_accepts_by_rule_path_and_fingerprint_not_line() {
    let fx = Fixture::hub();
    let (rule, example) = planted()
        .into_iter()
        .find(|(r, e)| *r == "secret-uri-password" && !e.contains('\n'))
        .unwrap();
    fx.write("notes/a.md", &format!("# A\n\n{example}\n"));
    let run = fx.verify(&["--select", "secrets", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    let fp = v["fingerprint"].as_str().unwrap().to_owned();
    fx.write(
        ".secrets-baseline",
        &format!("# cdb-secrets baseline v1\n{rule} {fp} notes/a.md\n"),
    );
    assert!(fx.findings(&["--select", "secrets"]).1.is_empty());
    // Moving the line does not churn the baseline.
    fx.write("notes/a.md", &format!("# A\n\nMore text.\n\n{example}\n"));
    assert!(fx.findings(&["--select", "secrets"]).1.is_empty());
    // The same value in another file is not accepted.
    fx.write("notes/b.md", &format!("{example}\n"));
    assert_eq!(fx.findings(&["--select", "secrets"]).1.len(), 1);
    // A malformed baseline is a configuration error naming file and line.
    fx.write(".secrets-baseline", "# header\nnot-enough-fields\n");
    let run = fx.verify(&["--select", "secrets"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(".secrets-baseline:2"), "{}", run.stderr);
}

#[test]
fn the_fixture_hub_and_its_runbook_look_alikes_are_clean() {
    let fx = Fixture::hub();
    fx.edit(
        RUNBOOK,
        "## Quarterly review\n",
        "## Quarterly review\n\n```bash\nPGPASSWORD=\"$(cat \"$SECRETS_PATH/POSTGRES_PASSWORD\")\" docker exec -e PGPASSWORD cdb_postgres psql -h 127.0.0.1 -U claire_user -d claire_de_binare -tAc 'SELECT 1'\nprintf 'postgresql://claire_user:%s@cdb_postgres:5432/claire_de_binare' \"$(cat x)\"\n```\n\npassword: <new-password>, token: ${{ secrets.GH_TOKEN }}, see /run/secrets/REDIS_PASSWORD\n",
    );
    assert!(fx.findings(&["--select", "secrets"]).1.is_empty());
}

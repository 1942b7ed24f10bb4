//! `cargo xtask verify`, group `stack`: the kit's Compose description against the inventory and the matrix, and `--stack DIR` drift.

use crate::support::{Fixture, INVENTORY, MATRIX, copy_dir, f, snapshot};
use std::fs;
use std::path::{Path, PathBuf};

const BLUE: &str = "stack/compose/compose.blue.yml";
const RED: &str = "stack/compose/compose.red.yml";

/// A copy of the kit's `stack/compose` in its own temp dir, as a real Compose folder.
struct Real {
    dir: tempfile::TempDir,
}

impl Real {
    fn copy(fx: &Fixture) -> Real {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fx.path("stack/compose"), dir.path());
        Real { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The path as findings and errors name it.
    fn shown(&self, name: &str) -> String {
        format!("{}/{name}", self.dir.path().display())
    }

    fn edit(&self, name: &str, from: &str, to: &str) {
        let text = fs::read_to_string(self.path(name)).unwrap();
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` must occur once in {name}"
        );
        fs::write(self.path(name), text.replacen(from, to, 1)).unwrap();
    }

    fn line_of(&self, name: &str, needle: &str) -> usize {
        line_in(&self.path(name), needle)
    }
}

fn line_in(path: &Path, needle: &str) -> usize {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

fn stack_arg(real: &Real) -> String {
    real.dir.path().display().to_string()
}

#[test]
fn the_kit_description_agrees_with_todays_inventory_and_matrix() {
    let fx = Fixture::kit();
    let (code, findings) = fx.findings(&["--select", "stack"]);
    assert_eq!((code, findings), (0, vec![]));
}

#[test]
fn an_unchanged_copy_reports_nothing() {
    let fx = Fixture::kit();
    let real = Real::copy(&fx);
    let (code, findings) = fx.findings(&["--select", "stack", "--stack", &stack_arg(&real)]);
    assert_eq!((code, findings), (0, vec![]));
}

#[test]
fn one_secret_added_to_one_service_is_exactly_that_drift() {
    let fx = Fixture::kit();
    let real = Real::copy(&fx);
    real.edit(
        "compose.blue.yml",
        "    secrets:\n      - redis_password\n    environment:\n      REDIS_HOST: cdb_redis\n      MARKET_PORT",
        "    secrets:\n      - redis_password\n      - mexc_api_key\n    environment:\n      REDIS_HOST: cdb_redis\n      MARKET_PORT",
    );
    let line = real.line_of("compose.blue.yml", "      - mexc_api_key");
    let (code, findings) = fx.findings(&["--stack", &stack_arg(&real)]);
    assert_eq!(code, 1);
    let stack: Vec<_> = findings
        .into_iter()
        .filter(|x| x.0.starts_with("stack-"))
        .collect();
    assert_eq!(
        stack,
        vec![f("stack-drift", &real.shown("compose.blue.yml"), line)]
    );
    let run = fx.verify(&["--select", "stack", "--stack", &stack_arg(&real)]);
    assert!(
        run.stdout
            .contains("service `cdb_market` mounts secret `mexc_api_key`"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_renamed_file_a_new_service_and_a_gone_service_are_drift() {
    let fx = Fixture::kit();
    let real = Real::copy(&fx);
    real.edit("compose.blue.yml", "/MEXC_API_KEY.txt", "/MEXC_API_KEY");
    real.edit(
        "compose.red.yml",
        "  cdb_cadvisor:\n    image: gcr.io/cadvisor/cadvisor:v0.55.1\n",
        "  cdb_loki:\n    image: grafana/loki:3\n",
    );
    real.edit(
        "compose.red.yml",
        "      test: [\"CMD\", \"pgrep\", \"-f\", \"daily_orders_summary.py\"]",
        "      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:8010/health\"]",
    );
    let (code, findings) = fx.findings(&["--select", "stack", "--stack", &stack_arg(&real)]);
    assert_eq!(code, 1);
    let red = real.shown("compose.red.yml");
    let mut want = vec![
        f(
            "stack-drift",
            &real.shown("compose.blue.yml"),
            line_in(&real.path("compose.blue.yml"), "}/MEXC_API_KEY"),
        ),
        f(
            "stack-drift",
            &red,
            real.line_of("compose.red.yml", "services:"),
        ),
        f(
            "stack-drift",
            &red,
            real.line_of("compose.red.yml", "  cdb_loki:"),
        ),
        f(
            "stack-drift",
            &red,
            real.line_of("compose.red.yml", "http://localhost:8010/health"),
        ),
    ];
    want.sort();
    let mut got = findings;
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn a_file_missing_from_dir_is_drift() {
    let fx = Fixture::kit();
    let real = Real::copy(&fx);
    fs::remove_file(real.path("tls.yml")).unwrap();
    let (code, findings) = fx.findings(&["--select", "stack", "--stack", &stack_arg(&real)]);
    assert_eq!(code, 1);
    assert_eq!(findings, vec![f("stack-drift", &real.shown("tls.yml"), 1)]);
}

/// Each kind of input outside the model: exit 2, an error naming file, line and column, no panic.
#[test]
fn bad_compose_input_in_dir_is_an_error_with_file_and_line() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (file, replace, with, what the error says)
        (
            "compose.blue.yml",
            "name: cdb-blue\n",
            "name: [cdb-blue\n",
            "not valid YAML",
        ),
        (
            "compose.blue.yml",
            "name: cdb-blue\n",
            "name: cdb-blue\nprofiles: {}\n",
            "unknown top-level key `profiles`",
        ),
        (
            "compose.red.yml",
            "  cdb_cadvisor:\n",
            "  cdb_cadvisor:\n    extends:\n      service: cdb_ws\n",
            "`extends`",
        ),
        (
            "compose.red.yml",
            "name: cdb-red\n",
            "name: cdb-red\ninclude:\n  - other.yml\n",
            "`include`",
        ),
        (
            "compose.red.yml",
            "    file: ${SECRETS_PATH:?SECRETS_PATH must be set}/SMTP_FROM\n",
            "    external: true\n",
            "supports only secrets read from a `file:`",
        ),
        (
            "compose.red.yml",
            "  smtp_from:\n    file: ${SECRETS_PATH:?SECRETS_PATH must be set}/SMTP_FROM\n",
            "  smtp_from:\n    name: smtp_from\n",
            "has no `file:`",
        ),
    ];
    for (file, from, to, says) in cases {
        let fx = Fixture::kit();
        let real = Real::copy(&fx);
        real.edit(file, from, to);
        let run = fx.verify(&["--select", "stack", "--stack", &stack_arg(&real)]);
        assert_eq!(run.code, 2, "{says}: {}{}", run.stdout, run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        let prefix = format!("error: {}:", real.shown(file));
        let line = run
            .stderr
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no error naming {file} for {says}: {}", run.stderr));
        let rest = &line[prefix.len()..];
        let mut parts = rest.splitn(3, ':');
        let l: usize = parts.next().unwrap().parse().unwrap();
        let c: usize = parts.next().unwrap().parse().unwrap();
        assert!(l >= 1 && c >= 1, "{line}");
        assert!(parts.next().unwrap().contains(says), "{line}");
    }
}

#[test]
fn the_error_line_is_the_offending_key() {
    let fx = Fixture::kit();
    let real = Real::copy(&fx);
    real.edit(
        "compose.red.yml",
        "  cdb_cadvisor:\n",
        "  cdb_cadvisor:\n    extends:\n      service: cdb_ws\n",
    );
    let line = real.line_of("compose.red.yml", "    extends:");
    let run = fx.verify(&["--stack", &stack_arg(&real)]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!(
            "error: {}:{line}:5: ",
            real.shown("compose.red.yml")
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_broken_kit_description_is_a_finding() {
    let fx = Fixture::kit();
    fx.edit(BLUE, "name: cdb-blue\n", "name: cdb-blue\nconfigs: {}\n");
    let line = fx.line_of(BLUE, "configs:");
    assert_eq!(
        fx.findings_of("stack-parse"),
        vec![f("stack-parse", BLUE, line)]
    );
    let (code, _) = fx.findings(&["--select", "stack"]);
    assert_eq!(code, 1);
}

#[test]
fn a_mounted_secret_the_inventory_lacks() {
    let fx = Fixture::kit();
    fx.edit(
        RED,
        "      - alert_email_to\n      - postgres_password\n",
        "      - alert_email_to\n      - postgres_password\n      - grafana_sa_token\n",
    );
    fx.edit(
        RED,
        "  alert_email_to:\n    file: ${SECRETS_PATH:?SECRETS_PATH must be set}/ALERT_EMAIL_TO\n",
        "  alert_email_to:\n    file: ${SECRETS_PATH:?SECRETS_PATH must be set}/ALERT_EMAIL_TO\n  grafana_sa_token:\n    file: ${SECRETS_PATH:?SECRETS_PATH must be set}/GRAFANA_TOKEN\n",
    );
    let line = fx.line_of(RED, "      - grafana_sa_token");
    assert_eq!(
        fx.findings_of("stack-secret-not-in-inventory"),
        vec![f("stack-secret-not-in-inventory", RED, line)]
    );
}

#[test]
fn a_consumer_the_inventory_does_not_list() {
    let fx = Fixture::kit();
    fx.edit(
        INVENTORY,
        "every Python service: `cdb_market`, `cdb_candles`",
        "every Python service: `cdb_candles`",
    );
    let line = {
        let text = fx.read(BLUE);
        let start = text.find("  cdb_market:").unwrap();
        text[..start].lines().count()
            + text[start..]
                .lines()
                .position(|l| l == "      - redis_password")
                .unwrap()
            + 1
    };
    assert_eq!(
        fx.findings_of("stack-consumer-not-in-inventory"),
        vec![f("stack-consumer-not-in-inventory", BLUE, line)]
    );
}

#[test]
fn a_scope_naming_a_service_that_is_gone() {
    let fx = Fixture::kit();
    fx.edit(
        MATRIX,
        "    scope: [cdb_risk, cdb_execution, mexc]",
        "    scope: [cdb_risk, cdb_execution, cdb_core, mexc]",
    );
    fx.edit(
        MATRIX,
        "  cdb-blue: [cdb_postgres,",
        "  cdb-blue: [cdb_core, cdb_postgres,",
    );
    let scope = fx.line_of(MATRIX, "cdb_core, mexc]");
    let blue = fx.line_of(MATRIX, "cdb-blue: [cdb_core");
    let mut got = fx.findings_of("stack-scope-service-gone");
    got.sort();
    assert_eq!(
        got,
        vec![
            f("stack-scope-service-gone", MATRIX, blue),
            f("stack-scope-service-gone", MATRIX, scope)
        ]
    );
}

#[test]
fn a_project_service_the_matrix_does_not_list() {
    let fx = Fixture::kit();
    fx.edit(MATRIX, " cdb_cadvisor,", "");
    let line = fx.line_of(RED, "  cdb_cadvisor:");
    assert_eq!(
        fx.findings_of("stack-scope-service-gone"),
        vec![f("stack-scope-service-gone", RED, line)]
    );
}

#[test]
fn stack_is_not_a_directory_is_a_usage_error() {
    let fx = Fixture::kit();
    let run = fx.verify(&["--stack", &fx.path("nope").display().to_string()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not a directory"), "{}", run.stderr);
}

#[test]
fn verify_with_stack_only_reads() {
    let fx = Fixture::kit();
    let real = Real::copy(&fx);
    real.edit("compose.blue.yml", "/MEXC_API_KEY.txt", "/MEXC_API_KEY");
    let before = (snapshot(fx.dir.path()), snapshot(real.dir.path()));
    for format in ["human", "json", "sarif", "github"] {
        let run = fx.verify(&["--format", format, "--stack", &stack_arg(&real)]);
        assert_eq!(run.code, 1);
    }
    assert_eq!(before, (snapshot(fx.dir.path()), snapshot(real.dir.path())));
}

/// The rollback overlay's pins are drift too: the drill world runs them (overlays.rs).
#[test]
fn a_changed_rollback_pin_is_exactly_that_drift() {
    let fx = Fixture::kit();
    let real = Real::copy(&fx);
    real.edit(
        "rollback.yml",
        "_cdb_risk:${ROLLBACK_TAG:-latest}",
        "-cdb_risk:${ROLLBACK_TAG:-latest}",
    );
    let line = real.line_of("rollback.yml", "-cdb_risk:");
    let (code, findings) = fx.findings(&["--select", "stack", "--stack", &stack_arg(&real)]);
    assert_eq!(
        (code, findings),
        (1, vec![f("stack-drift", &real.shown("rollback.yml"), line)])
    );
    let run = fx.verify(&["--select", "stack", "--stack", &stack_arg(&real)]);
    assert!(
        run.stdout.contains("overlay service `cdb_risk` pins `${COMPOSE_PROJECT_NAME:-claire_de_binare}-cdb_risk:${ROLLBACK_TAG:-latest}`"),
        "{}",
        run.stdout
    );
}

//! The conformance suite (conformance.rs) on real servers: the mock world and PostgreSQL/Redis
//! reach the same exit codes, verdicts, output lines and server states on every step that calls
//! `psql`, `redis-cli` or `openssl`; and a world wrong in one behaviour is caught by name.

use cdb_lab::conformance::{self, Config, SuiteError, Variant};
use std::path::PathBuf;
use std::time::Duration;

fn config(variant: Variant, only: &[&str]) -> Config {
    Config {
        root: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."),
        tool: PathBuf::from(env!("CARGO_BIN_EXE_cdb-lab-tool")),
        seed: 1,
        variant,
        only: only.iter().map(|s| (*s).to_owned()).collect(),
        step_timeout: Duration::from_secs(60),
    }
}

/// Runs the suite or applies the skip policy (a missing server: skip, or fail under `CI=true`).
fn suite(cfg: &Config) -> Option<conformance::Report> {
    match conformance::run(cfg) {
        Ok(r) => Some(r),
        Err(SuiteError::Lab(e)) => crate::lab::<conformance::Report>(Err(e)),
        Err(e) => panic!("{e}"),
    }
}

/// Every step of the set, from every starting state the scenarios give, agrees with the real
/// servers; the steps left out are left out by name, with why.
#[test]
fn mock_and_real_servers_agree_on_every_step() {
    let Some(report) = suite(&config(Variant::Faithful, &[])) else {
        return;
    };
    eprintln!("{report}");
    assert!(
        report.cases.len() >= 20,
        "too few cases: {}\n{report}",
        report.cases.len()
    );
    assert_eq!(report.failed().count(), 0, "{report}");
    for id in [
        "database-rotate-alter-role",
        "database-revoke-old-sessions",
        "cache-revoke-drop-old-password",
    ] {
        assert!(
            report.cases.iter().any(|c| c.step == id),
            "{id} not compared\n{report}"
        );
    }
}

/// A world that ends sessions at a password change (real PostgreSQL keeps them): the suite
/// names that behaviour.
#[test]
fn a_world_ending_sessions_at_a_password_change_is_reported_by_name() {
    let cfg = config(
        Variant::SessionsEndAtPasswordChange,
        &["database-rotate-alter-role"],
    );
    let Some(report) = suite(&cfg) else {
        return;
    };
    eprintln!("{report}");
    assert!(
        report
            .behaviours()
            .contains("a session opened before a password change survives it"),
        "{report}"
    );
}

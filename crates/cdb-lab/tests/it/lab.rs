//! Lab mode (lab.rs): a scenario run with real PostgreSQL and Redis and stand-in consumers
//! reaches the same step verdicts as the mock drill.

use cdb_lab::conformance::SuiteError;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn config() -> cdb_drill::Config {
    cdb_drill::Config {
        root: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."),
        seed: 1,
        step_timeout: Duration::from_secs(60),
        mock_exe: PathBuf::from(env!("CARGO_BIN_EXE_cdb-lab-tool")),
    }
}

fn lab_run(id: &str) -> Option<cdb_lab::lab::LabOutcome> {
    let _one = crate::one_real_stack_at_a_time();
    let t = Instant::now();
    let out = match cdb_lab::lab::run(&config(), id) {
        Ok(o) => Some(o),
        Err(SuiteError::Lab(e)) => crate::lab::<cdb_lab::lab::LabOutcome>(Err(e)),
        Err(e) => panic!("{e}"),
    };
    eprintln!("{id} --lab: {:.1} s", t.elapsed().as_secs_f64());
    out
}

fn assert_same(id: &str) {
    let Some(o) = lab_run(id) else {
        return;
    };
    if std::env::var_os("CDB_LAB_SHOW").is_some() {
        for (m, l) in o.mock.steps().zip(o.lab.steps()) {
            eprintln!(
                "== {} mock:\n{}{}-- lab:\n{}{}",
                m.id, m.stdout, m.stderr, l.stdout, l.stderr
            );
        }
    }
    assert!(
        o.server_calls >= 10,
        "{id}: only {} calls reached the real servers",
        o.server_calls
    );
    eprintln!(
        "{id}: {} calls reached the real servers; answered by the lab's processes: {:?}",
        o.server_calls, o.process_calls
    );
    // `/health`, the exporters' metrics and `docker inspect` come from the stand-ins and the
    // real servers (adapter.rs), not from the world.
    for verb in ["curl", "inspect"] {
        assert!(
            o.process_calls.get(verb).is_some_and(|n| *n > 0),
            "{id}: no `{verb}` was answered by the lab's processes: {:?}",
            o.process_calls
        );
    }
    let mut msg = String::new();
    for d in &o.differences {
        msg.push_str(&format!(
            "step {} (#{}) differs\n--- mock:\n{}\n--- lab:\n{}\n",
            d.step, d.index, d.mock, d.lab
        ));
    }
    assert!(o.differences.is_empty(), "{id}: {msg}");
    assert_eq!(o.mock.outcome, o.lab.outcome, "{id}: outcome");
    assert_eq!(
        o.mock.verdict.passed, o.lab.verdict.passed,
        "{id}: verdict {:?}",
        o.lab.verdict.reasons
    );
}

#[test]
#[ignore = "slow tier: a whole drill on real servers (README, Two commands)"]
fn leak_db_reaches_the_mock_verdicts_on_real_servers() {
    assert_same("leak-db");
}

#[test]
#[ignore = "slow tier: a whole drill on real servers (README, Two commands)"]
fn leak_cache_reaches_the_mock_verdicts_on_real_servers() {
    assert_same("leak-cache");
}

#[test]
#[ignore = "slow tier: a whole drill on real servers (README, Two commands)"]
fn routine_db_straggler_reaches_the_mock_verdicts_on_real_servers() {
    assert_same("routine-db-straggler");
}

#[test]
#[ignore = "slow tier: a whole drill on real servers (README, Two commands)"]
fn leak_cache_live_connection_reaches_the_mock_verdicts_on_real_servers() {
    assert_same("leak-cache-live-connection");
}

/// A failed database rotation (lab scenario): the reverted password file makes the recreated
/// consumers refused; on real PostgreSQL the stand-ins of cdb_risk and cdb_execution exit at
/// start and the others are refused, Verify fails, and the routine rollback recovers.
#[test]
#[ignore = "slow tier: a whole drill on real servers (README, Two commands)"]
fn a_failed_database_rotation_is_detected_and_rolled_back_on_real_servers() {
    assert_same("lab-failed-rotation-db");
}

/// A failed cache rotation (lab scenario): the staged password is live on real Redis but the
/// file does not hold it; Verify fails and the routine rollback takes it out again.
#[test]
#[ignore = "slow tier: a whole drill on real servers (README, Two commands)"]
fn a_failed_cache_rotation_is_detected_and_rolled_back_on_real_servers() {
    assert_same("lab-failed-rotation-cache");
}

/// The comparison names the step where two runs part and shows both outputs: two mock runs of
/// different database scenarios (the leak's and the routine rotation's paths differ at their
/// first step) stand for a lab run that went another way.
#[test]
fn a_verdict_difference_names_the_step_and_both_outputs() {
    let cfg = config();
    // Not beside a lab run of this process, whose step runner would take these mock drills.
    let (a, b) = cdb_lab::lab::without_lab(|| {
        (
            cdb_drill::run(&cfg, "leak-db").unwrap(),
            cdb_drill::run(&cfg, "routine-db-straggler").unwrap(),
        )
    });
    let d = cdb_lab::lab::compare(&a, &b);
    assert!(!d.is_empty());
    let first = &d[0];
    assert!(!first.step.is_empty());
    assert!(
        first.mock.contains("PASS ") || first.mock.contains("FAIL "),
        "{first:?}"
    );
    assert!(
        first.lab.contains("PASS ") || first.lab.contains("FAIL "),
        "{first:?}"
    );
    assert!(cdb_lab::lab::compare(&a, &a).is_empty());
}

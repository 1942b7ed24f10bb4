//! Hermeticity: decoy docker/psql/redis-cli/curl/gh/openssl on the caller's PATH are never run,
//! and the caller's HOME is never touched.

use assert_cmd::Command;

#[test]
fn decoys_on_the_callers_path_are_never_run() {
    // The shared `--all` run has a decoy of each of these first on its PATH, and HOME empty.
    let run = crate::all_run::all_run();
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.decoy_record, "", "a decoy ran");
    assert!(
        run.home_entries.is_empty(),
        "the caller's HOME was touched: {:?}",
        run.home_entries
    );
}

#[test]
fn the_mock_refuses_to_run_outside_a_sandbox() {
    let out = Command::new(crate::mock_exe())
        .args(["__cdb-mock", "docker", "ps"])
        .env_remove("CDB_DRILL_STATE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
}

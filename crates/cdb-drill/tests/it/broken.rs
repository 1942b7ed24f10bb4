//! Broken copies of the runbook fail the drill, naming what went wrong.

use crate::{RUNBOOK, drill, fixture, remove_steps};

#[test]
fn without_database_revoke_steps_leak_db_fails_as_undetected() {
    // cdb_db_writer's pooled session survives ALTER ROLE: only Revoke's ending of the old
    // sessions (and its straggler check) shows it.
    let d = fixture();
    assert!(remove_steps(d.path(), RUNBOOK, "database", "revoke") >= 3);
    let (code, out, err) = drill(&["leak-db", "--root", d.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("fault `recreate-ignored` (cdb_db_writer) injected after `database-rotate-write-files` went undetected"), "{out}");
    assert!(
        out.contains("cdb_db_writer: its Postgres credential is rejected"),
        "{out}"
    );
    assert!(err.contains("drill leak-db failed"), "{err}");
}

#[test]
fn without_database_rollback_steps_leak_db_fails_unrecovered() {
    let d = fixture();
    assert!(remove_steps(d.path(), RUNBOOK, "database", "rollback") >= 4);
    let (code, out, err) = drill(&["leak-db", "--root", d.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("expected outcome `recovered`, got `escalated`"),
        "{out}"
    );
    assert!(
        out.contains("last failing step `database-verify-consumers-healthy`"),
        "{out}"
    );
    assert!(out.contains("left unrecovered: cdb_db_writer"), "{out}");
}

#[test]
fn a_restart_instead_of_a_recreate_is_caught() {
    // The upstream script restarted where a recreate was needed. A restart runs the entrypoint
    // again, which re-reads files edited in place (the world models that: mocks.rs), but the
    // exchange keys are installed by rename, and a running container's mount keeps the old
    // inode until it is recreated: a restart leaves both services on the old keys.
    let d = fixture();
    let p = d.path().join(RUNBOOK);
    let text = std::fs::read_to_string(&p).unwrap();
    // One service, or every service of one set of `-f` files (the grouped consumer loops).
    let one = "up -d --no-deps --force-recreate --pull never --no-build \"$svc\"";
    let group = "up -d --no-deps --force-recreate --pull never --no-build \"${names[@]}\"";
    assert!(
        text.contains(one) && text.contains(group),
        "the recreate form changed: update this test"
    );
    let text = text
        .replace(one, "restart \"$svc\"")
        .replace(group, "restart \"${names[@]}\"");
    std::fs::write(&p, text).unwrap();
    let (code, out, _) = drill(&["leak-exchange-key", "--root", d.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("its MEXC read key is rejected"), "{out}");
}

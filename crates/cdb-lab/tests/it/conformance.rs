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
        scenarios: Vec::new(),
        step_timeout: Duration::from_secs(60),
    }
}

/// Runs the suite or applies the skip policy (a missing server: skip, or fail under `CI=true`).
fn suite(cfg: &Config) -> Option<conformance::Report> {
    let _one = crate::one_real_stack_at_a_time();
    match conformance::run(cfg) {
        Ok(r) => Some(r),
        Err(SuiteError::Lab(e)) => crate::lab::<conformance::Report>(Err(e)),
        Err(e) => panic!("{e}"),
    }
}

/// Every step of the set, from every starting state the scenarios give, agrees with the real
/// servers; the steps left out are left out by name, with why.
#[test]
#[ignore = "slow tier: the whole conformance suite on real servers (README, Two commands)"]
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
        // The TLS class: real certificates (certs.rs), PostgreSQL ssl=on, Redis' TLS port.
        "tls-pre-check-chain",
        "tls-pre-check-postgres-serves-mount",
        "tls-rotate-stage-next",
        "tls-verify-chain",
        "tls-rollback-reissue",
        "tls-contain-collect-evidence",
        // Steps no drill of drills/ reached before the lab's scenarios (scenarios.rs).
        "cache-rollback-readd-previous",
        "cache-rollback-drop-failed-next",
        "monitoring-rollback-roll-forward",
        "exchange-contain-collect-evidence",
        "monitoring-contain-collect-evidence",
        "alerting-mail-contain-collect-evidence",
    ] {
        assert!(
            report.cases.iter().any(|c| c.step == id),
            "{id} not compared\n{report}"
        );
    }
    // Every cache step's TLS form ran against the TLS port (lab-leak-cache-tls).
    assert!(
        report
            .cases
            .iter()
            .filter(|c| c.scenario == "lab-leak-cache-tls")
            .count()
            >= 8,
        "{report}"
    );
    // What is still left out is left out by name, with why: the two steps the lab drills
    // compare, and the one that runs only after a repeated step.
    let left: Vec<&str> = report.not_run.iter().map(|n| n.step.as_str()).collect();
    assert_eq!(
        left,
        [
            "database-verify-consumers-healthy",
            "cache-revoke-end-old-connections",
            "cache-escalate-collect-state"
        ],
        "{report}"
    );
}

/// The suite's fast form: the password change of each server agrees with the real servers,
/// from the state its leak drill reaches it in (the whole suite, every scenario and TLS, is in
/// the slow tier).
#[test]
fn each_servers_password_change_agrees_with_the_real_servers() {
    let only = [
        "database-rotate-alter-role",
        "cache-revoke-drop-old-password",
    ];
    let mut cfg = config(Variant::Faithful, &only);
    cfg.scenarios = vec!["leak-db".into(), "leak-cache".into()];
    let Some(report) = suite(&cfg) else {
        return;
    };
    eprintln!("{report}");
    assert_eq!(report.failed().count(), 0, "{report}");
    for id in only {
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
    let mut cfg = config(
        Variant::SessionsEndAtPasswordChange,
        &["database-rotate-alter-role"],
    );
    // The leak drill's sessions: the leaker's and the consumers', all on the old password.
    cfg.scenarios = vec!["leak-db".into()];
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

/// The suite in a process of its own, with its temp dirs (servers, sandboxes) in `tmp`.
fn suite_process(tmp: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cdb-lab-tool"));
    cmd.arg("__cdb-lab-conformance")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .arg("database-rotate-alter-role")
        .env("TMPDIR", tmp)
        .env("CDB_DRILL_TMPDIR", tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    cmd
}

/// A dir the servers' unprivileged user can enter (PostgreSQL runs as `nobody` under root).
fn open_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Waits until nothing uses `dir` and `keep` says every entry left may stay, or 30 s pass.
fn settles(dir: &std::path::Path, keep: impl Fn(&str) -> bool) -> (Vec<u32>, Vec<String>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let procs = cdb_lab::processes_using(dir);
        let left: Vec<String> = entries(dir).into_iter().filter(|e| !keep(e)).collect();
        if (procs.is_empty() && left.is_empty()) || std::time::Instant::now() > deadline {
            return (procs, left);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// No leftovers: after the suite ends, and after it is killed (`SIGKILL`) while its servers
/// run, no process uses its temp dir and no `cdb-lab-*` dir remains; after `SIGTERM`, nothing
/// at all remains (the drill's sandboxes are removed by its signal handler, interrupt.rs;
/// `SIGKILL` cannot be handled, so sandboxes may stay then, and only then).
#[test]
#[ignore = "slow tier: the whole conformance suite on real servers (README, Two commands)"]
fn the_suite_leaves_no_server_and_no_dir_finished_or_killed() {
    if cdb_lab::PgServer::start().map(drop).is_err() {
        // The skip policy applies (and under CI=true, fails) in the tests above.
        let _ = crate::lab::<()>(cdb_lab::PgServer::start().map(drop));
        return;
    }
    let _one = crate::one_real_stack_at_a_time();
    let tmp = open_tempdir();
    let out = suite_process(tmp.path()).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (procs, left) = settles(tmp.path(), |_| false);
    assert!(
        procs.is_empty() && left.is_empty(),
        "finished: {procs:?} {left:?}"
    );

    for (signal, keep_sandboxes) in [
        (rustix::process::Signal::KILL, true),
        (rustix::process::Signal::TERM, false),
    ] {
        let tmp = open_tempdir();
        let mut child = suite_process(tmp.path()).spawn().unwrap();
        // Kill it once both servers run (their dirs exist) and a moment after.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !(entries(tmp.path())
            .iter()
            .any(|e| e.starts_with("cdb-lab-redis-"))
            && entries(tmp.path())
                .iter()
                .any(|e| e.starts_with("cdb-lab-pg-")))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the servers never started"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(800));
        let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
        let _ = child.wait();
        let (procs, left) = settles(tmp.path(), |e| {
            keep_sandboxes && e.starts_with("cdb-drill-")
        });
        assert!(
            procs.is_empty() && left.is_empty(),
            "after {signal:?}: processes {procs:?}, left {left:?}"
        );
    }
}
